"""`add`: fetch a version from CivitAI and append its entry to models.json (SPEC §5 add).

The network call happens before the lock; the duplicate checks run again inside it, so many
processes adding the same version at once leave exactly one entry.
"""

from __future__ import annotations

from host.catalog import document
from host.catalog.index import open_index
from host.catalog.layout import CATALOG_NAMES
from host.catalog.transaction import transaction
from host.catalog.views import reply_safe
from host.context import Context

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from host.civitai.entry import NewEntry


def _existing(docs: dict[str, Any], version_id: str) -> dict[str, Any] | None:
    for name in CATALOG_NAMES:
        found = document.find_by_version(docs[name], version_id)
        if found:
            return {"status": "already_exists", "file": reply_safe(found[1].get("file")), "catalog": name}
    return None


def indexed_answer(context: Context, version_id: str) -> dict[str, Any] | None:
    """The `already_exists` answer when the catalog index already holds this version, read
    before the lock and the network as a cheap early answer; else None."""
    index = open_index(context.settings.catalog_dir)
    try:
        index.require_readable()
        known = index.records([version_id]).get(version_id)
    finally:
        index.close()
    if known is None:
        return None
    return {"status": "already_exists", "file": known["file"], "catalog": known["catalog"]}


def store_entry(context: Context, version_id: str, new: NewEntry) -> dict[str, Any] | None:
    """Append `new` to models.json under the lock, unless the version, or an entry with the
    same dest and file, is already in a catalog: then that `already_exists` answer."""
    with transaction(context.settings.catalog_dir, context.after_reply) as txn:
        existing = _existing(txn.docs, version_id)
        if existing:
            return existing
        for name in CATALOG_NAMES:
            if document.has_file(txn.docs[name], new.dest, new.file):
                return {"status": "already_exists", "file": new.file, "catalog": name}
        document.append_entry(txn.docs["models"], new.category_id, new.category_name, new.entry)
        txn.mark_changed("models")
    return None


def handle(params: dict[str, Any], context: Context) -> dict[str, Any]:
    return add_version(params["version_id"], context)


def add_version(version_id: str, context: Context, file_id: int | None = None) -> dict[str, Any]:
    """`add` itself; `download` uses it with `file_id` choosing the entry's file."""
    known = indexed_answer(context, version_id)
    if known is not None:
        return known

    from host.civitai.entry import build_entry, restriction

    version = context.civitai.model_version(version_id)
    reason = restriction(version)
    if reason:
        return {"status": "restricted", "reason": reason}
    new = build_entry(version, file_id)
    existing = store_entry(context, version_id, new)
    if existing:
        return existing
    from host.log import get_logger

    get_logger().info("added version %s as %s/%s", version_id, new.dest, new.file)
    return {
        "status": "added",
        "file": new.file,
        "name": new.entry["name"],
        "category": new.category_id,
        "dest": new.dest,
    }
