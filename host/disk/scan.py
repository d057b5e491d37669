"""The scan (SPEC §10): walk every model folder, hash what the cache does not know, ask
CivitAI which versions the new hashes are, and store the results for lookup and map.

`run_scan(settings, progress, should_stop)` is the whole job: the job runner calls it for a
job of kind "scan", and `catalog-host scan --wait` calls it in-process. It opens nothing in
the models folders for writing (files are opened read-only to hash them). Everything it
keeps is beside the catalogs: the hash cache (saved every few seconds, so a killed scan keeps
what it finished) and the scan results file that lookup and map read. One scan at a time per
catalog folder (a lock file); a second one answers `ScanBusyError` at once.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from host.atomicfile import remove_dead_temps, write_atomically
from host.disk.folders import load_folders
from host.disk.hash_cache import HASHES_NAME, HashCache
from host.disk.hashing import FileChanged, hash_file
from host.disk.scan_index import SCAN_NAME, build_scan_bytes, open_scan_index, records_digest, scan_path
from host.disk.walk import FoundFile, walk_model_folders
from host.errors import HostError
from host.settings import Settings

SCAN_LOCK_NAME = ".catalog-host-scan.lock"
# The hash cache is saved this often while hashing (a few ms for 2,000 files): a killed
# scan loses at most this much hashing.
SAVE_EVERY_S = 1.0
# Problems named in the result (all are counted, and logged).
MAX_NAMED_PROBLEMS = 50

Progress = Callable[[dict[str, Any]], None]


class ScanBusyError(HostError):
    """Another scan of the same catalog folder is running."""

    code = "scan_running"


class _Tally:
    """What the job shows while it runs: files and bytes done / total, and the phase."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self.state: dict[str, Any] = {
            "phase": "walking", "files": 0, "files_total": 0, "bytes": 0, "total": 0, "current": None,
        }
        self._last = 0.0

    def update(self, force: bool = False, **changes: Any) -> None:
        self.state.update(changes)
        now = time.monotonic()
        if self._progress is not None and (force or now - self._last >= 0.2):
            self._last = now
            self._progress(dict(self.state))

    def add_bytes(self, count: int) -> None:
        self.state["bytes"] += count
        self.update()


def run_scan(
    settings: Settings,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> dict[str, Any]:
    """Scan, store the results, and say what was found (see PROTOCOL.md, `scan`)."""
    import filelock

    os.makedirs(settings.catalog_dir, exist_ok=True)
    lock = filelock.FileLock(os.path.join(settings.catalog_dir, SCAN_LOCK_NAME))
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout as exc:
        raise ScanBusyError("a scan of these model folders is already running") from exc
    try:
        # temps of a scan killed mid-write (only a scan writes these files, and it holds the lock)
        remove_dead_temps(settings.catalog_dir, [HASHES_NAME, SCAN_NAME])
        return _scan(settings, _Tally(progress), should_stop or (lambda: False))
    finally:
        lock.release()


def _scan(settings: Settings, tally: _Tally, should_stop: Callable[[], bool]) -> dict[str, Any]:
    started = time.monotonic()
    folders = load_folders(settings)
    problems: list[str] = list(folders.problems)
    if folders.models_dir is None and not folders.extras:
        problems.append("no model folder is configured (set comfyui_dir or models_dir): nothing to scan")
    tally.update(force=True, phase="walking")
    walk = walk_model_folders(folders.scan_roots())
    problems.extend(walk.problems)

    cache = HashCache.load(settings.catalog_dir)
    if cache.damaged:
        problems.append(f"the hash cache {cache.path} was damaged; it was set aside and rebuilt")
    hashes: dict[str, tuple[str, str | None]] = {}
    to_hash: list[FoundFile] = []
    for found in walk.files:
        known = cache.hashes(found.path, found.size, found.mtime_ns, found.ino)
        if known is None:
            to_hash.append(found)
        else:
            hashes[found.path] = known
    tally.update(force=True, phase="hashing", files=len(hashes), files_total=len(walk.files),
                 total=sum(f.size for f in to_hash))
    cached = len(hashes)
    stopped = _hash_files(to_hash, cache, hashes, problems, tally, should_stop)
    newly_hashed = len(hashes) - cached
    if not stopped:
        # forget files that are gone (not those in a folder that could not be read this time)
        walked = {f.path for f in walk.files}
        cache.keep_only({p for p in cache.files if p in walked or os.path.lexists(p)})
    _save(cache, problems)
    if stopped or should_stop():
        return _result("canceled", walk.files, hashes, newly_hashed, cache, problems, started)

    tally.update(force=True, phase="identifying", current=None)
    _identify(settings, walk.files, hashes, cache, problems, should_stop)
    _save(cache, problems)
    if should_stop():  # what CivitAI answered is kept in the cache; the results stay the last scan's
        return _result("canceled", walk.files, hashes, newly_hashed, cache, problems, started)
    tally.update(force=True, phase="saving")
    _store_results(settings.catalog_dir, _records(walk.files, hashes, cache), problems)
    return _result("done", walk.files, hashes, newly_hashed, cache, problems, started)


def _store_results(catalog_dir: str, records: list[dict[str, Any]], problems: list[str]) -> None:
    """Write the results file lookup and map read, unless it already holds these records
    (a rescan of unchanged folders then writes nothing)."""
    digest = records_digest(records)
    current = open_scan_index(catalog_dir)
    if current is not None:
        unchanged = current.digest == digest
        current.close()
        if unchanged:
            return
    finished = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    try:
        write_atomically(scan_path(catalog_dir), build_scan_bytes(records, finished, digest))
    except OSError as exc:
        problems.append(f"cannot write the scan results beside the catalogs: {exc.strerror}")


def _hash_files(
    to_hash: list[FoundFile],
    cache: HashCache,
    hashes: dict[str, tuple[str, str | None]],
    problems: list[str],
    tally: _Tally,
    should_stop: Callable[[], bool],
) -> bool:
    """Hash each file, saving the cache every SAVE_EVERY_S; True when told to stop."""
    last_save = time.monotonic()
    for found in to_hash:
        if should_stop():
            return True
        tally.update(current=found.path)
        try:
            result = hash_file(found.path, tally.add_bytes, should_stop)
        except FileChanged as exc:
            problems.append(f"not cached: {exc}")  # hashed again by the next scan
            continue
        except OSError as exc:
            problems.append(f"cannot read {found.path}: {exc.strerror or type(exc).__name__}")
            continue
        if result is None:
            return True
        hashes[found.path] = (result.sha256, result.autov3)
        cache.store(found.path, result.size, result.mtime_ns, result.ino, result.sha256, result.autov3)
        tally.update(files=tally.state["files"] + 1)
        if time.monotonic() - last_save >= SAVE_EVERY_S:
            _save(cache, problems)
            last_save = time.monotonic()
    return False


def _save(cache: HashCache, problems: list[str]) -> None:
    if not cache.dirty:
        return
    try:
        cache.save()
    except OSError as exc:
        message = f"cannot save the hash cache {cache.path}: {exc.strerror}"
        if message not in problems:
            problems.append(message)


def _identify(
    settings: Settings,
    files: list[FoundFile],
    hashes: dict[str, tuple[str, str | None]],
    cache: HashCache,
    problems: list[str],
    should_stop: Callable[[], bool],
) -> None:
    """Ask CivitAI about every hash it has not answered for yet, BY_HASH_BATCH at a time
    (stopping between batches when told to)."""
    unknown = sorted({hashes[f.path][0] for f in files if f.path in hashes} - cache.answers().keys())
    if not unknown:
        return  # a rescan of known files never imports the HTTP client (requests, pydantic)
    from host.civitai.client import BY_HASH_BATCH, CivitaiClient
    client = CivitaiClient(settings.civitai_url, settings.civitai_api_key)
    for start in range(0, len(unknown), BY_HASH_BATCH):
        if should_stop():
            return
        batch = unknown[start : start + BY_HASH_BATCH]
        try:
            found = client.versions_by_hash(batch)
        except HostError as exc:  # CivitAI down or refusing, or an unusable API key
            problems.append(f"could not ask CivitAI which versions {len(unknown) - start} files are: "
                            f"{exc.message}; the next scan asks again")
            return
        for sha in batch:
            vid, mid = found.get(sha.upper(), (None, None))
            cache.identify(sha, vid, mid)


def _records(
    files: list[FoundFile], hashes: dict[str, tuple[str, str | None]], cache: HashCache
) -> list[dict[str, Any]]:
    records = []
    answers = cache.answers()
    for found in files:
        known = hashes.get(found.path)
        if known is None:
            continue
        identity = answers.get(known[0], (None, None))
        records.append({
            "file": found.file, "dest": found.dest, "path": found.path, "sha256": known[0],
            "size": found.size, "version_id": identity[0], "model_id": identity[1],
        })
    return records


def _result(
    state: str,
    files: list[FoundFile],
    hashes: dict[str, tuple[str, str | None]],
    newly_hashed: int,
    cache: HashCache,
    problems: list[str],
    started: float,
) -> dict[str, Any]:
    answers = cache.answers()
    identified = {answers.get(sha, (None, None))[0] for sha, _ in hashes.values()} - {None}
    if problems:
        from host.log import get_logger

        for problem in problems:
            get_logger().info("scan: %s", problem)
    return {
        "state": state,
        "files": len(files),
        "hashed": newly_hashed,
        "from_cache": len(hashes) - newly_hashed,
        "versions_identified": len(identified),
        "problem_count": len(problems),
        "problems": problems[:MAX_NAMED_PROBLEMS],
        "seconds": round(time.monotonic() - started, 3),
    }
