"""`simsrc discover RESULTS`: scenario discovery (PRIM) over a run's or a comparison's draws."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from . import main


@main.command("discover")
@click.argument("results", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--output", "-o", required=True,
              help="STAT:MINERAL:REGION, a per-draw statistic of draws.parquet (a paired effect in a comparison), "
                   "e.g. npv_floor_fiscal_cost:ndpr_oxide:USA.")
@click.option("--where", "-w", required=True, help="The condition of interest, e.g. '> 2e9' (the statistic's unit: USD for NPVs).")
@click.option("--side", default="scenario", show_default=True, help="Whose inputs in a comparison: scenario or counterfactual.")
@click.option("--alpha", default=0.05, show_default=True, type=click.FloatRange(0, 0.5, min_open=True), help="Share of the box's draws peeled per step.")
@click.option("--min-support", default=0.05, show_default=True, type=click.FloatRange(0, 1), help="Stop when the box holds fewer draws than this share.")
@click.option("--min-density", default=None, type=click.FloatRange(0, 1), help="Report the first box whose density reaches this (default: best balance).")
def discover_cmd(results, output, where, side, alpha, min_support, min_density):
    """Which inputs produce an outcome? PRIM peeling over the draws' inputs (inputs.parquet):
    the trajectory of coverage and density, and the chosen box as conditions on inputs."""
    from ..discover import discover

    from ..results import Results
    Results(results).check()  # a damaged manifest or Parquet file is named before anything is written
    res = discover(results, output, where, side=side, alpha=alpha, min_support=min_support, min_density=min_density)
    click.echo(f"{output} {where}: {res['cases']} of {res['draws']} draws")
    t = res["trajectory"]
    step = max(1, len(t) // 15)
    with pd.option_context("display.width", 160, "display.float_format", "{:.3f}".format):
        click.echo("peeling trajectory (every %d steps):\n" % step + t.iloc[::step].to_string(index=False))
    click.echo(f"\nbox (step {res['step']}): coverage {res['coverage']:.2f}, density {res['density']:.2f}, "
               f"support {res['support']:.2f}")
    for c in res["conditions"]:
        click.echo(f"  {c}")
    click.echo(f"written: {res['folder']}")
