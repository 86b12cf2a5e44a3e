"""Compact dates ('YYYYMMDD', 8-digit ints) and the echo of rejected values (issue 12, case 2)."""

import datetime as dt

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from polygon.exceptions import InvalidDateRangeError
from polygon.markets.dates import check_date_range, format_agg_bound, format_date, is_calendar_day, to_epoch_ms

NY = "America/New_York"


@pytest.mark.parametrize("value", ["20230103", 20230103, np.int64(20230103), " 20230103 "])
def test_eight_digits_are_a_calendar_day(value):
    assert to_epoch_ms(value, NY) == to_epoch_ms("2023-01-03", NY)
    assert to_epoch_ms(value, NY, end=True) == to_epoch_ms("2023-01-03", NY, end=True)
    assert format_agg_bound(value, NY) == "2023-01-03"
    assert format_date(value) == "2023-01-03"
    assert is_calendar_day(value)


def test_other_integers_stay_epoch_milliseconds():
    assert to_epoch_ms(1672722000000, NY) == 1672722000000
    assert to_epoch_ms("1672722000000", NY) == 1672722000000
    assert to_epoch_ms(1234567, NY) == 1234567  # 7 digits: milliseconds
    assert not is_calendar_day(1672722000000) and not is_calendar_day(True)
    assert not is_calendar_day(dt.datetime(2023, 1, 3)) and is_calendar_day(dt.date(2023, 1, 3))


@given(st.dates(min_value=dt.date(1970, 1, 1), max_value=dt.date(2261, 12, 31)))
def test_compact_and_iso_forms_agree(day):
    if day.year < 1000:
        return
    compact = day.strftime("%Y%m%d")
    assert to_epoch_ms(compact, NY) == to_epoch_ms(day, NY) == to_epoch_ms(int(compact), NY)


@pytest.mark.parametrize("value, shown", [
    (20231399, "20231399"),
    ("20231399", "'20231399'"),
    ("2023-13-01", "'2023-13-01'"),
    (" next tuesday ", "' next tuesday '"),
    (-5, "-5"),
    (99999999999999, "99999999999999"),
    (1.5, "1.5"),
])
def test_rejected_values_are_echoed_as_given(value, shown):
    with pytest.raises(InvalidDateRangeError) as info:
        to_epoch_ms(value, NY, name="start")
    text = str(info.value)
    assert ("invalid start %s" % shown) in text
    assert "YYYYMMDD" in text  # says what is allowed


def test_reversed_range_echoes_both_values():
    with pytest.raises(InvalidDateRangeError) as info:
        check_date_range(20230131, "20230103", NY)
    assert "20230131" in str(info.value) and "'20230103'" in str(info.value)

