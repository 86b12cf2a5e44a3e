"""Macroeconomic series of the sandbox (``/fed/v1/*``): Treasury yields by day, inflation, inflation
expectations and the labor market by month.

Each series follows yearly anchor levels of the kind the Federal Reserve's releases show (a policy rate
near zero in 2009-2015 and 2020-2021, inflation peaking in 2022 ...), interpolated linearly and given a
small stable wobble per date, so every run answers the same numbers. Derived columns are computed, not
drawn: year-over-year CPI divides the index by its value twelve months earlier, the 5-to-10-year forward
breakeven comes from the 5- and 10-year ones, and the yield curve is the short rate plus a term premium
that shrinks (and inverts) when the short rate is high. Monthly values are published 45 days after the
month starts; daily yields the day after.
"""

import datetime as _dt
import functools
import math
from typing import Dict, List, Sequence

from polygon.markets import sessions
from polygon.sandbox.universe import stable_fraction

__all__ = ["FIRST_DAY", "inflation", "inflation_expectations", "labor_market", "treasury_yields"]

FIRST_DAY = _dt.date(2000, 1, 1)
_PUBLISH_LAG = _dt.timedelta(days=45)

# year -> level in percent (policy rate, CPI inflation, unemployment)
_SHORT_RATE = {2000: 6.0, 2001: 3.4, 2002: 1.6, 2003: 1.0, 2004: 1.4, 2005: 3.2, 2006: 4.9, 2007: 4.5, 2008: 1.4,
               2009: 0.15, 2010: 0.14, 2011: 0.05, 2012: 0.09, 2013: 0.06, 2014: 0.03, 2015: 0.2, 2016: 0.5,
               2017: 1.1, 2018: 2.0, 2019: 1.9, 2020: 0.3, 2021: 0.05, 2022: 2.1, 2023: 5.2, 2024: 5.0, 2025: 4.1,
               2026: 3.6, 2027: 3.4}
_INFLATION = {2000: 3.4, 2001: 2.8, 2002: 1.6, 2003: 2.3, 2004: 2.7, 2005: 3.4, 2006: 3.2, 2007: 2.8, 2008: 3.8,
              2009: -0.4, 2010: 1.6, 2011: 3.2, 2012: 2.1, 2013: 1.5, 2014: 1.6, 2015: 0.1, 2016: 1.3, 2017: 2.1,
              2018: 2.4, 2019: 1.8, 2020: 1.2, 2021: 4.7, 2022: 8.0, 2023: 4.1, 2024: 2.9, 2025: 2.7, 2026: 2.5,
              2027: 2.4}
_UNEMPLOYMENT = {2000: 4.0, 2001: 4.7, 2002: 5.8, 2003: 6.0, 2004: 5.5, 2005: 5.1, 2006: 4.6, 2007: 4.6,
                 2008: 5.8, 2009: 9.3, 2010: 9.6, 2011: 8.9, 2012: 8.1, 2013: 7.4, 2014: 6.2, 2015: 5.3, 2016: 4.9,
                 2017: 4.4, 2018: 3.9, 2019: 3.7, 2020: 5.0, 2021: 5.4, 2022: 3.6, 2023: 3.6, 2024: 4.0,
                 2025: 4.2, 2026: 4.3, 2027: 4.3}
_MATURITIES = (("yield_1_month", 1 / 12), ("yield_3_month", 0.25), ("yield_6_month", 0.5), ("yield_1_year", 1),
               ("yield_2_year", 2), ("yield_3_year", 3), ("yield_5_year", 5), ("yield_7_year", 7),
               ("yield_10_year", 10), ("yield_20_year", 20), ("yield_30_year", 30))


def _level(anchors: Dict[int, float], day: _dt.date) -> float:
    """``anchors`` (mid-year values) interpolated linearly to ``day``."""
    t = day.year + (day.timetuple().tm_yday - 182) / 365.25
    lo = min(max(int(math.floor(t)), min(anchors)), max(anchors) - 1)
    frac = min(max(t - lo, 0.0), 1.0)
    return anchors[lo] * (1 - frac) + anchors[lo + 1] * frac


def _wobble(name: str, day: _dt.date, size: float) -> float:
    return size * (stable_fraction(name, day.isoformat()) - 0.5)


def _months(first: _dt.date, last: _dt.date) -> List[_dt.date]:
    out, month = [], _dt.date(first.year, first.month, 1)
    while month <= last:
        out.append(month)
        month = (month + _dt.timedelta(days=32)).replace(day=1)
    return out


def _published_months(as_of: _dt.date) -> List[_dt.date]:
    return [m for m in _months(FIRST_DAY, as_of) if m + _PUBLISH_LAG <= as_of]


@functools.lru_cache(maxsize=8)
def treasury_yields(as_of: _dt.date) -> List[Dict[str, object]]:
    """One curve per business day from 2000 up to the day before ``as_of``."""
    out = []
    for day in sessions.trading_days(FIRST_DAY, as_of - _dt.timedelta(days=1)):
        short = max(_level(_SHORT_RATE, day) + _wobble("short-rate", day, 0.06), 0.01)
        slope = 2.6 - 0.55 * short  # the term premium shrinks, then inverts, as the short rate rises
        row: Dict[str, object] = {"date": day.isoformat()}
        for name, years in _MATURITIES:
            value = short + slope * (1 - math.exp(-years / 4.0)) + _wobble(name, day, 0.04)
            row[name] = round(max(value, 0.01), 2)
        out.append(row)
    return out


def _index_path(anchors: Dict[int, float], start: float, months: Sequence[_dt.date], name: str,
                smooth: float) -> List[float]:
    values, level = [], start
    for month in months:
        values.append(round(level, 3))
        monthly = _level(anchors, month) / 100.0 / 12.0
        level *= 1.0 + monthly * smooth + (1 - smooth) * monthly * (1 + 4 * (stable_fraction(name, month) - 0.5))
    return values


@functools.lru_cache(maxsize=8)
def inflation(as_of: _dt.date) -> List[Dict[str, object]]:
    """CPI and PCE indexes (and core), year-over-year CPI and PCE spending (USD billions) by month."""
    months = _published_months(as_of)
    cpi = _index_path(_INFLATION, 169.3, months, "cpi", 0.5)
    core = _index_path({y: 0.7 * v + 0.7 for y, v in _INFLATION.items()}, 179.3, months, "cpi-core", 0.9)
    pce = _index_path({y: 0.85 * v for y, v in _INFLATION.items()}, 72.1, months, "pce", 0.6)
    pce_core = _index_path({y: 0.6 * v + 0.6 for y, v in _INFLATION.items()}, 74.6, months, "pce-core", 0.9)
    out = []
    for i, month in enumerate(months):
        row: Dict[str, object] = {"date": month.isoformat(), "cpi": cpi[i], "cpi_core": core[i], "pce": pce[i],
                                  "pce_core": pce_core[i],
                                  "pce_spending": round(6740.0 * 1.045 ** (i / 12.0)
                                                        * (1 + _wobble("pce-sp", month, 0.01)), 1)}
        if i >= 12:
            row["cpi_year_over_year"] = round(100.0 * (cpi[i] / cpi[i - 12] - 1.0), 2)
        out.append(row)
    return out


@functools.lru_cache(maxsize=8)
def inflation_expectations(as_of: _dt.date) -> List[Dict[str, object]]:
    """Market breakevens (5 and 10 years, and the 5-to-10-year forward) and model expectations by month."""
    out = []
    for month in _published_months(as_of):
        now = _level(_INFLATION, month)
        m5 = 1.6 + 0.15 * now + _wobble("be5", month, 0.2)
        m10 = 1.9 + 0.08 * now + _wobble("be10", month, 0.15)
        out.append({"date": month.isoformat(), "market_5_year": round(m5, 2), "market_10_year": round(m10, 2),
                    "forward_years_5_to_10": round(2 * m10 - m5, 2),
                    "model_1_year": round(1.2 + 0.45 * now + _wobble("m1", month, 0.2), 2),
                    "model_5_year": round(1.6 + 0.2 * now + _wobble("m5", month, 0.1), 2),
                    "model_10_year": round(1.8 + 0.12 * now + _wobble("m10", month, 0.1), 2),
                    "model_30_year": round(2.1 + 0.05 * now + _wobble("m30", month, 0.05), 2)})
    return out


@functools.lru_cache(maxsize=8)
def labor_market(as_of: _dt.date) -> List[Dict[str, object]]:
    """Unemployment, participation, average hourly earnings (USD) and job openings (thousands) by month."""
    out = []
    for i, month in enumerate(_published_months(as_of)):
        unemployment = _level(_UNEMPLOYMENT, month) + _wobble("unemployment", month, 0.2)
        if month.year == 2020 and 4 <= month.month <= 6:  # the spring 2020 spike
            unemployment += (9.5, 7.0, 5.0)[month.month - 4]
        out.append({"date": month.isoformat(), "unemployment_rate": round(unemployment, 1),
                    "labor_force_participation_rate": round(67.1 - 0.019 * i + 0.4 * (5.0 - unemployment) / 5.0, 1),
                    "avg_hourly_earnings": round(16.2 * 1.031 ** (i / 12.0), 2),
                    "job_openings": float(int(max(4000.0, 9000 - 450 * (unemployment - 3.5))
                                              + _wobble("jolts", month, 300)))})
    return out
