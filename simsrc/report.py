"""Reports from a results or comparison folder: Markdown, self-contained HTML and PDF.

:func:`build_report` writes ``report.md`` (figures linked from ``figures/*.png``),
``report.html`` (one file, figures inline as base64 PNG) and ``report.pdf`` (US-letter pages
with 1 in margins, made with matplotlib's PdfPages: text pages, then figure pages with two
figures each where they fit). All three hold the same content, built once by
:func:`report_content`: the scenario and its description, the run, the key assumptions
(elasticities, dynamics, policies, events), headline tables with 90% intervals and the
figures, each captioned with its units and source.
"""

from __future__ import annotations

import base64
import html
import os
import textwrap
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from . import __version__
from . import headline as H
from . import numbers as N
from . import plots as P
from .results import Results

#: Regions shown in the fan-chart panels of a report (those present, in this order of
#: preference; tables and bar charts show every region).
FAN_REGIONS = ("USA", "CHN", "EU", "JPN", "KOR", "IND")
#: The region whose welfare distribution is shown (else the first region).
FOCUS_REGION = "USA"

# PDF page geometry (inches) and fonts (points)
PAGE_W, PAGE_H, MARGIN, MARGIN_V = 8.5, 11.0, 1.0, 0.8
TEXT_W = PAGE_W - 2 * MARGIN
TEXT_H = PAGE_H - 2 * MARGIN_V
#: Heights (in) of the report's bar charts and welfare distributions at 6.5 in width.
BAR_H, WELFARE_H = 2.9, 3.3
#: Vertical gap between figures on a page, inches.
FIG_GAP = 0.25
BODY_PT, SMALL_PT, TABLE_PT, CAPTION_PT = 9.0, 7.5, 7.0, 8.0
HEADING_PT = {0: 16.0, 1: 12.5, 2: 10.5}
#: Average character width of DejaVu Sans relative to the font size (for wrapping), and the
#: exact width of DejaVu Sans Mono.
SANS_EM, MONO_EM = 0.55, 0.602


# ---------------------------------------------------------------------------------------------
# content

@dataclass
class Table:
    """A table of strings with a title and a note (what the cells are, units)."""

    title: str
    columns: list[str]
    rows: list[list[str]]
    note: str = ""


@dataclass
class ReportFigure:
    """A figure of the report: ``draw(container)`` fills a Figure or SubFigure.

    ``spec`` = ``(function name in simsrc.plots, args, kwargs)`` with the results folder as
    first argument: a picklable recipe, so figures are rendered in worker processes; figures
    without one (drawn from in-memory tables) are rendered in the main process.
    """

    key: str
    draw: Callable
    height: float
    caption: str = ""
    spec: tuple | None = None
    pixels: object = field(default=None, repr=False, compare=False)
    future: object = field(default=None, repr=False, compare=False)
    png: object = field(default=None, repr=False, compare=False)
    dpi: int = field(default=150, repr=False, compare=False)


@dataclass
class Block:
    """One piece of the text flow: heading, paragraph, bullets, table or figures."""

    kind: str  # "heading", "para", "bullets", "table", "figures", "pagebreak"
    text: str = ""
    level: int = 1
    items: list = field(default_factory=list)
    table: Table | None = None


def _fmt_value(v) -> str:
    """A scenario value in words: numbers, lists, distributions ``pert(low=.., mode=..)``."""
    if isinstance(v, dict):
        if "dist" in v:
            args = ", ".join(f"{k}={_fmt_value(x)}" for k, x in v.items() if k != "dist")
            return f"{v['dist']}({args})"
        if set(v) <= {"any", "all"}:
            key = next(iter(v))
            return f" {'or' if key == 'any' else 'and'} ".join(_fmt_value(x) for x in v[key])
        return "; ".join(f"{k} {_fmt_value(x)}" for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return ", ".join(_fmt_value(x) for x in v)
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _element_line(d: dict) -> str:
    """One policy or event as a line: name (type, condition): settings. Description."""
    skip = {"name", "type", "description", "when"}
    if "level" in d and d.get("unit"):  # a price with its unit: "level 110 USD/kg"
        d = {**d, "level": f"{_fmt_value(d['level'])} {d['unit']}"}
        skip.add("unit")
    head = f"{d.get('name', '?')} ({d.get('type', '?')}"
    if d.get("when") is not None:
        head += f", if {_fmt_value(d['when'])}"
    head += ")"
    settings = "; ".join(f"{k.replace('_', ' ')} {_fmt_value(v)}" for k, v in d.items()
                         if k not in skip and v not in (None, [], {}))
    line = f"{head}: {settings}." if settings else f"{head}."
    if d.get("description"):
        line += f" {d['description'].strip()}"
    return line


def _scenario_dict(manifest: dict, key: str = "scenario") -> dict:
    """The resolved scenario (or a comparison's counterfactual) as run, if the manifest has it."""
    v = manifest.get(key)
    return v if isinstance(v, dict) else {}


def _interval_cells(centre, lo, hi, factor=1.0, signed=False):
    """Cells ``centre [p5, p95]`` of one column, in display units (simsrc.numbers)."""
    centre, lo, hi = (np.asarray(a, dtype=float) * factor for a in (centre, lo, hi))
    return [N.fmt_interval(a, b, c, signed=signed, typeset=True) if np.isfinite(a) else N.NA
            for a, b, c in zip(centre, lo, hi)]


def _median_interval(frame: pd.DataFrame):
    """Median, 5th and 95th percentile of each column over the rows (finite values only):
    the headline statistic (simsrc.headline.interval_stats)."""
    out = {}
    for c in frame.columns:
        st = H.interval_stats(frame[c].to_numpy(dtype=float))
        out[c] = (st["median"], st["p5"], st["p95"])
    return out


def _effects(r: Results, regions=None, minerals=None) -> pd.DataFrame | None:
    """simsrc.headline.effects of a comparison folder (None for runs and for folders without
    each side's per-draw scalars)."""
    if not P.is_comparison(r.manifest) or not (r.path / "draws_scenario.parquet").exists():
        return None
    return H.effects(r.path, regions=regions, minerals=minerals)


def _drop_quiet(rows):
    """Rows whose cells are all zero or n/a (no effect in any draw) left out: (kept, names)."""
    def quiet(c):
        return c in (N.NA, "", "0 [0, 0]", "0% [0%, 0%]")
    kept = [row for row in rows if not all(quiet(c) for c in row[1:])]
    return kept or rows[:1], [row[0] for row in rows if row not in kept]


def _market_table(r: Results, mineral: str, regions: list[str]) -> Table:
    m = r.manifest
    n = P.n_periods(r, mineral)
    when = P.period_text("mean", m, n)
    comparison = P.is_comparison(m)
    eff = _effects(r, regions, [mineral])
    if eff is not None:  # the headline effects: what `compare` prints and headline.csv holds
        cols = ["Region"]
        cells = []
        for measure in ("consumer price", "production", "import reliance"):
            e = eff[eff["measure"] == measure].set_index("region")
            if e.empty:
                continue
            unit = e["unit"].iloc[0]
            cols.append(f"{measure.capitalize()} ({unit})")
            cells.append([H.cell(e.loc[reg], typeset=True, signed=True) if reg in e.index else N.NA for reg in regions])
            if e["pct_median"].notna().any():
                cols.append(f"{measure.capitalize()} (% of counterfactual)")
                cells.append([H.pct_cell(e.loc[reg], typeset=True) or N.NA if reg in e.index else N.NA
                              for reg in regions])
        rows = [[reg] + [c[k] for c in cells] for k, reg in enumerate(regions)]
        rows, quiet = _drop_quiet(rows)
        title = f"{P.mineral_name(m, mineral)}: changes in prices, production and import reliance, {when}"
        note = (f"Median [5th, 95th percentile] across draws of the paired effect on each draw's {when} "
                f"(scenario {P.MINUS} counterfactual), in the unit and in percent of the counterfactual's level in "
                f"the same draw ({int(eff['n'].min()) if len(eff) else 0} draws or more). n/a: not defined (e.g. no "
                f"consumption or production)." + (f" No effect in any draw: {', '.join(quiet)}." if quiet else ""))
        return Table(title, cols, rows, note)
    cols, notes = ["Region"], []
    cells = []
    for output in ("consumer_price", "production", "net_import_reliance"):
        if output not in P.outputs_of(r):
            continue
        t = P.interval_table(r, output, mineral, regions, "mean")
        unit = P.output_unit(output, m, mineral)
        factor, ulabel = P.display_scale(unit, t[["median", "low", "high"]].to_numpy(), comparison)
        cols.append(f"{P.output_label(output)} ({ulabel})")
        cells.append(_interval_cells(t["median"], t["low"], t["high"], factor, signed=comparison))
        notes += [int(x) for x in t["n"] if x > 0]
    title = (f"{P.mineral_name(m, mineral)}: {'changes in ' if comparison else ''}prices, production and "
             f"import reliance, {when}")
    note = (f"Median [5th, 95th percentile] across draws of each draw's {when} "
            f"(non-converged periods excluded; at least {min(notes) if notes else 0} draws)"
            f"{'; paired differences, scenario ' + P.MINUS + ' counterfactual' if comparison else ''}. "
            f"n/a: not defined in any draw (e.g. a region that consumes none of the mineral has no "
            f"consumer price or import reliance).")
    rows = [[reg] + [c[k] for c in cells] for k, reg in enumerate(regions)]
    return Table(title, cols, rows, note)


def _other_terms_note(columns: list[str]) -> str:
    """The terms of the welfare table's revenue, rents and stock account column, in words."""
    sign = dict(P.WELFARE_COMPONENTS)
    plus = [P.output_label(c).lower() for c in columns if sign[c] > 0]
    minus = [P.output_label(c).lower() for c in columns if sign[c] < 0]

    def words(xs):
        return ", ".join(xs[:-1]) + " and " + xs[-1] if len(xs) > 1 else "".join(xs)

    text = words(plus) + (f", minus {words(minus)}" if minus else "")
    return f"Revenue, rents and stock account: {text}." if text else ""


def _welfare_table(r: Results, mineral: str, regions: list[str]) -> Table | None:
    if not (r.path / "draws.parquet").exists():
        return None
    m = r.manifest
    per_region = {}
    # consumer and producer surplus, every other term of net welfare (signed, from the
    # registry simsrc.outputs via plots.WELFARE_COMPONENTS) as one column, and net welfare
    cs, ps, net = "npv_cs_change", "npv_ps_change", "npv_net_welfare"
    others = []
    for reg in regions:
        w = P.welfare_components(r, mineral, reg)
        others = [c for c in w.columns if c not in (cs, ps, net)]
        per_region[reg] = (len(w), _median_interval(pd.DataFrame({
            "cs": w[cs], "ps": w[ps], "gov": w[others].sum(axis=1), "net": w[net]})))
    allv = np.array([v for _, p in per_region.values() for t in p.values() for v in t], dtype=float)
    # millions keep three digits for small regions; billions only for very large totals
    big = np.nanmax(np.abs(allv)) if np.isfinite(allv).any() else 0.0
    if big >= 1e12:
        factor, ulabel = 1e-9, "USD billion"
    elif big >= 1e6:
        factor, ulabel = 1e-6, "USD million"
    else:
        factor, ulabel = P.display_scale("USD", allv)
    names = {"cs": "Consumer surplus", "ps": "Producer surplus",
             "gov": "Revenue, rents and stock account, net", "net": "Net welfare"}
    cols = ["Region"] + list(names.values())
    columns = {}
    for key in names:
        centre = [per_region[reg][1][key][0] for reg in regions]
        lo = [per_region[reg][1][key][1] for reg in regions]
        hi = [per_region[reg][1][key][2] for reg in regions]
        columns[key] = _interval_cells(centre, lo, hi, factor, signed=P.is_comparison(m))
    rows = [[reg] + [columns[k][i] for k in names] for i, reg in enumerate(regions)]
    comparison = P.is_comparison(m)
    quiet = []
    if comparison:
        rows, quiet = _drop_quiet(rows)
    rate = m.get("discount_rate", _scenario_dict(m).get("outputs", {}).get("discount_rate"))
    ns = [n for n, _ in per_region.values()]
    title = f"{P.mineral_name(m, mineral)}: net present value of welfare{' changes' if comparison else ''}, {ulabel}"
    note = (f"Median [5th, 95th percentile] across draws, {ulabel}"
            f"{f', discounted at {rate:.1%}/yr' if rate is not None else ''}"
            f"{', scenario ' + P.MINUS + ' counterfactual' if comparison else ', against the baseline price path'}. "
            f"{_other_terms_note(others)} "
            f"Draws with any non-converged period excluded ({P.count_range(ns)} draws used)."
            + (f" No change in any draw: {', '.join(quiet)}." if quiet else ""))
    return Table(title, cols, rows, note)


def _assumption_blocks(r: Results, minerals: list[str]) -> list[Block]:
    m = r.manifest
    sc = _scenario_dict(m)
    blocks = [Block("heading", "Key assumptions", 1)]
    if not sc:
        blocks.append(Block("para", "The results folder does not record the resolved scenario "
                                    "(manifest['scenario']), so its assumptions cannot be listed here."))
        return blocks
    # elasticities: dataset ranges of the simulated minerals, and overrides
    ds = P.dataset_of(m) or (P.dataset_of({"dataset": sc["dataset"]}) if sc.get("dataset") else None)
    ds_name = getattr(ds, "name", None) or sc.get("dataset")
    ranges = sc.get("elasticity_ranges")
    blocks.append(Block("heading", "Elasticities", 2))
    if ds is not None:
        rows = []
        for mn in minerals:
            if mn in ds.minerals:
                el = ds.minerals[mn].elasticities
                rows.append([mn] + [f"{c:g} [{lo:g}, {hi:g}]" for c, lo, hi in
                                    (el.get(k, (np.nan,) * 3) for k in ("supply_elasticity", "demand_elasticity", "armington"))])
        blocks.append(Block("table", table=Table(
            f"Elasticities of dataset {ds.name}: central [low, high]",
            ["Mineral", "Supply elasticity", "Demand elasticity", "Armington elasticity"], rows,
            (f"Drawn once per draw from a {ranges} distribution over [low, high]." if ranges and ranges != "fixed"
             else "Central values used in every draw.") + " Elasticities are unitless.")))
    else:
        blocks.append(Block("para", f"Dataset {ds_name!r} could not be opened here; its elasticities are not listed."))
    params = sc.get("parameters") or []
    if params:
        blocks.append(Block("para", "Parameter overrides (later entries win where they overlap):"))
        blocks.append(Block("bullets", items=[
            f"{p.get('name')}: {str(p.get('parameter', '')).replace('_', ' ')} = {_fmt_value(p.get('value'))} "
            f"for minerals {_fmt_value(p.get('minerals', 'all'))}, regions {_fmt_value(p.get('regions', 'all'))}."
            + (f" {p['description'].strip()}" if p.get("description") else "") for p in params]))
    dyn = sc.get("dynamics") or {}
    if dyn:
        blocks.append(Block("heading", "Dynamics", 2))
        blocks.append(Block("bullets", items=[_setting_line("Dynamics", k, v) for k, v in dyn.items()]))
    cf = _scenario_dict(m, "counterfactual")
    if cf:  # a comparison: what differs from the counterfactual, and what both share
        diff, same = _element_differences(sc, cf)
        blocks.append(Block("heading", "Policies and events that differ from the counterfactual", 2))
        blocks.append(Block("bullets", items=diff or ["none: the two scenarios have the same policies and events"]))
        if same:
            blocks.append(Block("para", f"Identical in both ({len(same)}): {', '.join(same)}."))
    else:
        for key, name in (("policies", "Policies"), ("events", "Events")):
            items = sc.get(key) or []
            blocks.append(Block("heading", name, 2))
            if items:
                blocks.append(Block("bullets", items=[_element_line(d) for d in items]))
            else:
                blocks.append(Block("para", f"No {key}."))
    outs = sc.get("outputs") or {}
    if outs:
        blocks.append(Block("heading", "Reporting", 2))
        blocks.append(Block("bullets", items=[_setting_line("Outputs", k, v) for k, v in outs.items()]))
    if cf:
        blocks.append(Block("heading", f"Counterfactual: {cf.get('name', '?')}", 2))
        if cf.get("description"):
            blocks.append(Block("para", cf["description"].strip()))
    return blocks


def _summary_regions(r: Results) -> list[str]:
    """The regions of the summary: the focus region first, then CHN, EU, JPN where present."""
    regs = P.regions_of(r)
    out = [x for x in (FOCUS_REGION, "CHN", "EU", "JPN") if x in regs]
    return out or regs[:4]


def _first_sentences(text: str, n: int = 2) -> str:
    parts = [p.strip() for p in str(text or "").replace("\n", " ").split(". ") if p.strip()]
    out = ". ".join(parts[:n])
    return out + ("" if out.endswith(".") else ".") if out else ""


def _caveats(r: Results, minerals, eff) -> list[str]:
    m = r.manifest
    out = []
    nc = m.get("nonconverged_solves") or {}
    bad = {k: (sum(v.values()) if isinstance(v, dict) else v) for k, v in nc.items()}
    bad = {k: v for k, v in bad.items() if v}
    if bad:
        out.append("Non-converged market clearings (excluded from summaries, their draws from NPV tables): "
                   + ", ".join(f"{P.mineral_name(m, k)} {N.fmt(v)}" for k, v in bad.items()) + ".")
    else:
        out.append("Every market clearing converged.")
    flags = m.get("welfare_flags") or {}
    fl = {k: (sum(v.values()) if isinstance(v, dict) else v) for k, v in flags.items() if k in minerals}
    fl = {k: v for k, v in fl.items() if v}
    if fl:
        periods = int(m.get("draws", 0) or 0) * int(m.get("periods", 0) or 0) * len(m.get("regions") or [])
        worst = sorted(fl.items(), key=lambda kv: -kv[1])[:4]
        out.append(f"Welfare flags in {len(fl)} minerals (a region-period whose welfare change exceeds the value "
                   "of its baseline consumption), most in "
                   + ", ".join(f"{P.mineral_name(m, k)} ({N.fmt_pct(v / periods, 2)} of region-periods)"
                               if periods else P.mineral_name(m, k) for k, v in worst[:2])
                   + ": read their welfare figures with care.")
    if eff is not None and len(eff):
        heavy = eff[eff["mineral"].isin(minerals) & (eff["tail_share"] > 0.25)]
        if len(heavy):
            ex = ", ".join(f"{P.mineral_name(m, x.mineral)} {x.measure} ({x.region})" for x in heavy.head(2).itertuples())
            out.append(f"Heavy tails: {len(heavy)} of {int((eff['mineral'].isin(minerals)).sum())} headline effects take "
                       f"more than 25% of sum |effect| from the top 1% of draws (e.g. {ex}): read their medians.")
        else:
            out.append("Tail diagnostic: no headline effect has more than 25% of sum |effect| from the top 1% of draws.")
    out.append("Intervals cover the declared uncertain inputs and events, not the model's structure or data.")
    return out


def _drivers(r: Results) -> list[str]:
    """The main drivers, when a sensitivity table is stored with the results."""
    for kind, col in (("sobol", "ST"), ("morris", "mu_star"), ("tornado", None)):
        path = P.find_table(r, kind)
        if path is None:
            continue
        df = P.read_table(path)
        if kind == "tornado" and {"low", "high"} <= set(df.columns):
            df = df.assign(_k=(df["high"] - df["low"]).abs())
            col = "_k"
        if col not in df.columns or "parameter" not in df.columns:
            continue
        top = df.sort_values(col, ascending=False).head(3)
        return [f"{kind.capitalize()} study stored with these results: the largest drivers are "
                + ", ".join(f"{x.parameter} ({N.fmt(getattr(x, col), 2)})" for x in top.itertuples()) + "."]
    return []


def _key_height(n: int) -> float:
    """Height (in) of the summary's key figure for ``n`` minerals."""
    return min(4.0, 0.6 + 0.15 * n)


def _summary_blocks(r: Results, minerals, eff, untouched) -> tuple[list[Block], list[ReportFigure]]:
    """Page one: what the policy changes, for whom, how sure; the headline table, one key
    figure, the drivers if a sensitivity study exists, the caveats."""
    m = r.manifest
    focus = FOCUS_REGION if FOCUS_REGION in P.regions_of(r) else P.regions_of(r)[0]
    blocks = [Block("heading", "Summary", 1)]
    sc = _scenario_dict(m)
    figures = []
    span = H.period_range(m)
    if eff is not None:
        a, b = P.comparison_names(m)
        blocks.append(Block("para", f"{a} against {b}, {m.get('draws')} paired draws, {span}. "
                                    f"The policy moves {len(minerals)} of {len(minerals) + len(untouched)} minerals"
                                    + (f"; the other {len(untouched)} are unchanged in every draw (listed at the end)."
                                       if untouched else ".")))
        e = eff[eff["mineral"].isin(minerals)]
        rows = []
        for mn in minerals:
            g = e[(e["mineral"] == mn) & (e["region"] == focus)].set_index("measure")

            def c(measure, pct=False):
                if measure not in g.index:
                    return N.NA
                row = g.loc[measure]
                return (H.pct_cell(row, typeset=True) or N.NA) if pct else H.cell(row, typeset=True, signed=True)
            unit = g.loc["consumer price", "unit"] if "consumer price" in g.index else ""
            rows.append([P.mineral_name(m, mn), c("consumer price", True), c("consumer price"), unit,
                         c("net welfare NPV")])
        blocks.append(Block("table", table=Table(
            f"What the policy changes in {focus}: median [5th, 95th percentile] of the paired effect",
            ["Mineral", "Consumer price, % of counterfactual", "Consumer price change", "Unit",
             "Net welfare NPV (USD m)"], rows,
            f"Consumer price: each draw's mean over {span}; net welfare: NPV over {span} at "
            f"{m.get('discount_rate', 0.05):.0%}/yr. Scenario {P.MINUS} counterfactual, paired by draw; every table "
            f"and chart of this report uses this statistic.")))
        blocks.append(Block("figures", items=[key := _spec_figure(r, "summary-key", _key_height(len(minerals)),
                                                                  "mineral_effects", "consumer price", focus,
                                                                  minerals)]))
        figures.append(key)
        regs = _summary_regions(r)
        rows = []
        for mn in minerals:
            g = e[(e["mineral"] == mn) & (e["measure"] == "net welfare NPV")].set_index("region")
            rows.append([P.mineral_name(m, mn)] + [H.cell(g.loc[reg], typeset=True, signed=True) if reg in g.index
                                                   else N.NA for reg in regs])
        who = (Block("table", table=Table(
            "For whom: net welfare NPV by region, USD m, median [5th, 95th percentile]", ["Mineral"] + regs, rows,
            "Consumer and producer surplus, revenues, rents, floor costs and the stock account (docs/model.md "
            "sec. 5); by region in each mineral's section.")),)
    else:
        blocks.append(Block("para", f"{m.get('scenario_name')}: {m.get('draws')} draws, {span}. "
                                    f"{_first_sentences(sc.get('description'), 2)}"))
        t = H.run_headline(r.path, [focus], minerals)
        last = H.period_name(m, int(m["periods"]) - 1)
        rows = []
        for mn in minerals:
            g = t[t["mineral"] == mn]
            cp = g[(g["measure"] == "consumer price") & (g["period"] == last)]
            ir = g[g["measure"] == "import reliance"]
            nw = g[g["measure"] == "net welfare NPV"]
            rows.append([P.mineral_name(m, mn), H._price_unit(m, mn),
                         H.cell(cp.iloc[0], typeset=True) if len(cp) else N.NA,
                         H.cell(ir.iloc[0], typeset=True) if len(ir) else N.NA,
                         H.cell(nw.iloc[0], typeset=True, signed=True) if len(nw) else N.NA])
        blocks.append(Block("table", table=Table(
            f"{focus}: headline outcomes, median [5th, 95th percentile] across draws",
            ["Mineral", "Price unit", f"Consumer price, {last}", f"Import reliance, {last}",
             "Net welfare NPV (USD m)"], rows,
            f"Net welfare: NPV over {span} of the change against the baseline price path. Every table and chart of "
            f"this report uses this statistic (simsrc.headline).")))
        key = _spec_figure(r, "summary-key", _key_height(len(minerals)), "mineral_effects", "import reliance",
                           focus, minerals)
        figures.append(key)
        blocks.append(Block("figures", items=[key]))
        who = ()
    drivers = _drivers(r)
    blocks.append(Block("heading", "Main drivers", 2))
    blocks.append(Block("para", " ".join(drivers) if drivers else
                        "No sensitivity study is stored with these results; `simsrc sensitivity` measures which "
                        "declared uncertain inputs drive an outcome."))
    blocks.append(Block("heading", "Caveats", 2))
    blocks.append(Block("bullets", items=_caveats(r, minerals, eff)))
    return blocks + list(who), figures


def _element_differences(sc: dict, cf: dict) -> tuple[list[str], list[str]]:
    """The scenario's policies and events that differ from the counterfactual's (added,
    changed, removed), and the names of those identical in both."""
    diff, same = [], []
    for key, word in (("policies", "policy"), ("events", "event")):
        a = {d.get("name"): d for d in sc.get(key) or []}
        b = {d.get("name"): d for d in cf.get(key) or []}
        for name, d in a.items():
            if name not in b:
                diff.append(f"Added {word}: {_element_line(d)}")
            elif d != b[name]:
                keys = sorted(k for k in set(d) | set(b[name]) if d.get(k) != b[name].get(k) and k != "description")
                diff.append(f"Changed {word} {name}: " + ("description only" if not keys else "") + "; ".join(
                    f"{k.replace('_', ' ')} {_fmt_value(b[name].get(k))} \u2192 {_fmt_value(d.get(k))}" for k in keys))
            else:
                same.append(name)
        for name, d in b.items():
            if name not in a:
                diff.append(f"Only in the counterfactual ({word}): {_element_line(d)}")
    return diff, same


def _setting_line(model: str, key: str, value) -> str:
    """``lead time 3: Lead time L between investment and new capacity (years)``, the meaning
    (with its unit) taken from the scenario model's field description when available."""
    line = f"{key.replace('_', ' ')} {_fmt_value(value)}"
    try:
        from .scenario import model as scenario_model
        desc = getattr(scenario_model, model).model_fields[key].description or ""
    except Exception:  # the scenario package is optional here: plain settings then
        desc = ""
    first = desc.split(". ")[0].strip().rstrip(".")
    return f"{line}: {first}." if first else f"{line}."


def _run_facts(r: Results) -> list[str]:
    m = r.manifest
    h = m.get("horizon") or {}
    facts = []
    if P.is_comparison(m):
        a, b = P.comparison_names(m)
        facts.append(f"Comparison: {a} minus {b}, paired on the same draws (common random numbers); every "
                     f"figure and table shows these differences.")
    if h:
        labels = P.period_labels(h, int(h.get("periods", 0) or 0))
        facts.append(f"Horizon: {h.get('periods')} {h.get('period', 'period')}s"
                     + (f", {labels[0]} to {labels[-1]}" if labels else "") + ".")
    facts.append(f"Draws: {m.get('draws', '?')}; seed {m.get('seed_entropy', m.get('seed', '?'))}.")
    nc = m.get("nonconverged_solves")
    if nc is not None:
        solves = m.get("solves") or {}
        parts = []
        for mineral, v in nc.items():
            if not (sum(v.values()) if isinstance(v, dict) else v):
                continue
            if isinstance(v, dict):  # a comparison counts both sides
                parts.append(f"{mineral} " + ", ".join(f"{n} ({side})" for side, n in v.items()))
            else:
                parts.append(f"{mineral} {v}" + (f" of {solves[mineral]}" if mineral in solves else ""))
        facts.append(f"Non-converged market clearings: {'; '.join(parts)}. Summaries exclude them; "
                     f"NPV tables and charts exclude draws with any." if parts else
                     "Every market clearing converged.")
    facts.append(f"Minerals: {', '.join(P.minerals_of(r))}; regions: {', '.join(P.regions_of(r))}.")
    d = P.data_source(m)
    if d:
        facts.append(f"Baseline data: {d}.")
    facts.append(f"simsrc {m.get('package_version', __version__)}"
                 + (f", git {str(m['git_commit'])[:10]}" if m.get("git_commit") else "")
                 + (f"; run {m['created_utc']}" if m.get("created_utc") else "")
                 + (f", wall time {m['wall_time_s']:.1f} s" if isinstance(m.get("wall_time_s"), (int, float)) else "")
                 + f"; results folder {r.path.name}.")
    return facts


def _figures(r: Results, mineral: str) -> list[ReportFigure]:
    regions = P.regions_of(r, mineral)
    s = P.summary_of(r)
    s = s[(s["mineral"] == mineral) & (s["output"] == "consumer_price") & (s["n"] > 0)]
    with_data = [x for x in regions if x in set(s["region"])] or regions  # e.g. regions that consume it
    fan_regs = ([x for x in FAN_REGIONS if x in with_data] + [x for x in with_data if x not in FAN_REGIONS])
    fan_regs = fan_regs[:len(FAN_REGIONS)]
    focus = FOCUS_REGION if FOCUS_REGION in regions else regions[0]
    outs = P.outputs_of(r)
    _, _, grid_h = P.fan_grid_shape(len(fan_regs))
    figs = []
    has_draws = (r.path / "draws.parquet").exists()
    figs = []
    # in pairs that fit a page: a fan grid with a bar chart
    if "consumer_price" in outs:
        figs.append(_spec_figure(r, f"fan-{mineral}-consumer_price", grid_h, "fan_grid", "consumer_price", mineral,
                                 fan_regs))
        figs.append(_spec_figure(r, f"effects-{mineral}-consumer_price", BAR_H, "region_effects", "consumer_price",
                                 mineral))
    if "net_import_reliance" in outs and not _constant_everywhere(r, mineral, "net_import_reliance", fan_regs):
        figs.append(_spec_figure(r, f"fan-{mineral}-net_import_reliance", grid_h, "fan_grid", "net_import_reliance",
                                 mineral, fan_regs))
    if has_draws:
        figs.append(_spec_figure(r, f"effects-{mineral}-npv_net_welfare", BAR_H, "region_effects", "npv_net_welfare",
                                 mineral))
        figs.append(_spec_figure(r, f"welfare-{mineral}-{focus}", WELFARE_H, "welfare_distribution", mineral, focus))
    return figs


def _spec_figure(r: Results, key: str, height: float, fn: str, *args, **kwargs) -> ReportFigure:
    """A report figure drawn by ``simsrc.plots.<fn>(results, *args, ax=container, **kwargs)``."""
    return ReportFigure(key, lambda c: getattr(P, fn)(r, *args, ax=c, **kwargs), height,
                        spec=(fn, args, kwargs))


def _constant_everywhere(r: Results, mineral: str, output: str, regions) -> bool:
    """True when every region's series of ``output`` is constant (e.g. import reliance 0 or
    100% in every draw and period): a figure without information, left out."""
    s = P.summary_of(r)
    s = s[(s["mineral"] == mineral) & (s["output"] == output) & s["region"].isin(list(regions)) & (s["n"] > 0)]
    return all(P.is_constant(g[["p5", "p50", "p95"]].to_numpy()) for _, g in s.groupby("region"))


def _sensitivity_figures(r: Results) -> list[ReportFigure]:
    """Charts of the sensitivity tables stored in the folder (tornado, sobol, morris, sweep).

    A table holding several minerals, regions or outputs is left to `simsrc plot`, which
    selects one.
    """
    figs = []
    for kind in ("tornado", "sobol", "morris", "sweep"):
        path = P.find_table(r, kind)
        if path is None:
            continue
        df = P.read_table(path)
        if any(c in df.columns and df[c].nunique() > 1 for c in P.SELECTORS):
            continue
        n = len(df) if kind != "sweep" else 0
        height = max(P.FIG_HEIGHT, 1.4 + 0.3 * n)
        figs.append(ReportFigure(f"{kind}", lambda c, k=kind, d=df: P.table_figure(r, k, d, ax=c), height))
    return figs


def _sensitivity_content(r: Results) -> dict:
    """The report of a sensitivity folder: the study's facts, then per outcome its indices
    (95% intervals) and its chart."""
    m = r.manifest
    idx = pd.read_parquet(r.path / "indices.parquet")
    method = m["method"]
    main = {"sobol": "ST", "morris": "mu_star", "fast": "ST", "delta": "delta", "pawn": "median"}[method]
    blocks = [Block("heading", "Sensitivity analysis", 1),
              Block("para", (_scenario_dict(m).get("description") or "").strip() or str(m.get("scenario_name"))),
              Block("bullets", items=[
                  f"Method: {method}, N = {m['N']}, {m['rows']} design rows, {m['failed_rows']} failed "
                  f"({m['rows_dropped']} rows dropped: {m['failure_rule']})",
                  f"Inputs: {len(m['inputs'])} declared uncertain inputs that can move the outcomes; "
                  f"{m['held_at_central_value']} held at its mean",
                  f"Stochastic elements: {m['stochastic_elements']}",
                  "Intervals: 95% bootstrap; convergence: the main index on half the design against the whole"])]
    figures = []
    for lab in m["outcomes"]:
        chk = m["checks"].get(lab, {})
        blocks.append(Block("heading", lab, 2))
        if not chk.get("analysed"):
            blocks.append(Block("para", f"Not analysed: {chk.get('why')}"))
            continue
        part = idx[idx["outcome"] == lab]
        w = part.pivot_table(index="parameter", columns="index", values=["value", "conf"])
        w = w.sort_values(("value", main), ascending=False).head(10)
        cols = [c for c in w["value"].columns]
        rows = [[p] + [f"{w.loc[p, ('value', c)]:.3g}" + (f" ± {w.loc[p, ('conf', c)]:.2g}"
                                                         if ('conf', c) in w.columns and w.loc[p, ('conf', c)] == w.loc[p, ('conf', c)] else "")
                       for c in cols] for p in w.index]
        sh = (m.get("shocks") or {}).get(lab, {})
        note = (("converged" if chk.get("converged") else "not converged at this N") + (
            f"; the stochastic elements add {100 * sh['shock_share']:.0f}% of the variance" if sh else ""))
        blocks.append(Block("table", table=Table(f"{method} indices (largest {main} first)", ["input"] + cols, rows, note)))
        mineral, region = part["mineral"].iloc[0], part["region"].iloc[0]
        output = part["output"].iloc[0]
        kind = "morris" if method == "morris" else ("sobol" if method in ("sobol", "fast") else None)
        if kind:
            table = P.read_table(P.find_table(r, kind))
            fig = ReportFigure(f"{kind}-{mineral}-{output}-{region}",
                               lambda c, k=kind, d=table, mi=mineral, re_=region, o=output:
                               P.table_figure(r, k, d[d["output"] == o].drop(columns="percent", errors="ignore")
                                              if "percent" in d.columns else d, mineral=mi, region=re_, output=o,
                                              unit="%" if bool(part["percent"].iloc[0]) else None, ax=c),
                               max(P.FIG_HEIGHT, 1.4 + 0.3 * min(len(w), 12)))
            figures.append(fig)
            blocks.append(Block("figures", items=[fig]))
    return {"title": f"Sensitivity: {m.get('scenario_name')}", "subtitle": f"{method} indices of the declared uncertain inputs",
            "blocks": blocks, "figures": figures, "source": P.source_line(m)}


def report_content(results, minerals=None) -> dict:
    """Everything a report shows, independent of the output format.

    Parameters
    ----------
    results : Results or path
        A results or comparison folder.
    minerals : list of str, optional
        Minerals reported (default: all, in the folder's order).

    Returns
    -------
    dict
        ``title``, ``subtitle``, ``blocks`` (list of :class:`Block`: headings, paragraphs,
        bullet lists, tables and figure groups) and ``figures`` (all :class:`ReportFigure`).
    """
    r = results if isinstance(results, Results) else Results(results)
    m = r.manifest
    if m.get("kind") == "sensitivity":
        return _sensitivity_content(r)
    sc = _scenario_dict(m)
    comparison = P.is_comparison(m)
    title = (P.scenario_title(m) if comparison
             else str(m.get("scenario_name") or sc.get("name") or r.path.name))
    subtitle = ("Policy effects: paired differences, scenario " + P.MINUS + " counterfactual" if comparison
                else "Monte Carlo simulation of critical-mineral trade policy")
    minerals = [P.check_mineral(r, x) for x in minerals] if minerals else P.minerals_of(r)
    eff = _effects(r, _summary_regions(r), minerals)
    untouched = []
    if eff is not None:  # a comparison reports the minerals its policy moves
        moved = H.touched(eff)
        untouched = [x for x in minerals if x not in moved]
        minerals = [x for x in minerals if x in moved] or minerals[:1]
    summary, figures = _summary_blocks(r, minerals, eff, untouched)
    blocks = summary + [Block("newpage"), Block("heading", "Scenario", 1)]
    desc = sc.get("description") or m.get("description")
    blocks.append(Block("para", desc.strip() if desc else "No description recorded."))
    blocks.append(Block("bullets", items=_run_facts(r)))
    blocks += _assumption_blocks(r, minerals)
    for mineral in minerals:
        regions = P.regions_of(r, mineral)
        blocks.append(Block("pagebreak"))
        blocks.append(Block("heading", f"{P.mineral_name(m, mineral)} ({mineral})", 1))
        blocks.append(Block("table", table=_market_table(r, mineral, regions)))
        wt = _welfare_table(r, mineral, regions)
        if wt is not None:
            blocks.append(Block("table", table=wt))
        blocks.append(Block("figures", items=_figures(r, mineral)))
    if untouched:
        blocks.append(Block("pagebreak"))
        blocks.append(Block("heading", "Minerals the policy does not move", 1))
        blocks.append(Block("para", "Every paired difference is exactly 0 (the same draws, the same policies in "
                                    "these markets): " + ", ".join(f"{P.mineral_name(m, x)} ({x})" for x in untouched)
                                    + "."))
    sens = _sensitivity_figures(r)
    if sens:
        blocks.append(Block("pagebreak"))
        blocks.append(Block("heading", "Sensitivity", 1))
        blocks.append(Block("figures", items=sens))
        figures += sens
    figures += [f for b in blocks if b.kind == "figures" for f in b.items if f not in figures]
    return {"title": title, "subtitle": subtitle, "blocks": blocks, "figures": figures,
            "source": P.source_line(m)}


# ---------------------------------------------------------------------------------------------
# writers

#: Worker processes that render a report's figures (at most; fewer for few figures).
RENDER_WORKERS = max(1, min(4, os.cpu_count() or 1))


def _render_one(path: str, key: str, spec: tuple, height: float, png: str, dpi: int) -> tuple[str, str]:
    """Draw one figure from its spec and save its PNG (in a worker process): (key, caption)."""
    import matplotlib
    matplotlib.use("Agg", force=True)
    from . import plots as P_
    from .results import Results as R_

    fn, args, kwargs = spec
    with P_.style():
        fig = Figure(figsize=(P_.FIG_WIDTH, height), layout="constrained")
        getattr(P_, fn)(_results_cache(path, R_), *args, ax=fig, **kwargs)
    pixels = _rasterise(fig, png, dpi)
    return key, P_.caption_of(fig), pixels


def _rasterise(fig, png, dpi: int):
    """Draw ``fig`` once at ``dpi``, write the PNG, return the pixels (the PDF embeds them)."""
    import matplotlib.image as mpimg
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    fig.set_dpi(dpi)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba()).copy()
    mpimg.imsave(png, pixels, format="png",
                 metadata={"Software": f"simsrc {__version__}", "Description": getattr(fig, "simsrc_caption", "")})
    return pixels


_RESULTS = {}


def _results_cache(path, cls):
    if path not in _RESULTS:
        _RESULTS[path] = cls(path)
    return _RESULTS[path]


def _warm():
    """Import the plotting stack in a worker while the main process builds the content."""
    import matplotlib
    matplotlib.use("Agg", force=True)
    from . import headline, plots  # noqa: F401
    return os.getpid()


def _start_pool(workers: int):
    """A pool of ``workers`` processes (forkserver, else spawn), already importing simsrc.plots."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    methods = mp.get_all_start_methods()
    ctx = mp.get_context("forkserver" if "forkserver" in methods else "spawn")
    if ctx.get_start_method() == "forkserver":  # the server imports the plotting stack once; workers fork from it
        ctx.set_forkserver_preload(["matplotlib.backends.backend_agg", "simsrc.plots", "simsrc.headline"])
    ex = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
    for _ in range(workers):
        ex.submit(_warm)
    return ex


def _render_pngs(figures: list[ReportFigure], folder: Path, dpi: int, results: Results | None = None,
                 workers: int | None = None, pool=None) -> dict[str, Path]:
    """Draw each figure once at 6.5 in width (no footer: the report captions it) and save a
    PNG; the Markdown, HTML and PDF all use these images.

    Figures with a ``spec`` are submitted to worker processes (forkserver or spawn, Agg
    backend; ``pool``, or a new one when there are enough figures) in report order, and
    :func:`_resolve` waits for each when it is needed, so the PDF's pages are composed while
    the figures render; the others are drawn in this process when resolved.
    """
    folder.mkdir(parents=True, exist_ok=True)
    from .results import safe_component

    out = {f.key: folder / f"{safe_component(f.key)}.png" for f in figures}  # keys hold codes read from the results folder
    for old in folder.glob("*.png"):  # figures of an earlier report that this one does not have
        if old not in out.values():
            old.unlink()
    todo = [f for f in figures if f.spec is not None and results is not None]
    workers = RENDER_WORKERS if workers is None else workers
    if todo and pool is None and workers > 1 and len(todo) >= 4:
        pool = _start_pool(min(workers, len(todo)))
    for f in figures:
        f.png, f.dpi = out[f.key], dpi
        if pool is not None and f in todo:
            f.future = pool.submit(_render_one, str(results.path), f.key, f.spec, f.height, str(out[f.key]), dpi)
    return out


def _resolve(f: ReportFigure) -> ReportFigure:
    """Wait for a figure's worker (or draw it here): its caption and pixels are then set."""
    fut = getattr(f, "future", None)
    if fut is not None:
        _, caption, pixels = fut.result()
        f.caption, f.pixels, f.future = caption or f.caption, pixels, None
    elif f.pixels is None:
        with P.style():
            fig = Figure(figsize=(P.FIG_WIDTH, f.height), layout="constrained")
            f.draw(fig)
        f.caption = P.caption_of(fig) or f.caption
        f.pixels = _rasterise(fig, f.png, f.dpi)
    return f


def _markdown(content: dict, pngs: dict[str, Path], base: Path) -> str:
    lines = [f"# {content['title']}", "", f"*{content['subtitle']}*", ""]
    k = 0
    for b in content["blocks"]:
        if b.kind == "heading":
            lines += [("#" * (b.level + 1)) + " " + b.text, ""]
        elif b.kind == "para":
            lines += [b.text, ""]
        elif b.kind == "bullets":
            lines += [f"- {x}" for x in b.items] + [""]
        elif b.kind == "table":
            t = b.table
            esc = [[c.replace("|", "\\|") for c in row] for row in t.rows]
            lines += [f"**{t.title}**", "", "| " + " | ".join(t.columns) + " |",
                      "|" + "|".join(["---"] + ["---:"] * (len(t.columns) - 1)) + "|"]
            lines += ["| " + " | ".join(row) + " |" for row in esc]
            lines += ["", f"*{t.note}*" if t.note else "", ""]
        elif b.kind == "figures":
            for f in b.items:
                k += 1
                rel = pngs[f.key].relative_to(base).as_posix()
                lines += [f"![Figure {k}]({rel})", "", f"*Figure {k}. {f.caption}*", ""]
    lines += ["---", f"Generated by simsrc {__version__} on "
              f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}. Source: {content['source']}.", ""]
    return "\n".join(lines)


_CSS = """
body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;max-width:52em;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.7em;margin-bottom:.1em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}
.subtitle{color:#555;font-style:italic;margin-top:0}
table{border-collapse:collapse;font-size:.85em;margin:.6em 0}
th,td{padding:.25em .6em;border-bottom:1px solid #e3e3e3;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}th{border-bottom:2px solid #999;vertical-align:bottom}
caption{caption-side:top;text-align:left;font-weight:bold;padding-bottom:.3em}
.note{font-size:.85em;color:#555;margin-top:0}
figure{margin:1.2em 0}figure img{width:100%;max-width:6.5in}
figcaption{font-size:.9em;color:#333}footer{margin-top:3em;font-size:.8em;color:#666}
"""


def _html(content: dict, pngs: dict[str, Path]) -> str:
    e = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{e(content['title'])}: simsrc report</title>",
             f"<style>{_CSS}</style></head><body>",
             f"<h1>{e(content['title'])}</h1>", f'<p class="subtitle">{e(content["subtitle"])}</p>']
    k = 0
    for b in content["blocks"]:
        if b.kind == "heading":
            lvl = b.level + 1
            parts.append(f"<h{lvl}>{e(b.text)}</h{lvl}>")
        elif b.kind == "para":
            parts.append(f"<p>{e(b.text)}</p>")
        elif b.kind == "bullets":
            parts.append("<ul>" + "".join(f"<li>{e(x)}</li>" for x in b.items) + "</ul>")
        elif b.kind == "table":
            t = b.table
            parts.append(f"<table><caption>{e(t.title)}</caption><thead><tr>"
                         + "".join(f"<th>{e(c)}</th>" for c in t.columns) + "</tr></thead><tbody>"
                         + "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in t.rows)
                         + "</tbody></table>")
            if t.note:
                parts.append(f'<p class="note">{e(t.note)}</p>')
        elif b.kind == "figures":
            for f in b.items:
                k += 1
                data = base64.b64encode(pngs[f.key].read_bytes()).decode("ascii")
                parts.append(f'<figure><img alt="Figure {k}: {e(f.caption)}" src="data:image/png;base64,{data}">'
                             f"<figcaption><b>Figure {k}.</b> {e(f.caption)}</figcaption></figure>")
    parts.append(f"<footer>Generated by simsrc {__version__} on "
                 f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}. Source: {e(content['source'])}."
                 "</footer></body></html>")
    return "\n".join(parts)


class _PdfWriter:
    """Flows headings, paragraphs, bullets and tables onto letter pages, then figures.

    Text is placed line by line (``self.y``: inches from the top). Figures go below the text
    of the current page when they fit, else on new pages, as many as fit per page; they are
    drawn into subfigures of the page (constrained layout restricted to the figures' part of
    the page), so they stay vector graphics.
    """

    def __init__(self, pdf: PdfPages, header: str, pngs: dict | None = None):
        self.pdf, self.header = pdf, header
        self.pngs = pngs or {}
        self.page = None
        self.has_figures = False
        self.y = 0.0
        self.n = 0

    # pages
    def _new_page(self):
        self.close_page()
        self.n += 1
        self.page = Figure(figsize=(PAGE_W, PAGE_H))
        self.page.text(MARGIN / PAGE_W, 1 - 0.45 / PAGE_H, self.header, fontsize=SMALL_PT, color="#666666",
                       va="bottom")
        self.page.text(1 - MARGIN / PAGE_W, 0.45 / PAGE_H, f"{self.n}", fontsize=SMALL_PT, color="#666666",
                       ha="right", va="top")
        self.y = MARGIN_V
        self.has_figures = False
        return self.page

    def close_page(self):
        if self.page is not None:
            self.pdf.savefig(self.page)
            self.page = None

    def soft_break(self, keep: float = 4.0):
        """Start a new page unless ``keep`` inches remain on this one."""
        if self.page is not None and PAGE_H - MARGIN_V - self.y < keep:
            self.close_page()
        elif self.page is not None:
            self.y += 0.15

    def _room(self, h):
        if self.page is None or self.y + h > PAGE_H - MARGIN_V:
            self._new_page()

    def _line(self, text, size, x=0.0, weight="normal", family="DejaVu Sans", color="#111111", style="normal"):
        self.page.text((MARGIN + x) / PAGE_W, 1 - self.y / PAGE_H, text, fontsize=size, va="top",
                       fontweight=weight, family=family, color=color, fontstyle=style)

    # blocks
    def title(self, title, subtitle):
        self._new_page()
        for line in textwrap.wrap(title, int(TEXT_W * 72 / (HEADING_PT[0] * 0.6))):
            self._line(line, HEADING_PT[0], weight="bold")
            self.y += HEADING_PT[0] * 1.3 / 72
        self._line(subtitle, BODY_PT + 1, style="italic", color="#444444")
        self.y += 0.4

    def heading(self, text, level):
        size = HEADING_PT.get(level, BODY_PT)
        self._room(size * 3 / 72 + 0.5)  # keep a heading with what follows
        self.y += 0.12 if level > 1 else 0.2
        self._line(text, size, weight="bold")
        self.y += size * 1.55 / 72

    def para(self, text, size=BODY_PT, indent=0.0, bullet=None, style="normal", color="#111111", weight="normal"):
        width = int((TEXT_W - indent) * 72 / (size * SANS_EM))
        lines = textwrap.wrap(text, width) or [""]
        lh = size * 1.35 / 72
        for k, line in enumerate(lines):
            self._room(lh)
            if bullet and k == 0:
                self._line(bullet, size, x=indent - 0.15)
            self._line(line, size, x=indent, style=style, color=color, weight=weight)
            self.y += lh
        self.y += size * 0.5 / 72

    def bullets(self, items):
        for it in items:
            self.para(it, indent=0.2, bullet="\u2022")

    def table(self, t: Table):
        """A typeset table: proportional font, numbers right-aligned, headers wrapped and
        repeated on every page the table spans; a row is never split."""
        size = TABLE_PT
        gap = 10.0  # points between columns
        avail = TEXT_W * 72
        for _ in range(6):
            widths = []
            heads = []
            for j, col in enumerate(t.columns):
                cells = [row[j] for row in t.rows]
                cw = max([_text_width(c, size) for c in cells] + [0.0])
                words = col.split()
                longest = max((_text_width(w, size, bold=True) for w in words), default=0.0)
                w = max(cw, longest, min(_text_width(col, size, bold=True), max(cw, 60.0)))
                widths.append(w)
                heads.append(_wrap_to(col, w, size))
            total = sum(widths) + gap * (len(widths) - 1)
            if total <= avail or size <= 5.5:
                break
            size = max(5.5, size * avail / total * 0.98)
        scale = min(1.0, avail / total) if total > 0 else 1.0
        widths = [w * scale for w in widths]
        nh = max(len(h) for h in heads)
        lh = size * 1.45 / 72
        lefts = [sum(widths[:j]) + gap * scale * j for j in range(len(widths))]
        width_in = (sum(widths) + gap * scale * (len(widths) - 1)) / 72

        def header():
            for i in range(nh):
                for j, h in enumerate(heads):
                    k = i - (nh - len(h))
                    if k >= 0:
                        x = lefts[j] / 72 if j == 0 else (lefts[j] + widths[j]) / 72
                        self._text(x, h[k], size, weight="bold", ha="left" if j == 0 else "right")
                self.y += lh
            self._rule(width_in)

        self._room((nh + min(len(t.rows), 6) + 3) * lh + 0.4)  # title, header and a few rows together
        self.para(t.title, weight="bold")
        self.y -= 0.02
        header()
        for i, row in enumerate(t.rows):
            if self.y + lh > PAGE_H - MARGIN_V:  # a new page: the title (continued) and the header again
                self._new_page()
                self.para(f"{t.title} (continued)", weight="bold")
                header()
            if i % 2 == 1:
                self._band(width_in, lh)
            for j, c in enumerate(row):
                x = lefts[j] / 72 if j == 0 else (lefts[j] + widths[j]) / 72
                self._text(x, c, size, ha="left" if j == 0 else "right")
            self.y += lh
        self._rule(width_in)
        if t.note:
            self.y += 0.03
            self.para(t.note, size=SMALL_PT, color="#444444")
        self.y += 0.12

    def _text(self, x, text, size, weight="normal", ha="left"):
        self.page.text((MARGIN + x) / PAGE_W, 1 - self.y / PAGE_H, text, fontsize=size, va="top", ha=ha,
                       fontweight=weight, family="DejaVu Sans", color="#111111")

    def _band(self, width, h):
        from matplotlib.patches import Rectangle

        self.page.add_artist(Rectangle((MARGIN / PAGE_W, 1 - (self.y + h - 0.01) / PAGE_H), width / PAGE_W,
                                       h / PAGE_H, transform=self.page.transFigure, color="#F2F2F2", lw=0, zorder=0))

    def _rule(self, width):
        self.y += 0.02
        self.page.add_artist(_hline(MARGIN / PAGE_W, (MARGIN + width) / PAGE_W, 1 - self.y / PAGE_H))
        self.y += 0.04

    def figures(self, figs: list[ReportFigure], start_number: int) -> int:
        """Place figures with numbered captions, below the current text when they fit."""
        chars = int(TEXT_W * 72 / (CAPTION_PT * SANS_EM))
        k = start_number
        sized = []
        for f in figs:
            _resolve(f)
            cap_lines = len(textwrap.wrap(f"Figure 00. {f.caption}", chars))
            sized.append((f, cap_lines * CAPTION_PT * 1.35 / 72 + 0.12))
        # pack greedily: the first group into what is left of this page, if the first figure fits
        room = PAGE_H - MARGIN_V - self.y - 0.15 if (self.page is not None and not self.has_figures) else 0.0
        groups, cur, used = [], [], 0.0
        cap = room if sized and sized[0][0].height + sized[0][1] <= room else TEXT_H
        on_this_page = cap == room and room > 0
        for f, c in sized:
            need = f.height + c + FIG_GAP
            if cur and used + need > cap + FIG_GAP:
                groups.append(cur)
                cur, used, cap = [], 0.0, TEXT_H
            cur.append((f, c))
            used += need
        if cur:
            groups.append(cur)
        for g, group in enumerate(groups):
            if not (g == 0 and on_this_page):
                self._new_page()
            page = self.page
            for f, c in group:
                k += 1
                # the figure's PNG (rendered once for all three formats), at text width
                img = _resolve(f).pixels
                ax = page.add_axes((MARGIN / PAGE_W, 1 - (self.y + f.height) / PAGE_H, TEXT_W / PAGE_W,
                                    f.height / PAGE_H))
                ax.imshow(img, interpolation="none", aspect="auto")  # embedded as is
                ax.set_axis_off()
                self.y += f.height + 0.05
                text = "\n".join(textwrap.wrap(f"Figure {k}. {f.caption}", chars))
                page.text(MARGIN / PAGE_W, 1 - self.y / PAGE_H, text, va="top", ha="left", fontsize=CAPTION_PT,
                          color="#222222", linespacing=1.3)
                self.y += c + FIG_GAP
            self.has_figures = True
        return k


def _read_png(path):
    import matplotlib.image as mpimg

    return mpimg.imread(path)


_RENDERER = None


def _text_width(text: str, size: float, bold: bool = False) -> float:
    """Width in points of ``text`` in DejaVu Sans at ``size`` (measured, not estimated)."""
    global _RENDERER
    from matplotlib.font_manager import FontProperties

    if _RENDERER is None:
        from matplotlib.backends.backend_agg import RendererAgg
        _RENDERER = RendererAgg(10, 10, 72)
    w, _, _ = _RENDERER.get_text_width_height_descent(
        text, FontProperties(family="DejaVu Sans", size=size, weight="bold" if bold else "normal"), ismath=False)
    return float(w)


def _wrap_to(text: str, width: float, size: float) -> list[str]:
    """Words of a header on lines no wider than ``width`` points (a word never splits)."""
    lines, cur = [], ""
    for w in text.split():
        trial = f"{cur} {w}".strip()
        if cur and _text_width(trial, size, bold=True) > width:
            lines.append(cur)
            cur = w
        else:
            cur = trial
    return lines + ([cur] if cur else []) or [""]


def _hline(x0, x1, y):
    from matplotlib.lines import Line2D

    return Line2D([x0, x1], [y, y], lw=0.6, color="#555555")


def _pdf(content: dict, path: Path, pngs: dict):
    with P.style(), mpl.rc_context({"pdf.compression": 3}), PdfPages(path, metadata={"Title": content["title"], "Creator": f"simsrc {__version__}",
                                             "Subject": content["subtitle"]}) as pdf:
        w = _PdfWriter(pdf, f"simsrc report: {content['title']}", pngs)
        w.title(content["title"], content["subtitle"])
        k = 0
        for b in content["blocks"]:
            if b.kind == "pagebreak":
                w.soft_break()
            elif b.kind == "newpage":
                w.close_page()
            elif b.kind == "heading":
                w.heading(b.text, b.level)
            elif b.kind == "para":
                w.para(b.text)
            elif b.kind == "bullets":
                w.bullets(b.items)
            elif b.kind == "table":
                w.table(b.table)
            elif b.kind == "figures":
                k = w.figures(b.items, k)
        w.close_page()


#: Resolution of a report's figures (PNG files, and the images in its PDF).
REPORT_DPI = 150


def build_report(results, out_dir=None, dpi: int = REPORT_DPI, minerals=None) -> dict[str, Path]:
    """Write a report of a results or comparison folder in Markdown, HTML and PDF.

    Parameters
    ----------
    results : Results or path
        A results folder or a comparison folder.
    out_dir : path, optional
        Where to write (default ``<results>/report``); figures go to ``<out_dir>/figures``.
    dpi : int
        Resolution of the PNG figures (dots per inch).
    minerals : list of str, optional
        Minerals reported (default: all).

    Returns
    -------
    dict
        ``{"markdown": ..., "html": ..., "pdf": ...}`` paths.
    """
    r = results if isinstance(results, Results) else Results(results)
    out = Path(out_dir) if out_dir is not None else r.path / "report"
    out.mkdir(parents=True, exist_ok=True)
    # the workers start (and import matplotlib and simsrc.plots) while the content is built
    pool = _start_pool(RENDER_WORKERS) if RENDER_WORKERS > 1 else None
    try:
        content = report_content(r, minerals)
    except BaseException:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        raise
    paths = {"markdown": out / "report.md", "html": out / "report.html", "pdf": out / "report.pdf"}
    try:
        pngs = _render_pngs(content["figures"], out / "figures", dpi, results=r, pool=pool)
        _pdf(content, paths["pdf"], pngs)  # waits for each figure when it places it
        for f in content["figures"]:
            _resolve(f)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    paths["markdown"].write_text(_markdown(content, pngs, out), encoding="utf-8")
    paths["html"].write_text(_html(content, pngs), encoding="utf-8")
    return paths
