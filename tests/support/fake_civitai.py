"""A local fake of the CivitAI REST API, for subprocess, browser and stress tests.

Stdlib only: a ``ThreadingHTTPServer`` bound to **127.0.0.1** (never anything else) on an
ephemeral port, served from a daemon thread. It writes nothing to stdout or stderr.

Fixtures (``tests/fixtures/civitai``)::

    load_fixture("sdxl_lora")        -> dict   # a fresh copy; ".json" suffix optional
    fixture_names()                  -> list[str]  # sorted stems, e.g. ["archived", ...]
    load_error("429.html")           -> bytes  # raw body from fixtures/civitai/errors/

Server::

    with FakeCivitai() as fake:                  # FakeCivitai(port=0); or .start() / .stop()
        fake.url                                 # "http://127.0.0.1:PORT" (no trailing slash)
        fake.version_url(123)                    # fake.url + "/api/v1/model-versions/123"
        fake.add_version(payload)                # 200 JSON at /api/v1/model-versions/{payload["id"]}
        fake.add_fixture("sdxl_lora")            # load_fixture + add_version; returns the payload
        fake.add_fixtures()                      # every fixture, by id; returns the ids
        fake.add_hash(sha256, version_id, model_id)  # POST by-hash/ids knows this file
        fake.serve_download(123, storage_url)    # /api/download/models/123 -> 302 storage_url
        fake.set_response(123, 429, load_error("429.html"),
                          headers={"Retry-After": "1"}, delay=0.0,
                          drip=None, truncate=False, drop=False)
        fake.set_sequence(123, [Response(429, "slow down"), (200, payload)])
        fake.random_delay = (0.01, 0.05)         # extra seconds on every response; None = off
        fake.requests                            # snapshot list[RecordedRequest]
        fake.requests_for(123)                   # only the requests for that version
        fake.clear_requests(); fake.reset()      # reset() also forgets every route and delay
        fake.errors                              # unexpected exceptions inside the server

Responses
    ``version_id`` is an int or a str; ints and digit strings are the same key. A str that starts
    with ``/`` is taken as a full path instead (e.g. ``"/api/v1/models/42"``); the query string
    is ignored when matching. ``set_response`` replaces whatever the key served before.
    ``set_sequence`` gives successive requests successive responses; the last one repeats. Items
    are ``Response`` objects or ``(status, body)`` / ``(status, body, headers)`` tuples.

    body: ``dict``/``list`` -> compact UTF-8 JSON (like the real server); ``str`` -> UTF-8;
    ``bytes`` as is. Default ``Content-Type``: JSON, or ``text/html; charset=UTF-8`` when the
    body starts with ``<``. ``headers`` are added and override defaults (case-insensitively;
    this includes ``Content-Type`` and ``Content-Length``). A header value may be a callable
    with no arguments: it is called when the answer is sent (e.g. an HTTP date "3 s from now",
    which must not depend on how long the request took to arrive).

    delay     seconds to wait before answering (plus ``random_delay``).
    drip      ``(chunk_bytes, seconds)``: send the body in chunks with a sleep between them.
    truncate  declare the full ``Content-Length`` but send only part of the body, then close:
              ``True`` = the first half, an int ``n`` = the first ``n`` bytes.
    drop      close the connection without sending anything (a reset/"server disconnected").

    Anything not scripted answers 404 ``{"error":"Model not found"}`` (JSON), like CivitAI for
    an unknown version id. Sleeps end early when the server stops, so ``stop()`` is prompt.

Recorded requests
    ``RecordedRequest(method, path, headers, body, time, version_id)``: ``path`` as sent
    (with the query), ``headers`` a dict as received, ``time`` a ``time.monotonic()`` stamp,
    ``version_id`` the path segment after ``/api/v1/model-versions/`` (or None).
    ``req.header("authorization")`` looks a header up case-insensitively.

Standalone (manual testing; prints its URL as the first stdout line, stops on SIGINT/SIGTERM)::

    python -m tests.support.fake_civitai --port 0 [--fixtures DIR]
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import signal
import socketserver
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "ERRORS_DIR",
    "FIXTURES_DIR",
    "FakeCivitai",
    "RecordedRequest",
    "Response",
    "fixture_names",
    "load_error",
    "load_fixture",
]

FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "civitai"
ERRORS_DIR = FIXTURES_DIR / "errors"

HOST = "127.0.0.1"  # the only address this server ever binds
VERSION_PREFIX = "/api/v1/model-versions/"
BY_HASH_PATH = "/api/v1/model-versions/by-hash/ids"
BY_HASH_LIMIT = 10_000
JSON_TYPE = "application/json; charset=utf-8"
HTML_TYPE = "text/html; charset=UTF-8"
NOT_FOUND = {"error": "Model not found"}
MAX_REQUEST_BODY = 10 * 1024 * 1024

Body = bytes | str | dict | list


# --------------------------------------------------------------------------- fixtures


def _fixture_path(name: str, directory: Path | None = None) -> Path:
    base = directory or FIXTURES_DIR
    stem = name[:-5] if name.endswith(".json") else name
    return base / f"{stem}.json"


def load_fixture(name: str) -> dict[str, Any]:
    """A fresh copy of ``tests/fixtures/civitai/<name>.json``."""
    data = json.loads(_fixture_path(name).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"fixture {name!r} is not a JSON object")
    return data


def fixture_names() -> list[str]:
    """Stems of every version fixture (``errors/`` excluded), sorted."""
    return sorted(p.stem for p in FIXTURES_DIR.glob("*.json"))


def load_error(name: str) -> bytes:
    """Raw bytes of ``errors/<name>``; without an extension, ``.json`` then ``.html``."""
    path = ERRORS_DIR / name
    if not path.suffix:
        for ext in (".json", ".html"):
            if (ERRORS_DIR / f"{name}{ext}").is_file():
                path = ERRORS_DIR / f"{name}{ext}"
                break
    return path.read_bytes()


# --------------------------------------------------------------------------- data types


@dataclass(frozen=True)
class Response:
    """One scripted answer. See the module docstring for the fields."""

    status: int = 200
    body: Body = b""
    headers: Mapping[str, str | Callable[[], str]] | None = None
    delay: float = 0.0
    drip: tuple[int, float] | None = None
    truncate: bool | int = False
    drop: bool = False

    def encoded(self) -> tuple[bytes, str]:
        """The body as bytes and its default Content-Type."""
        body = self.body
        if isinstance(body, (dict, list)):
            data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            return data, JSON_TYPE
        data = body.encode("utf-8") if isinstance(body, str) else bytes(body)
        return data, HTML_TYPE if data.lstrip().startswith(b"<") else JSON_TYPE


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    time: float
    version_id: str | None

    def header(self, name: str, default: str | None = None) -> str | None:
        lname = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lname:
                return value
        return default


ResponseLike = Response | tuple


def _as_response(item: ResponseLike) -> Response:
    if isinstance(item, Response):
        return item
    if isinstance(item, tuple) and 2 <= len(item) <= 3:
        return Response(*item)
    raise TypeError(f"expected Response or (status, body[, headers]), got {item!r}")


DOWNLOAD_PREFIX = "/api/download/models/"


def download_path(version_id: int | str) -> str:
    """The route key of a version's download endpoint (the query, e.g. fileId, is ignored)."""
    return f"{DOWNLOAD_PREFIX}{version_id}"


def _route_key(version_id: int | str) -> str:
    if isinstance(version_id, bool):
        raise TypeError("version_id must be an int or a str")
    if isinstance(version_id, int):
        return f"{VERSION_PREFIX}{version_id}"
    text = str(version_id)
    if text.startswith("/"):
        path = urlsplit(text).path
        if not path.startswith(VERSION_PREFIX):
            return path
        text = path[len(VERSION_PREFIX) :]
    if text.isdigit():  # like CivitAI's Number(id): "0123" is 123
        text = str(int(text))
    return f"{VERSION_PREFIX}{text}"


class _Route:
    __slots__ = ("index", "responses")

    def __init__(self, responses: list[Response]) -> None:
        if not responses:
            raise ValueError("a route needs at least one response")
        self.responses = responses
        self.index = 0

    def next(self) -> Response:
        resp = self.responses[min(self.index, len(self.responses) - 1)]
        self.index += 1
        return resp


# --------------------------------------------------------------------------- HTTP plumbing


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    fake: FakeCivitai

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn); skip it.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if not isinstance(exc, (ConnectionError, TimeoutError)):
            self.fake._note_error(exc)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"  # one request per connection: nothing lingers after stop()
    timeout = 30  # socket timeout for a client that connects and says nothing

    def log_message(self, format: str, *args: Any) -> None:
        pass  # never log (stdout must stay clean for the standalone mode and subprocesses)

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_POST(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def _serve(self, send_body: bool) -> None:
        fake = self.server.fake
        path = urlsplit(self.path).path
        body_in = b""
        length = self.headers.get("Content-Length")
        if length and length.isdigit():
            body_in = self.rfile.read(min(int(length), MAX_REQUEST_BODY))
        version_id = path[len(VERSION_PREFIX) :] if path.startswith(VERSION_PREFIX) else None
        fake._record(
            RecordedRequest(
                method=self.command,
                path=self.path,
                headers=dict(self.headers.items()),
                body=body_in,
                time=time.monotonic(),
                version_id=version_id,
            )
        )
        if path == BY_HASH_PATH and self.command == "POST" and not fake._has_route(path):
            resp = fake._by_hash_answer(body_in)
        else:
            resp = fake._next_response(path)
        if fake._sleep(resp.delay + fake._random_extra()):
            return  # stopping
        if resp.drop:
            self.close_connection = True
            return
        data, ctype = resp.encoded()
        headers: dict[str, str] = {"Content-Type": ctype, "Content-Length": str(len(data))}
        sent = data
        if resp.truncate is not False:
            n = len(data) // 2 if resp.truncate is True else max(0, int(resp.truncate))
            sent = data[: min(n, max(len(data) - 1, 0))]
            headers["Content-Length"] = str(max(len(data), len(sent) + 1))
        for key, value in (resp.headers or {}).items():
            for existing in [k for k in headers if k.lower() == key.lower()]:
                del headers[existing]
            headers[key] = str(value() if callable(value) else value)
        try:
            self.send_response(resp.status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            if send_body and sent:
                if resp.drip:
                    size, pause = max(1, int(resp.drip[0])), float(resp.drip[1])
                    for start in range(0, len(sent), size):
                        if start and fake._sleep(pause):
                            return
                        self.wfile.write(sent[start : start + size])
                        self.wfile.flush()
                else:
                    self.wfile.write(sent)
            self.wfile.flush()
        except (ConnectionError, TimeoutError):
            pass  # the client went away (e.g. its timeout fired): normal in fault tests
        finally:
            self.close_connection = True


# --------------------------------------------------------------------------- the fake


class FakeCivitai:
    """A scriptable fake CivitAI API on 127.0.0.1. Use as a context manager."""

    def __init__(self, port: int = 0) -> None:
        self._port = port
        self._lock = threading.Lock()
        self._routes: dict[str, _Route] = {}
        self._hashes: dict[str, tuple[int, int]] = {}  # SHA256 -> (version id, model id)
        self._requests: list[RecordedRequest] = []
        self._errors: list[BaseException] = []
        self._closing = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._rng = random.Random()
        self.random_delay: tuple[float, float] | None = None

    # ---- lifecycle
    def start(self) -> FakeCivitai:
        if self._server is not None:
            return self
        self._closing.clear()
        server = _Server((HOST, self._port), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-civitai-{server.server_port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._closing.set()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeCivitai:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- addresses
    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeCivitai is not running")
        return self._server.server_port

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def version_url(self, version_id: int | str) -> str:
        return f"{self.url}{VERSION_PREFIX}{version_id}"

    # ---- scripting
    def set_sequence(self, version_id: int | str, responses: Sequence[ResponseLike]) -> None:
        route = _Route([_as_response(r) for r in responses])
        with self._lock:
            self._routes[_route_key(version_id)] = route

    def set_response(
        self,
        version_id: int | str,
        status: int,
        body: Body = b"",
        headers: Mapping[str, str | Callable[[], str]] | None = None,
        delay: float = 0.0,
        *,
        drip: tuple[int, float] | None = None,
        truncate: bool | int = False,
        drop: bool = False,
    ) -> None:
        resp = Response(status, body, dict(headers) if headers else None, delay, drip, truncate, drop)
        self.set_sequence(version_id, [resp])

    def add_version(self, payload: Mapping[str, Any]) -> int:
        """Serve ``payload`` (a snapshot of it) as 200 JSON at its id; returns the id."""
        version_id = payload["id"]
        self.set_response(version_id, 200, copy.deepcopy(dict(payload)))
        return int(version_id)

    def serve_download(self, version_id: int | str, location: str) -> None:
        """``/api/download/models/<id>`` answers 302 to ``location`` (e.g. a FakeStorage URL),
        like CivitAI for a permitted download; script faults with ``set_sequence`` on
        ``download_path(version_id)``."""
        self.set_response(download_path(version_id), 302, b"", headers={"Location": location})

    def add_fixture(self, name: str) -> dict[str, Any]:
        payload = load_fixture(name)
        self.add_version(payload)
        return payload

    def add_fixtures(self, directory: str | Path | None = None) -> list[int]:
        """Serve every ``*.json`` object with an ``id`` in ``directory`` (default: fixtures)."""
        base = Path(directory) if directory is not None else FIXTURES_DIR
        ids = []
        for path in sorted(base.glob("*.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and "id" in data:
                ids.append(self.add_version(data))
        return ids

    def reset(self) -> None:
        with self._lock:
            self._routes.clear()
            self._hashes.clear()
            self._requests.clear()
            self._errors.clear()
        self.random_delay = None

    # ---- inspection
    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_for(self, version_id: int | str) -> list[RecordedRequest]:
        key = _route_key(version_id)
        return [r for r in self.requests if _route_key(urlsplit(r.path).path) == key]

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    @property
    def errors(self) -> list[BaseException]:
        with self._lock:
            return list(self._errors)

    # ---- used by the handler
    def _record(self, req: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(req)

    def _note_error(self, exc: BaseException | None) -> None:
        if exc is not None:
            with self._lock:
                self._errors.append(exc)

    def _has_route(self, path: str) -> bool:
        with self._lock:
            return _route_key(path) in self._routes

    def _by_hash_answer(self, body: bytes) -> Response:
        """CivitAI's POST by-hash/ids: a JSON list of up to 10,000 SHA256 strings in, the
        known ones out as [{modelVersionId, modelId, hash}] (hash upper-case)."""
        try:
            asked = json.loads(body)
        except ValueError:
            return Response(400, {"error": "Invalid JSON"})
        if not (isinstance(asked, list) and all(isinstance(h, str) for h in asked)):
            return Response(400, {"error": "Expected an array of hashes"})
        if len(asked) > BY_HASH_LIMIT:
            return Response(400, {"error": f"Too many hashes (max {BY_HASH_LIMIT})"})
        with self._lock:
            known = dict(self._hashes)
        found = []
        for sha in asked:
            if sha.upper() in known:
                vid, mid = known[sha.upper()]
                found.append({"modelVersionId": vid, "modelId": mid, "hash": sha.upper()})
        return Response(200, found)

    def add_hash(self, sha256: str, version_id: int, model_id: int) -> None:
        """Make POST by-hash/ids answer this SHA256 as this version (case-insensitive)."""
        with self._lock:
            self._hashes[sha256.upper()] = (int(version_id), int(model_id))

    def _next_response(self, path: str) -> Response:
        key = _route_key(path)
        with self._lock:
            route = self._routes.get(key)
            if route is not None:
                return route.next()
        return Response(404, NOT_FOUND)

    def _random_extra(self) -> float:
        bounds = self.random_delay
        if not bounds:
            return 0.0
        lo, hi = bounds
        return self._rng.uniform(float(lo), float(hi))

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless stopping; True when the server is stopping."""
        if seconds > 0:
            return self._closing.wait(seconds)
        return self._closing.is_set()


# --------------------------------------------------------------------------- standalone


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.fake_civitai",
        description="Serve the CivitAI fixtures on 127.0.0.1 (prints the URL, then serves).",
    )
    parser.add_argument("--port", type=int, default=0, help="TCP port (default 0: any free)")
    parser.add_argument(
        "--fixtures", type=Path, default=None, help=f"fixture folder (default {FIXTURES_DIR})"
    )
    args = parser.parse_args(list(argv) if argv is not None else None)

    stop = threading.Event()

    def _on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)

    with FakeCivitai(port=args.port) as fake:
        fake.add_fixtures(args.fixtures)
        sys.stdout.write(fake.url + "\n")
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
