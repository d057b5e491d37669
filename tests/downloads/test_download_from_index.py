"""`download` takes what it needs of a catalog entry from the read index (no catalog parse while
the person waits), and only when the index holds it exactly (host.download.queue.indexed_entry)."""

from __future__ import annotations

import hashlib

from host.catalog.index import open_index
from host.catalog.views import MAX_TEXT_JSON_BYTES, text_is_whole
from host.download.queue import indexed_entry

MIB = 1024 * 1024
# 21 folders of 47 characters joined Windows-style: 1,007 bytes on disk (under the 1,024 a
# dest may have), 1,027 as JSON (each backslash is escaped): a record cuts it.
LONG_DEST = "\\".join(f"{n:02d}" + "d" * 45 for n in range(21))


def test_text_is_whole_only_well_inside_the_record_budget():
    assert text_is_whole("style.safetensors")
    assert text_is_whole("水墨画スタイル.safetensors")
    assert text_is_whole("a" * (MAX_TEXT_JSON_BYTES - 6))
    assert not text_is_whole("a" * (MAX_TEXT_JSON_BYTES - 5))
    assert not text_is_whole(LONG_DEST) and len(LONG_DEST.encode()) <= 1024
    assert not text_is_whole(None) and not text_is_whole(7)


def test_the_index_gives_file_folder_file_id_and_hash(bench):
    sha = "AB" * 32
    bench.write_models(bench.catalog_entry(900, "ink.safetensors", sha, "loras/styles", file_id=4321))
    assert indexed_entry(str(bench.env.catalog_dir), "900") == {
        "file": "ink.safetensors", "dest": "loras/styles", "civitai_file_id": "4321", "hash": sha.lower()}
    assert indexed_entry(str(bench.env.catalog_dir), "901") is None


def test_internal_fields_never_reach_a_reply(bench):
    bench.write_models(bench.catalog_entry(902, "ink.safetensors", "CD" * 32, file_id=77))
    index = open_index(bench.env.catalog_dir)
    try:
        assert index.records(["902"])["902"]["file_id"] == "77"  # it is in the index ...
    finally:
        index.close()
    record = bench.env.ok("lookup", version_ids=[902])["by_version"]["902"]
    assert "file_id" not in record and "hash" not in record  # ... and in no reply
    (page_record,) = bench.env.ok("map")["by_version"].values()
    assert "file_id" not in page_record and "hash" not in page_record


def test_a_folder_cut_for_replies_is_downloaded_to_its_whole_path(bench):
    _, sha = bench.make_model("deep.safetensors", MIB)
    bench.write_models(bench.catalog_entry(903, "deep.safetensors", sha, LONG_DEST))
    bench.offer(903, "deep.safetensors")
    index = open_index(bench.env.catalog_dir)
    try:
        assert index.records(["903"])["903"]["dest"] != LONG_DEST  # cut for replies ...
    finally:
        index.close()
    assert indexed_entry(str(bench.env.catalog_dir), "903")["dest"] == LONG_DEST  # ... and kept whole
    result = bench.env.ok("download", version_id=903)
    assert result["status"] == "queued" and result["dest"] == LONG_DEST
    assert bench.wait_state(903, "done", "failed")["state"] == "done"
    final = bench.env.models_dir.joinpath(*LONG_DEST.split("\\"), "deep.safetensors")
    assert hashlib.sha256(final.read_bytes()).hexdigest().upper() == sha


def test_an_unreadable_catalog_makes_the_index_step_aside(bench):
    bench.write_models(bench.catalog_entry(904, "ink.safetensors", None))
    bench.env.loras_json.write_text("{ not json", "utf-8")
    assert indexed_entry(str(bench.env.catalog_dir), "904") is None
    result = bench.env.ok("download", version_id=904)  # the files decide: models.json holds it
    assert (result["status"], result["dest"], result["file"]) == ("queued", "loras", "ink.safetensors")



def test_a_file_in_a_folder_cut_for_replies_shows_present(bench):
    """The record's dest is cut for replies; looking for the file under that cut folder found
    nothing: the downloaded file showed `missing` in lookup and map (and the map etag, made
    from the cut folder's state, never changed when it arrived)."""
    _, sha = bench.make_model("deep.safetensors", MIB)
    bench.write_models(bench.catalog_entry(905, "deep.safetensors", sha, LONG_DEST))
    bench.offer(905, "deep.safetensors")
    etag = bench.env.ok("map")["etag"]
    assert bench.env.ok("download", version_id=905)["status"] == "queued"
    assert bench.wait_state(905, "done", "failed")["state"] == "done"
    record = bench.env.ok("lookup", version_ids=[905])["by_version"]["905"]
    final = bench.env.models_dir.joinpath(*LONG_DEST.split("\\"), "deep.safetensors")
    assert (record["status"], record["path"]) == ("present", str(final))
    assert record["dest"] != LONG_DEST and "dest_whole" not in record  # the reply keeps its bound
    page = bench.env.ok("map", etag=etag)
    assert "unchanged" not in page and page["by_version"]["905"]["status"] == "present"
    assert "dest_whole" not in page["by_version"]["905"]


def test_an_unsafe_folder_cut_for_replies_is_refused_from_the_catalog(bench):
    unsafe = "loras/" + "a\x01" * 600  # control characters: never a folder, and cut in the index
    bench.write_models(bench.catalog_entry(905, "ink.safetensors", None, unsafe))
    assert indexed_entry(str(bench.env.catalog_dir), "905") is None
    assert bench.env.error("download", version_id=905)["code"] == "unsafe_path"
    assert bench.jobs_file()["jobs"] == []
