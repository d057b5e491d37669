"""What a handler may use: the settings in force, loaded once per process and only on demand.

Stdlib only. The caller's origin is checked here, once, against the configured extension ids.
"""

from __future__ import annotations

from host.errors import ConfigError, ForbiddenOriginError
from host.settings import Settings, load_extension_ids, load_settings, origin_of


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
        """Refuse a caller whose origin (argv[1], given by the browser) is not allowed.

        A config error is told only to an allowed caller: when the allowed ids can be read
        despite it, a stranger gets forbidden_origin; when they cannot (the config file does
        not parse), every browser caller gets a config_invalid that names no path."""
        if self.origin is None:  # the command line: the person at this computer
            return
        try:
            allowed = self.settings.allowed_origins
        except ConfigError as exc:
            try:
                allowed = tuple(origin_of(i) for i in load_extension_ids())
            except ConfigError:
                from host.log import get_logger

                get_logger().warning("config error: %s", exc.message)
                raise ConfigError(
                    "the host's configuration cannot be read; run `catalog-host doctor` on this "
                    "computer to see why"
                ) from exc
            if self.origin in allowed:
                raise
        if self.origin not in allowed:
            raise ForbiddenOriginError(
                f"the extension {self.origin} is not allowed to use this host; add its id with "
                "`catalog-host install --extension-id <id>`",
            )
