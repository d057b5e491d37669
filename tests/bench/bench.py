"""Cold and warm latency of the host, side by side with the floor, on catalogs of 100, 10,000
and 50,000 entries. Prints a table: case, size, median, ratio to the floor, target, pass/fail.

    python -m tests.bench.bench [--runs 21] [--sizes 100,10000,50000] [--venv DIR]

What runs is what a browser runs: the package installed (not editable) in its own venv, the
launcher written by the project's installer, one new process per cold request. The floor is
a stdlib-only echo host (read one frame, reply, exit) started the same way: a /bin/sh launcher
that execs the same interpreter with the same flags. Timing is plain wall-clock around real
subprocesses; cases and the floor are interleaved so machine noise hits them alike.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.bench.catalog_gen import FIRST_VERSION_ID  # noqa: E402
from tests.bench.sandbox import install, sh, work_folder  # noqa: E402
from tests.support.fake_civitai import FakeCivitai, load_fixture  # noqa: E402
from tests.support.frames import frame, read_one, unframe_all  # noqa: E402


def cold(cmd: list[str], request: Any, env: dict[str, str]) -> tuple[float, list[Any]]:
    """One process, one request, EOF (as sendNativeMessage does): (seconds until the reply
    has arrived, which is what a person waits for; replies). The process is then reaped."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=env)
    assert proc.stdin and proc.stdout
    proc.stdin.write(frame(request))
    proc.stdin.close()
    reply = read_one(proc.stdout)
    elapsed = time.perf_counter() - start
    rest = proc.stdout.read()
    assert proc.wait(timeout=60) == 0 and rest == b"", "the host must exit 0 after one reply"
    return elapsed, [reply]


def generate(catalog_dir: Path, models_dir: Path, size: int) -> list[int]:
    """Catalogs written by a child process, so this process stays small (forking a big
    process would slow every measurement that follows)."""
    code = ("import sys; from pathlib import Path; from tests.bench.catalog_gen import write_catalogs; "
            f"write_catalogs(Path({str(catalog_dir)!r}), Path({str(models_dir)!r}), {size})")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    return [FIRST_VERSION_ID + i for i in range(size)]


# Linux charges a child's peak RSS with the memory of the process it was forked from, so the
# child is started from a tiny stdlib-only helper process, which reports the child's own peak.
_RSS_HOP = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
sys.stderr.write(str(usage.ru_maxrss))
"""


def peak_rss(cmd: list[str], request: Any, env: dict[str, str]) -> int:
    """Peak resident memory, KiB, of one cold request."""
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", _RSS_HOP, *cmd], input=frame(request),
                          capture_output=True, env=env, check=True)
    assert unframe_all(proc.stdout)[0]["ok"]
    return int(proc.stderr.decode().strip().splitlines()[-1])


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str, str, str]] = []

    def add(self, case: str, size: str, value: str, ratio: str, target: str, ok: bool | None) -> None:
        verdict = "" if ok is None else ("pass" if ok else "FAIL")
        self.rows.append((case, size, value, ratio, target, verdict))
        print(f"  {case} [{size}]: {value} {ratio} (target {target}) {verdict}", flush=True)

    def render(self) -> str:
        head = ("case", "entries", "median", "× floor", "target", "result")
        widths = [max(len(r[i]) for r in [head, *self.rows]) for i in range(6)]
        lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(head, widths)) + " |",
                 "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
        lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in self.rows]
        return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    table = Table()
    with work_folder("catalog-host-bench-", args.keep) as work:
        base_env, python, launcher, host_cmd, floor_cmd = install(work, args.venv)
        print(f"host launcher: {launcher}\n{launcher.read_text()}", flush=True)

        all_floor: list[float] = []

        def measure(env: dict[str, str], request: Any, check: Any = None) -> tuple[float, float]:
            """Medians (ms) of the case and of the floor, interleaved run by run."""
            samples, floor_samples = [], []
            for _ in range(args.runs):
                floor_samples.append(cold(floor_cmd, {"op": "ping"}, env)[0])
                elapsed, replies = cold(host_cmd, request, env)
                assert replies and replies[0]["ok"], replies
                if check:
                    check(replies[0]["result"])
                samples.append(elapsed)
            all_floor.extend(floor_samples)
            return median_ms(samples), median_ms(floor_samples)

        results: dict[tuple[str, int], tuple[float, float]] = {}
        envs: dict[int, dict[str, str]] = {}
        for size in args.sizes:
            catalog_dir, models_dir = work / f"catalog_{size}", work / f"models_{size}"
            t0 = time.perf_counter()
            ids = generate(catalog_dir, models_dir, size)
            env = dict(base_env, CATALOG_HOST_CATALOG_DIR=str(catalog_dir),
                       CATALOG_HOST_MODELS_DIR=str(models_dir))
            envs[size] = env
            t1 = time.perf_counter()
            elapsed, _ = cold(host_cmd, {"op": "lookup", "version_ids": [ids[0]]}, env)
            print(f"{size} entries: generated in {t1 - t0:.1f} s; first lookup (builds the index) "
                  f"{elapsed * 1000:.0f} ms", flush=True)
            step = max(1, len(ids) // 20)
            asked = [str(ids[i * step % len(ids)]) for i in range(19)] + ["999999999"]

            def lookup_ok(result: dict[str, Any], asked: list[str] = asked) -> None:
                assert set(result["by_version"]) == set(asked)
                assert sum(v is not None for v in result["by_version"].values()) == 19

            results[("lookup", size)] = measure(env, {"op": "lookup", "version_ids": asked}, lookup_ok)
            if size == max(args.sizes):
                results[("ping", size)] = measure(env, {"op": "ping"})
                etag = cold(host_cmd, {"op": "map"}, env)[1][0]["result"]["etag"]
                results[("map_unchanged", size)] = measure(
                    env, {"op": "map", "etag": etag}, lambda r, e=etag: r == {"unchanged": True, "etag": e})
        biggest = max(args.sizes)
        table.add("floor (echo host)", "-", f"{median_ms(all_floor):.1f} ms", "1.00", "-", None)

        def cold_row(case: str, key: tuple[str, int], limit: float) -> None:
            value, floor = results[key]
            table.add(case, f"{key[1]:,}", f"{value:.1f} ms", f"{value / floor:.2f}", f"≤ {limit}",
                      value / floor <= limit)

        cold_row("cold ping", ("ping", biggest), 1.3)
        for size in args.sizes:
            cold_row("cold lookup, 20 ids", ("lookup", size), 2)
        cold_row("cold map, matching etag", ("map_unchanged", biggest), 2)

        env = envs[biggest]
        ids_all = list(range(FIRST_VERSION_ID, FIRST_VERSION_ID + biggest))
        # warm: one connectNative-style process, sequential lookups of 20 ids
        proc = subprocess.Popen(host_cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, env=env)
        assert proc.stdin and proc.stdout
        count = args.warm
        requests = [frame({"op": "lookup", "id": n,
                           "version_ids": [ids_all[(n * 20 + k) * 37 % biggest] for k in range(20)]})
                    for n in range(count)]
        read_one_started = time.perf_counter()
        for request in requests:
            proc.stdin.write(request)
            proc.stdin.flush()
            reply = read_one(proc.stdout)
            assert reply["ok"]
        per_second = count / (time.perf_counter() - read_one_started)
        # full map, paged, over the same process
        started = time.perf_counter()
        cursor, pages, listed, biggest_frame = None, 0, 0, 0
        while True:
            request = {"op": "map", **({"cursor": cursor} if cursor else {})}
            proc.stdin.write(frame(request))
            proc.stdin.flush()
            header = proc.stdout.read(4)
            size_bytes = int.from_bytes(header, sys.byteorder)
            biggest_frame = max(biggest_frame, size_bytes)
            result = json.loads(proc.stdout.read(size_bytes))["result"]
            pages += 1
            listed += len(result["by_version"])
            cursor = result["next"]
            if not cursor:
                break
        map_seconds = time.perf_counter() - started
        proc.stdin.close()
        proc.wait(timeout=30)
        table.add("warm lookups of 20 ids", f"{biggest:,}", f"{per_second:,.0f} /s", "-", "≥ 1,000 /s",
                  per_second >= 1000)
        table.add(f"full map, {pages} pages, largest {biggest_frame / 1024:.0f} KiB", f"{biggest:,}",
                  f"{map_seconds * 1000:.0f} ms", "-", "≤ 2,000 ms, frames ≤ 1 MiB",
                  map_seconds <= 2 and biggest_frame <= 1024 * 1024 and listed == biggest)

        # add, end to end, against a local fake CivitAI
        with FakeCivitai() as fake:
            add_env = dict(env, CATALOG_HOST_CIVITAI_URL=fake.url)
            payload = load_fixture("sdxl_lora")
            samples = []
            for n in range(args.add_runs):
                payload = dict(payload, id=90_000_000 + n, modelId=80_000_000 + n)
                payload["files"] = [dict(payload["files"][0], name=f"bench_added_{n}.safetensors")]
                fake.add_version(payload)
                elapsed, replies = cold(host_cmd, {"op": "add", "version_id": payload["id"]}, add_env)
                assert replies[0]["result"]["status"] == "added", replies
                samples.append(elapsed)
        value = median_ms(samples)
        table.add("cold add (fake CivitAI)", f"{biggest:,}", f"{value:.0f} ms", "-", "≤ 1,500 ms", value <= 1500)

        # peak memory of a cold lookup vs the floor
        request = {"op": "lookup", "version_ids": [str(i) for i in ids_all[:20]]}
        floor_kib = min(peak_rss(floor_cmd, {"op": "ping"}, env) for _ in range(3))
        host_kib = max(peak_rss(host_cmd, request, env) for _ in range(3))
        table.add("peak RSS, cold lookup", f"{biggest:,}", f"{host_kib / 1024:.1f} MiB",
                  f"{host_kib / floor_kib:.2f}", "≤ 2", host_kib / floor_kib <= 2)
        print(f"\nfloor peak RSS {floor_kib / 1024:.1f} MiB; {args.runs} runs per cold case; "
              f"python {sh(str(python), '--version').strip()}; {os.cpu_count()} cores\n")
        print(table.render())
        return 0 if all(r[5] != "FAIL" for r in table.rows) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=21, help="runs per cold case (median taken)")
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[100, 10_000, 50_000])
    parser.add_argument("--warm", type=int, default=3000, help="sequential lookups over one process")
    parser.add_argument("--add-runs", type=int, default=5)
    parser.add_argument("--venv", help="reuse (or create) the benchmark venv here")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    return run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
