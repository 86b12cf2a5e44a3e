"""README's configuration table names every environment variable the library reads (issue 21: the S3 ones
were missing)."""

import re
from pathlib import Path

from polygon import config

ROOT = Path(__file__).resolve().parents[2]


def _table() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("### Configuration")
    return text[start:text.index("\n### ", start + 1)]


def test_every_config_variable_is_in_the_readme_table():
    table = _table()
    named = set(re.findall(r"`(POLYGON_[A-Z0-9_]+)`", table))
    # `POLYGON_RATE_LIMIT_PER_MINUTE` / `_PER_DAY` / `_PER_SECOND` share a row
    named |= {"POLYGON_RATE_LIMIT" + suffix for suffix in re.findall(r"`(_PER_[A-Z]+)`", table)}
    wanted = set(config._ENV.values()) | {"POLYGON_CONFIG_FILE"}
    missing = sorted(wanted - named)
    assert not missing, "README's configuration table lacks %s" % missing
