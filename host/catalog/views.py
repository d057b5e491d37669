"""What `map` and `lookup` report for an entry: its record (built when the index is), its
live status, and the map etag. The reply-shape decisions live here and nowhere else.

Stdlib only. Status is never cached (host.disk.status looks at the disk for each answer). The
map etag covers the catalog files and the folders the entries live in (a download or a
deletion changes its folder's mtime), so an unchanged etag is answered without a stat per entry.

Replies are bounded by construction: a record's text fields are cut to MAX_TEXT_JSON_BYTES
as JSON encodes them, so a record is at most MAX_RECORD_JSON_BYTES whatever the catalog
holds, and one lookup (at most host.protocol.MAX_LOOKUP_VERSION_IDS records) or one map page
fits Chrome's 1 MiB reply limit.
"""

from __future__ import annotations

import os
import zlib

from host.catalog.ids import canonical_id
from host.catalog.paths import dest_problem

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds in every cold start
    from collections.abc import Iterable
    from typing import Any

    from host.disk.status import DiskView

# Longest text field of a record, in bytes of its JSON encoding (quotes excluded): fits a
# 300-character CJK display name (900 bytes), not a hostile one. JSON writes a control
# character as 6 bytes (\u001f) and other non-ASCII as 2-4 bytes of UTF-8.
MAX_TEXT_JSON_BYTES = 1024
RECORD_TEXT_FIELDS = ("file", "dest", "name", "base_model")
# The most a record takes in a reply: its text fields, its other fields and its key.
MAX_RECORD_JSON_BYTES = len(RECORD_TEXT_FIELDS) * (MAX_TEXT_JSON_BYTES + 2) + 256
# The most version ids `by_model` lists for one model (catalog order). CivitAI models have a
# few dozen versions; a catalog holding thousands of one model must not burst a reply.
MAX_VERSIONS_PER_MODEL = 100

_SHORT_ESCAPES = frozenset('"\\\b\f\n\r\t')


def _json_bytes(char: str) -> int:
    """How many bytes JSON (non-ASCII kept as UTF-8) takes for one character."""
    code = ord(char)
    if code < 0x20:
        return 2 if char in _SHORT_ESCAPES else 6
    if code < 0x80:
        return 2 if char in _SHORT_ESCAPES else 1
    return 2 if code < 0x800 else 3 if code < 0x10000 else 4


def _bounded_text(value: str, limit: int = MAX_TEXT_JSON_BYTES) -> str:
    """`value` made valid UTF-8 (json accepts lone surrogates, UTF-8 does not) and cut to
    `limit` bytes of JSON."""
    if len(value) * 6 <= limit:  # any character is at most 6 bytes: fits as is
        if value.isascii():
            return value
        return value.encode("utf-8", "replace").decode("utf-8")
    if (len(value) <= limit and value.isascii() and value.isprintable()
            and '"' not in value and "\\" not in value):  # one byte per character
        return value
    value = value[:limit].encode("utf-8", "replace").decode("utf-8")
    used = 0
    for position, char in enumerate(value):
        used += _json_bytes(char)
        if used > limit:
            return value[:position]
    return value


def reply_safe(value: Any, limit: int = MAX_TEXT_JSON_BYTES) -> Any:
    """A catalog value as a reply can carry it: text bounded to `limit` bytes of JSON (see
    _bounded_text); anything that is not a string or a finite number (NaN, lists, objects)
    becomes None."""
    if isinstance(value, str):
        return _bounded_text(value, limit)
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float) and value - value == 0:  # finite
        return value
    return None


def base_model_of(entry: dict[str, Any]) -> Any:
    """An entry's base model: `base_model`, or `civitai_base_model` (ComfyUI Studio's field)
    when `base_model` is absent, null or empty."""
    base_model = entry.get("base_model")
    if base_model is None or base_model == "":
        fallback = entry.get("civitai_base_model")
        if fallback is not None:
            return fallback
    return base_model


def entry_record(entry: dict[str, Any], catalog: str) -> dict[str, Any]:
    """The fields map/lookup report for an entry (status is added at answer time)."""
    record = {
        "file": reply_safe(entry.get("file")),
        "dest": reply_safe(entry.get("dest")),
        "name": reply_safe(entry.get("name")),
        "base_model": reply_safe(base_model_of(entry)),
        "catalog": catalog,
        "civitai_model_id": canonical_id(entry.get("civitai_model_id")),
        # internal, popped by host.disk.status before a reply: the entry's SHA256 (for
        # `elsewhere`) and CivitAI file id (so `download` queues from the index, unparsed)
        "hash": entry_hash(entry.get("hash")),
        "file_id": canonical_id(entry.get("civitai_file_id")),
    }
    dest = entry.get("dest")
    if isinstance(dest, str) and record["dest"] != dest and dest_problem(dest) is None:
        # internal, popped likewise: a safe dest longer than a reply's text (a backslash is two
        # bytes of JSON), the folder its file is looked for in (the cut one is no real folder)
        record["dest_whole"] = dest
    return record


def text_is_whole(value: object) -> bool:
    """Whether a record's text field is certainly the entry's own, not cut by _bounded_text:
    cutting happens only past MAX_TEXT_JSON_BYTES, and a cut value ends within one character
    (at most 6 bytes) of that budget. (A lone surrogate becomes `?`, which no safe name holds.)"""
    return isinstance(value, str) and sum(map(_json_bytes, value)) + 6 <= MAX_TEXT_JSON_BYTES


def entry_hash(value: Any) -> str | None:
    """An entry's `hash` when it is a SHA256 (64 hex digits), lower-case; else None."""
    if isinstance(value, str) and len(value) == 64 and value.isascii():
        lowered = value.lower()
        if all(c in "0123456789abcdef" for c in lowered):
            return lowered
    return None


def _folder_state(folder: str) -> str:
    try:
        st = os.stat(folder)
    except (OSError, ValueError):
        return "absent"
    return f"{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"


def map_etag(signature: str, dests: Iterable[str], disk: DiskView) -> str:
    """Changes when a catalog file changes (its `signature`), a file appears in / leaves one of
    the folders ComfyUI searches for the entries' `dests`, the model folders change, a scan
    stores new results, or a download job changes."""
    parts = [signature, disk.folders.models_dir or "", disk.signature(), _jobs_state(disk.catalog_dir)]
    for dest in dests:
        if dest_problem(dest):
            parts.append(f"{dest}=unsafe")
            continue
        parts.extend(f"{dest}={_folder_state(folder)}" for folder in disk.folders.dest_folders(dest))
    return _digest("\n".join(parts))


def _jobs_state(catalog_dir: str | None) -> str:
    """The download jobs shown in records change with the job file (see host.jobs)."""
    if catalog_dir is None:
        return ""
    try:
        st = os.stat(os.path.join(catalog_dir, ".catalog-host-jobs"))  # host.jobs.paths.JOBS_NAME
    except OSError:
        return "jobs=none"
    return f"jobs={st.st_mtime_ns}:{st.st_size}:{st.st_ino}"


def listing_tag(signature: str, disk: DiskView) -> str:
    """Identifies the catalog contents (and scan results) a map cursor pages through."""
    return _digest(signature + "|" + disk.signature())


def _digest(text: str) -> str:
    # Change detection, not security (a web page cannot set file mtimes): two 32-bit
    # checksums and the length, so no hashlib (OpenSSL) import in a cold start.
    data = text.encode("utf-8", "surrogatepass")
    return f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}{len(data):x}"
