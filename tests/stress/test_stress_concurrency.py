"""Concurrency: many host processes writing the catalog at the same moment lose nothing.

Chrome starts one host process per sendNativeMessage, so several processes regularly
read-modify-write the catalog together. Each round starts WORKERS processes at once; each
adds, promotes and removes its own versions (half the workers pipeline every op into one
process like connectNative, half start one process per op like sendNativeMessage), against a
fake CivitAI that answers with small random delays. Afterwards every expected entry is
present exactly once, every other entry and key is untouched, both files are valid and each
`version` equals the number of changes made. Then many processes do the *same* thing at once.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections import Counter
from typing import Any

import pytest

from host.civitai.entry import build_entry
from host.civitai.models import ModelVersion
from tests.stress.helpers import (
    STUB_ORIGIN,
    civitai_ids,
    figure,
    host_cmd,
    leftovers,
    run_host,
    scaled,
    strict_frames,
    strict_json,
    synth_version,
)
from tests.support.catalogs import STUDIO_LORAS, STUDIO_MODELS, studio_catalogs
from tests.support.frames import frame

pytestmark = pytest.mark.stress

WORKERS = scaled(8, minimum=8)
READERS = 2  # extra processes that only read (lookup, map, ping) while the writers write
ROUNDS = scaled(10, minimum=3)
LORA_FIXTURES = ("sdxl_lora", "flux_lora", "wan_lora", "sd15_lora")
TIMEOUT = 60


def vid(worker: int, round_: int, slot: int) -> int:
    return 7_000_000 + worker * 10_000 + round_ * 10 + slot


def file_of(version_id: int) -> str:
    return f"stress_{version_id}.safetensors"


def plan(worker: int, round_: int) -> list[tuple[dict[str, Any], str]]:
    """(request, expected status) for one worker in one round."""
    a, b = vid(worker, round_, 0), vid(worker, round_, 1)
    ops: list[tuple[dict[str, Any], str]] = [
        ({"op": "add", "version_id": a}, "added"),
        ({"op": "add", "version_id": str(b)}, "added"),  # string ids are ids too
    ]
    if round_:
        prev_a, prev_b = vid(worker, round_ - 1, 0), vid(worker, round_ - 1, 1)
        ops.append(({"op": "promote", "version_id": prev_a}, "promoted"))
        remove: dict[str, Any] = {"op": "remove", "file": file_of(prev_b)}
        if round_ % 2:
            remove["dest"] = "checkpoints" if worker % 2 == 0 else "loras"
        ops.append((remove, "removed"))
    # a read right after this process's own writes must see them, whatever the others did
    ops.append(({"op": "lookup", "version_ids": [a, b, vid(worker, round_ - 1, 0)]}, "lookup"))
    for number, (request, _) in enumerate(ops):
        request["id"] = f"w{worker}r{round_}#{number}"
    return ops


def run_worker(env: dict[str, str], worker: int, round_: int, barrier: threading.Barrier,
               out: dict[int, list[dict[str, Any]]], problems: list[str]) -> None:
    ops = plan(worker, round_)
    try:
        barrier.wait(timeout=TIMEOUT)
        if worker % 2 == 0:  # connectNative-like: every op through one process
            proc = run_host(env, b"".join(frame(req) for req, _ in ops), STUB_ORIGIN, timeout=TIMEOUT)
            assert proc.returncode == 0, proc.stderr
            replies = strict_frames(proc.stdout)
            processes = 1
        else:  # sendNativeMessage-like: one process per op
            replies = []
            for request, _ in ops:
                proc = run_host(env, frame(request), STUB_ORIGIN, timeout=TIMEOUT)
                assert proc.returncode == 0, proc.stderr
                replies.extend(strict_frames(proc.stdout))
            processes = len(ops)
        assert [r["id"] for r in replies] == [req["id"] for req, _ in ops]
        for (request, status), reply in zip(ops, replies):
            assert reply["ok"], (request, reply)
            if status == "lookup":
                found = reply["result"]["by_version"]
                a, b, prev_a = (str(v) for v in request["version_ids"])
                assert found[a]["catalog"] == found[b]["catalog"] == "models", reply
                assert (found[prev_a] or {}).get("catalog") == ("loras" if round_ else None), reply
            else:
                assert reply["result"]["status"] == status, (request, reply)
        out[worker] = [*replies, {"processes": processes}]
    except BaseException as exc:
        problems.append(f"worker {worker} round {round_}: {exc!r}")


def run_reader(env: dict[str, str], stop: threading.Event, reads: list[int], problems: list[str]) -> None:
    """Reads in fresh processes while the writers write: always a whole, valid answer."""
    studio = ["128713", "9208", "200001", "100001"]
    try:
        while not stop.is_set():
            for request in ({"op": "lookup", "version_ids": studio}, {"op": "map"}, {"op": "ping"}):
                proc = run_host(env, frame(request), STUB_ORIGIN, timeout=TIMEOUT)
                (reply,) = strict_frames(proc.stdout)
                assert reply["ok"], reply
                if request["op"] == "lookup":  # Studio's entries never disappear, whatever moves
                    assert all(reply["result"]["by_version"][v] for v in studio), reply
                reads[0] += 1
    except BaseException as exc:
        problems.append(f"reader: {exc!r}")


def expected_entry(fixture: str, version_id: int, model_id: int) -> dict[str, Any]:
    return build_entry(ModelVersion.model_validate(synth_version(fixture, version_id, model_id))).entry


def test_many_processes_many_rounds_lose_nothing(host_env, civitai):
    host_env.write_catalogs(*studio_catalogs())
    civitai.random_delay = (0.0, 0.04)
    payloads: dict[int, tuple[str, int]] = {}
    for worker in range(WORKERS):
        for round_ in range(ROUNDS):
            a, b = vid(worker, round_, 0), vid(worker, round_, 1)
            payloads[a] = (LORA_FIXTURES[worker % len(LORA_FIXTURES)], 8_000_000 + worker * 10)
            payloads[b] = ("sd15_checkpoint_2022" if worker % 2 == 0 else "pony_lora", 8_000_001 + worker * 10)
    for version_id, (fixture, model_id) in payloads.items():
        civitai.add_version(synth_version(fixture, version_id, model_id))

    changes: Counter[str] = Counter()
    ops_done = processes = 0
    reads = [0]
    started = time.monotonic()
    for round_ in range(ROUNDS):
        barrier = threading.Barrier(WORKERS)
        out: dict[int, list[dict[str, Any]]] = {}
        problems: list[str] = []
        threads = [threading.Thread(target=run_worker, args=(host_env.env, w, round_, barrier, out, problems))
                   for w in range(WORKERS)]
        stop = threading.Event()
        readers = [threading.Thread(target=run_reader, args=(host_env.env, stop, reads, problems))
                   for _ in range(READERS)]
        for thread in threads + readers:
            thread.start()
        for thread in threads:
            thread.join(TIMEOUT * 5)
        stop.set()
        for thread in readers:
            thread.join(TIMEOUT)
        assert not problems, problems
        for replies in out.values():
            processes += replies[-1]["processes"]
            for reply in replies[:-1]:
                ops_done += 1
                result = reply["result"]
                if result.get("status") == "added":
                    changes["models"] += 1
                elif result.get("status") == "promoted":
                    changes["loras"] += 1
                    changes["models"] += 1
                elif result.get("status") == "removed":
                    changes[result["catalog"]] += 1
    elapsed = time.monotonic() - started

    models = strict_json(host_env.models_json.read_bytes())
    loras = strict_json(host_env.loras_json.read_bytes())
    last = ROUNDS - 1
    # every change counted once in `version`
    assert changes["models"] == WORKERS * (2 * ROUNDS + 2 * last)
    assert changes["loras"] == WORKERS * last
    assert models["version"] == STUDIO_MODELS["version"] + changes["models"]
    assert loras["version"] == STUDIO_LORAS["version"] + changes["loras"]

    # every expected entry exactly once, exactly as `add` built it, nothing else
    want_models = {vid(w, last, s) for w in range(WORKERS) for s in (0, 1)}
    want_loras = {vid(w, r, 0) for w in range(WORKERS) for r in range(last)}
    synthesized = set(payloads)
    got_models = Counter(int(v) for v in civitai_ids(models) if int(v) in synthesized)
    got_loras = Counter(int(v) for v in civitai_ids(loras) if int(v) in synthesized)
    assert set(got_models) == want_models and set(got_models.values()) == {1}
    assert set(got_loras) == want_loras and set(got_loras.values()) == {1}
    for doc in (models, loras):
        for category in doc["categories"]:
            for entry in category["models"]:
                version_id = entry.get("civitai_version_id")
                if version_id in synthesized:
                    assert entry == expected_entry(payloads[version_id][0], version_id, payloads[version_id][1])

    # the Studio catalogs' own entries, categories and keys: untouched, in order
    def strip(doc: dict[str, Any]) -> dict[str, Any]:
        kept = [{**c, "models": [e for e in c["models"] if e.get("civitai_version_id") not in synthesized]}
                for c in doc["categories"]]
        return {**doc, "categories": kept}

    for doc, original in ((models, STUDIO_MODELS), (loras, STUDIO_LORAS)):
        stripped = strip(doc)
        assert list(stripped) == list(original)
        assert {k: v for k, v in stripped.items() if k not in ("version", "date", "categories")} == \
            {k: v for k, v in original.items() if k not in ("version", "date", "categories")}
        n = len(original["categories"])
        assert stripped["categories"][:n] == original["categories"]
        assert all(c["models"] == [] for c in stripped["categories"][n:])  # only new categories follow

    # the backups parse, no temp file is left over
    for name in ("models", "loras"):
        strict_json((host_env.catalog_dir / f"{name}.json.bak").read_bytes())
    assert leftovers(host_env.catalog_dir) == []

    # a fresh process sees exactly the files' contents (the index followed every write)
    everything = set(civitai_ids(models)) | set(civitai_ids(loras))
    seen: dict[str, Any] = {}
    request: dict[str, Any] = {"op": "map"}
    while True:
        (reply,) = strict_frames(run_host(host_env.env, frame(request), STUB_ORIGIN).stdout)
        seen.update(reply["result"]["by_version"])
        if not reply["result"]["next"]:
            break
        request = {"op": "map", "cursor": reply["result"]["next"]}
    assert set(seen) == everything
    for version_id in want_models:
        assert seen[str(version_id)]["catalog"] == "models"
    for version_id in want_loras:
        assert seen[str(version_id)]["catalog"] == "loras"

    figure(f"concurrency: {WORKERS} writing processes at once x {ROUNDS} rounds = {ops_done} ops in {processes} "
           f"host processes ({changes['models']} models.json + {changes['loras']} loras.json changes), plus "
           f"{reads[0]} reads by {READERS} concurrent readers, in {elapsed:.1f} s; lost 0 entries, "
           f"0 duplicates, versions exact")


def start_all(env: dict[str, str], count: int, request: dict[str, Any]) -> list[dict[str, Any]]:
    """Start `count` processes, then hand each the same request as close together as possible."""
    procs = [subprocess.Popen(host_cmd(STUB_ORIGIN), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=env) for _ in range(count)]
    data = frame(request)
    try:
        for proc in procs:
            assert proc.stdin
            proc.stdin.write(data)
            proc.stdin.flush()
        for proc in procs:
            assert proc.stdin
            proc.stdin.close()
        replies = []
        for proc in procs:
            proc.stdin = None  # closed above; communicate() must not flush it
            out, err = proc.communicate(timeout=TIMEOUT)
            assert proc.returncode == 0, err
            (reply,) = strict_frames(out)
            replies.append(reply)
        return replies
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def statuses(replies: list[dict[str, Any]]) -> Counter[str]:
    return Counter(r["result"]["status"] if r["ok"] else r["error"]["code"] for r in replies)


def test_many_processes_doing_the_same_thing_at_once(host_env, civitai):
    host_env.write_catalogs(*studio_catalogs())
    civitai.random_delay = (0.0, 0.05)
    count = scaled(12, minimum=8)
    rounds = scaled(3, minimum=2)
    for round_ in range(rounds):
        version_id = 9_100_000 + round_
        civitai.add_version(synth_version("sdxl_lora", version_id, 9_200_000))
        before = strict_json(host_env.models_json.read_bytes())["version"]

        assert statuses(start_all(host_env.env, count, {"op": "add", "version_id": version_id})) == \
            Counter({"added": 1, "already_exists": count - 1})
        models = strict_json(host_env.models_json.read_bytes())
        assert civitai_ids(models).count(str(version_id)) == 1 and models["version"] == before + 1

        assert statuses(start_all(host_env.env, count, {"op": "promote", "version_id": version_id})) == \
            Counter({"promoted": 1, "already_exists": count - 1})
        models, loras = (strict_json(p.read_bytes()) for p in (host_env.models_json, host_env.loras_json))
        assert str(version_id) not in civitai_ids(models) and civitai_ids(loras).count(str(version_id)) == 1

        assert statuses(start_all(host_env.env, count, {"op": "remove", "file": file_of(version_id)})) == \
            Counter({"removed": 1, "not_found": count - 1})
        loras = strict_json(host_env.loras_json.read_bytes())
        assert str(version_id) not in civitai_ids(loras)

    # different versions that name the same file in the same folder: one entry, never two
    same_file = [9_300_000 + n for n in range(count)]
    for version_id in same_file:
        civitai.add_version(synth_version("sdxl_lora", version_id, 9_400_000, file_name="shared.safetensors"))
    procs = [subprocess.Popen(host_cmd(STUB_ORIGIN), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=host_env.env) for _ in same_file]
    replies = []
    for proc, version_id in zip(procs, same_file):
        out, err = proc.communicate(frame({"op": "add", "version_id": version_id}), timeout=TIMEOUT)
        assert proc.returncode == 0, err
        replies.extend(strict_frames(out))
    assert statuses(replies) == Counter({"added": 1, "already_exists": count - 1})
    models = strict_json(host_env.models_json.read_bytes())
    assert [e["file"] for c in models["categories"] for e in c["models"]].count("shared.safetensors") == 1
    assert leftovers(host_env.catalog_dir) == []
    figure(f"same-target races: {count} processes x {rounds} rounds x (add, promote, remove) of one version "
           f"+ {count} versions with one file name: exactly one winner every time, 0 duplicates")
