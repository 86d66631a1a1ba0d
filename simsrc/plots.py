"""Publication figures from simsrc results.

Every plotting function takes ``ax=None`` and returns the figure it drew on. With ``ax=None``
it makes a new figure at publication size (6.5 in wide) with a footer that states what is
shown, the units and the source (``simsrc 0.1.0, scenario X, N draws; baseline data: ...``),
so a pasted PNG carries its own caption. With ``ax`` given it draws on that axes only and
leaves the footer to the caller; the caption text is still stored on the returned figure as
``fig.simsrc_caption`` (the report uses it).

Figures are :class:`matplotlib.figure.Figure` objects not registered with pyplot (no GUI
backend, no global figure list to leak); in a notebook they display as a cell's value. Save
them with :func:`save_figure` (PNG at 300 dpi, SVG, PDF).

Colours: Okabe & Ito's colour-blind-safe palette for the eight most used regions and for
series, Paul Tol's "muted" scheme for the rest; :data:`REGION_COLORS` fixes a region's colour
across figures. Regions are always labelled too (tick labels or legend), so no figure relies
on colour alone. Sequential maps are ``cividis``; diverging maps ``RdBu`` (ColorBrewer,
colour-blind safe), centred on zero.
"""

from __future__ import annotations

import math
import textwrap
from contextlib import contextmanager
from functools import lru_cache, wraps
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.colors import TwoSlopeNorm, to_rgb
from matplotlib.figure import Figure, FigureBase
from matplotlib.patches import Patch

from . import __version__
from . import outputs as _registry
from .errors import SimsrcError, unknown_name_message
from .results import DRAW_OUTPUTS, OUTPUTS, WELFARE_TERMS, Results
from .units import MASS_IN_TONNES

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
    from .data import load_dataset
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
    from .data import DEFAULT_DATASET
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
    from .data import DEFAULT_DATASET
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


def _finish(fig, created: bool, caption: str, source: str | None):
    """Store the caption on the figure; draw it as a footer on figures made here."""
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
# reading results

def _open(results) -> Results:
    return results if isinstance(results, Results) else Results(results)


@lru_cache(maxsize=16)
def _read_parquet(path: str, mtime_ns: int) -> pd.DataFrame:
    return pd.read_parquet(path)


def _summary(r: Results) -> pd.DataFrame:
    p = r.path / "summary.parquet"
    return _read_parquet(str(p), p.stat().st_mtime_ns)


def _draws(r: Results) -> pd.DataFrame:
    p = r.path / "draws.parquet"
    if not p.exists():
        raise SimsrcError(f"{r.path} has no draws.parquet (per-draw NPVs)")
    return _read_parquet(str(p), p.stat().st_mtime_ns)


def minerals_of(results) -> list[str]:
    """Minerals of a results folder, in the order they were written (a sensitivity folder,
    which has no paths, lists them in its manifest)."""
    r = _open(results)
    if not (r.path / "summary.parquet").exists() and "minerals" in r.manifest:
        return list(r.manifest["minerals"])
    return [str(m) for m in pd.unique(_summary(r)["mineral"])]


def regions_of(results, mineral: str | None = None) -> list[str]:
    """Regions of a results folder (of one mineral), in dataset order."""
    r = _open(results)
    if not (r.path / "summary.parquet").exists() and "regions" in r.manifest:
        return list(r.manifest["regions"])
    s = _summary(r)
    if mineral is not None:
        s = s[s["mineral"] == mineral]
    return [str(x) for x in pd.unique(s["region"])]


def outputs_of(results) -> list[str]:
    """Outputs available: per-period outputs of the summary, then per-draw outputs."""
    r = _open(results)
    outs = [str(o) for o in pd.unique(_summary(r)["output"])]
    if (r.path / "draws.parquet").exists():
        outs += [c for c in _draws(r).columns if c in DRAW_OUTPUTS]
    return outs


def check_mineral(results, mineral: str | None) -> str:
    """Validate a mineral (the first one when None); SimsrcError lists the known ones."""
    known = minerals_of(results)
    if mineral is None:
        return known[0]
    if mineral not in known:
        raise SimsrcError(unknown_name_message("mineral", mineral, known))
    return mineral


def check_regions(results, mineral: str, regions) -> list[str]:
    """Validate regions (all when None); SimsrcError lists the known ones."""
    known = regions_of(results, mineral)
    if regions is None:
        return known
    regions = [regions] if isinstance(regions, str) else list(regions)
    for reg in regions:
        if reg not in known:
            raise SimsrcError(unknown_name_message("region", reg, known))
    return regions


def check_output(results, output: str) -> str:
    """Validate an output name against what the folder holds; SimsrcError lists them."""
    known = outputs_of(results)
    if output not in known:
        raise SimsrcError(unknown_name_message("output", output, known))
    return output


def _period_spec(period, manifest, n):
    """``"mean"``, or an integer period from ``"last"``, an int, or a label like ``2027Q2``."""
    if period in (None, "mean"):
        return "mean"
    if period == "last":
        return n - 1
    if isinstance(period, (int, np.integer)) or str(period).lstrip("-").isdigit():
        k = int(period)
        k = k + n if k < 0 else k
        if not 0 <= k < n:
            raise SimsrcError(f"period {period} is outside the horizon (0..{n - 1})")
        return k
    labels = period_labels(manifest.get("horizon"), n)
    if str(period) in labels:
        return labels.index(str(period))
    raise SimsrcError(f"unknown period {period!r}; use 'mean', 'last', a number 0..{n - 1} "
                      f"or a label {labels[0]}..{labels[-1]}")


def period_text(period, manifest, n) -> str:
    """Words for a period spec: ``mean over 2026Q1-2027Q4`` or ``in 2027Q4``."""
    labels = period_labels(manifest.get("horizon"), n)
    k = _period_spec(period, manifest, n)
    if k == "mean":
        return f"mean over {labels[0]}\u2013{labels[-1]}"
    return f"in {labels[k]}"


def _n_periods(r: Results, mineral: str) -> int:
    s = _summary(r)
    return int(s.loc[s["mineral"] == mineral, "period"].max()) + 1


def interval_table(results, output: str, mineral: str | None = None, regions=None,
                   period="mean", level: float = 90.0) -> pd.DataFrame:
    """Mean, median and central interval of an output by region, across draws.

    Parameters
    ----------
    results : Results or path
        A results or comparison folder (for a comparison, values are paired differences).
    output : str
        A per-period output (results.OUTPUTS, ``share_*``) or a per-draw output
        (results.DRAW_OUTPUTS, e.g. ``npv_net_welfare`` in USD).
    mineral : str, optional
        Mineral code (default: the first).
    regions : list of str, optional
        Regions (default: all, dataset order).
    period : {"mean", "last"} or int or str
        For per-period outputs: the mean over the horizon of each draw's path (read from
        paths, non-converged periods excluded), or one period (from the summary; ``level``
        must then be 90 or 50). Ignored for per-draw outputs.
    level : float
        Central interval, percent (90: 5th to 95th percentile).

    Returns
    -------
    pandas.DataFrame
        Columns ``region, mean, median, low, high`` (interval bounds) and ``n`` (draws
        counted), in the output's own unit (not display-scaled).
    """
    r = _open(results)
    mineral = check_mineral(r, mineral)
    regions = check_regions(r, mineral, regions)
    output = check_output(r, output)
    lo_q, hi_q = (100 - level) / 2, 100 - (100 - level) / 2
    if output in DRAW_OUTPUTS:
        d = _draws(r)
        d = d[(d["mineral"] == mineral) & d["region"].isin(regions)]
        if "converged_share" in d:
            d = d[d["converged_share"] >= 1.0]  # a draw with any failed solve is excluded
        g = d.groupby("region", observed=True)[output]
        return _quantile_frame(g, regions, lo_q, hi_q)
    k = _period_spec(period, r.manifest, _n_periods(r, mineral))
    if k == "mean":
        p = r.paths(columns=[output, "converged"], mineral=mineral)
        p = p[p["region"].isin(regions)]
        vals = p[output].astype(np.float64).where(p["converged"] > 0.5)
        per_draw = vals.groupby([p["draw"], p["region"].astype(str)]).mean().rename(output).reset_index()
        return _quantile_frame(per_draw.dropna().groupby("region")[output], regions, lo_q, hi_q)
    cols = {5.0: "p5", 95.0: "p95", 25.0: "p25", 75.0: "p75"}
    if lo_q not in cols or hi_q not in cols:
        raise SimsrcError(f"a {level}% interval for one period needs paths; the summary holds 50% and 90%")
    s = _summary(r)
    s = s[(s["mineral"] == mineral) & (s["output"] == output) & (s["period"] == k)].set_index("region")
    s = s.loc[regions]
    return pd.DataFrame({"region": regions, "mean": s["mean"].to_numpy(), "median": s["p50"].to_numpy(),
                         "low": s[cols[lo_q]].to_numpy(), "high": s[cols[hi_q]].to_numpy(),
                         "n": s["n"].to_numpy()})


def _quantile_frame(grouped, regions, lo_q, hi_q):
    rows = []
    for reg in regions:
        try:
            v = grouped.get_group(reg).to_numpy(dtype=np.float64)
        except KeyError:
            v = np.array([])
        v = v[np.isfinite(v)]
        if v.size:
            lo, med, hi = np.percentile(v, [lo_q, 50, hi_q])
            rows.append((reg, v.mean(), med, lo, hi, v.size))
        else:
            rows.append((reg, np.nan, np.nan, np.nan, np.nan, 0))
    return pd.DataFrame(rows, columns=["region", "mean", "median", "low", "high", "n"])


def _count_range(n) -> str:
    n = np.asarray(n, dtype=int)
    if not n.size:
        return "0"
    lo, hi = int(n.min()), int(n.max())
    return f"{lo}" if lo == hi else f"{lo}{DASH}{hi}"


def _lower_first(text: str) -> str:
    """``Consumer price`` -> ``consumer price``; acronyms (``NPV ...``) unchanged."""
    first = text.split(" ", 1)[0]
    return text if first.isupper() else text[:1].lower() + text[1:]


def quantity_name(output: str) -> str:
    """Name of an output as a quantity: ``Consumer price``, ``NPV net welfare``."""
    name = output_label(output)
    return f"NPV {_lower_first(name)}" if output.startswith("npv_") else name


def _guard_flat(ax, values):
    """A legible y axis: no offset, thousands separators from 10,000, and a visible range when
    the values are all (nearly) equal, e.g. a change that is zero up to rounding (which would
    otherwise be drawn at 1e-17)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size and np.max(np.abs(v)) >= 1e4:
        ax.yaxis.set_major_formatter(mpl.ticker.StrMethodFormatter("{x:,.0f}"))
    fmt = ax.yaxis.get_major_formatter()
    if hasattr(fmt, "set_useOffset"):
        fmt.set_useOffset(False)
    if v.size and np.ptp(v) <= 1e-9 * max(1.0, np.max(np.abs(v))):
        mid = float(np.round(v.mean(), 9))
        ax.set_ylim(mid - 1.0, mid + 1.0)


def _value_axis_label(output, unit_label, comparison):
    name = quantity_name(output)
    if comparison:
        return f"Change in {_lower_first(name)} ({unit_label})"
    return f"{name} ({unit_label})"


# ---------------------------------------------------------------------------------------------
# fan charts

def _fan_data(r, output, mineral, region):
    s = _summary(r)
    s = s[(s["mineral"] == mineral) & (s["output"] == output) & (s["region"] == region)]
    return s.sort_values("period")


@_styled
def fan_chart(results, output: str = "consumer_price", mineral: str | None = None, regions=None,
              ax=None, title: str | None = None, scale: tuple[float, str] | None = None):
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
    if comparison:
        ax.axhline(0, color="#444444", lw=0.7, zorder=1)
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
             ax=None, ncols: int | None = None, sharey: bool = True):
    """Small multiples of fan charts, one panel per region, on a common y scale.

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
    sharey : bool
        Common y axis across panels.

    Returns
    -------
    matplotlib.figure.Figure
    """
    r = _open(results)
    mineral = check_mineral(r, mineral)
    regions = check_regions(r, mineral, regions)
    output = check_output(r, output)
    nrows, ncols, height = fan_grid_shape(len(regions), ncols)
    fig, owned, created = _container(ax, FIG_WIDTH, height)
    if owned:
        axs = fig.subplots(nrows, ncols, sharex=True, sharey=sharey, squeeze=False).ravel()
        for a in axs[len(regions):]:
            a.set_visible(False)
    else:
        axs = np.atleast_1d(ax).ravel()
        if len(axs) < len(regions):
            raise ValueError(f"need {len(regions)} axes, got {len(axs)}")
        fig = axs[0].figure
        if sharey:
            for a in axs[1:len(regions)]:
                a.sharey(axs[0])
    allv = np.concatenate([_fan_data(r, output, mineral, reg)[["p5", "p95"]].to_numpy().ravel() for reg in regions])
    scale = display_scale(output_unit(output, r.manifest, mineral), allv, is_comparison(r.manifest))  # one unit
    for a, reg in zip(axs, regions):
        fan_chart(r, output, mineral, [reg], ax=a, title=reg, scale=scale)
        a.get_legend().remove()
        a.set_title(reg, loc="left", fontsize=8)
    cap = caption_of(fig).split(" Source: ")[0]
    if sharey:
        _guard_flat(axs[0], allv * scale[0])
    if owned:
        ylabel = axs[0].get_ylabel()
        for k, a in enumerate(axs[:len(regions)]):
            a.set_ylabel("")
            if k + ncols >= len(regions):  # lowest panel of its column: tick labels and x label
                a.xaxis.set_tick_params(labelbottom=True)
            else:
                a.set_xlabel("")
        fig.supylabel(ylabel, fontsize=8)
    handles = [mpl.lines.Line2D([], [], color="#555555", label="median"),
               Patch(color="#777777", alpha=0.5, lw=0, label="50% band"),
               Patch(color="#777777", alpha=0.2, lw=0, label="90% band")]
    # the title heads the legend, so the two never overlap however long the mineral's name
    title = f"{mineral_name(r.manifest, mineral)}: {_lower_first(quantity_name(output))} by region" if owned else None
    fig.legend(handles=handles, loc="outside upper left", ncols=3, title=title, alignment="left",
               title_fontproperties={"weight": "bold", "size": 9}, borderaxespad=0.1)
    return _finish(fig, created, cap, source_line(r.manifest))


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


# ---------------------------------------------------------------------------------------------
# trade flows

def _align_flows(baseline: pd.DataFrame, scenario: pd.DataFrame | None):
    origins = list(dict.fromkeys(list(baseline.index) + (list(scenario.index) if scenario is not None else [])))
    dests = list(dict.fromkeys(list(baseline.columns) + (list(scenario.columns) if scenario is not None else [])))
    b = baseline.reindex(index=origins, columns=dests).fillna(0.0).astype(float)
    s = None if scenario is None else scenario.reindex(index=origins, columns=dests).fillna(0.0).astype(float)
    return b, s


def _fmt(v, nd=None):
    if not np.isfinite(v):
        return ""
    if v == 0:
        return "0"
    a = abs(v)
    nd = nd if nd is not None else (0 if a >= 100 else 1 if a >= 10 else 2)
    return f"{v:,.{nd}f}"


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


def _flow_matrix(ax, values, rows, cols, change, ulabel, annotate, vmax=None, colorbar=True):
    """Draw a flow matrix (display units): levels on a sequential map, changes on a diverging one."""
    if change:
        lim = max(float(np.nanmax(np.abs(values))), 1e-12)
        norm, cmap, label = TwoSlopeNorm(0, -lim, lim), DIVERGING_CMAP, f"Change in flow ({ulabel})"
    else:
        top = vmax if vmax is not None else float(np.nanmax(values))
        norm, cmap, label = mpl.colors.Normalize(0, max(top, 1e-12)), SEQUENTIAL_CMAP, f"Flow ({ulabel})"
    im = _heatmap(ax, values, rows, cols, cmap, norm, annotate, label, colorbar=colorbar)
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
           f"{'; red: fall, blue: rise' if s is not None else ''}.")
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
    for a, (name, values, change) in zip(axs, panels):
        im = _flow_matrix(a, values * factor, rows, cols, change, ulabel, annotate, vmax=vmax,
                          colorbar=name != "baseline")
        im.set_gid(f"flows:{name}")
        a.set_title((reference if name == "baseline" else name).capitalize(), loc="left", fontsize=8)
        a.tick_params(axis="both", labelsize=6.5)
        a.set_ylabel("Origin (exporter)" if name == "baseline" else "")
        a.set_xlabel("Destination (importer)" if name == "scenario" else "")
    if owned and title:
        fig.suptitle(title, x=0.012, ha="left", fontsize=9, fontweight="bold")
    cap = (f"Bilateral flows, origin (rows) to destination (columns), {ulabel} (annual rates): {reference}, "
           f"scenario and change (scenario {MINUS} {reference}; red: fall, blue: rise).")
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


# ---------------------------------------------------------------------------------------------
# figures by kind (the `simsrc plot` command)

#: Figure kinds of :func:`figures_for` and what they show.
KINDS = {
    "fan": "a per-period output over time: median with 50% and 90% bands, one panel per region",
    "effects": "an output (or its change, for a comparison) by region with 90% intervals",
    "welfare": "distributions of one region's NPV welfare components across draws",
    "flows": "origin x destination trade flows: baseline, scenario and change, or one destination's suppliers",
    "tornado": "one-at-a-time sensitivity of an outcome (table: parameter, low, high, base)",
    "sobol": "Sobol indices S1 and ST with confidence intervals (table: parameter, S1, S1_conf, ST, ST_conf)",
    "morris": "Morris screening mu*, sigma (table: parameter, mu_star, sigma, mu_star_conf)",
    "sweep": "an outcome over a two-way parameter grid (table: parameter 1, parameter 2, outcome)",
}
#: Kinds drawn from a table (an --input file, or <kind>.parquet / <kind>.csv in the folder).
TABLE_KINDS = ("flows", "tornado", "sobol", "morris", "sweep")
#: Columns that select rows of a table by the plot's mineral, region and output.
_SELECTORS = ("mineral", "region", "output")


def find_table(results, kind: str) -> Path | None:
    """The table of a kind stored in a results folder: ``<kind>.parquet`` or ``<kind>.csv``,
    at the top or under ``sensitivity/``; None if there is none."""
    folder = _open(results).path
    for sub in ("", "sensitivity"):
        for ext in ("parquet", "csv"):
            p = folder / sub / f"{kind}.{ext}"
            if p.exists():
                return p
    return None


def read_table(path) -> pd.DataFrame:
    """Read a CSV or Parquet table (by suffix); SimsrcError for anything else."""
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path)
    if path.suffix.lower() in (".csv", ".txt"):
        return pd.read_csv(path, comment="#")
    raise SimsrcError(f"cannot read {path}: tables are .csv or .parquet")


def _select(df: pd.DataFrame, column: str, value, what: str) -> pd.DataFrame:
    """Rows of a table for one mineral/region/output, when the table has that column."""
    if column not in df.columns:
        return df
    known = [str(v) for v in pd.unique(df[column])]
    if value is None:
        if len(known) > 1:
            raise SimsrcError(f"the {what} table holds several {column}s ({', '.join(known)}); "
                              f"choose one with --{column}")
        return df
    if str(value) not in known:
        raise SimsrcError(unknown_name_message(column, str(value), known))
    return df[df[column].astype(str) == str(value)]


def _stem(*parts) -> str:
    return "-".join(str(p).replace("/", "_").replace(" ", "_") for p in parts if p not in (None, ""))


def _sweep_pivot(df: pd.DataFrame) -> pd.DataFrame:
    if df.shape[1] == 3:
        a, b, v = df.columns
        return df.pivot_table(index=a, columns=b, values=v, aggfunc="mean")
    t = df.set_index(df.columns[0])
    try:
        t.columns = [float(c) for c in t.columns]
    except ValueError:
        pass
    return t


def figures_for(results, kind: str, mineral: str | None = None, regions=None, output: str | None = None,
                period="mean", input_file=None, unit: str | None = None) -> list[tuple[str, Figure]]:
    """Figures of one kind from a results or comparison folder, with file stems.

    Parameters
    ----------
    results : Results or path
        A results or comparison folder.
    kind : str
        One of :data:`KINDS`.
    mineral : str, optional
        Mineral code; default: one figure per mineral (results kinds) or the table's only one.
    regions : list of str, optional
        fan: panels (default all); effects: bars (default all); welfare: the region (default
        USA, else the first); flows: destinations whose suppliers are shown (default: the
        full matrices); sensitivity kinds: selects rows of a table with a ``region`` column.
    output : str, optional
        fan/effects: the output (default ``consumer_price``); sensitivity kinds: names the
        outcome (its unit is used unless ``unit`` is given) and selects rows of a table with
        an ``output`` column.
    period : {"mean", "last"} or int or str
        effects: the period summarised (see :func:`interval_table`).
    input_file : path, optional
        Table for the table kinds (default: :func:`find_table`).
    unit : str, optional
        Unit of a sensitivity outcome or of flows (default: from ``output``; flows ``t/yr``).

    Returns
    -------
    list of (str, matplotlib.figure.Figure)
        File stem (``fan-ndpr_oxide-consumer_price``) and figure.

    Raises
    ------
    SimsrcError
        For an unknown kind, mineral, region or output (naming the allowed ones), or a
        missing or malformed table.
    """
    if kind not in KINDS:
        raise SimsrcError(unknown_name_message("plot kind", kind, KINDS))
    r = _open(results)
    m = r.manifest
    minerals = [check_mineral(r, mineral)] if mineral else minerals_of(r)
    out: list[tuple[str, Figure]] = []
    if kind in ("fan", "effects"):
        output = check_output(r, output or "consumer_price")
        for mn in minerals:
            regs = check_regions(r, mn, regions)
            if kind == "fan":
                fig = fan_chart(r, output, mn, regs) if len(regs) == 1 else fan_grid(r, output, mn, regs)
                out.append((_stem("fan", mn, output, "_".join(regions) if regions else None), fig))
            else:
                fig = region_effects(r, output, mn, regs, period)
                when = None if output in DRAW_OUTPUTS else period
                out.append((_stem("effects", mn, output, when, "_".join(regions) if regions else None), fig))
        return out
    if kind == "welfare":
        for mn in minerals:
            known = regions_of(r, mn)
            regs = check_regions(r, mn, regions) if regions else ["USA" if "USA" in known else known[0]]
            for reg in regs:
                out.append((_stem("welfare", mn, reg), welfare_distribution(r, mn, reg)))
        return out

    # table kinds
    path = Path(input_file) if input_file else find_table(r, kind)
    if path is None:
        raise SimsrcError(f"{r.path} holds no {kind} table ({kind}.parquet or {kind}.csv); "
                          f"give one with --input FILE")
    df = read_table(path)
    src = source_line(m)
    if kind == "flows":
        need = {"origin", "destination", "baseline", "scenario"}
        if not need <= set(df.columns):
            raise SimsrcError(f"flows table {path} lacks column(s) {sorted(need - set(df.columns))}; "
                              f"needs origin, destination, baseline, scenario [, mineral]")
        table_minerals = ([mineral] if mineral else [str(x) for x in pd.unique(df["mineral"])]) \
            if "mineral" in df.columns else [mineral]
        names = m.get("scenario_names") or {}
        reference = (f"counterfactual ({names.get('counterfactual', 'counterfactual')})"
                     if m.get("kind") == "comparison" else "baseline")
        for mn in table_minerals:
            d = _select(df, "mineral", mn, "flows")
            b = d.pivot_table(index="origin", columns="destination", values="baseline", aggfunc="sum")
            s = d.pivot_table(index="origin", columns="destination", values="scenario", aggfunc="sum")
            name = mineral_name(m, mn) if mn else "Trade flows"
            if regions:
                for dest in regions:
                    out.append((_stem("flows", mn, dest),
                                supplier_bars(b, s, dest, unit or "t/yr", title=f"{name}: who supplies {dest}",
                                              source=src, reference=reference)))
            else:
                out.append((_stem("flows", mn), flow_panels(b, s, f"{name}: trade flows", unit or "t/yr", source=src,
                                                            reference=reference)))
        return out
    if regions and len(regions) > 1:
        raise SimsrcError(f"a {kind} chart is of one region; got {', '.join(regions)}")
    region = regions[0] if regions else None
    return [(_stem(kind, mineral, output, region),
             table_figure(r, kind, df, mineral=mineral, region=region, output=output, unit=unit))]


def table_figure(results, kind: str, table: pd.DataFrame, mineral: str | None = None,
                 region: str | None = None, output: str | None = None, unit: str | None = None, ax=None):
    """A tornado, Sobol, Morris or sweep chart from a table, labelled from a results folder.

    Parameters
    ----------
    results : Results or path
        The folder the table belongs to (for the source line and units).
    kind : {"tornado", "sobol", "morris", "sweep"}
    table : pandas.DataFrame
        The table (columns as in :data:`KINDS`); optional ``mineral``, ``region`` and
        ``output`` columns select rows by the arguments of the same names.
    mineral, region, output : str, optional
        Select rows and name the outcome (``Consumer price, USA, NdPr oxide``).
    unit : str, optional
        Unit of the outcome (default: the unit of ``output``).
    ax : matplotlib.axes.Axes, or a Figure or SubFigure, optional
        Where to draw; a new figure when None.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if kind not in ("tornado", "sobol", "morris", "sweep"):
        raise SimsrcError(unknown_name_message("sensitivity chart kind", kind, ["tornado", "sobol", "morris", "sweep"]))
    r = _open(results)
    m = r.manifest
    df = table
    for col, val in zip(_SELECTORS, (mineral, region, output)):
        df = _select(df, col, val, kind)
    df = df.drop(columns=[c for c in _SELECTORS if c in df.columns])
    if unit is None and output:
        unit = output_unit(output, m, mineral)
    outcome = ", ".join(x for x in (output_label(output) if output else None, region,
                                    mineral_name(m, mineral) if mineral else None) if x) or None
    src = source_line(m)
    if kind == "tornado":
        return tornado(df, unit=unit, outcome=outcome, source=src, ax=ax)
    if kind == "sobol":
        return sobol_indices(df, outcome=outcome, source=src, ax=ax)
    if kind == "morris":
        return morris_indices(df, unit=unit, outcome=outcome, source=src, ax=ax)
    return sweep_heatmap(_sweep_pivot(df), unit=unit, outcome=outcome, source=src, ax=ax)

