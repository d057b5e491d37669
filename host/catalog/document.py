"""The catalog file's shape and the edits the operations make to it (stdlib only, no I/O).

A document is the parsed JSON itself (dicts keep key order), so every field, entry and
category nobody here knows survives a read-modify-write untouched. Shape:
{"version": int, "date": "YYYY-MM-DD HH:MM", "categories": [{"id", "name", "models": [entry]}]}.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from host.catalog.ids import canonical_id
from host.catalog.paths import same_dest

Entry = dict[str, Any]
Document = dict[str, Any]


def empty_document() -> Document:
    return {"version": 0, "date": now_stamp(), "categories": []}


def now_stamp() -> str:
    return time.strftime("%Y-%m-%d %H:%M")


def _shown(value: Any) -> str:
    """A catalog value quoted in an error message, cut short: a file may hold text of any
    length, and the message travels in a reply bounded by Chrome's 1 MiB."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def shape_problem(data: Any) -> str | None:
    """Why `data` is not a catalog document, or None when it is one."""
    if not isinstance(data, dict):
        return "the top level is not a JSON object"
    version = data.get("version", 0)
    if isinstance(version, bool) or not isinstance(version, int):
        return "'version' is not an integer"
    if "date" in data and not isinstance(data["date"], str):
        return "'date' is not a string"
    categories = data.get("categories")
    if not isinstance(categories, list):
        return "'categories' is missing or not a list"
    for number, category in enumerate(categories):
        if not isinstance(category, dict):
            return f"category #{number} is not an object"
        models = category.get("models", [])
        if not isinstance(models, list):
            return f"category {_shown(category.get('id'))}: 'models' is not a list"
        if not all(isinstance(entry, dict) for entry in models):
            return f"category {_shown(category.get('id'))}: an entry is not an object"
    return None


def entries(doc: Document) -> Iterator[tuple[Any, Entry]]:
    """(category, entry) for every entry, in file order."""
    for category in doc["categories"]:
        for entry in category.get("models", []):
            yield category, entry


def version_id_of(entry: Entry) -> str | None:
    return canonical_id(entry.get("civitai_version_id"))


def find_by_version(doc: Document, version_id: str) -> tuple[Any, Entry] | None:
    for category, entry in entries(doc):
        if version_id_of(entry) == version_id:
            return category, entry
    return None


def dest_of(entry: Entry) -> str | None:
    """The entry's dest folder ("" when absent); None when it is not a string (hand-edited
    catalogs): such an entry cannot be located on disk."""
    dest = entry.get("dest")
    if dest is None:
        return ""
    return dest if isinstance(dest, str) else None


def find_by_file(doc: Document, file: str, dest: str | None = None) -> list[Entry]:
    """Entries naming `file` with a usable dest (that dest, when given; `a\\b` is `a/b`)."""
    found = []
    for _, entry in entries(doc):
        if entry.get("file") != file:
            continue
        entry_dest = dest_of(entry)
        if entry_dest is not None and (dest is None or same_dest(entry_dest, dest)):
            found.append(entry)
    return found


def has_file(doc: Document, dest: str, file: str) -> Entry | None:
    found = find_by_file(doc, file, dest)
    return found[0] if found else None


def append_entry(doc: Document, category_id: str, category_name: str, entry: Entry) -> None:
    """Append to the category with that id, creating it (at the end) when absent."""
    for category in doc["categories"]:
        if category.get("id") == category_id:
            category.setdefault("models", []).append(entry)
            return
    doc["categories"].append({"id": category_id, "name": category_name, "models": [entry]})


def remove_entries(doc: Document, doomed: list[Entry]) -> int:
    """Remove exactly these entry objects (by identity); returns how many went."""
    ids = {id(entry) for entry in doomed}
    removed = 0
    for category in doc["categories"]:
        models = category.get("models", [])
        kept = [entry for entry in models if id(entry) not in ids]
        removed += len(models) - len(kept)
        if len(kept) != len(models):
            category["models"] = kept
    return removed


def bump(doc: Document) -> None:
    """Every change: version + 1, date = local time now."""
    doc["version"] = int(doc.get("version", 0)) + 1
    doc["date"] = now_stamp()
