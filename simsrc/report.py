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
import math
import textwrap
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from . import __version__
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
BAR_H, WELFARE_H = 3.2, 3.6
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
    """A figure of the report: ``draw(container)`` fills a Figure or SubFigure."""

    key: str
    draw: Callable
    height: float
    caption: str = ""


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


def _number_format(values) -> Callable[[float], str]:
    """A format with about three significant digits for the largest value of a column."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    big = float(np.max(np.abs(v))) if v.size else 0.0
    nd = 0 if big >= 100 or big == 0 else 1 if big >= 10 else 2 if big >= 1 else 3

    def fmt(x):
        if not np.isfinite(x):
            return "n/a"
        t = f"{x:,.{nd}f}"
        if t.startswith("-") and not t.strip("-0.,"):  # -0.00: no sign
            t = t[1:]
        return t.replace("-", P.MINUS)
    return fmt


def _interval_cells(centre, lo, hi, factor=1.0):
    """Cells ``centre [p5, p95]`` of one column, in display units."""
    centre, lo, hi = (np.asarray(a, dtype=float) * factor for a in (centre, lo, hi))
    f = _number_format(np.concatenate([centre, lo, hi]))
    return [f"{f(a)} [{f(b)}, {f(c)}]" if np.isfinite(a) else "n/a" for a, b, c in zip(centre, lo, hi)]


def _mean_interval(frame: pd.DataFrame):
    """Mean, 5th and 95th percentile of each column over the rows (finite values only)."""
    out = {}
    for c in frame.columns:
        v = frame[c].to_numpy(dtype=float)
        v = v[np.isfinite(v)]
        out[c] = (v.mean(), *np.percentile(v, [5, 95])) if v.size else (np.nan,) * 3
    return out


def _market_table(r: Results, mineral: str, regions: list[str]) -> Table:
    m = r.manifest
    n = P._n_periods(r, mineral)
    when = P.period_text("mean", m, n)
    cols, notes = ["Region"], []
    cells = []
    for output in ("consumer_price", "production", "net_import_reliance"):
        if output not in P.outputs_of(r):
            continue
        t = P.interval_table(r, output, mineral, regions, "mean")
        unit = P.output_unit(output, m, mineral)
        factor, ulabel = P.display_scale(unit, t[["mean", "low", "high"]].to_numpy(), P.is_comparison(m))
        cols.append(f"{P.output_label(output)} ({ulabel})")
        cells.append(_interval_cells(t["mean"], t["low"], t["high"], factor))
        notes += [int(x) for x in t["n"] if x > 0]
    comparison = P.is_comparison(m)
    title = (f"{P.mineral_name(m, mineral)}: {'changes in ' if comparison else ''}prices, production and "
             f"import reliance, {when}")
    note = (f"Mean [5th, 95th percentile] across draws of each draw's {when} "
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
        per_region[reg] = (len(w), _mean_interval(pd.DataFrame({
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
        columns[key] = _interval_cells(centre, lo, hi, factor)
    rows = [[reg] + [columns[k][i] for k in names] for i, reg in enumerate(regions)]
    comparison = P.is_comparison(m)
    rate = m.get("discount_rate", _scenario_dict(m).get("outputs", {}).get("discount_rate"))
    ns = [n for n, _ in per_region.values()]
    title = f"{P.mineral_name(m, mineral)}: net present value of welfare{' changes' if comparison else ''}, {ulabel}"
    note = (f"Mean [5th, 95th percentile] across draws, {ulabel}"
            f"{f', discounted at {rate:.1%}/yr' if rate is not None else ''}"
            f"{', scenario ' + P.MINUS + ' counterfactual' if comparison else ', against the baseline price path'}. "
            f"{_other_terms_note(others)} "
            f"Draws with any non-converged period excluded ({P._count_range(ns)} draws used).")
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
    ds_name = P._dataset_name(m) or sc.get("dataset")
    ds = P._dataset(str(ds_name)) if ds_name else None
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
    cf = _scenario_dict(m, "counterfactual")
    if cf:
        blocks.append(Block("heading", f"Counterfactual: {cf.get('name', '?')}", 2))
        if cf.get("description"):
            blocks.append(Block("para", cf["description"].strip()))
        blocks.append(Block("para", "Its policies and events (the differences shown are the scenario's "
                                    "minus these, on the same draws):"))
        items = [_element_line(d) for d in (cf.get("policies") or []) + (cf.get("events") or [])]
        blocks.append(Block("bullets", items=items or ["none"]))
    return blocks


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
            if isinstance(v, dict):  # a comparison counts both sides
                parts.append(f"{mineral} " + ", ".join(f"{n} ({side})" for side, n in v.items()))
            else:
                parts.append(f"{mineral} {v}" + (f" of {solves[mineral]}" if mineral in solves else ""))
        facts.append(f"Non-converged market clearings: {'; '.join(parts)}. Summaries exclude them; "
                     f"NPV tables and charts exclude draws with any.")
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
    s = P._summary(r)
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
        figs.append(ReportFigure(f"fan-{mineral}-consumer_price",
                                 lambda c: P.fan_grid(r, "consumer_price", mineral, fan_regs, ax=c), grid_h))
        figs.append(ReportFigure(f"effects-{mineral}-consumer_price",
                                 lambda c: P.region_effects(r, "consumer_price", mineral, ax=c), BAR_H))
    if "net_import_reliance" in outs:
        figs.append(ReportFigure(f"fan-{mineral}-net_import_reliance",
                                 lambda c: P.fan_grid(r, "net_import_reliance", mineral, fan_regs, ax=c), grid_h))
    if has_draws:
        figs.append(ReportFigure(f"effects-{mineral}-npv_net_welfare",
                                 lambda c: P.region_effects(r, "npv_net_welfare", mineral, ax=c), BAR_H))
        figs.append(ReportFigure(f"welfare-{mineral}-{focus}",
                                 lambda c: P.welfare_distribution(r, mineral, focus, ax=c), WELFARE_H))
    return figs


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
        if any(c in df.columns and df[c].nunique() > 1 for c in P._SELECTORS):
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
    blocks = [Block("heading", "Scenario", 1)]
    desc = sc.get("description") or m.get("description")
    blocks.append(Block("para", desc.strip() if desc else "No description recorded."))
    blocks.append(Block("bullets", items=_run_facts(r)))
    minerals = [P.check_mineral(r, x) for x in minerals] if minerals else P.minerals_of(r)
    blocks += _assumption_blocks(r, minerals)
    figures: list[ReportFigure] = []
    for mineral in minerals:
        regions = P.regions_of(r, mineral)
        blocks.append(Block("pagebreak"))
        blocks.append(Block("heading", f"{P.mineral_name(m, mineral)} ({mineral})", 1))
        blocks.append(Block("table", table=_market_table(r, mineral, regions)))
        wt = _welfare_table(r, mineral, regions)
        if wt is not None:
            blocks.append(Block("table", table=wt))
        figs = _figures(r, mineral)
        figures += figs
        blocks.append(Block("figures", items=figs))
    sens = _sensitivity_figures(r)
    if sens:
        blocks.append(Block("pagebreak"))
        blocks.append(Block("heading", "Sensitivity", 1))
        blocks.append(Block("figures", items=sens))
        figures += sens
    return {"title": title, "subtitle": subtitle, "blocks": blocks, "figures": figures,
            "source": P.source_line(m)}


# ---------------------------------------------------------------------------------------------
# writers

def _render_pngs(figures: list[ReportFigure], folder: Path, dpi: int) -> dict[str, Path]:
    """Draw each figure at 6.5 in width (no footer: the report captions it) and save a PNG."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for f in figures:
        with P.style():
            fig = Figure(figsize=(P.FIG_WIDTH, f.height), layout="constrained")
            f.draw(fig)
        f.caption = P.caption_of(fig) or f.caption
        from .results import safe_component
        out[f.key] = folder / f"{safe_component(f.key)}.png"  # keys hold codes read from the results folder
        fig.savefig(out[f.key], dpi=dpi, metadata={"Software": f"simsrc {__version__}", "Description": f.caption})
    return out


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

    def __init__(self, pdf: PdfPages, header: str):
        self.pdf, self.header = pdf, header
        self.page = None
        self.has_figures = False
        self.y = 0.0
        self.n = 0

    # pages
    def _new_page(self):
        self.close_page()
        self.n += 1
        self.page = Figure(figsize=(PAGE_W, PAGE_H), layout="constrained")
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

    def para(self, text, size=BODY_PT, indent=0.0, bullet=None, style="normal", color="#111111"):
        width = int((TEXT_W - indent) * 72 / (size * SANS_EM))
        lines = textwrap.wrap(text, width) or [""]
        lh = size * 1.35 / 72
        for k, line in enumerate(lines):
            self._room(lh)
            if bullet and k == 0:
                self._line(bullet, size, x=indent - 0.15)
            self._line(line, size, x=indent, style=style, color=color)
            self.y += lh
        self.y += size * 0.5 / 72

    def bullets(self, items):
        for it in items:
            self.para(it, indent=0.2, bullet="\u2022")

    def table(self, t: Table):
        """A monospaced table; columns right-aligned but the first; headers wrap."""
        ncol = len(t.columns)
        widths = []
        for j in range(ncol):
            cells = [row[j] for row in t.rows]
            longest_word = max((len(w) for w in t.columns[j].split()), default=1)
            widths.append(max([len(c) for c in cells] + [longest_word, math.ceil(len(t.columns[j]) / 3)]))
        gap = 2
        total = sum(widths) + gap * (ncol - 1)
        size = min(TABLE_PT, TEXT_W * 72 / (total * MONO_EM))
        heads = [textwrap.wrap(c, w) or [""] for c, w in zip(t.columns, widths)]
        nh = max(len(h) for h in heads)
        lh = size * 1.4 / 72
        self._room((nh + min(len(t.rows), 6) + 2) * lh + 0.5)  # title, header and a few rows together
        self.para(t.title)
        self.y -= 0.02

        def row_text(cells_):
            return (" " * gap).join(c.ljust(w) if j == 0 else c.rjust(w)
                                    for j, (c, w) in enumerate(zip(cells_, widths)))

        for i in range(nh):  # headers bottom-aligned
            cells = [(h[i - (nh - len(h))] if i >= nh - len(h) else "") for h in heads]
            self._line(row_text(cells), size, family="DejaVu Sans Mono", weight="bold")
            self.y += lh
        width = total * size * MONO_EM / 72
        self._rule(width)
        for row in t.rows:
            self._room(lh)
            self._line(row_text(row), size, family="DejaVu Sans Mono")
            self.y += lh
        self._rule(width)
        if t.note:
            self.y += 0.03
            self.para(t.note, size=SMALL_PT, color="#444444")
        self.y += 0.12

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
            heights = []
            for f, c in group:
                heights += [f.height, c, FIG_GAP]
            total = sum(heights)
            top = self.y
            page.get_layout_engine().set(rect=(MARGIN / PAGE_W, 1 - (top + total) / PAGE_H,
                                               TEXT_W / PAGE_W, total / PAGE_H))
            gs = page.add_gridspec(len(heights), 1, height_ratios=heights)
            with P.style():
                for i, (f, c) in enumerate(group):
                    k += 1
                    sub = page.add_subfigure(gs[3 * i])
                    f.draw(sub)
                    f.caption = P.caption_of(sub) or f.caption
                    text = "\n".join(textwrap.wrap(f"Figure {k}. {f.caption}", chars))
                    page.add_subfigure(gs[3 * i + 1]).text(0.0, 0.98, text, va="top", ha="left", fontsize=CAPTION_PT,
                                                          color="#222222", linespacing=1.3)
            self.y = top + total
            self.has_figures = True
        return k


def _hline(x0, x1, y):
    from matplotlib.lines import Line2D

    return Line2D([x0, x1], [y, y], lw=0.6, color="#555555")


def _pdf(content: dict, path: Path):
    with P.style(), PdfPages(path, metadata={"Title": content["title"], "Creator": f"simsrc {__version__}",
                                             "Subject": content["subtitle"]}) as pdf:
        w = _PdfWriter(pdf, f"simsrc report: {content['title']}")
        w.title(content["title"], content["subtitle"])
        k = 0
        for b in content["blocks"]:
            if b.kind == "pagebreak":
                w.soft_break()
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


def build_report(results, out_dir=None, dpi: int = P.PNG_DPI, minerals=None) -> dict[str, Path]:
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
    content = report_content(r, minerals)
    pngs = _render_pngs(content["figures"], out / "figures", dpi)
    paths = {"markdown": out / "report.md", "html": out / "report.html", "pdf": out / "report.pdf"}
    paths["markdown"].write_text(_markdown(content, pngs, out), encoding="utf-8")
    paths["html"].write_text(_html(content, pngs), encoding="utf-8")
    _pdf(content, paths["pdf"])
    return paths
