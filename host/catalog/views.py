"""What `map` and `lookup` report for an entry: its record (built when the index is), its
live status, and the map etag. The reply-shape decisions live here and nowhere else.

Stdlib only. Status is never cached: it is one stat() per entry asked about. The map etag
covers the catalog files and the folders the entries live in (a download or a deletion
changes its folder's mtime), so an unchanged etag is answered without a stat per entry.
"""

from __future__ import annotations

import os
import zlib

from host.catalog.ids import canonical_id
from host.catalog.paths import dest_problem, file_status

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds in every cold start
    from collections.abc import Iterable
    from typing import Any

# A record's text fields are cut to this many characters: one hand-edited or hostile entry
# must never make a map page (or a lookup) exceed Chrome's 1 MiB reply limit.
MAX_RECORD_TEXT = 512


def reply_safe(value: Any) -> Any:
    """A catalog value as a reply can carry it: text cut to MAX_RECORD_TEXT and made valid
    UTF-8 (json accepts lone surrogates, UTF-8 does not); anything that is not a string or a
    finite number (NaN, lists, objects) becomes None."""
    if isinstance(value, str):
        if len(value) <= MAX_RECORD_TEXT and value.isascii():  # the usual case, and cheap
            return value
        return value[:MAX_RECORD_TEXT].encode("utf-8", "replace").decode("utf-8")
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float) and value - value == 0:  # finite
        return value
    return None


def base_model_of(entry: dict[str, Any]) -> Any:
    """An entry's base model: `base_model`, or `civitai_base_model` when that is absent."""
    base_model = entry.get("base_model")
    if base_model is None:
        base_model = entry.get("civitai_base_model")
    return base_model


def entry_record(entry: dict[str, Any], catalog: str) -> dict[str, Any]:
    """The fields map/lookup report for an entry (status is added at answer time)."""
    return {
        "file": reply_safe(entry.get("file")),
        "dest": reply_safe(entry.get("dest")),
        "name": reply_safe(entry.get("name")),
        "base_model": reply_safe(base_model_of(entry)),
        "catalog": catalog,
        "civitai_model_id": canonical_id(entry.get("civitai_model_id")),
    }


def with_status(record: dict[str, Any], models_dir: str | None) -> dict[str, Any]:
    record["status"] = file_status(models_dir, record.get("dest"), record.get("file"))
    return record


def _folder_state(models_dir: str, dest: str) -> str:
    if dest_problem(dest):
        return "unsafe"
    try:
        st = os.stat(os.path.join(models_dir, *dest.split("/")) if dest else models_dir)
    except (OSError, ValueError):
        return "absent"
    return f"{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"


def map_etag(signature: str, dests: Iterable[str], models_dir: str | None) -> str:
    """Changes when a catalog file changes (its `signature`) or a file appears in / leaves one
    of the entries' folders (`dests`)."""
    parts = [signature, models_dir or ""]
    if models_dir is not None:
        parts.extend(f"{dest}={_folder_state(models_dir, dest)}" for dest in dests)
    return _digest("\n".join(parts))


def listing_tag(signature: str) -> str:
    """Identifies the catalog contents a map cursor pages through."""
    return _digest(signature)


def _digest(text: str) -> str:
    # Change detection, not security (a web page cannot set file mtimes): two 32-bit
    # checksums and the length, so no hashlib (OpenSSL) import in a cold start.
    data = text.encode("utf-8", "surrogatepass")
    return f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}{len(data):x}"
