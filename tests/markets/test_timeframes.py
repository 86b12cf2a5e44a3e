import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from polygon.exceptions import InvalidTimeframeError
from polygon.markets.timeframes import COMMON_TIMEFRAMES, TIMESPANS, Timeframe, parse_timeframe, to_multiplier_timespan


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1min", (1, "minute")), ("5min", (5, "minute")), ("15min", (15, "minute")), ("30min", (30, "minute")),
        ("1hour", (1, "hour")), ("4hour", (4, "hour")), ("1day", (1, "day")), ("1week", (1, "week")),
        ("1month", (1, "month")), ("2h", (2, "hour")), ("minute", (1, "minute")), ("10 sec", (10, "second")),
        ("1Q", (1, "quarter")), ("1year", (1, "year")),
    ],
)
def test_parse(text, expected):
    assert to_multiplier_timespan(text) == expected


def test_common_round_trip_and_offsets():
    for name in COMMON_TIMEFRAMES:
        tf = parse_timeframe(name)
        assert tf.name == name
        assert isinstance(tf.offset, pd.offsets.BaseOffset)
    assert parse_timeframe("5min").seconds == 300
    assert parse_timeframe("1month").seconds is None
    assert parse_timeframe("1hour").is_intraday and not parse_timeframe("1day").is_intraday
    ts = pd.Timestamp("2023-01-03 09:30", tz="America/New_York")
    assert ts + parse_timeframe("5min").offset == pd.Timestamp("2023-01-03 09:35", tz="America/New_York")


@pytest.mark.parametrize("bad", ["", "0min", "5 parsecs", "min5", "-1day", None, 5, (0, "minute"), (1, "fortnight")])
def test_bad_timeframes_list_valid_forms(bad):
    with pytest.raises(InvalidTimeframeError) as info:
        parse_timeframe(bad)
    assert isinstance(info.value, ValueError)


def test_error_message_names_allowed_units():
    with pytest.raises(InvalidTimeframeError, match="sec, min, hour, day, week, month"):
        parse_timeframe("3fortnights")


@given(st.integers(min_value=1, max_value=999), st.sampled_from(TIMESPANS))
def test_name_round_trip_property(multiplier, timespan):
    tf = Timeframe(multiplier, timespan)
    assert parse_timeframe(tf.name) == tf
    assert parse_timeframe((multiplier, timespan)) == tf
