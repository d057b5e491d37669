"""What a hostile civitai.com page can do to the extension (issue 11 A, B, C, Q), in real
Chromium: hide and click through the panel, measure it, confuse replies, navigate in-app.

The page's own scripts run in the page's main world (`page.main_world`); the test reads the
extension's side through the content script's isolated world (`page.js`), which the page cannot."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.browser.fake_site import ModelPage, Version, home_page_html
from tests.browser.harness import STUB_DIR, STUB_ID, World, catalog_entry
from tests.browser.test_browser_model_page import lora_payload
from tests.support.fake_civitai import FakeCivitai

pytestmark = pytest.mark.browser

MODEL = 5101
V_ADDABLE, V_SECOND = 6103, 6102
PAGE = ModelPage(MODEL, "Ink Wash XL", [Version(V_ADDABLE, "v3.0"), Version(V_SECOND, "v2.0")])

# The attack of issue 11 A: page CSS makes the panel invisible, a lure sits under it.
HIDE_PANEL_AND_LURE = """(() => {
  const style = document.createElement('style');
  style.textContent = 'civitai-catalog-stub{opacity:0 !important}';
  document.head.append(style);
  const lure = document.createElement('button');
  lure.textContent = 'Claim your free model!';
  lure.style.cssText = 'position:fixed; inset:0; width:100vw; height:100vh; font-size:40px';
  lure.addEventListener('click', () => { window.__lureClicks = (window.__lureClicks || 0) + 1; });
  document.body.append(lure);
  const host = document.querySelector('civitai-catalog-stub');
  // the lure is what the person sees where the panel is; the page's check that its trap is set
  return [getComputedStyle(host).opacity, document.elementFromPoint(innerWidth - 100, 150) === host];
})()"""


def content_script_asks(page: Any, op: str, params: dict[str, Any]) -> Any:
    """A message from the content script's own world to the service worker (what a page that
    found a way to drive the content script could at most send)."""
    return page.js(
        f"chrome.runtime.sendMessage({{type: 'host', op: {json.dumps(op)}, params: {json.dumps(params)}}})"
    )


def test_a_hidden_panel_with_a_lure_under_it_cannot_change_the_catalog(
    world: World, fake_civitai: FakeCivitai
) -> None:
    fake_civitai.add_version(lora_payload(V_ADDABLE, MODEL, "ink_wash_v3.safetensors"))
    world.write_catalog(
        "models", {"loras": [catalog_entry(V_SECOND, MODEL, "ink_wash_v2.safetensors", "loras")]}
    )
    catalog = world.catalog_dir / "models.json"
    before = catalog.read_bytes()
    page = world.open_model_page(PAGE)
    assert page.main_world(HIDE_PANEL_AND_LURE) == ["0", True]

    # Real clicks everywhere over the (invisible) panel, bottom row first: wherever Add,
    # Promote or Remove ever sat, one of these clicks lands on it.
    box = page.panel_box()
    assert box, "the panel is not shown"
    clicks = 0
    y = box["y"] + box["height"] - 4
    while y > box["y"] + 2:
        x = box["x"] + 6
        while x < box["x"] + box["width"] - 4:
            page.click_at(x, y)
            clicks += 1
            x += 14
        y -= 8
    assert clicks > 100

    # Messages from one content script reach the service worker in order, and the host answers
    # in order: once this lookup is answered, anything the clicks started has been answered too.
    settled = content_script_asks(page, "lookup", {"version_ids": [V_ADDABLE]})
    assert settled["ok"], settled
    assert catalog.read_bytes() == before
    assert settled["result"]["by_version"][str(V_ADDABLE)] is None
    assert fake_civitai.requests_for(V_ADDABLE) == []


@pytest.mark.parametrize("op", ["add", "promote", "remove", "download", "cancel", "scan", "adopt"])
def test_content_scripts_cannot_ask_for_a_catalog_change(
    world: World, fake_civitai: FakeCivitai, op: str
) -> None:
    fake_civitai.add_version(lora_payload(V_ADDABLE, MODEL, "ink_wash_v3.safetensors"))
    world.write_catalog(
        "models", {"loras": [catalog_entry(V_SECOND, MODEL, "ink_wash_v2.safetensors", "loras")]}
    )
    catalog = world.catalog_dir / "models.json"
    before = catalog.read_bytes()
    page = world.open_model_page(PAGE)
    params: dict[str, Any] = (
        {"file": "ink_wash_v2.safetensors", "dest": "loras"}
        if op == "remove"
        else {}
        if op == "scan"
        else {"version_id": V_SECOND if op == "promote" else V_ADDABLE}
    )
    answer = content_script_asks(page, op, params)
    assert answer["ok"] is False
    assert answer["error"]["code"] == "not_allowed"
    assert catalog.read_bytes() == before
    assert fake_civitai.requests_for(V_ADDABLE) == []
    assert world.jobs_file()["jobs"] == []  # no download, no scan queued


def test_the_page_cannot_frame_the_popup_to_clickjack_it(world: World) -> None:
    """The actions' UI must stay out of the page's reach: an iframe of popup.html (which the page
    could hide and put a lure under) does not load, since no extension file is web-accessible."""
    assert "web_accessible_resources" not in json.loads((STUB_DIR / "manifest.json").read_text("utf-8"))
    page = world.open_model_page(PAGE)
    page.main_world(
        f"""new Promise((done) => {{
          const frame = document.createElement('iframe');
          frame.src = 'chrome-extension://{STUB_ID}/popup.html';
          frame.addEventListener('load', done);
          document.body.append(frame);
        }})"""
    )
    (child,) = page.session.send("Page.getFrameTree")["frameTree"]["childFrames"]
    assert child["frame"]["url"].startswith("chrome-error://"), child["frame"]


# Measured from the page: the host element's box and which points of the right-hand side of
# the viewport belong to it (elementFromPoint answers the shadow host for anything inside).
MEASURE_PANEL = """(() => {
  const host = document.querySelector('civitai-catalog-stub');
  if (!host) return null;
  const r = host.getBoundingClientRect();
  const hits = [];
  for (let y = 0; y < innerHeight; y += 2) {
    let row = '';
    for (let x = innerWidth - 420; x < innerWidth; x += 10) row += document.elementFromPoint(x, y) === host ? '#' : '.';
    hits.push(row);
  }
  return {rect: [r.x, r.y, r.width, r.height], scroll: [host.scrollWidth, host.scrollHeight],
          client: [host.clientWidth, host.clientHeight], hits};
})()"""


def test_what_the_page_can_measure_does_not_depend_on_catalog_state(world: World) -> None:
    other_model = 5199
    in_catalog, on_disk, not_in_catalog = 6901, 6902, 6903
    world.write_catalog(
        "models",
        {
            "loras": [
                catalog_entry(on_disk, other_model, "probe_on_disk.safetensors", "loras"),
                catalog_entry(in_catalog, other_model, "probe_in_catalog.safetensors", "loras/styles"),
            ]
        },
    )
    world.put_model_file("loras", "probe_on_disk.safetensors")
    page = world.open_model_page(ModelPage(other_model, "Probe target", [Version(6900, "v0")]))

    def probe(version_id: int) -> Any:
        """The page adds a link for one version id, waits for the extension, measures."""
        lookups = page.lookups()
        page.main_world(
            f"""(() => {{
              const a = document.createElement('a');
              a.id = 'probe';
              a.href = '/models/{other_model}?modelVersionId={version_id}';
              a.textContent = 'probe';
              document.querySelector('nav.versions').append(a);
            }})()"""
        )
        page.wait_lookups(lookups + 1)
        assert str(version_id) in page.js("JSON.stringify(__catalogStub.state.versions)")
        measured = page.main_world(MEASURE_PANEL)
        lookups = page.lookups()
        page.main_world("document.getElementById('probe').remove()")
        page.wait_lookups(lookups + 1)
        return measured

    downloaded, missing, absent = probe(on_disk), probe(in_catalog), probe(not_in_catalog)
    assert downloaded is not None
    assert "#" in "".join(downloaded["hits"]), "the probe did not find the panel at all"
    assert downloaded == missing == absent


def test_a_late_reply_for_a_timed_out_request_is_never_handed_to_the_next_one(world: World) -> None:
    slow, known = 424242, 6801
    world.write_catalog("models", {"loras": [catalog_entry(known, 5800, "known.safetensors", "loras")]})
    world.answer_late(marker=str(slow), delay_s=2.0)
    before = world.sw("catalogHost.status()")

    first = world.sw(
        f"catalogHost.request('lookup', {{version_ids: [{slow}]}}, {{channel: 'port', timeoutMs: 400}})"
    )
    assert first["ok"] is False
    assert first["error"]["code"] == "host_timeout"
    # asked while the late reply is still on its way, on the same port (the same host process)
    second = world.sw(f"catalogHost.request('lookup', {{version_ids: [{known}]}}, {{channel: 'port'}})")
    assert second["ok"], second
    assert list(second["result"]["by_version"]) == [str(known)]
    assert second["result"]["by_version"][str(known)]["file"] == "known.safetensors"
    # the late reply did arrive (before the second one: the host answers in order), and was
    # dropped; the port is still the one the timed-out request used
    after = world.sw("catalogHost.status()")
    assert after["droppedReplies"] == before["droppedReplies"] + 1
    assert after["portConnects"] == before["portConnects"] + 1


def test_in_app_navigation_from_the_home_page_and_between_model_pages(world: World) -> None:
    ink = PAGE
    paper = ModelPage(5102, "Paper Cut", [Version(7201, "v1"), Version(7202, "v2")])
    world.write_catalog("models", {"loras": [catalog_entry(7202, 5102, "paper_v2.safetensors", "loras")]})
    world.site.put(ink)
    world.site.put(paper)
    home = world.open_page(world.site.put_html("/", home_page_html([ink, paper])))
    assert home.js("__catalogStub.root()") is None  # no model on the home page: no panel

    # what the site's router does: change the URL, then render the new page's content
    home.main_world(
        """window.__render = (modelId, links) => {
          const main = document.querySelector('main');
          main.replaceChildren();
          const nav = document.createElement('nav');
          nav.className = 'versions';
          for (const [id, name] of links) {
            const a = document.createElement('a');
            a.href = `/models/${modelId}?modelVersionId=${id}`;
            a.textContent = name;
            nav.append(a);
          }
          main.append(nav);
        }; true"""
    )

    def go(model: ModelPage, version_id: int | None = None, back: bool = False) -> None:
        url = f"/models/{model.model_id}" + (f"?modelVersionId={version_id}" if version_id else "")
        links = [[v.id, v.name] for v in model.versions]
        lookups = home.lookups()
        move = (
            "new Promise((done) => { addEventListener('popstate', done, {once: true}); history.back(); })"
            if back
            else f"Promise.resolve(history.pushState({{}}, '', {json.dumps(url)}))"
        )
        home.main_world(f"{move}.then(() => window.__render({model.model_id}, {json.dumps(links)}), true)")
        home.wait_lookups(lookups + 1)

    go(ink)
    assert home.badges() == {V_ADDABLE: "Not in catalog", V_SECOND: "Not in catalog"}
    go(paper, 7202)
    assert home.badges() == {7201: "Other version in catalog", 7202: "In catalog"}
    assert [r["current"] for r in home.rows()] == [False, True]

    # back (popstate) to the first model, then to a page that is not a model page
    go(ink, back=True)
    assert home.js("location.pathname") == f"/models/{ink.model_id}"
    assert set(home.badges()) == {V_ADDABLE, V_SECOND}
    home.main_world(
        "history.pushState({}, '', '/user/someone'); document.querySelector('main').replaceChildren()"
    )
    home.session.wait_for(
        "__catalogStub.root() === null", context_id=home.context_id, what="the panel to go away"
    )
    # a URL change alone (replaceState, nothing re-rendered): the version in the URL is shown
    lookups = home.lookups()
    home.main_world("history.replaceState({}, '', '/models/5102?modelVersionId=7202')")
    home.wait_lookups(lookups + 1)
    assert home.badges() == {7202: "In catalog"}

    # the popup over this tab lists what the tab shows now, after all that in-app navigation
    popup = world.open_actions(home)
    assert [(r["id"], r["badge"], r["actions"]) for r in popup.rows()] == [
        (7202, "In catalog", ["download", "promote", "remove"])
    ]
    # a page load elsewhere: the popup no longer offers the old page's versions
    home.session.navigate("about:blank")
    popup = world.open_actions(home)
    assert popup.rows() == []
    assert popup.text("page-notice").startswith("Open a model page on civitai.com")
