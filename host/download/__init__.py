"""Downloads (SPEC §9): queue a catalog entry's file, fetch it from CivitAI, verify, place it.

- host.download.queue   — the op side: which entry, which file, enqueue / cancel (host process)
- host.download.runner  — the job kind "download" run by the worker (host.jobs)
- host.download.fetch   — the HTTP side: redirects, Range resume, retries, error mapping
- host.download.sink    — the partial file: writing, SHA256 in a thread beside the writer
- host.download.failures — every error code with its message in plain words
"""
