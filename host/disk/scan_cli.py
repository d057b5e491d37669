"""`catalog-host scan [--wait]` for people: run a scan with a progress bar on stderr and print
its result as JSON on stdout. The bar is tqdm's (bytes hashed, files done / total)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from host.errors import HostError


class ProgressBar:
    """A tqdm bar fed with the scan's progress reports."""

    def __init__(self, enabled: bool) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=0, unit="B", unit_scale=True, unit_divisor=1024, disable=not enabled,
                        file=sys.stderr, desc="walking", dynamic_ncols=True)

    def __call__(self, state: dict[str, Any]) -> None:
        bar = self.bar
        if state.get("total") is not None and bar.total != state["total"]:
            bar.total = state["total"]
        bar.n = int(state.get("bytes") or 0)
        bar.set_description(str(state.get("phase", "")), refresh=False)
        bar.set_postfix_str(f"files {state.get('files', 0)}/{state.get('files_total', 0)}", refresh=False)
        bar.refresh()

    def close(self) -> None:
        self.bar.close()


def run_in_process(quiet: bool = False) -> int:
    """Scan now, in this process (Ctrl-C stops it; what was hashed is kept)."""
    from host.disk.scan import run_scan
    from host.settings import load_settings

    bar = ProgressBar(enabled=not quiet and sys.stderr.isatty())
    try:
        result = run_scan(load_settings(), bar)
    except HostError as exc:
        bar.close()
        print(json.dumps({"error": exc.to_wire()}, indent=2, ensure_ascii=False))
        return 1
    except KeyboardInterrupt:
        bar.close()
        print("scan interrupted; the files hashed so far are kept", file=sys.stderr)
        return 130
    bar.close()
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0 if result["state"] == "done" else 1


def main(args: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="catalog-host scan",
                                     description="find and identify the model files on disk")
    parser.add_argument("--wait", action="store_true", help="run until done, with a progress bar")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parsed = parser.parse_args(args)
    return run_in_process(quiet=parsed.quiet)
