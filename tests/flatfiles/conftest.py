"""A sandbox with flat files (moto's S3 server on 127.0.0.1), published once per module."""

import pytest

pytest.importorskip("boto3", reason="the flatfiles extra (boto3) is not installed")
pytest.importorskip("moto.server", reason="moto[server] (the S3 emulator) is not installed")

#: January 2024: 21 trading days (New Year's Day and MLK day are holidays)
MONTH = ("2024-01-01", "2024-01-31")
#: symbols whose minute files are published for the whole month (no split after January 2024)
MINUTE_SYMBOLS = ["AAPL", "MSFT", "SPY", "BRK.B", "JPM", "KO"]


@pytest.fixture(scope="module")
def ff_sandbox():
    from polygon.sandbox import Sandbox

    sb = Sandbox(port=0, flatfiles={"bucket": "ff-%s" % __name__.replace("_", "-").replace(".", "-")[-40:]})
    sb.start()
    try:
        sb.flatfiles.publish(*MONTH, kinds=("minute_aggs",), symbols=MINUTE_SYMBOLS)
        sb.flatfiles.publish(*MONTH, kinds=("day_aggs",))
        yield sb
    finally:
        sb.stop()


@pytest.fixture(scope="session")
def ff_data():
    """The published month and the symbols with minute files."""
    return {"month": MONTH, "minute_symbols": list(MINUTE_SYMBOLS)}


@pytest.fixture
def ff_config(ff_sandbox, tmp_path):
    """A config pointing at the flat-file sandbox with a fresh cache."""
    cache = tmp_path / "cache"
    cache.mkdir()
    return ff_sandbox.config(cache_dir=str(cache))
