"""The real install/install.sh on a fresh temporary HOME, then the registered launcher started
exactly as a browser starts it: argv[1] = the origin, framed stdin/stdout, a bare environment.

This builds and pip-installs the package into a new venv, so it is the slowest installer test;
it is also the only one that proves the one-command install works end to end. Offline: pip gets
`--no-index` and a folder of wheels packed from this test venv's own distributions (the
dependencies and the setuptools build backend; tests/support/wheelhouse.py), no pip config
file, and a proxy on a closed loopback port, so any attempt to reach a package index fails the
test instead of reaching the internet. The package itself is built from the checkout, as a
person's install.sh builds it.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.frames import frame, unframe_all
from tests.support.wheelhouse import wheelhouse_for

REPO = Path(__file__).resolve().parents[2]
NAME = "com.civitai_catalog.host"
ORIGIN = "chrome-extension://jpiddlinckgdlidmojineffgcdpfoacg/"
# Nothing listens there (the discard port): a request through this proxy fails at once.
DEAD_PROXY = "http://127.0.0.1:9"


def offline_pip_env(env: dict[str, str], wheels: Path) -> dict[str, str]:
    """`env` for a pip that installs from `wheels` only and cannot reach any network."""
    env = {k: v for k, v in env.items() if not k.upper().startswith(("PIP_", "HTTP_PROXY", "HTTPS_PROXY",
                                                                     "ALL_PROXY", "NO_PROXY"))}
    env.update({"PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheels),
                "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env[name] = DEAD_PROXY
    # The packed compiled wheels are for this interpreter: let install.sh find it first on PATH
    # (it still looks for a Python itself, as for a person).
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def test_install_sh_then_a_browser_style_ping_then_uninstall(tmp_path: Path) -> None:
    home = tmp_path / "fresh home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("XDG_", "CATALOG_HOST_", "VIRTUAL_ENV", "PYTHON"))}
    env["HOME"] = str(home)
    comfyui = tmp_path / "Comfy UI"
    models = comfyui / "models"
    models.mkdir(parents=True)
    env = offline_pip_env(env, wheelhouse_for("catalog-host", ["setuptools"], tmp_path / "wheels"))

    done = subprocess.run(
        ["sh", str(REPO / "install" / "install.sh"), "--browser", "chromium",
         "--comfyui-dir", str(comfyui)],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    venv = home / ".local" / "share" / "catalog-host" / "venv"
    assert (venv / "bin" / "python").exists() and (venv / ".catalog-host-venv").is_file()
    for text in ("Registered com.civitai_catalog.host for:",
                 "Self-check: ping through the launcher", ": OK: catalog-host",
                 f"Config:     {home}/.config/catalog-host/config.json", "Logs:",
                 f"ComfyUI:    {comfyui}\n", f"Models:     {models}\n",
                 shlex.quote(str(venv / "bin" / "python")) + " -m host uninstall"):
        assert text in out, out

    manifest_path = home / ".config" / "chromium" / "NativeMessagingHosts" / f"{NAME}.json"
    manifest = json.loads(manifest_path.read_text("utf-8"))
    assert manifest["allowed_origins"] == [ORIGIN]
    launcher = manifest["path"]
    assert launcher == str(home / ".local" / "share" / "catalog-host" / "bin" / "catalog-host")
    assert str(venv / "bin" / "python") in Path(launcher).read_text()

    # The checkout is not needed any more: the venv holds the package.
    assert "PYTHONPATH" not in Path(launcher).read_text()

    # As a browser started from a desktop would: its origin in argv[1], bare environment,
    # working folder "/", a ping then a lookup through the same process.
    browser_env = {"PATH": "/usr/bin:/bin", "HOME": str(home)}
    proc = subprocess.run(
        [launcher, ORIGIN], input=frame({"op": "ping", "id": 1}) + frame({"op": "ping", "id": 2}),
        env=browser_env, cwd="/", capture_output=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    replies = unframe_all(proc.stdout)
    assert [r["id"] for r in replies] == [1, 2]
    result = replies[0]["result"]
    assert replies[0]["ok"] is True and result["host"] == "catalog-host"
    assert result["models_dir"] == str(models) and result["models_dir_exists"] is True

    # Another origin is refused by the host itself (the manifest aside).
    other = "chrome-extension://abcdefghijklmnopabcdefghijklmnop/"
    proc = subprocess.run([launcher, other], input=frame({"op": "ping", "id": 3}),
                          env=browser_env, capture_output=True, timeout=60)
    (reply,) = unframe_all(proc.stdout)
    assert reply["error"]["code"] == "forbidden_origin"

    # Uninstall through the venv's Python removes the manifest, the launcher and the venv,
    # and keeps the config.
    done = subprocess.run([str(venv / "bin" / "python"), "-m", "host", "uninstall",
                           "--remove-venv"], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not manifest_path.exists() and not Path(launcher).exists() and not venv.exists()
    config = json.loads((home / ".config" / "catalog-host" / "config.json").read_text("utf-8"))
    assert config["comfyui_dir"] == str(comfyui)


def test_install_sh_is_posix_sh() -> None:
    """`sh -n` parses it; dash (Debian's sh) is stricter than bash."""
    shell = shutil.which("dash") or "sh"
    done = subprocess.run([shell, "-n", str(REPO / "install" / "install.sh")],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
