"""`simsrc run SCENARIO`: the Monte Carlo, a results folder and a headline table."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np
import pandas as pd

from . import ExecutorType, Progress, check_region, load_with_sets, main, set_option


def headline_table(path: Path, region: str = "USA") -> pd.DataFrame:
    """Headline outcomes with 90% intervals from a results folder, one row per mineral.

    Consumer price and net import reliance of ``region`` in the last period; NPV of its net
    welfare and of its floor fiscal cost over the horizon.
    """
    from ..results import Results

    res = Results(path)
    s = res.summary
    d = res.draws
    T = res.manifest["periods"]
    rows = []
    if "converged_share" in d:  # NPVs only of draws whose every period solved (non-finite ones are failed)
        d = d[d["converged_share"] >= 1.0 - 1e-9]
    for m in res.manifest["minerals"]:
        unit = res.manifest["units"][m]["price"]
        row = {"mineral": m, "price unit": unit}
        for out, label, fmt in (("consumer_price", f"{region} consumer price, last period", "{:,.4g}"),
                                ("net_import_reliance", f"{region} import reliance, last period", "{:.0%}")):
            q = s[(s.mineral == m) & (s.region == region) & (s.output == out) & (s.period == T - 1)]
            if len(q) and q.iloc[0].n > 0 and np.isfinite([q.iloc[0].p5, q.iloc[0].p50, q.iloc[0].p95]).all():
                q = q.iloc[0]
                row[label] = f"{fmt.format(q.p50)} [{fmt.format(q.p5)}, {fmt.format(q.p95)}]"
            elif len(q) and q.iloc[0].n > 0:
                row[label] = "not finite"
            elif len(q):
                row[label] = "no converged draws"
        dd = d[(d.mineral == m) & (d.region == region)]
        for col, label in (("npv_net_welfare", f"{region} NPV net welfare (USD m)"),
                           ("npv_floor_fiscal_cost", f"{region} NPV floor cost (USD m)")):
            v = dd[col].to_numpy() / 1e6
            if len(v) and np.isfinite(v).all():
                lo, med, hi = np.percentile(v, [5, 50, 95])
                row[label] = f"{med:,.1f} [{lo:,.1f}, {hi:,.1f}]"
            else:
                row[label] = "not finite" if len(v) else "no converged draws"
        rows.append(row)
    return pd.DataFrame(rows).set_index("mineral")


@main.command("run")
@click.argument("scenario", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--draws", "-n", type=click.IntRange(min=1, max=10_000_000), default=None, help="Number of draws (default: the scenario's).")
@click.option("--seed", "-s", type=click.IntRange(min=0, max=2**63 - 1), default=None, help="Seed (default: the scenario's).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("results"),
              show_default=True, help="Parent folder of the results folder.")
@click.option("--chunk-size", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Draws per kernel call (bounds memory; never changes a number).")
@click.option("--executor", type=ExecutorType(), default="local", show_default=True,
              help="'local' (numba threads), 'dask' (a local Dask cluster) or dask://HOST:PORT (a running scheduler).")
@click.option("--region", default="USA", show_default=True,
              help="Region of the headline table (checked against the dataset; by default USA, or the dataset's "
                   "first region if it has no USA).")
@set_option
def run_cmd(scenario, draws, seed, out_dir, chunk_size, executor, region, sets):
    """Run SCENARIO's Monte Carlo and write results/<scenario>-<UTC time>-<hash>/."""
    from ..engine import run

    scn = load_with_sets(scenario, sets)
    ctx = click.get_current_context()
    if ctx.get_parameter_source("region") == click.core.ParameterSource.DEFAULT and region not in scn.data.regions:
        region = list(scn.data.regions)[0]  # the default USA is not in this dataset: its first region
    check_region(scn, region)
    progress = Progress("simulating")
    try:
        info = run(scn, draws=draws, seed=seed, out_dir=out_dir, chunk_size=chunk_size,
                   executor=executor, progress=progress)
    finally:
        progress.close()
    bad = {m: n for m, n in info.nonconverged.items() if n}
    click.echo(f"\nwrote {info.path}  ({info.wall_time:.1f} s)")
    import json
    manifest = json.loads((info.path / "manifest.json").read_text())
    if bad:
        click.echo("non-converged or non-finite solves (flagged converged = 0 in paths.parquet, excluded from "
                   "summaries): " + ", ".join(f"{m} {n} of {manifest['solves'][m]}" for m, n in bad.items()))
    failed = [m for m, n in bad.items() if n >= manifest["solves"][m]]
    flags = {m: n for m, n in manifest.get("welfare_flags", {}).items() if n}
    if flags:
        click.echo("welfare flags (region-periods whose welfare change exceeds the value of baseline consumption; "
                   "see the welfare_flag output): " + ", ".join(f"{m} {n}" for m, n in flags.items()))
    with pd.option_context("display.width", 200, "display.max_columns", 10, "display.max_colwidth", 40):
        click.echo("\nheadline outcomes, median [90% interval]:")
        click.echo(headline_table(info.path, region).to_string())
    if failed:
        click.echo(f"error: every solve of {', '.join(failed)} failed (did not converge or gave non-finite values), "
                   f"so its statistics are empty; see converged in {info.path}/paths.parquet", err=True)
        raise SystemExit(1)
