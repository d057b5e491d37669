"""Walk the model folders ComfyUI searches and list the model files in them (read only).

Symlinked folders are followed (people link folders to other disks), each real folder at
most once (by device and inode), so a symlink loop or a folder reachable twice ends the
walk instead of hanging it. A folder or file that cannot be read is counted and named in
`problems`, never fatal. A file's `dest` is the catalog dest that finds it: the folder name
plus its subfolders below the searched folder ("loras/style").
"""

from __future__ import annotations

import os
import stat

from host.disk.names import MODEL_EXTENSIONS


class FoundFile:
    __slots__ = ("dest", "file", "ino", "mtime_ns", "path", "size")

    def __init__(self, path: str, file: str, dest: str, st: os.stat_result) -> None:
        self.path = path
        self.file = file
        self.dest = dest
        self.size = st.st_size
        self.mtime_ns = st.st_mtime_ns
        self.ino = st.st_ino


class Walk:
    """The result: files found, and problems (one sentence each, naming the path)."""

    def __init__(self) -> None:
        self.files: list[FoundFile] = []
        self.problems: list[str] = []
        self._seen_dirs: set[tuple[int, int]] = set()
        self._seen_paths: set[str] = set()

    def _problem(self, what: str, path: str, exc: OSError) -> None:
        self.problems.append(f"{what} {path}: {exc.strerror or type(exc).__name__}")

    def walk_root(self, name: str, root: str) -> None:
        """Every model file below `root`, whose files belong to folder `name`."""
        try:
            st = os.stat(root)
        except FileNotFoundError:
            return  # a configured folder that does not exist: ComfyUI skips it too
        except OSError as exc:
            self._problem("cannot open folder", root, exc)
            return
        if not stat.S_ISDIR(st.st_mode):
            return
        stack = [(os.path.abspath(root), name, st)]
        while stack:
            folder, dest, st = stack.pop()
            key = (st.st_dev, st.st_ino)
            if key in self._seen_dirs:
                continue  # a symlink loop, or a folder also reached another way
            self._seen_dirs.add(key)
            try:
                with os.scandir(folder) as entries:
                    children = list(entries)
            except OSError as exc:
                self._problem("cannot read folder", folder, exc)
                continue
            subfolders = []
            for entry in children:
                path = entry.path
                try:
                    entry_stat = entry.stat()  # follows symlinks
                except FileNotFoundError:
                    continue  # a dangling symlink, or gone since the listing: nothing to load
                except OSError as exc:  # no permission, a link loop (ELOOP), an I/O error
                    self._problem("cannot stat", path, exc)
                    continue
                if stat.S_ISDIR(entry_stat.st_mode):
                    if entry.name != ".git":  # ComfyUI skips these too
                        subfolders.append((path, f"{dest}/{entry.name}", entry_stat))
                elif stat.S_ISREG(entry_stat.st_mode) and entry.name.lower().endswith(MODEL_EXTENSIONS):
                    if not _utf8(path):
                        self.problems.append(f"skipped {path!r}: its name is not valid UTF-8")
                        continue
                    if path not in self._seen_paths:
                        self._seen_paths.add(path)
                        self.files.append(FoundFile(path, entry.name, dest, entry_stat))
            stack.extend(sorted(subfolders, reverse=True))


def _utf8(path: str) -> bool:
    if path.isascii():
        return True
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def walk_model_folders(roots: list[tuple[str, str]]) -> Walk:
    walk = Walk()
    for name, root in roots:
        walk.walk_root(name, root)
    return walk
