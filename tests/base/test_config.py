import pytest

from polygon.config import SANDBOX_API_KEY, PolygonConfig, get_config
from polygon.exceptions import PolygonConfigError


def test_precedence_explicit_over_env_over_file_over_default(tmp_path):
    ini = tmp_path / "config.ini"
    ini.write_text("[polygon]\nbase_url = http://file\nrate_limit_per_minute = 7\ntimezone = UTC\n")
    env = {"POLYGON_BASE_URL": "http://env/", "POLYGON_RATE_LIMIT_PER_DAY": "100"}
    cfg = get_config(config_file=str(ini), environ=env, rate_limit_per_day=50)
    assert cfg.base_url == "http://env"  # env beats file; trailing slash stripped
    assert cfg.rate_limit_per_minute == 7  # file beats default
    assert cfg.rate_limit_per_day == 50  # explicit beats env
    assert cfg.timezone == "UTC"
    assert get_config(config_file=str(tmp_path / "missing.ini"), environ={}).timezone == "America/New_York"


def test_key_never_in_repr_or_dict():
    cfg = get_config(environ={"POLYGON_API_KEY": "s3cr3t-key"})
    assert cfg.api_key == "s3cr3t-key"
    assert "s3cr3t" not in repr(cfg)
    assert cfg.as_dict()["api_key"] == "***"


def test_zero_or_empty_limit_means_unlimited():
    cfg = get_config(environ={"POLYGON_RATE_LIMIT_PER_MINUTE": "0", "POLYGON_RATE_LIMIT_PER_DAY": ""})
    assert cfg.rate_limit_per_minute is None and cfg.rate_limit_per_day is None


@pytest.mark.parametrize(
    "environ, fragment",
    [
        ({"POLYGON_RATE_LIMIT_PER_MINUTE": "five"}, "must be a number"),
        ({"POLYGON_TIMEZONE": "Mars/Olympus"}, "unknown timezone"),
        ({"POLYGON_MAX_WORKERS": "0"}, "max_workers"),
    ],
)
def test_bad_values_are_typed_errors(environ, fragment):
    with pytest.raises(PolygonConfigError, match=fragment):
        get_config(environ=environ)


def test_unknown_key_in_file_lists_allowed(tmp_path):
    ini = tmp_path / "c.ini"
    ini.write_text("[polygon]\nbase_ulr = x\n")
    with pytest.raises(PolygonConfigError, match="allowed: .*base_url"):
        get_config(config_file=str(ini), environ={})


def test_unknown_override_rejected():
    with pytest.raises(PolygonConfigError):
        get_config(environ={}, not_a_field=1)


def test_replace_and_sandbox_key():
    cfg = PolygonConfig().replace(api_key=SANDBOX_API_KEY)
    assert cfg.has_api_key and not PolygonConfig().has_api_key
