"""Issue 11 F: the API key travels in clear only to this machine, decided from the URL the HTTP
library will actually connect to; a civitai_url whose parts two URL parsers can read
differently (userinfo, a backslash, whitespace, a query or fragment) is refused outright."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from host.civitai.client import CivitaiClient
from host.errors import ConfigError
from host.settings import load_settings
from tests.support.fake_civitai import load_fixture

KEY = "url-rule-key-5a5a5a5a5a5a"
PATH = "/api/v1/model-versions/148210"

CONFUSING_URLS = [
    "http://127.0.0.2:18766\\@127.0.0.1",  # urlsplit: 127.0.0.1; requests: 127.0.0.2
    "http://evil.example\\@127.0.0.1",
    "http://user:pass@127.0.0.1:8080",
    "http://evil.example@127.0.0.1",
    "https://civitai.com\\evil",
    "http://127.0.0.1\t@evil.example",
    "http://127.0.0.1:80\n@evil.example",
    "http://evil.example#@127.0.0.1",
    "http://evil.example?@127.0.0.1",
    "http://127.0.0.1 /x",
]


@pytest.mark.parametrize("url", CONFUSING_URLS)
def test_a_confusing_civitai_url_is_a_config_error(host_env: Any, url: str) -> None:
    with pytest.raises(ConfigError, match="civitai_url"):
        load_settings({**host_env.env, "CATALOG_HOST_CIVITAI_URL": url})


@pytest.mark.parametrize("url", CONFUSING_URLS)
def test_the_client_refuses_a_confusing_url_before_sending(requests_mock: Any, url: str) -> None:
    with pytest.raises(ConfigError, match="civitai_url"):
        CivitaiClient(url, KEY, sleep=lambda _: None).model_version("148210")
    assert requests_mock.request_history == []


@pytest.mark.parametrize(("base", "key_sent"), [
    ("https://civitai.test", True),
    ("http://127.0.0.1:8123", True),
    ("http://localhost:8123", True),
    ("http://LOCALHOST:8123", True),
    ("http://[::1]:8123", True),
    ("http://127.0.0.2:8123", False),
    ("http://civitai.test", False),
    ("http://127.0.0.1.evil.example", False),
    ("http://%31%32%37.0.0.1:8123", True),  # requests decodes it and connects to 127.0.0.1
])
def test_the_key_goes_in_clear_only_to_this_machine(requests_mock: Any, base: str, key_sent: bool) -> None:
    sent_to = requests.Request("GET", base + PATH).prepare().url
    requests_mock.get(sent_to, json=load_fixture("sdxl_lora"))
    CivitaiClient(base, KEY, sleep=lambda _: None).model_version("148210")
    assert ("Authorization" in requests_mock.last_request.headers) is key_sent
