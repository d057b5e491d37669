"""The request envelope and each op's parameters, validated without third-party imports.

Role: bytes of one frame -> (id, op, clean params), or a ProtocolError saying exactly what is
wrong. The table OPS is the protocol's list of ops (PROTOCOL.md documents it). Validation is
hand-rolled over a small table rather than pydantic because it runs in every cold host
start, where importing pydantic alone would triple the latency a person feels.
"""

from __future__ import annotations

from host import jsonfast
from host.catalog.ids import MAX_ID_DIGITS, canonical_id
from host.errors import InvalidJsonError, InvalidRequestError, UnknownOpError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds in every cold start
    from collections.abc import Callable
    from typing import Any

# The most version ids one lookup may ask about (a model page shows a few dozen at most);
# keeps a lookup reply far under Chrome's 1 MiB limit.
MAX_LOOKUP_VERSION_IDS = 200
MAX_LOOKUP_MODEL_IDS = 50
MAX_TEXT_CHARS = 4096
# Nesting deeper than this is refused before json.loads can hit Python's recursion limit.
MAX_JSON_DEPTH = 64


def _id(name: str, value: Any) -> str:
    vid = canonical_id(value)
    if vid is None:
        raise InvalidRequestError(
            f"'{name}' must be a positive integer id (a number or a string of up to "
            f"{MAX_ID_DIGITS} digits), not {_show(value)}",
            param=name,
        )
    return vid


def _int_id(name: str, value: Any) -> int:
    return int(_id(name, value))


def _id_list(limit: int, minimum: int = 0) -> Callable[[str, Any], list[str]]:
    def check(name: str, value: Any) -> list[str]:
        if not isinstance(value, list):
            raise InvalidRequestError(f"'{name}' must be a list of ids, not {_show(value)}", param=name)
        if not minimum <= len(value) <= limit:
            raise InvalidRequestError(f"'{name}' must hold {minimum} to {limit} ids", param=name)
        return list(dict.fromkeys(_id(name, item) for item in value))

    return check


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidRequestError(f"'{name}' must be a string, not {_show(value)}", param=name)
    if len(value) > MAX_TEXT_CHARS:
        raise InvalidRequestError(f"'{name}' is longer than {MAX_TEXT_CHARS} characters", param=name)
    return value


def _cancel_kind(name: str, value: Any) -> str:
    """`cancel`'s `kind`: the kind of job canceled by kind alone (one per catalog folder)."""
    if value != "scan":
        raise InvalidRequestError(
            f"'{name}' must be \"scan\" (a download is canceled by its 'version_id'), not {_show(value)}",
            param=name,
        )
    return "scan"


def _show(value: Any) -> str:
    """A short, printable rendering of a bad value for an error message."""
    try:
        text = jsonfast.dumps(value)
    except (ValueError, TypeError, RecursionError):
        text = repr(value)
    text = text.encode("ascii", "backslashreplace").decode("ascii")
    return text if len(text) <= 40 else text[:37] + "..."


class OpSpec:
    """An op: its handler module (under host.handlers, with `handle(params, context)`) and
    its parameters, each with the function that validates and normalises it."""

    __slots__ = ("handler", "optional", "required")

    def __init__(
        self,
        handler: str,
        required: dict[str, Callable[[str, Any], Any]],
        optional: dict[str, Callable[[str, Any], Any]],
    ) -> None:
        self.handler = handler
        self.required = required
        self.optional = optional


OPS: dict[str, OpSpec] = {
    "ping": OpSpec("ping", {}, {}),
    "map": OpSpec("catalog_map", {}, {"cursor": _text, "etag": _text}),
    "lookup": OpSpec(
        "lookup",
        {"version_ids": _id_list(MAX_LOOKUP_VERSION_IDS, minimum=1)},
        {"model_ids": _id_list(MAX_LOOKUP_MODEL_IDS)},
    ),
    "add": OpSpec("add", {"version_id": _id}, {}),
    "promote": OpSpec("promote", {"version_id": _id}, {}),
    "remove": OpSpec("remove", {"file": _text}, {"dest": _text}),
    "adopt": OpSpec("adopt", {"version_id": _id}, {}),
    "scan": OpSpec("scan", {}, {}),
    "download": OpSpec("download", {"version_id": _id}, {"file_id": _int_id}),
    "jobs": OpSpec("jobs", {}, {}),
    # exactly one of the two (host.handlers.cancel)
    "cancel": OpSpec("cancel", {}, {"version_id": _id, "kind": _cancel_kind}),
}
ENVELOPE_KEYS = frozenset({"op", "id"})


class Request:
    __slots__ = ("id", "op", "params")

    def __init__(self, id: Any, op: str, params: dict[str, Any]) -> None:
        self.id = id
        self.op = op
        self.params = params


def _depth_ok(raw: str) -> bool:
    """Whether the nesting depth stays within MAX_JSON_DEPTH, counting only brackets outside
    strings. Escaped backslashes, then escaped quotes, are dropped first; what is left splits
    on quotes into outside (even) and inside (odd) pieces. Text that is not JSON may be
    misjudged here; the parser refuses it anyway."""
    if "\\" in raw:
        raw = raw.replace("\\\\", "").replace('\\"', "")
    depth = 0
    for outside in raw.split('"')[::2]:
        if "[" not in outside and "{" not in outside:
            depth -= outside.count("]") + outside.count("}")
            continue
        for char in outside:
            if char in "[{":
                depth += 1
                if depth > MAX_JSON_DEPTH:
                    return False
            elif char in "]}":
                depth -= 1
    return True


def decode_message(body: bytes) -> Any:
    """The frame body as JSON, or InvalidJsonError."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidJsonError(f"the message is not UTF-8 (byte {exc.start})") from exc
    if ("[" in text or "{" in text) and not _depth_ok(text):
        raise InvalidJsonError(f"the message nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        return jsonfast.loads(text)
    except ValueError as exc:
        raise InvalidJsonError(f"the message is not JSON: {exc}") from exc
    except RecursionError as exc:  # belt and braces for the depth check
        raise InvalidJsonError("the message nests too deeply") from exc


def request_id(message: Any) -> Any:
    """The id to echo in the reply (null when absent or the message is not an object)."""
    return message.get("id") if isinstance(message, dict) else None


def parse_request(message: Any) -> Request:
    """Validate a decoded message into a Request with clean params."""
    if not isinstance(message, dict):
        raise InvalidRequestError("a request must be a JSON object with an 'op'")
    op = message.get("op")
    if not isinstance(op, str):
        raise InvalidRequestError("a request needs 'op', a string naming the operation")
    spec = OPS.get(op)
    if spec is None:
        raise UnknownOpError(f"unknown op {_show(op)}; known ops: {', '.join(OPS)}", op=op[:64])
    params: dict[str, Any] = {}
    for name, check in spec.required.items():
        if name not in message:
            raise InvalidRequestError(f"'{op}' needs the parameter '{name}'", param=name)
        params[name] = check(name, message[name])
    for name, check in spec.optional.items():
        if name in message and message[name] is not None:
            params[name] = check(name, message[name])
    unknown = set(message) - ENVELOPE_KEYS - set(spec.required) - set(spec.optional)
    if unknown:
        names = ", ".join(sorted(repr(n[:40]) for n in unknown)[:5])
        raise InvalidRequestError(f"'{op}' does not take the parameter(s) {names}")
    return Request(message.get("id"), op, params)
