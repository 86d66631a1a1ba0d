"""Reading results for charts: cached summary and draws, validation of minerals, regions and
outputs, period specs, interval tables by region."""

from __future__ import annotations

from functools import lru_cache

import matplotlib as mpl
import numpy as np
import pandas as pd

from ..numbers import tick_formatter

from ..errors import SimsrcError, unknown_name_message
from ..results import DRAW_OUTPUTS, Results
from .style import DASH, output_label, period_labels  # noqa: F401

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


@lru_cache(maxsize=64)
def _index(path: str, mtime_ns: int) -> dict:
    """Minerals, regions per mineral and outputs of a summary (computed once per file)."""
    s = _read_parquet(path, mtime_ns)
    regions = {str(m): [str(x) for x in pd.unique(g["region"])] for m, g in s.groupby("mineral", sort=False,
                                                                                       observed=True)}
    return {"minerals": [str(m) for m in pd.unique(s["mineral"])], "regions": regions,
            "all_regions": [str(x) for x in pd.unique(s["region"])],
            "outputs": [str(o) for o in pd.unique(s["output"])]}


def _summary_index(r: Results) -> dict:
    p = r.path / "summary.parquet"
    return _index(str(p), p.stat().st_mtime_ns)


def minerals_of(results) -> list[str]:
    """Minerals of a results folder, in the order they were written (a sensitivity folder,
    which has no paths, lists them in its manifest)."""
    r = _open(results)
    if not (r.path / "summary.parquet").exists() and "minerals" in r.manifest:
        return list(r.manifest["minerals"])
    return list(_summary_index(r)["minerals"])


def regions_of(results, mineral: str | None = None) -> list[str]:
    """Regions of a results folder (of one mineral), in dataset order."""
    r = _open(results)
    if not (r.path / "summary.parquet").exists() and "regions" in r.manifest:
        return list(r.manifest["regions"])
    ix = _summary_index(r)
    if mineral is not None:
        return list(ix["regions"].get(str(mineral), []))
    return list(ix["all_regions"])


def outputs_of(results) -> list[str]:
    """Outputs available: per-period outputs of the summary, then per-draw outputs."""
    r = _open(results)
    outs = list(_summary_index(r)["outputs"])
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
        fast = _horizon_mean_from_draws(r, output, mineral, regions, lo_q, hi_q)
        if fast is not None:
            return fast
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


#: Per-period outputs whose horizon mean per draw is stored in draws.parquet.
_HORIZON_MEANS = {"consumer_price": "mean_consumer_price", "origin_price": "mean_origin_price",
                  "production": "mean_production", "net_import_reliance": "mean_import_reliance"}


def _horizon_mean_from_draws(r: Results, output, mineral, regions, lo_q, hi_q):
    """The horizon mean per draw from draws.parquet (no pass over paths) when every draw of the
    mineral converged in every period (then it equals the mean over converged periods); None
    otherwise."""
    col = _HORIZON_MEANS.get(output)
    if col is None or not (r.path / "draws.parquet").exists():
        return None
    d = _draws(r)
    if col not in d.columns or "converged_share" not in d.columns:
        return None
    d = d[(d["mineral"] == mineral) & d["region"].isin(regions)]
    if not len(d) or (d["converged_share"] < 1.0).any():
        return None
    return _quantile_frame(d.groupby("region", observed=True)[col], regions, lo_q, hi_q)


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
    """A legible y axis: thousands separators and no ``-0`` (simsrc.numbers), no offset, and
    a visible range when the values are all (nearly) equal, e.g. a change that is zero up to
    rounding (which would otherwise be drawn at 1e-17). A log axis keeps its range."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if ax.get_yscale() == "log":
        lo, hi = (float(np.min(v[v > 0])), float(np.max(v))) if (v > 0).any() else (1.0, 10.0)
        if hi / lo < 1e3:  # less than three decades: label 1, 2 and 5 times powers of ten
            ax.yaxis.set_major_locator(mpl.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(tick_formatter())
        ax.yaxis.set_minor_formatter(mpl.ticker.NullFormatter())
        return
    ax.yaxis.set_major_formatter(tick_formatter())
    if v.size and np.ptp(v) <= 1e-9 * max(1.0, np.max(np.abs(v))):
        mid = float(np.round(v.mean(), 9))
        ax.set_ylim(mid - 1.0, mid + 1.0)


def _value_axis_label(output, unit_label, comparison):
    name = quantity_name(output)
    if comparison:
        return f"Change in {_lower_first(name)} ({unit_label})"
    return f"{name} ({unit_label})"




#: Public names of the readers the report uses.
summary_of = _summary
draws_of = _draws
n_periods = _n_periods
count_range = _count_range
