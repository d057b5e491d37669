"""The manifest source data, the ids it accepts, and the fake registry's Windows semantics."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from host.installer.errors import InstallerError
from host.installer.manifest import (
    SOURCE,
    build_manifest,
    manifest_problems,
    normalize_extension_id,
)
from host.installer.registry import DictRegistry, WindowsRegistry

REPO = Path(__file__).resolve().parents[2]
STUB = "jpiddlinckgdlidmojineffgcdpfoacg"


def test_the_source_is_the_packaged_host_json_and_names_the_host_defaults() -> None:
    from host import HOST_NAME
    from host.settings import STUB_EXTENSION_ID

    assert json.loads((REPO / "host" / "installer" / "host.json").read_text("utf-8")) == SOURCE
    assert SOURCE["name"] == HOST_NAME
    assert SOURCE["allowed_extension_ids"] == [STUB_EXTENSION_ID]


def test_the_default_add_on_id_is_the_extension_stub_s_gecko_id() -> None:
    from host.settings import STUB_GECKO_ID

    stub = json.loads((REPO / "extension-stub" / "manifest.json").read_text("utf-8"))
    assert stub["browser_specific_settings"]["gecko"]["id"] == STUB_GECKO_ID
    assert SOURCE["allowed_gecko_ids"] == [STUB_GECKO_ID]


def test_the_stub_id_matches_the_extension_stub_key() -> None:
    import base64
    import hashlib

    key = json.loads((REPO / "extension-stub" / "manifest.json").read_text("utf-8"))["key"]
    digest = hashlib.sha256(base64.b64decode(key)).hexdigest()[:32]
    assert "".join(chr(ord("a") + int(c, 16)) for c in digest) == STUB == SOURCE[
        "allowed_extension_ids"][0]


def test_built_manifest_is_valid_and_exact() -> None:
    manifest = build_manifest("/opt/x y/catalog-host", [STUB])
    assert manifest == {
        "name": "com.civitai_catalog.host",
        "description": SOURCE["description"],
        "path": "/opt/x y/catalog-host",
        "type": "stdio",
        "allowed_origins": [f"chrome-extension://{STUB}/"],
    }
    assert manifest_problems(manifest, (STUB,), windows=False) == []


@pytest.mark.parametrize("value", [STUB, f"chrome-extension://{STUB}/",
                                   f"chrome-extension://{STUB}", f"  {STUB}\n"])
def test_ids_and_origins_are_accepted(value: str) -> None:
    assert normalize_extension_id(value) == STUB


@pytest.mark.parametrize("value", ["", STUB[:-1], STUB + "a", STUB.upper(), "*",
                                   "chrome-extension://*/", f"https://{STUB}/", "z" * 32])
def test_anything_else_is_refused(value: str) -> None:
    with pytest.raises(InstallerError):
        normalize_extension_id(value)


def test_windows_manifest_may_use_a_relative_path() -> None:
    manifest = build_manifest("catalog-host.exe", [STUB])
    assert manifest_problems(manifest, (STUB,), windows=True) == []
    assert manifest_problems(manifest, (STUB,), windows=False) == [
        "launcher path 'catalog-host.exe' is not absolute"]


def test_dict_registry_is_case_insensitive_and_knows_parent_keys() -> None:
    reg = DictRegistry()
    reg.set_default("HKCU", r"Software\Google\Chrome\NativeMessagingHosts\x", "C:\\m.json")
    assert reg.get_default("HKCU", r"SOFTWARE\google\chrome\nativemessaginghosts\X") == "C:\\m.json"
    assert reg.key_exists("HKCU", r"Software\Google\Chrome")
    assert not reg.key_exists("HKLM", r"Software\Google\Chrome")
    assert not reg.key_exists("HKCU", r"Software\Google\Chrom")
    assert reg.delete_key("HKCU", r"software\google\chrome\nativemessaginghosts\x")
    assert not reg.delete_key("HKCU", r"software\google\chrome\nativemessaginghosts\x")


@pytest.mark.skipif(sys.platform == "win32", reason="on Windows the real registry works")
def test_the_real_registry_refuses_to_run_off_windows() -> None:
    with pytest.raises(OSError, match="only on Windows"):
        WindowsRegistry().get_default("HKCU", "Software")
