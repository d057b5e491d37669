"""What configures a test host: the environment variables the host reads (from its own table)
and the address in-process tests give the fake CivitAI."""

from __future__ import annotations

from host.settings import CONFIG_KEYS, ENV_CONFIG

# Every variable the host reads its settings from; tests clear them all before setting theirs.
ENV_KEYS = (ENV_CONFIG, *CONFIG_KEYS.values())
# What host_env sets CATALOG_HOST_CIVITAI_URL to; requests-mock answers there (tests/ops).
FAKE_CIVITAI_URL = "https://civitai.test"
