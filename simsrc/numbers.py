"""Numbers formatted for people: the one home of simsrc's number formatting.

Used by the CLI tables, the headline CSV/Markdown writers, the figures (tick formatters, bar
labels) and the report, so a value reads the same everywhere:

- significant digits suited to the quantity (3 by default), never scientific notation for
  the magnitudes of prices, tonnes or USD (``88,812``, ``25,440``, ``0.000123``);
- thousands separators (``8,000``);
- percentages as percentages (``+12.4%``), shares as percent (``76%``);
- no negative zero: a value that rounds to zero prints as ``0`` (``+0`` is never shown);
- a true minus sign (U+2212) where typeset (``typeset=True``; figures and the report), an
  ASCII hyphen in CSV and terminal text;
- ``n/a`` for NaN and infinities.

Examples
--------
>>> fmt(25440.7)
'25,400'
>>> fmt(0.000123456)
'0.000123'
>>> fmt(-0.0)
'0'
>>> fmt(1e12)
'1,000,000,000,000'
>>> fmt_signed(3590.87, unit="%")
'+3,590%'
>>> fmt_interval(2.5, -0.1, 5.3, signed=True)
'+2.5 [-0.1, +5.3]'
"""

from __future__ import annotations

import math

MINUS = "\u2212"
NA = "n/a"
#: Default significant digits.
SIG = 3


def _finite(x) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def decimals_for(x: float, sig: int = SIG) -> int:
    """Decimal places that show ``sig`` significant digits of ``|x|`` (0 for |x| >= 10**(sig-1))."""
    a = abs(float(x))
    if a == 0 or not math.isfinite(a):
        return 0
    return max(0, sig - 1 - int(math.floor(math.log10(a))))


def _round_sig(x: float, sig: int) -> float:
    if x == 0:
        return 0.0
    d = sig - 1 - int(math.floor(math.log10(abs(x))))
    return round(x, d)


def _clean(text: str, typeset: bool) -> str:
    """Drop the sign of a zero (``-0``, ``-0.00``, ``+0.0``) and set the minus sign."""
    body = text.lstrip("+-")
    if not body.strip("0.,%") or set(body.rstrip("%").replace(",", "").replace(".", "")) <= {"0"}:
        text = body
    if typeset:
        text = text.replace("-", MINUS)
    return text


def fmt(x, sig: int = SIG, *, decimals: int | None = None, signed: bool = False, typeset: bool = False,
        unit: str | None = None) -> str:
    """One number for people.

    Parameters
    ----------
    x : float
        The value (NaN, None or infinity give ``n/a``).
    sig : int
        Significant digits (integers part is never rounded below the units: 123,456 stays
        123,000 at 3 digits; values of 1,000 or more show no decimals).
    decimals : int, optional
        Fixed decimal places instead of significant digits (e.g. a column in common).
    signed : bool
        Show ``+`` on positive values (effects). Zero never has a sign.
    typeset : bool
        True minus sign (figures, report); ASCII hyphen otherwise (CSV, terminal).
    unit : str, optional
        ``"%"`` appends a percent sign; ``"pp"`` appends `` pp``; other units are not
        appended (they belong in the column header).
    """
    if not _finite(x):
        return NA
    x = float(x)
    strip = decimals is None
    if decimals is None:
        x = _round_sig(x, sig)
        decimals = decimals_for(x, sig)
    if round(x, decimals) == 0:
        text = "0"
    else:
        text = f"{x:{'+' if signed else ''},.{decimals}f}"
        if strip and "." in text:  # significant digits: 0.5, not 0.500
            text = text.rstrip("0").rstrip(".")
    if unit == "%":
        text += "%"
    elif unit == "pp":
        text += " pp"
    return _clean(text, typeset)


def fmt_signed(x, sig: int = SIG, **kw) -> str:
    """:func:`fmt` with a ``+`` on positive values (an effect)."""
    return fmt(x, sig, signed=True, **kw)


def fmt_pct(share, sig: int = SIG, *, signed: bool = False, typeset: bool = False) -> str:
    """A share (0.76) as a percentage (``76%``); ``sig`` significant digits, at most 1 decimal
    above 1%."""
    if not _finite(share):
        return NA
    p = float(share) * 100.0
    d = min(decimals_for(_round_sig(p, sig), sig), 1) if abs(p) >= 1 else decimals_for(p, sig)
    return fmt(p, decimals=d, signed=signed, typeset=typeset, unit="%")


def common_decimals(values, sig: int = SIG) -> int:
    """Decimal places that give the largest |value| of a set ``sig`` significant digits
    (a column or an interval printed with one precision)."""
    vals = [abs(float(v)) for v in values if _finite(v)]
    big = max(vals, default=0.0)
    return decimals_for(big, sig) if big else 0


def fmt_interval(centre, lo, hi, sig: int = SIG, *, signed: bool = False, typeset: bool = False,
                 unit: str | None = None) -> str:
    """``centre [lo, hi]`` with one precision for the three (that of the largest).

    >>> fmt_interval(25440, 15280, 35040)
    '25,400 [15,300, 35,000]'
    """
    if not _finite(centre):
        return NA
    d = common_decimals([centre, lo, hi], sig)
    big = max(abs(float(v)) for v in (centre, lo, hi) if _finite(v))
    if big >= 10 ** sig:  # round large numbers to sig digits of the largest, not to units
        step = 10 ** (int(math.floor(math.log10(big))) - sig + 1)
        centre, lo, hi = (round(float(v) / step) * step if _finite(v) else v for v in (centre, lo, hi))
    vals = [float(v) if _finite(v) else v for v in (centre, lo, hi)]
    while d > 0 and all(not _finite(v) or abs(round(v, d - 1) - round(v, d)) < 10 ** -(d + 3) for v in vals):
        d -= 1  # 2.5 [-0.1, 5.3], not 2.50 [-0.10, 5.30]
    f = lambda v: fmt(v, decimals=d, signed=signed, typeset=typeset, unit=unit)  # noqa: E731
    return f"{f(centre)} [{f(lo)}, {f(hi)}]"


def fmt_pct_interval(centre, lo, hi, *, signed: bool = True, typeset: bool = False) -> str:
    """An interval of percentages (values already in percent): ``+12.4% [+4.8%, +31.0%]``."""
    return fmt_interval(centre, lo, hi, signed=signed, typeset=typeset, unit="%")


def round_sig(values, sig: int = 4):
    """Values rounded to ``sig`` significant digits (arrays or scalars; NaN kept): for tidy
    CSV files read by people and spreadsheets."""
    import numpy as np

    v = np.asarray(values, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = np.where((v != 0) & np.isfinite(v), np.floor(np.log10(np.abs(np.where(v == 0, 1, v)))), 0)
        scale = 10.0 ** (sig - 1 - mag)
        out = np.where(np.isfinite(v), np.round(v * scale) / scale, v)
    out = out + 0.0  # no negative zero
    return out


def tick_formatter(typeset: bool = True, unit: str | None = None):
    """A matplotlib tick formatter with thousands separators and no ``-0`` (``1,000``,
    ``0.05``, ``2,500%``)."""
    from matplotlib.ticker import FuncFormatter

    def f(x, _pos=None):
        if not _finite(x):
            return ""
        if abs(x) < 1e-12:
            return "0" + ("%" if unit == "%" else "")
        # ticks are round numbers: show as many decimals as the tick needs, up to 6
        d = 0
        while d < 6 and abs(round(x, d) - x) > 1e-9 * max(1.0, abs(x)):
            d += 1
        return fmt(x, decimals=d, typeset=typeset, unit=unit)
    return FuncFormatter(f)
