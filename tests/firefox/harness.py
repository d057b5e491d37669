"""The world of a Firefox test: a headless Firefox ESR with the extension stub as a temporary
add-on, the host registered for Firefox by the project's installer into a temporary HOME, a fake
CivitAI API and fake civitai.com pages (through `civitai_proxy`).

Everything lives in one temp folder: HOME (Firefox reads user-level hosts from
`$HOME/.mozilla/native-messaging-hosts`) and XDG_*, the profile, the catalog and models folders
and the host's config. Firefox gets a minimal environment built here and passes it on to the
host processes it starts. The extension is reached from one of its own pages (its popup page,
`moz-extension://<fixed uuid>/popup.html`), through the same `runtime` messages the content
script and the popup use, or the background's `catalogHost` debugging API; and as a person uses
it: the popup opened over a civitai.com tab, its buttons clicked.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.browser.fake_site import FakeSite, ModelPage
from tests.firefox.civitai_proxy import CivitaiProxy, make_certificate
from tests.firefox.marionette import Firefox, Marionette
from tests.support.browsers import HostFiles

REPO = Path(__file__).resolve().parents[2]
STUB_DIR = REPO / "extension-stub"
HOST_NAME = "com.civitai_catalog.host"
GECKO_ID = "catalog-host-stub@catalog-host.local"
# Fixed in the profile (extensions.webextensions.uuids): the add-on's moz-extension:// origin.
ADDON_UUID = "6a0c2f4e-8b1d-4c3e-9f5a-7d2b1e0c3a49"
EXTENSION_PAGE = f"moz-extension://{ADDON_UUID}/popup.html"
FIREFOX_CANDIDATES = ("/usr/bin/firefox-esr", "/usr/lib/firefox-esr/firefox-esr", "/usr/bin/firefox")
WAIT_S = 15.0


def find_firefox() -> str | None:
    """$CATALOG_HOST_FIREFOX, Debian's Firefox ESR, or a Firefox on PATH (never a snap)."""
    explicit = os.environ.get("CATALOG_HOST_FIREFOX")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    for candidate in FIREFOX_CANDIDATES:
        if os.access(candidate, os.X_OK) and "/snap/" not in os.path.realpath(candidate):
            return candidate
    for name in ("firefox-esr", "firefox"):
        found = shutil.which(name)
        if found and "/snap/" not in os.path.realpath(found):
            return found
    return None


@dataclass
class FirefoxWorld(HostFiles):
    root: Path
    binary: str
    civitai_url: str
    catalog_dir: Path = field(init=False)
    models_dir: Path = field(init=False)
    config_path: Path = field(init=False)
    home: Path = field(init=False)
    env: dict[str, str] = field(init=False)
    site: FakeSite = field(default_factory=FakeSite)
    proxy: CivitaiProxy | None = None
    firefox: Firefox | None = None
    install_is_default: bool = False

    def __post_init__(self) -> None:
        self.home = self.root / "home"
        self.catalog_dir = self.root / "catalogs"
        self.models_dir = self.root / "models"
        self.config_path = self.root / "config" / "catalog-host.json"
        for folder in (self.home, self.catalog_dir, self.models_dir, self.config_path.parent):
            folder.mkdir(parents=True, exist_ok=True)
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_DATA_HOME": str(self.home / ".local" / "share"),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "XDG_STATE_HOME": str(self.home / ".local" / "state"),
            "TMPDIR": str(self.root),
            "MOZ_CRASHREPORTER_DISABLE": "1",
            "CATALOG_HOST_CONFIG": str(self.config_path),
            "CATALOG_HOST_CIVITAI_URL": self.civitai_url,
        }

    # --- installer (the project's own) ------------------------------------------------------

    @property
    def host_manifest(self) -> Path:
        return self.home / ".mozilla" / "native-messaging-hosts" / f"{HOST_NAME}.json"

    def installer(self, command: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "host", command, "--browser", "firefox", *args]
        done = subprocess.run(argv, cwd=REPO, env=self.env, capture_output=True, text=True, timeout=120)
        if check:
            assert done.returncode == 0, f"{' '.join(argv[2:])} failed:\n{done.stdout}\n{done.stderr}"
        return done

    def install_host(self, *extension_ids: str) -> subprocess.CompletedProcess[str]:
        args = ["--catalog-dir", str(self.catalog_dir), "--models-dir", str(self.models_dir)]
        for extension_id in extension_ids:
            args += ["--extension-id", extension_id]
        done = self.installer("install", *args)
        self.install_is_default = extension_ids in ((), (GECKO_ID,))
        return done

    # --- the browser ------------------------------------------------------------------------

    def start_browser(self) -> None:
        self.proxy = CivitaiProxy(self.site, *make_certificate(self.root))
        prefs = {
            "extensions.webextensions.uuids": json.dumps({GECKO_ID: ADDON_UUID}),
            **self.proxy.prefs,
        }
        self.firefox = Firefox(self.binary, self.root / "profile", self.env,
                               self.root / "firefox.log", prefs)
        assert self.firefox.install_addon(STUB_DIR) == GECKO_ID
        self.open_extension_page()

    def stop_browser(self) -> None:
        try:
            if self.firefox is not None:
                self.firefox.close()
        finally:
            self.firefox = None
            if self.proxy is not None:
                self.proxy.close()

    def js(self, script: str, *args: Any, sandbox: str | None = None) -> Any:
        assert self.firefox is not None
        return self.firefox.marionette.execute(script, list(args), sandbox=sandbox)

    def open_extension_page(self) -> None:
        """The popup page, once its own ping on load has been answered (so that no request of
        its own is still on its way when a test starts)."""
        assert self.firefox is not None
        self.firefox.marionette.navigate(EXTENSION_PAGE)
        self.js("const deadline = Date.now() + arguments[0] * 1000;"
                "while (!Number(document.body.dataset.checked || 0)) {"
                "  if (Date.now() > deadline) throw new Error('the popup never finished its ping');"
                "  await new Promise((resolve) => setTimeout(resolve, 20));"
                "}"
                "return true;", WAIT_S)

    def reset(self) -> None:
        """Between tests: the extension page open, no host running, empty folders."""
        self.open_extension_page()
        self.js("const bg = await browser.runtime.getBackgroundPage();"
                "bg.catalogHost.port.close(); await browser.storage.session.clear(); return true;")
        self.wait_host_pids(0)
        self.site.clear()
        for folder in (self.catalog_dir, self.models_dir):
            shutil.rmtree(folder)
            folder.mkdir()

    def message(self, op: str, params: dict[str, Any] | None = None) -> Any:
        """The extension's own message path: page -> background -> host, as the popup asks."""
        return self.js("return browser.runtime.sendMessage({type: 'host', op: arguments[0], "
                       "params: arguments[1]});", op, params or {})

    def host_request(self, op: str, params: dict[str, Any] | None = None, channel: str = "auto") -> Any:
        """The background's request() with a chosen channel ("port", "once" or "auto")."""
        return self.js("const bg = await browser.runtime.getBackgroundPage();"
                       "const answer = await bg.catalogHost.request(arguments[0], arguments[1], "
                       "{channel: arguments[2]}); return JSON.parse(JSON.stringify(answer));",
                       op, params or {}, channel)

    # --- pages ------------------------------------------------------------------------------

    def open_model_page(self, page: ModelPage) -> None:
        assert self.firefox is not None
        self.firefox.marionette.navigate(self.site.put(page))

    def open_actions(self) -> str:
        """The toolbar popup as a person sees it over the current (civitai.com) tab: opened in
        a background tab of the same window, so the page's tab stays the active one the popup
        asks about. Returns the page tab's handle (`close_actions` goes back to it)."""
        m = self.marionette
        page = m.command("WebDriver:GetWindowHandle")["value"]
        popup = m.command("WebDriver:NewWindow", {"type": "tab", "focus": False})["handle"]
        m.command("WebDriver:SwitchToWindow", {"handle": popup, "focus": False})
        self.open_extension_page()
        self.wait_popup("document.body.dataset.page === 'none' || "
                        "Number(document.body.dataset.lookups || 0) >= 1")
        return str(page)

    def close_actions(self, page: str) -> None:
        m = self.marionette
        m.command("WebDriver:CloseWindow")
        m.command("WebDriver:SwitchToWindow", {"handle": page, "focus": True})

    def wait_popup(self, condition: str) -> None:
        self.js("const deadline = Date.now() + arguments[0] * 1000;"
                f"while (!({condition})) {{"
                "  if (Date.now() > deadline) throw new Error('timed out: ' + arguments[1]);"
                "  await new Promise((resolve) => setTimeout(resolve, 20));"
                "}"
                "return true;", WAIT_S, condition)

    def popup_rows(self) -> dict[int, dict[str, Any]]:
        rows = self.js("return [...document.querySelectorAll('#versions .version')].map((row) => ({"
                       "id: Number(row.dataset.versionId),"
                       "state: row.querySelector('.badge').dataset.state,"
                       "actions: [...row.querySelectorAll('button[data-action]')]"
                       "  .map((b) => b.dataset.action),"
                       "message: row.querySelector('.message')?.textContent || null}))")
        return {row["id"]: row for row in rows}

    def popup_click(self, version_id: int, action: str) -> None:
        """A real click (Marionette's element click) on a row's button; waits for the popup's
        next lookup answer."""
        m = self.marionette
        before = int(self.js("return Number(document.body.dataset.lookups || 0)"))
        selector = f'.version[data-version-id="{version_id}"] button[data-action="{action}"]'
        # A web element is {"element-6066-11e4-a52e-4f735466cecf": "<id>"}.
        element = m.command("WebDriver:FindElement", {"using": "css selector", "value": selector})
        m.command("WebDriver:ElementClick", {"id": next(iter(element["value"].values()))})
        self.wait_popup(f"Number(document.body.dataset.lookups || 0) >= {before + 1} && "
                        "document.body.dataset.busy === '0'")

    @property
    def marionette(self) -> Marionette:
        assert self.firefox is not None
        return self.firefox.marionette

    def panel_states(self, expected: int) -> dict[int, str]:
        """{version id: badge state} of the page's panel, once `expected` rows have an answer.

        The panel sits in a closed shadow root the page cannot reach; this reads it with
        system rights (Marionette's system sandbox), as a person sees it."""
        deadline = time.monotonic() + WAIT_S
        rows: list[list[str]] = []
        while time.monotonic() < deadline:
            rows = self.js(
                "const host = document.querySelector('civitai-catalog-stub');"
                "const root = host && host.openOrClosedShadowRoot;"
                "if (!root) return [];"
                "return [...root.querySelectorAll('.row[data-version-id]')].map((row) => "
                "[row.dataset.versionId, row.querySelector('[data-state]')?.dataset.state ?? '']);",
                sandbox="system") or []
            if len(rows) == expected and all(state and state != "unknown" for _vid, state in rows):
                return {int(vid): state for vid, state in rows}
            time.sleep(0.1)
        raise AssertionError(f"the panel did not show {expected} answered rows in {WAIT_S:g} s: {rows}")

    def panel_footer(self) -> tuple[str, str]:
        """The panel's last line and its tooltip (read as panel_states reads the rows)."""
        found: list[str] = self.js(
            "const root = document.querySelector('civitai-catalog-stub')?.openOrClosedShadowRoot;"
            "const footer = root && root.querySelector('footer');"
            "return footer ? [footer.textContent, footer.title] : ['', ''];",
            sandbox="system")
        return found[0], found[1]

    # --- host processes ---------------------------------------------------------------------

    def host_processes(self) -> dict[int, list[str]]:
        """Host processes Firefox started (found in /proc by the manifest path in their argv)."""
        manifest = str(self.host_manifest).encode()
        found = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if manifest in argv:
                found[int(entry.name)] = [a.decode(errors="replace") for a in argv if a]
        return found

    def wait_host_pids(self, count: int) -> dict[int, list[str]]:
        deadline = time.monotonic() + WAIT_S
        while True:
            found = self.host_processes()
            if len(found) == count:
                return found
            assert time.monotonic() < deadline, f"expected {count} host process(es), found {found}"
            time.sleep(0.05)
