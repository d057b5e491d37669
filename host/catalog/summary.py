"""The small file `ping` reads: both catalogs' version / date / entry count (or error).

Stdlib only, and cheap to import: a `ping` whose summary is current opens nothing else.
When it is stale, the answer comes from the read index (rebuilt if needed), and the file is
rewritten for the next ping. A write refreshes it with the index, after the reply.
"""

from __future__ import annotations

from host import jsonfast
from host.catalog.layout import catalog_signature, summary_ok, summary_path
from host.regularfile import read_regular

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing and pathlib cost milliseconds in every cold start
    from pathlib import Path
    from typing import Any


def read_summary(catalog_dir: str | Path) -> dict[str, Any]:
    """Per catalog: version, date, entry count and whether the file exists; or its error."""
    try:
        data = jsonfast.loads(read_regular(summary_path(catalog_dir)).decode("utf-8"))
        # a cache anything may have damaged: used only when current and of its shape
        if (isinstance(data, dict) and data.get("signature") == catalog_signature(catalog_dir)
                and summary_ok(data.get("summary"))):
            summary: dict[str, Any] = data["summary"]
            return summary
    except (OSError, ValueError, RecursionError):  # ValueError: also bad JSON or UTF-8
        pass
    from host.catalog.index import open_index  # deferred: most pings never need it

    index = open_index(catalog_dir)
    try:
        write_summary(catalog_dir, index.signature, index.summary)  # the next ping reads it
        return index.summary
    finally:
        index.close()


def write_summary(catalog_dir: str | Path, signature: str, summary: dict[str, Any]) -> None:
    """Save the summary of the catalogs as they were at `signature` (best effort: a cache)."""
    from host.atomicfile import write_atomically

    data = jsonfast.dumps({"signature": signature, "summary": summary}).encode("utf-8")
    try:
        write_atomically(summary_path(catalog_dir), data, durable=False)
    except OSError:
        pass
