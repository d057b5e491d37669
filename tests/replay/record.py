"""Record a transcript: run `requests.jsonl` through the host and write what it answered.

Usage: python -m tests.replay.record FOLDER
FOLDER holds `requests.jsonl` (a `{"setup": ...}` line, then one request per line) and
optionally `before/`. Writes `conversation.jsonl`, `after/` and `session.bin`. The output is
a proposal: read every reply before committing it. Volatile values (dates, etags, temp
paths: VOLATILE_KEYS) are written as "<any>". Uses the fake CivitAI fixtures and a temp HOME.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from tests.replay.replaying import requests_as_frames, run_frames
from tests.support.fake_civitai import FakeCivitai

# Values that differ from run to run; the recording replaces them with "<any>".
VOLATILE_KEYS = frozenset({"catalog_dir", "models_dir", "etag", "date"})


def _mask(value: object) -> object:
    if isinstance(value, dict):
        return {k: ("<any>" if k in VOLATILE_KEYS and v is not None else _mask(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return value


def record(folder: Path) -> None:
    lines = [json.loads(x) for x in (folder / "requests.jsonl").read_text("utf-8").splitlines() if x.strip()]
    setup, requests = lines[0]["setup"], lines[1:]
    with tempfile.TemporaryDirectory() as tmp, FakeCivitai() as fake:
        root = Path(tmp)
        catalog_dir, models_dir = root / "catalogs", root / "models"
        models_dir.mkdir()
        if (folder / "before").is_dir():
            shutil.copytree(folder / "before", catalog_dir)
        for name in setup.get("civitai", []):
            fake.add_fixture(name)
        for dest, file in setup.get("files", []):
            (models_dir / dest).mkdir(parents=True, exist_ok=True)
            (models_dir / dest / file).write_bytes(b"x")
        os.environ.update({
            "HOME": str(root), "XDG_CACHE_HOME": str(root / "cache"), "XDG_DATA_HOME": str(root / "data"),
            "XDG_CONFIG_HOME": str(root / "config"), "XDG_STATE_HOME": str(root / "state"),
            "CATALOG_HOST_CONFIG": str(root / "none.json"), "CATALOG_HOST_CATALOG_DIR": str(catalog_dir),
            "CATALOG_HOST_MODELS_DIR": str(models_dir), "CATALOG_HOST_CIVITAI_URL": fake.url,
        })
        steps = [{"send": r} for r in requests]
        raw = requests_as_frames(steps)
        _, replies = run_frames(raw)
        with (folder / "conversation.jsonl").open("w", encoding="utf-8") as out:
            out.write(json.dumps({"setup": setup}, ensure_ascii=False) + "\n")
            for request, reply in zip(requests, replies):
                out.write(json.dumps({"send": request, "expect": _mask(reply)}, ensure_ascii=False) + "\n")
        (folder / "session.bin").write_bytes(raw)
        (folder / "after").mkdir(exist_ok=True)
        for name in ("models", "loras"):
            if (catalog_dir / f"{name}.json").exists():
                doc = json.loads((catalog_dir / f"{name}.json").read_text("utf-8"))
                doc["date"] = "<any>"
                text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
                (folder / "after" / f"{name}.json").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    record(Path(sys.argv[1]))
