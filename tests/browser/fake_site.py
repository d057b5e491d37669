"""Fake civitai.com model pages, served to the browser through CDP `Fetch` (no network).

Every http(s) request the browser makes is paused by a browser-wide `Fetch.enable`: a
civitai.com URL we have a page for is fulfilled from memory, anything else is failed, so a
test can never reach the network. Pages are shaped like the real site where the content
script looks: the model id in the URL path, a `__NEXT_DATA__` JSON with the model and its
`modelVersions` (as the real site's server-side tRPC state embeds it), and version links
`/models/<id>?modelVersionId=<v>`; either can be left out to test each source alone.
"""

from __future__ import annotations

import base64
import html
import json
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from tests.browser.chromium_cdp import Browser


@dataclass
class Version:
    id: int
    name: str
    base_model: str = "SDXL 1.0"


@dataclass
class ModelPage:
    model_id: int
    name: str
    versions: list[Version]
    model_type: str = "LORA"
    next_data: bool = True
    links: bool = True

    def html(self) -> str:
        esc = html.escape
        tabs = (
            "\n".join(
                f'<a class="version-tab" href="/models/{self.model_id}?modelVersionId={v.id}">{esc(v.name)}</a>'
                for v in self.versions
            )
            if self.links
            else '<p class="no-links">(versions listed only in the page data)</p>'
        )
        body = f"""
<header class="site"><span class="logo">civitai</span><span class="fake">fake page for tests</span></header>
<main>
  <h1>{esc(self.name)}</h1>
  <p class="type">{esc(self.model_type)} · {len(self.versions)} versions</p>
  <nav class="versions">{tabs}</nav>
  <section class="gallery">{"".join('<div class="tile"></div>' for _ in range(6))}</section>
</main>"""
        data = ""
        if self.next_data:
            # the shape of the real site's embedded state: the model sits deep in a query cache
            state = {
                "props": {
                    "pageProps": {
                        "id": self.model_id,
                        "trpcState": {
                            "json": {
                                "queries": [
                                    {
                                        "queryKey": [["user", "getCreator"]],
                                        "state": {"data": {"id": 7, "username": "someone"}},
                                    },
                                    {
                                        "queryKey": [["model", "getById"], {"input": {"id": self.model_id}}],
                                        "state": {
                                            "data": {
                                                "id": self.model_id,
                                                "name": self.name,
                                                "type": self.model_type,
                                                "modelVersions": [
                                                    {
                                                        "id": v.id,
                                                        "name": v.name,
                                                        "baseModel": v.base_model,
                                                        "status": "Published",
                                                    }
                                                    for v in self.versions
                                                ],
                                            }
                                        },
                                    },
                                ]
                            }
                        },
                    }
                },
                "page": "/models/[id]/[[...slug]]",
                "query": {"id": str(self.model_id)},
            }
            # "<" escaped so that no name can close the script element
            payload = json.dumps(state).replace("<", "\\u003c")
            data = f'<script id="__NEXT_DATA__" type="application/json">{payload}</script>'
        return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(self.name)} | Civitai</title>
<style>
  body {{ margin: 0; font: 15px/1.5 system-ui, sans-serif; background: #1a1b1e; color: #c1c2c5; }}
  header.site {{ height: 56px; display: flex; align-items: center; gap: 16px; padding: 0 24px;
    background: #25262b; border-bottom: 1px solid #373a40; }}
  .logo {{ font-weight: 800; font-size: 22px; color: #fff; }}
  .fake {{ font-size: 12px; color: #909296; }}
  main {{ padding: 24px; max-width: 760px; }}
  h1 {{ color: #fff; margin: 0 0 4px; }}
  .versions {{ display: flex; gap: 8px; flex-wrap: wrap; margin: 16px 0; }}
  .version-tab {{ padding: 4px 12px; border-radius: 6px; background: #2c2e33; color: #a5d8ff;
    text-decoration: none; }}
  .gallery {{ display: grid; grid-template-columns: repeat(3, 1fr); gap: 12px; }}
  .tile {{ height: 150px; border-radius: 8px; background: linear-gradient(135deg, #364fc7, #862e9c); }}
</style></head>
<body><div id="__next">{body}</div>{data}</body></html>"""


def home_page_html(models: list[ModelPage]) -> str:
    """The site's home page (a feed of model cards, no model data), from which a person reaches
    model pages by in-app navigation."""
    cards = "\n".join(
        f'<a class="card" href="/models/{m.model_id}">{html.escape(m.name)}</a>' for m in models
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Civitai: the home of open-source generative AI</title>
<style>
  body {{ margin: 0; font: 15px/1.5 system-ui, sans-serif; background: #1a1b1e; color: #c1c2c5; }}
  header.site {{ height: 56px; display: flex; align-items: center; padding: 0 24px; background: #25262b; }}
  .logo {{ font-weight: 800; font-size: 22px; color: #fff; }}
  main {{ padding: 24px; max-width: 760px; }}
  .card {{ display: block; padding: 12px; margin: 8px 0; border-radius: 8px; background: #2c2e33;
    color: #a5d8ff; text-decoration: none; }}
</style></head>
<body><div id="__next"><header class="site"><span class="logo">civitai</span></header>
<main><h1>Home</h1><section class="feed">{cards}</section></main></div></body></html>"""


@dataclass
class FakeSite:
    """Pages by path (query ignored); a fulfilled or failed answer for every request."""

    pages: dict[str, str] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, page: ModelPage) -> str:
        path = f"/models/{page.model_id}"
        with self._lock:
            self.pages[path] = page.html()
        return f"https://civitai.com{path}"

    def put_html(self, path: str, page: str) -> str:
        """Any other page of the site (the home page, a creator's page)."""
        with self._lock:
            self.pages[path] = page
        return f"https://civitai.com{path}"

    def clear(self) -> None:
        with self._lock:
            self.pages.clear()
            self.requests.clear()
            self.blocked.clear()

    def install(self, browser: Browser) -> None:
        browser.fetch_handler = self._on_request_paused
        browser.send("Fetch.enable", {"patterns": [{"urlPattern": "*", "requestStage": "Request"}]})

    def _on_request_paused(self, browser: Browser, event: dict[str, Any]) -> None:
        params = event["params"]
        url = params["request"]["url"]
        parts = urlsplit(url)
        session = event.get("sessionId")
        if parts.scheme not in ("http", "https"):  # the extension's own pages, data: URLs
            browser.send_nowait(
                "Fetch.continueRequest", {"requestId": params["requestId"]}, session_id=session
            )
            return
        with self._lock:
            self.requests.append(url)
            page = self.pages.get(parts.path) if parts.hostname == "civitai.com" else None
            if page is None:
                self.blocked.append(url)
        if page is None:
            browser.send_nowait(
                "Fetch.failRequest",
                {"requestId": params["requestId"], "errorReason": "BlockedByClient"},
                session_id=session,
            )
            return
        browser.send_nowait(
            "Fetch.fulfillRequest",
            {
                "requestId": params["requestId"],
                "responseCode": 200,
                "responseHeaders": [
                    {"name": "Content-Type", "value": "text/html; charset=utf-8"},
                    {"name": "Cache-Control", "value": "no-store"},
                ],
                "body": base64.b64encode(page.encode("utf-8")).decode("ascii"),
            },
            session_id=session,
        )
