"""The CivitAI metadata client (API JSON; files are fetched by host.download.fetch, and both
follow the request rules in host.civitai.http_rules).

One GET per `add`, with a timeout on every call, the API key only in the Authorization
header to the configured CivitAI URL, retries for 429 and 5xx (honouring Retry-After) inside
a total time budget that keeps the extension responsive, a cap on the body size, and every
failure translated into a CivitaiError with a stable code.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import requests
import urllib3
from pydantic import ValidationError

from host import __version__, redaction
from host.civitai.http_rules import key_may_travel, quotes_secret, retry_after
from host.civitai.models import ModelVersion
from host.errors import (
    CivitaiBadResponseError,
    CivitaiHttpError,
    CivitaiNotFoundError,
    CivitaiUnreachableError,
    ConfigError,
)
from host.settings import civitai_url_problem

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 15.0
# Whole request, retries and waits included: the person is waiting on a click.
TOTAL_BUDGET_S = 25.0
MAX_ATTEMPTS = 4
BACKOFF_S = (0.5, 1.5, 3.0)
# Longest Retry-After we will honour; a longer one fails at once with the status.
MAX_RETRY_AFTER_S = 10.0
# A model-version payload is a few KiB to ~100 KiB; anything far larger is not one.
MAX_BODY_BYTES = 4 * 1024 * 1024
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# POST /api/v1/model-versions/by-hash/ids takes at most this many hashes per call.
BY_HASH_BATCH = 10_000
# A scan runs in the background: a big by-hash answer may take its time.
BY_HASH_BUDGET_S = 120.0


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _short_error(body: bytes, secret: str | None = None) -> str:
    """CivitAI's {"error": "..."} message, if the body is that; else empty.

    Withheld when it quotes any 8 characters in a row of the API key: a server that echoes
    the token it refused ("invalid token ...") must not put the key in a reply or the log.
    """
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        return ""
    if not (isinstance(data, dict) and isinstance(data.get("error"), str)):
        return ""
    message = str(data["error"])[:200]
    if quotes_secret(message, secret):
        return "(CivitAI's message is not shown: it quotes the API key)"
    return message


class CivitaiClient:
    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        redaction.use_secret(api_key)
        self._session = session or requests.Session()
        self._sleep = sleep
        self._clock = clock

    def _headers(self, url: str | None = None) -> dict[str, str]:
        """The request headers for `url` (default: the base URL)."""
        headers = {"Accept": "application/json", "User-Agent": f"catalog-host/{__version__}"}
        if self._api_key:
            # http.client sends headers as Latin-1 and requests refuses control characters:
            # such a key failed as an internal error or a misleading "unreachable"
            if not (self._api_key.isascii() and self._api_key.isprintable()):
                raise ConfigError(
                    "the CivitAI API key (civitai_api_key / CIVITAI_API_KEY) holds characters an "
                    "HTTP header cannot carry (non-ASCII or control characters); copy it again"
                )
            if key_may_travel(url or self.base_url):
                headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def _read_body(self, response: requests.Response, deadline: float) -> bytes:
        """The body, refusing one over MAX_BODY_BYTES or one still dripping at the deadline.

        read1 returns what one socket read brought, so the deadline is checked while a body
        drips in. iter_content(64 KiB) blocks until 64 KiB or the end has arrived: a server
        sending a byte every few seconds (each within the read timeout) held it for hours.
        """
        raw = response.raw
        if hasattr(raw, "read1"):  # urllib3 >= 2.3; it also bounds what one gzip chunk inflates to
            pieces: Iterator[bytes] = iter(lambda: raw.read1(64 * 1024, decode_content=True), b"")
        else:  # older urllib3: small chunks bound the wait, less tightly
            pieces = response.iter_content(chunk_size=1024)
        chunks: list[bytes] = []
        size = 0
        for chunk in pieces:
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise CivitaiBadResponseError(
                    f"CivitAI sent over {MAX_BODY_BYTES // (1024 * 1024)} MiB; not a model version"
                )
            if self._clock() > deadline:
                raise CivitaiUnreachableError("CivitAI answered too slowly (time budget exceeded)")
            chunks.append(chunk)
        return b"".join(chunks)

    def _get_once(
        self, url: str, deadline: float, body: bytes | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """One request: a GET, or a POST of a JSON `body`."""
        remaining = max(0.5, deadline - self._clock())
        headers = self._headers(url)
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            with self._session.request(
                "GET" if body is None else "POST",
                url,
                data=body,
                headers=headers,
                timeout=(min(CONNECT_TIMEOUT_S, remaining), min(READ_TIMEOUT_S, remaining)),
                stream=True,
                allow_redirects=False,
            ) as response:
                body = self._read_body(response, deadline)
                return response.status_code, dict(response.headers), body
        except (requests.Timeout, urllib3.exceptions.TimeoutError) as exc:
            raise CivitaiUnreachableError("CivitAI did not answer in time") from exc
        except urllib3.exceptions.DecodeError as exc:  # read1 raises urllib3's own errors
            raise CivitaiBadResponseError("CivitAI's answer could not be decoded") from exc
        except urllib3.exceptions.HTTPError as exc:  # a cut or reset connection
            raise CivitaiUnreachableError(f"the connection to CivitAI broke: {type(exc).__name__}") from exc
        except requests.ConnectionError as exc:
            raise CivitaiUnreachableError(f"cannot reach CivitAI at {self.base_url}") from exc
        except requests.RequestException as exc:
            raise CivitaiUnreachableError(f"request to CivitAI failed: {type(exc).__name__}") from exc

    def _get_bounded(
        self, url: str, deadline: float, body: bytes | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """_get_once with a hard wall-clock bound. Socket timeouts bound each read, not the
        whole exchange: a server sending its headers one byte at a time never trips them.
        The request runs in a daemon thread that is abandoned at the deadline."""
        import threading

        outcome: list[Any] = []

        def attempt() -> None:
            try:
                outcome.append(self._get_once(url, deadline, body))
            except BaseException as exc:  # handed to the caller below
                outcome.append(exc)

        worker = threading.Thread(target=attempt, name="civitai-get", daemon=True)
        worker.start()
        worker.join(max(1.0, deadline - self._clock()) + 1.0)
        if not outcome:
            raise CivitaiUnreachableError("CivitAI answered too slowly (time budget exceeded)")
        if isinstance(outcome[0], BaseException):
            raise outcome[0]
        result: tuple[int, dict[str, str], bytes] = outcome[0]
        return result

    def get_json(self, path: str, post: Any = None, budget_s: float | None = None) -> Any:
        """GET `path` (or POST `post` as JSON), retrying 429 / 5xx within the time budget;
        the decoded JSON body."""
        problem = civitai_url_problem(self.base_url)
        if problem:  # the settings refuse it too; a client may be made without them
            raise ConfigError(f"config key 'civitai_url' {problem}")
        url = self.base_url + path
        deadline = self._clock() + (TOTAL_BUDGET_S if budget_s is None else budget_s)
        sent = None if post is None else json.dumps(post).encode("utf-8")
        for attempt in range(MAX_ATTEMPTS):
            status, headers, body = self._get_bounded(url, deadline, sent)
            if status == 200:
                try:
                    data = json.loads(body)
                except (ValueError, RecursionError) as exc:  # RecursionError: absurd nesting
                    raise CivitaiBadResponseError(
                        "CivitAI answered 200 with a body that is not JSON"
                    ) from exc
                # Replies and logs are redacted on the way out, but an entry built from such an
                # answer would carry the key into models.json (a file name, a type, a name).
                if self._api_key and redaction.in_json(json.dumps(data, ensure_ascii=False)):
                    raise CivitaiBadResponseError(
                        "CivitAI's answer quotes your API key back; it was not used"
                    )
                return data
            if status == 404:
                detail = _short_error(body, self._api_key) or "not found"
                raise CivitaiNotFoundError(
                    f"CivitAI: {detail} (a version published minutes ago can be briefly missing;"
                    " try again later)",
                    status=404,
                )
            wait = None
            if status in RETRY_STATUSES and attempt + 1 < MAX_ATTEMPTS:
                wait = retry_after(headers.get("Retry-After"))
                wait = BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)] if wait is None else wait
                if wait > MAX_RETRY_AFTER_S or self._clock() + wait >= deadline:
                    wait = None
            if wait is None:
                detail = _short_error(body, self._api_key)
                raise CivitaiHttpError(
                    f"CivitAI answered HTTP {status}" + (f": {detail}" if detail else ""),
                    status=status,
                )
            self._sleep(wait)
        raise AssertionError("unreachable: the last attempt always returns or raises")

    def versions_by_hash(self, sha256s: list[str]) -> dict[str, tuple[str, str | None]]:
        """Which versions these SHA256 hashes are (at most BY_HASH_BATCH): one POST to
        /api/v1/model-versions/by-hash/ids. Hash (upper-case) -> (version id, model id); the
        hashes CivitAI does not know are absent."""
        if len(sha256s) > BY_HASH_BATCH:
            raise ValueError(f"at most {BY_HASH_BATCH} hashes per request")
        data = self.get_json("/api/v1/model-versions/by-hash/ids", post=[h.upper() for h in sha256s],
                             budget_s=BY_HASH_BUDGET_S)
        if not isinstance(data, list):
            raise CivitaiBadResponseError("CivitAI's by-hash answer is not a list")
        found: dict[str, tuple[str, str | None]] = {}
        for item in data:
            if not isinstance(item, dict):
                continue
            sha, vid, mid = item.get("hash"), item.get("modelVersionId"), item.get("modelId")
            if isinstance(sha, str) and _positive_int(vid):
                found[sha.upper()] = (str(vid), str(mid) if _positive_int(mid) else None)
        return found

    def model_version(self, version_id: str) -> ModelVersion:
        data = self.get_json(f"/api/v1/model-versions/{version_id}")
        if not isinstance(data, dict):
            raise CivitaiBadResponseError("CivitAI's answer is not a model-version object")
        try:
            version = ModelVersion.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise CivitaiBadResponseError(
                f"CivitAI's model-version answer is malformed at {where!r}: {first['msg']}"
            ) from exc
        if str(version.id) != version_id:
            raise CivitaiBadResponseError(
                f"CivitAI answered with version {version.id} when asked for {version_id}"
            )
        return version
