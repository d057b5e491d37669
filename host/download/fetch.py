"""One file from CivitAI's download endpoint into its partial file, resuming and retrying.

- The first request goes to `<civitai_url>/api/download/models/<vid>?fileId=<id>` with the API
  key as `Authorization: Bearer` when the key may travel there (HTTPS, or plain HTTP to this
  machine). Redirects are followed here, hop by hop, and no later hop ever gets the key: a
  signed storage URL breaks with it, and it would leak. Every start and resume asks CivitAI
  for a fresh redirect (signed URLs expire).
- A non-browser User-Agent: with a browser's, CivitAI answers errors with HTML pages.
- Resume: `Range: bytes=<partial size>-`; a 206 whose Content-Range starts there continues,
  anything else (a 200, another start) starts again from zero.
- Retries: a connection lost after some bytes resumes at once; failures that bring nothing
  back off (BACKOFF_S) until MAX_IDLE_FAILURES in a row; 429 and 503 honour Retry-After.
- A body that is an HTML page or a JSON document (by Content-Type or by its first bytes) is
  never written: `not_a_model_file`.
"""

from __future__ import annotations

import errno
import http.client
import os
import shutil
import stat
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3

from host import __version__
from host.civitai.http_rules import key_may_travel, quotes_secret, retry_after
from host.download import failures
from host.download.sink import Sink
from host.jobs.control import JobControl, JobFailed
from host.regularfile import NotRegularFileError

CONNECT_TIMEOUT_S = 10.0
# A stalled transfer is given up (and resumed) after this long without a byte.
READ_TIMEOUT_S = 30.0
MAX_REDIRECTS = 5
BACKOFF_S = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
MAX_IDLE_FAILURES = len(BACKOFF_S)
MAX_RATE_LIMITED = 4
RATE_LIMIT_WAIT_S = (30.0, 60.0, 120.0)
MAX_RETRY_AFTER_S = 600.0
# Room left on the disk beyond the file itself (file system metadata, other writers).
FREE_SPACE_MARGIN = 16 * 1024 * 1024
PROGRESS_EVERY_S = 0.25
USER_AGENT = f"catalog-host/{__version__} (model downloader)"
# What a dropped, reset or stalled connection raises while reading the body.
_LOST = (ConnectionError, TimeoutError, http.client.HTTPException)
REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MARKUP_STARTS = (b"<!doctype", b"<html", b"<?xml", b"<head", b"<body", b"<!--")
# JSON bodies bigger than this are not sniffed (no model file is a JSON document that small).
_SNIFF_JSON_BYTES = 1024 * 1024


def delete_partial(part: str) -> None:
    """Delete the partial file: only a regular file, never what someone else put there."""
    try:
        if stat.S_ISREG(os.lstat(part).st_mode):
            os.unlink(part)
    except FileNotFoundError:
        pass


class _Retry(Exception):
    """This attempt failed in a way a later one may not: wait `wait` (None = back off)."""

    def __init__(self, reason: str, wait: float | None = None, rate_limited: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait = wait
        self.rate_limited = rate_limited


def _no_auth(request: Any) -> Any:
    """Passed as `auth` so requests never adds credentials from ~/.netrc to any hop."""
    return request


def _json_error(body: bytes) -> dict[str, Any]:
    import json

    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def _looks_like_page(content_type: str, first: bytes, total: int | None) -> str | None:
    """What the body is ("a web page", "a JSON document") when it is not a model file."""
    ctype = content_type.split(";")[0].strip().lower()
    if ctype in ("text/html", "application/xhtml+xml"):
        return "a web page"
    if ctype == "application/json" or ctype.endswith("+json"):
        return "a JSON document"
    head = first[:1024].lstrip().lower()
    if head.startswith(_MARKUP_STARTS):
        return "a web page"
    small = total is None or total <= _SNIFF_JSON_BYTES
    if small and (head[:1] == b"[" or (head[:1] == b"{" and _json_error(first))):
        return "a JSON document"
    return None


def parse_content_range(value: str | None) -> tuple[int | None, int | None]:
    """(start, total) from `bytes START-END/TOTAL` or `bytes */TOTAL`."""
    if not value or not value.startswith("bytes "):
        return None, None
    spec, _, total_text = value[6:].partition("/")
    total = int(total_text) if total_text.strip().isdigit() else None
    first = spec.split("-")[0].strip()
    return (int(first) if first.isdigit() else None), total


def _body_reader(response: requests.Response) -> Callable[[bytearray], int]:
    """`read_into(buffer) -> count` (0 at the end) for the response body. An undecoded body
    is read straight from the http.client response into the caller's buffer (one copy less
    than urllib3's read, and no new bytes object per chunk); otherwise through urllib3."""
    raw = response.raw
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    direct = getattr(raw, "_fp", None)
    if encoding in ("", "identity") and isinstance(direct, http.client.HTTPResponse):
        return direct.readinto

    def read_into(buffer: bytearray) -> int:
        data = raw.read(len(buffer), decode_content=False) or b""
        buffer[: len(data)] = data
        return len(data)

    return read_into


class Fetch:
    """Fetches one version file into `part`; `run()` returns (size, sha256 hex)."""

    def __init__(self, control: JobControl, url: str, part: str, api_key: str | None) -> None:
        self.control = control
        self.url = url
        self.part = part
        self.api_key = api_key
        self.session = requests.Session()
        self.resumed = False
        self._rate = 0.0
        self._rate_mark: tuple[float, int] = (time.monotonic(), 0)

    # -- HTTP -------------------------------------------------------------------------------

    def _headers(self, start: int, first_hop: bool) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT, "Accept": "*/*", "Accept-Encoding": "identity"}
        if start:
            headers["Range"] = f"bytes={start}-"
        if first_hop and self.api_key and key_may_travel(self.url):
            if not (self.api_key.isascii() and self.api_key.isprintable()):
                raise JobFailed(
                    "login_required",
                    "The CivitAI API key holds characters an HTTP header cannot carry; copy it "
                    "again into civitai_api_key (config.json) or CIVITAI_API_KEY.",
                )
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def _open(self, start: int) -> requests.Response:
        url = self.url
        for hop in range(MAX_REDIRECTS + 1):
            try:
                response = self.session.get(
                    url,
                    headers=self._headers(start, hop == 0),
                    stream=True,
                    allow_redirects=False,
                    timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S),
                    auth=_no_auth,
                )
            except requests.RequestException as exc:
                raise _Retry(f"cannot connect: {type(exc).__name__}") from exc
            if response.status_code not in REDIRECTS:
                return response
            location = response.headers.get("Location")
            response.close()
            if not location:
                raise _Retry(f"HTTP {response.status_code} without a Location")
            url = urljoin(url, location)
            if urlsplit(url).scheme not in ("http", "https"):
                raise failures.no_access(response.status_code, "redirected to a non-HTTP address")
        raise _Retry("too many redirects")

    def _small_body(self, response: requests.Response) -> bytes:
        try:
            return bytes(response.raw.read(64 * 1024, decode_content=True) or b"")
        except (OSError, urllib3.exceptions.HTTPError, requests.RequestException):
            return b""

    def _detail(self, text: object) -> str:
        """CivitAI's error text for a message: short, and withheld when it quotes any 8
        characters in a row of the API key (a server echoing the token it refused)."""
        message = str(text or "")[:200]
        if quotes_secret(message, self.api_key):
            return "CivitAI's message is not shown: it quotes the API key"
        return message

    def _refuse(self, response: requests.Response) -> None:
        """Raise what an error status means (JobFailed at once, _Retry to try again)."""
        status = response.status_code
        body = self._small_body(response)
        wait = retry_after(response.headers.get("Retry-After"))
        if status == 401:
            raise failures.login_required(bool(self.api_key))
        if status == 403:
            data = _json_error(body)
            error = self._detail(data.get("error"))
            if "deadline" in data or "early access" in error.lower():
                deadline = self._detail(data.get("deadline"))[:64]
                raise failures.early_access(deadline or None)
            raise failures.no_access(403, error)
        if status in (404, 410):
            raise failures.gone(status)
        if status == 429:
            raise _Retry("HTTP 429", wait, rate_limited=True)
        if status >= 500 or status == 408:
            raise _Retry(f"HTTP {status}", wait)
        raise failures.no_access(status, self._detail(_json_error(body).get("error")))

    # -- progress ---------------------------------------------------------------------------

    def _report(self, written: int, total: int | None) -> None:
        """Every chunk's count goes to the job (a stall must not hide the last ones); the
        rate is recomputed every PROGRESS_EVERY_S."""
        now = time.monotonic()
        mark_time, mark_bytes = self._rate_mark
        if now - mark_time >= PROGRESS_EVERY_S:
            if written >= mark_bytes:
                instant = (written - mark_bytes) / (now - mark_time)
                self._rate = instant if self._rate == 0 else 0.6 * self._rate + 0.4 * instant
            self._rate_mark = (now, written)
        self.control.update(state="downloading", bytes=written, total=total, rate=int(self._rate))

    # -- the transfer -----------------------------------------------------------------------

    def _partial_size(self) -> int:
        """The size of the partial file; 0 when there is none or something else is there."""
        try:
            status = os.lstat(self.part)
        except OSError:
            return 0
        return status.st_size if stat.S_ISREG(status.st_mode) else 0

    def _refuse_odd_partial(self) -> None:
        """A symbolic link, FIFO or folder at the partial file's name is not ours: never
        written through, waited on or deleted; the person removes it."""
        try:
            status = os.lstat(self.part)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise failures.write_failed(self.part, exc.strerror or str(exc)) from exc
        if not stat.S_ISREG(status.st_mode):
            raise failures.partial_not_a_file(self.part)

    def _delete_partial(self) -> None:
        delete_partial(self.part)

    def _check_space(self, needed: int) -> None:
        folder = os.path.dirname(self.part)
        try:
            free = shutil.disk_usage(folder).free
        except OSError:
            return
        if needed + FREE_SPACE_MARGIN > free:
            self._delete_partial()
            raise failures.disk_full(folder, needed, free)

    def attempt(self) -> tuple[int, str] | None:
        """One request: (size, sha256) when the file is complete, None to go again at once
        (the server restarted us from zero). Raises _Retry or JobFailed."""
        start = self._partial_size()
        response = self._open(start)
        with response:
            status = response.status_code
            if status == 416 and start:
                _, total = parse_content_range(response.headers.get("Content-Range"))
                if total == start:  # the partial file is already complete: hash it
                    try:
                        return start, Sink(self.part, start).finish()
                    except OSError as exc:
                        raise self._write_error(exc) from exc
                self._delete_partial()
                return None
            if status not in (200, 206):
                self._refuse(response)
            if status == 206:
                first_byte, total = parse_content_range(response.headers.get("Content-Range"))
                if first_byte != start:  # not the part we asked for: start over
                    self._delete_partial()
                    return None
            else:
                start = 0
                length = response.headers.get("Content-Length", "")
                total = int(length) if length.isdigit() else None
            if start:
                self.resumed = True
            return self._stream(response, start, total)

    def _stream(self, response: requests.Response, start: int, total: int | None) -> tuple[int, str]:
        read_into = _body_reader(response)
        first_buffer = bytearray(_SNIFF_JSON_BYTES)  # all of a small JSON body, to recognise it
        try:
            first = bytes(memoryview(first_buffer)[: read_into(first_buffer)])
        except (OSError, urllib3.exceptions.HTTPError, http.client.HTTPException) as exc:
            raise _Retry(f"connection lost: {type(exc).__name__}") from exc
        del first_buffer
        what = _looks_like_page(response.headers.get("Content-Type", ""), first, total)
        if what:
            self._delete_partial()  # nothing of such an answer is kept, nor what came before
            raise failures.not_a_model_file(what)
        if total is not None:
            self._check_space(total - start)
        try:
            sink = Sink(self.part, start)
        except NotRegularFileError as exc:
            raise failures.partial_not_a_file(self.part) from exc
        except OSError as exc:
            raise self._write_error(exc) from exc
        try:
            sink.write(first)
            while first:
                self._report(sink.written, total)
                self.control.check_canceled()
                buffer = sink.take_buffer()
                length = read_into(buffer)
                if not length:
                    sink.give_back(buffer)
                    break
                sink.write_buffer(buffer, length)
        except (urllib3.exceptions.HTTPError, requests.RequestException, *_LOST) as exc:
            sink.abort()
            raise _Retry(f"connection lost: {type(exc).__name__}") from exc
        except OSError as exc:
            sink.abort()
            raise self._write_error(exc) from exc
        except BaseException:
            sink.abort()
            raise
        written = sink.written
        if total is not None and written != total:
            sink.abort()
            raise _Retry(f"the connection ended at byte {written:,} of {total:,}")
        self.control.update(state="verifying", bytes=written, total=written, rate=0)
        try:
            return written, sink.finish()
        except OSError as exc:
            raise self._write_error(exc) from exc

    def _write_error(self, exc: OSError) -> JobFailed:
        if isinstance(exc, NotRegularFileError):
            return failures.partial_not_a_file(self.part)
        if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            self._delete_partial()
            folder = os.path.dirname(self.part)
            try:
                free: int | None = shutil.disk_usage(folder).free
            except OSError:
                free = None
            return failures.disk_full(folder, None, free)
        return failures.write_failed(self.part, exc.strerror or str(exc))

    def run(self) -> tuple[int, str]:
        """Fetch until the file is complete (or JobFailed); the session is closed at the end."""
        try:
            return self._run()
        finally:
            self.session.close()

    def _run(self) -> tuple[int, str]:
        idle_failures = 0
        rate_limited = 0
        while True:
            self.control.check_canceled()
            self._refuse_odd_partial()
            before = self._partial_size()
            try:
                done = self.attempt()
            except _Retry as retry:
                progressed = self._partial_size() > before
                if retry.rate_limited:
                    rate_limited += 1
                    if rate_limited >= MAX_RATE_LIMITED:
                        raise failures.rate_limited() from retry
                    wait = retry.wait
                    if wait is None:
                        wait = RATE_LIMIT_WAIT_S[min(rate_limited - 1, len(RATE_LIMIT_WAIT_S) - 1)]
                elif progressed:
                    idle_failures = 0
                    wait = 0.0
                else:
                    idle_failures += 1
                    if idle_failures >= MAX_IDLE_FAILURES:
                        raise failures.network(retry.reason) from retry
                    wait = retry.wait if retry.wait is not None else BACKOFF_S[idle_failures - 1]
                if wait > MAX_RETRY_AFTER_S:
                    if retry.rate_limited:
                        raise failures.rate_limited() from retry
                    raise failures.network(f"{retry.reason}, asked to wait {wait:.0f} s") from retry
                self._note_wait(retry.reason, wait)
                self.control.wait_or_cancel(wait)
                continue
            if done is not None:
                return done
            idle_failures += 1  # restarted from zero; bounded like any failure
            if idle_failures >= MAX_IDLE_FAILURES:
                raise failures.network("the server never resumed the download where it stopped")

    def _note_wait(self, reason: str, wait: float) -> None:
        from host.log import get_logger

        get_logger().info("download %s: %s; trying again in %.1f s", self.url.split("?")[0], reason, wait)
        self.control.update(rate=0)
