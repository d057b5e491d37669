"""Defects a review found, each pinned by the test that shows it."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

from host.catalog.layout import index_path
from host.context import Context
from host.server import serve
from tests.support.catalogs import civitai_entry, write_json
from tests.support.fake_civitai import FakeCivitai, load_fixture
from tests.support.frames import frame, unframe_all


def catalog(*entries):
    return {"version": 1, "date": "2026-01-01 00:00", "categories": [{"id": "loras", "name": "LoRAs",
                                                                      "models": list(entries)}]}


def test_lone_surrogate_and_huge_size_from_civitai_are_stored_as_valid_json(host_env, monkeypatch):
    payload = load_fixture("sdxl_lora")
    payload["model"]["name"] = "Bad \ud800 name"
    payload["trainedWords"] = ["x\udfff"]
    payload["files"][0]["sizeKB"] = 1e306
    with FakeCivitai() as fake:
        monkeypatch.setenv("CATALOG_HOST_CIVITAI_URL", fake.url)
        fake.set_response(payload["id"], 200, json.dumps(payload).encode())  # \ud800 escapes
        added = host_env.ok("add", version_id=payload["id"])
    assert added["status"] == "added" and "\ud800" not in added["name"]
    raw = host_env.models_json.read_text("utf-8")  # valid UTF-8
    entry = json.loads(raw)["categories"][0]["models"][0]
    assert entry["size_gb"] is None and "Infinity" not in raw
    assert host_env.ok("lookup", version_ids=[payload["id"]])["by_version"][str(payload["id"])]


def test_nan_and_surrogates_in_a_catalog_do_not_break_reads(host_env):
    host_env.catalog_dir.mkdir()
    host_env.models_json.write_text(
        '{"version": 1, "date": "x", "categories": [{"id": "loras", "models": [{"name": "a\\ud800",'
        ' "file": "a.safetensors", "dest": "loras", "base_model": NaN, "civitai_version_id": 5}]}]}')
    record = host_env.ok("lookup", version_ids=[5])["by_version"]["5"]
    assert record["base_model"] is None and record["name"] == "a?"
    assert host_env.ok("map")["by_version"]["5"]["file"] == "a.safetensors"
    assert host_env.ok("ping")["catalogs"]["models"]["entries"] == 1


def test_a_huge_name_never_makes_a_reply_too_large(host_env):
    big = civitai_entry(5, 6, "big.safetensors", "loras", name="n" * 2_000_000)
    host_env.write_catalogs(catalog(big, civitai_entry(7, 8, "small.safetensors", "loras")))
    result = host_env.ok("map")
    assert set(result["by_version"]) == {"5", "7"} and len(result["by_version"]["5"]["name"]) == 512
    assert host_env.ok("lookup", version_ids=[5])["by_version"]["5"]["file"] == "big.safetensors"


def test_remove_copes_with_non_string_dests_and_removes_both_promote_copies(host_env):
    weird = civitai_entry(1, 2, "a.safetensors", "loras")
    weird["dest"] = 5
    listed = civitai_entry(3, 4, "a.safetensors", "loras")
    host_env.write_catalogs(catalog(weird, listed), catalog(civitai_entry(3, 4, "a.safetensors", "loras")))
    result = host_env.ok("remove", file="a.safetensors")
    assert result["catalog"] == "models"
    assert [e["file"] for e in host_env.read("models")["categories"][0]["models"]] == ["a.safetensors"]
    assert host_env.read("models")["categories"][0]["models"][0]["dest"] == 5  # untouched
    assert host_env.read("loras")["categories"][0]["models"] == []


def test_a_forbidden_origin_learns_nothing_else(host_env):
    out = io.BytesIO()
    data = frame({"op": "nope"}) + frame({"op": "lookup", "version_ids": [1], "x": 1})
    serve(io.BytesIO(data), out, Context(origin="chrome-extension://aaaabbbbccccddddeeeeffffgggghhhh/"))
    assert [r["error"]["code"] for r in unframe_all(out.getvalue())] == ["forbidden_origin"] * 2


def test_extension_ids_are_normalised(host_env):
    host_env.config_path.write_text(json.dumps(
        {"extension_ids": [" CHROME-EXTENSION://ABCDEFGHIJKLMNOPABCDEFGHIJKLMNOP/ "]}))
    out = io.BytesIO()
    serve(io.BytesIO(frame({"op": "ping"})), out,
          Context(origin="chrome-extension://abcdefghijklmnopabcdefghijklmnop/"))
    assert unframe_all(out.getvalue())[0]["ok"]


def test_in_place_same_size_edit_with_restored_mtime_is_seen(host_env):
    host_env.write_catalogs(catalog(civitai_entry(111111, 1, "a.safetensors", "loras")))
    assert host_env.ok("lookup", version_ids=[111111])["by_version"]["111111"]
    before = os.stat(host_env.models_json)
    text = host_env.models_json.read_text().replace("111111", "222222")
    with open(host_env.models_json, "r+") as handle:  # same inode, same size
        handle.write(text)
    os.utime(host_env.models_json, ns=(before.st_atime_ns, before.st_mtime_ns))  # like cp -p
    found = host_env.ok("lookup", version_ids=[111111, 222222])["by_version"]
    assert found["111111"] is None and found["222222"]["file"] == "a.safetensors"


def test_a_damaged_index_is_rebuilt(host_env):
    host_env.write_catalogs(catalog(civitai_entry(5, 6, "a.safetensors", "loras")))
    host_env.ok("lookup", version_ids=[5])
    path = Path(index_path(host_env.catalog_dir))
    data = path.read_bytes()
    path.write_bytes(data[:-30])  # truncated
    assert host_env.ok("lookup", version_ids=[5])["by_version"]["5"]["file"] == "a.safetensors"
    path.write_bytes(data[:-30] + b"#" * 30)  # same length, garbage records
    error = host_env.error("lookup", version_ids=[5])
    assert error["code"] == "index_damaged" and not os.path.exists(path)
    assert host_env.ok("lookup", version_ids=[5])["by_version"]["5"]["file"] == "a.safetensors"


def test_write_json_helper_round_trip(tmp_path):
    assert json.loads(write_json(tmp_path / "x.json", {"a": 1})) == {"a": 1}


def test_a_symlinked_catalog_is_written_through_and_keeps_its_mode(host_env, tmp_path):
    studio = tmp_path / "studio" / "models.json"
    write_json(studio, catalog(civitai_entry(1, 2, "a.safetensors", "loras"),
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
    host_env.write_catalogs(catalog(civitai_entry(1, 2, "a.safetensors", "loras")))
    before = host_env.snapshot()
    (host_env.catalog_dir / ".catalog-host.lock").mkdir()  # not a file: the lock cannot be taken
    error = host_env.error("remove", file="a.safetensors")
    assert error["code"] == "catalog_write_failed" and "lock" in error["message"]
    assert host_env.snapshot() == before


def test_lookup_needs_at_least_one_version_id(host_env):
    assert host_env.error("lookup", version_ids=[])["code"] == "invalid_request"


def test_headers_dripping_past_the_budget_are_cut_off(monkeypatch):
    import socket
    import threading
    import time

    from host.civitai import client as client_module
    from host.errors import CivitaiUnreachableError

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    stop = threading.Event()

    def drip() -> None:
        conn, _ = server.accept()
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        while not stop.is_set():  # one header byte every 0.2 s: no read ever times out
            try:
                conn.sendall(b"X")
            except OSError:
                break
            time.sleep(0.2)
        conn.close()

    threading.Thread(target=drip, daemon=True).start()
    monkeypatch.setattr(client_module, "TOTAL_BUDGET_S", 1.5)
    civitai = client_module.CivitaiClient(f"http://127.0.0.1:{server.getsockname()[1]}")
    started = time.monotonic()
    try:
        civitai.get_json("/api/v1/model-versions/1")
        raise AssertionError("expected a timeout")
    except CivitaiUnreachableError as exc:
        assert "too slowly" in exc.message
    finally:
        stop.set()
        server.close()
    assert time.monotonic() - started < 6


def test_the_api_key_never_travels_over_plain_http_to_another_machine():
    from host.civitai.client import CivitaiClient

    assert "Authorization" in CivitaiClient("https://civitai.com", "k" * 20)._headers()
    assert "Authorization" in CivitaiClient("http://127.0.0.1:8080", "k" * 20)._headers()
    assert "Authorization" not in CivitaiClient("http://civitai.example", "k" * 20)._headers()
