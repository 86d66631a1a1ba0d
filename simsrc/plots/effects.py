"""Effect bars: median and 5-95% interval by region or by scenario."""

from __future__ import annotations

import textwrap


import numpy as np
import pandas as pd

from ..errors import SimsrcError, unknown_name_message
from ..results import DRAW_OUTPUTS
from ..numbers import fmt, fmt_signed, tick_formatter
from .style import CF_SUFFIX, DASH, REGION_COLORS, SERIES_COLORS, _axes, _finish, _styled, display_scale, is_comparison, mineral_name, output_unit, region_colors, scenario_title, source_line  # noqa: F401
from .data import _count_range, _guard_flat, _lower_first, _n_periods, _open, _value_axis_label, check_mineral, check_regions, interval_table, period_text, quantity_name  # noqa: F401

# ---------------------------------------------------------------------------------------------
# effect bars

@_styled
def effect_bars(data: pd.DataFrame, unit: str, ax=None, *, ylabel: str | None = None,
                title: str | None = None, colors=None, caption: str | None = None,
                source: str | None = None, zero_line: bool = True, change: bool = False, notes=None):
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
    notes : list of str, optional
        A short text per bar written beside its interval (e.g. the effect in percent of the
        counterfactual).

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
    if notes is not None:
        for k, text in enumerate(notes):
            if text and np.isfinite(v[k]):
                top = np.nanmax([v[k], hi[k]]) if np.isfinite(hi[k]) else v[k]
                ax.annotate(text, (x[k], top), xytext=(0, 2), textcoords="offset points", ha="center",
                            va="bottom", fontsize=6.5, color="#333333", gid=f"note:{labels[k]}")
        ax.margins(y=0.12)
    _guard_flat(ax, np.r_[v, lo, hi])
    ax.set_xticks(x, labels)
    ax.grid(axis="x", visible=False)
    ax.set_ylabel(f"{ylabel or 'Value'} ({ulabel})")
    if title:  # long mineral names: two lines rather than a title cut at the figure's edge
        ax.set_title("\n".join(textwrap.wrap(title, 75)), loc="left")
    return _finish(fig, created, caption or f"Values in {ulabel} with intervals.", source)


#: Words for the central statistic of bars and tables.
_STAT_WORDS = {"mean": "mean", "median": "median"}


def _check_stat(stat):
    if stat not in _STAT_WORDS:
        raise SimsrcError(unknown_name_message("statistic", str(stat), _STAT_WORDS))
    return stat


@_styled
def region_effects(results, output: str = "consumer_price", mineral: str | None = None,
                   regions=None, period="mean", ax=None, stat: str = "median"):
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
    stat : {"median", "mean"}
        Bar height: the median across draws (the headline statistic, docs/model.md sec. 6;
        the default) or the mean.

    Returns
    -------
    matplotlib.figure.Figure
        Bar heights are ``stat`` of :func:`interval_table` x the display factor. For a
        comparison's headline measures (horizon means of prices, production and import
        reliance, welfare NPVs) the median and interval are those of
        :func:`simsrc.headline.effects` (what `compare` prints and headline.csv holds), and
        each bar is labelled with the effect in percent of the counterfactual where it has a
        level; ``fig.simsrc_data`` holds the table drawn.
    """
    r = _open(results)
    mineral = check_mineral(r, mineral)
    _check_stat(stat)
    t = _headline_table(r, output, mineral, regions) if (
        stat == "median" and is_comparison(r.manifest) and period in (None, "mean")) else None
    notes = None
    if t is None:
        t = interval_table(r, output, mineral, regions, period)
    else:
        notes = [fmt_signed(p, typeset=True, unit="%") if np.isfinite(p) else "" for p in t["pct"]]
        if not any(notes):
            notes = None
    t["value"] = t[stat]
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
    if notes:
        cap += " Labels: the median effect in percent of the counterfactual's level in the same draw."
    fig = effect_bars(t, unit, ax=ax, ylabel=ylab, title=f"{mineral_name(m, mineral)}: {_lower_first(name)}{when}",
                      caption=cap, source=source_line(m), change=comparison, notes=notes)
    fig.simsrc_data = t
    return fig


def _headline_table(r, output, mineral, regions):
    """The bars of a comparison's headline measure from simsrc.headline.effects, in the
    output's own unit (USD, share, price unit), or None when ``output`` is not one."""
    from .. import headline as H

    measure = H.measure_of_output(output)
    if measure is None or not (r.path / "draws_scenario.parquet").exists():
        return None  # not a headline measure, or a folder without each side's per-draw scalars
    regions = check_regions(r, mineral, regions)
    eff = H.effects(r.path, regions=regions, minerals=[mineral])
    eff = eff[eff["measure"] == measure].set_index("region")
    rows = []
    for reg in regions:
        if reg in eff.index:
            e = eff.loc[reg]
            f = H.UNIT_FACTORS.get(e["unit"], 1.0)
            rows.append((reg, e["mean"] / f, e["median"] / f, e["p5"] / f, e["p95"] / f, int(e["n"]), e["pct_median"]))
        else:
            rows.append((reg, np.nan, np.nan, np.nan, np.nan, 0, np.nan))
    return pd.DataFrame(rows, columns=["region", "mean", "median", "low", "high", "n", "pct"])


@_styled
def scenario_effects(results_list, output: str = "consumer_price", mineral: str | None = None,
                     region: str = "USA", period="mean", labels=None, ax=None, stat: str = "median"):
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




@_styled
def mineral_effects(results, measure: str = "consumer price", region: str = "USA", minerals=None,
                    percent: bool = True, ax=None):
    """One headline measure of one region across minerals: median (bar) and 5-95% interval.

    The key figure of a report's summary page. For a comparison, the paired effect of
    :func:`simsrc.headline.effects` (in percent of the counterfactual when ``percent`` and the
    measure has a level, else in its unit); for a run, the outcome of
    :func:`simsrc.headline.run_headline` (e.g. ``import reliance`` in the last period, %).

    Returns
    -------
    matplotlib.figure.Figure
        Bars have gid ``bar:<mineral>``; ``fig.simsrc_data`` holds the table drawn.
    """
    from .. import headline as H

    r = _open(results)
    m = r.manifest
    comparison = is_comparison(m)
    minerals = list(minerals) if minerals else list(m["minerals"])
    if comparison:
        t = H.effects(r.path, regions=[region], minerals=minerals)
    else:
        t = H.run_headline(r.path, [region], minerals)
    t = t[t["measure"] == measure]
    if comparison and percent and t["pct_median"].notna().any():
        t = t.assign(median=t["pct_median"], p5=t["pct_p5"], p95=t["pct_p95"], unit="%")
    t = t.drop_duplicates("mineral")
    units = sorted(set(t["unit"]))
    unit = units[0] if len(units) == 1 else ""
    d = pd.DataFrame({"label": [mineral_name(m, x) for x in t["mineral"]], "value": t["median"].to_numpy(),
                      "low": t["p5"].to_numpy(), "high": t["p95"].to_numpy()})
    period = t["period"].iloc[0] if len(t) else ""
    what = f"{'Change in ' if comparison else ''}{region} {measure}"
    ulab = display_scale(unit or "", d[["value", "low", "high"]].to_numpy(), comparison)[1]
    cap = (f"{what} by mineral, {period}, {ulab}"
           f"{' of the counterfactual in the same draw' if unit == '%' and comparison else ''}: median (bar) "
           f"and 5th{DASH}95th percentile interval across draws"
           f"{f' (scenario {chr(0x2212)} counterfactual, paired draws)' if comparison else ''}.")
    fig, ax, created = _axes(ax, height=max(2.4, 0.9 + 0.28 * len(d)))
    factor, ulabel = display_scale(unit or "", d[["value", "low", "high"]].to_numpy(), comparison)
    y = np.arange(len(d))[::-1]
    v, lo, hi = (d[c].to_numpy(dtype=float) * factor for c in ("value", "low", "high"))
    bars = ax.barh(y, np.nan_to_num(v), color=SERIES_COLORS[0], height=0.6, edgecolor="#333333", linewidth=0.4)
    for b, lab in zip(bars.patches, t["mineral"]):
        b.set_gid(f"bar:{lab}")
    ax.errorbar(v, y, xerr=np.vstack([np.clip(v - lo, 0, None), np.clip(hi - v, 0, None)]), fmt="none",
                ecolor="#222222", elinewidth=0.9, capsize=2.5, gid="interval")
    for k in range(len(d)):
        if np.isfinite(v[k]):
            edge = np.nanmax([hi[k], v[k]]) if v[k] >= 0 else np.nanmin([lo[k], v[k]])
            ax.annotate(fmt_signed(v[k], typeset=True, unit="%" if ulabel == "%" else None) if comparison
                        else fmt(v[k], typeset=True, unit="%" if ulabel == "%" else None),
                        (edge, y[k]), xytext=(3 if v[k] >= 0 else -3, 0), textcoords="offset points",
                        ha="left" if v[k] >= 0 else "right", va="center", fontsize=6.5, color="#333333")
    ax.axvline(0, color="#444444", lw=0.7)
    ax.set_yticks(y, d["label"])
    ax.grid(axis="y", visible=False)
    ax.xaxis.set_major_formatter(tick_formatter())
    ax.margins(x=0.12)
    ax.set_xlabel(f"{what[:1].upper() + what[1:]} ({ulabel})")
    ax.set_title(f"{what[:1].upper() + what[1:]}, {period}", loc="left")
    fig = _finish(fig, created, cap, source_line(m))
    fig.simsrc_data = t
    return fig
