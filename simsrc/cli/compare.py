"""`simsrc compare SCENARIO --against BASELINE`: paired policy effects."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from . import Progress, load_with_sets, main, set_option

#: Regions shown as columns of the headline table (others are in the results folder).
HEADLINE_REGIONS = ("USA", "CHN", "EU", "JPN")


def effects_text(path, regions=HEADLINE_REGIONS) -> str:
    """The headline effects of a comparison folder as text tables, one per mineral
    (simsrc.headline.effects: median [5%, 95%] in the unit and in % of the counterfactual)."""
    from .. import numbers as N
    from ..compare import paired_effects
    from ..headline import effects, text_table, touched

    regions = list(regions)
    eff = effects(path, regions=regions)
    moved = touched(eff)
    lines = ["effect = scenario - counterfactual per draw: median [5%, 95%] in the unit, then in % of the "
             "counterfactual's level"]
    lines.append(text_table(eff[eff.mineral.isin(moved)], comparison=True))
    cp = paired_effects(path, regions=regions[:1], minerals=moved) if moved else pd.DataFrame()
    for _, r in cp[cp.measure == "consumer price"].iterrows() if len(cp) else []:
        tail = (f"; top 1% of draws: {N.fmt_pct(r.tail_share, 2)} of sum |effect|"
                + (" (heavy tail: read the median)" if r.tail_share > 0.25 else "")) if r.tail_share == r.tail_share else ""
        lines.append(f"  {r.mineral}: mean {regions[0]} consumer price effect {N.fmt_signed(r['mean'])}% with 90% CI "
                     f"+/-{N.fmt(r.ci_half_paired, 2)} pp (paired) vs +/-{N.fmt(r.ci_half_unpaired, 2)} pp if the runs "
                     f"had independent draws{tail}")
    untouched = [m for m in dict.fromkeys(eff.mineral) if m not in moved]
    if untouched:
        lines.append(f"\nno effect (every paired difference is 0): {', '.join(untouched)}")
    return "\n".join(lines)


@main.command("compare")
@click.argument("scenario", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--against", "-a", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Counterfactual scenario (default: the scenario's `counterfactual:`).")
@click.option("--draws", "-n", type=click.IntRange(min=1), default=None, help="Number of draws (default: the scenario's).")
@click.option("--seed", "-s", type=click.IntRange(min=0), default=None, help="Seed (default: the scenario's).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("results"), show_default=True)
@click.option("--chunk-size", type=click.IntRange(min=1), default=1000, show_default=True)
@click.option("--executor", default="local", show_default=True,
              help="Where chunks run: local, dask (a local cluster of 2 workers) or dask://HOST:PORT.")
@click.option("--region", default=",".join(HEADLINE_REGIONS), show_default=True,
              help="Region(s) of the headline table, comma-separated; written to headline.csv/.md.")
@set_option
def compare_cmd(scenario, against, draws, seed, out_dir, chunk_size, sets, executor, region):
    """Run SCENARIO and a counterfactual on the same draws; write and print paired effects."""
    from ..compare import compare

    progress = Progress("simulating both:")
    try:
        info = compare(load_with_sets(scenario, sets), against, draws=draws, seed=seed, out_dir=out_dir, chunk_size=chunk_size, progress=progress,
                       executor=executor)
    finally:
        progress.close()
    click.echo(f"\nwrote {info.path}  ({info.wall_time:.1f} s)")
    bad = {m: v for m, v in info.nonconverged.items() if any(v.values())}
    if bad:
        click.echo("non-converged solves (excluded from summaries): " + "; ".join(
            f"{m} " + ", ".join(f"{n:,} ({side})" for side, n in v.items()) for m, v in bad.items()))
    import json
    flags = {m: v for m, v in json.loads((info.path / "manifest.json").read_text()).get("welfare_flags", {}).items()
             if any(v.values())}
    if flags:
        click.echo("welfare flags (region-periods whose welfare change exceeds the value of baseline consumption): "
                   + "; ".join(f"{m} " + ", ".join(f"{n:,} ({side})" for side, n in v.items()) for m, v in flags.items()))
    from ..headline import effects, write_headline, write_tidy_summary

    regions = [x.strip() for x in region.split(",") if x.strip()]
    files = write_headline(info.path, effects(info.path, regions=regions), comparison=True)
    write_tidy_summary(info.path)
    click.echo(effects_text(info.path, regions))
    click.echo(f"\nheadline table: {files['csv']} and {files['markdown'].name}; summary for spreadsheets: "
               "summary_tidy.csv")
