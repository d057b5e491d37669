"""The host's log file (platformdirs user log dir), set up on first use only.

Nothing is ever logged to stdout (that is the message channel); warnings also go to stderr,
which Chrome forwards to its own log. Reads log nothing, so `logging` is not imported on the
hot path. Every line, traceback included, goes through host.redaction: a message may quote
what CivitAI sent, and that can hold the API key.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_logger: Any = None


def get_logger() -> Any:
    global _logger
    if _logger is not None:
        return _logger
    import logging
    from logging.handlers import RotatingFileHandler

    from host.redaction import redact_text

    class RedactingFormatter(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return redact_text(super().format(record))

    from host.settings import default_log_dir

    logger = logging.getLogger("catalog-host")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    fmt = RedactingFormatter("%(asctime)s pid=%(process)d %(levelname)s %(message)s")
    try:
        folder = default_log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = RotatingFileHandler(
            folder / "host.log", maxBytes=1_000_000, backupCount=2, encoding="utf-8"
        )
    except OSError:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(fmt)
    logger.addHandler(handler)
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setLevel(logging.WARNING)
    stderr.setFormatter(fmt)
    logger.addHandler(stderr)
    _logger = logger
    return logger
