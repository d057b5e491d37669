"""The catalog store: shape checks, atomic save with backup, version bump, lock."""

from __future__ import annotations

import json
import re

import pytest

from host.catalog import document
from host.catalog.store import read_document, serialize, write_document
from host.catalog.transaction import transaction
from host.errors import CatalogCorruptError
from tests.support.catalogs import civitai_entry, one_category_catalog, studio_catalogs, write_json


def test_missing_file_is_an_empty_catalog(tmp_path):
    doc = read_document(tmp_path / "models.json")
    assert doc["categories"] == [] and doc["version"] == 0


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"{not json",
        b"\xff\xfe garbage",
        b"[]",
        b'"text"',
        b'{"version": 1}',
        b'{"version": "1", "categories": []}',
        b'{"version": true, "categories": []}',
        b'{"categories": {}}',
        b'{"categories": [1]}',
        b'{"categories": [{"id": "x", "models": {}}]}',
        b'{"categories": [{"id": "x", "models": ["entry"]}]}',
        b'{"date": 5, "categories": []}',
    ],
)
def test_not_a_catalog_is_corrupt(tmp_path, raw):
    path = tmp_path / "models.json"
    path.write_bytes(raw)
    with pytest.raises(CatalogCorruptError) as info:
        read_document(path)
    assert "models.json" in info.value.message
    assert info.value.code == "catalog_corrupt"


def test_write_keeps_every_key_order_and_non_ascii(tmp_path):
    models, _ = studio_catalogs()
    path = tmp_path / "models.json"
    original = write_json(path, models)
    doc = read_document(path)
    write_document(path, doc)
    assert path.read_bytes() == original  # an unchanged document round-trips byte for byte
    text = path.read_text("utf-8")
    assert "日本語モデル ✨" in text and "\\u" not in text
    assert text.startswith('{\n  "version": 41,')


def test_write_keeps_previous_version_as_backup(tmp_path):
    path = tmp_path / "models.json"
    first = write_json(path, {"version": 1, "date": "2026-01-01 00:00", "categories": []})
    write_document(path, {"version": 2, "date": "2026-01-02 00:00", "categories": []})
    assert (tmp_path / "models.json.bak").read_bytes() == first
    assert json.loads(path.read_text())["version"] == 2
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_transaction_bumps_version_and_date_and_saves_only_changed(tmp_path):
    models, loras = studio_catalogs()
    write_json(tmp_path / "models.json", models)
    loras_bytes = write_json(tmp_path / "loras.json", loras)
    left: list = []
    with transaction(tmp_path, left.append) as txn:
        document.append_entry(txn.docs["models"], "vae", "VAE", {"name": "v", "file": "v.pt", "dest": "vae"})
        txn.mark_changed("models")
    assert len(left) == 1  # the index refresh, left for after the reply
    saved = json.loads((tmp_path / "models.json").read_text())
    assert saved["version"] == 42
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", saved["date"])
    assert saved["categories"][-1] == {"id": "vae", "name": "VAE",
                                       "models": [{"name": "v", "file": "v.pt", "dest": "vae"}]}
    assert (tmp_path / "loras.json").read_bytes() == loras_bytes


def test_transaction_saves_nothing_when_the_body_fails(tmp_path):
    models, _ = studio_catalogs()
    before = write_json(tmp_path / "models.json", models)
    left: list = []
    with pytest.raises(RuntimeError), transaction(tmp_path, left.append) as txn:
        txn.docs["models"]["categories"].clear()
        txn.mark_changed("models")
        raise RuntimeError("boom")
    assert (tmp_path / "models.json").read_bytes() == before
    assert left == []


def test_transaction_refuses_a_corrupt_file_and_leaves_it(tmp_path):
    (tmp_path / "loras.json").write_bytes(b"{oops")
    with pytest.raises(CatalogCorruptError), transaction(tmp_path, [].append):
        pass
    assert (tmp_path / "loras.json").read_bytes() == b"{oops"


def test_serialize_format():
    assert serialize({"a": [1, {"b": "é"}]}) == '{\n  "a": [\n    1,\n    {\n      "b": "é"\n    }\n  ]\n}\n'.encode()


def test_a_new_catalog_file_gets_the_usual_permissions(tmp_path):
    import os

    umask = os.umask(0o022)
    try:
        write_document(tmp_path / "models.json", {"version": 1, "date": "x", "categories": []})
    finally:
        os.umask(umask)
    assert (tmp_path / "models.json").stat().st_mode & 0o777 == 0o644


def test_a_symlinked_catalog_is_written_through_and_keeps_its_mode(host_env, tmp_path):
    studio = tmp_path / "studio" / "models.json"
    write_json(studio, one_category_catalog(civitai_entry(1, 2, "a.safetensors", "loras"),
                                            civitai_entry(3, 4, "b.safetensors", "loras")))
    studio.chmod(0o644)
    host_env.catalog_dir.mkdir()
    host_env.models_json.symlink_to(studio)
    assert host_env.ok("remove", file="a.safetensors")["status"] == "removed"
    assert host_env.models_json.is_symlink()
    assert [e["file"] for e in json.loads(studio.read_text())["categories"][0]["models"]] == ["b.safetensors"]
    assert studio.stat().st_mode & 0o777 == 0o644
    assert (studio.parent / "models.json.bak").exists()


def test_a_lock_that_cannot_be_taken_is_a_clear_write_error(host_env):
    host_env.write_catalogs(one_category_catalog(civitai_entry(1, 2, "a.safetensors", "loras")))
    before = host_env.snapshot()
    (host_env.catalog_dir / ".catalog-host.lock").mkdir()  # not a file: the lock cannot be taken
    error = host_env.error("remove", file="a.safetensors")
    assert error["code"] == "catalog_write_failed" and "lock" in error["message"]
    assert host_env.snapshot() == before


def test_a_write_removes_dead_writers_temp_files_but_not_those_of_other_files(host_env):
    """Catalog temps are only made under the catalog lock, and the caches' are harmless to
    lose; the job file's are made under another lock, by a live worker whose rename would fail."""
    host_env.write_catalogs(one_category_catalog(civitai_entry(1, 2, "a.safetensors", "loras")))
    dead = [".models.json.k3j_x9q2.tmp", ".loras.json.bak.abcdefgh.tmp", ".catalog-host-index.0a1b2c3d.tmp",
            ".catalog-host-summary.zz_zz_zz.tmp"]
    live = [".catalog-host-jobs.a1b2c3d4.tmp", ".catalog-host-jobs-active.a1b2c3d4.tmp", "notes.k3j_x9q2.tmp",
            ".models.json.TOOLONG123.tmp"]
    for name in dead + live:
        (host_env.catalog_dir / name).write_bytes(b"partial")
    assert host_env.ok("remove", file="a.safetensors")["status"] == "removed"
    assert sorted(p.name for p in host_env.catalog_dir.iterdir() if p.name.endswith(".tmp")) == sorted(live)
