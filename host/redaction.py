"""Keeps secrets (the CivitAI API key) out of everything the host emits: replies and log lines.

Role: the one place where a secret is removed from output. The settings hand it the key when
they load it; the three exits pass what they emit through here: host.framing every reply
frame, the command line (host.cli) every printed reply, host.log every log line. A key can
come back from anywhere (CivitAI reflecting it in a type, a file name, a restriction reason,
a field path a validation error names, an exception message), so it is removed where output
leaves, not at each source. Any run of MIN_RUN or more characters of the secret is replaced
by MARK, so a server quoting part of the key does not leak that part either. The CivitAI
client (which also registers the key it is given) asks `in_json` whether an answer quotes the
key, and refuses such an answer before anything of it reaches a catalog file.

Boundary: text and JSON-shaped values only; it does not decide what is secret. Imports nothing
but host.jsonfast: it runs on every reply of a cold start. A reply's JSON is searched for each
run only when a secret is in force, and the reply is rewritten only when one is found.
"""

from __future__ import annotations

from host import jsonfast

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# A run this long of a secret is treated as the secret (8 characters are 32 of a hex key's bits).
MIN_RUN = 8
MARK = "[redacted]"

_windows: list[str] = []  # every MIN_RUN-character run of the secret in force
_json_windows: list[str] = []  # the same, as they appear inside a JSON string


def use_secret(secret: str | None) -> None:
    """Redact `secret` from now on (it replaces the previous one; None: nothing to redact).
    A host process has one key: the settings set it when they load, the client it is given."""
    runs: list[str] = []
    if secret and len(secret) <= MIN_RUN:
        runs = [secret]
    elif secret:
        runs = list(dict.fromkeys(secret[i : i + MIN_RUN] for i in range(len(secret) - MIN_RUN + 1)))
    _windows[:] = runs
    # JSON escapes are per character: a run inside a string appears in the JSON text like this
    _json_windows[:] = [jsonfast.dumps(run)[1:-1] for run in runs]


def redact_text(text: str) -> str:
    """`text` with every run of a secret's characters (MIN_RUN or longer) replaced by MARK."""
    if not _windows or not any(run in text for run in _windows):
        return text
    covered: list[tuple[int, int]] = []
    for run in _windows:
        start = text.find(run)
        while start != -1:
            covered.append((start, start + len(run)))
            start = text.find(run, start + 1)
    covered.sort()
    parts: list[str] = []
    position = 0
    span_start, span_end = covered[0]
    for start, end in [*covered[1:], (len(text) + 1, len(text) + 1)]:
        if start <= span_end:  # overlapping or touching windows make one span
            span_end = max(span_end, end)
            continue
        parts += [text[position:span_start], MARK]
        position = span_end
        span_start, span_end = start, end
    parts.append(text[position:])
    return "".join(parts)


def redact_value(value: Any) -> Any:
    """A JSON-shaped value with every string (and object key) passed through redact_text."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {redact_text(k) if isinstance(k, str) else k: redact_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_value(item) for item in value]
    return value


def in_json(text: str) -> bool:
    """Whether the JSON text of a value holds a run of a secret (then redact the value)."""
    return any(run in text for run in _json_windows)


def scrub_reply(reply: dict[str, Any]) -> dict[str, Any]:
    """The reply with secrets redacted, for exits that do not go through host.framing."""
    if not _windows:
        return reply
    try:
        mentioned = in_json(jsonfast.dumps(reply))
    except (ValueError, TypeError, RecursionError):  # not JSON: the exit reports it; walk anyway
        mentioned = True
    scrubbed: dict[str, Any] = redact_value(reply) if mentioned else reply
    return scrubbed
