"""Shared style and vocabulary of simsrc figures: palettes, sizes, the rc style, units,
labels, display scales, sources and captions, period axes, figure containers and saving.

Used by every chart module and by :mod:`simsrc.report` (one home for units, labels, scales
and captions)."""

from __future__ import annotations

import math
import textwrap
from contextlib import contextmanager
from functools import lru_cache, wraps
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure, FigureBase

from .. import __version__
from .. import outputs as _registry
from ..errors import SimsrcError, unknown_name_message
from ..results import DRAW_OUTPUTS, OUTPUTS, WELFARE_TERMS
from ..units import MASS_IN_TONNES

# ---------------------------------------------------------------------------------------------
# palettes, sizes, style

#: Okabe & Ito (2008), "Color Universal Design": distinguishable under the common colour
#: vision deficiencies.
OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "reddish_purple": "#CC79A7",
}
#: Paul Tol's "muted" qualitative scheme (https://personal.sron.nl/~pault/), without its grey.
TOL_MUTED = ["#CC6677", "#332288", "#DDCC77", "#117733", "#88CCEE", "#882255", "#44AA99",
             "#999933", "#AA4499"]

#: Fixed region colours: the same region has the same colour in every figure.
REGION_COLORS = {
    "USA": OKABE_ITO["blue"], "CHN": OKABE_ITO["vermillion"], "EU": OKABE_ITO["bluish_green"],
    "JPN": OKABE_ITO["reddish_purple"], "KOR": OKABE_ITO["sky_blue"], "IND": OKABE_ITO["orange"],
    "AUS": OKABE_ITO["yellow"], "CAN": OKABE_ITO["black"], "SEA": TOL_MUTED[6],
    "IDN": TOL_MUTED[7], "MMR": TOL_MUTED[5], "COD": TOL_MUTED[2], "RUS": TOL_MUTED[1],
    "ROW": "#888888",
}
#: Colours given in turn to regions without a fixed colour.
OTHER_COLORS = [TOL_MUTED[0], TOL_MUTED[3], TOL_MUTED[8], TOL_MUTED[4]]

#: Series colours (not regions): first, second, third series.
SERIES_COLORS = [OKABE_ITO["blue"], OKABE_ITO["vermillion"], OKABE_ITO["bluish_green"],
                 OKABE_ITO["reddish_purple"], OKABE_ITO["orange"], OKABE_ITO["sky_blue"]]
SEQUENTIAL_CMAP = "cividis"
DIVERGING_CMAP = "RdBu"

#: Publication size (inches): full text width of a US-letter or A4 page with 1 in margins.
FIG_WIDTH = 6.5
FIG_HEIGHT = 4.0
#: Raster resolution for PNG (dots per inch).
PNG_DPI = 300
#: Footer (caption and source) font size, points.
FOOTER_FONTSIZE = 6.5

STYLE = {
    "font.size": 8, "axes.titlesize": 9, "axes.titleweight": "bold", "axes.labelsize": 8,
    "xtick.labelsize": 7, "ytick.labelsize": 7, "legend.fontsize": 7, "legend.frameon": False,
    "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
    "grid.color": "#E0E0E0", "grid.linewidth": 0.5, "axes.axisbelow": True,
    "axes.prop_cycle": mpl.cycler(color=SERIES_COLORS), "lines.linewidth": 1.4,
    "savefig.dpi": PNG_DPI, "pdf.fonttype": 42, "ps.fonttype": 42,
    "figure.constrained_layout.h_pad": 0.04, "figure.constrained_layout.w_pad": 0.04,
}

#: Short display names of outputs (axis labels), from the registry simsrc.outputs;
#: descriptions are in results.OUTPUTS.
LABELS: dict[str, str] = dict(_registry.LABELS)

#: NPV welfare components of draws.parquet in display order, with the sign they enter net
#: welfare (results.WELFARE_TERMS) and the net total last.
WELFARE_COMPONENTS: list[tuple[str, float]] = (
    [(f"npv_{term}", sign) for term, sign in WELFARE_TERMS.items()] + [("npv_net_welfare", 1.0)])

#: Caption fragments.
DASH = "\u2013"
MINUS = "\u2212"
CF_SUFFIX = " (scenario \u2212 counterfactual)"

_MPL_310 = tuple(int(x) for x in mpl.__version__.split(".")[:2]) >= (3, 10)

_FREQ = {"quarter": "Q", "quarterly": "Q", "q": "Q", "month": "M", "monthly": "M", "m": "M",
         "year": "Y", "annual": "Y", "yearly": "Y", "y": "Y"}


@contextmanager
def style():
    """Context manager applying simsrc's figure style (:data:`STYLE`) to figures made inside."""
    with mpl.rc_context(STYLE):
        yield


def _styled(fn):
    @wraps(fn)
    def wrapper(*args, **kwargs):
        with style():
            return fn(*args, **kwargs)
    return wrapper


def region_colors(regions) -> dict:
    """Colour of each region: fixed for known codes, others in turn from :data:`OTHER_COLORS`.

    Parameters
    ----------
    regions : sequence of str
        Region codes (dataset order).

    Returns
    -------
    dict
        region -> hex colour.
    """
    out, k = {}, 0
    for r in regions:
        if r in REGION_COLORS:
            out[r] = REGION_COLORS[r]
        else:
            out[r] = OTHER_COLORS[k % len(OTHER_COLORS)]
            k += 1
    return out


def _darken(color, amount=0.35):
    r, g, b = to_rgb(color)
    return (r * (1 - amount), g * (1 - amount), b * (1 - amount))


def _line_color(color):
    """A line colour legible on white: very light colours (yellow, sand) are darkened."""
    r, g, b = to_rgb(color)
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return _darken(color, 0.45) if luminance > 0.7 else color


# ---------------------------------------------------------------------------------------------
# units, labels, sources

def _is_price_unit(unit: str) -> bool:
    parts = unit.split("/")
    return len(parts) == 2 and parts[1].strip() in MASS_IN_TONNES


@lru_cache(maxsize=8)
def _dataset(name: str):
    from ..data import load_dataset
    try:
        return load_dataset(name)
    except Exception:  # dataset not shipped or unreadable: units fall back to a plain label
        return None


def _dataset_name(manifest: dict) -> str | None:
    """What to load the run's dataset by: its path, else its (built-in) name."""
    d = manifest.get("dataset")
    if isinstance(d, dict):
        return d.get("path") or d.get("name")
    return d


def price_unit(manifest: dict, mineral: str) -> str:
    """The price unit of a mineral in a results folder.

    Parameters
    ----------
    manifest : dict
        The results manifest; ``manifest["units"][mineral]["price"]`` is used when present.
    mineral : str
        Mineral code.

    Returns
    -------
    str
        E.g. ``"USD/kg"``; else the dataset's price unit (``manifest["dataset"]``, or the
        default dataset); else ``"price unit not recorded"``.
    """
    u = (manifest.get("units") or {}).get(mineral, {})
    if isinstance(u, dict) and u.get("price"):
        return str(u["price"])
    from ..data import DEFAULT_DATASET
    ds = _dataset(str(_dataset_name(manifest) or DEFAULT_DATASET))
    if ds is not None and mineral in ds.minerals:
        return ds.minerals[mineral].price_unit
    return "price unit not recorded"


def mineral_name(manifest: dict, mineral: str) -> str:
    """Short display name of a mineral: ``manifest["units"][m]["name"]``, else the dataset's
    name up to any parenthesis (``NdPr oxide``), else the code."""
    u = (manifest.get("units") or {}).get(mineral, {})
    if isinstance(u, dict) and u.get("name"):
        return str(u["name"])
    from ..data import DEFAULT_DATASET
    ds = _dataset(str(_dataset_name(manifest) or DEFAULT_DATASET))
    if ds is not None and mineral in ds.minerals:
        return ds.minerals[mineral].name.split(" (")[0]
    return mineral


def output_unit(output: str, manifest: dict | None = None, mineral: str | None = None) -> str:
    """Unit of an output of paths/summary (results.OUTPUTS) or draws (results.DRAW_OUTPUTS).

    Parameters
    ----------
    output : str
        Output name, e.g. ``consumer_price``, ``npv_net_welfare`` or ``share_CHN``.
    manifest : dict, optional
        Results manifest, to resolve ``PRICE`` to the mineral's price unit.
    mineral : str, optional
        Mineral code, to resolve ``PRICE``.

    Returns
    -------
    str
        The unit (``USD/kg``, ``t/yr``, ``share``, ``USD`` ...).
    """
    if output in OUTPUTS:
        unit = OUTPUTS[output][0]
    elif output in DRAW_OUTPUTS:
        unit = DRAW_OUTPUTS[output][0]
    elif output.startswith("share_"):
        unit = "share"
    else:
        raise SimsrcError(unknown_name_message("output", output, list(OUTPUTS) + list(DRAW_OUTPUTS)))
    if unit == "PRICE":
        unit = price_unit(manifest or {}, mineral) if mineral else "price unit"
    return unit


def output_label(output: str) -> str:
    """Short display name of an output (``Consumer price``, ``Share of supply from CHN``)."""
    if output in LABELS:
        return LABELS[output]
    if output.startswith("share_"):
        return f"Share of consumption supplied by {output[6:]}"
    return output.replace("_", " ").capitalize()


def display_scale(unit: str, values=None, change: bool = False) -> tuple[float, str]:
    """Factor and unit label for displaying values of a unit legibly.

    Shares are shown in percent; USD amounts in USD thousand (from 10,000), million (from
    1 million) or billion (from 10 billion) and tonnes in kt (from 100,000 t) or Mt (from
    100 Mt), by the largest absolute value; prices and flags unscaled.

    Parameters
    ----------
    unit : str
        Unit of the values (``share``, ``USD``, ``USD/yr``, ``t/yr``, ``USD/kg`` ...).
    values : array_like, optional
        The values to display (to pick the scale).
    change : bool
        The values are differences (a comparison): shares are then in percentage points.

    Returns
    -------
    (factor, label) : tuple of float and str
        Display value = value x factor, in unit ``label``.
    """
    if unit == "share":
        return 100.0, "percentage points" if change else "%"
    if unit in ("flag", "index"):
        return 1.0, unit
    if _is_price_unit(unit):
        return 1.0, unit
    v = np.asarray(values if values is not None else [], dtype=float)
    big = float(np.nanmax(np.abs(v))) if v.size and np.isfinite(v).any() else 0.0
    head, sep, tail = unit.partition("/")
    suffix = sep + tail
    if head == "USD":
        for above, f, name in ((1e10, 1e9, "billion"), (1e6, 1e6, "million"), (1e4, 1e3, "thousand")):
            if big >= above:
                return 1.0 / f, f"USD {name}{suffix}"
        return 1.0, unit
    if head == "t":
        for above, f, name in ((1e8, 1e6, "Mt"), (1e5, 1e3, "kt")):
            if big >= above:
                return 1.0 / f, name + suffix
        return 1.0, unit
    return 1.0, unit


def is_comparison(manifest: dict) -> bool:
    """True for a comparison folder (paired differences scenario - counterfactual)."""
    return manifest.get("kind") == "comparison"


def comparison_names(manifest: dict) -> tuple[str, str]:
    """Names of a comparison's scenario and counterfactual.

    Read from ``manifest["scenario_names"]``, else from ``manifest["scenario"]`` and
    ``manifest["counterfactual"]``, each a name or a resolved scenario dict with a name.
    """
    names = manifest.get("scenario_names") or {}
    out = []
    for key in ("scenario", "counterfactual"):
        v = names.get(key) or manifest.get(key)
        out.append(str(v.get("name", "?")) if isinstance(v, dict) else str(v or "?"))
    return out[0], out[1]


def scenario_title(manifest: dict) -> str:
    """``scenario`` or ``scenario vs counterfactual`` for a comparison."""
    if is_comparison(manifest):
        a, b = comparison_names(manifest)
        return f"{a} vs {b}"
    return str(manifest.get("scenario_name", "unnamed scenario"))


def data_source(manifest: dict) -> str | None:
    """Where the baseline data come from: ``manifest["data_source"]``, else the dataset name."""
    if manifest.get("data_source"):
        return str(manifest["data_source"])
    d = manifest.get("dataset")
    if isinstance(d, dict):
        return d.get("source") or (f"dataset {d['name']}" if d.get("name") else None)
    return f"dataset {d}" if d else None


def source_line(manifest: dict) -> str:
    """One-line source of a results folder for figure footers.

    Parameters
    ----------
    manifest : dict
        Results manifest.

    Returns
    -------
    str
        E.g. ``simsrc 0.1.0, scenario s232, 2000 draws; baseline data: USGS MCS 2025``.
    """
    parts = [f"simsrc {manifest.get('package_version', __version__)}"]
    if is_comparison(manifest):
        parts.append(f"{scenario_title(manifest)} (paired differences, same draws)")
    else:
        parts.append(f"scenario {scenario_title(manifest)}")
    if manifest.get("draws") is not None:
        parts.append(f"{manifest['draws']} draws")
    s = ", ".join(parts)
    d = data_source(manifest)
    return s + (f"; baseline data: {d}" if d else "")


def period_index(horizon: dict | None, n: int) -> pd.PeriodIndex | None:
    """Calendar periods of a run's horizon.

    Parameters
    ----------
    horizon : dict or None
        ``{"start": "2026Q1", "periods": 8, "period": "quarter"}`` (period: quarter, month
        or year; start in any form pandas reads as a period of that frequency).
    n : int
        Number of periods.

    Returns
    -------
    pandas.PeriodIndex or None
        None when the horizon is missing or unreadable (axes then show period numbers).
    """
    if not horizon or "start" not in horizon:
        return None
    freq = _FREQ.get(str(horizon.get("period", "quarter")).lower())
    if freq is None:
        return None
    try:
        return pd.period_range(start=pd.Period(str(horizon["start"]), freq=freq), periods=n)
    except (ValueError, TypeError):
        return None


def period_labels(horizon: dict | None, n: int) -> list[str]:
    """Labels of the periods (``2026Q1``, ``2026-03``, ``2027``; or ``t=0``...).

    The horizon's own ``labels`` (as the engine writes them) win when present.
    """
    given = (horizon or {}).get("labels")
    if given and len(given) >= n:
        return [str(x) for x in given[:n]]
    idx = period_index(horizon, n)
    if idx is None:
        return [f"t={k}" for k in range(n)]
    return [str(p) for p in idx]


#: Width (in) a year label ("2026") and a two-line quarter label ("Q1/2026") need on the x axis.
_YEAR_LABEL_IN, _PERIOD_LABEL_IN = 0.45, 0.3


def _axes_width_in(ax) -> float:
    root = ax.get_figure(root=True) if _MPL_310 else ax.figure
    return ax.get_position().width * root.get_figwidth()


def _set_period_axis(ax, horizon, n):
    """Calendar labels on the x axis (period k at x = k), as many as the axes' width allows."""
    idx = period_index(horizon, n)
    ax.set_xlim(-0.3, n - 0.7)
    if idx is None:
        ax.set_xlabel("Period")
        return
    freq = idx.freqstr[0]
    ax.set_xlabel({"Q": "Quarter", "M": "Month", "Y": "Year"}[freq])
    width = _axes_width_in(ax)
    if freq != "Y" and n <= 12 and n * _PERIOD_LABEL_IN <= width:
        # every period labelled, the year under the first and under each Q1/January
        sub = (lambda p: f"Q{p.quarter}") if freq == "Q" else (lambda p: p.strftime("%b"))
        first = (lambda p: p.quarter == 1) if freq == "Q" else (lambda p: p.month == 1)
        ax.set_xticks(range(n), [f"{sub(p)}\n{p.year}" if (k == 0 or first(p)) else sub(p)
                                 for k, p in enumerate(idx)])
        return
    # years labelled (every step-th), periods as minor ticks
    starts = [k for k, p in enumerate(idx) if k == 0 or p.year != idx[k - 1].year]
    step = max(1, math.ceil(len(starts) / max(2, int(width / _YEAR_LABEL_IN))))
    major = starts[::step]
    ax.set_xticks(major, [str(idx[k].year) for k in major])
    if freq != "Y":
        ax.set_xticks(range(n), minor=True)


# ---------------------------------------------------------------------------------------------
# figures, captions, saving

def _new_figure(width=FIG_WIDTH, height=FIG_HEIGHT) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def _axes(ax, width=FIG_WIDTH, height=FIG_HEIGHT):
    """(figure, axes, created): a new figure when ax is None, one axes filling a given
    (sub)figure, or the given axes; ``created`` says whether the footer is ours to draw."""
    if ax is None:
        fig = _new_figure(width, height)
        return fig, fig.add_subplot(), True
    if isinstance(ax, FigureBase):
        return ax, ax.add_subplot(), False
    return ax.figure, ax, False


def _container(ax, width, height):
    """(figure, owned, created) for multi-panel functions: ``owned`` when the function lays
    out the panels itself (ax None or a (sub)figure), ``created`` when it made the figure."""
    if ax is None:
        return _new_figure(width, height), True, True
    if isinstance(ax, FigureBase):
        return ax, True, False
    return None, False, False


def _people_ticks(fig):
    """Thousands separators and no ``-0`` on every numeric axis of the figure (matplotlib's
    default formatter prints 8000 and -0; categorical and already-set formatters are kept)."""
    from ..numbers import tick_formatter

    for ax in getattr(fig, "axes", []):
        for axis in (ax.xaxis, ax.yaxis):
            f = axis.get_major_formatter()
            if type(f) is mpl.ticker.ScalarFormatter:
                axis.set_major_formatter(tick_formatter())
            elif type(f) is mpl.ticker.LogFormatterSciNotation:
                axis.set_major_formatter(tick_formatter())
                axis.set_minor_formatter(mpl.ticker.NullFormatter())


def _finish(fig, created: bool, caption: str, source: str | None):
    """Store the caption on the figure; draw it as a footer on figures made here."""
    _people_ticks(fig)
    text = caption.strip()
    if source:
        text += f" Source: {source}."
    fig.simsrc_caption = text
    if created:
        width = fig.get_figwidth()
        chars = max(40, int((width - 0.15) * 72 / (FOOTER_FONTSIZE * 0.58)))
        lines = textwrap.wrap(text, chars)
        fig.text(0.012, 0.012, "\n".join(lines), ha="left", va="bottom", fontsize=FOOTER_FONTSIZE,
                 color="#333333", gid="caption", linespacing=1.25)
        foot = (len(lines) * FOOTER_FONTSIZE * 1.25 / 72 + 0.1) / fig.get_figheight()
        fig.get_layout_engine().set(rect=(0, foot, 1, 1 - foot))
    return fig


def caption_of(fig) -> str:
    """The caption (what is shown, units, source) stored on a figure made here."""
    return getattr(fig, "simsrc_caption", "")


def save_figure(fig, path, formats=("png", "svg"), dpi: int = PNG_DPI) -> list[Path]:
    """Save a figure in several formats at publication resolution.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or Path
        Path without suffix (a .png, .svg or .pdf suffix is dropped).
    formats : sequence of str
        Any of ``png``, ``svg``, ``pdf``.
    dpi : int
        Resolution of raster formats (dots per inch).

    Returns
    -------
    list of Path
        The files written.
    """
    path = Path(path)
    if path.suffix.lower() in (".png", ".svg", ".pdf"):
        path = path.with_suffix("")
    path.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for fmt in formats:
        p = path.parent / f"{path.name}.{fmt}"
        fig.savefig(p, dpi=dpi, format=fmt, metadata=_metadata(fmt, fig))
        out.append(p)
    return out


def _metadata(fmt, fig):
    cap = caption_of(fig)
    if fmt == "png":
        return {"Software": f"simsrc {__version__}", "Description": cap}
    if fmt == "pdf":
        return {"Creator": f"simsrc {__version__}", "Subject": cap}
    if fmt == "svg":
        return {"Creator": f"simsrc {__version__}", "Description": cap}
    return None




# ---------------------------------------------------------------------------------------------
# value scales of small multiples

#: How :func:`choose_scales` decides: panels whose ranges differ by more than this factor do
#: not share a linear axis, and a positive band wider than this factor is drawn on a log axis.
SCALE_RATIO = 10.0
#: y-scale modes of :func:`fan_grid` (``auto`` chooses between the others).
YSCALES = ("auto", "shared", "per-panel", "log")


def choose_scales(panels: dict, mode: str = "auto") -> tuple[str, dict]:
    """The y scale of small multiples: ``shared`` (one linear axis), ``per-panel`` (each its
    own linear or log axis) or ``log`` (one log axis).

    Parameters
    ----------
    panels : dict
        Panel name -> array of the values drawn (bands included), display units.
    mode : {"auto", "shared", "per-panel", "log"}
        ``auto``: one linear axis unless the panels' largest absolute values differ by more
        than :data:`SCALE_RATIO` (then per panel); within a panel, a positive series whose
        band spans more than :data:`SCALE_RATIO` (a heavy upper tail) gets a log axis. ``log``
        falls back to linear for panels with values <= 0.

    Returns
    -------
    (layout, logs) : str and dict
        ``layout`` is ``shared`` or ``per-panel``; ``logs`` maps each panel to True where its
        axis is logarithmic.
    """
    if mode not in YSCALES:
        raise SimsrcError(f"unknown y scale {mode!r}; one of {', '.join(YSCALES)}")
    clean = {k: np.asarray(v, dtype=float)[np.isfinite(np.asarray(v, dtype=float))] for k, v in panels.items()}
    positive = {k: bool(v.size) and bool(np.all(v > 0)) for k, v in clean.items()}
    if mode == "shared":
        return "shared", {k: False for k in clean}
    if mode == "log":
        if all(positive.values()):
            return "shared", {k: True for k in clean}
        return "per-panel", dict(positive)
    tops = [float(np.max(np.abs(v))) for v in clean.values() if v.size and np.max(np.abs(v)) > 0]
    spread = (max(tops) / min(tops)) if tops else 1.0
    logs = {}
    for k, v in clean.items():
        lo_hi = (float(np.min(v)), float(np.max(v))) if v.size else (0.0, 0.0)
        logs[k] = positive[k] and lo_hi[1] / lo_hi[0] > SCALE_RATIO
    if mode == "per-panel" or spread > SCALE_RATIO or any(logs.values()):
        return "per-panel", logs if mode == "auto" else {k: False for k in clean}
    return "shared", {k: False for k in clean}


def is_constant(values, tol: float = 1e-9) -> bool:
    """True where a series carries no information: every finite value equal (up to ``tol``
    relative), or none finite."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return not v.size or float(np.ptp(v)) <= tol * max(1.0, float(np.max(np.abs(v))))


def dataset_of(manifest: dict):
    """The dataset a results folder was run on (loaded once per process), or None."""
    name = _dataset_name(manifest)
    return _dataset(str(name)) if name else None
