"""Sensitivity charts: tornado, Sobol indices, Morris screening (SALib's style: one
function per chart, each taking ``ax``)."""

from __future__ import annotations


import numpy as np
import pandas as pd

from .. import __version__
from ..errors import SimsrcError
from .style import FIG_HEIGHT, FIG_WIDTH, OKABE_ITO, _axes, _finish, _styled  # noqa: F401

# ---------------------------------------------------------------------------------------------
# sensitivity

def _outcome_label(outcome, unit):
    o = outcome or "Outcome"
    return f"{o} ({unit})" if unit else o


@_styled
def tornado(data: pd.DataFrame, unit: str | None = None, outcome: str | None = None,
            base: float | None = None, ax=None, max_params: int = 15, title: str | None = None,
            source: str | None = None):
    """Tornado chart: the outcome with each parameter at its low and high value, others at base.

    Parameters
    ----------
    data : pandas.DataFrame
        Columns ``parameter``, ``low`` (outcome with the parameter at its low value),
        ``high`` (at its high value), and ``base`` (outcome at base values) unless ``base``
        is given; optional ``low_value``/``high_value`` (the parameter values, shown in the
        labels).
    unit : str, optional
        Unit of the outcome (e.g. ``USD/kg``); shown on the axis.
    outcome : str, optional
        Name of the outcome (e.g. ``US consumer price, 2027 mean``).
    base : float, optional
        Outcome at base values (overrides the ``base`` column).
    ax : matplotlib.axes.Axes, or a Figure or SubFigure, optional
        Axes to draw on, or a (sub)figure to fill; a new figure when None.
    max_params : int
        Show at most this many parameters (largest swings).
    title : str, optional
        Axes title.
    source : str, optional
        Source line for the footer.

    Returns
    -------
    matplotlib.figure.Figure
        Bars run from base to the outcome, gid ``low:<parameter>`` and ``high:<parameter>``,
        sorted by swing ``|high - low|`` (largest on top).
    """
    need = {"parameter", "low", "high"} | (set() if base is not None else {"base"})
    missing = need - set(data.columns)
    if missing:
        raise SimsrcError(f"tornado data lack column(s) {sorted(missing)}; need parameter, low, high, base "
                          f"(optional low_value, high_value)")
    d = data.copy()
    b0 = float(base) if base is not None else float(d["base"].iloc[0])
    d["swing"] = (d["high"] - d["low"]).abs()
    d = d.sort_values("swing", ascending=False).head(max_params)
    fig, ax, created = _axes(ax, FIG_WIDTH, max(FIG_HEIGHT, 1.4 + 0.28 * len(d)))
    y = np.arange(len(d))[::-1]
    lows = ax.barh(y, d["low"] - b0, left=b0, height=0.6, color=OKABE_ITO["blue"],
                   label="parameter at low value")
    highs = ax.barh(y, d["high"] - b0, left=b0, height=0.6, color=OKABE_ITO["vermillion"],
                    label="parameter at high value", alpha=0.85)
    for p, pl, ph in zip(d["parameter"], lows.patches, highs.patches):
        pl.set_gid(f"low:{p}")
        ph.set_gid(f"high:{p}")
    labels = []
    for _, row in d.iterrows():
        lab = str(row["parameter"])
        if "low_value" in d and "high_value" in d and pd.notna(row["low_value"]):
            lab += f"\n[{row['low_value']:g}, {row['high_value']:g}]"
        labels.append(lab)
    ax.set_yticks(y, labels)
    ax.axvline(b0, color="#222222", lw=0.9)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(_outcome_label(outcome, unit))
    ax.legend(loc="lower right")
    ax.set_title(title or "One-at-a-time sensitivity", loc="left")
    cap = (f"{outcome or 'Outcome'}{f', {unit}' if unit else ''}, with one parameter at a time at its low "
           f"(blue) or high (red) value and the others at base (line at {b0:,.4g}); largest swings on top"
           f"{'; brackets: parameter range' if 'low_value' in d else ''}.")
    return _finish(fig, created, cap, source or f"simsrc {__version__}")


def _names(Si, names):
    if names is not None:
        return [str(n) for n in names]
    if isinstance(Si, pd.DataFrame):
        return [str(n) for n in (Si["parameter"] if "parameter" in Si else Si.index)]
    if "names" in Si:
        return [str(n) for n in Si["names"]]
    prob = getattr(Si, "problem", None)
    if prob and "names" in prob:
        return [str(n) for n in prob["names"]]
    raise SimsrcError("parameter names missing: pass names= or a dict with 'names'")


def _col(Si, key, n):
    if isinstance(Si, pd.DataFrame):
        if key not in Si:
            raise SimsrcError(f"sensitivity table lacks column {key!r}; has {list(Si.columns)}")
        return Si[key].to_numpy(dtype=float)
    if key not in Si:
        raise SimsrcError(f"sensitivity indices lack {key!r}; have {sorted(k for k in Si)}")
    v = np.asarray(Si[key], dtype=float).ravel()
    if v.size != n:
        raise SimsrcError(f"{key} has {v.size} values for {n} parameters")
    return v


@_styled
def sobol_indices(Si, names=None, ax=None, outcome: str | None = None, title: str | None = None,
                  max_params: int = 20, source: str | None = None):
    """First-order (S1) and total (ST) Sobol indices with confidence intervals.

    Parameters
    ----------
    Si : dict or pandas.DataFrame
        SALib's ``sobol.analyze`` result (keys ``S1``, ``S1_conf``, ``ST``, ``ST_conf``, and
        ``names`` or ``.problem["names"]``), or a frame with columns ``parameter, S1, S1_conf,
        ST, ST_conf``. Indices are shares of the outcome's variance (unitless).
    names : list of str, optional
        Parameter names (override).
    ax : matplotlib.axes.Axes, or a Figure or SubFigure, optional
        Axes to draw on, or a (sub)figure to fill; a new figure when None.
    outcome : str, optional
        Name of the outcome analysed.
    title : str, optional
        Axes title.
    max_params : int
        Show the parameters with the largest ST, at most this many.
    source : str, optional
        Source line for the footer.

    Returns
    -------
    matplotlib.figure.Figure
        Bars have gid ``S1:<name>`` and ``ST:<name>``.
    """
    nm = _names(Si, names)
    n = len(nm)
    d = pd.DataFrame({"name": nm, **{k: _col(Si, k, n) for k in ("S1", "S1_conf", "ST", "ST_conf")}})
    bad = d[["S1", "ST"]].isna().any(axis=1)
    d = d.sort_values("ST", ascending=False, na_position="last").head(max_params)
    fig, ax, created = _axes(ax, FIG_WIDTH, max(FIG_HEIGHT, 1.4 + 0.3 * len(d)))
    y = np.arange(len(d))[::-1]
    h = 0.38
    for off, key, col in ((h / 2, "S1", OKABE_ITO["blue"]), (-h / 2, "ST", OKABE_ITO["orange"])):
        bars = ax.barh(y + off, np.nan_to_num(d[key]), height=h, color=col,
                       label={"S1": "first order S1", "ST": "total ST"}[key],
                       xerr=np.nan_to_num(d[f"{key}_conf"]), error_kw=dict(lw=0.8, capsize=2, ecolor="#222222"))
        for p, name in zip(bars.patches, d["name"]):
            p.set_gid(f"{key}:{name}")
    ax.set_yticks(y, d["name"])
    ax.axvline(0, color="#444444", lw=0.7)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("Sobol index (share of output variance)")
    ax.legend(loc="lower right")
    ax.set_title(title or f"Sobol indices{f': {outcome}' if outcome else ''}", loc="left")
    cap = (f"Sobol sensitivity indices{f' of {outcome}' if outcome else ''} (unitless, share of variance): "
           f"first order S1 and total ST; error bars are SALib's confidence intervals (bootstrap, 95% by default).")
    if bad.any():
        cap += f" {int(bad.sum())} parameter(s) with undefined indices (NaN) shown as 0."
    return _finish(fig, created, cap, source or f"simsrc {__version__}")


def _place_labels(ax, xs, ys, labels, fontsize=6.5):
    """Label points, moving each label to the first nearby spot that overlaps no earlier label.

    Positions are estimated in points from the axes' limits and size before layout; good
    enough to keep a dozen labels apart.
    """
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    pos = ax.get_position()
    fw, fh = ax.figure.get_size_inches() if hasattr(ax.figure, "get_size_inches") else (FIG_WIDTH, FIG_HEIGHT)
    w_pt, h_pt = pos.width * fw * 72, pos.height * fh * 72
    h = fontsize * 1.25
    placed = []
    # (dx, dy, ha) offsets in points, nearest first
    tries = [(4, 2, "left"), (4, -h - 1, "left"), (-4, 2, "right"), (-4, -h - 1, "right"),
             (4, h + 3, "left"), (4, -2 * h - 3, "left"), (-4, h + 3, "right"), (-4, -2 * h - 3, "right"),
             (4, 2 * h + 4, "left"), (4, -3 * h - 4, "left")]
    order = np.argsort(-np.nan_to_num(xs))
    for k in order:
        if not (np.isfinite(xs[k]) and np.isfinite(ys[k])):
            continue
        px, py = (xs[k] - x0) / (x1 - x0) * w_pt, (ys[k] - y0) / (y1 - y0) * h_pt
        w = len(labels[k]) * fontsize * 0.56
        choice = tries[0]
        for dx, dy, ha in tries:
            left = px + dx if ha == "left" else px + dx - w
            box = (left, py + dy, left + w, py + dy + h)
            inside = box[0] >= 0 and box[2] <= w_pt and box[1] >= 0 and box[3] <= h_pt
            if inside and not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3]
                                  for b in placed):
                choice = (dx, dy, ha)
                placed.append(box)
                break
        dx, dy, ha = choice
        ax.annotate(labels[k], (xs[k], ys[k]), xytext=(dx, dy), textcoords="offset points",
                    fontsize=fontsize, ha=ha, va="bottom")


@_styled
def morris_indices(Si, names=None, ax=None, unit: str | None = None, outcome: str | None = None,
                   kind: str = "bar", title: str | None = None, max_params: int = 20,
                   source: str | None = None):
    """Morris elementary-effects screening: mu* with confidence intervals, and sigma.

    Parameters
    ----------
    Si : dict or pandas.DataFrame
        SALib's ``morris.analyze`` result (keys ``names``, ``mu_star``, ``sigma``,
        ``mu_star_conf``) or a frame with columns ``parameter, mu_star, sigma, mu_star_conf``.
        Values are in the outcome's unit (per unit-range change of the parameter).
    names : list of str, optional
        Parameter names (override).
    ax : matplotlib.axes.Axes, or a Figure or SubFigure, optional
        Axes to draw on, or a (sub)figure to fill; a new figure when None.
    unit : str, optional
        Unit of the outcome.
    outcome : str, optional
        Name of the outcome.
    kind : {"bar", "scatter"}
        ``bar``: mu* bars with intervals and sigma as diamonds, ranked; ``scatter``: sigma
        against mu* with parameter labels (the classic screening plot).
    title : str, optional
        Axes title.
    max_params : int
        Show the parameters with the largest mu*, at most this many.
    source : str, optional
        Source line for the footer.

    Returns
    -------
    matplotlib.figure.Figure
        Bars (kind ``bar``) have gid ``mu_star:<name>``.
    """
    if kind not in ("bar", "scatter"):
        raise SimsrcError(f"unknown Morris chart kind {kind!r}; allowed: bar, scatter")
    nm = _names(Si, names)
    n = len(nm)
    d = pd.DataFrame({"name": nm, **{k: _col(Si, k, n) for k in ("mu_star", "sigma", "mu_star_conf")}})
    d = d.sort_values("mu_star", ascending=False, na_position="last").head(max_params)
    fig, ax, created = _axes(ax, FIG_WIDTH, max(FIG_HEIGHT, 1.4 + 0.28 * len(d)) if kind == "bar" else FIG_HEIGHT)
    ulab = f" ({unit})" if unit else ""
    if kind == "bar":
        y = np.arange(len(d))[::-1]
        bars = ax.barh(y, d["mu_star"], height=0.6, color=OKABE_ITO["blue"], label="\u03bc* (mean |effect|)",
                       xerr=d["mu_star_conf"], error_kw=dict(lw=0.8, capsize=2, ecolor="#222222"))
        for p, name in zip(bars.patches, d["name"]):
            p.set_gid(f"mu_star:{name}")
        ax.scatter(d["sigma"], y, marker="D", s=14, color=OKABE_ITO["vermillion"], zorder=3,
                   label="\u03c3 (sd of effects)", gid="sigma")
        ax.set_yticks(y, d["name"])
        ax.grid(axis="y", visible=False)
        ax.set_xlabel(f"Elementary effect{ulab}")
        ax.legend(loc="lower right")
    else:
        ax.errorbar(d["mu_star"], d["sigma"], xerr=d["mu_star_conf"], fmt="o", ms=4,
                    color=OKABE_ITO["blue"], ecolor="#777777", elinewidth=0.8, capsize=2, gid="points")
        top = float(np.nanmax(d["mu_star"] + d["mu_star_conf"].fillna(0))) * 1.1 or 1.0
        xs = np.array([0, top])
        for ratio, ls in ((0.1, ":"), (0.5, "--"), (1.0, "-")):
            ax.plot(xs, ratio * xs, color="#999999", lw=0.7, ls=ls, label=f"\u03c3/\u03bc* = {ratio:g}")
        ax.set_xlim(0, top)
        ax.set_ylim(0, max(float(np.nanmax(d["sigma"])) * 1.15, top * 0.2))
        _place_labels(ax, d["mu_star"].to_numpy(), d["sigma"].to_numpy(), list(d["name"]))
        ax.set_xlabel(f"\u03bc* (mean absolute elementary effect){ulab}")
        ax.set_ylabel(f"\u03c3 (sd of elementary effects){ulab}")
        ax.legend(loc="upper left")
    ax.set_title(title or f"Morris screening{f': {outcome}' if outcome else ''}", loc="left")
    cap = (f"Morris elementary effects{f' on {outcome}' if outcome else ''}{f', {unit}' if unit else ''}: "
           f"\u03bc* (mean absolute effect) with its confidence interval and \u03c3 (spread: interactions "
           f"or non-linearity).")
    return _finish(fig, created, cap, source or f"simsrc {__version__}")

