"""What a handler may use: the settings in force, loaded once per process and only on demand.

Stdlib only. The caller is checked here, once, against the configured ids of its browser family:
a Chrome origin (`chrome-extension://<id>/`) against `extension_ids`, anything else (the add-on
id Firefox passes) against `firefox_extension_ids`.
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
        """Refuse a caller (named by the browser on the command line) that is not allowed."""
        origin = self.origin
        if origin is None:
            return
        settings = self.settings
        if origin.startswith("chrome-extension://"):
            allowed = origin in settings.allowed_origins
        else:
            allowed = origin in settings.firefox_extension_ids
        if not allowed:
            raise ForbiddenOriginError(
                f"the extension {origin or '(Firefox named no add-on)'} is not allowed to use "
                "this host; add its id with `catalog-host install --extension-id <id>`",
            )
