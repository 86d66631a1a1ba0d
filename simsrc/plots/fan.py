"""Fan charts: median and 50%/90% bands of an output over time, one panel per region."""

from __future__ import annotations

import math

import matplotlib as mpl
import numpy as np
from matplotlib.patches import Patch

from .. import outputs as _registry
from ..errors import SimsrcError
from ..results import DRAW_OUTPUTS, OUTPUTS
from ..numbers import fmt
from .style import choose_scales, is_constant
from .style import CF_SUFFIX, DASH, FIG_HEIGHT, FIG_WIDTH, _axes, _container, _finish, _line_color, _set_period_axis, _styled, caption_of, display_scale, is_comparison, mineral_name, output_label, output_unit, region_colors, source_line  # noqa: F401
from .data import _count_range, _guard_flat, _lower_first, _open, _summary, _value_axis_label, check_mineral, check_output, check_regions, quantity_name, regions_of  # noqa: F401

# ---------------------------------------------------------------------------------------------
# fan charts

def _fan_data(r, output, mineral, region):
    s = _summary(r)
    s = s[(s["mineral"] == mineral) & (s["output"] == output) & (s["region"] == region)]
    return s.sort_values("period")


@_styled
def fan_chart(results, output: str = "consumer_price", mineral: str | None = None, regions=None,
              ax=None, title: str | None = None, scale: tuple[float, str] | None = None, log: bool = False):
    """Fan chart of a per-period output over time: median with 50% and 90% bands.

    Parameters
    ----------
    results : Results or path
        A results or comparison folder (a comparison shows paired differences).
    output : str
        A per-period output, e.g. ``consumer_price`` (mineral's price unit, e.g. USD/kg) or
        ``net_import_reliance`` (share, shown in %).
    mineral : str, optional
        Mineral code (default: the first).
    regions : str or list of str, optional
        Regions drawn on the one axes (default: all; more than three get crowded, see
        :func:`fan_grid`).
    ax : matplotlib.axes.Axes, or a Figure or SubFigure, optional
        Axes to draw on, or a (sub)figure to fill; a new 6.5 x 4 in figure when None.
    title : str, optional
        Axes title (default: mineral, output and region).
    scale : (float, str), optional
        Display factor and unit label (default: :func:`display_scale` of the values drawn).
    log : bool
        Logarithmic y axis (for positive values with a heavy upper tail).

    Returns
    -------
    matplotlib.figure.Figure
        Median lines have gid ``median:<region>``, 90% bands ``band90:<region>`` and 50%
        bands ``band50:<region>``, all in display units (shares in %).
    """
    r = _open(results)
    mineral = check_mineral(r, mineral)
    regions = check_regions(r, mineral, regions)
    output = check_output(r, output)
    if output in DRAW_OUTPUTS:
        raise SimsrcError(f"{output} is a per-draw output; a fan chart needs a per-period output "
                          f"(one of {', '.join(o for o in OUTPUTS if o not in _registry.FLAGS)})")
    fig, ax, created = _axes(ax)
    m = r.manifest
    unit = output_unit(output, m, mineral)
    frames = {reg: _fan_data(r, output, mineral, reg) for reg in regions}
    allv = np.concatenate([f[["p5", "p95"]].to_numpy().ravel() for f in frames.values()])
    comparison = is_comparison(m)
    factor, ulabel = scale or display_scale(unit, allv, comparison)
    colors = region_colors(regions_of(r, mineral))
    n = max(len(f) for f in frames.values())
    for reg, f in frames.items():
        x = f["period"].to_numpy()
        c = colors[reg]
        ax.fill_between(x, f["p5"] * factor, f["p95"] * factor, color=c, alpha=0.18, lw=0,
                        gid=f"band90:{reg}")
        ax.fill_between(x, f["p25"] * factor, f["p75"] * factor, color=c, alpha=0.38, lw=0,
                        gid=f"band50:{reg}")
        ax.plot(x, f["p50"].to_numpy() * factor, color=_line_color(c), gid=f"median:{reg}",
                label=reg)
    if comparison and not log:
        ax.axhline(0, color="#444444", lw=0.7, zorder=1)
    if log:
        ax.set_yscale("log")
    if len(ax.get_shared_y_axes().get_siblings(ax)) == 1:  # a shared axis is guarded by its owner
        _guard_flat(ax, allv * factor)
    _set_period_axis(ax, m.get("horizon"), n)
    ax.set_ylabel(_value_axis_label(output, ulabel, comparison))
    where = regions[0] if len(regions) == 1 else ", ".join(regions)
    ax.set_title(title if title is not None else f"{mineral_name(m, mineral)}: {_lower_first(quantity_name(output))}, {where}",
                 loc="left")
    grey = "#777777"
    handles = [ln for ln in ax.lines if str(ln.get_gid()).startswith("median:")][-len(regions):]
    if len(regions) == 1:
        handles[0].set_label("median")
    handles += [Patch(color=grey, alpha=0.5, lw=0, label="50% band"),
                Patch(color=grey, alpha=0.2, lw=0, label="90% band")]
    ax.legend(handles=handles, loc="best", ncols=1 if len(handles) <= 4 else 2)
    ns = np.concatenate([f["n"].to_numpy() for f in frames.values()])
    empty = [reg for reg, f in frames.items() if not (f["n"] > 0).any()]
    for reg in empty if len(regions) == 1 else []:
        ax.text(0.5, 0.5, "not defined in any draw\n(e.g. no consumption)", transform=ax.transAxes,
                ha="center", va="center", fontsize=7, color="#666666")
    cap = (f"{output_label(output)} of {mineral_name(m, mineral)}{CF_SUFFIX if comparison else ''}, {ulabel}: median "
           f"(line), 50% and 90% bands (25th{DASH}75th and 5th{DASH}95th percentiles) across draws; "
           f"{_count_range(ns[ns > 0])} converged draws per period.")
    return _finish(fig, created, cap, source_line(m))


def fan_grid_shape(n_regions: int, ncols: int | None = None) -> tuple[int, int, float]:
    """Rows, columns and figure height (in) of :func:`fan_grid` for ``n_regions`` panels."""
    ncols = ncols or (2 if n_regions <= 4 else 3)
    nrows = math.ceil(n_regions / ncols)
    return nrows, ncols, max(FIG_HEIGHT, 1.25 + 1.55 * nrows)


@_styled
def fan_grid(results, output: str = "consumer_price", mineral: str | None = None, regions=None,
             ax=None, ncols: int | None = None, sharey: bool | None = None, yscale: str = "auto",
             drop_constant: bool = True):
    """Small multiples of fan charts, one panel per region.

    Parameters
    ----------
    results : Results or path
        A results or comparison folder.
    output : str
        A per-period output (see :func:`fan_chart`).
    mineral : str, optional
        Mineral code (default: the first).
    regions : list of str, optional
        Regions (default: all).
    ax : sequence of matplotlib.axes.Axes, or a Figure or SubFigure, optional
        One axes per region, or a (sub)figure to fill with the panels; a new figure (6.5 in
        wide, 1.55 in per row, see :func:`fan_grid_shape`) when None.
    ncols : int, optional
        Panels per row (default 2 up to 4 regions, else 3).
    sharey : bool, optional
        Deprecated spelling of ``yscale``: True is ``shared``, False ``per-panel``.
    yscale : {"auto", "shared", "per-panel", "log"}
        ``auto`` (default, :func:`choose_scales`): one linear axis when the panels' ranges are
        within an order of magnitude; else each panel its own axis, logarithmic where a
        positive band spans more than an order of magnitude (a heavy tail that would flatten
        the median). The caption says which.
    drop_constant : bool
        Leave out panels whose series is constant in every draw (e.g. import reliance 100%
        throughout); the caption names them and their value.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.simsrc_scales`` records the layout (``shared`` or ``per-panel``), the log panels
        and the dropped ones.
    """
    if sharey is not None and yscale == "auto":
        yscale = "shared" if sharey else "per-panel"
    r = _open(results)
    mineral = check_mineral(r, mineral)
    regions = check_regions(r, mineral, regions)
    output = check_output(r, output)
    data = {reg: _fan_data(r, output, mineral, reg) for reg in regions}
    unit = output_unit(output, r.manifest, mineral)
    allv = np.concatenate([f[["p5", "p95"]].to_numpy().ravel() for f in data.values()])
    scale = display_scale(unit, allv, is_comparison(r.manifest))  # one unit
    dropped, undefined = {}, []
    if drop_constant:
        for reg, f in data.items():
            v = f[["p5", "p50", "p95"]].to_numpy().ravel()
            if len(regions) - len(dropped) - len(undefined) <= 1:
                break
            if not (f["n"] > 0).any():
                undefined.append(reg)
            elif is_constant(v):
                dropped[reg] = float(np.nanmedian(v)) * scale[0]
        regions = [reg for reg in regions if reg not in dropped and reg not in undefined]
    layout, logs = choose_scales({reg: data[reg][["p5", "p50", "p95"]].to_numpy().ravel() * scale[0]
                                  for reg in regions}, yscale)
    shared = layout == "shared"
    nrows, ncols, height = fan_grid_shape(len(regions), ncols)
    fig, owned, created = _container(ax, FIG_WIDTH, height)
    if owned:
        axs = fig.subplots(nrows, ncols, sharex=True, sharey=shared, squeeze=False).ravel()
        for a in axs[len(regions):]:
            a.set_visible(False)
    else:
        axs = np.atleast_1d(ax).ravel()
        if len(axs) < len(regions):
            raise ValueError(f"need {len(regions)} axes, got {len(axs)}")
        fig = axs[0].figure
        for a in axs[len(regions):]:
            a.set_visible(False)
        if shared:
            for a in axs[1:len(regions)]:
                a.sharey(axs[0])
    for a, reg in zip(axs, regions):
        fan_chart(r, output, mineral, [reg], ax=a, title=reg, scale=scale, log=logs[reg])
        a.get_legend().remove()
        a.set_title(reg + (" (log scale)" if logs[reg] and not (shared and all(logs.values())) else ""),
                    loc="left", fontsize=8)
    ns = np.concatenate([data[reg]["n"].to_numpy() for reg in regions])
    comparison = is_comparison(r.manifest)
    cap = (f"{output_label(output)} of {mineral_name(r.manifest, mineral)}{CF_SUFFIX if comparison else ''}, "
           f"{scale[1]}: median (line), 50% and 90% bands (25th{DASH}75th and 5th{DASH}95th percentiles) across "
           f"draws; {_count_range(ns[ns > 0])} converged draws per period.")
    if shared:
        vals = np.concatenate([data[reg][["p5", "p95"]].to_numpy().ravel() for reg in regions]) * scale[0]
        _guard_flat(axs[0], vals)
    if owned:
        ylabel = axs[0].get_ylabel()
        for k, a in enumerate(axs[:len(regions)]):
            a.set_ylabel("")
            if k + ncols >= len(regions):  # lowest panel of its column: tick labels and x label
                a.xaxis.set_tick_params(labelbottom=True)
            else:
                a.set_xlabel("")
        fig.supylabel(ylabel, fontsize=8)
    if shared and all(logs.values()):
        cap += " Log scale, shared by the panels."
    elif shared:
        cap += " One y scale for all panels."
    else:
        nlog = [reg for reg in regions if logs[reg]]
        cap += (" Each panel has its own y scale (the regions' ranges differ by more than an order of magnitude"
                if yscale == "auto" and len(regions) > 1 else " Each panel has its own y scale (") + \
               (f"; log scale for {', '.join(nlog)}, whose 90% band spans more than a factor 10)." if nlog else ").")
    if dropped:
        ulabel = scale[1]
        cap += (" Not shown (the same value in every draw and period): "
                + "; ".join(f"{reg} {fmt(v, typeset=True)}{'' if ulabel == '%' else ' '}{ulabel}"
                            for reg, v in dropped.items()) + ".")
    if undefined:
        cap += f" Not defined in any draw (no consumption): {', '.join(undefined)}."
    fig.simsrc_caption = cap
    fig.simsrc_scales = {"layout": layout, "log": {k: bool(v) for k, v in logs.items()}, "dropped": dropped,
                         "regions": list(regions)}
    handles = [mpl.lines.Line2D([], [], color="#555555", label="median"),
               Patch(color="#777777", alpha=0.5, lw=0, label="50% band"),
               Patch(color="#777777", alpha=0.2, lw=0, label="90% band")]
    # the title heads the legend, so the two never overlap however long the mineral's name
    title = f"{mineral_name(r.manifest, mineral)}: {_lower_first(quantity_name(output))} by region" if owned else None
    fig.legend(handles=handles, loc="outside upper left", ncols=3, title=title, alignment="left",
               title_fontproperties={"weight": "bold", "size": 9}, borderaxespad=0.1)
    return _finish(fig, created, cap, source_line(r.manifest))
