"""Hash one model file in one read pass: SHA256 of the whole file, plus for safetensors the
SHA256 of the tensor data (what CivitAI's AutoV3 is cut from).

AutoV3, as CivitAI and the trainers (kohya-ss sd-scripts' safetensors hash, written into
`sshs_model_hash`) define it: SHA256 of the bytes after the header, i.e. from offset
8 + N to the end, where N is the little-endian u64 in the first 8 bytes; CivitAI shows its
first 12 hex digits. We keep the full 64-digit digest.

Speed: the calling thread only reads, CHUNK_BYTES at a time into a few reused buffers (no
per-chunk allocation); each digest runs in a thread of its own (hashlib's OpenSSL SHA256
releases the GIL on large updates) and hands a buffer back once it is hashed. So the slowest
stage, not the sum of reading and hashing, sets the pace: one SHA256 pass keeps up with the
disk or the page cache, and a safetensors file's two digests take about one pass's time when
a second core is free. A file that fits in one chunk is hashed inline (threads cost more than
they save).
"""

from __future__ import annotations

import hashlib
import os
import queue
import stat
import struct
import threading
from collections.abc import Callable
from io import FileIO
from typing import Any

CHUNK_BYTES = 4 * 1024 * 1024
# A header longer than this is not a safetensors header (the format caps it at 100 MB).
MAX_HEADER_BYTES = 100 * 1024 * 1024


class FileChanged(Exception):
    """The file changed (size, mtime or identity) while it was being hashed."""


class FileHashes:
    __slots__ = ("autov3", "ino", "mtime_ns", "sha256", "size")

    def __init__(self, sha256: str, autov3: str | None, size: int, mtime_ns: int, ino: int) -> None:
        self.sha256 = sha256  # lower-case hex, whole file
        self.autov3 = autov3  # lower-case hex, tensor data of a safetensors file, else None
        self.size = size
        self.mtime_ns = mtime_ns
        self.ino = ino


class _DigestThread:
    """One digest fed buffer slices, in order, from its own thread; each buffer goes to
    `done` once hashed (host.disk.hashing._BufferPool counts it back). Every buffer goes back
    even after the digest raised (`error`): the reader waits for them."""

    def __init__(self, digest: Any, done: queue.SimpleQueue[bytearray], name: str) -> None:
        self.digest = digest
        self.error: BaseException | None = None
        self._done = done
        self._work: queue.SimpleQueue[tuple[bytearray, int, int] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._work.get()
            if item is None:
                return
            buffer, start, end = item
            if self.error is None:
                try:
                    self.digest.update(memoryview(buffer)[start:end])
                except BaseException as exc:  # raised in the reader's thread once this one ends
                    self.error = exc
            self._done.put(buffer)

    def feed(self, buffer: bytearray, start: int, end: int) -> None:
        self._work.put((buffer, start, end))

    def finish(self) -> None:
        """Hash what was fed, then end the thread."""
        self._work.put(None)
        self._thread.join()


class _BufferPool:
    """POOL read buffers shared by the reader and the digest threads: a buffer is free again
    once every digest it was fed to has hashed it."""

    POOL = 4

    def __init__(self) -> None:
        self.done: queue.SimpleQueue[bytearray] = queue.SimpleQueue()
        self._free = [bytearray(CHUNK_BYTES) for _ in range(self.POOL)]
        self._owed: dict[int, int] = {}  # id(buffer) -> digests still to hash it

    def take(self) -> bytearray:
        while not self._free:
            self._returned(self.done.get())
        return self._free.pop()

    def lend(self, buffer: bytearray, digests: int) -> None:
        if digests:
            self._owed[id(buffer)] = digests
        else:
            self._free.append(buffer)

    def _returned(self, buffer: bytearray) -> None:
        left = self._owed[id(buffer)] - 1
        if left:
            self._owed[id(buffer)] = left
        else:
            del self._owed[id(buffer)]
            self._free.append(buffer)


def tensor_offset(first_bytes: bytes, size: int) -> int | None:
    """Where a safetensors file's tensor data starts, or None when it is not one."""
    if len(first_bytes) < 8:
        return None
    header: int = struct.unpack("<Q", first_bytes[:8])[0]
    if header > MAX_HEADER_BYTES or 8 + header > size:
        return None
    return 8 + header


def _hash_in_threads(
    handle: FileIO,
    position: int,
    start: int,
    whole: Any,
    tensor: Any,
    on_bytes: Callable[[int], None] | None,
    should_stop: Callable[[], bool] | None,
) -> int:
    """Read `handle` to its end from `position`, feeding the whole-file digest, and the tensor
    digest (if any) from offset `start` on; the position reached, or -1 when should_stop()
    said to stop. What a digest raised is raised here, once every digest thread has ended."""
    pool = _BufferPool()
    digests = [_DigestThread(whole, pool.done, "sha256")]
    if tensor is not None:
        digests.append(_DigestThread(tensor, pool.done, "autov3"))
    stopped = False
    try:
        while True:
            if should_stop is not None and should_stop():
                stopped = True
                break
            if any(digest.error is not None for digest in digests):
                break
            buffer = pool.take()
            count = handle.readinto(buffer)
            if not count:
                pool.lend(buffer, 0)
                break
            digests[0].feed(buffer, 0, count)
            fed = 1
            if tensor is not None and position + count > start:
                digests[1].feed(buffer, max(0, start - position), count)
                fed = 2
            pool.lend(buffer, fed)
            position += count
            if on_bytes is not None:
                on_bytes(count)
    finally:
        for digest in digests:
            digest.finish()
    for digest in digests:
        if digest.error is not None:
            raise digest.error
    return -1 if stopped else position


def hash_file(
    path: str,
    on_bytes: Callable[[int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> FileHashes | None:
    """Hash `path` (read only). FileChanged when it changed meanwhile; OSError when it cannot
    be read; None when should_stop() said to stop part-way."""
    # O_NONBLOCK: the walk saw a regular file, but a FIFO put in its place since then must not
    # block the open (a scan waiting forever for a writer); anything not regular is refused.
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags | getattr(os, "O_NONBLOCK", 0))
    with open(fd, "rb", buffering=0, closefd=True) as handle:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            raise FileChanged(f"{path} is not a regular file any more")
        if hasattr(os, "O_NONBLOCK"):
            os.set_blocking(fd, True)
        whole = hashlib.sha256()
        tensor: Any = None
        start = -1  # where the tensor data starts (safetensors), else -1
        position = 0
        if path.lower().endswith(".safetensors"):
            first = handle.read(8)
            offset = tensor_offset(first, before.st_size)
            whole.update(first)
            position = len(first)
            if on_bytes is not None:
                on_bytes(position)
            if offset is not None:
                start, tensor = offset, hashlib.sha256()
        if before.st_size - position <= CHUNK_BYTES:
            rest = bytearray()
            while len(rest) <= CHUNK_BYTES:  # one more than fits: a file that grew is seen below
                piece = handle.read(CHUNK_BYTES + 1 - len(rest))
                if not piece:
                    break
                rest += piece
            whole.update(rest)
            if tensor is not None:
                tensor.update(memoryview(rest)[max(0, start - position):])
            position += len(rest)
            if on_bytes is not None and rest:
                on_bytes(len(rest))
        else:
            position = _hash_in_threads(handle, position, start, whole, tensor, on_bytes, should_stop)
            if position < 0:
                return None
        after = os.fstat(fd)
    try:
        now = os.stat(path)
    except OSError as exc:
        raise FileChanged(f"{path} went away while it was hashed") from exc
    stamps = {(s.st_size, s.st_mtime_ns, s.st_ino) for s in (before, after, now)}
    if len(stamps) != 1 or position != before.st_size:
        raise FileChanged(f"{path} changed while it was hashed")
    autov3 = tensor.hexdigest() if tensor is not None else None
    return FileHashes(whole.hexdigest(), autov3, before.st_size, before.st_mtime_ns, before.st_ino)
