"""Issue 11 N: a write keeps the catalog file's own style: no final newline stays none, CRLF
line ends stay CRLF, a UTF-8 BOM stays. Compared byte for byte: after removing one entry,
every line the operation did not change is exactly as it was, line end included."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.catalogs import studio_catalogs

BOM = b"\xef\xbb\xbf"
REMOVED = "old_sd15.safetensors"


def styled(doc: Any, newline: bytes, final: bool, bom: bool) -> bytes:
    text = json.dumps(doc, indent=2, ensure_ascii=False).encode("utf-8")
    return (BOM if bom else b"") + text.replace(b"\n", newline) + (newline if final else b"")


STYLES = {
    "lf": (b"\n", True, False),
    "lf-no-final-newline": (b"\n", False, False),
    "crlf": (b"\r\n", True, False),
    "crlf-no-final-newline": (b"\r\n", False, False),
    "bom-lf": (b"\n", True, True),
    "bom-crlf-no-final-newline": (b"\r\n", False, True),
}


def entry_block(lines: list[bytes], file: str) -> tuple[int, int]:
    """The first and last line of the catalog entry naming `file` (its `{` and its `},`)."""
    at = next(n for n, line in enumerate(lines) if f'"file": "{file}"'.encode() in line)
    indent = len(lines[at]) - len(lines[at].lstrip()) - 2
    first = max(n for n in range(at) if lines[n].rstrip() == b" " * indent + b"{")
    last = min(n for n in range(at, len(lines)) if lines[n].rstrip().startswith(b" " * indent + b"}"))
    return first, last


@pytest.mark.parametrize("style", list(STYLES))
def test_a_write_keeps_the_files_style_and_every_untouched_line(host_env: Any, style: str) -> None:
    newline, final, bom = STYLES[style]
    models, loras = studio_catalogs()
    host_env.catalog_dir.mkdir(parents=True, exist_ok=True)
    before = styled(models, newline, final, bom)
    host_env.models_json.write_bytes(before)
    host_env.write_catalogs(loras=loras)
    assert host_env.ok("remove", file=REMOVED)["status"] == "removed"
    after = host_env.models_json.read_bytes()

    assert after.startswith(BOM) is bom
    assert after.endswith(b"}" + newline if final else b"}")
    if newline == b"\r\n":
        assert after.count(b"\n") == after.count(b"\r\n"), "a line lost its CR"
    old_lines, new_lines = before.splitlines(keepends=True), after.splitlines(keepends=True)
    # byte for byte: the old file with new version and date lines and without the entry's lines
    first, last = entry_block(old_lines, REMOVED)
    assert new_lines[1].startswith(b'  "version": ') and new_lines[2].startswith(b'  "date": "')
    assert new_lines[1].endswith(newline) and new_lines[2].endswith(newline)
    assert new_lines == old_lines[:1] + new_lines[1:3] + old_lines[3:first] + old_lines[last + 1 :]
    assert json.loads(after.decode("utf-8-sig"))["version"] == models["version"] + 1
