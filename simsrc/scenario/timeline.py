"""Dates, quarters and period indices.

A time in a scenario is either a quarter label ``2026Q1`` (meaning the quarter's first day when
a single date is needed) or an ISO date ``2026-01-14``. The horizon starts at the beginning of
the period that contains its ``start`` and runs ``periods`` periods of length ``period``
(``quarter``, ``year`` or ``month``). A date maps to the period that contains it.
"""

from __future__ import annotations

import datetime as _dt
import re

__all__ = [
    "PERIODS_PER_YEAR", "TIME_PATTERN", "normalize_time", "parse_time", "period_of",
    "period_start", "horizon_bounds", "period_index", "period_position", "period_label",
    "active_range",
]

#: Periods per year of each period length.
PERIODS_PER_YEAR = {"quarter": 4, "month": 12, "year": 1}

_QUARTER = re.compile(r"^(\d{4})\s*-?\s*[Qq]([1-4])$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: JSON-Schema pattern of a time string.
TIME_PATTERN = r"^\d{4}(Q[1-4]|-\d{2}-\d{2})$"
TIME_HELP = "a quarter like 2026Q1 (Q1 to Q4) or an ISO date like 2026-01-14"
#: Years a time value may name (every date the model derives from them stays a valid date).
MIN_YEAR, MAX_YEAR = 1800, 2500


def _check_year(year: int, value) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"year {year} of {str(value)!r} is outside {MIN_YEAR} to {MAX_YEAR}; expected {TIME_HELP}")


def normalize_time(value) -> str:
    """Check a time value and return its canonical string (``2026Q1`` or ``2026-01-14``).

    Accepts quarter strings (case-insensitive), ISO date strings and ``datetime.date``
    objects (YAML reads an unquoted ``2026-01-14`` as a date).

    Raises
    ------
    ValueError
        With a message naming the allowed forms.
    """
    if isinstance(value, _dt.datetime):
        value = value.date()
    if isinstance(value, _dt.date):
        _check_year(value.year, value)
        return value.isoformat()
    if isinstance(value, str):
        s = value.strip()
        m = _QUARTER.match(s)
        if m:
            _check_year(int(m.group(1)), value)
            return f"{m.group(1)}Q{m.group(2)}"
        if _DATE.match(s):
            try:
                d = _dt.date.fromisoformat(s)
            except ValueError as exc:
                raise ValueError(f"invalid date {value!r} ({exc}); expected {TIME_HELP}") from None
            _check_year(d.year, value)
            return d.isoformat()
    raise ValueError(f"invalid quarter or date {value!r}; expected {TIME_HELP}")


def parse_time(value) -> _dt.date:
    """The date a time value stands for: a quarter's first day, or the date itself."""
    s = normalize_time(value)
    if "Q" in s:
        y, q = s.split("Q")
        return _dt.date(int(y), 3 * (int(q) - 1) + 1, 1)
    return _dt.date.fromisoformat(s)


def _months(d: _dt.date) -> int:
    return d.year * 12 + d.month - 1


def _from_months(n: int) -> _dt.date:
    return _dt.date(n // 12, n % 12 + 1, 1)


def _step(period: str) -> int:
    try:
        return 12 // PERIODS_PER_YEAR[period]
    except KeyError:
        raise ValueError(f"unknown period {period!r}; allowed: {list(PERIODS_PER_YEAR)}") from None


def period_of(value, period: str = "quarter") -> _dt.date:
    """First day of the period (of length ``period``) that contains ``value``."""
    d = parse_time(value)
    st = _step(period)
    m = _months(d)
    return _from_months(m - (m % st))


def period_start(horizon, k: int) -> _dt.date:
    """First day of period ``k`` (0-based) of a horizon (object with start, periods, period)."""
    st = _step(horizon.period)
    return _from_months(_months(period_of(horizon.start, horizon.period)) + k * st)


def horizon_bounds(horizon) -> tuple[_dt.date, _dt.date]:
    """(first day of the horizon, first day after it)."""
    return period_start(horizon, 0), period_start(horizon, horizon.periods)


def period_index(value, horizon) -> int:
    """Index (0-based) of the period of ``horizon`` that contains the time ``value``.

    May be negative (before the horizon) or >= ``horizon.periods`` (after it); callers
    clip or reject as they need.

    Parameters
    ----------
    value : str or datetime.date
        A quarter label (``2026Q3``) or an ISO date (``2026-07-13``).
    horizon : Horizon
        The scenario's horizon (``start``, ``periods``, ``period``).

    Examples
    --------
    With a horizon starting 2026Q1 in quarters, ``2026Q1 -> 0``, ``2026-07-13 -> 2``,
    ``2035Q4 -> 39``.
    """
    st = _step(horizon.period)
    d = parse_time(value)
    return (_months(d) - _months(period_start(horizon, 0))) // st


def period_position(value, horizon) -> float:
    """Fractional period index of a date: ``period_index`` plus the elapsed share of that period.

    ``2026-02-15`` in a quarterly horizon starting 2026Q1 gives ``0 + 45/90 = 0.5``.
    """
    k = period_index(value, horizon)
    a, b = period_start(horizon, k), period_start(horizon, k + 1)
    return k + (parse_time(value) - a).days / (b - a).days


def period_label(horizon, k: int) -> str:
    """Label of period ``k``: ``2026Q1``, ``2026-01`` or ``2026``."""
    d = period_start(horizon, k)
    if horizon.period == "quarter":
        return f"{d.year}Q{(d.month - 1) // 3 + 1}"
    if horizon.period == "month":
        return f"{d.year}-{d.month:02d}"
    return f"{d.year}"


def active_range(start, end, horizon) -> tuple[int, int] | None:
    """Periods in which an element with optional ``start``/``end`` is in force.

    Returns ``(first, last)`` inclusive, clipped to the horizon, or ``None`` when the element is
    never in force in the horizon. ``start``/``end`` default to the horizon's first/last period;
    an ``end`` date makes its whole period active (``end: 2026-11-10`` is in force in 2026Q4).
    """
    n = horizon.periods
    first = 0 if start is None else period_index(start, horizon)
    last = n - 1 if end is None else period_index(end, horizon)
    first, last = max(first, 0), min(last, n - 1)
    return None if first > last else (first, last)
