"""The extension stub and the host in a real headless Firefox ESR: the project's installer
registers the host for Firefox, the stub runs as a temporary add-on, and the same end-to-end
cases as in Chromium run: ping on both channels, lookup, add against the fake CivitAI (as the
popup asks, and by clicking Add in the popup over a model page), the page panel on a fake
civitai.com page, and what a person sees when the registration is wrong."""

from __future__ import annotations

import json
import time

import pytest

from tests.browser.fake_site import ModelPage, Version
from tests.browser.harness import catalog_entry
from tests.disk.scan_support import write_model
from tests.firefox.harness import GECKO_ID, FirefoxWorld
from tests.support.fake_civitai import FakeCivitai, load_fixture
from tests.support.processes import pid_alive

pytestmark = pytest.mark.browser

MODEL = 5001
V_NEW, V_MID, V_OLD = 6003, 6002, 6001
SCAN_WAIT_S = 60.0
NO_SUCH_HOST = "No such native application com.civitai_catalog.host"


def doctor(ff: FirefoxWorld) -> tuple[int, str]:
    done = ff.installer("doctor", check=False)
    return done.returncode, done.stdout


def test_the_installer_registered_the_host_for_firefox(ff: FirefoxWorld) -> None:
    manifest = json.loads(ff.host_manifest.read_text("utf-8"))
    assert manifest["name"] == "com.civitai_catalog.host" and manifest["type"] == "stdio"
    assert manifest["allowed_extensions"] == [GECKO_ID]
    assert "allowed_origins" not in manifest
    status, out = doctor(ff)
    assert status == 0, out
    assert "answers ping" in out


@pytest.mark.parametrize("channel", ["port", "once"])
def test_ping_through_each_channel_with_firefox_s_arguments(ff: FirefoxWorld, channel: str) -> None:
    answer = ff.host_request("ping", channel=channel)
    assert answer["ok"], answer
    assert answer["channel"] == channel
    result = answer["result"]
    assert result["host"] == "catalog-host" and result["protocol"] == 1
    assert result["catalog_dir"] == str(ff.catalog_dir)
    assert result["models_dir"] == str(ff.models_dir)
    if channel == "port":  # the port's host process is still running: read its argv
        (argv,) = ff.wait_host_pids(1).values()
        assert argv[-2:] == [str(ff.host_manifest), GECKO_ID]


def test_the_popup_says_the_host_is_reachable(ff: FirefoxWorld) -> None:
    ff.open_extension_page()  # the popup page pings on load; this waits for the answer
    assert ff.js("return document.getElementById('state').dataset.state") == "ok"
    assert ff.js("return document.getElementById('catalog-dir').textContent") == str(ff.catalog_dir)


def test_lookup_through_the_extension(ff: FirefoxWorld) -> None:
    ff.write_catalog("models", {"loras": [
        catalog_entry(V_MID, MODEL, "watercolor_v2.safetensors", "loras"),
        catalog_entry(V_OLD, MODEL, "watercolor_v1.safetensors", "loras"),
    ]})
    ff.put_model_file("loras", "watercolor_v1.safetensors")
    answer = ff.message("lookup", {"version_ids": [V_NEW, V_MID, V_OLD], "model_ids": [MODEL]})
    assert answer["ok"], answer
    by_version = answer["result"]["by_version"]
    assert by_version[str(V_NEW)] is None
    assert by_version[str(V_MID)]["status"] == "missing"
    assert by_version[str(V_OLD)]["status"] == "present"
    assert answer["result"]["by_model"] == {str(MODEL): [str(V_MID), str(V_OLD)]}


def test_add_through_the_extension_against_the_fake_civitai(
    ff: FirefoxWorld, firefox_civitai: FakeCivitai
) -> None:
    payload = load_fixture("sdxl_lora")
    payload.update(id=V_NEW, modelId=MODEL)
    firefox_civitai.add_version(payload)
    answer = ff.message("add", {"version_id": V_NEW})
    assert answer["ok"], answer
    assert answer["result"]["status"] == "added"
    assert len(firefox_civitai.requests_for(V_NEW)) == 1
    assert ff.catalog_version_ids("models") == {V_NEW}
    again = ff.message("add", {"version_id": V_NEW})
    assert again["result"]["status"] == "already_exists"
    assert len(firefox_civitai.requests_for(V_NEW)) == 1  # known locally: CivitAI not asked


def test_the_page_panel_on_a_fake_civitai_model_page(ff: FirefoxWorld) -> None:
    ff.write_catalog("models", {"loras": [
        catalog_entry(V_MID, MODEL, "watercolor_v2.safetensors", "loras"),
        catalog_entry(V_OLD, MODEL, "watercolor_v1.safetensors", "loras"),
    ]})
    ff.put_model_file("loras", "watercolor_v1.safetensors")
    ff.open_model_page(ModelPage(MODEL, "Watercolor Dreams XL", [
        Version(V_NEW, "v3.0"), Version(V_MID, "v2.0"), Version(V_OLD, "v1.0", "SD 1.5")]))
    assert ff.panel_states(3) == {V_NEW: "other", V_MID: "missing", V_OLD: "present"}
    text, tooltip = ff.panel_footer()
    assert text == "Add · Download: in the toolbar popup"
    assert tooltip.startswith("Click “CivitAI Catalog (stub)” in the browser's toolbar")
    # The panel is out of the page's reach: its shadow root is closed to page scripts.
    assert ff.js("return document.querySelector('civitai-catalog-stub').shadowRoot") is None

    ff.open_model_page(ModelPage(5002, "Paper Cut Style", [Version(7001, "v1"), Version(7002, "v2")]))
    assert ff.panel_states(2) == {7001: "absent", 7002: "absent"}
    assert ff.proxy is not None
    assert [r for r in ff.proxy.refused if "civitai.com" in r] == []


def test_a_wrong_add_on_id_in_the_manifest_looks_like_no_host_and_doctor_says_why(
    ff: FirefoxWorld,
) -> None:
    manifest = json.loads(ff.host_manifest.read_text("utf-8"))
    manifest["allowed_extensions"] = ["someone-else@example.com"]
    ff.host_manifest.write_text(json.dumps(manifest))
    ff.install_is_default = False
    answer = ff.host_request("ping", channel="once")
    assert answer["error"]["code"] == "host_not_installed"
    assert NO_SUCH_HOST in answer["error"]["message"]  # what Firefox says: no hint of the id
    status, out = doctor(ff)
    assert status == 1
    assert f"does not allow the configured Firefox add-on id(s) ['{GECKO_ID}']" in out


def test_the_host_refuses_an_add_on_its_config_does_not_allow(ff: FirefoxWorld) -> None:
    # The manifest lets Firefox start the host, but the host's own config names another add-on:
    # the host checks the id Firefox passes and refuses.
    ff.edit_config(firefox_extension_ids=["someone-else@example.com"])
    answer = ff.message("ping")
    assert answer["ok"] is False
    assert answer["error"]["code"] == "forbidden_origin"
    assert GECKO_ID in answer["error"]["message"]


def test_uninstall_then_the_extension_says_not_installed(ff: FirefoxWorld) -> None:
    ff.uninstall_host()
    assert not ff.host_manifest.exists()
    answer = ff.message("ping")
    assert answer["error"]["code"] == "host_not_installed"
    assert "install" in answer["error"]["hint"]



def test_add_from_the_popup_over_a_model_page(ff: FirefoxWorld, firefox_civitai: FakeCivitai) -> None:
    payload = load_fixture("sdxl_lora")
    payload.update(id=V_NEW, modelId=MODEL)
    firefox_civitai.add_version(payload)
    ff.write_catalog("models", {"loras": [
        catalog_entry(V_MID, MODEL, "watercolor_v2.safetensors", "loras")]})
    ff.open_model_page(ModelPage(MODEL, "Watercolor Dreams XL", [
        Version(V_NEW, "v3.0"), Version(V_MID, "v2.0")]))
    assert ff.panel_states(2) == {V_NEW: "other", V_MID: "missing"}
    page = ff.open_actions()
    try:
        rows = ff.popup_rows()
        assert rows[V_NEW]["state"] == "other" and "add" in rows[V_NEW]["actions"]
        ff.popup_click(V_NEW, "add")
        assert ff.catalog_version_ids("models") == {V_MID, V_NEW}
        assert ff.popup_rows()[V_NEW]["state"] == "missing"
        assert len(firefox_civitai.requests_for(V_NEW)) == 1
    finally:
        ff.close_actions(page)


def test_scan_and_adopt_from_the_popup_over_a_model_page(ff: FirefoxWorld, firefox_civitai: FakeCivitai) -> None:
    """Issue 10 in Firefox: the popup's Scan button runs the host's scan job, the tab's version
    shows as on disk, Adopt (an extension-page op) makes it Downloaded, and the page follows."""
    path, sha, _ = write_model(ff.models_dir / "loras" / "paper_cut.safetensors", "paper cut", 32 * 1024)
    firefox_civitai.add_hash(sha, 7001, 5002)
    payload = load_fixture("sdxl_lora")
    payload.update(id=7001, modelId=5002)
    payload["files"][0].update(name="paper_cut_v1.safetensors", hashes={"SHA256": sha.upper()})
    firefox_civitai.add_version(payload)
    ff.open_model_page(ModelPage(5002, "Paper Cut Style", [Version(7001, "v1"), Version(7002, "v2")]))
    assert ff.panel_states(2) == {7001: "absent", 7002: "absent"}

    page = ff.open_actions()
    try:
        m = ff.marionette
        button = m.command("WebDriver:FindElement", {"using": "css selector", "value": "#scan-button"})
        m.command("WebDriver:ElementClick", {"id": next(iter(button["value"].values()))})
        ff.wait_popup("document.getElementById('scan').dataset.state === 'done' && "
                      "document.querySelector('.version[data-version-id=\"7001\"] .badge')"
                      "?.dataset.state === 'untracked'")
        assert "1 version identified by CivitAI" in ff.js("return document.getElementById('scan-text').textContent")
        rows = ff.popup_rows()
        assert (rows[7001]["actions"], rows[7002]["state"]) == (["adopt"], "absent")
        ff.popup_click(7001, "adopt")
        assert ff.popup_rows()[7001]["state"] == "present"
    finally:
        ff.close_actions(page)
    entries = [e for c in json.loads((ff.catalog_dir / "models.json").read_text("utf-8"))["categories"]
               for e in c["models"]]
    assert [(e["civitai_version_id"], e["file"], e["dest"]) for e in entries] == [
        (7001, "paper_cut.safetensors", "loras")]
    assert path.exists()
    # (the popup opened here is a tab, whose "refresh" the content script ignores as it would
    # another tab's: the page is loaded again instead)
    ff.open_model_page(ModelPage(5002, "Paper Cut Style", [Version(7001, "v1"), Version(7002, "v2")]))
    assert ff.panel_states(2) == {7001: "present", 7002: "other"}
    wait_worker_gone(ff)


def wait_worker_gone(ff: FirefoxWorld) -> None:
    """The scan's detached worker exits on its own once idle; the next test empties its folder."""
    deadline = time.monotonic() + SCAN_WAIT_S
    while True:
        try:
            jobs = json.loads((ff.catalog_dir / ".catalog-host-jobs").read_text("utf-8"))
        except (OSError, ValueError):
            return
        pid = (jobs.get("worker") or {}).get("pid")
        if not pid or not pid_alive(int(pid)):  # a zombie has exited
            return
        assert time.monotonic() < deadline, "the scan worker did not exit"
        time.sleep(0.05)
