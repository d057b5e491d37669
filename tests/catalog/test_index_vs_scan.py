"""The binary read index answers exactly what a plain scan of the catalog files answers
(hypothesis): same records, same model -> versions lists, same order, same dests, same counts.

The oracle scans the parsed JSON the simplest way: models.json before loras.json, file order,
the first entry of a version id wins. Records are compared with host.catalog.views' record of
the entry (what a record holds is views' decision; where it is found is the index's job)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from host.catalog.ids import canonical_id
from host.catalog.index import open_index
from host.catalog.views import entry_record

ids = st.one_of(st.integers(1, 40), st.integers(1, 40).map(str),
                st.sampled_from([0, -3, True, None, "", "07", "x1", 10**20, 2**64 + 5, 1.5]))
text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
entries = st.fixed_dictionaries(
    {},
    optional={
        "civitai_version_id": ids,
        "civitai_model_id": ids,
        "file": text,
        "dest": st.one_of(text, st.sampled_from(["loras", "loras/sub", "checkpoints"]), st.none(), st.integers()),
        "name": text,
        "base_model": st.one_of(text, st.none()),
        "civitai_base_model": text,
    },
)
categories = st.lists(st.fixed_dictionaries({"id": text, "models": st.lists(entries, max_size=8)}), max_size=4)
catalogs = st.one_of(st.none(), st.builds(lambda cats: {"version": 3, "date": "2026-01-01 00:00",
                                                        "categories": cats}, categories))


def scan(docs):
    """(version id -> record, in catalog order) and each catalog's entry count."""
    found, counts = {}, {}
    for name in ("models", "loras"):
        doc = docs[name]
        counts[name] = 0 if doc is None else sum(len(c["models"]) for c in doc["categories"])
        for category in (doc or {"categories": []})["categories"]:
            for entry in category["models"]:
                vid = canonical_id(entry.get("civitai_version_id"))
                if vid is not None and vid not in found:
                    found[vid] = entry_record(entry, name)
    return found, counts


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(models=catalogs, loras=catalogs, asked=st.lists(ids, max_size=10), limit=st.integers(0, 6))
def test_the_index_answers_like_a_plain_scan(models, loras, asked, limit):
    docs = {"models": models, "loras": loras}
    expected, counts = scan(docs)
    with tempfile.TemporaryDirectory() as folder:
        for name, doc in docs.items():
            if doc is not None:
                Path(folder, f"{name}.json").write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
        index = open_index(folder)
        try:
            wanted = [vid for vid in map(canonical_id, asked) if vid is not None] + list(expected)
            assert index.records(wanted) == {vid: expected[vid] for vid in wanted if vid in expected}

            model_ids = sorted({r["civitai_model_id"] for r in expected.values() if r["civitai_model_id"]})
            model_ids += [vid for vid in map(canonical_id, asked) if vid is not None]
            assert index.versions_of_models(model_ids, limit) == {
                mid: [vid for vid, r in expected.items() if r["civitai_model_id"] == mid][:limit]
                for mid in model_ids
            }

            rows = index.rows_after(0, 10_000)
            assert [(seq, vid) for seq, vid, _ in rows] == list(enumerate(expected, start=1))
            assert [json.loads(blob) for _, _, blob in rows] == list(expected.values())
            for start in range(len(rows)):  # any page starts where the previous one stopped
                assert index.rows_after(start, 2) == rows[start : start + 2]

            assert index.dests == sorted({r["dest"] if isinstance(r["dest"], str) else "" for r in expected.values()})
            for name in ("models", "loras"):
                assert index.summary[name]["entries"] == counts[name]
                assert index.summary[name]["exists"] is (docs[name] is not None)
        finally:
            index.close()
