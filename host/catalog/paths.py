"""Path safety: a file name is one safe component; a dest is a relative path of such components.

Stdlib only. Checks are lexical and identical on every OS (a catalog moves between Windows
and Linux), so a name Windows would refuse is refused everywhere. In a dest, `\\` separates
folders like `/`: a catalog written on Windows says `loras\\sub`, and ComfyUI finds those
files in models/loras/sub on any OS (a folder literally named `loras\\sub` would not be one
of ComfyUI's model folders at all). Symlinks inside the models folder are followed on purpose:
people symlink model folders to other disks.
"""

from __future__ import annotations

import errno
import os
import stat

TYPE_CHECKING = False
if TYPE_CHECKING:  # pathlib costs milliseconds in every cold start; paths here are str
    from pathlib import Path

MAX_NAME_BYTES = 255
# Names Windows reserves for devices, with or without an extension ("CON.safetensors").
_WINDOWS_RESERVED = frozenset(
    ["con", "prn", "aux", "nul", "conin$", "conout$"]
    + [f"com{i}" for i in range(1, 10)]
    + [f"lpt{i}" for i in range(1, 10)]
    + ["com\u00b9", "com\u00b2", "com\u00b3", "lpt\u00b9", "lpt\u00b2", "lpt\u00b3"]
)
_FORBIDDEN_CHARS = frozenset('/\\:*?"<>|')
# Invisible format characters that let a name show as another in a UI: bidi embeddings,
# overrides, isolates and marks (U+202E shows "x\u202egpj.exe" as "xexe.jpg"), zero-width
# spaces and joiners-that-are-not, the BOM, soft hyphen, invisible operators, interlinear
# annotation, deprecated format controls, tag characters. ZWNJ / ZWJ (U+200C / U+200D) are
# not here: Persian, Indic scripts and emoji sequences need them. A table rather than
# unicodedata: this runs on every lookup, and the module costs a cold start.
_INVISIBLE_RANGES = (
    (0x00AD, 0x00AD), (0x061C, 0x061C), (0x180E, 0x180E), (0x200B, 0x200B),
    (0x200E, 0x200F), (0x202A, 0x202E), (0x2060, 0x2064), (0x2066, 0x206F),
    (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0xE0000, 0xE007F),
)


def _invisible(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _INVISIBLE_RANGES)


def name_problem(name: object) -> str | None:
    """Why `name` is not one safe path component, or None when it is."""
    if not isinstance(name, str) or not name:
        return "the name is empty"
    if name in (".", ".."):
        return "the name is a relative folder reference"
    # isprintable() is false for every character refused below (and for a few allowed
    # ones): the per-character checks only run for such names.
    if not name.isprintable():
        # C0 controls, DEL and the C1 controls (U+0080..U+009F, e.g. U+009B, the 8-bit CSI)
        if any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in name):
            return "the name contains a NUL or control character"
        if any(_invisible(ch) for ch in name):
            return ("the name contains an invisible formatting character (a bidi control, "
                    "a zero-width space or the like) that can make it look like another name")
    bad = sorted(set(name) & _FORBIDDEN_CHARS)
    if bad:
        return f"the name contains {''.join(bad)!r} (a path separator or a character Windows forbids)"
    if name != name.rstrip(" ."):
        return "the name ends with a space or a dot (Windows drops them)"
    if name.split(".")[0].strip().lower() in _WINDOWS_RESERVED:
        return "the name is reserved by Windows"
    try:
        encoded = name.encode("utf-8")
    except UnicodeEncodeError:
        return "the name is not valid Unicode"
    if len(encoded) > MAX_NAME_BYTES:
        return f"the name is {len(encoded)} bytes long (at most {MAX_NAME_BYTES})"
    return None


def dest_parts(dest: str) -> list[str]:
    """The folder names of a dest, outermost first; `\\` separates like `/`."""
    if not dest:
        return []
    return dest.replace("\\", "/").split("/") if "\\" in dest else dest.split("/")


def same_dest(a: str, b: str) -> bool:
    """Whether two dests name the same folder (`loras\\sub` is `loras/sub`)."""
    return a == b or a.replace("\\", "/") == b.replace("\\", "/")


def dest_problem(dest: object) -> str | None:
    """Why `dest` is not a safe relative folder ("" or "a/b/c"), or None when it is."""
    if not isinstance(dest, str):
        return "the folder is not a string"
    if dest == "":
        return None
    if len(dest.encode("utf-8", "surrogatepass")) > 1024:
        return "the folder path is too long"
    for part in dest_parts(dest):
        problem = name_problem(part)
        if problem:
            return f"folder component {part!r}: {problem}"
    return None


def entry_path(models_dir: str | Path, dest: object, file: object) -> str | None:
    """Where an entry's file lives under `models_dir`, or None when dest or file is unsafe."""
    if dest is None:
        dest = ""
    if name_problem(file) or dest_problem(dest):
        return None
    assert isinstance(dest, str) and isinstance(file, str)
    return os.path.join(models_dir, *dest_parts(dest), file)


def is_regular_file(path: str | Path | None) -> bool:
    """True when `path` exists and is a regular file (following symlinks)."""
    if path is None:
        return False
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


# stat() errors that mean "not there": the file, or one of its folders, does not exist.
_ABSENT_ERRNOS = frozenset({errno.ENOENT, errno.ENOTDIR})


def presence_problem(models_dir: str | Path | None, dest: object, file: object) -> str | None:
    """None when the entry's file is known to be absent from disk; else why that cannot be
    said (`remove` must not drop an entry whose file may be there). A present file is not
    this function's business: call is_regular_file first."""
    if models_dir is None:
        return "no models folder is configured (set models_dir)"
    if not os.path.isdir(models_dir):
        return f"the models folder {models_dir} does not exist (a drive not mounted?)"
    path = entry_path(models_dir, dest, file)
    if path is None:
        return "its folder or file name is not a safe path inside the models folder"
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno in _ABSENT_ERRNOS:
            return None
        return f"its folder cannot be looked into ({exc.strerror or exc})"
    return None  # it exists but is not a regular file (a folder of that name): not the model


def file_status(models_dir: str | Path | None, dest: object, file: object) -> str:
    """ "present" when the entry's file is on disk, else "missing"."""
    if models_dir is None:
        return "missing"
    return "present" if is_regular_file(entry_path(models_dir, dest, file)) else "missing"
