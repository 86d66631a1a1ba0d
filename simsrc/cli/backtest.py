"""`simsrc backtest [NAME]`: run a historical episode and compare the model with what happened."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from . import Progress, main


@main.command("backtest")
@click.argument("names", nargs=-1)
@click.option("--episodes", "episodes_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=Path("scenarios/backtests/episodes.yaml"), show_default=True,
              help="Backtest index: episodes with their scenario, targets and in-sample window.")
@click.option("--draws", "-n", type=click.IntRange(min=1), default=None, help="Draws (default: the episode scenario's).")
@click.option("--seed", "-s", type=click.IntRange(min=0, max=2**63 - 1), default=None, help="Seed (default: the scenario's).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("results/backtests"),
              show_default=True)
def backtest_cmd(names, episodes_file, draws, seed, out_dir):
    """Run backtest episodes (default: every episode of the index): a results folder, a table of
    each observed target against the model's median and 5-95% band (backtest.csv), figures of the
    model's band with the observed points, and the count of targets inside the band, in-sample and
    out-of-sample separately."""
    from ..backtest import load_episodes, run_backtest

    names = names or tuple(load_episodes(episodes_file))
    for name in names:
        progress = Progress(f"  {name}")
        try:
            res = run_backtest(name, episodes_file=episodes_file, draws=draws, seed=seed, out_dir=out_dir,
                               progress=progress)
        finally:
            progress.close()
        t = res["table"]
        shown = t[t["status"] == "compared"][["date", "series", "region", "mineral", "observed", "median", "p5", "p95",
                                               "inside", "sample"]]
        click.echo(f"\n{name}: {res['episode'].description}")
        with pd.option_context("display.width", 200, "display.max_rows", 500, "display.float_format", "{:,.4g}".format):
            click.echo(shown.to_string(index=False))
        c = res["counts"]
        click.echo(f"\n{name}: targets inside the model's 90% band: in-sample {c['in'][0]} of {c['in'][1]}, "
                   f"out-of-sample {c['out'][0]} of {c['out'][1]}; {c['not_compared']} not compared (reasons in backtest.csv)")
        click.echo(f"results: {res['path']}  (backtest.csv, {len(res['figures'])} figures in figures/)")
