"""The installer's one error: what went wrong and, where we know it, the fix in words."""

from __future__ import annotations


class InstallerError(Exception):
    """install / uninstall / doctor cannot go on; `fix` tells the person what to do."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message}\n  fix: {self.fix}" if self.fix else self.message
