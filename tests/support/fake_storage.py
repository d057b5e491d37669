"""A local fake of CivitAI's file storage (the target of the download endpoint's 302).

Stdlib only; binds 127.0.0.1 and nothing else. Serves files from disk, honours
``Range: bytes=N-`` with a 206 (via sendfile, so it is as fast as the loopback allows) and
injects faults per request::

    with FakeStorage() as storage:
        storage.put("model.safetensors", path)          # serve this file
        storage.url_for("model.safetensors")            # signed-looking URL to redirect to
        storage.script("model.safetensors", [Fault(drop_at=1000), Fault(ignore_range=True)])
        storage.fault_for = lambda name, n, start: ...  # or decide per request (n counts from 0)
        storage.requests                                # [StorageRequest(name, headers, range_start, time)]
        storage.throttle = 16 * 2**20                   # bytes per second per response (None = full speed)

A scripted fault is used by one request, in order; requests after the script get the file.

Fault fields (all optional):
    status, body, headers  answer this status / body instead of the file (e.g. 503 + Retry-After)
    drop_at                close the connection once this many bytes *of the file* (absolute
                           offset) have been sent — a cut download
    ignore_range           answer 200 with the whole file to a Range request
    wrong_start            answer 206 starting at this offset instead of the asked one
    corrupt_at             flip the byte at this absolute offset
    stall_at, stall        at this absolute offset, wait until the event ``stall`` is set (or
                           ``stall`` seconds pass), then go on
"""

from __future__ import annotations

import os
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

HOST = "127.0.0.1"
PREFIX = "/files/"


@dataclass
class Fault:
    status: int | None = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop_at: int | None = None
    ignore_range: bool = False
    wrong_start: int | None = None
    corrupt_at: int | None = None
    stall_at: int | None = None
    stall: threading.Event | float | None = None


@dataclass(frozen=True)
class StorageRequest:
    name: str
    headers: dict[str, str]
    range_start: int | None
    time: float

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64
    storage: FakeStorage

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)  # no reverse DNS lookup
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients cut connections on purpose in these tests


def _range_start(value: str | None) -> int | None:
    if not value or not value.startswith("bytes=") or not value.endswith("-"):
        return None
    text = value[6:-1]
    return int(text) if text.isdigit() else None


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"
    timeout = 60

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        storage = self.server.storage
        name = unquote(urlsplit(self.path).path[len(PREFIX) :])
        start = _range_start(self.headers.get("Range"))
        number, fault = storage._next(name, dict(self.headers.items()), start)
        path = storage._files.get(name)
        try:
            if fault is not None and fault.status is not None:
                self._answer(fault.status, fault.body, fault.headers)
            elif path is None:
                self._answer(404, b"<Error><Code>NoSuchKey</Code></Error>", {"Content-Type": "application/xml"})
            else:
                self._send_file(path, start, fault or Fault())
        except (ConnectionError, TimeoutError):
            pass

    def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        merged = {"Content-Type": "application/octet-stream", "Content-Length": str(len(body)), **headers}
        for key, value in merged.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _send_file(self, path: Path, start: int | None, fault: Fault) -> None:
        size = path.stat().st_size
        if start is not None and not fault.ignore_range:
            first = fault.wrong_start if fault.wrong_start is not None else start
            if first >= size:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {first}-{size - 1}/{size}")
        else:
            first = 0
            self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size - first))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        self.wfile.flush()
        # Cut points, in file offsets: where to stall, corrupt or stop.
        stops = sorted(
            p for p in (fault.stall_at, fault.corrupt_at, fault.drop_at) if p is not None and p >= first
        )
        position = first
        with open(path, "rb") as handle:
            for stop in [*stops, size]:
                stop = min(stop, size)
                if stop > position:
                    self._send_range(handle, position, stop - position)
                    position = stop
                if stop == fault.stall_at and fault.stall is not None:
                    self.server.storage._wait(fault.stall)
                    fault.stall = None
                if stop == fault.drop_at:
                    self.connection.shutdown(2)
                    return
                if stop == fault.corrupt_at and position < size:
                    handle.seek(position)
                    byte = handle.read(1)
                    self.connection.sendall(bytes([byte[0] ^ 0xFF]))
                    position += 1


    def _send_range(self, handle: Any, offset: int, count: int) -> None:
        throttle = self.server.storage.throttle
        if not throttle:
            self.connection.sendfile(handle, offset, count)
            return
        piece = 64 * 1024
        began = time.monotonic()
        sent = 0
        while sent < count:
            n = min(piece, count - sent)
            self.connection.sendfile(handle, offset + sent, n)
            sent += n
            ahead = sent / throttle - (time.monotonic() - began)
            if ahead > 0 and self.server.storage._closing.wait(ahead):
                return


class FakeStorage:
    def __init__(self) -> None:
        self._files: dict[str, Path] = {}
        self._scripts: dict[str, list[Fault]] = {}
        self._counts: dict[str, int] = {}
        self._requests: list[StorageRequest] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server: _Server | None = None
        self.throttle: float | None = None
        self.fault_for: Callable[[str, int, int | None], Fault | None] | None = None

    def start(self) -> FakeStorage:
        server = _Server((HOST, 0), _Handler)
        server.storage = self
        self._server = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._closing.set()
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeStorage:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://{HOST}:{self._server.server_port}"

    def url_for(self, name: str) -> str:
        return f"{self.url}{PREFIX}{name}?X-Amz-Signature=fake&X-Amz-Expires=86400"

    def put(self, name: str, path: Path) -> None:
        self._files[name] = Path(path)

    def script(self, name: str, faults: list[Fault]) -> None:
        with self._lock:
            self._scripts[name] = list(faults)

    @property
    def requests(self) -> list[StorageRequest]:
        with self._lock:
            return list(self._requests)

    def _next(self, name: str, headers: dict[str, str], start: int | None) -> tuple[int, Fault | None]:
        with self._lock:
            number = self._counts.get(name, 0)
            self._counts[name] = number + 1
            self._requests.append(StorageRequest(name, headers, start, time.monotonic()))
            script = self._scripts.get(name)
            if script:
                return number, script.pop(0)
        if self.fault_for is not None:
            return number, self.fault_for(name, number, start)
        return number, None

    def _wait(self, stall: threading.Event | float) -> None:
        deadline = time.monotonic() + (stall if isinstance(stall, (int, float)) else 120.0)
        while not self._closing.is_set() and time.monotonic() < deadline:
            if isinstance(stall, threading.Event) and stall.wait(0.05):
                return
            if not isinstance(stall, threading.Event):
                time.sleep(0.05)


def make_file(path: Path, size: int, seed: int = 1) -> str:
    """Write `size` pseudo-random bytes (fast, reproducible) to `path`; its SHA256 (upper hex)."""
    import hashlib
    import random

    digest = hashlib.sha256()
    rng = random.Random(seed)
    block = rng.randbytes(1024 * 1024)
    with open(path, "wb") as handle:
        written = 0
        counter = 0
        while written < size:
            piece = (counter.to_bytes(8, "little") + block)[: min(len(block), size - written)]
            handle.write(piece)
            digest.update(piece)
            written += len(piece)
            counter += 1
    os.chmod(path, 0o644)
    return digest.hexdigest().upper()
