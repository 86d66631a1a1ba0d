"""Figures by kind: what `simsrc plot` and the demo draw (:func:`figures_for`,
:func:`table_figure`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from ..errors import SimsrcError, unknown_name_message
from ..results import DRAW_OUTPUTS
from .style import mineral_name, output_label, output_unit, source_line  # noqa: F401
from .data import _open, check_mineral, check_output, check_regions, minerals_of, regions_of  # noqa: F401
from .fan import fan_chart, fan_grid  # noqa: F401
from .style import choose_scales
from .data import _summary
from .effects import region_effects  # noqa: F401
from .welfare import welfare_distribution  # noqa: F401
from .flows import flow_panels, supplier_bars  # noqa: F401
from .sensitivity import morris_indices, sobol_indices, tornado  # noqa: F401
from .sweep import is_one_parameter, sweep_heatmap, sweep_line  # noqa: F401

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
    "sweep": "an outcome over swept parameters: a line for one (parameter, outcome [, median, p5, p95]), "
             "a heatmap for two (parameter 1, parameter 2, outcome)",
}
#: Kinds drawn from a table (an --input file, or <kind>.parquet / <kind>.csv in the folder).
TABLE_KINDS = ("flows", "tornado", "sobol", "morris", "sweep")
#: Columns that select rows of a table by the plot's mineral, region and output.
_SELECTORS = ("mineral", "region", "output")
#: Columns that select one table of several (public name).
SELECTORS = _SELECTORS


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
                period="mean", input_file=None, unit: str | None = None,
                yscale: str = "auto") -> list[tuple[str, Figure]]:
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
    yscale : {"auto", "shared", "per-panel", "log"}
        Fan grids: the panels' y scale (see :func:`fan_grid`).

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
                if len(regs) == 1:  # one panel: log when its band spans more than a factor 10 (or forced)
                    f = _summary(r)
                    f = f[(f["mineral"] == mn) & (f["output"] == output) & (f["region"] == regs[0])]
                    logs = choose_scales({regs[0]: f[["p5", "p50", "p95"]].to_numpy().ravel()},
                                         "auto" if yscale in ("shared", "per-panel") else yscale)[1]
                    fig = fan_chart(r, output, mn, regs, log=bool(logs[regs[0]]) and yscale != "shared"
                                    and yscale != "per-panel")
                else:
                    fig = fan_grid(r, output, mn, regs, yscale=yscale)
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
    if is_one_parameter(df):  # one swept parameter: a line, not a one-column heatmap
        return sweep_line(df, unit=unit, outcome=outcome, source=src, ax=ax)
    piv = _sweep_pivot(df)
    if piv.shape[1] == 1:
        return sweep_line(piv.reset_index(), unit=unit, outcome=outcome, source=src, ax=ax)
    return sweep_heatmap(piv, unit=unit, outcome=outcome, source=src, ax=ax)

