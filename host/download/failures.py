"""Every way a download can fail: a stable code and a message saying what to do (SPEC §9).

Messages are for people: what happened, then what they can do about it.
"""

from __future__ import annotations

from host.jobs.control import JobFailed

KEY_HINT = "set your CivitAI API key (civitai_api_key in config.json, or CIVITAI_API_KEY)"


def gib(n: float) -> str:
    return f"{n / 1024**3:.2f} GB"


def login_required(has_key: bool) -> JobFailed:
    if has_key:
        return JobFailed(
            "login_required",
            "CivitAI refused the API key for this download (HTTP 401). Check the key on "
            "civitai.com (Account settings → API keys), " + KEY_HINT + ", then download again.",
        )
    return JobFailed(
        "login_required",
        "CivitAI only lets signed-in accounts download this file (HTTP 401): " + KEY_HINT
        + ", then download again.",
    )


def early_access(deadline: str | None) -> JobFailed:
    when = f" until {deadline}" if deadline else ""
    return JobFailed(
        "early_access",
        f"This version is in early access{when}: only supporters can download it now. Wait until "
        "it ends (or get early access on civitai.com with the account of your API key), then "
        "download again.",
    )


def no_access(status: int, detail: str) -> JobFailed:
    more = f" ({detail})" if detail else ""
    return JobFailed(
        "no_access",
        f"CivitAI does not let your account download this file (HTTP {status}){more}. Check on "
        "civitai.com that you can download it while signed in with the account of your API key.",
    )


def gone(status: int) -> JobFailed:
    return JobFailed(
        "gone",
        f"CivitAI no longer has this file (HTTP {status}): it was removed or archived by its "
        "creator. Nothing to download; remove the entry or pick another version.",
    )


def rate_limited() -> JobFailed:
    return JobFailed(
        "rate_limited",
        "CivitAI is limiting downloads from this account or address right now (HTTP 429). "
        "Wait a few minutes, then download again; the part already fetched is kept.",
    )


def not_a_model_file(what: str) -> JobFailed:
    return JobFailed(
        "not_a_model_file",
        f"CivitAI answered with {what} instead of the model file (usually a login or error "
        "page); nothing was saved. Sign in / " + KEY_HINT + ", then download again.",
    )


def hash_mismatch(expected: str, got: str) -> JobFailed:
    return JobFailed(
        "hash_mismatch",
        f"The downloaded file's SHA256 ({got[:12]}…) is not CivitAI's ({expected[:12]}…), so it "
        "was deleted. Download again; if it keeps happening, the file on CivitAI may have "
        "changed: remove the entry and add the version again.",
    )


def size_mismatch(expected: int, got: int) -> JobFailed:
    return JobFailed(
        "size_mismatch",
        f"The downloaded file has {got:,} bytes where {expected:,} were expected, so it was "
        "deleted. Download again.",
    )


def disk_full(folder: str, needed: int | None, free: int | None) -> JobFailed:
    amounts = ""
    if needed is not None and free is not None:
        amounts = f": {gib(needed)} needed, {gib(free)} free"
    return JobFailed(
        "disk_full",
        f"Not enough free disk space in {folder}{amounts}. Free some space, then download again.",
    )


def file_exists(path: str) -> JobFailed:
    return JobFailed(
        "file_exists",
        f"A different file already sits at {path}; it was left alone. Move or delete it, "
        "then download again.",
    )


def network(detail: str) -> JobFailed:
    return JobFailed(
        "network",
        f"The download kept failing ({detail}). Check your internet connection, then download "
        "again: it resumes where it stopped.",
    )


def write_failed(path: str, reason: str) -> JobFailed:
    return JobFailed(
        "write_failed",
        f"Could not write {path} ({reason}). Check that the folder exists and is writable, then "
        "download again.",
    )


def partial_not_a_file(part: str) -> JobFailed:
    return JobFailed(
        "write_failed",
        f"{part} is not a regular file (a symbolic link, named pipe or folder put there by "
        "something else); nothing was written through it and it was left alone. Remove "
        f"{part}, then download again.",
    )


def file_not_on_civitai(file: str, version_id: str) -> JobFailed:
    return JobFailed(
        "file_not_on_civitai",
        f"The catalog's file {file!r} is not among the files CivitAI lists for version "
        f"{version_id} (no file id, name or SHA256 matches). Remove the entry and add the "
        "version again.",
    )


def models_dir_unset() -> JobFailed:
    return JobFailed(
        "write_failed",
        "The ComfyUI models folder is not set, so there is nowhere to save the file: set "
        "models_dir (config.json or CATALOG_HOST_MODELS_DIR), then download again.",
    )
