"""Downloads from the toolbar popup, end to end in a real Chromium (issue 9, SPEC §9): the
popup asks the real host, whose detached worker fetches from the local fake CivitAI (302) and
fake storage (both on 127.0.0.1); progress, failure in words, retry, cancel, all by real clicks."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.browser.fake_site import ModelPage, Version
from tests.browser.harness import ActionsView, World, catalog_entry
from tests.browser.test_browser_model_page import keep_screenshot, lora_payload
from tests.support.fake_civitai import FakeCivitai, Response, download_path, load_fixture
from tests.support.fake_storage import FakeStorage, Fault, make_file

pytestmark = pytest.mark.browser

MIB = 1024 * 1024
SIZE = 4 * MIB
MODEL = 5301
VID = 6301
DOWNLOAD_WAIT_S = 60.0
API_KEY = "browser-test-key-0123456789"


def stored_file(world: World, storage: FakeStorage, name: str, size: int = SIZE) -> str:
    """A file in the fake storage; its SHA256 (upper hex)."""
    path = world.root / "storage" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    sha = make_file(path, size)
    storage.put(name, path)
    return sha


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest().upper()


def missing_entry(world: World, name: str, sha: str) -> None:
    """models.json names the file (with CivitAI's hash), the models folder does not have it."""
    entry = catalog_entry(VID, MODEL, name, "loras", hash=sha)
    world.write_catalog("models", {"loras": [entry]})


def wait_row(
    popup: ActionsView, version_id: int, condition: str, what: str, timeout: float = DOWNLOAD_WAIT_S
) -> Any:
    """Wait until the popup's row satisfies a JS condition on `row`, `state` and `progress`."""
    return popup.session.wait_for(
        f"""(() => {{
          const row = document.querySelector('.version[data-version-id="{version_id}"]');
          if (!row || document.body.dataset.busy !== '0') return false;
          const state = row.querySelector('.badge').dataset.state;
          const progress = row.querySelector('.progress-text')?.textContent ?? '';
          return ({condition}) ? {{state, progress}} : false;
        }})()""",
        timeout=timeout,
        interval=0.1,
        what=what,
    )


def test_add_and_download_shows_progress_and_ends_downloaded(
    world: World, fake_civitai: FakeCivitai, fake_storage: FakeStorage, shots: Path
) -> None:
    name = "ink_brush_v1.safetensors"
    sha = stored_file(world, fake_storage, name)
    payload = lora_payload(VID, MODEL, name)
    payload["files"][0].update(id=77001, sizeKB=SIZE / 1024, hashes={"SHA256": sha})
    fake_civitai.add_version(payload)
    fake_civitai.serve_download(VID, fake_storage.url_for(name))
    gate = threading.Event()  # the storage holds the transfer at 1 MiB until the test lets go
    fake_storage.script(name, [Fault(stall_at=MIB, stall=gate)])
    world.edit_config(civitai_api_key=API_KEY)
    try:
        page = world.open_model_page(ModelPage(MODEL, "Ink Brush", [Version(VID, "v1")]))
        popup = world.open_actions(page)
        assert popup.row(VID)["actions"] == ["add", "add_download"]

        popup.click(VID, "add_download")
        assert world.catalog_version_ids("models") == {VID}  # added first, as `add` would
        row = popup.row(VID)
        assert row["message"] == f"Download queued: loras/{name}"

        # the popup asks again while the job runs: the bar follows the bytes
        seen = wait_row(
            popup, VID, "state === 'downloading' && progress.startsWith('25%')", "25 % downloaded"
        )
        assert seen["progress"].startswith("25% · 1.0 MB of 4.2 MB"), seen
        row = popup.row(VID)
        assert row["badge"] == "Downloading"
        assert row["actions"] == ["cancel"]
        keep_screenshot(popup.screenshot(shots / "popup-downloading.png"))
        # the page's read-only badge follows too
        page.session.wait_for(
            f"__catalogStub.root().querySelector('.row[data-version-id=\"{VID}\"] .badge').dataset.state === 'downloading'",
            context_id=page.context_id,
            what="the page badge to say Downloading",
        )

        gate.set()
        wait_row(popup, VID, "state === 'present'", "the download to finish")
        final = world.models_dir / "loras" / name
        assert sha256_of(final) == sha
        assert not final.with_name(name + ".part").exists()
        row = popup.row(VID)
        assert row["badge"] == "Downloaded"
        assert row["progress"] is None
        assert row["message"] is None  # "Download queued" said its piece
        assert row["actions"] == ["promote"]
        popup.session.wait_for(
            "document.querySelector('#jobs .job .badge')?.dataset.state === 'done'",
            timeout=DOWNLOAD_WAIT_S,
            what="the Downloads list to say Done",
        )
        assert [(j["id"], j["state"], j["actions"]) for j in popup.downloads()] == [(VID, "done", [])]
        keep_screenshot(popup.screenshot(shots / "popup-downloaded.png"))
        # the key rule of SPEC §9: the Bearer key goes to CivitAI, never to the redirect target
        (download,) = [r for r in fake_civitai.requests if r.path.startswith(download_path(VID))]
        assert download.header("authorization") == f"Bearer {API_KEY}"
        assert fake_storage.requests
        assert all(r.header("authorization") is None for r in fake_storage.requests)
    finally:
        gate.set()


def test_cancel_stops_the_download_and_deletes_the_partial_file(
    world: World, fake_civitai: FakeCivitai, fake_storage: FakeStorage
) -> None:
    name = "ink_brush_cancel.safetensors"
    sha = stored_file(world, fake_storage, name)
    missing_entry(world, name, sha)
    fake_civitai.serve_download(VID, fake_storage.url_for(name))
    gate = threading.Event()
    fake_storage.script(name, [Fault(stall_at=2 * MIB, stall=gate)])
    try:
        page = world.open_model_page(ModelPage(MODEL, "Ink Brush", [Version(VID, "v1")]))
        popup = world.open_actions(page)
        assert popup.row(VID)["actions"] == ["download", "promote", "remove"]
        popup.click(VID, "download")
        wait_row(popup, VID, "state === 'downloading' && progress.startsWith('50%')", "50 % downloaded")
        part = world.models_dir / "loras" / (name + ".part")
        assert part.exists()

        asked = time.monotonic()
        popup.click(VID, "cancel")
        row = popup.row(VID)
        assert row["message"] == "Download canceled; the partial file was deleted."
        assert row["badge"] == "In catalog"
        assert row["actions"] == ["download", "promote", "remove"]
        while part.exists():
            assert time.monotonic() - asked < 2.0, "the partial file outlived the cancel by 2 s"
            time.sleep(0.02)
        assert not (world.models_dir / "loras" / name).exists()
        assert world.catalog_version_ids("models") == {VID}  # cancel keeps the entry
    finally:
        gate.set()


def test_a_failed_download_says_what_to_do_and_retry_finishes_it(
    world: World, fake_civitai: FakeCivitai, fake_storage: FakeStorage, shots: Path
) -> None:
    name = "ink_brush_login.safetensors"
    sha = stored_file(world, fake_storage, name, MIB)
    missing_entry(world, name, sha)
    fake_civitai.set_response(download_path(VID), 401, {"error": "Unauthorized"})
    page = world.open_model_page(ModelPage(MODEL, "Ink Brush", [Version(VID, "v1")]))
    popup = world.open_actions(page)

    popup.click(VID, "download")
    wait_row(popup, VID, "state === 'failed'", "the download to fail")
    row = popup.row(VID)
    assert row["badge"] == "Download failed"
    # the host's words (SPEC §9 login_required): what happened and what to do
    assert row["message"].startswith("CivitAI only lets signed-in accounts download this file (HTTP 401)")
    assert "API key" in row["message"]
    assert row["actions"] == ["retry", "promote", "remove"]
    assert not (world.models_dir / "loras" / name).exists()
    keep_screenshot(popup.screenshot(shots / "popup-download-failed.png"))
    popup.session.wait_for(
        "document.querySelector('#jobs .job .badge')?.dataset.state === 'failed'",
        timeout=DOWNLOAD_WAIT_S,
        what="the Downloads list to say Failed",
    )
    (job,) = popup.downloads()
    assert (job["state"], job["actions"], job["message"]) == ("failed", ["retry"], row["message"])
    lookups = page.lookups()
    page.js("__catalogStub.refresh()")
    page.wait_lookups(lookups + 1)
    assert page.badges() == {VID: "Download failed"}

    # the person fixes it (here: CivitAI lets the download through) and retries
    fake_civitai.serve_download(VID, fake_storage.url_for(name))
    popup.click(VID, "retry")
    wait_row(popup, VID, "state === 'present'", "the retried download to finish")
    assert sha256_of(world.models_dir / "loras" / name) == sha
    assert popup.row(VID)["message"] is None
    assert popup.row(VID)["actions"] == ["promote"]


def test_add_and_download_of_a_restricted_version_says_why_and_queues_nothing(
    world: World, fake_civitai: FakeCivitai
) -> None:
    generation_only = load_fixture("usage_generation")  # usageControl "Generation"
    generation_only.update(id=8301, modelId=8300)
    fake_civitai.add_version(generation_only)
    page = world.open_model_page(ModelPage(8300, "Studio Portrait Pro", [Version(8301, "v1")]))
    popup = world.open_actions(page)

    popup.click(8301, "add_download")
    row = popup.row(8301)
    assert row["badge"] == "Not in catalog"
    assert row["message"].startswith("Not downloaded: ")
    assert "Generation" in row["message"]
    assert not (world.catalog_dir / "models.json").exists()
    assert world.host_request("jobs")["result"] == {"jobs": []}


def test_the_downloads_list_follows_a_download_started_elsewhere_and_cancels_it(
    world: World, fake_civitai: FakeCivitai, fake_storage: FakeStorage, shots: Path
) -> None:
    name = "ink_brush_elsewhere.safetensors"
    sha = stored_file(world, fake_storage, name)
    missing_entry(world, name, sha)
    fake_civitai.serve_download(VID, fake_storage.url_for(name))
    gate = threading.Event()
    fake_storage.script(name, [Fault(stall_at=MIB, stall=gate)])
    try:
        page = world.open_model_page(ModelPage(MODEL, "Ink Brush", [Version(VID, "v1")]))
        popup = world.open_actions(page)
        assert popup.downloads() == []  # no section while there is nothing to show
        popup.click(VID, "download")

        # the person moves on to another model and opens the popup there
        other = world.open_model_page(ModelPage(5399, "Something Else", [Version(6399, "v1")]))
        popup = world.open_actions(other)
        assert [row["id"] for row in popup.rows()] == [6399]
        popup.session.wait_for(
            "[...document.querySelectorAll('#jobs .job .progress-text')].some((t) => t.textContent.startsWith('25%'))",
            timeout=DOWNLOAD_WAIT_S,
            interval=0.1,
            what="the Downloads list to show 25 %",
        )
        (job,) = popup.downloads()
        assert (job["id"], job["name"], job["state"], job["actions"]) == (
            VID,
            f"loras/{name}",
            "downloading",
            ["cancel"],
        )
        assert job["progress"].startswith("25% · 1.0 MB of 4.2 MB")
        keep_screenshot(popup.screenshot(shots / "popup-downloads-list.png"))

        part = world.models_dir / "loras" / (name + ".part")
        assert part.exists()
        popup.click_on(f'#jobs .job[data-version-id="{VID}"] button[data-action="cancel"]')
        popup.session.wait_for(
            f"document.querySelector('#jobs .job[data-version-id=\"{VID}\"] .badge')?.dataset.state === 'canceled'",
            timeout=DOWNLOAD_WAIT_S,
            what="the download to show as canceled",
        )
        assert popup.downloads()[0]["actions"] == []
        deadline = time.monotonic() + 2.0
        while part.exists():
            assert time.monotonic() < deadline, "the partial file outlived the cancel by 2 s"
            time.sleep(0.02)
        assert not (world.models_dir / "loras" / name).exists()
    finally:
        gate.set()


def test_remove_after_a_failed_download_also_deletes_its_partial_file(
    world: World, fake_civitai: FakeCivitai, fake_storage: FakeStorage
) -> None:
    name = "ink_brush_partial.safetensors"
    sha = stored_file(world, fake_storage, name)
    missing_entry(world, name, sha)
    # the first transfer is cut at 1 MiB; when the host comes back to resume, CivitAI says 401
    fake_civitai.set_sequence(
        download_path(VID),
        [
            Response(302, b"", headers={"Location": fake_storage.url_for(name)}),
            Response(401, {"error": "no"}),
        ],
    )
    fake_storage.script(name, [Fault(drop_at=MIB)])
    page = world.open_model_page(ModelPage(MODEL, "Ink Brush", [Version(VID, "v1")]))
    popup = world.open_actions(page)
    popup.click(VID, "download")
    wait_row(popup, VID, "state === 'failed'", "the download to fail")
    part = world.models_dir / "loras" / (name + ".part")
    assert part.stat().st_size == MIB  # kept, so that a retry would resume it
    assert popup.row(VID)["actions"] == ["retry", "promote", "remove"]

    popup.click(VID, "remove")
    assert popup.row(VID)["message"] == f"Removed {name} from models.json"
    assert popup.row(VID)["badge"] == "Not in catalog"
    assert world.catalog_version_ids("models") == set()
    assert not part.exists()
    assert world.jobs_file()["jobs"][0]["state"] == "canceled"


def test_a_failed_download_can_be_retried_from_the_downloads_list_on_another_page(
    world: World, fake_civitai: FakeCivitai, fake_storage: FakeStorage
) -> None:
    name = "ink_brush_retry.safetensors"
    sha = stored_file(world, fake_storage, name, MIB)
    missing_entry(world, name, sha)
    fake_civitai.set_response(download_path(VID), 410, {"error": "gone"})
    page = world.open_model_page(ModelPage(MODEL, "Ink Brush", [Version(VID, "v1")]))
    world.open_actions(page).click(VID, "download")

    other = world.open_model_page(ModelPage(5399, "Something Else", [Version(6399, "v1")]))
    popup = world.open_actions(other)
    popup.session.wait_for(
        "document.querySelector('#jobs .job .badge')?.dataset.state === 'failed'",
        timeout=DOWNLOAD_WAIT_S,
        what="the Downloads list to say Failed",
    )
    (job,) = popup.downloads()
    assert job["actions"] == ["retry"]
    assert job["message"].startswith("CivitAI no longer has this file (HTTP 410)")

    fake_civitai.serve_download(VID, fake_storage.url_for(name))
    popup.click_on(f'#jobs .job[data-version-id="{VID}"] button[data-action="retry"]')
    popup.session.wait_for(
        "document.querySelector('#jobs .job .badge')?.dataset.state === 'done'",
        timeout=DOWNLOAD_WAIT_S,
        what="the retried download to be done",
    )
    assert sha256_of(world.models_dir / "loras" / name) == sha


def test_the_downloads_list_says_how_many_older_jobs_it_does_not_show(world: World) -> None:
    """A day of thousands of downloads is more than one `jobs` reply holds: the host lists the
    newest and counts the rest, and the popup says so under the list."""
    import json

    now = time.time()
    jobs = [{"kind": "download", "key": str(70_000 + n), "version_id": str(70_000 + n),
             "file": f"{'a_rather_long_model_name_' * 8}{n}.safetensors", "dest": "loras", "state": "done",
             "bytes": SIZE, "total": SIZE, "rate": 0, "created": now - 80_000 + n, "updated": now - 80_000 + n}
            for n in range(4000)]
    (world.catalog_dir / ".catalog-host-jobs").write_text(json.dumps({"format": 1, "jobs": jobs}), "utf-8")
    page = world.open_model_page(ModelPage(MODEL, "Ink Brush", [Version(VID, "v1")]))
    popup = world.open_actions(page)
    shown = popup.downloads()
    note = popup.session.evaluate(
        "(() => { const p = document.getElementById('jobs-left-out'); return p.hidden ? null : p.textContent; })()")
    assert 0 < len(shown) < 4000
    assert shown[0]["name"].endswith("_3999.safetensors")  # the newest first
    assert note == f"{4000 - len(shown)} older jobs of the last 24 h are not listed."
