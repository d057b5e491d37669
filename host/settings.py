"""Where things live and how the host is configured: environment > config file > defaults.

The only module that decides paths. platformdirs picks the per-OS folders; it is imported
only when a default is actually needed (the installer's launcher names the config file and
the config names the catalog folder, so a browser-started host never needs it). Paths in
Settings are plain strings: pathlib costs milliseconds in every cold start. The API key is
read here and handed only to the CivitAI client and to host.redaction (registered on load),
which removes it from every reply and log line; it never appears in repr().
"""

from __future__ import annotations

import os

from host import jsonfast, redaction
from host.errors import ConfigError
from host.regularfile import read_regular

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing and pathlib cost milliseconds in every cold start
    from pathlib import Path
    from typing import Any

APP_NAME = "catalog-host"
DEFAULT_CIVITAI_URL = "https://civitai.com"
# The extension-stub's fixed id (derived from the public key in extension-stub/manifest.json).
STUB_EXTENSION_ID = "jpiddlinckgdlidmojineffgcdpfoacg"
# Its Firefox add-on id (browser_specific_settings.gecko.id in extension-stub/manifest.json).
STUB_GECKO_ID = "catalog-host-stub@catalog-host.local"

ENV_CONFIG = "CATALOG_HOST_CONFIG"
ENV_CATALOG_DIR = "CATALOG_HOST_CATALOG_DIR"
ENV_MODELS_DIR = "CATALOG_HOST_MODELS_DIR"
ENV_CIVITAI_URL = "CATALOG_HOST_CIVITAI_URL"
ENV_API_KEY = "CIVITAI_API_KEY"
ENV_EXTENSION_IDS = "CATALOG_HOST_EXTENSION_IDS"
ENV_COMFYUI_DIR = "CATALOG_HOST_COMFYUI_DIR"
ENV_EXTRA_MODEL_PATHS = "CATALOG_HOST_EXTRA_MODEL_PATHS"
ENV_FIREFOX_EXTENSION_IDS = "CATALOG_HOST_FIREFOX_EXTENSION_IDS"

# config-file key -> environment variable that overrides it
CONFIG_KEYS: dict[str, str] = {
    "catalog_dir": ENV_CATALOG_DIR,
    "models_dir": ENV_MODELS_DIR,
    "civitai_url": ENV_CIVITAI_URL,
    "civitai_api_key": ENV_API_KEY,
    "extension_ids": ENV_EXTENSION_IDS,
    "comfyui_dir": ENV_COMFYUI_DIR,
    "extra_model_paths": ENV_EXTRA_MODEL_PATHS,
    "firefox_extension_ids": ENV_FIREFOX_EXTENSION_IDS,
}


def _platform_dir(kind: str) -> Path:
    from pathlib import Path

    import platformdirs  # deferred: only needed when no explicit path is configured

    getter = getattr(platformdirs, f"user_{kind}_dir")
    return Path(getter(APP_NAME, appauthor=False))


def default_config_path() -> Path:
    return _platform_dir("config") / "config.json"


def default_catalog_dir() -> Path:
    return _platform_dir("data") / "catalogs"


def default_log_dir() -> Path:
    return _platform_dir("log")


def origin_of(extension_id: str) -> str:
    return f"chrome-extension://{extension_id}/"


class Settings:
    """The settings in force (a plain class, not a dataclass: those import `inspect`).
    Paths are absolute-or-relative strings as configured (`~` expanded)."""

    __slots__ = (
        "catalog_dir",
        "civitai_api_key",
        "civitai_url",
        "comfyui_dir",
        "config_path",
        "extension_ids",
        "extra_model_paths",
        "firefox_extension_ids",
        "models_dir",
    )

    def __init__(
        self,
        config_path: str,
        catalog_dir: str,
        models_dir: str | None,
        civitai_url: str,
        civitai_api_key: str | None = None,
        extension_ids: tuple[str, ...] = (STUB_EXTENSION_ID,),
        comfyui_dir: str | None = None,
        extra_model_paths: tuple[str, ...] = (),
        firefox_extension_ids: tuple[str, ...] = (STUB_GECKO_ID,),
    ) -> None:
        self.config_path = config_path
        self.catalog_dir = catalog_dir
        self.models_dir = models_dir
        self.civitai_url = civitai_url
        self.civitai_api_key = civitai_api_key
        self.extension_ids = extension_ids
        self.comfyui_dir = comfyui_dir
        self.extra_model_paths = extra_model_paths
        # Firefox add-on ids (Firefox passes the caller's id, not an origin); exact strings.
        self.firefox_extension_ids = firefox_extension_ids
        redaction.use_secret(civitai_api_key)  # kept out of every reply and log line from now on

    def __repr__(self) -> str:  # never shows the API key
        return f"Settings({self.describe()!r})"

    @property
    def allowed_origins(self) -> tuple[str, ...]:
        return tuple(origin_of(i) for i in self.extension_ids)

    def describe(self) -> dict[str, Any]:
        """The settings in force, for people (doctor, ping); the key is masked."""
        key = self.civitai_api_key
        return {
            "config_path": self.config_path,
            "catalog_dir": self.catalog_dir,
            "models_dir": self.models_dir,
            "civitai_url": self.civitai_url,
            "civitai_api_key": mask_secret(key) if key else None,
            "extension_ids": list(self.extension_ids),
            "comfyui_dir": self.comfyui_dir,
            "extra_model_paths": list(self.extra_model_paths),
            "firefox_extension_ids": list(self.firefox_extension_ids),
        }


def mask_secret(secret: str) -> str:
    return "****" + secret[-4:] if len(secret) > 8 else "****"


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The config file's object; {} when it does not exist."""
    try:
        raw = read_regular(path)  # a FIFO there must not hang the host
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    try:
        # a BOM (Notepad writes one) is skipped by hand: the utf-8-sig codec is one more
        # module import in every cold start
        data = jsonfast.loads(raw[3:].decode("utf-8") if raw[:3] == b"\xef\xbb\xbf" else raw.decode("utf-8"))
    except ValueError as exc:  # includes UnicodeDecodeError
        raise ConfigError(f"config file {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a JSON object")
    return data


def civitai_url_problem(url: object) -> str | None:
    """Why `url` cannot be the CivitAI base URL, or None when it can.

    The key's destination must be read the same way by every URL parser: urlsplit and
    requests (urllib3) disagree on userinfo, backslashes and whitespace, e.g. urlsplit reads
    `http://127.0.0.2:1\\@127.0.0.1` as 127.0.0.1 while requests connects to 127.0.0.2. So a
    base URL is scheme://host[:port][/path] and nothing else (plain string checks: this runs
    in every cold start).
    """
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return "must be an http(s) URL"
    if "\\" in url:
        return "must not contain a backslash"
    if any(ord(char) <= 32 or ord(char) == 127 for char in url):
        return "must not contain spaces or control characters"
    if "?" in url or "#" in url:
        return "must not have a query or a fragment"
    if "@" in url.split("//", 1)[1].split("/", 1)[0]:
        return "must not contain a user name or password (user@host)"
    return None


def _pick(env: dict[str, str], config: dict[str, Any], key: str) -> Any:
    value = env.get(CONFIG_KEYS[key])
    if value:
        return value
    return config.get(key)


def _as_path(value: Any, key: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigError(f"config key {key!r} must be a path string")
    return os.path.expanduser(value)


def _as_ids(value: Any) -> tuple[str, ...]:
    """Extension ids; "chrome-extension://<id>/" and upper case are accepted and normalised."""
    if value is None:
        return (STUB_EXTENSION_ID,)
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError("config key 'extension_ids' must be a list of extension ids")
    ids = []
    for item in value:
        text = item.strip().lower()
        if text.startswith("chrome-extension://"):
            text = text[len("chrome-extension://") :]
        text = text.strip("/")
        if text:
            ids.append(text)
    return tuple(ids)


def _as_paths(value: Any) -> tuple[str, ...]:
    """extra_model_paths: a list of YAML files (the env var joins them with os.pathsep)."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        value = value.split(os.pathsep)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError("config key 'extra_model_paths' must be a list of YAML file paths")
    return tuple(os.path.abspath(os.path.expanduser(v)) for v in value if v)
def _as_gecko_ids(value: Any) -> tuple[str, ...]:
    """Firefox add-on ids (`name@domain` or `{uuid}`), compared exactly as Firefox passes them."""
    if value is None:
        return (STUB_GECKO_ID,)
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError("config key 'firefox_extension_ids' must be a list of add-on ids")
    return tuple(text for text in (item.strip() for item in value) if text)


def _read_config(env: dict[str, str]) -> tuple[str, dict[str, Any]]:
    config_path = _as_path(env.get(ENV_CONFIG), ENV_CONFIG) or str(default_config_path())
    return config_path, read_config_file(config_path)


def load_extension_ids(env: dict[str, str] | None = None) -> tuple[str, ...]:
    """Only the allowed extension ids: enough to check a caller when another key is wrong."""
    env = dict(os.environ) if env is None else env
    return _as_ids(_pick(env, _read_config(env)[1], "extension_ids"))


def load_firefox_extension_ids(env: dict[str, str] | None = None) -> tuple[str, ...]:
    """Only the allowed Firefox add-on ids (as `load_extension_ids`, for Firefox callers)."""
    env = dict(os.environ) if env is None else env
    return _as_gecko_ids(_pick(env, _read_config(env)[1], "firefox_extension_ids"))


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Settings from the environment, the config file and the defaults, in that order."""
    env = dict(os.environ) if env is None else env
    config_path, config = _read_config(env)
    catalog_dir = _as_path(_pick(env, config, "catalog_dir"), "catalog_dir")
    url = _pick(env, config, "civitai_url") or DEFAULT_CIVITAI_URL
    key = _pick(env, config, "civitai_api_key")
    problem = civitai_url_problem(url)
    if problem:
        raise ConfigError(f"config key 'civitai_url' {problem}")
    if key is not None and not isinstance(key, str):
        raise ConfigError("config key 'civitai_api_key' must be a string")
    comfyui_dir = _as_path(_pick(env, config, "comfyui_dir"), "comfyui_dir")
    models_dir = _as_path(_pick(env, config, "models_dir"), "models_dir")
    if models_dir is None and comfyui_dir is not None:
        models_dir = os.path.join(comfyui_dir, "models")
    return Settings(
        config_path=config_path,
        catalog_dir=catalog_dir or str(default_catalog_dir()),
        models_dir=models_dir,
        civitai_url=url.rstrip("/"),
        civitai_api_key=key or None,
        extension_ids=_as_ids(_pick(env, config, "extension_ids")),
        comfyui_dir=comfyui_dir,
        extra_model_paths=_as_paths(_pick(env, config, "extra_model_paths")),
        firefox_extension_ids=_as_gecko_ids(_pick(env, config, "firefox_extension_ids")),
    )
