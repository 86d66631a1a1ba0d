"""Sweep charts: a line with its band for one swept parameter, a heatmap for two."""

from __future__ import annotations


import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm

from .. import __version__
from ..numbers import fmt, tick_formatter
from .style import DASH, DIVERGING_CMAP, SEQUENTIAL_CMAP, SERIES_COLORS, _axes, _finish, _styled  # noqa: F401
from .data import _guard_flat
from .flows import _heatmap  # noqa: F401
from .sensitivity import _outcome_label  # noqa: F401

@_styled
def sweep_heatmap(table: pd.DataFrame, unit: str | None = None, outcome: str | None = None, ax=None,
                  annotate: bool | None = None, title: str | None = None, source: str | None = None):
    """Heatmap of an outcome over a two-way parameter sweep.

    Parameters
    ----------
    table : pandas.DataFrame
        A pivot: index = values of the first parameter (y axis, named by ``index.name``),
        columns = values of the second (x axis, ``columns.name``), cells = outcome in ``unit``.
    unit : str, optional
        Unit of the outcome.
    outcome : str, optional
        Name of the outcome.
    ax : matplotlib.axes.Axes, or a Figure or SubFigure, optional
        Axes to draw on, or a (sub)figure to fill; a new figure when None.
    annotate : bool, optional
        Write values in cells (default: at most 12 x 12 cells).
    title : str, optional
        Axes title.
    source : str, optional
        Source line for the footer.

    Returns
    -------
    matplotlib.figure.Figure
        The image (gid ``sweep``) holds the table's values, first row at the bottom.
    """
    values = table.to_numpy(dtype=float)
    fig, ax, created = _axes(ax)
    annotate = annotate if annotate is not None else max(values.shape) <= 12
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    if lo < 0 < hi:
        lim = max(-lo, hi)
        norm, cmap = TwoSlopeNorm(0, -lim, lim), DIVERGING_CMAP
    else:
        norm, cmap = mpl.colors.Normalize(lo, hi if hi > lo else lo + 1), SEQUENTIAL_CMAP
    im = _heatmap(ax, values, [f"{v:g}" if isinstance(v, (float, int, np.number)) else str(v) for v in table.index],
                  [f"{v:g}" if isinstance(v, (float, int, np.number)) else str(v) for v in table.columns],
                  cmap, norm, annotate, _outcome_label(outcome, unit), fmt=lambda v: fmt(v, typeset=True),
                  origin="lower")
    im.set_gid("sweep")
    ax.set_xlabel(str(table.columns.name or "parameter 2"))
    ax.set_ylabel(str(table.index.name or "parameter 1"))
    ax.set_title(title or f"Two-way sweep{f': {outcome}' if outcome else ''}", loc="left")
    cap = (f"{outcome or 'Outcome'}{f', {unit},' if unit else ''} over a grid of {table.index.name or 'parameter 1'} "
           f"(rows) and {table.columns.name or 'parameter 2'} (columns), other parameters at base values"
           f"{'; diverging colours centred on zero' if cmap == DIVERGING_CMAP else ''}.")
    return _finish(fig, created, cap, source or f"simsrc {__version__}")




#: Column names read as the band of a one-parameter sweep table (low, high).
_BANDS = (("p5", "p95"), ("p_lo", "p_hi"), ("low", "high"))


def is_one_parameter(table: pd.DataFrame) -> bool:
    """True for a one-parameter sweep table: ``parameter, outcome`` (two columns), or a
    parameter with ``median`` and a band (``p5/p95``, ``p_lo/p_hi`` or ``low/high``), or a
    pivot with a single column."""
    cols = list(table.columns)
    if len(cols) == 2:
        return True
    if "median" in cols and any(lo in cols and hi in cols for lo, hi in _BANDS):
        return len([c for c in cols if c not in ("median", "mean", "n") and not any(c in b for b in _BANDS)]) == 1
    return False


@_styled
def sweep_line(table: pd.DataFrame, unit: str | None = None, outcome: str | None = None, ax=None,
               title: str | None = None, source: str | None = None):
    """An outcome against one swept parameter: a line (the median, or the value) with its
    5-95% band when the table has one.

    Parameters
    ----------
    table : pandas.DataFrame
        ``parameter, outcome`` (two columns), or a parameter column with ``median`` and a band
        (``p5``/``p95``, ``p_lo``/``p_hi`` or ``low``/``high``).
    unit, outcome, title, source : str, optional
        As for :func:`sweep_heatmap`.
    ax : matplotlib.axes.Axes, or a Figure or SubFigure, optional

    Returns
    -------
    matplotlib.figure.Figure
        The line has gid ``sweep``, the band ``band``.
    """
    cols = list(table.columns)
    band = next(((lo, hi) for lo, hi in _BANDS if lo in cols and hi in cols), None)
    if "median" in cols and band:
        par = next(c for c in cols if c not in ("median", "mean", "n") and not any(c in b for b in _BANDS))
        ycol = "median"
    else:
        par, ycol = cols[0], cols[1]
        band = None
    t = table.sort_values(par)
    x = t[par].to_numpy()
    y = t[ycol].to_numpy(dtype=float)
    fig, ax, created = _axes(ax)
    color = SERIES_COLORS[0]
    if band:
        lo, hi = t[band[0]].to_numpy(dtype=float), t[band[1]].to_numpy(dtype=float)
        ax.fill_between(x, lo, hi, color=color, alpha=0.2, lw=0, gid="band", label="5\u201395% of draws")
        vals = np.r_[y, lo, hi]
    else:
        vals = y
    ax.plot(x, y, marker="o", ms=3.5, color=color, gid="sweep", label="median" if band else (outcome or ycol))
    if np.nanmin(vals) < 0 < np.nanmax(vals):
        ax.axhline(0, color="#444444", lw=0.7)
    _guard_flat(ax, vals)
    ax.xaxis.set_major_formatter(tick_formatter())
    ax.set_xlabel(str(par))
    ax.set_ylabel(f"{outcome or ycol}{f' ({unit})' if unit else ''}")
    if band:
        ax.legend(loc="best")
    ax.set_title(title or f"Sweep of {par}{f': {outcome}' if outcome else ''}", loc="left")
    cap = (f"{outcome or ycol}{f', {unit},' if unit else ''} against {par}, other parameters at base values"
           f"{': median (line) and 5th' + DASH + '95th percentile band across draws' if band else ''}.")
    return _finish(fig, created, cap, source or f"simsrc {__version__}")
