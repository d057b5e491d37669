"""Downloads benchmark: `download` -> `present` for a 1 GiB file vs curl, side by side; cold
lookups while two downloads run; the worker's peak RSS. Prints a table.

    python -m tests.bench.bench_downloads [--size-mib 1024] [--runs 5] [--warmup 1] [--venv DIR]

Same set-up as tests/bench/bench.py: the package installed (not editable) in its own venv and
started through the installer's launcher, one new process per request. CivitAI and its storage
are the local fakes (127.0.0.1; the storage sends with sendfile). The curl figure is
`curl -s -o FILE URL` on the storage URL the fake CivitAI redirects to; the download figure runs
from sending the `download` request to the final file appearing (verified, fsynced, renamed:
curl does not fsync, so "curl then fsync" is shown for reference). CPU times (curl's; the
host's plus the worker's) tell a busy machine from slow code, though on a shared VM the kernel's
copy cost varies too (curl alone has ranged 1.2-2.8 s of CPU per GiB here). Runs are
interleaved (curl, download, curl, ...) and the medians compared, after `--warmup` pairs that
are not counted (the source file's first reads, the worker's code pages). Linux only (reads
/proc for the worker's peak RSS).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.bench.bench import Table, cold, generate  # noqa: E402
from tests.bench.sandbox import install, work_folder  # noqa: E402
from tests.support.fake_civitai import FakeCivitai  # noqa: E402
from tests.support.fake_storage import FakeStorage, make_file  # noqa: E402

MIB = 1024 * 1024
BASE_VID = 70_000_000


def write_download_entries(catalog_dir: Path, names: list[str], sha: str) -> None:
    """Append one LoRA entry per name (hash = the stored file's) to the generated models.json."""
    path = catalog_dir / "models.json"
    doc = json.loads(path.read_text("utf-8"))
    doc["categories"].append({"id": "bench_downloads", "name": "Bench downloads", "models": [
        {"name": name, "file": name, "dest": "bench_downloads", "source": "civitai",
         "civitai_version_id": BASE_VID + i, "civitai_model_id": BASE_VID + i, "civitai_file_id": 1,
         "hash": sha, "size_gb": 1.0, "tags": []}
        for i, name in enumerate(names)
    ]})
    path.write_text(json.dumps(doc, indent=2), "utf-8")


def jobs_file(catalog_dir: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads((catalog_dir / ".catalog-host-jobs").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data


class RssWatch:
    """The highest VmHWM (peak RSS) seen of whatever worker runs for `catalog_dir`, and the
    CPU seconds each worker used (sampled every 50 ms, so the last few ms are missed)."""

    def __init__(self, catalog_dir: Path) -> None:
        self.catalog_dir = catalog_dir
        self.peak_kib = 0
        self.cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(0.05):
            pid = (jobs_file(self.catalog_dir).get("worker") or {}).get("pid")
            try:
                with open(f"/proc/{pid}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
                self.cpu[int(pid)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            except (OSError, ValueError, IndexError, TypeError):
                pass
            try:
                with open(f"/proc/{pid}/status") as handle:
                    for line in handle:
                        if line.startswith("VmHWM:"):
                            self.peak_kib = max(self.peak_kib, int(line.split()[1]))
            except (OSError, ValueError):
                pass

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak_kib


def wait_for(path: Path, timeout: float, catalog_dir: Path, vid: int) -> None:
    """Until `path` exists: a stat every 5 ms, and the job file read only every half second
    (parsing it every 5 ms would load the machine during our runs and not during curl's)."""
    deadline = time.monotonic() + timeout
    next_look = time.monotonic() + 0.5
    while not path.exists():
        now = time.monotonic()
        if now > deadline:
            raise SystemExit(f"the download of {path.name} did not finish in {timeout:.0f} s: "
                             f"{jobs_file(catalog_dir)}")
        if now >= next_look:
            next_look = now + 0.5
            for job in jobs_file(catalog_dir).get("jobs", []):
                if job.get("key") == str(vid) and job.get("state") == "failed":
                    raise SystemExit(f"the download failed: {job}")
        time.sleep(0.005)


def run(args: argparse.Namespace) -> int:
    if not shutil.which("curl"):
        raise SystemExit("curl is needed for the side-by-side figure")
    table = Table()
    with work_folder("catalog-host-bench-dl-", False) as work:
        env, _python, _launcher, host_cmd, floor_cmd = install(work, args.venv)
        catalog_dir, models_dir = work / "catalog", work / "models"
        ids = generate(catalog_dir, models_dir, args.entries)
        size = args.size_mib * MIB
        source = work / "storage" / "model.safetensors"
        source.parent.mkdir()
        print(f"writing the {args.size_mib} MiB source file ...", flush=True)
        sha = make_file(source, size)
        with open(source, "rb") as handle:  # its writeback must not overlap the first timed runs
            os.fsync(handle.fileno())
        runs = args.warmup + args.runs
        names = [f"bench_{n}.safetensors" for n in range(runs + 2)]
        write_download_entries(catalog_dir, names, sha)
        out = models_dir / "bench_downloads"
        with FakeCivitai() as civitai, FakeStorage() as storage:
            for n, name in enumerate(names):
                storage.put(name, source)
                civitai.serve_download(BASE_VID + n, storage.url_for(name))
            env.update(CATALOG_HOST_CATALOG_DIR=str(catalog_dir), CATALOG_HOST_MODELS_DIR=str(models_dir),
                       CATALOG_HOST_CIVITAI_URL=civitai.url)
            cold(host_cmd, {"op": "lookup", "version_ids": [ids[0]]}, env)  # builds the index
            curl_s, curl_synced_s, ours_s, curl_cpu, ours_cpu = [], [], [], [], []
            watch = RssWatch(catalog_dir)

            def children_cpu() -> float:
                usage = resource.getrusage(resource.RUSAGE_CHILDREN)
                return usage.ru_utime + usage.ru_stime

            for n in range(runs):
                target = work / "curl.out"
                started, cpu0 = time.perf_counter(), children_cpu()
                subprocess.run(["curl", "-s", "-o", str(target), storage.url_for(names[n])], check=True)
                curl_s.append(time.perf_counter() - started)
                curl_cpu.append(children_cpu() - cpu0)
                with open(target, "rb") as handle:  # what it costs to make curl's file durable too
                    os.fsync(handle.fileno())
                curl_synced_s.append(time.perf_counter() - started)
                target.unlink()
                workers_before = sum(watch.cpu.values())
                started, cpu0 = time.perf_counter(), children_cpu()
                _, (reply,) = cold(host_cmd, {"op": "download", "version_id": BASE_VID + n}, env)
                assert reply["result"]["status"] == "queued", reply
                wait_for(out / names[n], 600, catalog_dir, BASE_VID + n)
                ours_s.append(time.perf_counter() - started)
                time.sleep(0.2)  # the worker's last CPU sample
                ours_cpu.append(children_cpu() - cpu0 + sum(watch.cpu.values()) - workers_before)
                (out / names[n]).unlink()
                if n < args.warmup:  # page cache, code pages, the disk's first writes: not counted
                    print(f"  warm-up {n + 1}: curl {curl_s[-1]:.2f} s, download -> present {ours_s[-1]:.2f} s",
                          flush=True)
                    for samples in (curl_s, curl_synced_s, ours_s, curl_cpu, ours_cpu):
                        samples.pop()
                    continue
                print(f"  run {n + 1 - args.warmup}: curl {curl_s[-1]:.2f} s ({curl_cpu[-1]:.2f} s CPU), download -> present "
                      f"{ours_s[-1]:.2f} s ({ours_cpu[-1]:.2f} s CPU, host + worker)", flush=True)
            curl, ours = statistics.median(curl_s), statistics.median(ours_s)
            table.add(f"curl -s -o, {args.size_mib} MiB", "-", f"{curl * 1000:,.0f} ms", "1.00", "-", None)
            table.add(f"download -> present, {args.size_mib} MiB", "-", f"{ours * 1000:,.0f} ms",
                      f"{ours / curl:.2f}", "≤ 1.5", ours / curl <= 1.5)
            synced = statistics.median(curl_synced_s)
            table.add("curl, then fsync of its file (for reference)", "-", f"{synced * 1000:,.0f} ms",
                      f"{synced / curl:.2f}", "-", None)
            cpu_curl, cpu_ours = statistics.median(curl_cpu), statistics.median(ours_cpu)
            table.add("CPU time, curl", "-", f"{cpu_curl * 1000:,.0f} ms", "1.00", "-", None)
            table.add("CPU time, host + worker (hash included)", "-", f"{cpu_ours * 1000:,.0f} ms",
                      f"{cpu_ours / cpu_curl:.2f}", "-", None)
            time.sleep(1.5)  # let the worker exit: the RSS below is that of the two-download run

            # cold lookups, quiet and then while two downloads run (storage at a fast line's pace)
            step = max(1, len(ids) // 20)
            asked = [str(ids[i * step % len(ids)]) for i in range(19)] + ["999999999"]

            seen_running = [0]

            def lookups(runs: int) -> tuple[float, float]:
                samples, floor = [], []
                for _ in range(runs):
                    states = [j.get("state") for j in jobs_file(catalog_dir).get("jobs", [])]
                    seen_running[0] = max(seen_running[0], states.count("downloading"))
                    floor.append(cold(floor_cmd, {"op": "ping"}, env)[0])
                    elapsed, (reply,) = cold(host_cmd, {"op": "lookup", "version_ids": asked}, env)
                    assert reply["ok"], reply
                    samples.append(elapsed)
                return statistics.median(samples) * 1000, statistics.median(floor) * 1000

            quiet, quiet_floor = lookups(args.lookups)
            storage.throttle = args.pace_mib * MIB
            busy_started = time.perf_counter()
            for n in (runs, runs + 1):
                _, (reply,) = cold(host_cmd, {"op": "download", "version_id": BASE_VID + n}, env)
                assert reply["result"]["status"] == "queued", reply
            deadline = time.monotonic() + 30
            while seen_running[0] < 2 and time.monotonic() < deadline:  # both under way first
                states = [j.get("state") for j in jobs_file(catalog_dir).get("jobs", [])]
                seen_running[0] = states.count("downloading")
                time.sleep(0.05)
            busy, busy_floor = lookups(args.lookups)
            states = [j.get("state") for j in jobs_file(catalog_dir).get("jobs", [])]
            running = states.count("downloading")
            for n in (runs, runs + 1):
                wait_for(out / names[n], 600, catalog_dir, BASE_VID + n)
            busy_seconds = time.perf_counter() - busy_started
            peak = watch.stop()
            table.add("cold lookup, 20 ids, quiet", f"{args.entries:,}", f"{quiet:.1f} ms",
                      f"{quiet / quiet_floor:.2f}", "≤ 2", quiet / quiet_floor <= 2)
            table.add(f"cold lookup, 20 ids, {running} downloads running", f"{args.entries:,}",
                      f"{busy:.1f} ms", f"{busy / busy_floor:.2f}", "≤ 2", busy / busy_floor <= 2 and running == 2)
            table.add("worker peak RSS (two downloads)", "-", f"{peak / 1024:.1f} MiB", "-", "-", None)
            print(f"\n{args.runs} runs of {args.size_mib} MiB; two downloads at {args.pace_mib} MiB/s each took "
                  f"{busy_seconds:.1f} s; {os.cpu_count()} cores; sha256 {sha[:16]}…\n")
        print(table.render())
        return 0 if all(r[5] != "FAIL" for r in table.rows) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=5, help="curl / download pairs (median taken)")
    parser.add_argument("--warmup", type=int, default=1, help="curl / download pairs run first, not counted")
    parser.add_argument("--entries", type=int, default=50_000, help="catalog size for the lookups")
    parser.add_argument("--lookups", type=int, default=21, help="cold lookups per case")
    parser.add_argument("--pace-mib", type=int, default=64, help="storage pace (MiB/s) during the lookups")
    parser.add_argument("--venv", help="reuse (or create) the benchmark venv here")
    return run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
