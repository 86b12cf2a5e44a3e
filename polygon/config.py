"""Configuration: :class:`PolygonConfig` and :func:`get_config`.

Precedence, highest first: explicit arguments, environment variables, an optional
INI config file, built-in defaults.

Environment variables:

``POLYGON_API_KEY``               the API key (never shown by ``repr()`` or logs)
``POLYGON_BASE_URL``              REST base URL (default the provider's)
``POLYGON_WS_URL``                WebSocket host URL; the client appends ``/stocks`` etc.
``POLYGON_CACHE_DIR``             file cache directory (default a per-user cache dir)
``POLYGON_RATE_LIMIT_PER_MINUTE`` requests per minute (``0``/empty = unlimited)
``POLYGON_RATE_LIMIT_PER_DAY``    requests per day (``0``/empty = unlimited)
``POLYGON_RATE_LIMIT_PER_SECOND`` requests per second cap for paid plans (optional)
``POLYGON_TIMEZONE``              timezone of returned bars (default America/New_York)
``POLYGON_CONFIG_FILE``           path of the INI file (default ``~/.config/polygon-kit/config.ini``)
``POLYGON_S3_ACCESS_KEY_ID``      flat files: S3 access key id (not the API key; never shown)
``POLYGON_S3_SECRET_ACCESS_KEY``  flat files: S3 secret (never shown)
``POLYGON_S3_ENDPOINT``           flat files: S3 endpoint (default the provider's)
``POLYGON_S3_BUCKET``             flat files: bucket (default ``flatfiles``)
``POLYGON_REDIS_PASSWORD``        the server's Redis fan-out: Redis password (kept off the command line)

The INI file has one ``[polygon]`` section whose keys are the field names below
(``api_key``, ``base_url``, ``rate_limit_per_minute``...).
"""

import configparser
import dataclasses
import logging
import os
import sys
from pathlib import Path
from typing import Any, Dict, Mapping, Optional

from polygon.exceptions import PolygonConfigError

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_WS_URL",
    "SANDBOX_API_KEY",
    "PolygonConfig",
    "default_cache_dir",
    "get_config",
]

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.massive.com"
DEFAULT_WS_URL = "wss://socket.massive.com"
DEFAULT_TIMEZONE = "America/New_York"
DEFAULT_S3_ENDPOINT = "https://files.massive.com"
DEFAULT_S3_BUCKET = "flatfiles"
#: The fixed, documented key the offline sandbox accepts by default.
SANDBOX_API_KEY = "sandbox-key-polygon-kit"

_ENV = {
    "api_key": "POLYGON_API_KEY",
    "base_url": "POLYGON_BASE_URL",
    "ws_url": "POLYGON_WS_URL",
    "cache_dir": "POLYGON_CACHE_DIR",
    "rate_limit_per_minute": "POLYGON_RATE_LIMIT_PER_MINUTE",
    "rate_limit_per_day": "POLYGON_RATE_LIMIT_PER_DAY",
    "rate_limit_per_second": "POLYGON_RATE_LIMIT_PER_SECOND",
    "timezone": "POLYGON_TIMEZONE",
    "connect_timeout": "POLYGON_CONNECT_TIMEOUT",
    "read_timeout": "POLYGON_READ_TIMEOUT",
    "max_retries": "POLYGON_MAX_RETRIES",
    "max_workers": "POLYGON_MAX_WORKERS",
    "s3_access_key_id": "POLYGON_S3_ACCESS_KEY_ID",
    "s3_secret_access_key": "POLYGON_S3_SECRET_ACCESS_KEY",
    "s3_endpoint": "POLYGON_S3_ENDPOINT",
    "s3_bucket": "POLYGON_S3_BUCKET",
    "redis_password": "POLYGON_REDIS_PASSWORD",
}


def default_cache_dir() -> str:
    """Return the per-user cache directory (XDG on Unix, LOCALAPPDATA on Windows)."""
    if sys.platform.startswith("win"):
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return str(Path(base) / "polygon-kit" / "cache")
    if sys.platform == "darwin":
        return str(Path.home() / "Library" / "Caches" / "polygon-kit")
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return str(Path(base) / "polygon-kit")


@dataclasses.dataclass(frozen=True)
class PolygonConfig:
    """Resolved settings shared by the clients, the cache and the server.

    :param api_key: provider API key; excluded from ``repr()``.
    :param base_url: REST base URL, no trailing slash.
    :param ws_url: WebSocket host URL without the market path (``/stocks`` is appended).
    :param cache_dir: directory of the file cache.
    :param rate_limit_per_minute: client-side limit, ``None`` for unlimited.
    :param rate_limit_per_day: client-side daily limit, ``None`` for unlimited.
    :param rate_limit_per_second: optional per-second cap (paid plans).
    :param timezone: IANA timezone of returned bars and of naive datetimes.
    :param connect_timeout: seconds to establish a connection.
    :param read_timeout: seconds to wait for response bytes.
    :param max_retries: retries after the first attempt for 429/5xx/connection errors.
    :param retry_budget: total seconds all retries of one call may spend waiting.
    :param max_workers: concurrent requests of the batch fetcher (and HTTP pool size).
    :param redis_password: password of the server's Redis fan-out (``--redis`` URLs without one); never shown.
    """

    api_key: Optional[str] = dataclasses.field(default=None, repr=False)
    base_url: str = DEFAULT_BASE_URL
    ws_url: str = DEFAULT_WS_URL
    cache_dir: str = dataclasses.field(default_factory=default_cache_dir)
    rate_limit_per_minute: Optional[int] = None
    rate_limit_per_day: Optional[int] = None
    rate_limit_per_second: Optional[float] = None
    timezone: str = DEFAULT_TIMEZONE
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    max_retries: int = 5
    retry_budget: float = 120.0
    max_workers: int = 8
    s3_access_key_id: Optional[str] = dataclasses.field(default=None, repr=False)
    s3_secret_access_key: Optional[str] = dataclasses.field(default=None, repr=False)
    s3_endpoint: str = DEFAULT_S3_ENDPOINT
    s3_bucket: str = DEFAULT_S3_BUCKET
    redis_password: Optional[str] = dataclasses.field(default=None, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))
        object.__setattr__(self, "ws_url", self.ws_url.rstrip("/"))
        for name in ("rate_limit_per_minute", "rate_limit_per_day", "rate_limit_per_second"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise PolygonConfigError("%s must be >= 0 or None (unlimited), got %r" % (name, value))
            if value == 0:
                object.__setattr__(self, name, None)
        if self.connect_timeout <= 0 or self.read_timeout <= 0:
            raise PolygonConfigError("timeouts must be positive seconds")
        if self.max_retries < 0:
            raise PolygonConfigError("max_retries must be >= 0, got %r" % self.max_retries)
        if self.max_workers < 1:
            raise PolygonConfigError("max_workers must be >= 1, got %r" % self.max_workers)
        try:
            import zoneinfo  # noqa: F401  (stdlib on 3.9+)

            zoneinfo.ZoneInfo(self.timezone)
        except Exception as exc:  # ZoneInfoNotFoundError, ValueError
            raise PolygonConfigError("unknown timezone %r: %s" % (self.timezone, exc)) from None

    @property
    def has_api_key(self) -> bool:
        """``True`` when a non-empty API key is configured."""
        return bool(self.api_key)

    def replace(self, **changes: Any) -> "PolygonConfig":
        """Return a copy with ``changes`` applied (explicit values win)."""
        return dataclasses.replace(self, **changes)

    def as_dict(self, redact: bool = True) -> Dict[str, Any]:
        """Return the settings as a dict; the key is shown as ``'***'`` unless ``redact=False``."""
        data = dataclasses.asdict(self)
        if redact:
            data["api_key"] = "***" if self.api_key else None
            for name in ("s3_access_key_id", "s3_secret_access_key", "redis_password"):
                data[name] = "***" if data[name] else None
        return data


_FIELD_TYPES = {f.name: f.type for f in dataclasses.fields(PolygonConfig)}


def _coerce(name: str, raw: str) -> Any:
    raw = raw.strip()
    kind = str(_FIELD_TYPES[name])
    if raw == "" or raw.lower() in ("none", "unlimited"):
        if "Optional" in kind or name == "api_key":
            return None
        raise PolygonConfigError("%s may not be empty" % name)
    try:
        if "int" in kind:
            return int(raw)
        if "float" in kind:
            return float(raw)
    except ValueError:
        raise PolygonConfigError("%s must be a number, got %r" % (name, raw)) from None
    return raw


def _read_file(path: Optional[str]) -> Dict[str, Any]:
    if path is None:
        path = os.environ.get("POLYGON_CONFIG_FILE") or str(Path.home() / ".config" / "polygon-kit" / "config.ini")
    if not os.path.isfile(path):
        return {}
    parser = configparser.ConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error as exc:
        raise PolygonConfigError("cannot parse config file %s: %s" % (path, exc)) from None
    if not parser.has_section("polygon"):
        return {}
    values = {}
    for key, raw in parser.items("polygon"):
        if key not in _FIELD_TYPES:
            raise PolygonConfigError(
                "unknown key %r in %s; allowed: %s" % (key, path, ", ".join(sorted(_FIELD_TYPES)))
            )
        values[key] = _coerce(key, raw)
    return values


def get_config(
    config_file: Optional[str] = None, environ: Optional[Mapping[str, str]] = None, **overrides: Any
) -> PolygonConfig:
    """Build a :class:`PolygonConfig` from arguments, environment, config file and defaults.

    :param config_file: INI file to read; default ``POLYGON_CONFIG_FILE`` or the per-user path.
    :param environ: mapping to read variables from (default ``os.environ``).
    :param overrides: explicit field values; ``None`` values are ignored.
    :returns: the resolved, validated configuration.
    :raises PolygonConfigError: on an unknown field or a malformed value.
    """
    env = os.environ if environ is None else environ
    values: Dict[str, Any] = dict(_read_file(config_file))
    for name, var in _ENV.items():
        raw = env.get(var)
        if raw is not None and raw.strip() != "":
            values[name] = _coerce(name, raw)
    for name, value in overrides.items():
        if name not in _FIELD_TYPES:
            raise PolygonConfigError("unknown config field %r; allowed: %s" % (name, ", ".join(sorted(_FIELD_TYPES))))
        if value is not None:
            values[name] = value
    return PolygonConfig(**values)
