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
    from ..headline import NOTE_COMPARE, format_table, to_markdown

    h = res["headline"]
    click.echo("\nheadline effects (USA), scenario - counterfactual over paired draws: median [5%, 95%] in the unit "
               "and in % of the counterfactual; the mean with the share of sum |effect| from the top 1% of draws "
               "(above 25%: read the median):")
    if len(h):
        table = format_table(h, comparison=True)
        table.insert(0, "scenario", h["scenario"].to_numpy())
        with pd.option_context("display.width", 250, "display.max_columns", 12, "display.max_colwidth", 40):
            click.echo(table.drop(columns=["region"]).to_string(index=False))
        out_dir = Path(out_dir)
        (out_dir / "headline.md").write_text(to_markdown(table, "Headline effects of the library (USA)", NOTE_COMPARE),
                                             encoding="utf-8")
        h.to_csv(out_dir / "headline.csv", index=False)
        click.echo(f"\nheadline table: {out_dir / 'headline.csv'} and headline.md (each folder has its own headline.csv/.md)")
    click.echo("\nresults:")
    for p in res["runs"] + res["comparisons"]:
        click.echo(f"  {p}")
    click.echo(f"figures: {len(res['figures'])} PNG files under each folder's figures/, e.g. {res['figures'][0] if res['figures'] else '-'}")
    if res.get("batch"):
        click.echo(f"catalogue (every member, mineral, region and headline measure): {res['batch'] / 'catalogue.csv'}")
    click.echo("next: simsrc report RESULTS_FOLDER  (Markdown, HTML and PDF report of one folder, or a batch summary)")
