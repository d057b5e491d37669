"""Hash one model file in one read pass: SHA256 of the whole file, plus for safetensors the
SHA256 of the tensor data (what CivitAI's AutoV3 is cut from).

AutoV3, as CivitAI and the trainers (kohya-ss sd-scripts' safetensors hash, written into
`sshs_model_hash`) define it: SHA256 of the bytes after the header, i.e. from offset
8 + N to the end, where N is the little-endian u64 in the first 8 bytes; CivitAI shows its
first 12 hex digits. We keep the full 64-digit digest.

Speed: reads of CHUNK_BYTES into reused buffers (no per-chunk allocation), and hashlib's
OpenSSL SHA256, which releases the GIL on large updates; the tensor digest of a safetensors
file runs in a helper thread beside the whole-file digest (a second core), so both cost about
one pass on an idle machine.
"""

from __future__ import annotations

import hashlib
import os
import stat
import struct
import threading
from collections.abc import Callable

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


class _TensorHasher:
    """The second digest, in a helper thread that trails the reader by up to two chunks:
    buffers go round a small pool, so reading, the whole-file digest and this one overlap."""

    POOL = 3

    def __init__(self) -> None:
        import queue

        self.digest = hashlib.sha256()
        self.free: queue.SimpleQueue[bytearray] = queue.SimpleQueue()
        for _ in range(self.POOL):
            self.free.put(bytearray(CHUNK_BYTES))
        self._work: queue.SimpleQueue[tuple[bytearray, int, int] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="autov3", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._work.get()
            if item is None:
                return
            buffer, start, end = item
            self.digest.update(memoryview(buffer)[start:end])
            self.free.put(buffer)

    def feed(self, buffer: bytearray, start: int, end: int) -> None:
        """Hash buffer[start:end]; the buffer returns to `free` when done."""
        self._work.put((buffer, start, end))

    def finish(self) -> None:
        self._work.put(None)
        self._thread.join()


def tensor_offset(first_bytes: bytes, size: int) -> int | None:
    """Where a safetensors file's tensor data starts, or None when it is not one."""
    if len(first_bytes) < 8:
        return None
    header: int = struct.unpack("<Q", first_bytes[:8])[0]
    if header > MAX_HEADER_BYTES or 8 + header > size:
        return None
    return 8 + header


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
        tensor: _TensorHasher | None = None
        start = -1
        position = 0
        if path.lower().endswith(".safetensors"):
            first = handle.read(8)
            offset = tensor_offset(first, before.st_size)
            whole.update(first)
            position = len(first)
            if on_bytes is not None:
                on_bytes(position)
            if offset is not None:
                start, tensor = offset, _TensorHasher()
        own = bytearray(CHUNK_BYTES) if tensor is None else None
        try:
            while True:
                if should_stop is not None and should_stop():
                    return None
                buffer = own if own is not None else tensor.free.get()  # type: ignore[union-attr]
                count = handle.readinto(buffer)
                if not count:
                    break
                whole.update(memoryview(buffer)[:count])
                if tensor is not None:
                    if position + count > start:
                        tensor.feed(buffer, max(0, start - position), count)
                    else:
                        tensor.free.put(buffer)
                position += count
                if on_bytes is not None:
                    on_bytes(count)
        finally:
            if tensor is not None:
                tensor.finish()
        after = os.fstat(fd)
    try:
        now = os.stat(path)
    except OSError as exc:
        raise FileChanged(f"{path} went away while it was hashed") from exc
    stamps = {(s.st_size, s.st_mtime_ns, s.st_ino) for s in (before, after, now)}
    if len(stamps) != 1 or position != before.st_size:
        raise FileChanged(f"{path} changed while it was hashed")
    autov3 = tensor.digest.hexdigest() if tensor is not None else None
    return FileHashes(whole.hexdigest(), autov3, before.st_size, before.st_mtime_ns, before.st_ino)
