"""Issue 11 H: a damaged read index or summary, including well-formed JSON of the wrong types
and tables that point outside themselves, is never a lasting `internal_error`: it is rebuilt
(silently when the damage shows on opening it, with one `index_damaged` when it shows while
answering), and every next process answers as from intact files. Real host processes, bounded
by a timeout: a slot count of 2^32-1 must not turn into a 4-billion-step loop."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from host.catalog.index import MAGIC
from host.catalog.layout import INDEX_NAME, SUMMARY_NAME
from tests.support.catalogs import studio_catalogs
from tests.support.frames import frame, unframe_all

STUB_ORIGIN = "chrome-extension://jpiddlinckgdlidmojineffgcdpfoacg/"
REQUESTS = [
    {"op": "lookup", "version_ids": [9208, 128713, 200001, 200002, 100001, 424242],
     "model_ids": [4384, 8281, 300001, 300002, 900001, 1329096, 5]},
    {"op": "map"},
    {"op": "ping"},
]
SLOT = struct.Struct("<QII")
U32 = struct.Struct("<I")


def serve(host_env: Any) -> list[dict[str, Any]]:
    data = b"".join(frame({**request, "id": n}) for n, request in enumerate(REQUESTS))
    proc = subprocess.run([sys.executable, "-m", "host", STUB_ORIGIN], input=data, capture_output=True,
                          env=host_env.env, timeout=60, cwd=host_env.root)
    assert proc.returncode == 0, proc.stderr
    replies = unframe_all(proc.stdout)
    assert len(replies) == len(REQUESTS)
    return replies


class Index:
    """An index file taken apart: header JSON and the tables after it (the module's layout)."""

    def __init__(self, path: Path) -> None:
        raw = path.read_bytes()
        assert raw.startswith(MAGIC)
        (size,) = U32.unpack_from(raw, len(MAGIC))
        start = len(MAGIC) + 4
        self.header: Any = json.loads(raw[start : start + size])
        self.body = bytearray(raw[start + size :])

    def tables(self) -> dict[str, int]:
        count, models, _, _ = self.header["counts"]
        return {"by_id": 0, "in_order": count * SLOT.size, "models": 2 * count * SLOT.size,
                "slots": (2 * count + models) * SLOT.size}

    def save(self, path: Path) -> None:
        header = json.dumps(self.header).encode()
        path.write_bytes(MAGIC + U32.pack(len(header)) + header + bytes(self.body))


def float_counts(ix: Index) -> None:
    ix.header["counts"] = [float(n) for n in ix.header["counts"]]


def summary_not_an_object(ix: Index) -> None:
    ix.header["summary"] = ["models", "loras"]


def summary_entries_not_objects(ix: Index) -> None:
    ix.header["summary"] = {"models": 5, "loras": "x"}


def summary_fields_of_the_wrong_types(ix: Index) -> None:
    ix.header["summary"]["models"] = {"exists": "yes", "version": [41], "date": 7, "entries": 1.5}


def header_not_an_object(ix: Index) -> None:
    ix.header = [ix.header["signature"]]


def dests_not_strings(ix: Index) -> None:
    ix.header["dests"] = [5, None, {"a": 1}]


def counts_of_the_wrong_length(ix: Index) -> None:
    ix.header["counts"] = ix.header["counts"][:3]


def negative_counts(ix: Index) -> None:
    count, models, slots, size = ix.header["counts"]
    ix.header["counts"] = [count, -models, slots + models * 2, size]  # same total size


def slot_count_2_to_the_32_minus_1(ix: Index) -> None:
    at = ix.tables()["models"]
    mid, first, _ = SLOT.unpack_from(ix.body, at)
    SLOT.pack_into(ix.body, at, mid, first, 2**32 - 1)


def first_slot_past_the_end(ix: Index) -> None:
    at = ix.tables()["models"]
    mid, _, count = SLOT.unpack_from(ix.body, at)
    SLOT.pack_into(ix.body, at, mid, 2**32 - 2, count)


def record_past_the_end(ix: Index) -> None:
    for row in range(ix.header["counts"][0]):
        at = ix.tables()["by_id"] + row * SLOT.size
        vid, _, length = SLOT.unpack_from(ix.body, at)
        SLOT.pack_into(ix.body, at, vid, 2**31, length)


def record_not_an_object(ix: Index) -> None:
    count, _, slots, _ = ix.header["counts"]
    records = ix.tables()["slots"] + slots * 8
    for row in range(count):
        _, offset, length = SLOT.unpack_from(ix.body, ix.tables()["by_id"] + row * SLOT.size)
        ix.body[records + offset : records + offset + length] = b'"' + b"x" * (length - 2) + b'"'


DAMAGE: dict[str, Callable[[Index], None]] = {f.__name__: f for f in [
    float_counts, summary_not_an_object, summary_entries_not_objects, summary_fields_of_the_wrong_types,
    header_not_an_object, dests_not_strings, counts_of_the_wrong_length, negative_counts,
    slot_count_2_to_the_32_minus_1, first_slot_past_the_end, record_past_the_end, record_not_an_object,
]}


@pytest.fixture
def intact(host_env: Any) -> list[dict[str, Any]]:
    """The catalogs, and the replies of a process that built the index from them."""
    host_env.write_catalogs(*studio_catalogs())
    replies = serve(host_env)
    assert all(r["ok"] for r in replies), replies
    assert (host_env.catalog_dir / INDEX_NAME).exists() and (host_env.catalog_dir / SUMMARY_NAME).exists()
    assert serve(host_env) == replies  # answered from the index files this time
    return replies


def assert_recovers(host_env: Any, intact: list[dict[str, Any]]) -> None:
    first = serve(host_env)
    for reply, good in zip(first, intact):
        assert reply == good or reply["error"]["code"] == "index_damaged", reply
    assert serve(host_env) == intact, "a new process still answers from the damaged files"


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_index_is_rebuilt_never_an_internal_error(host_env: Any, intact: Any, damage: str) -> None:
    path = host_env.catalog_dir / INDEX_NAME
    index = Index(path)
    DAMAGE[damage](index)
    index.save(path)
    (host_env.catalog_dir / SUMMARY_NAME).unlink()  # ping must read the index too
    assert_recovers(host_env, intact)


SUMMARY_DAMAGE: dict[str, Callable[[str], Any]] = {
    "not-an-object": lambda sig: [sig],
    "summary-not-an-object": lambda sig: {"signature": sig, "summary": "models"},
    "summary-entries-not-objects": lambda sig: {"signature": sig, "summary": {"models": 1, "loras": 2}},
    "a-catalog-missing": lambda sig: {"signature": sig, "summary": {"models": {"exists": True, "version": 1,
                                                                              "date": None, "entries": 3}}},
    "float-entries": lambda sig: {"signature": sig, "summary": {
        name: {"exists": True, "version": 41, "date": "2026-10-02 18:45", "entries": 12.5}
        for name in ("models", "loras")}},
    "error-not-text": lambda sig: {"signature": sig, "summary": {"models": {"error": 5}, "loras": {"error": []}}},
}


@pytest.mark.parametrize("damage", list(SUMMARY_DAMAGE))
def test_a_damaged_summary_is_rebuilt(host_env: Any, intact: Any, damage: str) -> None:
    path = host_env.catalog_dir / SUMMARY_NAME
    signature = json.loads(path.read_text("utf-8"))["signature"]
    path.write_text(json.dumps(SUMMARY_DAMAGE[damage](signature)), "utf-8")
    assert_recovers(host_env, intact)
