"""Who may call the host, as each browser starts it: a real `python -m host` subprocess.

Chrome passes `chrome-extension://<id>/` (and `--parent-window=N` on Windows); Firefox passes
the manifest's absolute path and the add-on's id. Each family is checked against its own
configured ids; the arguments are found by their form, not by their count or position.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.frames import frame, unframe_all

STUB_ORIGIN = "chrome-extension://jpiddlinckgdlidmojineffgcdpfoacg/"
STUB_GECKO = "catalog-host-stub@catalog-host.local"
MANIFEST = "/home/me/.mozilla/native-messaging-hosts/com.civitai_catalog.host.json"
WINDOWS_MANIFEST = r"C:\Users\me\AppData\Local\catalog-host\NativeMessagingHosts\mozilla\com.civitai_catalog.host.json"


def ping_as(host_env, *args: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "host", *args], input=frame({"op": "ping", "id": 1}),
                          capture_output=True, env=host_env.env, timeout=30, cwd=host_env.root)
    assert proc.returncode == 0, proc.stderr
    (reply,) = unframe_all(proc.stdout)
    return reply


@pytest.mark.parametrize("args", [
    [MANIFEST, STUB_GECKO],
    [WINDOWS_MANIFEST, STUB_GECKO],
    [MANIFEST, STUB_GECKO, "--some-future-flag"],
    [STUB_ORIGIN],
    [STUB_ORIGIN, "--parent-window=0"],
    ["--parent-window=42", STUB_ORIGIN],
    [],  # a person at a terminal: no caller to check
])
def test_each_browser_s_arguments_are_accepted(host_env, args: list[str]) -> None:
    reply = ping_as(host_env, *args)
    assert reply["ok"], reply


@pytest.mark.parametrize("args", [
    [MANIFEST, "evil@example.com"],
    [MANIFEST, STUB_GECKO.upper()],  # Firefox ids are compared exactly
    [MANIFEST],  # Firefox named no add-on
    [MANIFEST, "jpiddlinckgdlidmojineffgcdpfoacg"],  # a Chrome id is not a Firefox add-on id
    ["chrome-extension://aaaabbbbccccddddeeeeffffgggghhhh/", "--parent-window=0"],
    [f"chrome-extension://{STUB_GECKO}/"],  # a Firefox id is not a Chrome origin
])
def test_a_caller_outside_its_family_s_ids_is_refused(host_env, args: list[str]) -> None:
    reply = ping_as(host_env, *args)
    assert reply["error"]["code"] == "forbidden_origin", reply
    assert "catalog_dir" not in json.dumps(reply)


def test_the_firefox_ids_come_from_the_config_and_the_environment(host_env) -> None:
    other = "{0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0}"
    host_env.config_path.write_text(json.dumps({"firefox_extension_ids": [other]}))
    assert ping_as(host_env, MANIFEST, other)["ok"]
    assert ping_as(host_env, MANIFEST, STUB_GECKO)["error"]["code"] == "forbidden_origin"
    # Chrome's ids are untouched by the Firefox list.
    assert ping_as(host_env, STUB_ORIGIN)["ok"]

    host_env.env["CATALOG_HOST_FIREFOX_EXTENSION_IDS"] = f" a@b.example , {STUB_GECKO} "
    assert ping_as(host_env, MANIFEST, STUB_GECKO)["ok"]
    assert ping_as(host_env, MANIFEST, other)["error"]["code"] == "forbidden_origin"


def test_a_mistyped_firefox_id_list_is_a_config_error_that_names_no_path(host_env) -> None:
    host_env.config_path.write_text(json.dumps({"firefox_extension_ids": [7]}))
    reply = ping_as(host_env, MANIFEST, STUB_GECKO)
    assert reply["error"]["code"] == "config_invalid"
    assert "doctor" in reply["error"]["message"]
    assert str(host_env.config_path) not in json.dumps(reply)


def test_a_config_error_is_told_only_to_an_allowed_firefox_caller(host_env) -> None:
    host_env.env.pop("CATALOG_HOST_CIVITAI_URL")  # the config file's value counts
    host_env.config_path.write_text(json.dumps({"civitai_url": "ftp://civitai.example"}))
    allowed = ping_as(host_env, MANIFEST, STUB_GECKO)
    assert allowed["error"]["code"] == "config_invalid"
    assert "civitai_url" in allowed["error"]["message"]
    stranger = ping_as(host_env, MANIFEST, "evil@example.com")
    assert stranger["error"]["code"] == "forbidden_origin"
    assert "civitai_url" not in json.dumps(stranger)
