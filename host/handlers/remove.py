"""`remove`: drop a catalog entry whose file is not on disk (never deletes any file)."""

from __future__ import annotations

from host.catalog import document
from host.catalog.layout import CATALOG_NAMES
from host.catalog.paths import dest_problem, name_problem
from host.catalog.transaction import transaction
from host.context import Context
from host.errors import (
    AmbiguousError,
    FileOnDiskError,
    NotFoundError,
    UnsafeFilenameError,
    UnsafePathError,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def handle(params: dict[str, Any], context: Context) -> dict[str, Any]:
    file: str = params["file"]
    dest: str | None = params.get("dest")
    problem = name_problem(file)
    if problem:
        raise UnsafeFilenameError(f"refusing the file name {file!r}: {problem}")
    if dest is not None:
        problem = dest_problem(dest)
        if problem:
            raise UnsafePathError(f"refusing the folder {dest!r}: {problem}")
    from host.disk.folders import load_folders

    folders = load_folders(context.settings)

    with transaction(context.settings.catalog_dir, context.after_reply) as txn:
        matches = {name: document.find_by_file(txn.docs[name], file, dest) for name in CATALOG_NAMES}
        dests = sorted({document.dest_of(entry) or "" for found in matches.values() for entry in found})
        if not dests:
            where = f" in {dest!r}" if dest is not None else ""
            raise NotFoundError(f"no catalog entry for {file!r}{where}", file=file)
        if len(dests) > 1:
            raise AmbiguousError(
                f"{file!r} is in several folders; say which with 'dest'", file=file, dests=dests
            )
        the_dest = dests[0]
        if folders.locate(the_dest, file) is not None:  # in any folder ComfyUI searches
            raise FileOnDiskError(
                f"{the_dest + '/' if the_dest else ''}{file} is on disk: delete the file first",
                file=file,
                dest=the_dest,
            )
        # Normally one entry in one catalog; after a promote cut in half the same entry is in
        # both, and removing it means removing both copies.
        changed = [name for name in CATALOG_NAMES if matches[name]]
        for name in changed:
            document.remove_entries(txn.docs[name], matches[name])
            txn.mark_changed(name)
    return {"status": "removed", "file": file, "dest": the_dest, "catalog": changed[0]}
