"""Issue 11 O: a catalog write that fails (here a real EFBIG: the host runs under a file-size
limit, as on a full or quota-bound disk) leaves both the catalog and its `.bak` as they were.
The `.bak` is the version before the last write that succeeded, never the current file."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from tests.support.catalogs import studio_catalogs
from tests.support.fake_civitai import FakeCivitai
from tests.support.frames import frame, unframe_all

STUB_ORIGIN = "chrome-extension://jpiddlinckgdlidmojineffgcdpfoacg/"
# The host, with every file it writes capped at argv[1] bytes; SIGXFSZ ignored so that a write
# past the cap fails with EFBIG (as a full disk fails with ENOSPC) instead of killing it.
LIMITED_HOST = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
limit = int(sys.argv.pop(1))
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from host.cli import main
sys.exit(main(sys.argv[1:]))
"""


def host(host_env: Any, request: dict[str, Any], limit: int | None = None) -> dict[str, Any]:
    command = [sys.executable, "-m", "host", STUB_ORIGIN]
    if limit is not None:
        command = [sys.executable, "-c", LIMITED_HOST, str(limit), STUB_ORIGIN]
    proc = subprocess.run(command, input=frame(request), capture_output=True, env=host_env.env,
                          timeout=60, cwd=host_env.root)
    (reply,) = unframe_all(proc.stdout)
    return reply


def test_a_failed_write_leaves_the_backup_alone(host_env: Any, civitai: FakeCivitai) -> None:
    host_env.write_catalogs(*studio_catalogs())
    first = host_env.models_json.read_bytes()
    assert host(host_env, {"op": "remove", "file": "old_sd15.safetensors"})["ok"]
    second = host_env.models_json.read_bytes()
    backup = host_env.catalog_dir / "models.json.bak"
    assert backup.read_bytes() == first

    civitai.add_fixture("sdxl_lora")
    reply = host(host_env, {"op": "add", "version_id": 148210}, limit=len(second) + 64)
    assert reply["ok"] is False and reply["error"]["code"] == "catalog_write_failed", reply
    assert host_env.models_json.read_bytes() == second
    assert backup.read_bytes() == first, "the failed write replaced the backup"
    assert not [p.name for p in host_env.catalog_dir.iterdir() if p.name.endswith(".tmp")]
