"""Trade-flow charts: origin x destination matrices and supplier bars."""

from __future__ import annotations

import math

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm

from .. import __version__
from ..errors import SimsrcError, unknown_name_message
from ..numbers import fmt, tick_formatter
from .style import DIVERGING_CMAP, FIG_WIDTH, MINUS, OKABE_ITO, SEQUENTIAL_CMAP, _axes, _container, _finish, _styled, display_scale  # noqa: F401

# ---------------------------------------------------------------------------------------------
# trade flows

def _align_flows(baseline: pd.DataFrame, scenario: pd.DataFrame | None):
    origins = list(dict.fromkeys(list(baseline.index) + (list(scenario.index) if scenario is not None else [])))
    dests = list(dict.fromkeys(list(baseline.columns) + (list(scenario.columns) if scenario is not None else [])))
    b = baseline.reindex(index=origins, columns=dests).fillna(0.0).astype(float)
    s = None if scenario is None else scenario.reindex(index=origins, columns=dests).fillna(0.0).astype(float)
    return b, s


def _fmt(v, nd=None):
    """A cell value: 3 significant digits, thousands separators, no ``-0`` (simsrc.numbers)."""
    if not np.isfinite(v):
        return ""
    return fmt(v, decimals=nd, typeset=True) if nd is not None else fmt(v, typeset=True)


def _annotate(ax, values, norm, cmap, fmt=_fmt, fontsize=6.5):
    cm = mpl.colormaps[cmap]
    for (i, j), v in np.ndenumerate(values):
        if not np.isfinite(v):
            continue
        r, g, b, _ = cm(norm(v))
        dark = 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.5
        ax.text(j, i, fmt(v), ha="center", va="center", fontsize=fontsize,
                color="white" if dark else "#111111")


def _heatmap(ax, values, rows, cols, cmap, norm, annotate, cbar_label, fmt=_fmt, origin="upper",
             colorbar=True):
    im = ax.imshow(values, cmap=cmap, norm=norm, aspect="auto", origin=origin, interpolation="nearest")
    ax.set_xticks(range(len(cols)), [str(c) for c in cols])
    ax.set_yticks(range(len(rows)), [str(r) for r in rows])
    ax.grid(False)
    for s in ax.spines.values():
        s.set_visible(False)
    if annotate:
        _annotate(ax, values, norm, cmap, fmt)
    if colorbar:
        cb = ax.figure.colorbar(im, ax=ax, shrink=0.9, pad=0.02)
        cb.set_label(cbar_label)
        cb.outline.set_visible(False)
    return im


#: A flow matrix whose non-zero cells span more than this factor gets a log colour scale
#: (levels) or a symmetric-log one (changes): one dominant flow (China's domestic supply)
#: would otherwise leave every other cell at the bottom of a linear scale.
LOG_COLOR_RATIO = 100.0


def flow_norm(values, change: bool, vmax=None):
    """Colour normalisation of a flow matrix: (norm, cmap, scale word).

    Levels: linear from 0, or logarithmic when the positive cells span more than
    :data:`LOG_COLOR_RATIO` (zero cells left blank). Changes: diverging centred on zero,
    linear or symmetric-log by the same rule on the absolute changes.
    """
    v = np.asarray(values, dtype=float)
    nz = np.abs(v[np.isfinite(v) & (v != 0)])
    top = float(nz.max()) if nz.size else 1e-12
    if vmax is not None:
        top = max(float(vmax), 1e-12)
    wide = nz.size > 1 and top / max(float(nz.min()), 1e-300) > LOG_COLOR_RATIO
    if change:
        if wide:
            lin = max(top / 1e3, float(np.percentile(nz, 10)))
            return mpl.colors.SymLogNorm(lin, vmin=-top, vmax=top, base=10), DIVERGING_CMAP, "symmetric log"
        return TwoSlopeNorm(0, -top, top), DIVERGING_CMAP, "linear"
    if wide:
        return mpl.colors.LogNorm(max(top / 1e4, float(nz.min())), top), SEQUENTIAL_CMAP, "log"
    return mpl.colors.Normalize(0, top), SEQUENTIAL_CMAP, "linear"


def _flow_matrix(ax, values, rows, cols, change, ulabel, annotate, vmax=None, colorbar=True, ref=None):
    """Draw a flow matrix (display units): levels on a sequential map, changes on a diverging
    one, each on a log (symmetric-log) scale when the cells span more than a factor 100."""
    norm, cmap, word = flow_norm(values if ref is None else ref, change, vmax)
    label = f"{'Change in flow' if change else 'Flow'} ({ulabel}{', ' + word + ' scale' if word != 'linear' else ''})"
    shown = np.where(np.asarray(values, dtype=float) == 0, np.nan, values) if word == "log" else values
    im = _heatmap(ax, shown, rows, cols, cmap, norm, annotate, label, colorbar=colorbar)
    if colorbar and word != "linear":
        cb = im.colorbar
        if word == "symmetric log":  # 0 and whole decades outside the linear part, labels apart
            lo = math.ceil(math.log10(norm.linthresh * 10))
            hi = math.floor(math.log10(norm.vmax))
            dec = [10.0 ** k for k in range(lo, hi + 1)] or [norm.vmax]
            cb.set_ticks(sorted([-d for d in dec] + [0.0] + dec))
        cb.formatter = tick_formatter()
        cb.update_ticks()
    im.simsrc_scale = word
    if len(cols) > 6:  # region codes side by side would overlap
        for t in ax.get_xticklabels():
            t.set_rotation(90)
    ax.set_xlabel("Destination (importer)")
    ax.set_ylabel("Origin (exporter)")
    return im


@_styled
def flow_heatmap(baseline: pd.DataFrame, scenario: pd.DataFrame | None = None, title: str = "",
                 unit: str = "t/yr", ax=None, annotate: bool | None = None, source: str | None = None):
    """Origin x destination trade-flow matrix, or its change from baseline to scenario.

    Parameters
    ----------
    baseline : pandas.DataFrame
        Flows, origins as index and destinations as columns, in ``unit`` (annual rates).
    scenario : pandas.DataFrame, optional
        Flows in the scenario (same layout; missing pairs count as 0). When given, the map
        shows scenario - baseline on a diverging scale centred on zero.
    title : str
        Axes title (e.g. ``"NdPr oxide: flows in 2027Q4"``).
    unit : str
        Unit of the flows (``t/yr``).
    ax : matplotlib.axes.Axes, or a Figure or SubFigure, optional
        Axes to draw on, or a (sub)figure to fill; a new 6.5 x 4 in figure when None.
    annotate : bool, optional
        Write values in cells (default: when the matrix is at most 10 x 10).
    source : str, optional
        Source line for the footer.

    Returns
    -------
    matplotlib.figure.Figure
        The image (gid ``flows``) holds the drawn matrix in display units.
    """
    b, s = _align_flows(baseline, scenario)
    values = b.to_numpy() if s is None else (s - b).to_numpy()
    factor, ulabel = display_scale(unit, values)
    fig, ax, created = _axes(ax)
    annotate = annotate if annotate is not None else max(values.shape) <= 10
    im = _flow_matrix(ax, values * factor, list(b.index), list(b.columns), s is not None, ulabel, annotate)
    im.set_gid("flows")
    if title:
        ax.set_title(title, loc="left")
    what = "Bilateral flows" if s is None else f"Change in bilateral flows, scenario {MINUS} baseline"
    cap = (f"{what}, origin (rows) to destination (columns), {ulabel} (annual rates)"
           f"{'; red: fall, blue: rise' if s is not None else ''}"
           f"{'; colours on a ' + im.simsrc_scale + ' scale (cells span more than a factor 100)' if im.simsrc_scale != 'linear' else ''}.")
    return _finish(fig, created, cap, source or f"simsrc {__version__}")


@_styled
def flow_panels(baseline: pd.DataFrame, scenario: pd.DataFrame, title: str = "", unit: str = "t/yr",
                ax=None, source: str | None = None, reference: str = "baseline"):
    """Baseline flows, scenario flows and their change side by side, in one unit.

    Parameters
    ----------
    baseline, scenario : pandas.DataFrame
        Flows, origins as index and destinations as columns, in ``unit``.
    title : str
        Figure title.
    unit : str
        Unit of the flows (``t/yr``).
    ax : sequence of three matplotlib.axes.Axes, or a Figure or SubFigure, optional
        Axes for baseline, scenario and change, or a (sub)figure to fill; a new 6.5 x 3 in
        figure when None.
    source : str, optional
        Source line for the footer.
    reference : str
        What the first frame is, for titles and captions (``baseline``; a comparison's
        counterfactual).

    Returns
    -------
    matplotlib.figure.Figure
        Images have gid ``flows:baseline``, ``flows:scenario`` and ``flows:change``.
    """
    b, s = _align_flows(baseline, scenario)
    fig, owned, created = _container(ax, FIG_WIDTH, 3.0)
    if owned:
        axs = fig.subplots(1, 3)
    else:
        axs = list(ax)
        fig = axs[0].figure
    factor, ulabel = display_scale(unit, np.concatenate([b.to_numpy().ravel(), s.to_numpy().ravel()]))
    vmax = max(float(np.nanmax(b.to_numpy())), float(np.nanmax(s.to_numpy()))) * factor
    annotate = max(b.shape) <= 6
    rows, cols = list(b.index), list(b.columns)
    panels = (("baseline", b.to_numpy(), False), ("scenario", s.to_numpy(), False),
              ("change", (s - b).to_numpy(), True))
    levels = np.concatenate([b.to_numpy().ravel(), s.to_numpy().ravel()]) * factor
    words = set()
    for a, (name, values, change) in zip(axs, panels):
        im = _flow_matrix(a, values * factor, rows, cols, change, ulabel, annotate, vmax=vmax,
                          colorbar=name != "baseline", ref=None if change else levels)
        words.add(im.simsrc_scale)
        im.set_gid(f"flows:{name}")
        a.set_title((reference if name == "baseline" else name).capitalize(), loc="left", fontsize=8)
        a.tick_params(axis="both", labelsize=6.5)
        a.set_ylabel("Origin (exporter)" if name == "baseline" else "")
        a.set_xlabel("Destination (importer)" if name == "scenario" else "")
    if owned and title:
        fig.suptitle(title, x=0.012, ha="left", fontsize=9, fontweight="bold")
    cap = (f"Bilateral flows, origin (rows) to destination (columns), {ulabel} (annual rates): {reference}, "
           f"scenario and change (scenario {MINUS} {reference}; red: fall, blue: rise)"
           f"{'; colours on log scales where cells span more than a factor 100' if words - {'linear'} else ''}.")
    return _finish(fig, created, cap, source or f"simsrc {__version__}")


@_styled
def supplier_bars(baseline: pd.DataFrame, scenario: pd.DataFrame, destination: str = "USA",
                  unit: str = "t/yr", ax=None, title: str | None = None, source: str | None = None,
                  reference: str = "baseline"):
    """Who supplies one destination: flows from each origin, baseline vs scenario.

    Parameters
    ----------
    baseline, scenario : pandas.DataFrame
        Flows, origins as index and destinations as columns, in ``unit``.
    destination : str
        The importing region (a column of the frames).
    unit : str
        Unit of the flows (``t/yr``).
    ax : matplotlib.axes.Axes, or a Figure or SubFigure, optional
        Axes to draw on, or a (sub)figure to fill; a new 6.5 x 4 in figure when None.
    title : str, optional
        Axes title.
    source : str, optional
        Source line for the footer.
    reference : str
        Legend label of the first frame (``baseline``; a comparison's counterfactual).

    Returns
    -------
    matplotlib.figure.Figure
        Bars have gid ``baseline:<origin>`` and ``scenario:<origin>``.
    """
    b, s = _align_flows(baseline, scenario)
    if destination not in b.columns:
        raise SimsrcError(unknown_name_message("destination", destination, [str(c) for c in b.columns]))
    bv, sv = b[destination].to_numpy(), s[destination].to_numpy()
    factor, ulabel = display_scale(unit, np.concatenate([bv, sv]))
    fig, ax, created = _axes(ax)
    y = np.arange(len(b.index))[::-1]
    hb = ax.barh(y + 0.2, bv * factor, height=0.38, color="#BBBBBB", edgecolor="#555555", lw=0.4,
                 label=reference)
    hs = ax.barh(y - 0.2, sv * factor, height=0.38, color=OKABE_ITO["blue"], label="scenario")
    for o, pb, ps in zip(b.index, hb.patches, hs.patches):
        pb.set_gid(f"baseline:{o}")
        ps.set_gid(f"scenario:{o}")
    ax.set_yticks(y, [str(o) for o in b.index])
    ax.set_ylabel("Origin (exporter)")
    ax.set_xlabel(f"Flow to {destination} ({ulabel})")
    ax.grid(axis="y", visible=False)
    ax.legend(loc="best")
    ax.set_title(title or f"Who supplies {destination}", loc="left")
    tb, ts = bv.sum(), sv.sum()
    cap = (f"Flows from each origin to {destination}, {ulabel} (annual rates), {reference} and scenario; "
           f"total {_fmt(tb * factor)} \u2192 {_fmt(ts * factor)} {ulabel}.")
    return _finish(fig, created, cap, source or f"simsrc {__version__}")


