"""The performance rules as a test: a cold `ping`, `lookup` or `map` imports none of the heavy
modules (README "Performance"). Each op runs in a new host process started as the installer's
launcher starts it (`python -I -c ENTRY_POINT origin`), with the read index and summary
current, and reports every module it had loaded when it exited.

The package is found as a regular install finds it (site-packages on sys.path, `-S`): the
test venv's editable-install hook would itself import pathlib and re at startup."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from host.installer.launcher import ENTRY_POINT
from tests.support.catalogs import studio_catalogs
from tests.support.frames import frame, unframe_all

ORIGIN = "chrome-extension://jpiddlinckgdlidmojineffgcdpfoacg/"
CHROME_ARGS = (ORIGIN, "--parent-window=0")
# Firefox starts the host with the manifest's path and the add-on's id.
FIREFOX_ARGS = ("/home/me/.mozilla/native-messaging-hosts/com.civitai_catalog.host.json",
                "catalog-host-stub@catalog-host.local")
# Each costs a cold start milliseconds (json drags in re; pydantic and requests far more).
FORBIDDEN = ("pydantic", "requests", "json", "re", "typing", "pathlib", "dataclasses", "sqlite3",
             "platformdirs", "yaml")
REPO = Path(__file__).resolve().parents[2]
# Writes the names in sys.modules to the file named by the environment, once the host exits.
PROBE = (f"import atexit, os, sys\nsys.path[:0] = {[str(REPO), sysconfig.get_paths()['purelib']]!r}\n"
         "atexit.register(lambda: open(os.environ['MODULES_OUT'], 'w').write('\\n'.join(sys.modules)))\n"
         + ENTRY_POINT)


def serve_cold(host_env, tmp_path, request, caller=CHROME_ARGS):
    out = tmp_path / "modules.txt"
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", PROBE, *caller],
                          input=frame({"id": 1, **request}), capture_output=True, timeout=60,
                          env={**host_env.env, "MODULES_OUT": str(out)}, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (reply,) = unframe_all(proc.stdout)
    assert reply["ok"], reply
    return reply["result"], out.read_text().split("\n")


def heavy(modules):
    return sorted(m for m in modules if m in FORBIDDEN or m.split(".")[0] in FORBIDDEN)


@pytest.fixture
def warm_catalogs(host_env, tmp_path):
    """Studio catalogs whose index and summary a previous request has already written."""
    host_env.write_catalogs(*studio_catalogs())
    serve_cold(host_env, tmp_path, {"op": "lookup", "version_ids": [9208]})  # builds the index
    serve_cold(host_env, tmp_path, {"op": "ping"})  # writes the summary
    return host_env


@pytest.mark.parametrize("request_", [
    {"op": "ping"},
    {"op": "lookup", "version_ids": [9208, 128713, 5], "model_ids": [4384]},
    {"op": "map"},
], ids=["ping", "lookup", "map"])
@pytest.mark.parametrize("caller", [CHROME_ARGS, FIREFOX_ARGS], ids=["chrome", "firefox"])
def test_a_cold_read_imports_nothing_heavy(warm_catalogs, tmp_path, request_, caller):
    result, modules = serve_cold(warm_catalogs, tmp_path, request_, caller=caller)
    assert result  # a real answer, not an error
    assert "host.dispatch" in modules  # the probe saw the host's own modules
    assert heavy(modules) == []


def test_a_cold_map_with_a_matching_etag_imports_nothing_heavy(warm_catalogs, tmp_path):
    first, _ = serve_cold(warm_catalogs, tmp_path, {"op": "map"})
    result, modules = serve_cold(warm_catalogs, tmp_path, {"op": "map", "etag": first["etag"]})
    assert result == {"unchanged": True, "etag": first["etag"]}
    assert heavy(modules) == []


def test_the_probe_does_see_a_heavy_import(warm_catalogs, tmp_path, civitai):
    """The check can fail: an `add` (CivitAI client, pydantic, requests) is reported."""
    civitai.add_fixture("sdxl_lora")
    result, modules = serve_cold(warm_catalogs, tmp_path, {"op": "add", "version_id": 148210})
    assert result["status"] == "added"
    assert {"pydantic", "requests", "json"} <= set(heavy(modules))
