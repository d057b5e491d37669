"""Rules every HTTP request to CivitAI follows, shared by the metadata client
(host.civitai.client) and the file download (host.download.fetch): where the API key may
travel, how long a Retry-After asks to wait, and when a server's message may not be shown.

requests and urllib3 only (no pydantic): the download worker imports it without the models.
"""

from __future__ import annotations

import time

import requests
import urllib3

# Plain HTTP is allowed to these hosts only (a local test server or proxy), as urllib3 names them.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})


def key_may_travel(url: str) -> bool:
    """The key goes only over HTTPS, or plain HTTP to this machine: never in clear text across
    a network. Decided from the URL requests will connect to (as it prepares and urllib3
    parses it), not from another parser's reading of the configured text."""
    prepared = requests.Request("GET", url).prepare().url or ""
    parts = urllib3.util.parse_url(prepared)
    if parts.auth is not None:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and (parts.host or "").lower() in LOOPBACK_HOSTS


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date); None when absent
    or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # isdigit() alone is true for "²", which float() refuses
        return float(value)
    import email.utils

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def quotes_secret(message: str, secret: str | None) -> bool:
    """Whether `message` quotes any 8 characters in a row of `secret` (a server echoing the
    token it refused): such a message must not reach a reply or the log."""
    if not secret:
        return False
    return any(secret[i : i + 8] in message for i in range(max(1, len(secret) - 7)))
