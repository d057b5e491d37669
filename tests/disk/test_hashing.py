"""Hashing a model file: SHA256 and the safetensors tensor hash (AutoV3) in one read pass."""

from __future__ import annotations

import hashlib
import os
import struct
import threading
import types

import pytest

from host.disk import hashing
from host.disk.hashing import FileChanged, hash_file, tensor_offset
from tests.disk.scan_support import write_model


@pytest.mark.parametrize("tensor_bytes", [0, 1, 4096, hashing.CHUNK_BYTES - 5, hashing.CHUNK_BYTES,
                                          2 * hashing.CHUNK_BYTES + 77])
def test_sha256_and_autov3_match_their_definitions(tmp_path, tensor_bytes):
    path, sha, tensor_sha = write_model(tmp_path / "m.safetensors", "a", tensor_bytes)
    result = hash_file(str(path))
    assert result is not None
    assert (result.sha256, result.autov3) == (sha, tensor_sha)
    assert result.size == path.stat().st_size and result.ino == path.stat().st_ino


def test_autov3_agrees_with_the_header_a_trainer_writes(tmp_path):
    # kohya's sd-scripts (and CivitAI) hash the bytes after 8 + header length; a header
    # padded with spaces (as writers align it) changes SHA256 but not AutoV3
    data = b"tensor-bytes" * 1000
    files = []
    for pad in (0, 7):
        header = b'{"__metadata__":{}}' + b" " * pad
        path = tmp_path / f"p{pad}.safetensors"
        path.write_bytes(struct.pack("<Q", len(header)) + header + data)
        files.append(hash_file(str(path)))
    assert files[0].sha256 != files[1].sha256
    assert files[0].autov3 == files[1].autov3 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("name, data", [
    ("model.ckpt", b"\x80\x02pickle" * 500),
    ("short.safetensors", b"abc"),                                   # shorter than the length field
    ("huge.safetensors", struct.pack("<Q", 2**40) + b"x" * 100),      # header longer than the file
])
def test_no_autov3_for_files_that_are_not_safetensors(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    result = hash_file(str(path))
    assert result.sha256 == hashlib.sha256(data).hexdigest() and result.autov3 is None


@pytest.mark.parametrize("header_pad", [0, 1000, 5000])
def test_small_chunks_and_a_header_longer_than_a_chunk(tmp_path, monkeypatch, header_pad):
    # the tensor digest starts inside the first chunk, at a chunk edge or chunks later
    monkeypatch.setattr(hashing, "CHUNK_BYTES", 1024)
    data = os.urandom(10_000)
    header = b'{"__metadata__":{}}' + b" " * header_pad
    path = tmp_path / "m.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + data)
    result = hash_file(str(path))
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert result.autov3 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("size", [0, 1024, 1025, 50_001])
def test_sha256_alone_at_every_size_around_a_chunk(tmp_path, monkeypatch, size):
    monkeypatch.setattr(hashing, "CHUNK_BYTES", 1024)
    path = tmp_path / "model.ckpt"
    path.write_bytes(os.urandom(size))
    result = hash_file(str(path))
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest() and result.autov3 is None


def test_tensor_offset():
    assert tensor_offset(struct.pack("<Q", 10), 18) == 18
    assert tensor_offset(struct.pack("<Q", 11), 18) is None
    assert tensor_offset(b"1234", 100) is None


def test_a_file_that_grows_while_hashed_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(hashing, "CHUNK_BYTES", 1024)
    path, _, _ = write_model(tmp_path / "m.safetensors", "grow", 64 * 1024)
    calls = []

    def grow(count):
        calls.append(count)
        if len(calls) == 3:
            with open(path, "ab") as handle:
                handle.write(b"more")

    with pytest.raises(FileChanged):
        hash_file(str(path), on_bytes=grow)


def test_a_file_replaced_while_hashed_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(hashing, "CHUNK_BYTES", 1024)
    path, _, _ = write_model(tmp_path / "m.safetensors", "swap", 64 * 1024)
    other = tmp_path / "other"

    def swap(count):
        if not other.exists():
            other.write_bytes(path.read_bytes())
            os.replace(other, path)

    with pytest.raises(FileChanged):
        hash_file(str(path), on_bytes=swap)


def test_stop_part_way_returns_none(tmp_path, monkeypatch):
    monkeypatch.setattr(hashing, "CHUNK_BYTES", 1024)
    path, _, _ = write_model(tmp_path / "m.safetensors", "stop", 64 * 1024)
    seen = []
    assert hash_file(str(path), on_bytes=seen.append, should_stop=lambda: len(seen) >= 2) is None


def test_hashing_opens_the_file_read_only(tmp_path):
    path, _, _ = write_model(tmp_path / "m.safetensors", "ro")
    path.chmod(0o444)
    before = path.stat()
    assert hash_file(str(path)) is not None
    after = path.stat()
    assert (before.st_mtime_ns, before.st_size) == (after.st_mtime_ns, after.st_size)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_swapped_in_after_the_walk_is_refused_not_waited_on(tmp_path):
    """The walk skips what is not a regular file, but a file can be replaced between the walk
    and the hashing: opening a FIFO blocked the scan until some writer came (forever), and a
    device such as /dev/zero would be read without end."""
    import threading

    fifo = tmp_path / "swapped.safetensors"
    os.mkfifo(fifo)
    outcome: list[object] = []

    def hash_it() -> None:
        try:
            outcome.append(hash_file(str(fifo)))
        except (FileChanged, OSError) as exc:
            outcome.append(exc)

    thread = threading.Thread(target=hash_it, daemon=True)
    thread.start()
    thread.join(30)
    if thread.is_alive():  # unblock the stuck open before failing, so no thread is left behind
        with open(fifo, "wb"):
            pass
        thread.join(30)
        pytest.fail("hash_file blocked on a FIFO")
    assert len(outcome) == 1 and isinstance(outcome[0], FileChanged)
    assert "not a regular file" in str(outcome[0])


def test_a_digest_that_fails_ends_the_hash_with_its_error_not_a_hang(tmp_path, monkeypatch):
    """Whatever a digest thread raises (a MemoryError on a starved machine) reaches the caller,
    and no thread is left behind. Its buffers never came back: the reader waited for them
    forever, holding the scan lock, deaf to a cancel."""
    monkeypatch.setattr(hashing, "CHUNK_BYTES", 1024)

    class FailingDigest:
        def __init__(self) -> None:
            self.real = hashlib.sha256()
            self.updates = 0

        def update(self, data: memoryview) -> None:
            self.updates += 1
            if self.updates == 2:
                raise MemoryError("no memory for the digest")
            self.real.update(data)

        def hexdigest(self) -> str:
            return self.real.hexdigest()

    monkeypatch.setattr(hashing, "hashlib", types.SimpleNamespace(sha256=FailingDigest))
    path = tmp_path / "model.ckpt"
    path.write_bytes(os.urandom(100 * 1024))
    before = set(threading.enumerate())
    raised: list[BaseException] = []

    def run() -> None:
        try:
            hash_file(str(path))
        except MemoryError as exc:
            raised.append(exc)

    caller = threading.Thread(target=run, daemon=True)
    caller.start()
    caller.join(20)
    assert not caller.is_alive(), "hash_file never returned"
    assert [str(exc) for exc in raised] == ["no memory for the digest"]
    assert set(threading.enumerate()) - before == set()
