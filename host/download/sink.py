"""The partial file `<file>.part`: written in order, hashed (SHA256) in a thread beside the writer.

Hashing must overlap the transfer: the download thread reads each chunk from the socket into
one of POOL_BUFFERS reusable buffers, writes it, and hands the buffer to the hash thread,
which gives it back once hashed (hashlib releases the GIL on large buffers, so the two use
both cores). Reusing buffers spares a fresh megabyte allocation, and its page faults, per
chunk; the pool also caps the memory a slow hasher can make the worker use. On a resume, the
hash thread first reads the partial file already on disk, then the new chunks.
"""

from __future__ import annotations

import hashlib
import os
import queue
import threading

CHUNK_BYTES = 1024 * 1024
POOL_BUFFERS = 16
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
        self._free: queue.Queue[bytearray] = queue.Queue()
        for _ in range(POOL_BUFFERS):
            self._free.put(bytearray(CHUNK_BYTES))
        # (buffer, length): a pool buffer to give back, or None for a one-off bytes chunk
        self._queue: queue.Queue[tuple[bytes | bytearray, int, bool] | None] = queue.Queue()
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
                item = self._queue.get()
                if item is None or self._stop.is_set():
                    return
                buffer, length, pooled = item
                self._hash.update(memoryview(buffer)[:length])
                if pooled:
                    self._free.put(buffer)  # type: ignore[arg-type]
        except BaseException as exc:  # reported to the writer on close()
            self._error = exc
            self._drain()

    def _drain(self) -> None:
        while True:  # keep giving buffers back, so the writer never waits for one forever
            try:
                item = self._queue.get(timeout=0.5)
            except queue.Empty:
                if self._stop.is_set():
                    return
                continue
            if item is None:
                return
            if item[2]:
                self._free.put(item[0])  # type: ignore[arg-type]

    def take_buffer(self) -> bytearray:
        """A free pool buffer to read into (waits while all of them wait for the hasher)."""
        return self._free.get()

    def give_back(self, buffer: bytearray) -> None:
        self._free.put(buffer)

    def write_buffer(self, buffer: bytearray, length: int) -> None:
        """Write the first `length` bytes of a pool buffer; the hasher gives it back."""
        self._write(memoryview(buffer)[:length])
        self._queue.put((buffer, length, True))

    def write(self, chunk: bytes) -> None:
        if chunk:
            self._write(memoryview(chunk))
            self._queue.put((chunk, len(chunk), False))

    def _write(self, view: memoryview) -> None:
        length = len(view)
        while view:
            done = os.write(self._fd, view)
            view = view[done:]
        self.written += length

    def finish(self) -> str:
        """Flush to disk and return the SHA256 (lower-case hex) of the whole file. One fsync
        at the end, not every few dozen MiB: periodic syncs make the worker wait for the disk
        chunk by chunk (twice the system time here), for no gain in safety, since the file
        gets its final name only after this."""
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
        self._queue.put(_END)
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        self._thread.join(timeout=5)
