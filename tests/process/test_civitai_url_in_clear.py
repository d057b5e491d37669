"""Issue 11 F, as reported: `civitai_url = http://127.0.0.2:PORT\\@127.0.0.1` looked like
127.0.0.1 to the host's check while requests connected to 127.0.0.2 and sent the key in clear.
A real host subprocess; a listener on 127.0.0.2 (loopback) records whatever reaches it."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.frames import frame, unframe_all

STUB_ORIGIN = "chrome-extension://jpiddlinckgdlidmojineffgcdpfoacg/"
KEY = "clear-text-key-7c7c7c7c7c7c"


class Listener:
    """Accepts connections on 127.0.0.2, keeps what arrives, answers 404."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.2", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.received: list[bytes] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(5)
                try:
                    self.received.append(conn.recv(65536))
                    conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                except OSError:
                    pass

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    try:
        server = Listener()
    except OSError as exc:  # pragma: no cover - every Linux routes 127/8 to lo
        pytest.fail(f"cannot listen on 127.0.0.2: {exc}")
    yield server
    server.stop()


def test_a_url_that_parsers_read_differently_never_carries_the_key(host_env: Any, listener: Listener) -> None:
    host_env.env["CATALOG_HOST_CIVITAI_URL"] = f"http://127.0.0.2:{listener.port}\\@127.0.0.1"
    host_env.env["CIVITAI_API_KEY"] = KEY
    proc = subprocess.run(
        [sys.executable, "-m", "host", STUB_ORIGIN], input=frame({"op": "add", "id": 1, "version_id": 148210}),
        capture_output=True, env=host_env.env, timeout=60, cwd=host_env.root,
    )
    (reply,) = unframe_all(proc.stdout)
    assert listener.received == [], "the request went to 127.0.0.2"
    assert reply["ok"] is False and reply["error"]["code"] == "config_invalid", reply
    assert "civitai_url" in reply["error"]["message"]
