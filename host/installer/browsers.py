"""The one table of Chromium-family browsers: where each looks for native-messaging hosts.

Data only (stdlib); `host.installer.targets` turns a row into paths and registry keys for one OS.
Sources: Chrome's and Edge's native-messaging docs, Chromium's chrome_paths_{linux,mac}.cc
(user-level hosts live in `<user data dir>/NativeMessagingHosts`), and traces of the real
browsers on Linux (Brave and Opera read their *default* folder even when started with another
--user-data-dir; Brave, Vivaldi and Opera read Chrome's system folder; Opera reads Chrome's user
folder). Where a location is not documented or traced (the macOS system folder of Brave,
Vivaldi and Opera), the row follows the Linux behaviour and says so.
"""

from __future__ import annotations

from dataclasses import dataclass

# Chrome's system folders; Brave, Vivaldi and Opera (traced on Linux) read these too.
_LINUX_CHROME_SYSTEM = "etc/opt/chrome/native-messaging-hosts"
_MACOS_CHROME_SYSTEM = "Library/Google/Chrome/NativeMessagingHosts"
# Windows registry families (the part between `Software\` and `\NativeMessagingHosts`).
# Brave, Vivaldi and Opera read Chrome's key.
_WIN_CHROME = r"Google\Chrome"
_WIN_CHROMIUM = "Chromium"
_WIN_EDGE = r"Microsoft\Edge"


@dataclass(frozen=True)
class Browser:
    """One browser (or one channel of it) and where it looks, per OS.

    `linux` / `macos` are folders under the config base (`$XDG_CONFIG_HOME` or `~/.config`;
    `~/Library/Application Support`): the browser's default user data dir first (its presence
    shows the browser has run here), then any other browser's folder it also reads. A host is
    registered as `<folder>/NativeMessagingHosts/<name>.json`. System folders are relative to the
    file-system root. `None` means the browser does not exist on that OS.
    """

    key: str
    label: str
    linux: tuple[str, ...] | None
    linux_system: str | None
    macos: tuple[str, ...] | None
    macos_system: str | None
    windows: str | None
    linux_commands: tuple[str, ...] = ()
    macos_apps: tuple[str, ...] = ()
    snap: str | None = None
    flatpak: str | None = None
    # False: the browser reads its default folder whatever --user-data-dir it was started with.
    follows_user_data_dir: bool = True


BROWSERS: tuple[Browser, ...] = (
    Browser(
        key="chrome", label="Google Chrome",
        linux=("google-chrome",), linux_system=_LINUX_CHROME_SYSTEM,
        macos=("Google/Chrome",), macos_system=_MACOS_CHROME_SYSTEM,
        windows=_WIN_CHROME,
        linux_commands=("google-chrome", "google-chrome-stable"),
        macos_apps=("Google Chrome.app",), flatpak="com.google.Chrome",
    ),
    Browser(
        key="chrome-beta", label="Google Chrome Beta",
        linux=("google-chrome-beta",), linux_system=_LINUX_CHROME_SYSTEM,
        macos=("Google/Chrome Beta",), macos_system=_MACOS_CHROME_SYSTEM,
        windows=_WIN_CHROME,
        linux_commands=("google-chrome-beta",), macos_apps=("Google Chrome Beta.app",),
    ),
    Browser(
        key="chrome-dev", label="Google Chrome Dev",
        linux=("google-chrome-unstable",), linux_system=_LINUX_CHROME_SYSTEM,
        macos=("Google/Chrome Dev",), macos_system=_MACOS_CHROME_SYSTEM,
        windows=_WIN_CHROME,
        linux_commands=("google-chrome-unstable",), macos_apps=("Google Chrome Dev.app",),
        flatpak="com.google.ChromeDev",
    ),
    Browser(
        key="chrome-canary", label="Google Chrome Canary",
        linux=("google-chrome-canary",), linux_system=_LINUX_CHROME_SYSTEM,
        macos=("Google/Chrome Canary",), macos_system=_MACOS_CHROME_SYSTEM,
        windows=_WIN_CHROME,
        linux_commands=("google-chrome-canary",), macos_apps=("Google Chrome Canary.app",),
    ),
    Browser(
        key="chromium", label="Chromium",
        linux=("chromium",), linux_system="etc/chromium/native-messaging-hosts",
        macos=("Chromium",), macos_system="Library/Application Support/Chromium/NativeMessagingHosts",
        windows=_WIN_CHROMIUM,
        linux_commands=("chromium", "chromium-browser"), macos_apps=("Chromium.app",),
        snap="chromium", flatpak="org.chromium.Chromium",
    ),
    Browser(
        key="edge", label="Microsoft Edge",
        linux=("microsoft-edge",), linux_system="etc/opt/edge/native-messaging-hosts",
        macos=("Microsoft Edge",), macos_system="Library/Microsoft/Edge/NativeMessagingHosts",
        windows=_WIN_EDGE,
        linux_commands=("microsoft-edge", "microsoft-edge-stable"),
        macos_apps=("Microsoft Edge.app",), flatpak="com.microsoft.Edge",
    ),
    Browser(
        key="edge-beta", label="Microsoft Edge Beta",
        linux=("microsoft-edge-beta",), linux_system="etc/opt/edge/native-messaging-hosts",
        macos=("Microsoft Edge Beta",), macos_system="Library/Microsoft/Edge/NativeMessagingHosts",
        windows=_WIN_EDGE,
        linux_commands=("microsoft-edge-beta",), macos_apps=("Microsoft Edge Beta.app",),
    ),
    Browser(
        key="edge-dev", label="Microsoft Edge Dev",
        linux=("microsoft-edge-dev",), linux_system="etc/opt/edge/native-messaging-hosts",
        macos=("Microsoft Edge Dev",), macos_system="Library/Microsoft/Edge/NativeMessagingHosts",
        windows=_WIN_EDGE,
        linux_commands=("microsoft-edge-dev",), macos_apps=("Microsoft Edge Dev.app",),
    ),
    Browser(
        key="brave", label="Brave",
        linux=("BraveSoftware/Brave-Browser",), linux_system=_LINUX_CHROME_SYSTEM,
        # macOS system folder: not documented; Chrome's, as traced for Brave on Linux.
        macos=("BraveSoftware/Brave-Browser",), macos_system=_MACOS_CHROME_SYSTEM,
        windows=_WIN_CHROME,
        linux_commands=("brave-browser", "brave"), macos_apps=("Brave Browser.app",),
        snap="brave", flatpak="com.brave.Browser", follows_user_data_dir=False,
    ),
    Browser(
        key="vivaldi", label="Vivaldi",
        linux=("vivaldi",), linux_system=_LINUX_CHROME_SYSTEM,
        macos=("Vivaldi",), macos_system=_MACOS_CHROME_SYSTEM,
        windows=_WIN_CHROME,
        linux_commands=("vivaldi", "vivaldi-stable"), macos_apps=("Vivaldi.app",),
        snap="vivaldi", flatpak="com.vivaldi.Vivaldi",
    ),
    Browser(
        key="opera", label="Opera",
        # Opera reads Google Chrome's user folder (traced on Linux; Opera's developers say the
        # same for macOS); its own folder is written too and shows that Opera is installed.
        linux=("opera", "google-chrome"), linux_system=_LINUX_CHROME_SYSTEM,
        macos=("com.operasoftware.Opera", "Google/Chrome"), macos_system=_MACOS_CHROME_SYSTEM,
        windows=_WIN_CHROME,
        linux_commands=("opera",), macos_apps=("Opera.app",),
        snap="opera", flatpak="com.opera.Opera", follows_user_data_dir=False,
    ),
)

BY_KEY: dict[str, Browser] = {b.key: b for b in BROWSERS}
