"""A read-modify-write of the catalogs: the one way handlers change them.

Top of the catalog package's import graph: it uses `store` (lock, read, save) and, once the
reply is sent, `index` and `summary` (refreshed from the documents just saved). Nothing in
the package imports it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from host.catalog.document import Document, bump
from host.catalog.layout import CATALOG_NAMES, catalog_file, catalog_signature, index_path
from host.catalog.store import (
    FileStyle,
    catalog_lock,
    read_styled_document,
    remove_leftovers,
    write_document,
)


@dataclass
class Transaction:
    """Both catalogs, read inside the lock; `changed` names those to save, in that order."""

    catalog_dir: Path
    docs: dict[str, Document]
    changed: list[str] = field(default_factory=list)
    styles: dict[str, FileStyle] = field(default_factory=dict)  # each file is saved in its own

    def path(self, name: str) -> Path:
        return Path(catalog_file(self.catalog_dir, name))

    def mark_changed(self, name: str) -> None:
        """Bump `name` (version + 1, date now) and queue it for saving."""
        bump(self.docs[name])
        if name not in self.changed:
            self.changed.append(name)


@contextmanager
def transaction(
    catalog_dir: str | Path, after_reply: Callable[[Callable[[], None]], None]
) -> Iterator[Transaction]:
    """Lock, read both catalogs, let the caller edit, save what it marked changed.

    Files are saved in the order they were marked, so a caller that must never lose an
    entry (promote) marks the destination first. Nothing is saved if the body raises.
    The read index is rebuilt from the saved documents by work left with `after_reply`
    (Context.after_reply): a person waits on the reply, not on the cache.
    """
    catalog_dir = Path(catalog_dir)
    with catalog_lock(catalog_dir):
        txn = Transaction(catalog_dir, {})
        for name in CATALOG_NAMES:
            txn.docs[name], txn.styles[name] = read_styled_document(txn.path(name))
        yield txn
        if txn.changed:
            remove_leftovers(catalog_dir)
        for name in txn.changed:
            write_document(txn.path(name), txn.docs[name], txn.styles[name])
        if txn.changed:
            # taken inside the lock: if another process writes before the refresh runs, the
            # files no longer match it and readers rebuild, never trusting a stale index
            signature, docs = catalog_signature(catalog_dir), txn.docs
            after_reply(lambda: refresh_read_index(catalog_dir, signature, docs))


def refresh_read_index(catalog_dir: Path, signature: str, docs: dict[str, Document]) -> None:
    """Index (and summarise) the documents just saved, so the next cold lookup or ping does
    not parse the catalog again. Without it (a crash, a kill) readers rebuild from the
    files: slower, same answers. The change is saved already, so a failure here is logged,
    never reported: the index is deleted and the next read rebuilds it from the files."""
    from host.catalog.index import rebuild_from_documents
    from host.catalog.summary import write_summary

    try:
        summary = rebuild_from_documents(catalog_dir, docs, signature)
        write_summary(catalog_dir, signature, summary)
    except Exception:
        from host.log import get_logger

        get_logger().exception("could not refresh the read index after a write")
        try:
            os.unlink(index_path(catalog_dir))
        except OSError:
            pass
