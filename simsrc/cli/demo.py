"""`simsrc demo`: the headline scenario batch (what `make demo` runs)."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from . import Progress, main


@main.command("demo")
@click.option("--scenarios", "scenarios_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=Path("scenarios"), show_default=True, help="Folder of scenario files.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("results/demo"),
              show_default=True, help="Where the results folders go.")
@click.option("--draws", "-n", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Draws per scenario (both sides of each comparison use the same draws).")
@click.option("--dpi", default=150, show_default=True, type=click.IntRange(50, 1200), help="PNG resolution.")
def demo_cmd(scenarios_dir, out_dir, draws, dpi):
    """Run the baseline and every policy scenario against its counterfactual; write results and plots."""
    from ..demo import demo

    progress = Progress("  simulating")
    try:
        res = demo(scenarios_dir, out_dir, draws=draws, dpi=dpi, progress=progress, echo=click.echo)
    finally:
        progress.close()
    click.echo("\nheadline effects over paired draws: median [5%, 95%]; the mean with the share of sum |effect| from the top 1% of draws (above 25%: read the median):")
    with pd.option_context("display.width", 250, "display.max_columns", 10, "display.max_colwidth", 40):
        click.echo(res["headline"].fillna("").to_string())
        table = Path(out_dir) / "headline.md"
        h = res["headline"].fillna("").reset_index()
        lines = ["| " + " | ".join(h.columns) + " |", "|" + "---|" * len(h.columns)]
        lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in h.itertuples(index=False)]
        table.write_text("\n".join(lines) + "\n", encoding="utf-8")
        click.echo(f"\nheadline table (Markdown): {table}")
    click.echo("\nresults:")
    for p in res["runs"] + res["comparisons"]:
        click.echo(f"  {p}")
    click.echo(f"figures: {len(res['figures'])} PNG files under each folder's figures/, e.g. {res['figures'][0] if res['figures'] else '-'}")
    if res.get("batch"):
        click.echo(f"catalogue (every member, mineral, region and headline measure): {res['batch'] / 'catalogue.csv'}")
    click.echo("next: simsrc report RESULTS_FOLDER  (Markdown, HTML and PDF report of one folder, or a batch summary)")
