"""Lists in replies that grow with the person's data (the `jobs` list, ping's model folders):
taken in a chosen order while they fit a byte budget, the rest counted, so that no such reply
can reach Chrome's 1 MiB limit (`reply_too_large`) whatever the job file or the YAML files hold.

Sizes are measured as host.framing writes the reply (compact JSON, UTF-8, a lone surrogate as
its 6-byte escape). Stdlib only: ping imports this when model folders are configured.
"""

from __future__ import annotations

from host import jsonfast
from host.catalog.views import reply_safe

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

# Deeper than this, a value is replaced by null (our jobs nest 2 levels: job -> result -> list).
MAX_DEPTH = 8


def json_size(value: Any) -> int:
    """Bytes `value` takes in a reply."""
    return len(jsonfast.dumps(value).encode("utf-8", "backslashreplace"))


def bounded(value: Any, depth: int = 0) -> Any:
    """`value` with every string cut as a record's text fields are (host.catalog.views), so one
    long message or path cannot make one item larger than its few fields allow."""
    if isinstance(value, dict):
        if depth >= MAX_DEPTH:
            return None
        return {reply_safe(str(key)): bounded(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        return None if depth >= MAX_DEPTH else [bounded(item, depth + 1) for item in value]
    return reply_safe(value)


def fit(items: Iterable[Any], budget: int) -> tuple[list[Any], int]:
    """(the longest prefix of `items` whose JSON fits in `budget` bytes as list items, how many
    items were left out). Stops at the first item that does not fit: what is kept is exactly
    the first ones in the caller's order."""
    kept: list[Any] = []
    used = 0
    left_out = 0
    for item in items:
        if left_out:
            left_out += 1
            continue
        size = json_size(item) + 1  # the comma
        if used + size > budget:
            left_out = 1
            continue
        used += size
        kept.append(item)
    return kept, left_out


def fit_folders(folders: dict[str, list[str]], budget: int) -> tuple[dict[str, list[str]], int]:
    """Folder name -> folders, in their order, while they fit in `budget` bytes; (that, how
    many folders were left out). Paths are never cut: a path shown is a real one."""
    shown: dict[str, list[str]] = {}
    used = 0
    left_out = 0
    full = False
    for name, paths in folders.items():
        cost = json_size(name) + 4  # "name":[],
        if full or used + cost > budget:
            full = True
            left_out += len(paths)
            continue
        used += cost
        listed = shown[name] = []
        for index, path in enumerate(paths):
            size = json_size(path) + 1
            if used + size > budget:
                full = True
                left_out += len(paths) - index
                break
            used += size
            listed.append(path)
    return shown, left_out
