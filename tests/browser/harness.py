"""The world of a browser test: a headless Chromium with the extension stub, the host installed
into its user-data dir by the project's installer, a fake CivitAI API and fake civitai.com pages.

Everything lives in one temp folder: HOME and XDG_* (so neither the browser nor the host
touches the real user's folders), the user-data dir, the catalog and models folders and the
host's config. The browser gets a minimal environment built here (not the developer's: no
stray CIVITAI_API_KEY), and passes it on to the host processes it starts.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from host.atomicfile import write_atomically  # replaces the file: new inode, new mtime
from tests.browser.chromium_cdp import Browser, CDPError, Session
from tests.browser.fake_site import FakeSite, ModelPage
from tests.support.browsers import HostFiles
from tests.support.catalogs import civitai_entry
from tests.support.processes import pid_alive

REPO = Path(__file__).resolve().parents[2]
STUB_DIR = REPO / "extension-stub"
HOST_NAME = "com.civitai_catalog.host"
STUB_ID = "jpiddlinckgdlidmojineffgcdpfoacg"
OTHER_ID = "abcdefghijklmnopabcdefghijklmnop"  # a well-formed id that is not ours
# Real browser binaries (Debian's /usr/bin/chromium is a wrapper script adding flags of its own).
CHROMIUM_CANDIDATES = (
    "/usr/lib/chromium/chromium",
    "/usr/lib/chromium-browser/chromium-browser",
    "/usr/lib64/chromium-browser/chromium-browser",
)
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",  # required as root; harmless otherwise in a throw-away profile
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--no-first-run",
    "--no-default-browser-check",
    "--window-size=1280,900",
)
WAIT_S = 10.0


def extension_id_from_key(public_key_b64: str) -> str:
    """Chrome's rule: first 32 hex digits of sha256(DER public key), 0-f mapped to a-p."""
    digest = hashlib.sha256(base64.b64decode(public_key_b64)).hexdigest()[:32]
    return "".join(chr(ord("a") + int(c, 16)) for c in digest)


def _is_elf(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(4) == b"\x7fELF"
    except OSError:
        return False


def find_chromium() -> str | None:
    """The Chromium binary to drive: $CATALOG_HOST_CHROMIUM, a known real binary, or an ELF
    `chromium` on PATH (not a wrapper script, and never a snap: snaps cannot run hosts)."""
    explicit = os.environ.get("CATALOG_HOST_CHROMIUM")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    for candidate in CHROMIUM_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found and "/snap/" not in os.path.realpath(found) and _is_elf(os.path.realpath(found)):
            return os.path.realpath(found)
    return None


# --- catalogs on disk ---------------------------------------------------------------------------


# one catalog entry, as the other suites build them
catalog_entry = civitai_entry


# --- the world --------------------------------------------------------------------------------


def real_click(session: Session, x: float, y: float, move: bool = True) -> None:
    """A left click at a point of the viewport through CDP input, as a mouse makes it (a page
    script cannot tell it from a person's: `isTrusted` is true)."""
    kinds = ("mouseMoved", "mousePressed", "mouseReleased") if move else ("mousePressed", "mouseReleased")
    for kind in kinds:
        session.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1})


@dataclass
class World(HostFiles):
    root: Path
    chromium: str
    civitai_url: str
    user_data_dir: Path = field(init=False)
    catalog_dir: Path = field(init=False)
    models_dir: Path = field(init=False)
    config_path: Path = field(init=False)
    env: dict[str, str] = field(init=False)
    site: FakeSite = field(default_factory=FakeSite)
    browser: Browser | None = None
    worker: Session | None = None
    pages: list[PageView | PopupView | ActionsView] = field(default_factory=list)
    browser_errors: list[BaseException] = field(default_factory=list)
    # False once a test changed the installation (uninstalled, other ids, edited config)
    install_is_default: bool = False

    def __post_init__(self) -> None:
        home = self.root / "home"
        self.user_data_dir = self.root / "user-data"
        self.catalog_dir = self.root / "catalogs"
        self.models_dir = self.root / "models"
        self.config_path = self.root / "config" / "catalog-host.json"
        for folder in (home, self.user_data_dir, self.catalog_dir, self.models_dir, self.config_path.parent):
            folder.mkdir(parents=True, exist_ok=True)
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_STATE_HOME": str(home / ".local" / "state"),
            "TMPDIR": str(self.root),
            # the host reads these when the browser starts it (environment > config file)
            "CATALOG_HOST_CONFIG": str(self.config_path),
            "CATALOG_HOST_CIVITAI_URL": self.civitai_url,
        }

    # --- installer (the project's own) ------------------------------------------------------

    @property
    def host_manifest(self) -> Path:
        return self.user_data_dir / "NativeMessagingHosts" / f"{HOST_NAME}.json"

    def installer(self, command: str, *args: str) -> subprocess.CompletedProcess[str]:
        argv = [
            sys.executable,
            "-m",
            "host",
            command,
            "--browser",
            "chromium",
            "--user-data-dir",
            str(self.user_data_dir),
            *args,
        ]
        done = subprocess.run(argv, cwd=REPO, env=self.env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{' '.join(argv[2:])} failed:\n{done.stdout}\n{done.stderr}"
        return done

    def install_host(self, *extension_ids: str) -> subprocess.CompletedProcess[str]:
        """Install for the given extension ids (none: the installer's default, the config's ids
        or else the stub's)."""
        args = ["--catalog-dir", str(self.catalog_dir), "--models-dir", str(self.models_dir)]
        for extension_id in extension_ids:
            args += ["--extension-id", extension_id]
        done = self.installer("install", *args)
        self.install_is_default = extension_ids in ((), (STUB_ID,))
        return done

    def answer_late(self, marker: str, delay_s: float) -> None:
        """Make the browser start the host through `late_host.py`: replies to requests whose
        JSON contains `marker` (and every reply after them) come `delay_s` seconds late.
        Test-only; the next test's fixture reinstalls the plain host."""
        manifest = json.loads(self.host_manifest.read_text("utf-8"))
        wrapper = self.root / "late-host.sh"
        wrapper.write_text(
            "#!/bin/sh\n"
            f'exec "{sys.executable}" "{Path(__file__).with_name("late_host.py")}" '
            f'{delay_s} "{marker}" "{manifest["path"]}" "$@"\n'
        )
        wrapper.chmod(0o755)
        manifest["path"] = str(wrapper)
        write_atomically(self.host_manifest, json.dumps(manifest, indent=2).encode())
        self.install_is_default = False

    # --- the browser ------------------------------------------------------------------------

    def start_browser(self) -> None:
        args = [
            *CHROMIUM_FLAGS,
            f"--user-data-dir={self.user_data_dir}",
            f"--load-extension={STUB_DIR}",
            f"--disable-extensions-except={STUB_DIR}",
            "about:blank",
        ]
        log = self.root / "chromium.log"
        self.browser = Browser(self.chromium, args, self.env, log)
        try:
            self.site.install(self.browser)
            target = self.browser.wait_target(
                lambda t: (
                    t["type"] == "service_worker" and t["url"].startswith(f"chrome-extension://{STUB_ID}/")
                ),
                timeout=20,
            )
            self.worker = self.browser.attach(target["targetId"])
            # the target appears before the script has run: wait for its API
            self.worker.wait_for(
                "typeof globalThis.catalogHost === 'object'", what="the service worker's API"
            )
        except CDPError as exc:
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise CDPError(f"{exc}\n--- {log} (end) ---\n{tail}") from exc

    def stop_browser(self) -> None:
        if self.browser is not None:
            self.browser.close()
            self.browser_errors.extend(self.browser.handler_errors)
            self.browser = None

    def reset(self) -> None:
        """Between tests: no pages open, no host running, empty catalog and models folders.

        Pages are first navigated away (unloading the content script and the popup), and only
        then closed: closing a tab brings another to the front, and a content script seeing
        its tab become visible asks the host again -- which would open a port to the host as
        installed *now*, left open into the next test.
        """
        assert self.browser is not None
        for page in self.pages:
            if isinstance(page, ActionsView):  # a popup: just close it (it may be gone already)
                page.close()
        for page in self.pages:
            if not isinstance(page, ActionsView):
                page.session.navigate("about:blank")
        for page in self.pages:
            page.close()
        self.pages.clear()
        self.site.clear()
        self.stop_downloads()
        self.sw("catalogHost.port.close(), chrome.storage.session.clear()")
        if Path("/proc").is_dir():
            self.wait_host_pids(0)
        for folder in (self.catalog_dir, self.models_dir):
            shutil.rmtree(folder)
            folder.mkdir()

    def jobs_file(self) -> dict[str, Any]:
        """The host's job file beside the catalogs (downloads, SPEC §9); empty when absent."""
        try:
            data: dict[str, Any] = json.loads((self.catalog_dir / ".catalog-host-jobs").read_text("utf-8"))
        except (OSError, ValueError):
            return {"jobs": []}
        return data

    def stop_downloads(self) -> None:
        """Cancel unfinished downloads and scans and wait for the detached worker to exit (its
        folder is about to be emptied)."""
        for job in self.jobs_file()["jobs"]:
            if job.get("kind") == "scan" and job.get("state") in ("queued", "running"):
                self.host_request("cancel", {"kind": "scan"})
            elif job.get("state") in ("queued", "downloading", "verifying"):
                self.host_request("cancel", {"version_id": job["key"]})
        pid = (self.jobs_file().get("worker") or {}).get("pid")
        if not pid:
            return
        deadline = time.monotonic() + WAIT_S
        while pid_alive(int(pid)):
            if time.monotonic() > deadline:
                os.kill(int(pid), signal.SIGKILL)
                break
            time.sleep(0.05)

    def sw(self, expression: str, timeout: float = 30.0) -> Any:
        assert self.worker is not None
        return self.worker.evaluate(expression, timeout=timeout)

    def host_request(self, op: str, params: dict[str, Any] | None = None, channel: str = "auto") -> Any:
        call = f"catalogHost.request({json.dumps(op)}, {json.dumps(params or {})}, {{channel: {json.dumps(channel)}}})"
        return self.sw(call)

    # --- pages ------------------------------------------------------------------------------

    def open_model_page(self, page: ModelPage, version_id: int | None = None) -> PageView:
        assert self.browser is not None
        url = self.site.put(page)
        if version_id is not None:
            url += f"?modelVersionId={version_id}"
        session = self.browser.new_page()
        view = PageView(session)
        self.pages.append(view)
        session.navigate(url)
        view.find_content_world()
        view.wait_lookups(1)
        return view

    def open_page(self, url: str) -> PageView:
        """Any civitai.com page (served from `self.site`): waits for the content script only."""
        assert self.browser is not None
        session = self.browser.new_page()
        view = PageView(session)
        self.pages.append(view)
        session.navigate(url)
        view.find_content_world()
        return view

    def open_actions(self, page: PageView) -> ActionsView:
        """The toolbar popup as a person opens it over `page` (`action.openPopup()` with that
        tab in front): the versions the page's content script reported, with their actions."""
        assert self.browser is not None
        page.session.send("Page.bringToFront")
        popup_url = f"chrome-extension://{STUB_ID}/popup.html"
        for info in self.browser.send("Target.getTargets")["targetInfos"]:
            if info["url"] == popup_url:  # one popup at a time, as in a real browser
                self.browser.send("Target.closeTarget", {"targetId": info["targetId"]})
        self.sw("chrome.action.openPopup().then(() => true)")
        target = self.browser.wait_target(lambda t: t["type"] == "page" and t["url"] == popup_url)
        view = ActionsView(self.browser.attach(target["targetId"]))
        self.pages.append(view)
        view.wait_checked(1)
        view.session.wait_for(
            "document.body.dataset.page === 'none' || Number(document.body.dataset.lookups) >= 1",
            what="the popup's view of the page",
        )
        return view

    def open_popup(self) -> PopupView:
        assert self.browser is not None
        session = self.browser.new_page()
        view = PopupView(session)
        self.pages.append(view)
        session.navigate(f"chrome-extension://{STUB_ID}/popup.html")
        view.wait_checked(1)
        return view

    # --- host processes ---------------------------------------------------------------------

    def host_pids(self) -> list[int]:
        """Host processes started by our browser for our extension (found in /proc)."""
        assert self.browser is not None
        if not Path("/proc").is_dir():
            pytest.skip("finding the host process needs /proc (Linux)")
        origin = f"chrome-extension://{STUB_ID}/".encode()
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
                if origin not in argv or not self._descends_from_browser(int(entry.name)):
                    continue
            except OSError:
                continue
            pids.append(int(entry.name))
        return pids

    def _descends_from_browser(self, pid: int) -> bool:
        assert self.browser is not None
        for _ in range(8):
            status = Path(f"/proc/{pid}/status").read_text()
            ppid = int(next(line.split()[1] for line in status.splitlines() if line.startswith("PPid:")))
            if ppid == self.browser.process.pid:
                return True
            if ppid <= 1:
                return False
            pid = ppid
        return False

    def wait_host_pids(self, count: int) -> list[int]:
        """Wait until exactly `count` host processes run (one-shot ones take a moment to exit)."""
        deadline = time.monotonic() + WAIT_S
        while True:
            pids = self.host_pids()
            if len(pids) == count:
                return pids
            assert time.monotonic() < deadline, f"expected {count} host process(es), found {pids}"
            time.sleep(0.05)

    def kill_host(self) -> int:
        """Kill the one running host process (a crash, as the browser sees it)."""
        (pid,) = self.wait_host_pids(1)
        os.kill(pid, signal.SIGKILL)
        return pid


class PageView:
    """A civitai.com tab; reads the closed panel through the content script's own world."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.context_id: int | None = None

    def find_content_world(self) -> None:
        """The execution context Chrome created for our content script in this page."""

        def is_ours(params: dict[str, Any]) -> bool:
            context = params["context"]
            return (
                context.get("auxData", {}).get("type") == "isolated"
                and context.get("origin") == f"chrome-extension://{STUB_ID}"
            )

        self.context_id = self.session.wait_event("Runtime.executionContextCreated", is_ours)["context"]["id"]
        self.session.wait_for(
            "!!globalThis.__catalogStub", context_id=self.context_id, what="the content script"
        )

    def js(self, expression: str) -> Any:
        return self.session.evaluate(expression, context_id=self.context_id)

    def main_world(self, expression: str) -> Any:
        return self.session.evaluate(expression)

    def lookups(self) -> int:
        return int(self.js("__catalogStub.state.lookups"))

    def wait_lookups(self, count: int) -> None:
        self.session.wait_for(
            f"__catalogStub.state.lookups >= {count}",
            context_id=self.context_id,
            what=f"{count} lookup answer(s) in the page",
        )

    def rows(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.js(
            """(() => {
              const root = __catalogStub.root();
              if (!root) return [];
              return [...root.querySelectorAll('.row')].map((row) => ({
                id: Number(row.dataset.versionId),
                name: row.querySelector('.name').textContent,
                meta: row.querySelector('.meta').textContent,
                badge: row.querySelector('.badge').textContent,
                state: row.querySelector('.badge').dataset.state,
                actions: [...row.querySelectorAll('button[data-action]')].map((b) => b.dataset.action),
                message: row.querySelector('[data-role=message]')?.textContent ?? null,
                current: row.classList.contains('current'),
              }));
            })()"""
        )
        return rows

    def badges(self) -> dict[int, str]:
        return {row["id"]: row["badge"] for row in self.rows()}

    def footer(self) -> str:
        text: str = self.js("__catalogStub.root().querySelector('footer').textContent")
        return text

    def footer_title(self) -> str:
        text: str = self.js("__catalogStub.root().querySelector('footer').title")
        return text

    def notice(self) -> str | None:
        notice: str | None = self.js(
            "__catalogStub.root()?.querySelector('[data-role=notice]')?.textContent ?? null"
        )
        return notice

    def panel_html_elements(self) -> list[str]:
        """Tag names of every element inside the panel (to prove no page text became HTML)."""
        tags: list[str] = self.js("[...__catalogStub.root().querySelectorAll('*')].map((e) => e.localName)")
        return tags

    def click_at(self, x: float, y: float) -> None:
        """One real left click at a point of the viewport (CDP input, as from a mouse)."""
        real_click(self.session, x, y, move=False)

    def panel_box(self) -> dict[str, float] | None:
        """The panel's box in the viewport (read from inside the closed shadow root)."""
        box: dict[str, float] | None = self.js(
            """(() => {
              const p = __catalogStub.root()?.querySelector('.panel');
              if (!p) return null;
              const r = p.getBoundingClientRect();
              return {x: r.left, y: r.top, width: r.width, height: r.height};
            })()"""
        )
        return box

    def screenshot(self, path: Path) -> Path:
        return self.session.screenshot(path)

    def close(self) -> None:
        self.session.close()


class PopupView:
    """The extension's popup, opened as a tab (what a person sees when clicking the icon)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def wait_checked(self, count: int) -> None:
        self.session.wait_for(
            f"Number(document.body?.dataset.checked || 0) >= {count}", what="the popup's ping"
        )

    def text(self, element_id: str) -> str:
        value: str = self.session.evaluate(f"document.getElementById({json.dumps(element_id)}).textContent")
        return value

    def visible(self, element_id: str) -> bool:
        return not self.session.evaluate(f"document.getElementById({json.dumps(element_id)}).hidden")

    def state(self) -> str:
        value: str = self.session.evaluate("document.getElementById('state').dataset.state")
        return value

    def screenshot(self, path: Path) -> Path:
        return self.session.screenshot(path)

    def recheck(self) -> None:
        done = int(self.session.evaluate("Number(document.body.dataset.checked)"))
        self.session.evaluate("document.getElementById('recheck').click()")
        self.wait_checked(done + 1)

    def close(self) -> None:
        self.session.close()


class ActionsView(PopupView):
    """The popup opened over a civitai.com tab: that page's versions and every action on them."""

    def wait_lookups(self, count: int) -> None:
        self.session.wait_for(
            f"Number(document.body.dataset.lookups || 0) >= {count} && document.body.dataset.busy === '0'",
            what=f"{count} lookup answer(s) in the popup",
        )

    def lookups(self) -> int:
        return int(self.session.evaluate("Number(document.body.dataset.lookups || 0)"))

    def rows(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.session.evaluate(
            """[...document.querySelectorAll('#versions .version')].map((row) => ({
                id: Number(row.dataset.versionId),
                name: row.querySelector('.name').textContent,
                meta: row.querySelector('.meta').textContent,
                badge: row.querySelector('.badge').textContent,
                state: row.querySelector('.badge').dataset.state,
                actions: [...row.querySelectorAll('button[data-action]')].map((b) => b.dataset.action),
                message: row.querySelector('.message')?.textContent || null,
                progress: row.querySelector('.progress') && !row.querySelector('.progress').hidden
                  ? row.querySelector('.progress-text').textContent : null,
                current: row.classList.contains('current'),
              }))"""
        )
        return rows

    def downloads(self) -> list[dict[str, Any]]:
        """The Downloads section (every job the host knows of), newest first."""
        jobs: list[dict[str, Any]] = self.session.evaluate(
            """document.getElementById('downloads').hidden ? [] :
              [...document.querySelectorAll('#jobs .job')].map((row) => ({
                id: Number(row.dataset.versionId),
                name: row.querySelector('.name').textContent,
                state: row.querySelector('.badge').dataset.state,
                progress: row.querySelector('.progress-text')?.textContent ?? null,
                message: row.querySelector('.message')?.textContent ?? null,
                actions: [...row.querySelectorAll('button[data-action]')].map((b) => b.dataset.action),
              }))"""
        )
        return jobs

    def row(self, version_id: int) -> dict[str, Any]:
        found = [r for r in self.rows() if r["id"] == version_id]
        assert found, f"no row for version {version_id}: {self.rows()}"
        return found[0]

    def badges(self) -> dict[int, str]:
        return {row["id"]: row["badge"] for row in self.rows()}

    def click(self, version_id: int, action: str, wait: bool = True) -> None:
        """Click a row's button with real mouse events, then wait for the refreshed badges."""
        before = self.lookups()
        self.click_on(f'.version[data-version-id="{version_id}"] button[data-action="{action}"]')
        if wait:
            self.wait_lookups(before + 1)

    def click_on(self, selector: str) -> None:
        """Real mouse events on the centre of the (enabled) element `selector`."""
        box = self.session.evaluate(
            f"""(() => {{
              const b = document.querySelector({json.dumps(selector)});
              if (!b || b.disabled) return null;
              b.scrollIntoView({{block: 'center'}});
              const r = b.getBoundingClientRect();
              return {{x: r.left + r.width / 2, y: r.top + r.height / 2}};
            }})()"""
        )
        assert box, f"no enabled {selector!r}: {self.rows()} {self.downloads()}"
        real_click(self.session, box["x"], box["y"])
