"""`catalog-host scan [--wait] [--here]` for people: queue the scan job (or run it in this
process) and show a progress bar on stderr until it ends; JSON on stdout. The bar is tqdm's
(bytes hashed / to hash, files done / total, the phase)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from host.errors import HostError


class ProgressBar:
    """A tqdm bar fed with the scan's progress reports."""

    def __init__(self, enabled: bool) -> None:
        self.bar = None
        if not enabled:
            return  # tqdm is not even imported
        from tqdm import tqdm

        self.bar = tqdm(total=0, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr,
                        desc="walking", dynamic_ncols=True)

    def __call__(self, state: dict[str, Any]) -> None:
        bar = self.bar
        if bar is None:
            return
        total = state.get("total")
        if isinstance(total, int) and bar.total != total:
            bar.total = total
        bar.n = int(state.get("bytes") or 0)
        bar.set_description(str(state.get("phase", "")), refresh=False)
        bar.set_postfix_str(f"files {state.get('files') or 0}/{state.get('files_total') or 0}",
                            refresh=False)
        bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_in_process(quiet: bool = False) -> int:
    """Scan now, in this process. Ctrl-C stops it at the next chunk, keeping (saving) what
    was hashed."""
    import signal
    import threading

    from host.disk.scan import run_scan
    from host.settings import load_settings

    interrupted = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: interrupted.set())
    bar = ProgressBar(enabled=not quiet)
    try:
        result = run_scan(load_settings(), bar, interrupted.is_set)
    except HostError as exc:
        print(json.dumps({"error": exc.to_wire()}, indent=2, ensure_ascii=False))
        return 1
    finally:
        bar.close()
        signal.signal(signal.SIGINT, previous)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if interrupted.is_set():
        print("scan interrupted; the files hashed so far are kept", file=sys.stderr)
        return 130
    return 0 if result["state"] == "done" else 1


def follow_job(catalog_dir: str, quiet: bool = False) -> tuple[int, dict[str, Any] | None]:
    """Show the scan job's progress until it ends: (exit status, the last job state)."""
    from host.disk.scan_job import KEY, KIND
    from host.jobs.follow import follow

    bar = ProgressBar(enabled=not quiet)
    try:
        return follow(catalog_dir, KIND, KEY, "scan", bar)
    finally:
        bar.close()


def main(args: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="catalog-host scan",
        description="find the model files in every folder ComfyUI searches and identify them on CivitAI",
    )
    parser.add_argument("--wait", action="store_true",
                        help="follow the scan job with a progress bar until it ends")
    parser.add_argument("--here", action="store_true",
                        help="scan in this process instead of the background worker (Ctrl-C stops it)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parsed = parser.parse_args(args)
    if parsed.here:
        return run_in_process(quiet=parsed.quiet)
    from host.disk.scan_job import start_scan
    from host.settings import load_settings

    try:
        settings = load_settings()
        started = start_scan(settings.catalog_dir)
    except HostError as exc:
        print(json.dumps({"error": exc.to_wire()}, indent=2, ensure_ascii=False))
        return 1
    print(json.dumps(started, indent=2, ensure_ascii=False), flush=True)
    if not parsed.wait:
        return 0
    status, job = follow_job(settings.catalog_dir, quiet=parsed.quiet)
    print(json.dumps({"job": job}, indent=2, ensure_ascii=False))
    return status
