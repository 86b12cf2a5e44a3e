import datetime as dt
import zoneinfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from polygon.exceptions import InvalidDateRangeError, InvalidInputError
from polygon.markets.dates import check_date_range, format_agg_bound, format_date, to_epoch_ms

NY = "America/New_York"


def test_date_bounds_are_whole_days_in_configured_zone():
    # 2024-01-02 00:00 America/New_York = 05:00 UTC
    assert to_epoch_ms(dt.date(2024, 1, 2), NY) == 1704171600000
    assert to_epoch_ms("2024-01-02", NY, end=True) == 1704171600000 + 86400000 - 1
    assert to_epoch_ms("2024-01-02", "UTC") == 1704153600000


def test_naive_datetime_uses_configured_zone_not_machine_local(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    naive = dt.datetime(2024, 7, 1, 9, 30)
    assert to_epoch_ms(naive, NY) == to_epoch_ms(dt.datetime(2024, 7, 1, 13, 30, tzinfo=dt.timezone.utc), NY)
    assert to_epoch_ms(pd.Timestamp("2024-07-01 09:30"), NY) == to_epoch_ms(naive, NY)
    assert to_epoch_ms("2024-07-01T13:30:00Z", NY) == to_epoch_ms(naive, NY)


def test_ms_ints_and_numpy_values():
    assert to_epoch_ms(1704171600000, NY) == 1704171600000
    assert to_epoch_ms(np.int64(5), NY) == 5
    assert to_epoch_ms("1704171600000", NY) == 1704171600000
    # a numpy datetime is naive: 05:00 New York wall clock = 10:00 UTC
    assert to_epoch_ms(np.datetime64("2024-01-02T05:00:00"), NY) == 1704189600000


def test_naive_numpy_datetime64_is_read_in_the_configured_timezone():
    naive = dt.datetime(2023, 1, 3, 9, 30)
    for value in (np.datetime64("2023-01-03T09:30"), np.datetime64("2023-01-03T09:30:00.000000000")):
        assert to_epoch_ms(value, NY) == to_epoch_ms(naive, NY) == to_epoch_ms(pd.Timestamp(naive), NY)
        assert to_epoch_ms(value, "UTC") == to_epoch_ms(naive.replace(tzinfo=dt.timezone.utc), NY)
        assert format_agg_bound(value, NY) == str(to_epoch_ms(naive, NY))
    assert format_date(np.datetime64("2023-01-03T23:30")) == "2023-01-03"


def test_format_agg_bound():
    assert format_agg_bound(dt.date(2024, 1, 2), NY) == "2024-01-02"
    assert format_agg_bound("2024-01-02", NY) == "2024-01-02"
    assert format_agg_bound(dt.datetime(2024, 1, 2, 9, 30), NY) == str(1704205800000)
    assert format_agg_bound(1704205800000, NY) == "1704205800000"
    assert format_date(dt.datetime(2024, 1, 2, 23, 0)) == "2024-01-02"


@pytest.mark.parametrize("bad", ["2024-13-01", "yesterday", "", True, 1.5, -1, None, [2024], np.datetime64("NaT")])
def test_bad_values_are_typed_errors(bad):
    with pytest.raises(InvalidDateRangeError) as info:
        to_epoch_ms(bad, NY)
    assert isinstance(info.value, (InvalidInputError, ValueError))


def test_range_checks():
    assert check_date_range("2024-01-02", "2024-01-02", NY)[1] > check_date_range("2024-01-02", "2024-01-02", NY)[0]
    with pytest.raises(InvalidDateRangeError, match="after"):
        check_date_range("2024-01-03", "2024-01-02", NY)
    with pytest.raises(InvalidDateRangeError):
        format_date(1704205800000)


@given(st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2090, 1, 1)))
def test_naive_round_trip(value):
    ms = to_epoch_ms(value, NY)
    # zoneinfo, not a tz string: before pandas 3 a string means pytz, whose DST rules stop in 2037
    back = pd.Timestamp(ms, unit="ms", tz="UTC").tz_convert(zoneinfo.ZoneInfo(NY)).tz_localize(None)
    # DST gaps/folds shift by up to an hour; everywhere else the wall clock round-trips
    assert abs((back - pd.Timestamp(value)).total_seconds()) <= 3600
    assert int(format_agg_bound(value, NY)) == ms


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "2262-01-01", dt.date(9999, 12, 31),
                                   dt.datetime(1, 1, 1, 12, 0)])
def test_dates_outside_what_pandas_holds_are_typed_errors(value):
    """The day after 9999-12-31 overflowed and year-1 dates failed deep inside pandas (server 500s)."""
    with pytest.raises(InvalidDateRangeError, match="1970-01-01 to 2261-12-31"):
        to_epoch_ms(value, "America/New_York", end=True)
