"""The folders ComfyUI loads each kind of model from, and where an entry's file is found.

Stdlib only: on the cold read path. The extra_model_paths.yaml files are parsed (with PyYAML,
in host.disk.comfy_yaml) only when one of them changed: what they resolve to is cached in
FOLDERS_NAME beside the catalogs, keyed by each file's stat signature (and the environment
variables its base paths use), so a lookup costs one stat per YAML file and one small read.
A YAML file that cannot be used is reported (ping, doctor, scan) and left out; the main models
folder keeps working.
"""

from __future__ import annotations

import os

from host import jsonfast
from host.disk.names import (
    DEFAULT_SUBFOLDERS,
    KNOWN_FOLDERS,
    NOT_MODEL_FOLDERS,
    SUBFOLDER_OWNER,
    canonical_folder,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds in every cold start
    from typing import Any

    from host.settings import Settings

FOLDERS_NAME = ".catalog-host-folders"
_FORMAT = 1


class ModelFolders:
    """The search folders of every folder name: the main models folder's, then the YAMLs'."""

    __slots__ = ("_by_dest", "extras", "models_dir", "problems")

    def __init__(
        self,
        models_dir: str | None,
        extras: list[tuple[str, str, bool]] | None = None,
        problems: list[str] | None = None,
    ) -> None:
        self.models_dir = models_dir
        self.extras = extras or []  # (folder name, absolute folder, is_default), in YAML order
        self.problems = problems or []  # one sentence per unusable YAML file, naming it
        # dest_folders() by dest: a lookup asks for the same few dests over and over, and a
        # warm host keeps this object while its settings and the YAML files stay the same
        self._by_dest: dict[str | None, list[str]] = {}

    def search(self, name: str) -> list[str]:
        """The folders ComfyUI searches for `name`, in its order (first match wins)."""
        name = canonical_folder(name)
        first: list[str] = []
        last: list[str] = []
        for extra_name, folder, is_default in self.extras:
            if extra_name == name:
                if is_default:
                    first.insert(0, folder)  # ComfyUI inserts each default group at the front
                else:
                    last.append(folder)
        main = []
        if self.models_dir is not None:
            root = os.path.abspath(self.models_dir)
            main = [os.path.join(root, sub) for sub in DEFAULT_SUBFOLDERS.get(name, (name,))]
        return list(dict.fromkeys(first + main + last))

    def dest_folders(self, dest: object) -> list[str]:
        """Where files of a catalog `dest` ("loras", "loras/sdxl", ...) may be."""
        if not (dest is None or isinstance(dest, str)):
            return self._dest_folders(dest)
        found = self._by_dest.get(dest)
        if found is None:
            found = self._by_dest[dest] = self._dest_folders(dest)
        return found

    def _dest_folders(self, dest: object) -> list[str]:
        from host.catalog.paths import dest_parts, dest_problem  # not needed by ping: imported here

        if dest is None:
            dest = ""
        if dest_problem(dest):
            return []
        assert isinstance(dest, str)
        if dest == "":
            return [self.models_dir] if self.models_dir is not None else []
        head, *rest = dest_parts(dest)
        return [os.path.join(folder, *rest) for folder in self.search(head)]

    def locate(self, dest: object, file: object) -> str | None:
        """The absolute path where ComfyUI finds the entry's file, or None."""
        from host.catalog.paths import is_regular_file, name_problem

        if name_problem(file):
            return None
        assert isinstance(file, str)
        for folder in self.dest_folders(dest):
            path = os.path.join(folder, file)
            if is_regular_file(path):
                return os.path.abspath(path)
        return None

    def presence_problem(self, dest: object, file: object) -> str | None:
        """None when the file is known to be in none of the dest's folders; else why that
        cannot be said (a folder that cannot be looked into). A folder that does not exist
        is fine: ComfyUI skips it too."""
        import errno

        for folder in self.dest_folders(dest):
            try:
                os.stat(os.path.join(folder, str(file)))
            except OSError as exc:
                if exc.errno not in (errno.ENOENT, errno.ENOTDIR):
                    return f"the folder {folder} cannot be looked into ({exc.strerror or exc})"
        return None

    def names(self) -> list[str]:
        """ComfyUI's own folder names, then the other names the YAML files add."""
        return list(dict.fromkeys([*KNOWN_FOLDERS, *(name for name, _, _ in self.extras)]))

    def describe(self) -> dict[str, list[str]]:
        """Every folder name -> its search folders (ping, doctor)."""
        return {name: self.search(name) for name in self.names()}

    def scan_roots(self) -> list[tuple[str, str]]:
        """(folder name, folder) for every folder a scan walks: each subfolder of the main
        models folder (custom nodes register their own names there), then the YAMLs'."""
        roots: list[tuple[str, str]] = []
        if self.models_dir is not None:
            try:
                with os.scandir(self.models_dir) as entries:
                    subfolders = sorted(e.name for e in entries if e.is_dir())
            except OSError:
                subfolders = []
            for sub in subfolders:
                name = SUBFOLDER_OWNER.get(sub, sub)
                if name not in NOT_MODEL_FOLDERS and not sub.startswith("."):
                    roots.append((name, os.path.join(self.models_dir, sub)))
        for name, folder, _ in self.extras:
            if name not in NOT_MODEL_FOLDERS:
                roots.append((name, folder))
        return roots


def stat_signature(path: str) -> str:
    """Changes whenever the file is replaced or edited; "absent" when it is not there."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return "absent"
    return f"{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_size}:{st.st_ino}"


def yaml_candidates(settings: Settings) -> list[tuple[str, bool]]:
    """(YAML file, required): ComfyUI's own file when comfyui_dir is set (used if present),
    then the configured ones (reported when absent)."""
    files: list[tuple[str, bool]] = []
    if settings.comfyui_dir is not None:
        files.append((os.path.join(settings.comfyui_dir, "extra_model_paths.yaml"), False))
    files.extend((path, True) for path in settings.extra_model_paths)
    return files


def folders_path(catalog_dir: str) -> str:
    return os.path.join(catalog_dir, FOLDERS_NAME)


def _cache_key(candidates: list[tuple[str, bool]]) -> list[list[str]]:
    return [[path, stat_signature(path)] for path, _ in candidates]


def _read_cached(catalog_dir: str, key: list[list[str]]) -> dict[str, Any] | None:
    try:
        with open(folders_path(catalog_dir), encoding="utf-8") as handle:
            data = jsonfast.loads(handle.read())
        if (data["format"] == _FORMAT and data["key"] == key
                and all(os.environ.get(name) == value for name, value in data["env"].items())):
            result: dict[str, Any] = data
            return result
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def _resolve(candidates: list[tuple[str, bool]], key: list[list[str]]) -> dict[str, Any]:
    from host.disk.comfy_yaml import ModelPathsError, read_extra_model_paths

    extras: list[list[Any]] = []
    problems: list[str] = []
    env_used: set[str] = set()
    for (path, required), (_, signature) in zip(candidates, key, strict=True):
        if signature == "absent":
            if required:
                problems.append(f"{path}: extra_model_paths file not found")
            continue
        try:
            found = read_extra_model_paths(path, env_used)
            extras.extend([name, folder, default] for name, folder, default in found)
        except ModelPathsError as exc:
            problems.append(str(exc))
    # base_path may use ~ and $VARS: the cache holds only while they mean the same
    env = {name: os.environ.get(name) for name in sorted(env_used)}
    return {"format": _FORMAT, "key": key, "env": env, "extras": extras, "problems": problems}


def load_folders(settings: Settings) -> ModelFolders:
    """The folders in force: from the cache when no YAML file changed, else parsed again."""
    candidates = yaml_candidates(settings)
    extras: list[tuple[str, str, bool]] = []
    problems: list[str] = []
    if candidates:
        key = _cache_key(candidates)
        data = _read_cached(settings.catalog_dir, key)
        if data is None:
            data = _resolve(candidates, key)
            from host.atomicfile import write_atomically

            try:
                write_atomically(folders_path(settings.catalog_dir), jsonfast.dumps(data).encode("utf-8"),
                                 durable=False)  # a cache: rebuilt from the YAML files
            except OSError:
                pass  # used from memory this time; the next process tries again
        extras = [(str(n), str(f), bool(d)) for n, f, d in data["extras"]]
        problems = list(data["problems"])
    return ModelFolders(settings.models_dir, extras, problems)
