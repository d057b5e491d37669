"""A small stdlib client for Firefox's own remote protocol (Marionette), and the Firefox process.

No geckodriver: Firefox started with `--marionette` listens on 127.0.0.1 (port 0 in user.js: a
free port, written to `<profile>/MarionetteActivePort`). Wire format: every packet is
`<length>:<json>`; the server greets first; a command is `[0, id, "Name", {params}]` and its
reply `[1, id, error | null, result]`. Every wait is bounded; `Firefox.close()` quits through
Marionette, then kills the process group it started (by its id) if Firefox lingers.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any


class MarionetteError(RuntimeError):
    """A command failed, the connection broke, or Firefox did not come up in time."""


class Marionette:
    """One connection, one command at a time."""

    def __init__(self, port: int, timeout: float = 30.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.timeout = timeout
        self.buffer = b""
        self.next_id = 1
        self.greeting = self._read_packet(timeout)

    def _read_packet(self, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            head, sep, rest = self.buffer.partition(b":")
            if sep:
                if not head.isdigit():
                    raise MarionetteError(f"bad packet header {head[:20]!r}")
                size = int(head)
                if len(rest) >= size:
                    self.buffer = rest[size:]
                    return json.loads(rest[:size])
            left = deadline - time.monotonic()
            if left <= 0:
                raise MarionetteError(f"no answer from Marionette within {timeout:g} s")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError as exc:
                raise MarionetteError(f"no answer from Marionette within {timeout:g} s") from exc
            if not chunk:
                raise MarionetteError("Marionette closed the connection")
            self.buffer += chunk

    def command(self, name: str, params: Mapping[str, Any] | None = None,
                timeout: float | None = None) -> Any:
        msg_id = self.next_id
        self.next_id += 1
        body = json.dumps([0, msg_id, name, dict(params or {})]).encode("utf-8")
        self.sock.sendall(str(len(body)).encode("ascii") + b":" + body)
        while True:
            packet = self._read_packet(timeout or self.timeout)
            if isinstance(packet, list) and len(packet) == 4 and packet[0] == 1 and packet[1] == msg_id:
                break
        _kind, _id, error, result = packet
        if error:
            raise MarionetteError(f"{name}: {error.get('error')}: {error.get('message')}")
        return result

    def execute(self, script: str, args: list[Any] | None = None, sandbox: str | None = None,
                timeout: float | None = None) -> Any:
        """Run `script` (the body of an async function: `await` works, `return` gives the value,
        `arguments` are `args`) in the current page; `sandbox="system"` runs it with system
        rights (closed shadow roots)."""
        # An arrow function sees the outer function's `arguments`; its Promise is awaited.
        wrapped = f"return (async () => {{\n{script}\n}})();"
        params: dict[str, Any] = {"script": wrapped, "args": args or []}
        if sandbox:
            params["sandbox"] = sandbox
        result = self.command("WebDriver:ExecuteScript", params, timeout)
        return result.get("value") if isinstance(result, dict) else result

    def navigate(self, url: str) -> None:
        self.command("WebDriver:Navigate", {"url": url})

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


PREFS: dict[str, Any] = {
    "marionette.port": 0,  # a free port, written to <profile>/MarionetteActivePort
    # Nothing may reach the network: no updates, telemetry, remote settings, captive-portal or
    # connectivity probes, safe-browsing lists, add-on metadata, prefetching.
    "app.update.enabled": False,
    "app.update.auto": False,
    "app.normandy.enabled": False,
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.aboutwelcome.enabled": False,
    "browser.newtabpage.enabled": False,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "browser.safebrowsing.downloads.enabled": False,
    "browser.safebrowsing.blockedURIs.enabled": False,
    "browser.region.network.url": "",
    "browser.search.geoip.url": "",
    "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.healthreport.uploadEnabled": False,
    "toolkit.telemetry.enabled": False,
    "toolkit.telemetry.server": "",
    "extensions.update.enabled": False,
    "extensions.getAddons.cache.enabled": False,
    "extensions.blocklist.enabled": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "network.dns.disablePrefetch": True,
    "network.prefetch-next": False,
    "services.settings.server": "http://127.0.0.1:9/",
    "media.gmp-manager.url": "",
    "geo.provider.network.url": "",
    "dom.push.connection.enabled": False,
}


def user_js(prefs: Mapping[str, Any]) -> str:
    return "".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in prefs.items())


class Firefox:
    """A headless Firefox on a fresh profile, driven through Marionette."""

    def __init__(self, binary: str, profile: Path, env: Mapping[str, str], log: Path,
                 prefs: Mapping[str, Any], start_timeout: float = 60.0) -> None:
        profile.mkdir(parents=True, exist_ok=True)
        (profile / "user.js").write_text(user_js({**PREFS, **prefs}), encoding="utf-8")
        port_file = profile / "MarionetteActivePort"
        port_file.unlink(missing_ok=True)
        self.log = log
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                [binary, "--headless", "--marionette", "--remote-allow-system-access",
                 "--no-remote", "--profile", str(profile), "about:blank"],
                env=dict(env), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: content processes and hosts
            )
        self.client: Marionette | None = None
        try:
            port = self._wait_port(port_file, start_timeout)
            self.client = Marionette(port)
            # Marionette takes the capabilities flat (no W3C alwaysMatch wrapper).
            self.session = self.client.command("WebDriver:NewSession", {"acceptInsecureCerts": True})
        except BaseException:
            self.close()
            raise

    def _wait_port(self, port_file: Path, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise MarionetteError(f"Firefox exited with {self.process.returncode}:\n{self.log_tail()}")
            text = port_file.read_text().strip() if port_file.exists() else ""
            if text.isdigit():
                try:  # the file can appear a moment before the server accepts
                    socket.create_connection(("127.0.0.1", int(text)), timeout=1).close()
                    return int(text)
                except OSError:
                    pass
            time.sleep(0.05)
        raise MarionetteError(f"Marionette did not start within {timeout:g} s:\n{self.log_tail()}")

    def log_tail(self, limit: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-limit:]
        except OSError:
            return ""

    @property
    def marionette(self) -> Marionette:
        assert self.client is not None, "Firefox is not running"
        return self.client

    def install_addon(self, path: Path) -> str:
        result = self.marionette.command("Addon:Install", {"path": str(path), "temporary": True})
        return str(result.get("value") if isinstance(result, dict) else result)

    def close(self, timeout: float = 15.0) -> None:
        """Quit through Marionette; then kill the process group we started, by its id."""
        if self.client is not None:
            with contextlib.suppress(MarionetteError, OSError):
                self.client.command("Marionette:Quit", {"flags": ["eForceQuit"]}, timeout=timeout)
            self.client.close()
            self.client = None
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)  # leftovers: content processes, hosts
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=timeout)
