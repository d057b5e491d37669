"""The extension stub and the host in a real Chromium: channels, reconnects, the popup,
installation problems a person must be able to act on, and `map` paging."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.browser.harness import OTHER_ID, STUB_DIR, STUB_ID, World, catalog_entry, extension_id_from_key
from tests.support.fake_civitai import FakeCivitai, Response, load_fixture

pytestmark = pytest.mark.browser

MIB = 1024 * 1024


def test_the_stub_key_gives_the_fixed_extension_id() -> None:
    manifest = json.loads((STUB_DIR / "manifest.json").read_text("utf-8"))
    assert extension_id_from_key(manifest["key"]) == STUB_ID
    assert manifest["manifest_version"] == 3
    assert "nativeMessaging" in manifest["permissions"]
    assert not list(STUB_DIR.glob("*.pem")), "only the public key may be committed"


def test_the_browser_gives_the_stub_the_fixed_id(world: World) -> None:
    assert world.sw("chrome.runtime.id") == STUB_ID


def test_installer_registered_the_host_in_the_user_data_dir(world: World) -> None:
    manifest = json.loads(world.host_manifest.read_text("utf-8"))
    assert manifest["name"] == "com.civitai_catalog.host"
    assert manifest["type"] == "stdio"
    assert manifest["allowed_origins"] == [f"chrome-extension://{STUB_ID}/"]


@pytest.mark.parametrize("channel", ["port", "once"])
def test_ping_through_each_channel(world: World, channel: str) -> None:
    answer = world.host_request("ping", channel=channel)
    assert answer["ok"], answer
    assert answer["channel"] == channel
    result = answer["result"]
    assert result["host"] == "catalog-host"
    assert result["protocol"] == 1
    assert result["version"]
    # the folders the project's installer configured
    assert result["catalog_dir"] == str(world.catalog_dir)
    assert result["models_dir"] == str(world.models_dir)
    assert result["models_dir_exists"] is True


def test_the_port_is_one_host_process_for_many_requests(world: World) -> None:
    for _ in range(5):
        assert world.host_request("ping", channel="port")["ok"]
    status = world.sw("catalogHost.status()")
    assert status["portOpen"] is True
    connects = status["portConnects"]
    world.wait_host_pids(1)
    for _ in range(20):
        assert world.host_request("lookup", {"version_ids": [1, "2"]}, channel="port")["ok"]
    assert world.sw("catalogHost.status()")["portConnects"] == connects


def test_the_port_reconnects_when_the_host_exits(world: World) -> None:
    assert world.host_request("ping", channel="port")["ok"]
    connects = world.sw("catalogHost.status()")["portConnects"]
    killed = world.kill_host()
    deadline = time.monotonic() + 10
    while world.sw("catalogHost.status()")["portOpen"]:
        assert time.monotonic() < deadline, "the extension did not notice that the host exited"
        time.sleep(0.05)

    answer = world.host_request("ping", channel="port")
    assert answer["ok"], answer
    assert answer["channel"] == "port"
    assert world.sw("catalogHost.status()")["portConnects"] == connects + 1
    assert killed not in world.host_pids()


def test_a_request_cut_by_a_host_crash_falls_back_to_send_native_message(
    world: World, fake_civitai: FakeCivitai
) -> None:
    payload = load_fixture("sdxl_lora")
    # the first host to ask waits long enough to be killed; the retry gets an answer at once
    fake_civitai.set_sequence(payload["id"], [Response(200, payload, delay=8.0), Response(200, payload)])
    world.sw(f"globalThis.pendingAdd = catalogHost.request('add', {{version_id: {payload['id']}}}); true")
    deadline = time.monotonic() + 10
    while not fake_civitai.requests_for(payload["id"]):
        assert time.monotonic() < deadline, "the host never asked CivitAI"
        time.sleep(0.05)
    world.kill_host()

    answer = world.sw("globalThis.pendingAdd")
    assert answer["ok"], answer
    assert answer["channel"] == "once"
    assert answer["result"]["status"] == "added"
    assert world.catalog_version_ids("models") == {payload["id"]}


def test_popup_shows_a_reachable_host_and_its_folders(world: World, shots: Path) -> None:
    popup = world.open_popup()
    assert popup.state() == "ok"
    assert popup.text("state") == "Host reachable"
    assert popup.text("host-version").startswith("catalog-host ")
    assert "(protocol 1)" in popup.text("host-version")
    assert popup.text("catalog-dir") == str(world.catalog_dir)
    assert popup.text("models-dir") == str(world.models_dir)
    assert popup.text("extension-id") == STUB_ID
    assert not popup.visible("last-error")
    popup.screenshot(shots / "popup-ok.png")


def test_host_not_installed_says_to_run_the_installer(world: World, shots: Path) -> None:
    from tests.browser.fake_site import ModelPage, Version

    world.uninstall_host()
    assert not world.host_manifest.exists()
    for channel in ("port", "once"):
        answer = world.host_request("ping", channel=channel)
        assert not answer["ok"]
        assert answer["error"]["code"] == "host_not_installed"

    popup = world.open_popup()
    assert popup.state() == "error"
    assert popup.text("state").startswith("Host not installed: run install/install.sh")
    assert popup.visible("last-error")
    assert popup.text("last-error-hint").startswith("Host not installed: run install/install.sh")

    # a model page says the same instead of guessing badges
    page = world.open_model_page(ModelPage(91, "Some model", [Version(9101, "v1")]))
    assert page.notice() is not None
    assert page.notice().startswith("Host not installed: run install/install.sh")
    assert page.badges() == {9101: "Host unavailable"}
    page.screenshot(shots / "page-host-not-installed.png")

    # installing it fixes things without restarting the browser; the popup keeps the last error
    world.install_host()
    popup.recheck()
    assert popup.state() == "ok"
    assert popup.visible("last-error")
    assert "Host not installed" in popup.text("last-error-hint")
    popup.screenshot(shots / "popup-after-reinstall.png")


def test_caller_not_in_allowed_origins_says_which_id_to_install_for(world: World) -> None:
    world.install_host(OTHER_ID)  # the manifest allows another extension only
    for channel in ("port", "once"):
        answer = world.host_request("ping", channel=channel)
        assert not answer["ok"]
        assert answer["error"]["code"] == "host_forbidden"
        assert answer["error"]["message"] == "Access to the specified native messaging host is forbidden."

    popup = world.open_popup()
    assert popup.state() == "error"
    text = popup.text("state")
    assert text.startswith("Host installed but not for this extension")
    assert f"--extension-id {STUB_ID}" in text


def test_host_refusing_the_caller_says_which_id_to_install_for(world: World) -> None:
    world.edit_config(extension_ids=[OTHER_ID])  # Chrome lets us in, the host's own check does not
    answer = world.host_request("ping", channel="port")
    assert not answer["ok"]
    assert answer["error"]["code"] == "forbidden_origin"

    popup = world.open_popup()
    assert popup.state() == "error"
    text = popup.text("state")
    assert text.startswith("The host refuses this extension")
    assert f"--extension-id {STUB_ID}" in text


@pytest.mark.parametrize("channel", ["port", "once"])
def test_a_large_catalog_map_arrives_in_pages_under_1_mib(world: World, channel: str) -> None:
    count = 12_000
    entries = [
        catalog_entry(
            100_000 + i,
            50_000 + i // 4,
            f"model_{i:05d}_{'x' * 60}.safetensors",
            "loras",
            name=f"A long model name to make the catalog big — number {i} {'·' * 40}",
        )
        for i in range(count)
    ]
    world.write_catalog("models", {"loras": entries})
    world.put_model_file("loras", entries[7]["file"])

    answer = world.sw(f"catalogHost.mapAll({{channel: '{channel}'}})", timeout=90)
    assert answer["ok"], answer
    pages = answer["pageBytes"]
    assert len(pages) >= 3, pages
    assert max(pages) <= MIB - 1024, pages  # reply body plus envelope stays under Chrome's cap
    result = answer["result"]
    assert len(result["by_version"]) == count
    assert set(result["by_version"]) == {str(e["civitai_version_id"]) for e in entries}
    assert result["by_version"][str(entries[7]["civitai_version_id"])]["status"] == "present"
    assert result["by_version"][str(entries[8]["civitai_version_id"])]["status"] == "missing"
    assert len(result["by_model"]) == count // 4
    assert all(len(vids) == 4 for vids in result["by_model"].values())

    again = world.sw(f"catalogHost.mapAll({{channel: '{channel}', etag: {json.dumps(result['etag'])}}})")
    assert again["ok"], again
    assert again["result"] == {"unchanged": True, "etag": result["etag"]}
    assert len(again["pageBytes"]) == 1
