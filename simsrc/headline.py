"""Headline statistics: the one home of what `run`, `compare`, the demo, the report and the
headline CSV files show (docs/model.md sec. 6).

The convention, everywhere:

- the headline is the **median** across draws with the **5th-95th percentile interval**;
- a **mean** appears only next to its **tail diagnostic** (the share of ``sum |x|`` from the
  top 1% of draws, :func:`simsrc.compare.tail_share`);
- an **effect** (scenario - counterfactual, paired by draw) is given in its unit *and* in
  percent of the counterfactual's level (per draw), where the measure has a level (prices,
  production, import reliance). Welfare NPVs are themselves changes against the baseline
  price path and have no level to divide by: they are in USD million only;
- every row names its **period** or period range (``2035Q4``, ``2026Q1-2035Q4``).

:func:`run_headline` and :func:`effects` return tidy frames (one row per mineral, region and
measure); :func:`format_table` turns them into the display table (strings, via
:mod:`simsrc.numbers`); :func:`write_headline` writes ``headline.csv`` (numbers) and
``headline.md`` (the display table) into a results folder.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from . import numbers as N
from . import outputs as _registry

#: Interval of the headline: 5th to 95th percentile.
LO_Q, HI_Q = 5.0, 95.0
#: Column order of the tidy headline frames.
COLUMNS = ["mineral", "region", "measure", "unit", "period", "median", "p5", "p95", "pct_median", "pct_p5",
           "pct_p95", "cf_level", "mean", "tail_share", "n"]


#: Share of draws whose contribution the tail diagnostic measures (docs/model.md sec. 6).
TAIL_TOP = 0.01


def tail_share(d) -> float:
    """Share of ``sum |d|`` contributed by the top :data:`TAIL_TOP` of draws ranked by ``|d|``
    (at least one draw); NaN when every effect is zero."""
    a = np.sort(np.abs(np.asarray(d, dtype=float)[np.isfinite(d)]))[::-1]
    tot = a.sum()
    if not tot > 0:
        return float("nan")
    k = max(1, int(np.ceil(TAIL_TOP * len(a))))
    return float(a[:k].sum() / tot)


def interval_stats(values) -> dict:
    """Median, 5th and 95th percentiles, mean, tail share and count of the finite values."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if not v.size:
        return {"median": np.nan, "p5": np.nan, "p95": np.nan, "mean": np.nan, "tail_share": np.nan, "n": 0}
    p5, p50, p95 = np.percentile(v, [LO_Q, 50.0, HI_Q])
    return {"median": float(p50), "p5": float(p5), "p95": float(p95), "mean": float(v.mean()),
            "tail_share": tail_share(v), "n": int(v.size)}


def period_range(manifest: dict) -> str:
    """``2026Q1-2035Q4`` (the horizon), or ``periods 0-39`` without labels."""
    labels = (manifest.get("horizon") or {}).get("labels") or []
    if labels:
        return f"{labels[0]}\u2013{labels[-1]}"
    n = int(manifest.get("periods") or 0)
    return f"periods 0\u2013{max(n - 1, 0)}"


def period_name(manifest: dict, k: int) -> str:
    labels = (manifest.get("horizon") or {}).get("labels") or []
    return labels[k] if 0 <= k < len(labels) else f"period {k}"


def _price_unit(manifest, mineral):
    u = (manifest.get("units") or {}).get(mineral, {})
    return u.get("price", "price unit") if isinstance(u, dict) else "price unit"


def _unit_of(d: _registry.DrawOutput, manifest, mineral) -> tuple[str, float]:
    """Display unit and factor of a per-draw measure's effect in its own unit."""
    if d.unit == "PRICE":
        return _price_unit(manifest, mineral), 1.0
    if d.unit == "share":
        return "pp", 100.0
    if d.unit == "USD":
        return "USD m", 1e-6
    return d.unit, 1.0


#: Factor from a headline unit back to the output's own unit (USD m -> USD, pp -> share).
UNIT_FACTORS = {"USD m": 1e-6, "pp": 100.0}


def measure_of_output(output: str) -> str | None:
    """The headline measure that summarises an output: ``consumer_price`` (its horizon mean)
    -> ``consumer price``, ``npv_net_welfare`` -> ``net welfare NPV``; None if none does."""
    for d in _registry.PER_DRAW:
        if d.headline and (d.name == output or (d.stat == "mean" and d.of == output)):
            return d.headline.label
    return None


def _measure_name(d: _registry.DrawOutput) -> str:
    return d.headline.label if d.headline else d.label.lower()


def _check_regions(manifest, regions):
    from .errors import SimsrcError, unknown_name_message

    for r in regions:
        if r not in manifest["regions"]:
            raise SimsrcError(unknown_name_message("region", r, list(manifest["regions"])))


@lru_cache(maxsize=4)
def _sides(path: str, mtime_ns: int):
    """Each side's per-draw scalars of a comparison folder (read once per process)."""
    return (pd.read_parquet(Path(path) / "draws_scenario.parquet"),
            pd.read_parquet(Path(path) / "draws_counterfactual.parquet"))


def effects(path, regions=None, minerals=None) -> pd.DataFrame:
    """Headline effects of a comparison folder: one row per mineral, region and measure.

    For every headline measure of the registry (:data:`simsrc.outputs.HEADLINES`): the median
    and 5-95% interval of the paired per-draw effect in the measure's unit (``median``,
    ``p5``, ``p95``; USD m for NPVs, percentage points for import reliance, the price unit for
    prices), the same in percent of the counterfactual's per-draw level (``pct_*``; NaN for
    NPVs), the counterfactual's median level (``cf_level``), the mean effect with its tail
    share, the draws counted and the period range. Draws with a non-finite effect, or with a
    failed solve in any period of either side, are left out. Minerals whose effects are all exactly 0 (untouched by the policy) are kept: see
    :func:`touched`.
    """
    from .results import Results

    res = Results(path)
    m = res.manifest
    A, B = _sides(str(Path(path).resolve()), (Path(path) / "draws_scenario.parquet").stat().st_mtime_ns)
    regions = list(regions) if regions else list(m["regions"])
    _check_regions(m, regions)
    minerals = list(minerals) if minerals else list(m["minerals"])
    A = A[A.mineral.isin(minerals) & A.region.isin(regions)].sort_values(["mineral", "region", "draw"])
    B = B[B.mineral.isin(minerals) & B.region.isin(regions)].sort_values(["mineral", "region", "draw"])
    ga, gb = A.groupby(["mineral", "region"], sort=False), B.groupby(["mineral", "region"], sort=False)
    span = period_range(m)
    measures = sorted((d for d in _registry.PER_DRAW if d.headline), key=lambda d: d.headline.rank)
    rows = []
    for mn in minerals:
        for r in regions:
            try:
                a, b = ga.get_group((mn, r)), gb.get_group((mn, r))
            except KeyError:
                continue
            # a draw counts only if every period of both sides solved (converged and finite)
            keep = np.ones(len(a), dtype=bool)
            for side in (a, b):
                if "converged_share" in side:
                    keep &= side["converged_share"].to_numpy(dtype=float) >= 1.0 - 1e-9
            a, b = a[keep], b[keep]
            if not len(a):
                continue
            for d in measures:
                va, vb = a[d.name].to_numpy(dtype=float), b[d.name].to_numpy(dtype=float)
                if np.all(~np.isfinite(va) | (va == 0)) and np.all(~np.isfinite(vb) | (vb == 0)):
                    continue  # not defined for this region (e.g. no production, no floor)
                unit, factor = _unit_of(d, m, mn)
                with np.errstate(invalid="ignore", divide="ignore"):
                    diff = (va - vb) * factor
                    if d.stat == "mean":  # a level: the effect in percent of it (a share: from 1%)
                        floor = 0.01 if d.unit == "share" else 0.0
                        pct = np.where(np.abs(vb) > floor, (va - vb) / np.abs(vb) * 100.0, np.nan)
                    else:
                        pct = np.full_like(diff, np.nan)
                s = interval_stats(diff)
                if s["n"] < 2:
                    continue
                sp = interval_stats(pct)
                what = "NPV " if d.stat == "npv" or d.stat == "net_welfare" else "mean "
                cf = vb[np.isfinite(vb)]
                rows.append({"mineral": mn, "region": r, "measure": _measure_name(d), "unit": unit,
                             "period": what + span, **{k: s[k] for k in ("median", "p5", "p95")},
                             "pct_median": sp["median"], "pct_p5": sp["p5"], "pct_p95": sp["p95"],
                             "cf_level": float(np.median(cf)) * factor if cf.size and d.stat == "mean" else np.nan,
                             "mean": s["mean"], "tail_share": s["tail_share"], "n": s["n"]})
    return pd.DataFrame(rows, columns=COLUMNS)


def touched(eff: pd.DataFrame) -> list[str]:
    """Minerals with any non-zero effect (a policy leaves the others' draws identical)."""
    out = []
    for mn, g in eff.groupby("mineral", sort=False):
        if np.any(np.nan_to_num(g[["median", "p5", "p95", "mean"]].to_numpy()) != 0):
            out.append(mn)
    return out


def run_headline(path, regions=("USA",), minerals=None) -> pd.DataFrame:
    """Headline outcomes of a run folder, one row per mineral, region and measure.

    Consumer price and net import reliance in the last period (from the summary), the mean
    consumer price over the horizon, and the NPVs of net welfare and of the floor's fiscal cost
    (from the per-draw scalars, with their mean and tail share). Same columns as
    :func:`effects` (the ``pct_*`` and ``cf_level`` columns empty).
    """
    from .results import Results

    res = Results(path)
    m = res.manifest
    s = res.summary
    d = res.draws
    T = int(m["periods"])
    last = period_name(m, T - 1)
    span = period_range(m)
    regions = list(regions)
    _check_regions(m, regions)
    rows = []
    for mn in minerals or m["minerals"]:
        price = _price_unit(m, mn)
        for r in regions:
            for out, measure, unit, factor in (("consumer_price", "consumer price", price, 1.0),
                                               ("net_import_reliance", "import reliance", "%", 100.0)):
                q = s[(s.mineral == mn) & (s.region == r) & (s.output == out) & (s.period == T - 1)]
                if len(q) and q.iloc[0].n > 0:
                    q = q.iloc[0]
                    rows.append({"mineral": mn, "region": r, "measure": measure, "unit": unit, "period": last,
                                 "median": q.p50 * factor, "p5": q.p5 * factor, "p95": q.p95 * factor,
                                 "mean": np.nan, "tail_share": np.nan, "n": int(q.n)})
                elif len(q) and out == "consumer_price":  # every draw of the period failed: say so
                    rows.append({"mineral": mn, "region": r, "measure": measure, "unit": unit, "period": last,
                                 **interval_stats([])})
            dd = d[(d.mineral == mn) & (d.region == r)]
            if "converged_share" in dd:
                dd = dd[dd["converged_share"] >= 1.0]
            for col, measure, unit, factor, what in (
                    ("mean_consumer_price", "consumer price", price, 1.0, "mean "),
                    ("npv_net_welfare", "net welfare NPV", "USD m", 1e-6, "NPV "),
                    ("npv_floor_fiscal_cost", "floor fiscal cost NPV", "USD m", 1e-6, "NPV ")):
                v = dd[col].to_numpy(dtype=float) * factor
                if col == "npv_floor_fiscal_cost" and not np.any(np.nan_to_num(v)):
                    continue  # no floor
                st = interval_stats(v)
                if st["n"] or col == "npv_net_welfare":  # n = 0: "no converged draws"
                    rows.append({"mineral": mn, "region": r, "measure": measure, "unit": unit, "period": what + span,
                                 **st})
    return pd.DataFrame(rows, columns=COLUMNS)


#: The cell of a measure without a single converged, finite draw.
NO_DRAWS = "no converged draws"


def cell(row, typeset: bool = False, signed: bool | None = None) -> str:
    """``median [p5, p95]`` of a headline row in its unit (signed for effects)."""
    if row.get("n", 1) == 0:
        return NO_DRAWS
    pct_unit = row["unit"] == "%"
    return N.fmt_interval(row["median"], row["p5"], row["p95"], signed=bool(signed), typeset=typeset,
                          unit="%" if pct_unit else None)


def pct_cell(row, typeset: bool = False) -> str:
    if not np.isfinite(row.get("pct_median", np.nan)):
        return ""
    return N.fmt_pct_interval(row["pct_median"], row["pct_p5"], row["pct_p95"], typeset=typeset)


def mean_cell(row, typeset: bool = False, signed: bool = False) -> str:
    """``mean (top 1%: 3%)``: the mean with its tail diagnostic; ``heavy tail`` above 25%."""
    if not np.isfinite(row.get("mean", np.nan)):
        return ""
    t = row.get("tail_share", np.nan)
    tail = f"top 1%: {N.fmt_pct(t, 2)}" + (", heavy tail" if t > 0.25 else "") if np.isfinite(t) else "top 1%: n/a"
    return f"{N.fmt(row['mean'], signed=signed, typeset=typeset)} ({tail})"


def format_table(frame: pd.DataFrame, comparison: bool, typeset: bool = False) -> pd.DataFrame:
    """The display table of a headline frame: strings, one row per mineral, region and
    measure, with the unit and period named."""
    rows = []
    for _, r in frame.iterrows():
        row = {"mineral": r["mineral"], "region": r["region"], "measure": r["measure"], "unit": r["unit"],
               "period": r["period"],
               ("effect, median [5%, 95%]" if comparison else "median [5%, 95%]"): cell(r, typeset, comparison)}
        if comparison:
            row["% of counterfactual, median [5%, 95%]"] = pct_cell(r, typeset)
        row["mean (tail: share of sum |x| from top 1% of draws)"] = mean_cell(r, typeset, comparison)
        rows.append(row)
    return pd.DataFrame(rows)


def to_markdown(table: pd.DataFrame, title: str = "", note: str = "") -> str:
    cols = list(table.columns)
    lines = [f"**{title}**", ""] if title else []
    lines += ["| " + " | ".join(cols) + " |",
              "|" + "|".join("---" if table[c].dtype == object and c in ("mineral", "region", "measure", "unit",
                                                                          "period") else "---:" for c in cols) + "|"]
    lines += ["| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |" for row in table.itertuples(index=False)]
    if note:
        lines += ["", f"*{note}*"]
    return "\n".join(lines) + "\n"


NOTE_RUN = ("Median and 5th-95th percentile interval across draws (non-converged draws excluded); a mean is shown "
            "only with its tail diagnostic, the share of sum |x| contributed by the top 1% of draws (above 25%: "
            "a handful of draws make the mean; read the median).")
NOTE_COMPARE = ("Effect = scenario - counterfactual, paired by draw (common random numbers). Median and 5th-95th "
                "percentile interval of the per-draw effect, in the measure's unit and in percent of the "
                "counterfactual's level in the same draw (prices and production: mean over the horizon; welfare "
                "NPVs are changes against the baseline price path and have no level, so no percentage). A mean "
                "only with its tail diagnostic (share of sum |effect| from the top 1% of draws).")


def write_headline(path, frame: pd.DataFrame, comparison: bool) -> dict[str, Path]:
    """Write ``headline.csv`` (the numbers, 4 significant digits) and ``headline.md`` (the
    display table) into a results folder."""
    path = Path(path)
    num = frame.copy()
    for c in ("median", "p5", "p95", "pct_median", "pct_p5", "pct_p95", "cf_level", "mean", "tail_share"):
        num[c] = N.round_sig(num[c].to_numpy(dtype=float), 4)
    out = {"csv": path / "headline.csv", "markdown": path / "headline.md"}
    num.to_csv(out["csv"], index=False)
    m = json.loads((path / "manifest.json").read_text())
    title = (f"{m.get('scenario_name', path.name)}: headline {'effects' if comparison else 'outcomes'}, "
             f"{m.get('draws', '?')} draws")
    out["markdown"].write_text(to_markdown(format_table(frame, comparison), title,
                                           NOTE_COMPARE if comparison else NOTE_RUN), encoding="utf-8")
    return out


def _measure_rank(measures: pd.Series) -> pd.Series:
    ranks = {d.headline.label: d.headline.rank for d in _registry.PER_DRAW if d.headline}
    return measures.map(lambda x: ranks.get(x, -1))


def text_table(frame: pd.DataFrame, comparison: bool) -> str:
    """The headline frame as terminal text: per mineral, measures x regions."""
    if frame.empty:
        return "(no headline measures)"
    lines = []
    for mn, g in frame.groupby("mineral", sort=False):
        g = g.assign(label=g.measure + " (" + g.unit + "; " + g.period + ")",
                     cell=[cell(r, signed=comparison) + (f"  {pct_cell(r)}" if comparison and pct_cell(r) else "")
                           for _, r in g.iterrows()])
        rank = {k: i for i, k in enumerate(dict.fromkeys(frame.sort_values("measure", key=_measure_rank,
                                                                           kind="stable").measure))}
        order = sorted(dict.fromkeys(g.label), key=lambda lab: rank.get(g.measure[g.label == lab].iloc[0], 99))
        regs = list(dict.fromkeys(g.region))
        tab = g.pivot(index="label", columns="region", values="cell").reindex(index=order, columns=regs).fillna("")
        tab.index.name = None
        tab.columns.name = None
        lines.append(f"\n{mn}:")
        with pd.option_context("display.width", 250, "display.max_colwidth", 60, "display.max_columns", 20):
            lines.append(tab.to_string())
    return "\n".join(lines)


def tidy_summary(path) -> pd.DataFrame:
    """The summary of a results folder for spreadsheets: period labels (``2026Q1``) beside the
    period index, values rounded to 4 significant digits (the exact values stay in
    ``summary.parquet``)."""
    from .results import Results

    res = Results(path)
    s = res.summary.copy()
    labels = (res.manifest.get("horizon") or {}).get("labels") or []
    if labels:
        s.insert(list(s.columns).index("period") + 1, "period_label",
                 [labels[int(k)] if 0 <= int(k) < len(labels) else "" for k in s["period"]])
    for c in s.columns:
        if c not in ("n", "period") and pd.api.types.is_float_dtype(s[c]):
            s[c] = N.round_sig(s[c].to_numpy(dtype=float), 4)
    return s


def write_tidy_summary(path) -> Path:
    """``summary_tidy.csv``: :func:`tidy_summary` beside the exact ``summary.parquet``."""
    out = Path(path) / "summary_tidy.csv"
    tidy_summary(path).to_csv(out, index=False)
    return out
