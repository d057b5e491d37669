"""The op side of downloads (host process): which entry, enqueue, cancel (SPEC §9 Ops).

Runs in the host or CLI process, never in the worker. `download` adds the version first when
it is in neither catalog (exactly as `add`), then queues its entry's file unless it is on disk
or already queued; queuing starts the worker (host.jobs).
"""

from __future__ import annotations

import os
import time
from typing import Any

from host.catalog.paths import dest_problem, entry_path, name_problem
from host.context import Context
from host.errors import ModelsDirUnsetError, NotFoundError, UnsafeFilenameError, UnsafePathError
from host.jobs.paths import UNFINISHED, public_job
from host.jobs.state import locked_jobs, new_job, submit

KIND = "download"
PART_SUFFIX = ".part"


def find_entry(catalog_dir: str, version_id: str) -> dict[str, Any] | None:
    """The version's entry (models.json first, as lookup reports it), read from the files."""
    from pathlib import Path

    from host.catalog import document
    from host.catalog.layout import CATALOG_NAMES, catalog_file
    from host.catalog.store import read_document

    for name in CATALOG_NAMES:
        found = document.find_by_version(read_document(Path(catalog_file(catalog_dir, name))), version_id)
        if found:
            return found[1]
    return None


def indexed_entry(catalog_dir: str, version_id: str) -> dict[str, Any] | None:
    """What a download needs of the version's entry (file, dest, file id, hash), read from the
    catalog index: a few pages of a mapped file instead of parsing the catalogs (a third of a
    second at 50,000 entries, spent while the person waits for the download to start). None
    when the index cannot say for certain: the version is not there, a catalog is unreadable,
    or an unsafe name may have been cut for replies (the caller then reads the files, and
    refuses it)."""
    from host.catalog.index import open_index
    from host.catalog.views import text_is_whole

    index = open_index(catalog_dir)
    try:
        if index.catalog_errors():
            return None
        record = index.records([version_id]).get(version_id)
    finally:
        index.close()
    if record is None:
        return None
    dest = record.get("dest_whole", record.get("dest"))  # a safe dest cut for replies is kept whole
    if not (text_is_whole(record.get("file")) and ("dest_whole" in record or text_is_whole(dest))):
        return None
    return {"file": record["file"], "dest": dest, "civitai_file_id": record.get("file_id"),
            "hash": record.get("hash")}


def _sha256(value: Any) -> str | None:
    if isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdefABCDEF" for c in value):
        return value.upper()
    return None


def _file_id(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and 0 < len(value) <= 18:
        return int(value)
    return None


def start_download(version_id: str, context: Context, file_id: int | None = None) -> dict[str, Any]:
    settings = context.settings
    if not settings.models_dir:
        raise ModelsDirUnsetError(
            "the ComfyUI models folder is not set, so a download has nowhere to go: set "
            "models_dir (config.json or CATALOG_HOST_MODELS_DIR)"
        )
    from host.jobs.spawn import prestart_worker

    prestart_worker(settings.catalog_dir, KIND)  # starts up while the catalog is read
    entry = indexed_entry(settings.catalog_dir, version_id) or find_entry(settings.catalog_dir, version_id)
    if entry is None:
        from host.handlers.add import add_version

        added = add_version(version_id, context, file_id=file_id)
        if added["status"] not in ("added", "already_exists"):
            return added  # restricted: nothing is queued
        entry = find_entry(settings.catalog_dir, version_id)
        if entry is None:  # another entry already names this file in that folder
            return added
    file, dest = entry.get("file"), entry.get("dest") or ""
    problem = name_problem(file)
    if problem:
        raise UnsafeFilenameError(f"the entry's file name cannot be downloaded to: {problem}")
    problem = dest_problem(dest)
    if problem:
        raise UnsafePathError(f"the entry's folder cannot be downloaded to: {problem}")
    assert isinstance(file, str) and isinstance(dest, str)
    from host.disk.folders import load_folders

    if load_folders(settings).locate(dest, file) is not None:  # in any folder ComfyUI searches
        return {"status": "already_present", "file": file, "dest": dest}
    job = new_job(
        KIND,
        version_id,
        {"version_id": version_id, "file": file, "dest": dest},
        {"file_id": _file_id(entry.get("civitai_file_id")), "hash": _sha256(entry.get("hash"))},
        resource=f"file:{dest}/{file}",
    )
    queued, job = submit(settings.catalog_dir, job)
    if not queued:
        return {"status": "already_queued", "job": public_job(job)}
    from host.log import get_logger

    get_logger().info("queued the download of version %s (%s/%s)", version_id, dest, file)
    return {"status": "queued", "file": file, "dest": dest, "job": public_job(job)}


def cancel_download(version_id: str, context: Context) -> dict[str, Any]:
    """Cancel the version's unfinished or failed download and delete its partial file."""
    settings = context.settings
    from host.jobs.paths import jobs_path

    if not os.path.exists(jobs_path(settings.catalog_dir)):  # nothing to cancel: create nothing either
        raise NotFoundError(f"no download of version {version_id} to cancel", version_id=version_id)
    with locked_jobs(settings.catalog_dir) as jobs:
        job = jobs.find(KIND, version_id)
        if job is None or job.get("state") not in (*UNFINISHED, "failed"):
            raise NotFoundError(f"no download of version {version_id} to cancel", version_id=version_id)
        job.update(state="canceled", rate=0, updated=round(time.time(), 3))
        job.pop("error", None)
        jobs.changed = True
    if settings.models_dir:
        final = entry_path(settings.models_dir, job.get("dest") or "", job.get("file"))
        if final is not None:
            try:  # the worker may still hold it open: on Windows it deletes it itself
                os.unlink(final + PART_SUFFIX)
            except OSError:
                pass
    return {"status": "canceled"}
