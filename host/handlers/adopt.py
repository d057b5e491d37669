"""`adopt {version_id}`: a version the last scan found on disk, in no catalog, becomes a
models.json entry built as `add` builds it, naming the file and dest where it already is.
Nothing is moved or downloaded (SPEC §10 Adopt).

The entry describes the file on disk: CivitAI's file with the same SHA256 gives its id, size
and precision; the routing (category) comes from the version as for `add`, the dest from
where the file is.
"""

from __future__ import annotations

from host.catalog.paths import dest_problem
from host.context import Context
from host.disk.status import DiskView
from host.errors import NotFoundError, UnsafePathError
from host.handlers.add import indexed_answer, store_entry

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from host.civitai.models import ModelVersion


def _on_disk(context: Context, version_id: str) -> dict[str, Any]:
    """The scan's record of this version's file (file, dest, path, sha256), still on disk."""
    disk = DiskView.of(context.settings)
    try:
        found = disk.scanned_file(version_id)
    finally:
        disk.close()
    if found is None:
        raise NotFoundError(
            f"no file on disk is known to be version {version_id}: run a scan (`catalog-host scan`) "
            "if you have just added it",
            version_id=version_id,
        )
    return found


def _as_found(version: ModelVersion, file: str, sha256: str) -> ModelVersion:
    """The version with one file, the one on disk: CivitAI's file with the same SHA256
    (renamed as on disk), else a bare file of that name."""
    from host.civitai.models import VersionFile

    match = next(
        (f for f in version.files or [] if str((f.hashes or {}).get("SHA256") or "").lower() == sha256),
        None,
    )
    chosen = (match.model_copy(update={"name": file, "primary": True}) if match is not None
              else VersionFile(name=file, primary=True, hashes={"SHA256": sha256.upper()}))
    return version.model_copy(update={"files": [chosen]})


def handle(params: dict[str, Any], context: Context) -> dict[str, Any]:
    version_id: str = params["version_id"]
    known = indexed_answer(context, version_id)
    if known is not None:
        return known
    found = _on_disk(context, version_id)
    dest, sha256 = found["dest"], str(found["sha256"])
    problem = dest_problem(dest)
    if problem:
        raise UnsafePathError(f"the file's folder {dest!r} cannot be a catalog dest: {problem}")

    from host.civitai.entry import build_entry

    version = context.civitai.model_version(version_id)
    new = build_entry(_as_found(version, found["file"], sha256))
    new.entry["dest"] = dest
    new.entry["hash"] = sha256.upper()

    existing = store_entry(context, version_id, new)
    if existing:
        return existing
    from host.log import get_logger

    get_logger().info("adopted version %s as %s/%s (%s)", version_id, dest, new.file, found["path"])
    return {"status": "adopted", "file": new.file, "dest": dest, "name": new.entry["name"],
            "category": new.category_id}
