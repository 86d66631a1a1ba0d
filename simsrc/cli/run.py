"""`simsrc run SCENARIO`: the Monte Carlo, a results folder and a headline table."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from . import ExecutorType, Progress, check_region, load_with_sets, main, set_option


def headline_table(path: Path, region="USA") -> pd.DataFrame:
    """Headline outcomes of a results folder (simsrc.headline.run_headline) for ``region``
    (a code, a comma-separated list or a list of codes)."""
    from ..headline import run_headline

    return run_headline(path, _regions(region))


def _regions(region) -> list[str]:
    if isinstance(region, str):
        return [x.strip() for x in region.split(",") if x.strip()]
    return list(region)


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
              help="Region(s) of the headline table, comma-separated (e.g. USA,EU,JPN), checked against the dataset; "
                   "written to headline.csv/.md (default USA, or the dataset's first region if it has no USA).")
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
                   "summaries): " + ", ".join(f"{m} {n:,} of {manifest['solves'][m]:,}" for m, n in bad.items()))
    failed = [m for m, n in bad.items() if n >= manifest["solves"][m]]
    flags = {m: n for m, n in manifest.get("welfare_flags", {}).items() if n}
    if flags:
        click.echo("welfare flags (region-periods whose welfare change exceeds the value of baseline consumption; "
                   "see the welfare_flag output): " + ", ".join(f"{m} {n:,}" for m, n in flags.items()))
    from ..headline import text_table, write_headline, write_tidy_summary

    table = headline_table(info.path, region)
    files = write_headline(info.path, table, comparison=False)
    write_tidy_summary(info.path)
    click.echo("\nheadline outcomes, median [5%, 95%] across draws:")
    click.echo(text_table(table, comparison=False))
    click.echo(f"\nheadline table: {files['csv']} and {files['markdown'].name}; summary for spreadsheets: summary_tidy.csv")
    if failed:
        click.echo(f"error: every solve of {', '.join(failed)} failed (did not converge or gave non-finite values), "
                   f"so its statistics are empty; see converged in {info.path}/paths.parquet", err=True)
        raise SystemExit(1)
