"""The one table of browsers: where each looks for native-messaging host manifests, per OS.

Data only (stdlib); `host.installer.targets` turns a row into paths and registry keys. Each row
has its `places` keyed by OS (Linux, macOS: the `user` folders and the `system` folder) and, for
Windows, its registry family. Two families: Chromium (manifests list `allowed_origins`) and
Gecko (Firefox: `allowed_extensions`, add-on ids).

Chromium sources: Chrome's and Edge's native-messaging docs, Chromium's
chrome_paths_{linux,mac}.cc (user-level hosts live in `<user data dir>/NativeMessagingHosts`),
and traces of the real browsers on Linux (Brave and Opera read their *default* folder even when
started with another --user-data-dir; Brave, Vivaldi and Opera read Chrome's system folder;
Opera reads Chrome's user folder). Where a location is not documented or traced (the macOS
system folder of Brave, Vivaldi and Opera), the row follows the Linux behaviour and says so.

Firefox: Mozilla's documented locations (MDN "Native manifests": Linux
`~/.mozilla/native-messaging-hosts` and `/usr/lib/mozilla/native-messaging-hosts`, macOS
`~/Library/Application Support/Mozilla/NativeMessagingHosts` and
`/Library/Application Support/Mozilla/NativeMessagingHosts`, Windows
`HKCU|HKLM\\Software\\Mozilla\\NativeMessagingHosts\\<name>`), read by every Mozilla build
(release, ESR, Beta, Developer Edition, Nightly). Firefox forks (LibreWolf, Waterfox, ...) are
left out: their makers do not document where they look, only user reports guess.

Snaps: a snap browser cannot start a host program itself. The Firefox snap (stable channel
since November 2022; upstream Firefox 135) asks the desktop's WebExtensions XDG portal instead
(xdg-desktop-portal, shipped with it from Ubuntu 22.04; Mozilla's "Native messaging for a
strictly-confined Firefox"). The portal reads the usual Firefox manifests
(`~/.mozilla/native-messaging-hosts`, `/usr/lib/mozilla/native-messaging-hosts`, ...), checks
`allowed_extensions`, asks the person once whether the browser may start that host (the answer
is remembered), and starts it with Firefox's own arguments (manifest path, add-on id). Hence
`snap_portal`. The Chromium snap does not use the portal, and a flatpak Firefox does not by
default (a preference must be changed), so those stay unable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

PosixOs = Literal["linux", "macos"]
Family = Literal["chromium", "gecko"]
# The folder a user-level path is relative to: "config" is Chromium's config base
# ($CHROME_CONFIG_HOME, $XDG_CONFIG_HOME or ~/.config on Linux; ~/Library/Application Support
# on macOS), "home" the home folder itself.
Base = Literal["config", "home"]
# Chromium's name for the folder of user-level hosts inside a user data dir.
CHROMIUM_HOSTS = "NativeMessagingHosts"


@dataclass(frozen=True)
class Places:
    """Where one browser looks on one POSIX OS.

    `user`: folders holding `<name>.json`, relative to `base`, the browser's own first.
    `system`: the folder holding `<name>.json`, relative to the file-system root (None: none).
    `seen`: a folder relative to `base` that exists once the browser has run here.
    """

    user: tuple[str, ...]
    system: str | None
    seen: str
    base: Base = "config"


def chromium(folders: tuple[str, ...], system: str | None) -> Places:
    """A Chromium-family row: each user data dir holds its hosts in NativeMessagingHosts/."""
    return Places(tuple(f"{f}/{CHROMIUM_HOSTS}" for f in folders), system, seen=folders[0])


@dataclass(frozen=True)
class Browser:
    """One browser (or one channel of it) and where it looks.

    `places`: Linux and macOS locations (an OS left out: the browser does not exist there).
    `windows`: the registry family, the part of `Software\\<family>\\NativeMessagingHosts`
    (None: not on Windows); `windows_seen`: a registry key under HKCU or HKLM that exists once
    the browser is installed (default `Software\\<family>`).
    """

    key: str
    label: str
    places: Mapping[PosixOs, Places]
    windows: str | None
    windows_seen: str | None = None
    linux_commands: tuple[str, ...] = ()
    macos_apps: tuple[str, ...] = ()
    snap: str | None = None
    flatpak: str | None = None
    # False: the browser reads its default folder whatever --user-data-dir it was started with.
    follows_user_data_dir: bool = True
    family: Family = "chromium"
    # True: its snap starts hosts through the WebExtensions portal, from the usual folders.
    snap_portal: bool = False


# Chrome's system folders; Brave, Vivaldi and Opera (traced on Linux) read these too.
_LINUX_CHROME_SYSTEM = "etc/opt/chrome/native-messaging-hosts"
_MACOS_CHROME_SYSTEM = "Library/Google/Chrome/NativeMessagingHosts"
_LINUX_EDGE_SYSTEM = "etc/opt/edge/native-messaging-hosts"
_MACOS_EDGE_SYSTEM = "Library/Microsoft/Edge/NativeMessagingHosts"
# Windows registry families. Brave, Vivaldi and Opera read Chrome's key.
_WIN_CHROME = r"Google\Chrome"
_WIN_EDGE = r"Microsoft\Edge"


def _chrome_like(linux: str, macos: str, linux_system: str = _LINUX_CHROME_SYSTEM,
                 macos_system: str = _MACOS_CHROME_SYSTEM) -> dict[PosixOs, Places]:
    return {"linux": chromium((linux,), linux_system), "macos": chromium((macos,), macos_system)}


BROWSERS: tuple[Browser, ...] = (
    Browser(
        key="chrome", label="Google Chrome",
        places=_chrome_like("google-chrome", "Google/Chrome"), windows=_WIN_CHROME,
        linux_commands=("google-chrome", "google-chrome-stable"),
        macos_apps=("Google Chrome.app",), flatpak="com.google.Chrome",
    ),
    Browser(
        key="chrome-beta", label="Google Chrome Beta",
        places=_chrome_like("google-chrome-beta", "Google/Chrome Beta"), windows=_WIN_CHROME,
        linux_commands=("google-chrome-beta",), macos_apps=("Google Chrome Beta.app",),
    ),
    Browser(
        key="chrome-dev", label="Google Chrome Dev",
        places=_chrome_like("google-chrome-unstable", "Google/Chrome Dev"), windows=_WIN_CHROME,
        linux_commands=("google-chrome-unstable",), macos_apps=("Google Chrome Dev.app",),
        flatpak="com.google.ChromeDev",
    ),
    Browser(
        key="chrome-canary", label="Google Chrome Canary",
        places=_chrome_like("google-chrome-canary", "Google/Chrome Canary"), windows=_WIN_CHROME,
        linux_commands=("google-chrome-canary",), macos_apps=("Google Chrome Canary.app",),
    ),
    Browser(
        key="chromium", label="Chromium",
        places=_chrome_like("chromium", "Chromium", "etc/chromium/native-messaging-hosts",
                            "Library/Application Support/Chromium/NativeMessagingHosts"),
        windows="Chromium",
        linux_commands=("chromium", "chromium-browser"), macos_apps=("Chromium.app",),
        snap="chromium", flatpak="org.chromium.Chromium",
    ),
    Browser(
        key="edge", label="Microsoft Edge",
        places=_chrome_like("microsoft-edge", "Microsoft Edge", _LINUX_EDGE_SYSTEM,
                            _MACOS_EDGE_SYSTEM),
        windows=_WIN_EDGE,
        linux_commands=("microsoft-edge", "microsoft-edge-stable"),
        macos_apps=("Microsoft Edge.app",), flatpak="com.microsoft.Edge",
    ),
    Browser(
        key="edge-beta", label="Microsoft Edge Beta",
        places=_chrome_like("microsoft-edge-beta", "Microsoft Edge Beta", _LINUX_EDGE_SYSTEM,
                            _MACOS_EDGE_SYSTEM),
        windows=_WIN_EDGE,
        linux_commands=("microsoft-edge-beta",), macos_apps=("Microsoft Edge Beta.app",),
    ),
    Browser(
        key="edge-dev", label="Microsoft Edge Dev",
        places=_chrome_like("microsoft-edge-dev", "Microsoft Edge Dev", _LINUX_EDGE_SYSTEM,
                            _MACOS_EDGE_SYSTEM),
        windows=_WIN_EDGE,
        linux_commands=("microsoft-edge-dev",), macos_apps=("Microsoft Edge Dev.app",),
    ),
    Browser(
        key="brave", label="Brave",
        # macOS system folder: not documented; Chrome's, as traced for Brave on Linux.
        places=_chrome_like("BraveSoftware/Brave-Browser", "BraveSoftware/Brave-Browser"),
        windows=_WIN_CHROME,
        linux_commands=("brave-browser", "brave"), macos_apps=("Brave Browser.app",),
        snap="brave", flatpak="com.brave.Browser", follows_user_data_dir=False,
    ),
    Browser(
        key="vivaldi", label="Vivaldi",
        places=_chrome_like("vivaldi", "Vivaldi"), windows=_WIN_CHROME,
        linux_commands=("vivaldi", "vivaldi-stable"), macos_apps=("Vivaldi.app",),
        snap="vivaldi", flatpak="com.vivaldi.Vivaldi",
    ),
    Browser(
        key="opera", label="Opera",
        # Opera reads Google Chrome's user folder (traced on Linux; Opera's developers say the
        # same for macOS); its own folder is written too and shows that Opera is installed.
        places={
            "linux": chromium(("opera", "google-chrome"), _LINUX_CHROME_SYSTEM),
            "macos": chromium(("com.operasoftware.Opera", "Google/Chrome"), _MACOS_CHROME_SYSTEM),
        },
        windows=_WIN_CHROME,
        linux_commands=("opera",), macos_apps=("Opera.app",),
        snap="opera", flatpak="com.opera.Opera", follows_user_data_dir=False,
    ),
    Browser(
        key="firefox", label="Firefox",
        places={
            "linux": Places((".mozilla/native-messaging-hosts",),
                            "usr/lib/mozilla/native-messaging-hosts",
                            seen=".mozilla/firefox", base="home"),
            "macos": Places(("Mozilla/NativeMessagingHosts",),
                            "Library/Application Support/Mozilla/NativeMessagingHosts",
                            seen="Firefox"),
        },
        windows="Mozilla", windows_seen=r"Software\Mozilla\Mozilla Firefox",
        linux_commands=("firefox", "firefox-esr"), macos_apps=("Firefox.app",),
        snap="firefox", flatpak="org.mozilla.firefox", follows_user_data_dir=False,
        family="gecko", snap_portal=True,
    ),
)

BY_KEY: dict[str, Browser] = {b.key: b for b in BROWSERS}
