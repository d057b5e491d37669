"""The partial file `<file>.part`: written in order, hashed (SHA256) in a thread beside the writer.

Hashing must overlap the transfer: the download thread writes each chunk and hands it to
the hash thread through a bounded queue (hashlib releases the GIL on large buffers, so the
two use both cores). On a resume, the hash thread first reads the partial file already on
disk, then the new chunks; the writer appends meanwhile. The queue bound (QUEUE_CHUNKS x
the chunk size) caps the memory a slow disk or hasher can make the worker use.
"""

from __future__ import annotations

import hashlib
import os
import queue
import threading

QUEUE_CHUNKS = 16
READ_BLOCK = 1024 * 1024
_END = None


class Sink:
    """Writes `path` from byte `start` (truncating anything past it) and hashes every byte."""

    def __init__(self, path: str, start: int) -> None:
        self.path = path
        self.start = start
        self.written = start
        flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_BINARY", 0)
        self._fd = os.open(path, flags, 0o644)
        try:
            os.ftruncate(self._fd, start)
            os.lseek(self._fd, start, os.SEEK_SET)
        except OSError:
            os.close(self._fd)
            raise
        self._hash = hashlib.sha256()
        self._queue: queue.Queue[bytes | None] = queue.Queue(QUEUE_CHUNKS)
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._hash_all, name="sha256", daemon=True)
        self._thread.start()

    def _hash_all(self) -> None:
        try:
            if self.start:
                with open(self.path, "rb") as existing:
                    left = self.start
                    while left and not self._stop.is_set():
                        block = existing.read(min(READ_BLOCK * 4, left))
                        if not block:
                            raise OSError(f"{self.path} is shorter than {self.start} bytes")
                        self._hash.update(block)
                        left -= len(block)
            while True:
                chunk = self._queue.get()
                if chunk is None or self._stop.is_set():
                    return
                self._hash.update(chunk)
        except BaseException as exc:  # reported to the writer on close()
            self._error = exc
            self._drain()

    def _drain(self) -> None:
        while True:  # keep the writer from blocking on a full queue
            try:
                if self._queue.get(timeout=0.5) is None:
                    return
            except queue.Empty:
                if self._stop.is_set():
                    return

    def write(self, chunk: bytes) -> None:
        if not chunk:
            return
        view = memoryview(chunk)
        while view:
            done = os.write(self._fd, view)
            view = view[done:]
        self.written += len(chunk)
        self._queue.put(chunk)

    def finish(self) -> str:
        """Flush to disk and return the SHA256 (lower-case hex) of the whole file."""
        self._queue.put(_END)
        self._thread.join()
        try:
            os.fsync(self._fd)
        finally:
            os.close(self._fd)
            self._fd = -1
        if self._error is not None:
            raise self._error
        return self._hash.hexdigest()

    def abort(self) -> None:
        """Stop hashing and close the file (which stays on disk for a resume)."""
        self._stop.set()
        try:
            self._queue.put_nowait(_END)
        except queue.Full:
            pass
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        self._thread.join(timeout=5)
