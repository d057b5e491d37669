"""The partial file `<file>.part`: written in order, hashed (SHA256) in a thread beside the writer.

Hashing must overlap the transfer: the download thread reads each chunk from the socket into
one of POOL_BUFFERS reusable buffers, writes it, and hands the buffer to the hash thread,
which gives it back once hashed (hashlib releases the GIL on large buffers, so the two use
both cores). Reusing buffers spares an allocation, and its page faults, per chunk; the pool also
caps the memory a slow hasher can make the worker use. On a resume, the
hash thread first reads the partial file already on disk, then the new chunks.

The partial file is only ever a regular file: it is opened without following a symbolic link
and without blocking (a FIFO there would stall the worker forever), and anything else there
raises NotRegularFileError; the hash thread's own read-only descriptor must name the very file
the writer holds.

Early writeback: the file is fsynced once, at the end, before it gets its final name. Left
alone, the kernel keeps the whole file dirty in memory (a GiB is well under its background
threshold on most machines), so that fsync would write all of it while the caller waits
(~0.4 s per GiB here). Every WRITEBACK_BYTES, the range just written is handed to
posix_fadvise(POSIX_FADV_DONTNEED), which on Linux starts its writeback without waiting for
it (and drops no dirty page), so the disk works during the transfer and the final fsync has
little left. Unlike a periodic fdatasync, the writer never waits for the disk. Elsewhere
(no posix_fadvise) the final fsync does it all.
"""

from __future__ import annotations

import hashlib
import os
import queue
import threading

from host.regularfile import NOFOLLOW, open_regular

# Small enough that a chunk is still in the CPU's cache (L2: 512 KiB-2 MiB) when the hash
# thread reads it right after the writer: 1 MiB chunks took a third more CPU time here (AMD
# EPYC, 1 MiB L2 per core) for the same GiB. The pool lets the hasher lag by 4 MiB at most.
CHUNK_BYTES = 256 * 1024
POOL_BUFFERS = 16
READ_BLOCK = 1024 * 1024
WRITEBACK_BYTES = 32 * 1024 * 1024
_EARLY_WRITEBACK = hasattr(os, "posix_fadvise") and hasattr(os, "POSIX_FADV_DONTNEED")
_END = None


def _identity(status: os.stat_result) -> tuple[int, int]:
    return status.st_dev, status.st_ino


class Sink:
    """Writes `path` from byte `start` (truncating anything past it) and hashes every byte."""

    def __init__(self, path: str, start: int) -> None:
        self.path = path
        self.start = start
        self.written = start
        self._written_back = start  # where the next early writeback range begins
        self._fd = open_regular(path, os.O_WRONLY | os.O_CREAT | NOFOLLOW)
        try:
            self._identity = _identity(os.fstat(self._fd))
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
                fd = open_regular(self.path, NOFOLLOW)
                with open(fd, "rb") as existing:
                    if _identity(os.fstat(fd)) != self._identity:
                        raise OSError(f"{self.path} was replaced while it was being resumed")
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
        if _EARLY_WRITEBACK and self.written - self._written_back >= WRITEBACK_BYTES:
            self._start_writeback()

    def _start_writeback(self) -> None:
        try:
            length = self.written - self._written_back
            os.posix_fadvise(self._fd, self._written_back, length, os.POSIX_FADV_DONTNEED)
        except OSError:
            pass  # only a head start: the final fsync still writes whatever is left
        self._written_back = self.written

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
