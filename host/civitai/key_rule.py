"""Where the CivitAI API key may be sent: shared by the metadata client and the downloader.

A module of its own (requests and urllib3 only) so that the download worker can apply the
rule without importing the metadata client, which pulls in pydantic.
"""

from __future__ import annotations

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
