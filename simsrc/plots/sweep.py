"""Sweep charts: a line with its band for one swept parameter, a heatmap for two."""

from __future__ import annotations


import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm

from .. import __version__
from .style import DIVERGING_CMAP, SEQUENTIAL_CMAP, _axes, _finish, _styled  # noqa: F401
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
    fmt = (lambda v: f"{v:,.3g}") if max(abs(lo), abs(hi)) < 1000 else (lambda v: f"{v:,.0f}")
    im = _heatmap(ax, values, [f"{v:g}" if isinstance(v, (float, int, np.number)) else str(v) for v in table.index],
                  [f"{v:g}" if isinstance(v, (float, int, np.number)) else str(v) for v in table.columns],
                  cmap, norm, annotate, _outcome_label(outcome, unit), fmt=fmt, origin="lower")
    im.set_gid("sweep")
    ax.set_xlabel(str(table.columns.name or "parameter 2"))
    ax.set_ylabel(str(table.index.name or "parameter 1"))
    ax.set_title(title or f"Two-way sweep{f': {outcome}' if outcome else ''}", loc="left")
    cap = (f"{outcome or 'Outcome'}{f', {unit},' if unit else ''} over a grid of {table.index.name or 'parameter 1'} "
           f"(rows) and {table.columns.name or 'parameter 2'} (columns), other parameters at base values"
           f"{'; diverging colours centred on zero' if cmap == DIVERGING_CMAP else ''}.")
    return _finish(fig, created, cap, source or f"simsrc {__version__}")


