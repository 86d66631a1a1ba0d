"""Effect bars: median and 5-95% interval by region or by scenario."""

from __future__ import annotations


import numpy as np
import pandas as pd

from ..errors import SimsrcError, unknown_name_message
from ..results import DRAW_OUTPUTS
from .style import CF_SUFFIX, DASH, REGION_COLORS, SERIES_COLORS, _axes, _finish, _styled, display_scale, is_comparison, mineral_name, output_unit, region_colors, scenario_title, source_line  # noqa: F401
from .data import _count_range, _guard_flat, _lower_first, _n_periods, _open, _value_axis_label, check_mineral, interval_table, period_text, quantity_name  # noqa: F401

# ---------------------------------------------------------------------------------------------
# effect bars

@_styled
def effect_bars(data: pd.DataFrame, unit: str, ax=None, *, ylabel: str | None = None,
                title: str | None = None, colors=None, caption: str | None = None,
                source: str | None = None, zero_line: bool = True, change: bool = False):
    """Bar chart of point values with intervals, across regions or scenarios.

    Parameters
    ----------
    data : pandas.DataFrame
        Columns ``label`` (or ``region``), ``value`` (bar height, e.g. the mean effect),
        ``low`` and ``high`` (interval bounds), in ``unit``.
    unit : str
        Unit of the values (``USD/kg``, ``USD``, ``share`` ...); USD and tonnes are scaled to
        thousands/millions, shares shown in %.
    ax : matplotlib.axes.Axes, or a Figure or SubFigure, optional
        Axes to draw on, or a (sub)figure to fill; a new 6.5 x 4 in figure when None.
    ylabel : str, optional
        Y axis label without unit (the unit is appended).
    title : str, optional
        Axes title.
    colors : list or dict, optional
        Bar colours (default: region colours when labels are regions, else series colours).
    caption : str, optional
        Caption text (what, statistic, units) stored on the figure and drawn as footer.
    source : str, optional
        Source line for the footer.
    zero_line : bool
        Draw a line at zero.
    change : bool
        The values are differences (shares then shown in percentage points).

    Returns
    -------
    matplotlib.figure.Figure
        Bars have gid ``bar:<label>``; heights are values x display factor.
    """
    d = data.rename(columns={"region": "label"}) if "label" not in data else data
    labels = [str(x) for x in d["label"]]
    fig, ax, created = _axes(ax)
    factor, ulabel = display_scale(unit, d[["value", "low", "high"]].to_numpy(), change)
    v, lo, hi = (d[c].to_numpy(dtype=float) * factor for c in ("value", "low", "high"))
    if colors is None:
        rc = region_colors(labels)
        colors = [rc[x] for x in labels] if set(labels) & set(REGION_COLORS) else \
            [SERIES_COLORS[k % len(SERIES_COLORS)] for k in range(len(labels))]
    elif isinstance(colors, dict):
        colors = [colors[x] for x in labels]
    x = np.arange(len(labels))
    bars = ax.bar(x, np.nan_to_num(v), color=colors, width=0.62, edgecolor="#333333", linewidth=0.4)
    for b, lab in zip(bars.patches, labels):
        b.set_gid(f"bar:{lab}")
    err = np.vstack([np.clip(v - lo, 0, None), np.clip(hi - v, 0, None)])
    ax.errorbar(x, v, yerr=err, fmt="none", ecolor="#222222", elinewidth=0.9, capsize=3,
                gid="interval")
    for k, val in enumerate(v):
        if not np.isfinite(val):
            ax.text(x[k], 0, "n/a", ha="center", va="bottom", fontsize=7)
    if zero_line:
        ax.axhline(0, color="#444444", lw=0.7)
    _guard_flat(ax, np.r_[v, lo, hi])
    ax.set_xticks(x, labels)
    ax.grid(axis="x", visible=False)
    ax.set_ylabel(f"{ylabel or 'Value'} ({ulabel})")
    if title:
        ax.set_title(title, loc="left")
    return _finish(fig, created, caption or f"Values in {ulabel} with intervals.", source)


#: Words for the central statistic of bars and tables.
_STAT_WORDS = {"mean": "mean", "median": "median"}


def _check_stat(stat):
    if stat not in _STAT_WORDS:
        raise SimsrcError(unknown_name_message("statistic", str(stat), _STAT_WORDS))
    return stat


@_styled
def region_effects(results, output: str = "consumer_price", mineral: str | None = None,
                   regions=None, period="mean", ax=None, stat: str = "mean"):
    """Bars of an output (or its change, for a comparison) by region with 90% intervals.

    Parameters
    ----------
    results : Results or path
        A results or comparison folder.
    output : str
        A per-period output (summarised by ``period``) or a per-draw output such as
        ``npv_net_welfare`` (USD).
    mineral : str, optional
        Mineral code (default: the first).
    regions : list of str, optional
        Regions (default: all).
    period : {"mean", "last"} or int or str
        See :func:`interval_table`.
    ax : matplotlib.axes.Axes, or a Figure or SubFigure, optional
        Axes to draw on, or a (sub)figure to fill; a new figure when None.
    stat : {"mean", "median"}
        Bar height: the mean across draws (the expected effect; the default, since with
        event-driven policies the median is often exactly 0) or the median.

    Returns
    -------
    matplotlib.figure.Figure
        Bar heights are ``stat`` of :func:`interval_table` x the display factor.
    """
    r = _open(results)
    mineral = check_mineral(r, mineral)
    t = interval_table(r, output, mineral, regions, period)
    t["value"] = t[_check_stat(stat)]
    m = r.manifest
    unit = output_unit(output, m, mineral)
    comparison = is_comparison(m)
    when = "" if output in DRAW_OUTPUTS else ", " + period_text(period, m, _n_periods(r, mineral))
    factor, ulabel = display_scale(unit, t[["value", "low", "high"]].to_numpy(), comparison)
    ylab = _value_axis_label(output, ulabel, comparison).rsplit(" (", 1)[0]
    name = quantity_name(output)
    cap = (f"{name}{' change' + CF_SUFFIX if comparison else ''} "
           f"of {mineral_name(m, mineral)} by region{when}, {ulabel}: {stat} (bar) and 90% interval (5th\u201395th "
           f"percentile) across draws; n = {_count_range(t['n'][t['n'] > 0])} converged draws.")
    if (t["n"] == 0).any():
        cap += (f" n/a ({', '.join(t.loc[t['n'] == 0, 'region'])}): not defined in any draw "
                f"(e.g. no consumption).")
    if output in DRAW_OUTPUTS and m.get("discount_rate") is not None:
        cap += f" Discount rate {m['discount_rate']:.1%}/yr."
    return effect_bars(t, unit, ax=ax, ylabel=ylab, title=f"{mineral_name(m, mineral)}: {_lower_first(name)}{when}",
                       caption=cap, source=source_line(m), change=comparison)


@_styled
def scenario_effects(results_list, output: str = "consumer_price", mineral: str | None = None,
                     region: str = "USA", period="mean", labels=None, ax=None, stat: str = "mean"):
    """Bars of one output in one region across several results or comparison folders.

    Parameters
    ----------
    results_list : sequence of Results or paths
        Folders to compare (e.g. the comparisons of several policies with one counterfactual).
    output : str
        Output (see :func:`interval_table`).
    mineral : str, optional
        Mineral code (default: the first of the first folder).
    region : str
        Region code.
    period : {"mean", "last"} or int or str
        See :func:`interval_table`.
    labels : list of str, optional
        Bar labels (default: each folder's scenario title).
    ax : matplotlib.axes.Axes, or a Figure or SubFigure, optional
        Axes to draw on, or a (sub)figure to fill; a new figure when None.
    stat : {"mean", "median"}
        Bar height (see :func:`region_effects`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    rs = [_open(x) for x in results_list]
    _check_stat(stat)
    mineral = check_mineral(rs[0], mineral)
    rows = []
    for k, r in enumerate(rs):
        t = interval_table(r, output, mineral, [region], period).iloc[0]
        rows.append({"label": labels[k] if labels else scenario_title(r.manifest), "value": t[stat],
                     "low": t["low"], "high": t["high"]})
    d = pd.DataFrame(rows)
    m = rs[0].manifest
    unit = output_unit(output, m, mineral)
    comparison = all(is_comparison(r.manifest) for r in rs)
    factor, ulabel = display_scale(unit, d[["value", "low", "high"]].to_numpy(), comparison)
    when = "" if output in DRAW_OUTPUTS else ", " + period_text(period, m, _n_periods(rs[0], mineral))
    cap = (f"{quantity_name(output)}{' change' if comparison else ''} of {mineral_name(m, mineral)} in {region}{when}, "
           f"{ulabel}, by scenario: {stat} (bar) and 90% interval (5th{DASH}95th percentile) across draws.")
    src = "; ".join(dict.fromkeys(source_line(r.manifest) for r in rs))
    return effect_bars(d, unit, ax=ax, ylabel=_value_axis_label(output, ulabel, comparison).rsplit(" (", 1)[0],
                       title=f"{mineral_name(m, mineral)}: {_lower_first(quantity_name(output))}, {region}", caption=cap,
                       source=src, change=comparison)


