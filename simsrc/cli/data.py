"""`simsrc data list` and `simsrc data show MINERAL`."""

from __future__ import annotations

import click
import pandas as pd

from ..data import DEFAULT_DATASET, load_dataset
from ..errors import SimsrcError, unknown_name_message
from . import main


@main.group("data")
def data_group():
    """Inspect baseline datasets (built-in name or a dataset folder path)."""


_dataset_opt = click.option("--dataset", "-d", default=DEFAULT_DATASET, show_default=True,
                            help="Built-in dataset name or path to a dataset folder.")


@data_group.command("list")
@_dataset_opt
def data_list(dataset):
    """List the minerals and regions of a dataset, with world totals and US net import reliance."""
    ds = load_dataset(dataset)
    click.echo(f"dataset {ds.name} ({ds.path})")
    rows = []
    us = ds.regions.index("USA") if "USA" in ds.regions else None
    for m in ds.minerals.values():
        row = {
            "mineral": m.code, "name": m.name, "stage": m.stage,
            "world_t_per_yr": m.production.sum(), "price": f"{m.price:g} {m.price_unit} ({m.price_date})",
        }
        if us is not None:
            row["US_net_import_reliance"] = m.net_import_reliance[us]
        top = m.production.argmax()
        row["top_producer"] = f"{m.regions[top]} {m.production[top] / m.production.sum():.0%}"
        rows.append(row)
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:,.3f}".format):
        click.echo(pd.DataFrame(rows).set_index("mineral").to_string())
    click.echo("\nregions: " + ", ".join(f"{r} ({ds.region_names[r]})" for r in ds.regions))
    click.echo("groups:  " + "; ".join(f"{g}: {' '.join(v)}" for g, v in ds.groups.items()))


@data_group.command("show")
@click.argument("mineral")
@_dataset_opt
def data_show(mineral, dataset):
    """Print one mineral's baseline: production, consumption, trade, net import reliance, flows."""
    ds = load_dataset(dataset)
    if mineral not in ds.minerals:
        raise SimsrcError(unknown_name_message("mineral", mineral, ds.minerals))
    m = ds.minerals[mineral]
    click.echo(f"{m.code}: {m.name} [{m.stage}]  quantities in {m.unit}/yr; price {m.price:g} {m.price_unit} ({m.price_date})")
    click.echo("elasticities (central [low, high]): " + "; ".join(
        f"{k} {c:g} [{lo:g}, {hi:g}]" for k, (c, lo, hi) in m.elasticities.items()))
    with pd.option_context("display.width", 250, "display.max_columns", 30, "display.float_format", "{:,.2f}".format):
        t = m.table()
        t["net_import_reliance"] = t["net_import_reliance"].map(lambda v: "" if v != v else f"{v:.0%}")
        click.echo("\n" + t.to_string())
        click.echo(f"\nbilateral flows ({m.unit}/yr), origin (rows) x destination (columns):")
        click.echo(m.flow_frame().to_string())
        if m.tariffs.any():
            tf = m.flow_frame() * 0 + m.tariffs
            click.echo("\nbaseline tariffs (ad valorem), nonzero:")
            s = tf.stack()
            click.echo(s[s > 0].map("{:.1%}".format).to_string())


#: The dataset file that lists USGS's net-import-reliance commodities (see usgs2024/SOURCES.md).
NIR_LIST = "usgs_nir_list.csv"
NIR_LIST_COLUMNS = ["commodity", "usgs_label", "nir", "list", "edition", "major_import_sources",
                    "dataset_minerals", "reason", "note"]


def coverage_table(ds, edition: str = "MCS 2025") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(USGS list of one MCS edition against the dataset, dataset minerals not on it) for
    ``simsrc data coverage``."""
    from ..errors import InputError, Problem
    path = ds.path / NIR_LIST
    if not path.exists():
        raise SimsrcError(f"{path}: file is missing; `simsrc data coverage` needs the USGS net-import-reliance "
                          f"list of the dataset (columns {NIR_LIST_COLUMNS})")
    lst = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in NIR_LIST_COLUMNS if c not in lst.columns]
    if missing:
        raise InputError([Problem(str(path), f"missing column(s) {missing}; required: {NIR_LIST_COLUMNS}", line=1)])
    editions = sorted(set(lst["edition"]))
    if edition not in editions:
        raise SimsrcError(f"{path}: no rows for edition {edition!r}; editions in the file: {editions}")
    lst = lst[lst["edition"] == edition]
    us = ds.regions.index("USA") if "USA" in ds.regions else None
    covered_by_list = set()
    rows = []
    for k, r in lst.iterrows():
        codes = [c.strip() for c in r["dataset_minerals"].split(";") if c.strip()]
        unknown = [c for c in codes if c not in ds.minerals]
        if unknown:
            raise InputError([Problem(str(path), f"dataset_minerals names {unknown}, not minerals of dataset {ds.name}; "
                                      f"known: {sorted(ds.minerals)}", path="dataset_minerals", line=int(k) + 2)])
        covered_by_list.update(codes)
        nir = "; ".join(f"{c} {ds.minerals[c].net_import_reliance[us]:.0%}" for c in codes) if us is not None else ""
        rows.append({"commodity": r["commodity"], "list": r["list"], "USGS": r["usgs_label"],
                     "covered": "yes" if codes else "no", "dataset (computed US NIR)": nir,
                     "why not / stage": r["reason"]})
    extra = [{"mineral": m.code, "stage": m.stage, "US NIR": f"{m.net_import_reliance[us]:.0%}" if us is not None else ""}
             for m in ds.minerals.values() if m.code not in covered_by_list]
    return pd.DataFrame(rows), pd.DataFrame(extra)


def nir_table(ds) -> pd.DataFrame:
    """The dataset's US net import reliance beside USGS's, per mineral (``usgs_nir.csv``)."""
    path = ds.path / "usgs_nir.csv"
    usgs = pd.read_csv(path, dtype=str, keep_default_na=False).set_index("mineral") if path.exists() else pd.DataFrame()
    us = ds.regions.index("USA")
    rows = []
    for m in ds.minerals.values():
        got = m.net_import_reliance[us]
        label = usgs.loc[m.code, "usgs_label"] if m.code in usgs.index else ""
        comparable = usgs.loc[m.code, "comparable"] if m.code in usgs.index else "no"
        rows.append({"mineral": m.code, "stage": m.stage, "dataset": f"{got:.0%}",
                     "USGS": f"{label}%" if label and label[-1].isdigit() else (label or "-"),
                     "check": nir_check(got, label) if comparable == "yes" else
                     "not comparable: " + (usgs.loc[m.code, "reason"] if m.code in usgs.index else "no USGS figure")})
    return pd.DataFrame(rows)


def nir_check(got: float, label: str, tol: float = 0.05) -> str:
    """'equal' within ``tol`` of a point figure, 'satisfied' for '>x' / '<x', else 'MISMATCH'."""
    s = label.strip()
    if s.upper() == "E":
        return "equal" if got == 0 else "MISMATCH"
    bound = float(s.lstrip("<>")) / 100
    if s.startswith(">"):
        return "satisfied" if got >= bound - 1e-9 else "MISMATCH"
    if s.startswith("<"):
        return "satisfied" if got <= bound + 1e-9 else "MISMATCH"
    return "equal" if abs(got - bound) <= tol else "MISMATCH"


def _markdown(df: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


@data_group.command("coverage")
@_dataset_opt
@click.option("--edition", default="MCS 2025", show_default=True,
              help="USGS Mineral Commodity Summaries edition of the list ('MCS 2024' holds the counts the January 2026 Section 232 order used).")
@click.option("--markdown", is_flag=True, help="Print markdown tables (for the README and SOURCES.md).")
def data_coverage(dataset, edition, markdown):
    """The USGS net-import-reliance list (100% and >= 50%) against the dataset, commodity by commodity,
    with the dataset's computed US net import reliance beside USGS's."""
    ds = load_dataset(dataset)
    table, extra = coverage_table(ds, edition)
    nir = nir_table(ds)
    if markdown:
        click.echo("US net import reliance, dataset `max(0, (C - Q)/C)` against USGS:\n")
        click.echo(_markdown(nir.drop(columns="stage")))
        for name, title in (("100", "USGS: 100% net import reliant"), ("50+", "USGS: at least 50% net import reliant")):
            click.echo(f"\n{title}:\n")
            click.echo(_markdown(table[table["list"] == name].drop(columns="list")))
        return
    with pd.option_context("display.width", 250, "display.max_columns", 20, "display.max_colwidth", 90):
        for name, title in (("100", "USGS: 100% net import reliant"), ("50+", "USGS: at least 50% net import reliant")):
            part = table[table["list"] == name].drop(columns="list")
            n_cov = int((part["covered"] == "yes").sum())
            click.echo(f"\n{title} ({edition}): {len(part)} commodities, {n_cov} covered by dataset {ds.name}")
            click.echo(part.to_string(index=False))
        if len(extra):
            click.echo(f"\nIn the dataset but not on those lists ({len(extra)}):")
            click.echo(extra.to_string(index=False))
        click.echo("\nUS net import reliance of every dataset mineral against USGS:")
        click.echo(nir.assign(stage=nir["stage"].str.slice(0, 40)).to_string(index=False))
    click.echo(f"\n{len(ds.minerals)} minerals in dataset {ds.name}; the list and its edition: {ds.path / NIR_LIST}")
