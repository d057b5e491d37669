"""The read index after writes: refreshed after the reply, never trusted when stale."""

from __future__ import annotations

import io

from host.catalog import document
from host.catalog.index import _open_cached
from host.catalog.layout import catalog_signature
from host.catalog.transaction import transaction
from host.context import Context
from host.server import serve
from tests.support.catalogs import civitai_entry, one_category_catalog, write_json
from tests.support.frames import frame, unframe_all


def test_the_loop_refreshes_the_index_after_replying_to_a_write(host_env):
    host_env.write_catalogs(one_category_catalog(civitai_entry(1, 2, "a.safetensors", "loras"),
                                                 civitai_entry(3, 4, "b.safetensors", "loras")))
    out = io.BytesIO()
    serve(io.BytesIO(frame({"op": "remove", "file": "a.safetensors"})), out, Context())
    assert unframe_all(out.getvalue())[0]["result"]["status"] == "removed"
    index = _open_cached(host_env.catalog_dir)  # current without any rebuild by a reader
    assert index is not None and index.signature == catalog_signature(host_env.catalog_dir)
    assert index.records(["1", "3"]).keys() == {"3"}
    index.close()


def test_a_refresh_overtaken_by_another_write_is_never_trusted(host_env):
    host_env.write_catalogs(one_category_catalog(civitai_entry(1, 2, "a.safetensors", "loras")))
    context = Context()
    with transaction(host_env.catalog_dir, context.after_reply) as txn:
        document.append_entry(txn.docs["models"], "loras", "LoRAs",
                              civitai_entry(5, 6, "e.safetensors", "loras"))
        txn.mark_changed("models")
    # before this writer's deferred refresh runs, another program rewrites the file
    newer = one_category_catalog(civitai_entry(7, 8, "g.safetensors", "loras"))
    newer["version"] = 99
    write_json(host_env.models_json, newer)
    context.run_after_reply()  # writes an index for the documents it saved, under their signature
    found = host_env.ok("lookup", version_ids=[1, 5, 7])["by_version"]
    assert found["1"] is None and found["5"] is None and found["7"]["file"] == "g.safetensors"


def test_work_left_after_a_reply_belongs_to_its_own_context(host_env):
    """Two in-process conversations (tests, threads) never run each other's deferred work."""
    host_env.write_catalogs(one_category_catalog(civitai_entry(1, 2, "a.safetensors", "loras")))
    writer, other = Context(), Context()
    with transaction(host_env.catalog_dir, writer.after_reply) as txn:
        txn.mark_changed("models")
    other.run_after_reply()
    assert _open_cached(host_env.catalog_dir) is None  # nothing ran: no index was written
    writer.run_after_reply()
    index = _open_cached(host_env.catalog_dir)
    assert index is not None and index.records(["1"]).keys() == {"1"}
    index.close()


def test_a_failing_deferred_work_is_logged_and_the_rest_still_runs(host_env):
    ran = []
    context = Context()
    context.after_reply(lambda: 1 / 0)
    context.after_reply(lambda: ran.append("second"))
    context.run_after_reply()
    assert ran == ["second"]
    context.run_after_reply()  # each piece of work runs once
    assert ran == ["second"]
