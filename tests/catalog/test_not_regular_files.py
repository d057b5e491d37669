"""Issue 11 I: a FIFO (or another file that is not a regular file) where the host expects a
catalog, its read index, its summary or the config must never block a request: opening a
FIFO for reading waits for a writer that never comes. The catalogs and the config give a clear
error naming the file; the index and the summary are caches and are rebuilt. Real host
processes, bounded by a timeout (a hang fails the test instead of hanging it)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from typing import Any

import pytest

from host.catalog.layout import INDEX_NAME, SUMMARY_NAME
from tests.support.catalogs import studio_catalogs
from tests.support.frames import frame, unframe_all

STUB_ORIGIN = "chrome-extension://jpiddlinckgdlidmojineffgcdpfoacg/"
REQUESTS = [
    {"op": "ping"},
    {"op": "lookup", "version_ids": [9208, 100001]},
    {"op": "map"},
    {"op": "remove", "file": "old_sd15.safetensors"},
]


def serve(host_env: Any) -> list[dict[str, Any]]:
    data = b"".join(frame({**request, "id": n}) for n, request in enumerate(REQUESTS))
    try:
        proc = subprocess.run([sys.executable, "-m", "host", STUB_ORIGIN], input=data, capture_output=True,
                              env=host_env.env, timeout=20, cwd=host_env.root)
    except subprocess.TimeoutExpired:
        pytest.fail("the host blocked on a file that is not a regular file")
    replies = unframe_all(proc.stdout)
    assert len(replies) == len(REQUESTS), proc.stderr
    for reply in replies:
        assert reply["ok"] or reply["error"]["code"] != "internal_error", reply
    return replies


@pytest.fixture
def studio(host_env: Any) -> Any:
    host_env.write_catalogs(*studio_catalogs())
    return host_env


@pytest.mark.parametrize("cache", [INDEX_NAME, SUMMARY_NAME])
def test_a_fifo_for_a_cache_is_replaced_by_a_rebuilt_one(studio: Any, cache: str) -> None:
    intact = serve(studio)
    for name in (INDEX_NAME, SUMMARY_NAME):
        (studio.catalog_dir / name).unlink()
    os.mkfifo(studio.catalog_dir / cache)
    studio.write_catalogs(*studio_catalogs())  # the remove above changed models.json: restore it
    replies = serve(studio)
    assert [r["ok"] for r in replies] == [True] * len(REQUESTS), replies
    assert replies[1]["result"] == intact[1]["result"]
    assert stat.S_ISREG((studio.catalog_dir / cache).stat().st_mode), "the FIFO is still there"


@pytest.mark.parametrize("catalog", ["models", "loras"])
def test_a_fifo_for_a_catalog_is_a_clear_error(studio: Any, catalog: str) -> None:
    path = studio.catalog_dir / f"{catalog}.json"
    path.unlink()
    os.mkfifo(path)
    replies = serve(studio)
    ping = replies[0]["result"]["catalogs"][catalog]
    assert "not a regular file" in ping["error"], ping
    remove = replies[3]
    assert remove["error"]["code"] == "catalog_corrupt" and "not a regular file" in remove["error"]["message"]
    assert path.is_fifo()  # left as it was


def test_a_fifo_for_the_config_is_a_clear_error(studio: Any) -> None:
    os.mkfifo(studio.config_path)
    replies = serve(studio)
    for reply in replies:
        assert reply["error"]["code"] == "config_invalid", reply
