"""Welfare distributions: NPV components per draw."""

from __future__ import annotations


import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.patches import Patch

from .style import CF_SUFFIX, OKABE_ITO, SERIES_COLORS, WELFARE_COMPONENTS, _MPL_310, _axes, _finish, _line_color, _styled, display_scale, is_comparison, mineral_name, output_label, source_line  # noqa: F401
from .data import _draws, _open, check_mineral, check_regions  # noqa: F401

# ---------------------------------------------------------------------------------------------
# welfare distributions

def welfare_components(results, mineral: str | None = None, region: str = "USA") -> pd.DataFrame:
    """Per-draw NPV welfare components of one region, signed as they enter net welfare.

    Parameters
    ----------
    results : Results or path
    mineral : str, optional
        Mineral code (default: the first).
    region : str
        Region code.

    Returns
    -------
    pandas.DataFrame
        One row per converged draw, one column per component of :data:`WELFARE_COMPONENTS`
        present in the folder (costs negated: floor fiscal cost, stockpile purchases), in USD.
    """
    r = _open(results)
    mineral = check_mineral(r, mineral)
    check_regions(r, mineral, [region])
    d = _draws(r)
    d = d[(d["mineral"] == mineral) & (d["region"] == region)]
    if "converged_share" in d:
        d = d[d["converged_share"] >= 1.0]
    return pd.DataFrame({c: sign * d[c].to_numpy(dtype=np.float64) for c, sign in WELFARE_COMPONENTS
                         if c in d.columns}, index=d["draw"].to_numpy())


@_styled
def welfare_distribution(results, mineral: str | None = None, region: str = "USA", ax=None,
                         drop_zero: bool = True, max_points: int = 400):
    """Distributions of the NPV welfare components of one region across draws.

    Horizontal box plots (box: 25th-75th percentile, line: median, whiskers: 5th-95th,
    diamond: mean) with the draws as dots, one row per component and net welfare last.

    Parameters
    ----------
    results : Results or path
        A results or comparison folder (a comparison shows paired differences).
    mineral : str, optional
        Mineral code (default: the first).
    region : str
        Region code.
    ax : matplotlib.axes.Axes, or a Figure or SubFigure, optional
        Axes to draw on, or a (sub)figure to fill; a new 6.5 x 4 in figure when None.
    drop_zero : bool
        Omit components that are zero in every draw (e.g. levy revenue without a levy).
    max_points : int
        At most this many draws are drawn as dots (the first ones).

    Returns
    -------
    matplotlib.figure.Figure
        Median lines have gid ``median:<component>``; values in display units (USD million
        or billion as needed).
    """
    r = _open(results)
    mineral = check_mineral(r, mineral)
    w = welfare_components(r, mineral, region)
    cols = [c for c in w.columns if not (drop_zero and c != "npv_net_welfare" and np.allclose(w[c], 0))]
    dropped = [output_label(c).lower() for c in w.columns if c not in cols]
    fig, ax, created = _axes(ax)
    factor, ulabel = display_scale("USD", w.to_numpy())
    stats, names = [], []
    for c in cols:
        v = w[c].to_numpy() * factor
        v = v[np.isfinite(v)]
        p5, q1, med, q3, p95 = np.percentile(v, [5, 25, 50, 75, 95]) if v.size else [np.nan] * 5
        name = ("\u2212 " if dict(WELFARE_COMPONENTS)[c] < 0 else "") + output_label(c)
        names.append(name)
        stats.append({"med": med, "q1": q1, "q3": q3, "whislo": p5, "whishi": p95,
                      "mean": v.mean() if v.size else np.nan, "label": name})
    pos = np.arange(len(cols))[::-1]
    colors = [OKABE_ITO["black"] if c == "npv_net_welfare" else SERIES_COLORS[k % len(SERIES_COLORS)]
              for k, c in enumerate(cols)]
    orient = {"orientation": "horizontal"} if _MPL_310 else {"vert": False}
    out = ax.bxp(stats, positions=pos, **orient, widths=0.55, showmeans=True,
                 showfliers=False, patch_artist=True,
                 meanprops=dict(marker="D", markerfacecolor="white", markeredgecolor="#222222", ms=4),
                 medianprops=dict(color="#111111", lw=1.4), whiskerprops=dict(lw=0.9),
                 capprops=dict(lw=0.9))
    for box, col, c in zip(out["boxes"], colors, cols):
        box.set_facecolor(col)
        box.set_alpha(0.45)
        box.set_edgecolor("#333333")
    for line, c in zip(out["medians"], cols):
        line.set_gid(f"median:{c}")
    n = len(w)
    jit = ((np.arange(min(n, max_points)) * 0.6180339887) % 1.0 - 0.5) * 0.5
    for p, c, col in zip(pos, cols, colors):
        v = w[c].to_numpy()[:max_points] * factor
        ax.scatter(v, p + jit[:len(v)], s=3, color=_line_color(col), alpha=0.55, lw=0, zorder=3)
    ax.axvline(0, color="#444444", lw=0.7)
    ax.set_yticks(pos, names)
    ax.grid(axis="y", visible=False)
    comparison = is_comparison(r.manifest)
    ax.set_xlabel(f"NPV{' change' if comparison else ''} ({ulabel})")
    ax.set_title(f"{mineral_name(r.manifest, mineral)}: NPV welfare components, {region}", loc="left")
    ax.legend(handles=[Patch(facecolor="#BBBBBB", edgecolor="#333333", label="25th\u201375th percentile"),
                       mpl.lines.Line2D([], [], color="#111111", label="median"),
                       mpl.lines.Line2D([], [], color="#333333", marker="|", ms=8, label="5th\u201395th"),
                       mpl.lines.Line2D([], [], color="#222222", marker="D", ls="none", mfc="white", ms=4,
                                        label="mean")], loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=4)
    m = r.manifest
    rate = m.get("discount_rate")
    cap = (f"Net present value of welfare components for {region} ({mineral_name(r.manifest, mineral)}), {ulabel}"
           f"{CF_SUFFIX if comparison else ', against the baseline price path'}"
           f"{f', discounted at {rate:.1%}/yr' if rate is not None else ''}; {n} converged draws"
           f"{f' (dots: first {max_points})' if n > max_points else ' (dots)'}.")
    if dropped:
        cap += f" Zero in every draw, not shown: {', '.join(dropped)}."
    return _finish(fig, created, cap, source_line(m))


