"""A small Chrome DevTools Protocol client over `--remote-debugging-pipe` (stdlib only).

Chromium reads NUL-terminated JSON commands on fd 3 and writes replies and events on fd 4; no
port is opened. One reader thread splits the stream, resolves waiting commands by id and
queues events, and may hand `Fetch.requestPaused` events to a handler (which must not wait
for replies: it runs on the reader thread, so it uses `send_nowait`). Every wait is bounded.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

DEFAULT_TIMEOUT = 10.0


class CDPError(Exception):
    """A CDP command answered with an error, or the browser went away."""


class CDPTimeout(CDPError):
    """A command or a wait did not complete in time."""


class _Waiter:
    __slots__ = ("event", "reply")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.reply: dict[str, Any] | None = None


class Browser:
    """One Chromium process driven over the debugging pipe."""

    def __init__(
        self,
        binary: str,
        args: Iterable[str],
        env: dict[str, str],
        stderr_path: Path,
    ) -> None:
        # Chromium reads commands on fd 3 and writes on fd 4 of its own process.
        cmd_read, self._cmd_write = os.pipe()  # we write commands, it reads (fd 3)
        self._evt_read, evt_write = os.pipe()  # it writes, we read (fd 4)
        # Keep the child's ends above 4 so the dup2 in the child cannot clobber them.
        child_in = fcntl_dup_above(cmd_read, 10)
        child_out = fcntl_dup_above(evt_write, 10)
        os.close(cmd_read)
        os.close(evt_write)

        def wire_pipe() -> None:  # runs in the child, between fork and exec
            os.dup2(child_in, 3)
            os.dup2(child_out, 4)

        self._stderr = open(stderr_path, "wb")  # noqa: SIM115 - closed in close()
        self.process = subprocess.Popen(
            [binary, "--remote-debugging-pipe", *args],
            stdin=subprocess.DEVNULL,
            stdout=self._stderr,
            stderr=self._stderr,
            env=env,
            preexec_fn=wire_pipe,  # only dup2 calls: safe between fork and exec
            pass_fds=(3, 4),
            close_fds=True,
        )
        os.close(child_in)
        os.close(child_out)
        self._ids = itertools.count(1)
        self._waiters: dict[int, _Waiter] = {}
        self._events: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self._send_lock = threading.Lock()
        self._closed = False
        self.fetch_handler: Callable[[Browser, dict[str, Any]], None] | None = None
        self.handler_errors: list[BaseException] = []
        self._reader = threading.Thread(target=self._read_loop, name="cdp-reader", daemon=True)
        self._reader.start()

    # --- transport ----------------------------------------------------------------------------

    def _read_loop(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = os.read(self._evt_read, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                break
            buffer += chunk
            while True:
                end = buffer.find(b"\0")
                if end < 0:
                    break
                raw, buffer = buffer[:end], buffer[end + 1 :]
                self._dispatch(json.loads(raw))
        with self._cond:
            self._closed = True
            for waiter in self._waiters.values():
                waiter.event.set()
            self._cond.notify_all()

    def _dispatch(self, message: dict[str, Any]) -> None:
        if "id" in message:
            with self._cond:
                waiter = self._waiters.pop(message["id"], None)
            if waiter is not None:
                waiter.reply = message
                waiter.event.set()
            return
        if message.get("method") == "Fetch.requestPaused" and self.fetch_handler is not None:
            try:
                self.fetch_handler(self, message)
            except BaseException as exc:  # keep the reader alive; the test sees it later
                self.handler_errors.append(exc)
            return
        with self._cond:
            self._events.append(message)
            self._cond.notify_all()

    def _write(self, message: dict[str, Any]) -> None:
        data = json.dumps(message).encode() + b"\0"
        with self._send_lock:
            view = memoryview(data)
            while view:
                written = os.write(self._cmd_write, view)
                view = view[written:]

    def send_nowait(
        self, method: str, params: dict[str, Any] | None = None, session_id: str | None = None
    ) -> None:
        message: dict[str, Any] = {"id": next(self._ids), "method": method, "params": params or {}}
        if session_id:
            message["sessionId"] = session_id
        self._write(message)

    def send(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session_id: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> dict[str, Any]:
        message_id = next(self._ids)
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params or {}}
        if session_id:
            message["sessionId"] = session_id
        waiter = _Waiter()
        with self._cond:
            if self._closed:
                raise CDPError(f"{method}: the browser has gone away")
            self._waiters[message_id] = waiter
        self._write(message)
        if not waiter.event.wait(timeout):
            with self._cond:
                self._waiters.pop(message_id, None)
            raise CDPTimeout(f"{method}: no answer within {timeout} s")
        reply = waiter.reply
        if reply is None:
            raise CDPError(f"{method}: the browser has gone away")
        if "error" in reply:
            raise CDPError(f"{method}: {reply['error']}")
        result: dict[str, Any] = reply.get("result", {})
        return result

    # --- events -----------------------------------------------------------------------------

    def wait_event(
        self,
        method: str,
        predicate: Callable[[dict[str, Any]], bool] = lambda params: True,
        session_id: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> dict[str, Any]:
        """Wait for (and consume) the first queued or future event that matches."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for index, event in enumerate(self._events):
                    if (
                        event.get("method") == method
                        and (session_id is None or event.get("sessionId") == session_id)
                        and predicate(event.get("params", {}))
                    ):
                        del self._events[index]
                        params: dict[str, Any] = event.get("params", {})
                        return params
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    raise CDPTimeout(f"no {method} event within {timeout} s")
                self._cond.wait(remaining)

    def events(self, method: str, session_id: str | None = None) -> list[dict[str, Any]]:
        """The queued events of one kind (not consumed)."""
        with self._cond:
            return [
                e.get("params", {})
                for e in self._events
                if e.get("method") == method and (session_id is None or e.get("sessionId") == session_id)
            ]

    def drop_events(self, session_id: str) -> None:
        with self._cond:
            self._events = [e for e in self._events if e.get("sessionId") != session_id]

    # --- targets ----------------------------------------------------------------------------

    def wait_target(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = DEFAULT_TIMEOUT
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for info in self.send("Target.getTargets")["targetInfos"]:
                if predicate(info):
                    return info
            if time.monotonic() > deadline:
                raise CDPTimeout(f"no matching target within {timeout} s")
            time.sleep(0.05)

    def attach(self, target_id: str) -> Session:
        result = self.send("Target.attachToTarget", {"targetId": target_id, "flatten": True})
        return Session(self, result["sessionId"], target_id)

    def new_page(self, url: str = "about:blank") -> Session:
        target_id = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.attach(target_id)
        session.send("Page.enable")
        session.send("Runtime.enable")
        if url != "about:blank":
            session.navigate(url)
        return session

    # --- shutdown ---------------------------------------------------------------------------

    def close(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(CDPError, OSError):
                self.send("Browser.close", timeout=timeout / 2)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        with contextlib.suppress(OSError):
            os.close(self._cmd_write)
        self._reader.join(timeout)
        with contextlib.suppress(OSError):
            os.close(self._evt_read)
        self._stderr.close()


class Session:
    """A flattened CDP session attached to one target (a page, a service worker)."""

    def __init__(self, browser: Browser, session_id: str, target_id: str) -> None:
        self.browser = browser
        self.session_id = session_id
        self.target_id = target_id

    def send(
        self, method: str, params: dict[str, Any] | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> dict[str, Any]:
        return self.browser.send(method, params, session_id=self.session_id, timeout=timeout)

    def wait_event(
        self,
        method: str,
        predicate: Callable[[dict[str, Any]], bool] = lambda params: True,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> dict[str, Any]:
        return self.browser.wait_event(method, predicate, session_id=self.session_id, timeout=timeout)

    def evaluate(
        self, expression: str, context_id: int | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> Any:
        """Evaluate JS (awaiting a promise) and return its value as a Python object."""
        params: dict[str, Any] = {
            "expression": expression,
            "awaitPromise": True,
            "returnByValue": True,
            "timeout": int(timeout * 1000),
        }
        if context_id is not None:
            params["contextId"] = context_id
        result = self.send("Runtime.evaluate", params, timeout=timeout + 2)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise CDPError(f"JS exception: {text}")
        return result["result"].get("value")

    def wait_for(
        self,
        expression: str,
        context_id: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        interval: float = 0.05,
        what: str | None = None,
    ) -> Any:
        """Poll `expression` until it is truthy; return its value."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while True:
            try:
                last = self.evaluate(expression, context_id=context_id, timeout=max(1.0, timeout))
            except CDPError as exc:
                last = exc
            if last and not isinstance(last, Exception):
                return last
            if time.monotonic() > deadline:
                raise CDPTimeout(
                    f"timed out after {timeout} s waiting for {what or expression!r}; last: {last!r}"
                )
            time.sleep(interval)

    def navigate(self, url: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.browser.drop_events(self.session_id)
        result = self.send("Page.navigate", {"url": url}, timeout=timeout)
        if result.get("errorText"):
            raise CDPError(f"navigation to {url} failed: {result['errorText']}")
        self.wait_event("Page.loadEventFired", timeout=timeout)

    def screenshot(self, path: Path) -> Path:
        # A tab that is not in front gets no new frames, and the capture would wait forever.
        self.send("Page.bringToFront")
        data = self.send("Page.captureScreenshot", {"format": "png"}, timeout=20)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        with contextlib.suppress(CDPError):
            self.browser.send("Target.closeTarget", {"targetId": self.target_id})


def fcntl_dup_above(fd: int, minimum: int) -> int:
    """Duplicate `fd` to the lowest free descriptor >= minimum (non-inheritable)."""
    import fcntl

    return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, minimum)
