"""Recorded conversations, replayed through the real loop; replies and catalog files compared."""

from __future__ import annotations

import json
import shutil
import sys

import pytest

from tests.replay.replaying import TRANSCRIPTS, load, matches, requests_as_frames, run_frames
from tests.support.fake_civitai import FakeCivitai
from tests.support.frames import unframe_all

FOLDERS = sorted(p for p in TRANSCRIPTS.iterdir() if (p / "conversation.jsonl").exists())


@pytest.fixture
def fake_civitai(host_env, monkeypatch):
    with FakeCivitai() as fake:
        monkeypatch.setenv("CATALOG_HOST_CIVITAI_URL", fake.url)
        yield fake


def prepare(folder, host_env, fake):
    setup, steps = load(folder)
    if (folder / "before").is_dir():
        shutil.copytree(folder / "before", host_env.catalog_dir)
    for name in setup.get("civitai", []):
        fake.add_fixture(name)
    for dest, file in setup.get("files", []):
        host_env.put_file(dest, file)
    return steps


def check_after(folder, host_env):
    for name in ("models", "loras"):
        expected_path = folder / "after" / f"{name}.json"
        actual_path = host_env.catalog_dir / f"{name}.json"
        if expected_path.exists():
            expected = json.loads(expected_path.read_text("utf-8"))
            actual = json.loads(actual_path.read_text("utf-8"))
            assert matches(expected, actual), f"{name}.json differs from {expected_path}"
        else:
            assert not actual_path.exists() or (folder / "before" / f"{name}.json").exists()


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_conversation_jsonl(folder, host_env, fake_civitai):
    steps = prepare(folder, host_env, fake_civitai)
    status, replies = run_frames(requests_as_frames(steps))
    assert status == 0
    assert len(replies) == len(steps)
    for number, (step, reply) in enumerate(zip(steps, replies), start=1):
        assert matches(step["expect"], reply), (
            f"step {number}: {json.dumps(step['send'])}\n expected {json.dumps(step['expect'])}\n"
            f"      got {json.dumps(reply, ensure_ascii=False)}")
    check_after(folder, host_env)


BIN_FOLDERS = [f for f in FOLDERS if (f / "session.bin").exists()]


@pytest.mark.skipif(sys.byteorder != "little", reason="recordings were made on a little-endian host")
@pytest.mark.parametrize("folder", BIN_FOLDERS, ids=[f.name for f in BIN_FOLDERS])
def test_raw_recording(folder, host_env, fake_civitai):
    steps = prepare(folder, host_env, fake_civitai)
    raw = (folder / "session.bin").read_bytes()
    # the recording holds exactly the conversation's requests, framed as Chrome frames them
    assert unframe_all(raw) == [step["send"] for step in steps]
    status, replies = run_frames(raw)
    assert status == 0
    assert all(matches(step["expect"], reply) for step, reply in zip(steps, replies))
    check_after(folder, host_env)


BROKEN = sorted((TRANSCRIPTS / "broken").glob("*.bin"))


@pytest.mark.parametrize("recording", BROKEN, ids=[p.stem for p in BROKEN])
def test_broken_stream_recordings(recording, host_env):
    expected = json.loads(recording.with_suffix(".expect.json").read_text("utf-8"))
    status, replies = run_frames(recording.read_bytes())
    assert status == expected["exit"]
    assert matches(expected["replies"], replies), replies
