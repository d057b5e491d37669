"""What a handler may use: the settings in force (loaded once per process, only on demand), the
CivitAI client, and a place to leave work for after the reply.

Stdlib only: the CivitAI client (requests, pydantic) is imported when a handler first asks.
The caller is checked here, once, against the configured ids of its browser family: a Chrome
origin (`chrome-extension://<id>/`) against `extension_ids`, anything else (the add-on id
Firefox passes) against `firefox_extension_ids`.
After-reply work (`after_reply`) is how a write gets its cache refresh off the person's wait:
whoever sends the reply (the server loop, the CLI) calls `run_after_reply()` once it is out.
"""

from __future__ import annotations

from host.errors import ConfigError, ForbiddenOriginError
from host.settings import (
    Settings,
    load_extension_ids,
    load_firefox_extension_ids,
    load_settings,
    origin_of,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds in every cold start
    from collections.abc import Callable

    from host.civitai.client import CivitaiClient


class Context:
    __slots__ = ("_after_reply", "_civitai", "_make_civitai", "_settings", "origin")

    def __init__(
        self,
        origin: str | None = None,
        settings: Settings | None = None,
        make_civitai: Callable[[Settings], CivitaiClient] | None = None,
    ) -> None:
        """`make_civitai` builds the CivitAI client from the settings (tests give one that
        records retry waits instead of sleeping); by default the real one."""
        self.origin = origin
        self._settings = settings
        self._make_civitai = make_civitai
        self._civitai: CivitaiClient | None = None
        self._after_reply: list[Callable[[], None]] = []

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    @property
    def civitai(self) -> CivitaiClient:
        """The CivitAI client for the settings in force, made on first use."""
        if self._civitai is None:
            if self._make_civitai is not None:
                self._civitai = self._make_civitai(self.settings)
            else:
                from host.civitai.client import CivitaiClient

                self._civitai = CivitaiClient(self.settings.civitai_url, self.settings.civitai_api_key)
        return self._civitai

    def check_origin(self) -> None:
        """Refuse a caller (named by the browser on the command line) that is not allowed: a
        Chrome origin must be one of `extension_ids`, a Firefox add-on id one of
        `firefox_extension_ids`.

        A config error is told only to an allowed caller: when the allowed ids can be read
        despite it, a stranger gets forbidden_origin; when they cannot (the config file does
        not parse), every browser caller gets a config_invalid that names no path."""
        origin = self.origin
        if origin is None:  # the command line: the person at this computer
            return
        chrome = origin.startswith("chrome-extension://")
        try:
            settings = self.settings
            allowed = settings.allowed_origins if chrome else settings.firefox_extension_ids
        except ConfigError as exc:
            try:
                allowed = (tuple(origin_of(i) for i in load_extension_ids()) if chrome
                           else load_firefox_extension_ids())
            except ConfigError:
                from host.log import get_logger

                get_logger().warning("config error: %s", exc.message)
                raise ConfigError(
                    "the host's configuration cannot be read; run `catalog-host doctor` on this "
                    "computer to see why"
                ) from exc
            if origin in allowed:
                raise
        if origin not in allowed:
            raise ForbiddenOriginError(
                f"the extension {origin or '(Firefox named no add-on)'} is not allowed to use "
                "this host; add its id with `catalog-host install --extension-id <id>`",
            )

    def after_reply(self, work: Callable[[], None]) -> None:
        """Run `work` once the reply to the current request has been sent. It must not
        change the answer: a process killed before it runs loses nothing but the work."""
        self._after_reply.append(work)

    def run_after_reply(self) -> None:
        """Run (and forget) the work left for after the reply, in the order it was left.
        A failure is logged and never reaches the caller: the reply is already out."""
        while self._after_reply:
            work = self._after_reply.pop(0)
            try:
                work()
            except Exception:
                from host.log import get_logger

                get_logger().exception("work left for after the reply failed")
