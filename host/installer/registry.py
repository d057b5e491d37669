"""The Windows registry behind a seam: the real one (winreg, imported lazily) or a dict.

Browsers on Windows find a host through the *default value* of
`HKCU|HKLM\\Software\\<vendor>\\NativeMessagingHosts\\<name>`, which holds the manifest's
absolute path. The installer only ever reads, sets and deletes such keys, so the seam is three
operations. `DictRegistry` backs the tests (and is importable everywhere); `WindowsRegistry`
raises on any other OS.
"""

from __future__ import annotations

import sys
from typing import Literal, Protocol

Hive = Literal["HKCU", "HKLM"]


class RegistryError(OSError):
    """The registry could not be read or written."""


_ONLY_WINDOWS = "the Windows registry exists only on Windows"


class Registry(Protocol):
    def get_default(self, hive: Hive, key: str) -> str | None:
        """The key's default value, or None when the key (or its value) does not exist."""

    def key_exists(self, hive: Hive, key: str) -> bool: ...

    def set_default(self, hive: Hive, key: str, value: str) -> None:
        """Create the key (and its parents) and set its default value."""

    def delete_key(self, hive: Hive, key: str) -> bool:
        """Delete the key (it has no subkeys); False when it did not exist."""


class DictRegistry:
    """An in-memory registry: keys compare case-insensitively, like Windows'."""

    def __init__(self) -> None:
        self.values: dict[tuple[Hive, str], str | None] = {}

    @staticmethod
    def _norm(key: str) -> str:
        return key.strip("\\").lower()

    def get_default(self, hive: Hive, key: str) -> str | None:
        return self.values.get((hive, self._norm(key)))

    def key_exists(self, hive: Hive, key: str) -> bool:
        norm = self._norm(key)
        return any(h == hive and (k == norm or k.startswith(norm + "\\")) for h, k in self.values)

    def set_default(self, hive: Hive, key: str, value: str) -> None:
        self.values[(hive, self._norm(key))] = value

    def delete_key(self, hive: Hive, key: str) -> bool:
        return self.values.pop((hive, self._norm(key)), None) is not None

    def add_key(self, hive: Hive, key: str) -> None:
        """A key with no default value (as a browser's own `Software\\<vendor>` key)."""
        self.values.setdefault((hive, self._norm(key)), None)


class WindowsRegistry:
    """The real registry. HKLM is written in the 64-bit view; Chrome reads both views.

    `winreg` is imported inside each method, only on Windows; every method is split on
    `sys.platform` so that type checkers on each OS check the branch that runs there.
    """

    def get_default(self, hive: Hive, key: str) -> str | None:
        if sys.platform == "win32":
            import winreg

            root = winreg.HKEY_CURRENT_USER if hive == "HKCU" else winreg.HKEY_LOCAL_MACHINE
            for view in (winreg.KEY_WOW64_64KEY, winreg.KEY_WOW64_32KEY):
                try:
                    with winreg.OpenKey(root, key, 0, winreg.KEY_READ | view) as handle:
                        value, _kind = winreg.QueryValueEx(handle, "")
                except FileNotFoundError:
                    continue
                except OSError as exc:
                    raise RegistryError(f"cannot read {hive}\\{key}: {exc}") from exc
                return str(value)
            return None
        else:
            raise RegistryError(_ONLY_WINDOWS)

    def key_exists(self, hive: Hive, key: str) -> bool:
        if sys.platform == "win32":
            import winreg

            root = winreg.HKEY_CURRENT_USER if hive == "HKCU" else winreg.HKEY_LOCAL_MACHINE
            for view in (winreg.KEY_WOW64_64KEY, winreg.KEY_WOW64_32KEY):
                try:
                    with winreg.OpenKey(root, key, 0, winreg.KEY_READ | view):
                        return True
                except OSError:
                    continue
            return False
        else:
            raise RegistryError(_ONLY_WINDOWS)

    def set_default(self, hive: Hive, key: str, value: str) -> None:
        if sys.platform == "win32":
            import winreg

            root = winreg.HKEY_CURRENT_USER if hive == "HKCU" else winreg.HKEY_LOCAL_MACHINE
            access = winreg.KEY_WRITE | winreg.KEY_WOW64_64KEY
            try:
                with winreg.CreateKeyEx(root, key, 0, access) as handle:
                    winreg.SetValueEx(handle, "", 0, winreg.REG_SZ, value)
            except OSError as exc:
                raise RegistryError(f"cannot write {hive}\\{key}: {exc}") from exc
        else:
            raise RegistryError(_ONLY_WINDOWS)

    def delete_key(self, hive: Hive, key: str) -> bool:
        if sys.platform == "win32":
            import winreg

            root = winreg.HKEY_CURRENT_USER if hive == "HKCU" else winreg.HKEY_LOCAL_MACHINE
            try:
                winreg.DeleteKeyEx(root, key, winreg.KEY_WOW64_64KEY, 0)
            except FileNotFoundError:
                return False
            except OSError as exc:
                raise RegistryError(f"cannot delete {hive}\\{key}: {exc}") from exc
            return True
        else:
            raise RegistryError(_ONLY_WINDOWS)
