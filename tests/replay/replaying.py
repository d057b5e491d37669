"""Replay recorded conversations through the real loop, in-process.

A transcript folder holds `conversation.jsonl`: a first line `{"setup": {...}}` naming the
catalogs to start from (`before/`), the CivitAI fixtures the fake API serves and model files
to put on disk; then one `{"send": request, "expect": reply}` per line. `after/` holds the
catalog files expected at the end. In expected values the string "<any>" matches anything
(volatile values: dates, etags, temp paths). `session.bin`, when present, is the same
requests as raw frames, replayed byte for byte.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from host.context import Context
from host.server import serve
from tests.support.frames import frame, unframe_all

ANY = "<any>"
TRANSCRIPTS = Path(__file__).parent / "transcripts"


def matches(expected: Any, actual: Any) -> bool:
    if expected == ANY:
        return True
    if isinstance(expected, dict):
        return (isinstance(actual, dict) and expected.keys() == actual.keys()
                and all(matches(expected[k], actual[k]) for k in expected))
    if isinstance(expected, list):
        return (isinstance(actual, list) and len(expected) == len(actual)
                and all(matches(e, a) for e, a in zip(expected, actual)))
    return bool(expected == actual and type(expected) is type(actual))


def load(folder: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    lines = [json.loads(line) for line in (folder / "conversation.jsonl").read_text("utf-8").splitlines()
             if line.strip()]
    return lines[0]["setup"], lines[1:]


def run_frames(data: bytes) -> tuple[int, list[Any]]:
    out = io.BytesIO()
    status = serve(io.BytesIO(data), out, Context())
    return status, unframe_all(out.getvalue())


def requests_as_frames(steps: list[dict[str, Any]]) -> bytes:
    return b"".join(frame(step["send"]) for step in steps)
