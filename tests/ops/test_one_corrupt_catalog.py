"""Issue 11 M: one catalog that cannot be read does not block reads of the other. `lookup` and
`map` answer from the healthy catalog and name the unreadable one in `catalog_errors`; the
writes that need both catalogs still refuse, and nothing is written."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.catalogs import studio_catalogs

MODELS_VERSION, LORAS_VERSION = "9208", "100001"


@pytest.fixture(params=["models", "loras"])
def broken(request: pytest.FixtureRequest, host_env: Any) -> tuple[Any, str]:
    host_env.write_catalogs(*studio_catalogs())
    (host_env.catalog_dir / f"{request.param}.json").write_bytes(b'{"version": 3, "categories": [')
    return host_env, request.param


def healthy_version(name: str) -> str:
    return LORAS_VERSION if name == "models" else MODELS_VERSION


def broken_version(name: str) -> str:
    return MODELS_VERSION if name == "models" else LORAS_VERSION


def test_lookup_answers_from_the_healthy_catalog_and_names_the_other(broken: tuple[Any, str]) -> None:
    env, name = broken
    result = env.ok("lookup", version_ids=[healthy_version(name), broken_version(name)])
    healthy = "loras" if name == "models" else "models"
    assert result["by_version"][healthy_version(name)]["catalog"] == healthy
    assert result["by_version"][broken_version(name)] is None  # cannot be known: see catalog_errors
    assert list(result["catalog_errors"]) == [name]
    assert f"{name}.json is not valid JSON" in result["catalog_errors"][name]


def test_map_answers_from_the_healthy_catalog_and_names_the_other(broken: tuple[Any, str]) -> None:
    env, name = broken
    result = env.ok("map")
    healthy = "loras" if name == "models" else "models"
    assert result["by_version"] and {r["catalog"] for r in result["by_version"].values()} == {healthy}
    assert list(result["catalog_errors"]) == [name]
    again = env.ok("map", etag=result["etag"])
    assert again["unchanged"] is True and list(again["catalog_errors"]) == [name]


def test_a_healthy_pair_has_no_catalog_errors(host_env: Any) -> None:
    host_env.write_catalogs(*studio_catalogs())
    assert "catalog_errors" not in host_env.ok("lookup", version_ids=[MODELS_VERSION])
    assert "catalog_errors" not in host_env.ok("map")


@pytest.mark.parametrize("request_", [
    {"op": "add", "version_id": 148210},
    {"op": "promote", "version_id": 200001},
    {"op": "remove", "file": "old_sd15.safetensors"},
], ids=["add", "promote", "remove"])
def test_writes_that_need_both_catalogs_still_refuse(broken: tuple[Any, str], request_: dict[str, Any]) -> None:
    env, name = broken
    before = env.snapshot()
    params = {k: v for k, v in request_.items() if k != "op"}
    error = env.error(request_["op"], **params)
    assert error["code"] == "catalog_corrupt" and name in error["message"], error
    assert env.snapshot() == before


def test_a_catalog_error_in_a_reply_is_bounded(host_env: Any) -> None:
    """The message quotes a category id: a hostile one must not make lookup replies huge."""
    host_env.write_catalogs(*studio_catalogs())
    host_env.write_catalogs(loras={"version": 1, "categories": [{"id": "x" * 2_000_000, "models": 5}]})
    message = host_env.ok("lookup", version_ids=[MODELS_VERSION])["catalog_errors"]["loras"]
    assert message.startswith("loras.json is not a catalog") and len(message.encode()) <= 1024


@pytest.mark.parametrize("request_", [
    {"op": "add", "version_id": 148210},
    {"op": "promote", "version_id": 200001},
    {"op": "remove", "file": "old_sd15.safetensors"},
], ids=["add", "promote", "remove"])
def test_a_write_refused_for_a_corrupt_catalog_says_so_in_one_frame(host_env: Any, request_: dict[str, Any]) -> None:
    """The refusal quotes a category id: a hostile one must not turn it into reply_too_large."""
    from host.framing import MAX_REPLY_BYTES, encode_message

    host_env.write_catalogs(*studio_catalogs())
    host_env.write_catalogs(loras={"version": 1, "categories": [{"id": "x" * 2_000_000, "models": 5}]})
    reply = host_env.call(request_["op"], **{k: v for k, v in request_.items() if k != "op"})
    assert reply["error"]["code"] == "catalog_corrupt", reply["error"]["code"]
    assert reply["error"]["message"].startswith("loras.json is not a catalog")
    assert len(encode_message(reply)) <= MAX_REPLY_BYTES
