"""`simsrc sensitivity SCENARIO`: which assumptions drive an outcome (SALib methods)."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from . import ExecutorType, load_with_sets, main, set_option


@main.command("sensitivity")
@click.argument("scenario", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--against", "-a", default=None,
              help="Counterfactual scenario file, or 'counterfactual' for the scenario's own: the outcomes are then "
                   "paired policy effects (scenario - counterfactual on the same inputs and shocks).")
@click.option("--method", "-m", type=click.Choice(["sobol", "morris", "fast", "delta", "pawn"]), default="sobol",
              show_default=True, help="SALib method.")
@click.option("-N", "n", type=click.IntRange(min=2, max=2**20), default=256, show_default=True,
              help="Base sample size (Sobol: a power of two, rows N x (D + 2); Morris: trajectories; FAST: per input; "
                   "delta/PAWN: rows).")
@click.option("--outcome", "-o", "outcomes", multiple=True,
              help="STAT[%]:MINERAL:REGION, a per-draw statistic (e.g. mean_consumer_price, npv_floor_fiscal_cost, "
                   "net_welfare_npv); '%' gives the paired effect in percent of the counterfactual. Repeatable.")
@click.option("--all-headlines", is_flag=True, help="Every measure of the comparison headline table, for every mineral, USA.")
@click.option("--group", "groups", multiple=True, help="NAME=PATTERN: inputs matching the glob form one factor (Sobol, Morris).")
@click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1), default=None, help="Design seed (default: the scenario's).")
@click.option("--shock-rows", type=click.IntRange(min=0, max=100_000), default=16, show_default=True,
              help="Design rows re-run under other shock draws to measure the variance the shocks add.")
@click.option("--shock-replicates", type=click.IntRange(min=0, max=1000), default=4, show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("results"), show_default=True)
@click.option("--executor", type=ExecutorType(), default="local", show_default=True,
              help="Where design rows run: local, dask (a local cluster of 2 workers) or dask://HOST:PORT.")
@set_option
def sensitivity_cmd(scenario, against, method, n, outcomes, all_headlines, groups, seed, shock_rows, shock_replicates, out_dir,
                    sets, executor):
    """Global sensitivity of outcomes of SCENARIO (or of its paired effect against a counterfactual)
    to its declared uncertain inputs; writes a sensitivity folder (manifest, design, outputs per
    row, tidy indices with 95% bootstrap intervals, chart tables for `simsrc plot --kind sobol|morris`)."""
    from ..sensitivity import run_sensitivity

    res = run_sensitivity(load_with_sets(scenario, sets), against, outcomes=list(outcomes), all_headlines=all_headlines, method=method, N=n,
                          seed=seed, group_patterns=list(groups), shock_rows=shock_rows,
                          shock_replicates=shock_replicates, out_dir=out_dir, executor=executor)
    st = res["study"]
    click.echo(f"{method}: {st.meta['rows']} rows x {len(st.problem['names'])} inputs, {st.meta['failed_rows']} failed "
               f"(dropped {st.meta['rows_dropped']} rows as documented), {res['wall_time']:.1f} s")
    idx = st.indices
    for lab in dict.fromkeys(o.label for o in res["outcomes"]):
        chk = st.checks.get(lab, {})
        click.echo(f"\n{lab}")
        if not chk.get("analysed"):
            click.echo(f"  not analysed: {chk.get('why')}")
            continue
        t = idx[idx["outcome"] == lab].pivot_table(index="parameter", columns="index", values=["value", "conf"])
        main_ix = {"sobol": "ST", "morris": "mu_star", "fast": "ST", "delta": "delta", "pawn": "median"}[method]
        t = t.sort_values(("value", main_ix), ascending=False).head(12)
        with pd.option_context("display.width", 200, "display.float_format", "{:.3f}".format):
            click.echo(t.to_string())
        conv = "converged" if chk.get("converged") else ("NOT converged: raise N" if chk.get("checked") else chk.get("why", ""))
        if chk.get("checked"):
            conv += f" (largest change of {chk['index']} from N/2 to N: {chk['max_change']:.3f})"
        click.echo(f"  {conv}")
        sh = res["shocks"].get(lab)
        if sh:
            click.echo(f"  stochastic elements add {100 * sh['shock_share']:.1f}% of the variance "
                       f"({sh['rows']} rows x {sh['replicates']} shock draws)")
    click.echo(f"\nsensitivity folder: {res['path']}")
