"""Fake https://civitai.com pages for Firefox: a proxy on 127.0.0.1 that Firefox sends every
http(s) request to.

Firefox has no request interception through Marionette, so the profile's proxy settings point
at this server. A CONNECT to civitai.com:443 is answered by terminating TLS here with a
throw-away self-signed certificate (made by `openssl` for the session; the Marionette session
accepts insecure certificates) and serving the page registered for the path from a `FakeSite`.
Anything else is refused and recorded: a test can never reach the network.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import subprocess
import threading
from pathlib import Path

from tests.browser.fake_site import FakeSite

READ_LIMIT = 64 * 1024
IO_TIMEOUT_S = 10.0


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for civitai.com (valid a day), and its key."""
    cert, key = folder / "civitai.pem", folder / "civitai.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=civitai.com", "-addext", "subjectAltName=DNS:civitai.com",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


def _read_head(conn: socket.socket | ssl.SSLSocket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
        if len(data) > READ_LIMIT:
            break
    return data


def _request_line(head: bytes) -> tuple[str, str]:
    """(method, target) of an HTTP request head; empty strings when it has none."""
    words = head.decode("latin-1").split("\r\n", 1)[0].split(" ")
    return (words[0], words[1]) if len(words) >= 2 else ("", "")


class CivitaiProxy:
    def __init__(self, site: FakeSite, cert: Path, key: Path) -> None:
        self.site = site
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.context.set_alpn_protocols(["http/1.1"])
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.refused: list[str] = []
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="civitai-proxy", daemon=True)
        self._thread.start()

    @property
    def prefs(self) -> dict[str, object]:
        """Firefox prefs sending all http(s) traffic here."""
        return {
            "network.proxy.type": 1,
            "network.proxy.http": "127.0.0.1",
            "network.proxy.http_port": self.port,
            "network.proxy.ssl": "127.0.0.1",
            "network.proxy.ssl_port": self.port,
            "network.proxy.no_proxies_on": "",
            "network.proxy.allow_hijacking_localhost": True,
        }

    def _accept(self) -> None:
        self.server.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _addr = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _refuse(self, conn: socket.socket | ssl.SSLSocket, what: str) -> None:
        with self._lock:
            self.refused.append(what)
        with contextlib.suppress(OSError):
            conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(IO_TIMEOUT_S)
        try:
            with conn:
                method, target = _request_line(_read_head(conn))
                if method != "CONNECT" or target != "civitai.com:443":
                    self._refuse(conn, f"{method} {target}")
                    return
                conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                with self.context.wrap_socket(conn, server_side=True) as tls:
                    self._serve_page(tls)
        except (OSError, ssl.SSLError):
            pass  # the browser dropped a speculative connection
        except BaseException as exc:  # reported by the session's teardown
            self.errors.append(exc)

    def _serve_page(self, tls: ssl.SSLSocket) -> None:
        method, target = _request_line(_read_head(tls))
        path = target.split("?", 1)[0]
        with self.site._lock:
            self.site.requests.append(f"https://civitai.com{target}")
            page = self.site.pages.get(path) if method == "GET" else None
            if page is None:
                self.site.blocked.append(f"https://civitai.com{target}")
        if page is None:
            tls.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        body = page.encode("utf-8")
        tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                    b"Cache-Control: no-store\r\nConnection: close\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode("ascii") + body)

    def close(self) -> None:
        self._stop.set()
        self.server.close()
        self._thread.join(timeout=5)
