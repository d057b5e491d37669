"""Benchmark of models on disk (SPEC §10): hashing throughput side by side with
`openssl dgst -sha256`, a rescan of 10,000 unchanged files, and a cold lookup with three model
roots and 10,000 scanned files next to the echo floor. Prints a table like tests.bench.bench.

    python -m tests.bench.scan_bench [--runs 21] [--hash-mib 128] [--hash-files 4] [--files 10000] [--venv DIR]

The package is installed (not editable) in its own venv and registered with the project's
installer; scans run as `python -m host scan --here` processes and lookups as cold host
processes, exactly as a person's machine runs them. CivitAI is faked on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.bench.bench import Table, cold, generate, median_ms  # noqa: E402
from tests.bench.sandbox import install, work_folder  # noqa: E402
from tests.support.fake_civitai import FakeCivitai  # noqa: E402

MIB = 1024 * 1024
UNTRACKED_FIRST_ID = 90_000_000


def hashing_rows(table: Table, work: Path, python: Path, size_mib: int, count: int, runs: int) -> None:
    """MB/s of host.disk.hashing (in the benchmark venv) and of openssl over the same `count`
    files of `size_mib` each, one process per side and run, as a scan hashes a folder in one
    worker (each side pays its start-up once per run, not once per file); interleaved, page
    cache warm."""
    kinds = {".bin (SHA256)": ".bin", ".safetensors (SHA256 + AutoV3)": ".safetensors"}
    payload = os.urandom(MIB)
    code = ("import sys, time; from host.disk.hashing import hash_file; t = time.perf_counter(); "
            "[hash_file(path) for path in sys.argv[1:]]; print(time.perf_counter() - t)")
    for label, suffix in kinds.items():
        paths = [work / f"hash_me_{n}{suffix}" for n in range(count)]
        for n, path in enumerate(paths):
            with open(path, "wb") as handle:
                if suffix == ".safetensors":  # a header, then the tensor data
                    header = b'{"__metadata__":{"format":"pt"}}'
                    handle.write(len(header).to_bytes(8, "little") + header)
                for _ in range(size_mib):
                    handle.write(n.to_bytes(8, "little") + payload[8:])
        size = sum(path.stat().st_size for path in paths)
        names = [str(path) for path in paths]
        subprocess.run(["cat", *names], stdout=subprocess.DEVNULL, check=True)  # warm the page cache
        ours, theirs = [], []
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run(["openssl", "dgst", "-sha256", *names], check=True, capture_output=True)
            theirs.append(time.perf_counter() - started)
            out = subprocess.run([str(python), "-c", code, *names], check=True, capture_output=True, text=True)
            ours.append(float(out.stdout))
        ours_mbs = size / statistics.median(ours) / 1e6
        theirs_mbs = size / statistics.median(theirs) / 1e6
        table.add(f"hashing {label}", f"{count} × {size_mib} MiB", f"{ours_mbs:,.0f} MB/s",
                  f"{ours_mbs / theirs_mbs:.2f} × openssl ({theirs_mbs:,.0f} MB/s)", "≥ 0.8 × openssl",
                  ours_mbs / theirs_mbs >= 0.8)


def disk_world(work: Path, catalog_dir: Path, models_dir: Path, files: int) -> tuple[Path, list[str], list[int]]:
    """Three roots: the generated models folder (half the catalog's files, empty) and two more
    disks from an extra_model_paths.yaml with small distinct files up to `files` in all.
    (yaml file, SHA256 of every extra file, version ids of the catalog)."""
    ids = generate(catalog_dir, models_dir, files)
    existing = sum(1 for _ in models_dir.rglob("*.safetensors"))
    disk2, disk3 = work / "disk2", work / "disk3"
    shas = []
    for n in range(files - existing):
        root = disk2 / "loras" / f"set{n % 40}" if n % 2 else disk3 / "checkpoints"
        root.mkdir(parents=True, exist_ok=True)
        data = f"model file {n}".encode() * 4
        (root / f"hand_named_{n}.safetensors").write_bytes(data)
        shas.append(hashlib.sha256(data).hexdigest())
    yaml_file = work / "extra_model_paths.yaml"
    yaml_file.write_text(f"disk2:\n  base_path: {disk2}\n  loras: loras\n"
                         f"disk3:\n  base_path: {disk3}\n  checkpoints: checkpoints\n  unet: unet\n", "utf-8")
    return yaml_file, shas, ids


def run(args: argparse.Namespace) -> int:
    table = Table()
    with work_folder("catalog-host-scan-bench-", args.keep) as work:
        env, python, _launcher, host_cmd, floor_cmd = install(work, args.venv)

        hashing_rows(table, work, python, args.hash_mib, args.hash_files, args.hash_runs)

        catalog_dir, models_dir = work / "catalogs", work / "models"
        yaml_file, shas, ids = disk_world(work, catalog_dir, models_dir, args.files)
        with FakeCivitai() as fake:
            for k, sha in enumerate(shas[: len(shas) // 5]):  # a fifth of the hand-named files are known
                fake.add_hash(sha, UNTRACKED_FIRST_ID + k, 80_000_000 + k)
            env.update(CATALOG_HOST_CATALOG_DIR=str(catalog_dir), CATALOG_HOST_MODELS_DIR=str(models_dir),
                       CATALOG_HOST_EXTRA_MODEL_PATHS=str(yaml_file), CATALOG_HOST_CIVITAI_URL=fake.url)
            scan = [str(python), "-m", "host", "scan", "--here", "--quiet"]
            started = time.perf_counter()
            first = json.loads(subprocess.run(scan, env=env, check=True, capture_output=True).stdout)
            first_s = time.perf_counter() - started
            assert first["state"] == "done" and first["files"] == args.files, first
            print(f"first scan: {first['files']:,} files hashed in {first_s:.1f} s; "
                  f"{first['versions_identified']:,} identified", flush=True)
            rescans = []
            for _ in range(args.rescans):
                started = time.perf_counter()
                again = json.loads(subprocess.run(scan, env=env, check=True, capture_output=True).stdout)
                rescans.append(time.perf_counter() - started)
                assert again["hashed"] == 0 and again["from_cache"] == args.files, again
            assert len([r for r in fake.requests if r.method == "POST"]) == 1  # rescans ask nothing
        value = statistics.median(rescans)
        table.add("rescan, unchanged files (whole process)", f"{args.files:,} files", f"{value * 1000:,.0f} ms",
                  "-", "≤ 1,000 ms", value <= 1.0)

        untracked = [str(UNTRACKED_FIRST_ID + k) for k in range(0, len(shas) // 5, max(1, len(shas) // 20))][:4]
        step = max(1, len(ids) // 15)
        asked = [str(ids[i * step % len(ids)]) for i in range(15)] + untracked + ["999999999"]
        cold(host_cmd, {"op": "lookup", "version_ids": asked}, env)  # folders cache and index built

        def check(result: dict[str, object]) -> None:
            records = result["by_version"]  # type: ignore[index]
            statuses = [records[v]["status"] if records[v] else None for v in asked]  # type: ignore[index]
            assert statuses[15:] == ["untracked"] * len(untracked) + [None], statuses
            assert {"present", "missing"} <= set(statuses[:15]), statuses

        samples, floor_samples = [], []
        for _ in range(args.runs):
            floor_samples.append(cold(floor_cmd, {"op": "ping"}, env)[0])
            elapsed, replies = cold(host_cmd, {"op": "lookup", "version_ids": asked}, env)
            assert replies[0]["ok"], replies
            check(replies[0]["result"])
            samples.append(elapsed)
        value_ms, floor_ms = median_ms(samples), median_ms(floor_samples)
        table.add("floor (echo host)", "-", f"{floor_ms:.1f} ms", "1.00", "-", None)
        table.add(f"cold lookup, 20 ids ({len(untracked)} untracked), 3 roots", f"{args.files:,} scanned",
                  f"{value_ms:.1f} ms", f"{value_ms / floor_ms:.2f}", "≤ 2", value_ms / floor_ms <= 2)
        print(f"\n{args.runs} runs per cold case; python {subprocess.run([str(python), '--version'], capture_output=True, text=True).stdout.strip()}; "
              f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}\n")
        print(table.render())
        return 0 if all(r[5] != "FAIL" for r in table.rows) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=21, help="runs per cold case (median taken)")
    parser.add_argument("--hash-mib", type=int, default=128, help="size of each hashed file")
    parser.add_argument("--hash-files", type=int, default=4, help="files hashed per process and run")
    parser.add_argument("--hash-runs", type=int, default=5)
    parser.add_argument("--files", type=int, default=10_000, help="model files over the three roots")
    parser.add_argument("--rescans", type=int, default=5)
    parser.add_argument("--venv", help="reuse (or create) the benchmark venv here")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    return run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
