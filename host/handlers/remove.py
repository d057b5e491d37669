"""`remove`: drop a catalog entry whose file is known not to be on disk (never deletes any file).

When that cannot be told (no models folder, an entry whose dest is not a safe path, a folder
that cannot be looked into), the entry is kept: `presence_unknown`.
"""

from __future__ import annotations

from host.catalog import document
from host.catalog.layout import CATALOG_NAMES
from host.catalog.paths import dest_parts, dest_problem, name_problem, presence_problem
from host.catalog.transaction import transaction
from host.catalog.views import reply_safe
from host.context import Context
from host.errors import (
    AmbiguousError,
    FileOnDiskError,
    NotFoundError,
    PresenceUnknownError,
    UnsafeFilenameError,
    UnsafePathError,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# An `ambiguous` refusal lists this many folders at most, each cut like a record's text: a
# catalog may name one file in any number of folders, of any length, and the refusal must
# still fit Chrome's 1 MiB reply limit (else the person hears reply_too_large, not why).
MAX_LISTED_DESTS = 20


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

    models_dir = context.settings.models_dir
    model_folders = load_folders(context.settings)  # the main models folder and the extra paths

    with transaction(context.settings.catalog_dir, context.after_reply) as txn:
        matches = {name: document.find_by_file(txn.docs[name], file, dest) for name in CATALOG_NAMES}
        # one folder per place on disk, named as the first entry there writes it
        folders: dict[str, str] = {}
        for found in matches.values():
            for entry in found:
                written = document.dest_of(entry) or ""
                folders.setdefault("/".join(dest_parts(written)), written)
        dests = sorted(folders.values())
        if not dests:
            where = f" in {dest!r}" if dest is not None else ""
            raise NotFoundError(f"no catalog entry for {file!r}{where}", file=file)
        if len(dests) > 1:
            raise AmbiguousError(
                f"{file!r} is in {len(dests)} folders; say which with 'dest'",
                file=file,
                dests=[reply_safe(folder) for folder in dests[:MAX_LISTED_DESTS]],
            )
        the_dest = dests[0]
        told = reply_safe(the_dest)  # an unsafe dest may be of any length
        shown = f"{told}/{file}" if told else file
        if model_folders.locate(the_dest, file) is not None:  # in any folder ComfyUI searches
            raise FileOnDiskError(f"{shown} is on disk: delete the file first", file=file, dest=told)
        why = presence_problem(models_dir, the_dest, file) or model_folders.presence_problem(the_dest, file)
        if why:
            raise PresenceUnknownError(
                f"cannot tell whether {shown} is on disk: {why}; the entry was kept",
                file=file,
                dest=told,
            )
        # Normally one entry in one catalog; after a promote cut in half the same entry is in
        # both, and removing it means removing both copies.
        changed = [name for name in CATALOG_NAMES if matches[name]]
        for name in changed:
            document.remove_entries(txn.docs[name], matches[name])
            txn.mark_changed(name)
    return {"status": "removed", "file": file, "dest": the_dest, "catalog": changed[0]}
