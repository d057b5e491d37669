"""host.settings.read_config_file: the config file as people's editors write it."""

from __future__ import annotations

import pytest

from host.errors import ConfigError
from host.settings import read_config_file

BOM = b"\xef\xbb\xbf"


@pytest.mark.parametrize("prefix", [b"", BOM], ids=["plain", "bom"])
def test_a_config_with_or_without_a_bom_reads_the_same(tmp_path, prefix):
    path = tmp_path / "config.json"
    path.write_bytes(prefix + '{"models_dir": "D:\\\\模型", "civitai_api_key": "k"}'.encode())
    assert read_config_file(path) == {"models_dir": "D:\\模型", "civitai_api_key": "k"}


def test_a_missing_config_is_empty(tmp_path):
    assert read_config_file(tmp_path / "absent.json") == {}


@pytest.mark.parametrize("raw", [BOM + BOM + b"{}", b"\xff{}", b"[1]", BOM, b""],
                         ids=["two-boms", "not-utf8", "not-an-object", "bom-only", "empty"])
def test_a_config_that_is_not_a_json_object_is_a_clear_error(tmp_path, raw):
    path = tmp_path / "config.json"
    path.write_bytes(raw)
    with pytest.raises(ConfigError) as caught:
        read_config_file(path)
    assert str(path) in caught.value.message
