"""JSON for the hot path, straight from CPython's C accelerator, without importing `json`.

Why: `import json` pulls in `re` (json.decoder compiles regexes at import), which is about a
third of a bare interpreter start here, and every `sendNativeMessage` pays it. `_json` is the
C module `json` itself uses; driving it directly gives identical results for the JSON the host
reads and writes. Where `_json` is missing or differs (another Python implementation), this
falls back to the `json` module. Errors are raised as ValueError like `json.loads`.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_WHITESPACE = " \t\n\r"


class _ScanContext:
    """The attributes `_json.make_scanner` reads (json.JSONDecoder's defaults)."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}.__getitem__
    memo: dict[str, str] = {}  # noqa: RUF012 - the scanner's own cache; the class is never shared


_scan: Any = None
_encode: Any = None
try:
    import _json

    _scan = _json.make_scanner(_ScanContext())  # type: ignore[arg-type]
    # markers, default, encoder, indent, key_separator, item_separator, sort_keys, skipkeys, allow_nan
    _encode = _json.make_encoder(None, None, _json.encode_basestring, None, ":", ",", False, False, False)  # type: ignore[arg-type]
except (ImportError, AttributeError, TypeError):  # pragma: no cover - not CPython
    _scan = _encode = None


def loads(text: str) -> Any:
    """Parse one JSON document (surrounding whitespace allowed), like json.loads(text)."""
    if _scan is None:  # pragma: no cover
        import json

        return json.loads(text)
    start = len(text) - len(text.lstrip(_WHITESPACE))
    try:
        value, end = _scan(text, start)
    except StopIteration as exc:
        raise ValueError(f"Expecting value: char {exc.value}") from None
    except (ValueError, RecursionError):
        raise
    except SystemError:
        # Before 3.12, _json reports a syntax error through json.decoder.JSONDecodeError only
        # when json.decoder is already imported, else as this SystemError. Errors are rare:
        # let the json module parse again and raise its precise error.
        import json

        return json.loads(text)
    if text[end:].strip(_WHITESPACE):
        raise ValueError(f"Extra data: char {end}")
    return value


def dumps(value: Any) -> str:
    """Compact JSON, non-ASCII kept as is, NaN/Infinity refused (ValueError)."""
    if _encode is None:  # pragma: no cover
        import json

        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return "".join(_encode(value, 0))
