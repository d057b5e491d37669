"""The content script on (fake) civitai.com model pages (read-only badges) and the toolbar
popup over such a tab (Add / Promote / Remove), untrusted text kept as text. Clicks are real
mouse events on the popup's buttons."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.browser.fake_site import ModelPage, Version
from tests.browser.harness import World, catalog_entry
from tests.support.fake_civitai import FakeCivitai, load_fixture

pytestmark = pytest.mark.browser

MODEL = 5001
V_NEW, V_MID, V_OLD = 6003, 6002, 6001
WATERCOLOR = ModelPage(
    MODEL,
    "Watercolor Dreams XL",
    [Version(V_NEW, "v3.0 (SDXL)"), Version(V_MID, "v2.0"), Version(V_OLD, "v1.0", "SD 1.5")],
)


def lora_payload(version_id: int, model_id: int, file: str, **changes: Any) -> dict[str, Any]:
    """A CivitAI model-version answer for a LoRA (from the recorded SDXL LoRA fixture)."""
    payload = load_fixture("sdxl_lora")
    payload.update(id=version_id, modelId=model_id, **changes)
    payload["files"][0]["name"] = file
    return payload


def keep_screenshot(path: Path) -> None:
    """Also copy a screenshot to $CATALOG_HOST_SCREENSHOTS (e.g. a CI artifact folder)."""
    target = os.environ.get("CATALOG_HOST_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(target) / path.name)


def test_a_model_page_with_three_versions_shows_a_badge_for_each(world: World, shots: Path) -> None:
    # v1.0: promoted to the style-LoRA catalog and downloaded; v2.0: in models.json, not on disk
    world.write_catalog(
        "loras",
        {
            "sd15_loras": [
                catalog_entry(V_OLD, MODEL, "watercolor_v1.safetensors", "loras", base_model="SD 1.5"),
            ]
        },
    )
    world.write_catalog(
        "models",
        {
            "loras": [
                catalog_entry(V_MID, MODEL, "watercolor_v2.safetensors", "loras/styles"),
            ]
        },
    )
    world.put_model_file("loras", "watercolor_v1.safetensors")

    page = world.open_model_page(WATERCOLOR, version_id=V_MID)
    rows = {row["id"]: row for row in page.rows()}
    assert list(rows) == [V_NEW, V_MID, V_OLD]  # the page's order
    assert rows[V_OLD]["badge"] == "Downloaded"
    assert rows[V_MID]["badge"] == "In catalog"
    assert rows[V_NEW]["badge"] == "Other version in catalog"
    assert all(row["actions"] == [] for row in rows.values())  # the page panel only informs
    assert rows[V_MID]["current"] and not rows[V_NEW]["current"]
    assert rows[V_NEW]["name"] == "v3.0 (SDXL)"
    assert "loras/styles/watercolor_v2.safetensors" in rows[V_MID]["meta"]
    # the last line names the popup's actions that apply here, and (tooltip) where the popup is
    assert page.footer() == "Add · Download: in the toolbar popup"
    assert page.footer_title() == (
        "Click “CivitAI Catalog (stub)” in the browser's toolbar (in its Extensions menu until "
        "you pin it): its popup lists these versions with their actions.")
    keep_screenshot(page.screenshot(shots / "model-page-badges.png"))

    # the toolbar popup over this tab: the same versions, with what can be done to each
    popup = world.open_actions(page)
    rows = {row["id"]: row for row in popup.rows()}
    assert list(rows) == [V_NEW, V_MID, V_OLD]
    assert {vid: row["badge"] for vid, row in rows.items()} == {
        V_NEW: "Other version in catalog",
        V_MID: "In catalog",
        V_OLD: "Downloaded",
    }
    # Promote only for LoRAs still in models.json; Remove and Download only for files not on disk
    assert rows[V_OLD]["actions"] == []
    assert rows[V_MID]["actions"] == ["download", "promote", "remove"]
    assert rows[V_NEW]["actions"] == ["add", "add_download"]
    assert rows[V_MID]["current"] and not rows[V_NEW]["current"]
    assert rows[V_MID]["meta"] == "#6002 · SDXL 1.0 · models.json · loras/styles/watercolor_v2.safetensors"
    assert popup.text("page-title") == f"Model #{MODEL} on this page"
    keep_screenshot(popup.screenshot(shots / "popup-versions.png"))

    # a model none of whose versions is in the catalog
    other = world.open_model_page(
        ModelPage(5002, "Paper Cut Style", [Version(7001, "v1"), Version(7002, "v2")])
    )
    assert other.badges() == {7001: "Not in catalog", 7002: "Not in catalog"}
    popup = world.open_actions(other)
    assert [row["actions"] for row in popup.rows()] == [["add", "add_download"], ["add", "add_download"]]


def test_with_every_version_downloaded_the_last_line_says_there_is_nothing_to_add(world: World) -> None:
    world.write_catalog(
        "models", {"loras": [catalog_entry(7101, 7100, "ink_v1.safetensors", "loras")]}
    )
    world.put_model_file("loras", "ink_v1.safetensors")
    page = world.open_model_page(ModelPage(7100, "Ink", [Version(7101, "v1.0")]))
    assert page.badges() == {7101: "Downloaded"}
    assert page.footer() == "Nothing to add or download here; more in the toolbar popup"


def test_add_promote_and_remove_from_the_popup(world: World, fake_civitai: FakeCivitai, shots: Path) -> None:
    fake_civitai.add_version(lora_payload(V_NEW, MODEL, "watercolor_v3.safetensors"))
    world.write_catalog(
        "loras",
        {
            "sd15_loras": [
                catalog_entry(V_OLD, MODEL, "watercolor_v1.safetensors", "loras", base_model="SD 1.5"),
            ]
        },
    )
    world.write_catalog(
        "models", {"loras": [catalog_entry(V_MID, MODEL, "watercolor_v2.safetensors", "loras")]}
    )
    world.put_model_file("loras", "watercolor_v1.safetensors")
    page = world.open_model_page(WATERCOLOR)
    popup = world.open_actions(page)

    # Add: CivitAI's metadata becomes an entry in models.json
    page_lookups = page.lookups()
    popup.click(V_NEW, "add")
    assert world.catalog_version_ids("models") == {V_MID, V_NEW}
    added = next(
        e
        for c in world.read_catalog("models")["categories"]
        for e in c["models"]
        if e.get("civitai_version_id") == V_NEW
    )
    assert (added["dest"], added["file"], added["civitai_model_id"]) == (
        "loras",
        "watercolor_v3.safetensors",
        MODEL,
    )
    row = popup.row(V_NEW)
    assert row["badge"] == "In catalog"
    assert row["actions"] == ["download", "promote", "remove"]
    assert row["message"].startswith("Added ")
    assert len(fake_civitai.requests_for(V_NEW)) == 1
    # the page's badge follows
    page.wait_lookups(page_lookups + 1)
    assert page.badges()[V_NEW] == "In catalog"

    # Promote: moved from models.json to the style-LoRA catalog, by base model
    popup.click(V_NEW, "promote")
    assert world.catalog_version_ids("models") == {V_MID}
    assert world.catalog_version_ids("loras") == {V_OLD, V_NEW}
    sdxl = next(c for c in world.read_catalog("loras")["categories"] if c["id"] == "sdxl_loras")
    assert [e["civitai_version_id"] for e in sdxl["models"]] == [V_NEW]
    row = popup.row(V_NEW)
    assert row["badge"] == "In catalog"
    assert row["actions"] == ["download", "remove"]  # no Promote once it is in loras.json
    assert row["message"].startswith("Promoted watercolor_v3.safetensors")

    # Remove: the entry goes, the badge falls back to "other version"
    popup.click(V_MID, "remove")
    assert world.catalog_version_ids("models") == set()
    row = popup.row(V_MID)
    assert row["badge"] == "Other version in catalog"
    assert row["actions"] == ["add", "add_download"]
    assert row["message"] == "Removed watercolor_v2.safetensors from models.json"

    page_lookups = page.lookups()
    popup.click(V_NEW, "remove")
    assert world.catalog_version_ids("loras") == {V_OLD}
    expected = {V_NEW: "Other version in catalog", V_MID: "Other version in catalog", V_OLD: "Downloaded"}
    assert popup.badges() == expected
    page.wait_lookups(page_lookups + 1)
    assert page.badges() == expected
    assert world.read_catalog("loras")["version"] == 3  # promote and remove each bumped it
    popup.screenshot(shots / "popup-after-actions.png")


def test_add_refused_or_failing_explains_why_and_changes_nothing(
    world: World, fake_civitai: FakeCivitai
) -> None:
    generation_only = load_fixture("usage_generation")  # usageControl "Generation"
    generation_only.update(id=8101, modelId=8100)
    fake_civitai.add_version(generation_only)
    page = world.open_model_page(
        ModelPage(8100, "Studio Portrait Pro", [Version(8101, "v1"), Version(8102, "v2")])
    )
    popup = world.open_actions(page)

    popup.click(8101, "add")
    row = popup.row(8101)
    assert row["badge"] == "Not in catalog"
    assert row["message"].startswith("Not added: ")
    assert "Generation" in row["message"]

    popup.click(8102, "add")  # the fake answers 404 "Model not found" for unknown versions
    row = popup.row(8102)
    assert row["badge"] == "Not in catalog"
    assert row["message"].startswith("CivitAI does not know this version")
    assert not (world.catalog_dir / "models.json").exists()


def test_text_from_the_page_and_from_civitai_stays_text(world: World, fake_civitai: FakeCivitai) -> None:
    hostile_name = '<img src=x onerror="window.__pwned = 1">v<b>2</b>'
    payload = lora_payload(9202, 9200, "hostile.safetensors")
    payload["model"]["name"] = "<script>window.__pwned = 2</script>Evil"
    fake_civitai.add_version(payload)
    page = world.open_model_page(
        ModelPage(9200, "<i>Evil</i> model", [Version(9201, hostile_name), Version(9202, "v3")])
    )
    popup = world.open_actions(page)

    popup.click(9202, "add")
    rows = {r["id"]: r for r in popup.rows()}
    assert rows[9201]["name"] == hostile_name
    assert "<script>window.__pwned = 2</script>Evil" in rows[9202]["message"]
    assert {r["id"]: r["name"] for r in page.rows()}[9201] == hostile_name
    assert set(page.panel_html_elements()) <= {"style", "div", "header", "span", "button", "footer"}
    assert set(
        popup.session.evaluate("[...document.querySelectorAll('#versions *')].map((e) => e.localName)")
    ) <= {
        "li",
        "div",
        "span",
        "p",
        "button",
        "progress",
    }
    assert page.main_world("window.__pwned === undefined") is True
    assert page.js("window.__pwned === undefined") is True
    assert popup.session.evaluate("window.__pwned === undefined") is True


def test_versions_from_links_only_and_in_app_navigation(world: World) -> None:
    world.write_catalog(
        "models", {"loras": [catalog_entry(V_MID, MODEL, "watercolor_v2.safetensors", "loras")]}
    )
    links_only = ModelPage(
        7300,
        "Links Only",
        [Version(7301, "first"), Version(7302, "second"), Version(7303, "third")],
        next_data=False,
    )
    page = world.open_model_page(links_only)
    assert page.badges() == {7301: "Not in catalog", 7302: "Not in catalog", 7303: "Not in catalog"}
    assert [r["name"] for r in page.rows()] == ["first", "second", "third"]

    # the site is a single-page app: go to another model without a page load
    lookups = page.lookups()
    page.main_world(
        f"""(() => {{
          history.pushState({{}}, '', '/models/{MODEL}?modelVersionId={V_MID}');
          const nav = document.querySelector('nav.versions');
          nav.replaceChildren();
          for (const [id, name] of [[{V_NEW}, 'v3.0'], [{V_MID}, 'v2.0'], [{V_OLD}, 'v1.0']]) {{
            const a = document.createElement('a');
            a.href = '/models/{MODEL}?modelVersionId=' + id;
            a.textContent = name;
            nav.append(a);
          }}
          // a link to some other model on the same page is not one of this page's versions
          const other = document.createElement('a');
          other.href = '/models/1234?modelVersionId=4321';
          other.textContent = 'Suggested: another model';
          document.body.append(other);
        }})()"""
    )
    page.wait_lookups(lookups + 1)
    rows = page.rows()
    assert [r["id"] for r in rows] == [V_NEW, V_MID, V_OLD]
    assert page.badges() == {
        V_NEW: "Other version in catalog",
        V_MID: "In catalog",
        V_OLD: "Other version in catalog",
    }
    assert [r["current"] for r in rows] == [False, True, False]


def test_an_unreadable_catalog_is_named_on_the_page_and_in_the_popup(world: World) -> None:
    world.write_catalog(
        "models", {"loras": [catalog_entry(V_MID, MODEL, "watercolor_v2.safetensors", "loras")]}
    )
    (world.catalog_dir / "loras.json").write_text('{"version": 1, "categories": [', "utf-8")
    page = world.open_model_page(WATERCOLOR)
    # answered from models.json; the page says which catalog is missing from the answer
    assert page.badges()[V_MID] == "In catalog"
    assert page.footer().startswith("Left out of these badges: loras.json is not valid JSON")
    assert page.notice() == page.footer()
    popup = world.open_actions(page)
    assert popup.row(V_MID)["badge"] == "In catalog"
    assert popup.text("page-notice") == page.footer()
