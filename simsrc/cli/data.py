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
