"""What a handler may use: the settings in force, loaded once per process and only on demand.

Stdlib only. The caller's origin is checked here, once, against the configured extension ids.
"""

from __future__ import annotations

from host.errors import ForbiddenOriginError
from host.settings import Settings, load_settings


class Context:
    __slots__ = ("_settings", "origin")

    def __init__(self, origin: str | None = None, settings: Settings | None = None) -> None:
        self.origin = origin
        self._settings = settings

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    def check_origin(self) -> None:
        """Refuse a caller whose origin (argv[1], given by the browser) is not allowed."""
        if self.origin is None:
            return
        if self.origin not in self.settings.allowed_origins:
            raise ForbiddenOriginError(
                f"the extension {self.origin} is not allowed to use this host; add its id with "
                "`catalog-host install --extension-id <id>`",
            )
