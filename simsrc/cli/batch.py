"""`simsrc batch BATCH.yaml`: library members and sweeps, resumable, with one catalogue."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from . import ExecutorType, Progress, main, set_option


@main.command("batch")
@click.argument("batch_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("results"), show_default=True)
@click.option("--draws", "-n", type=click.IntRange(min=1, max=10_000_000), default=None, help="Draws of every member (default: the batch's, else each scenario's).")
@click.option("--seed", "-s", type=click.IntRange(min=0, max=2**63 - 1), default=None, help="Seed of every member (default: the batch's, else each scenario's).")
@click.option("--executor", type=ExecutorType(), default="local", show_default=True,
              help="Where members run: local, dask (a local cluster of 2 workers) or dask://HOST:PORT (a scheduler, "
                   "e.g. started by dask-jobqueue on SLURM).")
@set_option
def batch_cmd(batch_file, out_dir, draws, seed, sets, executor):
    """Run a batch: each member a paired comparison (common random numbers), sweeps over --set
    paths (grid, points, Latin hypercube). Resumes where it stopped: finished members are not run
    again. Writes members/, catalogue.parquet/.csv (members x minerals x regions x headline
    measures) and batch.json."""
    from ..batch import run_batch

    progress = Progress("  simulating")
    try:
        res = run_batch(batch_file, out_dir=out_dir, sets=list(sets), draws=draws, seed=seed, progress=progress,
                        echo=click.echo, executor=executor)
    finally:
        progress.close()
    cat = res["catalogue"]
    click.echo(f"\n{len(res['ran'])} members run, {len(res['skipped'])} already finished (skipped)")
    usa = cat[(cat["region"] == cat["region"].iloc[0]) & (cat["measure"] == "consumer price")]
    usa = usa[usa[["median", "p_lo", "p_hi"]].abs().sum(axis=1) > 0]
    with pd.option_context("display.width", 200, "display.max_rows", 200, "display.float_format", "{:+,.1f}".format):
        click.echo(f"consumer price effect (%), {cat['region'].iloc[0]}, median [5%, 95%]:")
        click.echo(usa[["member", "mineral", "median", "p_lo", "p_hi"]].to_string(index=False))
    click.echo(f"\nbatch folder: {res['folder']}  (catalogue.parquet, catalogue.csv)")
