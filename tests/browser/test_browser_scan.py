"""Scan and adopt from the toolbar popup, end to end in a real Chromium (issue 10, SPEC §10): the
popup's Scan button queues the real host's scan job, whose detached worker hashes real files in
the models folders and asks the local fake CivitAI's by-hash endpoint (127.0.0.1) which versions
they are; the popup follows the job, the page's read-only badges show what it found, Adopt
writes the catalog entry."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from tests.browser.fake_site import ModelPage, Version
from tests.browser.harness import ActionsView, PageView, World, catalog_entry
from tests.browser.test_browser_model_page import keep_screenshot, lora_payload
from tests.disk.scan_support import write_model
from tests.support.fake_civitai import BY_HASH_PATH, FakeCivitai

pytestmark = pytest.mark.browser

MODEL = 5701
VID = 6701
OTHER_VID = 6702  # a second version of the model, in no catalog and not on disk
SCAN_WAIT_S = 60.0


def scan_from_popup(popup: ActionsView) -> dict[str, Any]:
    """Click Scan, wait (bounded) until the popup shows the job done; the section as shown."""
    popup.click_on("#scan-button")
    popup.session.wait_for(
        "document.getElementById('scan').dataset.state === 'done'",
        timeout=SCAN_WAIT_S,
        interval=0.1,
        what="the scan job to be done",
    )
    return scan_section(popup)


def scan_section(popup: ActionsView) -> dict[str, Any]:
    section: dict[str, Any] = popup.session.evaluate(
        """(() => {
          const s = document.getElementById('scan');
          return {
            hidden: s.hidden,
            state: s.dataset.state,
            text: document.getElementById('scan-text').textContent,
            progress: document.getElementById('scan-progress').hidden ? null
              : document.getElementById('scan-progress-text').textContent,
            problems: [...document.querySelectorAll('#scan-problems li')].map((li) => li.textContent),
            button: !document.getElementById('scan-button').disabled,
          };
        })()"""
    )
    return section


def wait_popup_state(popup: ActionsView, version_id: int, state: str) -> None:
    popup.session.wait_for(
        f"""document.body.dataset.busy === '0' &&
          document.querySelector('.version[data-version-id="{version_id}"] .badge')?.dataset.state === '{state}'""",
        timeout=SCAN_WAIT_S,
        interval=0.1,
        what=f"the popup's row {version_id} to say {state}",
    )


def wait_page_state(page: PageView, version_id: int, state: str) -> None:
    page.session.wait_for(
        f"__catalogStub.root()?.querySelector('.row[data-version-id=\"{version_id}\"] .badge')?.dataset.state === '{state}'",
        context_id=page.context_id,
        timeout=SCAN_WAIT_S,
        what=f"the page badge of {version_id} to say {state}",
    )


def path_line(popup: ActionsView, version_id: int) -> str | None:
    text: str | None = popup.session.evaluate(
        f"document.querySelector('.version[data-version-id=\"{version_id}\"] .path')?.textContent ?? null"
    )
    return text


def popup_folders(popup: ActionsView) -> dict[str, Any]:
    shown: dict[str, Any] = popup.session.evaluate(
        """({
          summary: document.querySelector('#scan-folders summary').textContent,
          folders: [...document.querySelectorAll('#scan-folders li')].map((li) => li.textContent),
          problems: [...document.querySelectorAll('#scan-config-problems li')].map((li) => li.textContent),
        })"""
    )
    return shown


def panel_geometry(page: PageView) -> dict[str, Any]:
    """Every box the page could measure of the panel: the panel, each row and each badge."""
    boxes: dict[str, Any] = page.js(
        """(() => {
          const box = (e) => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; };
          const root = __catalogStub.root();
          return {
            panel: box(root.querySelector('.panel')),
            rows: [...root.querySelectorAll('.row')].map(box),
            badges: [...root.querySelectorAll('.row .badge')].map(box),
            meta: [...root.querySelectorAll('.row .meta')].map(box),
          };
        })()"""
    )
    return boxes


def test_scan_finds_an_untracked_file_and_adopt_makes_it_a_downloaded_entry(
    world: World, fake_civitai: FakeCivitai, shots: Path
) -> None:
    name = "ink_wash_(1).safetensors"  # a browser-made name: the catalog takes it as it is
    path, sha, _ = write_model(world.models_dir / "loras" / "styles" / name, "ink wash v1", 64 * 1024)
    fake_civitai.add_hash(sha, VID, MODEL)  # CivitAI's POST by-hash/ids knows this file
    payload = lora_payload(VID, MODEL, "ink_wash_v1.safetensors")
    payload["files"][0].update(hashes={"SHA256": sha.upper()}, sizeKB=path.stat().st_size / 1024)
    fake_civitai.add_version(payload)

    page = world.open_model_page(ModelPage(MODEL, "Ink Wash", [Version(VID, "v1"), Version(OTHER_VID, "v2")]))
    assert page.badges() == {VID: "Not in catalog", OTHER_VID: "Not in catalog"}
    before = panel_geometry(page)
    popup = world.open_actions(page)
    assert popup.row(VID)["actions"] == ["add", "add_download"]  # nothing scanned yet
    section = scan_section(popup)
    assert (section["hidden"], section["state"], section["button"]) == (False, "none", True)

    section = scan_from_popup(popup)
    assert section["progress"] is None and section["button"] is True
    assert section["text"].startswith("Last scan (")
    assert "1 model file · 1 hashed, 0 unchanged · 1 version identified by CivitAI." in section["text"]
    assert section["problems"] == []
    (scan_job,) = [j for j in world.host_request("jobs")["result"]["jobs"] if j["kind"] == "scan"]
    assert scan_job["state"] == "done" and scan_job["result"]["versions_identified"] == 1

    # the popup and the page ask again once the scan ends
    wait_popup_state(popup, VID, "untracked")
    row = popup.row(VID)
    assert row["badge"] == "On disk, not in catalog"
    assert row["actions"] == ["adopt"]
    assert path_line(popup, VID) == f"On disk: {path}"
    assert popup.row(OTHER_VID)["badge"] == "Not in catalog"
    keep_screenshot(popup.screenshot(shots / "popup-untracked.png"))
    wait_page_state(page, VID, "untracked")
    assert page.badges() == {VID: "On disk, not in catalog", OTHER_VID: "Not in catalog"}
    # the file's name first: the line is clipped to the panel's fixed width
    assert page.rows()[0]["meta"] == f"#{VID} · on disk: {name} in {path.parent} · SDXL 1.0"
    assert page.rows()[0]["actions"] == []  # the page only informs
    assert page.footer() == "Add · Adopt: in the toolbar popup"
    # the page measures the same boxes whatever the scan found
    assert panel_geometry(page) == before
    keep_screenshot(page.screenshot(shots / "page-untracked.png"))  # (this closes the popup)

    popup = world.open_actions(page)  # the person opens it again
    assert popup.row(VID)["actions"] == ["adopt"]
    assert scan_section(popup)["state"] == "done"
    popup.click(VID, "adopt")
    entries = [e for c in world.read_catalog("models")["categories"] for e in c["models"]]
    assert [(e["civitai_version_id"], e["file"], e["dest"], e["hash"]) for e in entries] == [
        (VID, name, "loras/styles", sha.upper())
    ]
    assert "Watercolor Dreams XL" in entries[0]["name"]  # CivitAI's metadata, as `add` takes it
    row = popup.row(VID)
    assert row["message"] == f'Adopted "{entries[0]["name"]}" → loras/styles/{name}'
    assert row["badge"] == "Downloaded"
    assert row["actions"] == ["promote"]
    assert path_line(popup, VID) is None
    assert path.read_bytes()  # adopt moves nothing: the file is where it was
    assert sorted(p.name for p in (world.models_dir / "loras" / "styles").iterdir()) == [name]
    wait_page_state(page, VID, "present")
    assert page.badges() == {VID: "Downloaded", OTHER_VID: "Other version in catalog"}
    assert page.footer() == "Add: in the toolbar popup"
    assert panel_geometry(page) == before
    keep_screenshot(popup.screenshot(shots / "popup-adopted.png"))


def test_found_elsewhere_shows_the_path_on_a_second_disk(
    world: World, fake_civitai: FakeCivitai, shots: Path
) -> None:
    # the entry says loras/ink_wash_v1.safetensors; the file is on a second disk (an
    # extra_model_paths.yaml folder, as ComfyUI reads it) under the name the browser gave it
    disk2 = world.root / "disk2"
    moved, sha, _ = write_model(disk2 / "loras" / "ink_wash_v1 (1).safetensors", "ink wash moved", 32 * 1024)
    yaml_file = world.root / "config" / "extra_model_paths.yaml"
    yaml_file.write_text(f"disk2:\n  base_path: {disk2}\n  loras: loras\n", "utf-8")
    world.edit_config(extra_model_paths=[str(yaml_file)])
    world.write_catalog(
        "models", {"loras": [catalog_entry(VID, MODEL, "ink_wash_v1.safetensors", "loras", hash=sha.upper())]}
    )
    try:
        page = world.open_model_page(ModelPage(MODEL, "Ink Wash", [Version(VID, "v1"), Version(OTHER_VID, "v2")]))
        assert page.badges() == {VID: "In catalog", OTHER_VID: "Other version in catalog"}
        before = panel_geometry(page)
        popup = world.open_actions(page)
        assert popup.row(VID)["actions"] == ["download", "promote", "remove"]

        folders = popup_folders(popup)  # what a scan walks, from the host's ping
        assert f"loras: {world.models_dir / 'loras'}" in folders["folders"]
        assert f"loras: {disk2 / 'loras'}" in folders["folders"]
        assert folders["summary"] == f"Scans {len(folders['folders'])} folders"
        assert folders["problems"] == []

        section = scan_from_popup(popup)
        assert "1 model file · 1 hashed" in section["text"]
        wait_popup_state(popup, VID, "elsewhere")
        row = popup.row(VID)
        assert row["badge"] == "Found elsewhere"
        assert path_line(popup, VID) == f"Found at: {moved}"
        assert row["message"] == (
            "Not at loras/ink_wash_v1.safetensors: move or rename the file found to that name, "
            "or Remove the entry."
        )
        assert row["actions"] == ["promote", "remove"]  # no second download of a file you have
        keep_screenshot(popup.screenshot(shots / "popup-elsewhere.png"))
        wait_page_state(page, VID, "elsewhere")
        assert page.badges() == {VID: "Found elsewhere", OTHER_VID: "Other version in catalog"}
        assert page.rows()[0]["meta"] == f"#{VID} · found: {moved.name} in {moved.parent} · SDXL 1.0"
        assert panel_geometry(page) == before

        # the person puts the file where the entry says: Downloaded, without another scan
        target = world.models_dir / "loras" / "ink_wash_v1.safetensors"
        target.parent.mkdir(parents=True, exist_ok=True)
        moved.rename(target)
        lookups = popup.lookups()
        popup.session.evaluate("refreshPage()")
        popup.wait_lookups(lookups + 1)
        assert popup.row(VID)["badge"] == "Downloaded"
        assert path_line(popup, VID) is None
    finally:
        world.edit_config(extra_model_paths=[])


def test_a_scan_started_elsewhere_shows_its_progress_and_its_problems(
    world: World, fake_civitai: FakeCivitai
) -> None:
    """A scan queued by someone else (the CLI, another window) shows in the popup while it runs,
    the button waits for it, and its problems are named when it ends."""
    write_model(world.models_dir / "checkpoints" / "base.safetensors", "base", 64 * 1024)
    gate = threading.Event()  # CivitAI holds its by-hash answer until the test lets go
    fake_civitai.set_response(
        BY_HASH_PATH, 403, {"error": "no"}, headers={"X-Test-Gate": lambda: str(gate.wait(SCAN_WAIT_S))}
    )
    try:
        page = world.open_model_page(ModelPage(MODEL, "Ink Wash", [Version(VID, "v1")]))
        popup = world.open_actions(page)
        queued = world.host_request("scan")  # not from this popup
        assert queued["ok"] and queued["result"]["status"] == "queued", queued
        popup.session.evaluate("refreshJobs()")
        popup.session.wait_for(
            "document.getElementById('scan-progress-text').textContent.startsWith('Asking CivitAI')",
            timeout=SCAN_WAIT_S,
            interval=0.1,
            what="the popup to show the scan asking CivitAI",
        )
        section = scan_section(popup)
        assert (section["state"], section["button"]) == ("running", False)
        assert section["progress"] == "Asking CivitAI which versions the new files are…"
        assert section["text"] == "Scanning your model folders…"

        gate.set()
        popup.session.wait_for(
            "document.getElementById('scan').dataset.state === 'done'",
            timeout=SCAN_WAIT_S,
            interval=0.1,
            what="the popup to follow the scan to its end",
        )
        section = scan_section(popup)
        assert section["button"] is True and section["progress"] is None
        assert "1 model file · 1 hashed, 0 unchanged · 0 versions identified by CivitAI · 1 problem." in section["text"]
        (problem,) = section["problems"]
        assert problem.startswith("could not ask CivitAI which versions 1 files are:"), problem
    finally:
        gate.set()


def test_an_unusable_extra_model_paths_file_is_named_in_the_popup(world: World) -> None:
    broken = world.root / "config" / "broken_model_paths.yaml"
    broken.write_text("disk3:\n  base_path: [unclosed\n", "utf-8")
    world.edit_config(extra_model_paths=[str(broken)])
    try:
        page = world.open_model_page(ModelPage(MODEL, "Ink Wash", [Version(VID, "v1")]))
        popup = world.open_actions(page)
        shown = popup_folders(popup)
        (problem,) = shown["problems"]
        assert str(broken) in problem, problem
        # the main models folder keeps working
        assert f"loras: {world.models_dir / 'loras'}" in shown["folders"]
    finally:
        world.edit_config(extra_model_paths=[])


def test_cancel_stops_the_scan_and_the_next_one_keeps_what_it_hashed(world: World, fake_civitai: FakeCivitai) -> None:
    """The popup's Cancel beside the scan progress: the scan stops on a 64 GiB sparse file (tens
    of seconds of hashing on any machine), keeps the file it had hashed, and says it was
    canceled; the next scan takes that file from the hash cache."""
    small = write_model(world.models_dir / "checkpoints" / "base.safetensors", "base", 64 * 1024)[0]
    huge = world.models_dir / "loras" / "huge.ckpt"
    huge.parent.mkdir(parents=True)
    with open(huge, "wb") as handle:
        handle.truncate(64 * 1024**3)
    page = world.open_model_page(ModelPage(MODEL, "Ink Wash", [Version(VID, "v1")]))
    popup = world.open_actions(page)
    assert popup.session.evaluate("document.getElementById('scan-cancel-actions').hidden") is True

    popup.click_on("#scan-button")
    popup.session.wait_for(
        "document.getElementById('scan-progress-text').textContent.includes('file 1 of 2')",
        timeout=SCAN_WAIT_S,
        interval=0.1,
        what="the popup to show the scan hashing the huge file",
    )
    assert popup.session.evaluate("document.getElementById('scan-cancel-actions').hidden") is False
    popup.click_on("#scan-cancel")
    popup.session.wait_for(
        "document.getElementById('scan').dataset.state === 'canceled'",
        timeout=SCAN_WAIT_S,
        interval=0.1,
        what="the popup to show the scan canceled",
    )
    section = scan_section(popup)
    assert section["text"].startswith("The last scan was canceled (") and section["progress"] is None
    assert section["button"] is True
    assert popup.session.evaluate("document.getElementById('scan-cancel-actions').hidden") is True
    (job,) = [j for j in world.host_request("jobs")["result"]["jobs"] if j["kind"] == "scan"]
    assert job["state"] == "canceled" and job["bytes"] < job["total"]

    huge.unlink()
    section = scan_from_popup(popup)
    assert "1 model file · 0 hashed, 1 unchanged" in section["text"], section["text"]
    assert small.exists()


def test_thousands_of_model_folders_show_the_first_ones_and_how_many_more(world: World) -> None:
    """An extra_model_paths file with 5,000 folders (over 1 MiB as JSON): the host's ping lists
    the first that fit in its reply and counts the rest; the popup says so."""
    disk = world.root / ("d" * 200)
    many = world.root / "config" / "many_model_paths.yaml"
    many.write_text("many:\n  base_path: " + str(disk) + "\n  loras: |\n"
                    + "".join(f"    loras_{n}\n" for n in range(5000)), "utf-8")
    world.edit_config(extra_model_paths=[str(many)])
    try:
        ping = world.host_request("ping")
        assert ping["ok"], ping
        left_out = ping["result"]["model_folders_left_out"]
        page = world.open_model_page(ModelPage(MODEL, "Ink Wash", [Version(VID, "v1")]))
        popup = world.open_actions(page)
        shown = popup_folders(popup)
        rows = shown["folders"][:-1]
        assert shown["folders"][-1] == f"and {left_out} more (catalog-host doctor lists them all)"
        assert rows[:2] == [f"checkpoints: {world.models_dir / 'checkpoints'}", f"loras: {world.models_dir / 'loras'}"]
        assert rows[2:5] == [f"loras: {disk / f'loras_{n}'}" for n in range(3)]
        assert shown["summary"] == f"Scans {len(rows) + left_out} folders"
    finally:
        world.edit_config(extra_model_paths=[])
