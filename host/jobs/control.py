"""What a running job may do: report progress, see a cancel, fail with a code.

Shared between the worker's main thread (which copies the reported fields into the job file
every tick) and the job's own thread (which reports); a lock guards the fields.
"""

from __future__ import annotations

import threading
from typing import Any

from host.settings import Settings

# Fields the worker owns: a kind reports anything else (state, bytes, total, rate, its own).
RESERVED = frozenset({"kind", "key", "created", "updated", "params", "resource", "error"})


class JobFailed(Exception):
    """Ends the job as `failed` with a stable code and a message in plain words."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class JobCanceled(Exception):
    """Ends the job quietly: the person canceled it (its state is already `canceled`)."""


class JobControl:
    def __init__(self, job: dict[str, Any], settings: Settings) -> None:
        self.job = job
        self.settings = settings
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._fields: dict[str, Any] = {}

    def update(self, **fields: Any) -> None:
        """Report public fields (state, bytes, total, rate, or the kind's own)."""
        reserved = set(fields) & RESERVED
        if reserved:
            raise ValueError(f"job fields the worker owns: {sorted(reserved)}")
        with self._lock:
            self._fields.update(fields)

    def take_fields(self) -> dict[str, Any]:
        """The fields reported since the last call (worker main thread)."""
        with self._lock:
            fields, self._fields = self._fields, {}
        return fields

    def cancel(self) -> None:
        self._cancel.set()

    def canceled(self) -> bool:
        return self._cancel.is_set()

    def check_canceled(self) -> None:
        if self._cancel.is_set():
            raise JobCanceled()

    def wait_or_cancel(self, seconds: float) -> None:
        """Sleep, waking up (and raising JobCanceled) as soon as the job is canceled."""
        if self._cancel.wait(max(0.0, seconds)):
            raise JobCanceled()
