"""The job kind "download" (run by the worker): fetch, verify, and place one catalog file.

Order of work: find which CivitAI file to ask for (the entry's civitai_file_id, else the
version's file whose name or SHA256 matches); if the target already holds a file, accept it
only when it is the verified one; fetch into `<target>.part`; compare the SHA256 (or, with
no hash known, the size) and only then link the partial file to the target name, which
never replaces an existing file. Nothing is written outside the target folder.
"""

from __future__ import annotations

import hashlib
import os
import stat
from typing import Any

from host.download import failures
from host.download.fetch import Fetch, delete_partial
from host.jobs.control import JobCanceled, JobControl, JobFailed
from host.regularfile import open_regular

PART_SUFFIX = ".part"


def target_paths(models_dir: str, dest: str, file: str) -> tuple[str, str]:
    """(final path, partial path) of an entry, or JobFailed for an unsafe name."""
    from host.catalog.paths import entry_path

    final = entry_path(models_dir, dest, file)
    if final is None:
        raise failures.write_failed(f"{dest}/{file}", "not a safe file name or folder")
    return final, final + PART_SUFFIX


def download_url(civitai_url: str, version_id: str, file_id: int | None) -> str:
    url = f"{civitai_url.rstrip('/')}/api/download/models/{version_id}"
    return f"{url}?fileId={file_id}" if file_id is not None else url


def resolve_file(control: JobControl, params: dict[str, Any]) -> tuple[int, str | None, int | None]:
    """(CivitAI file id, expected SHA256 or None, expected size or None) for the job's entry."""
    file_id = params.get("file_id")
    expected = params.get("hash")
    if isinstance(file_id, int) and not isinstance(file_id, bool):
        return file_id, expected, None
    from host.civitai.client import CivitaiClient
    from host.errors import CivitaiNotFoundError, HostError

    settings = control.settings
    job = control.job
    try:
        client = CivitaiClient(settings.civitai_url, settings.civitai_api_key)
        version = client.model_version(job["version_id"])
    except CivitaiNotFoundError as exc:
        raise failures.gone(404) from exc
    except HostError as exc:
        raise failures.network(exc.message) from exc
    wanted = (expected or "").upper()
    for candidate in version.files or []:
        sha = ((candidate.hashes or {}).get("SHA256") or "").upper()
        if candidate.id is not None and (candidate.name == job["file"] or (wanted and sha == wanted)):
            size = round(candidate.size_kb * 1024) if candidate.size_kb else None
            return candidate.id, expected or (sha or None), size
    raise failures.file_not_on_civitai(job["file"], job["version_id"])


def sha256_of(path: str) -> str:
    """SHA256 of the regular file at `path`; NotRegularFileError (never a wait) otherwise."""
    digest = hashlib.sha256()
    with open(open_regular(path), "rb") as handle:
        while block := handle.read(4 * 1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def _existing_is_ours(final: str, expected: str | None, size: int | None) -> bool:
    """A file at the target (a worker killed between placing the file and saying so). Only a
    regular file can be (a symbolic link is followed: reading through one writes nothing, and
    model folders are often linked); a FIFO or folder there is a different thing."""
    try:
        if expected:
            return sha256_of(final) == expected.lower()
        status = os.stat(final)
    except OSError:
        return False
    return size is not None and stat.S_ISREG(status.st_mode) and status.st_size == size


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _place(part: str, final: str) -> None:
    """Give the verified partial file its final name, never replacing a file."""
    try:
        os.link(part, final)  # fails with FileExistsError when the target exists
    except FileExistsError:
        raise
    except OSError:  # no hard links here (FAT, some shares): a rename, after a last look
        if os.path.lexists(final):
            raise FileExistsError(final) from None
        os.rename(part, final)  # on Windows, rename never replaces an existing file
        return
    os.unlink(part)


def run(control: JobControl) -> None:
    job = control.job
    params: dict[str, Any] = job.get("params") or {}
    settings = control.settings
    if not settings.models_dir:
        raise failures.models_dir_unset()
    if not os.path.isdir(settings.models_dir):  # an unmounted disk: never create it elsewhere
        raise failures.write_failed(settings.models_dir,
            "the models folder does not exist; is its disk mounted?"
        )
    final, part = target_paths(settings.models_dir, job.get("dest") or "", job["file"])
    control.update(state="downloading")
    if os.path.lexists(final):
        if _same_file(part, final) or _existing_is_ours(final, params.get("hash"), None):
            delete_partial(part)  # placed by a worker killed before it could say so
            return
        raise failures.file_exists(final)
    try:
        os.makedirs(os.path.dirname(final), exist_ok=True)
    except OSError as exc:
        raise failures.write_failed(os.path.dirname(final), exc.strerror or str(exc)) from exc
    file_id, expected, expected_size = resolve_file(control, params)
    control.update(verify="sha256" if expected else "size")
    url = download_url(settings.civitai_url, job["version_id"], file_id)
    try:
        for attempt in range(2):
            fetch = Fetch(control, url, part, settings.civitai_api_key)
            size, sha = fetch.run()
            if expected and sha != expected.lower():
                delete_partial(part)
                if fetch.resumed and attempt == 0:
                    continue  # a partial file damaged while the worker was down: once from zero
                raise failures.hash_mismatch(expected.lower(), sha)
            if not expected and expected_size is not None and abs(size - expected_size) >= 1024:
                delete_partial(part)  # CivitAI's sizeKB is rounded to a tenth of a KiB at most
                raise failures.size_mismatch(expected_size, size)
            break
        control.check_canceled()
        try:
            _place(part, final)
        except FileExistsError as exc:
            if _existing_is_ours(final, expected, size):
                delete_partial(part)
                return
            delete_partial(part)
            raise failures.file_exists(final) from exc
        except OSError as exc:
            raise failures.write_failed(final, exc.strerror or str(exc)) from exc
    except JobCanceled:
        delete_partial(part)
        raise
    except JobFailed as exc:
        if exc.code in ("hash_mismatch", "size_mismatch", "not_a_model_file", "disk_full", "file_exists"):
            delete_partial(part)
        raise
    control.update(state="done", bytes=size, total=size, rate=0)
