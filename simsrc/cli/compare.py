"""`simsrc compare SCENARIO --against BASELINE`: paired policy effects."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from . import ExecutorType, Progress, check_region, load_with_sets, main, set_option

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
    if not len(eff):
        return "\nno headline effects: no draw converged to finite values on both sides in every period"
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
@click.option("--draws", "-n", type=click.IntRange(min=1, max=10_000_000), default=None, help="Number of draws (default: the scenario's).")
@click.option("--seed", "-s", type=click.IntRange(min=0, max=2**63 - 1), default=None, help="Seed (default: the scenario's).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("results"), show_default=True)
@click.option("--chunk-size", type=click.IntRange(min=1), default=1000, show_default=True)
@click.option("--executor", type=ExecutorType(), default="local", show_default=True,
              help="Where chunks run: local, dask (a local cluster of 2 workers) or dask://HOST:PORT.")
@click.option("--region", default=None,
              help="Region(s) of the headline table, comma-separated; written to headline.csv/.md "
                   f"[default: those of {','.join(HEADLINE_REGIONS)} in the dataset].")
@set_option
def compare_cmd(scenario, against, draws, seed, out_dir, chunk_size, sets, executor, region):
    """Run SCENARIO and a counterfactual on the same draws; write and print paired effects."""
    from ..compare import compare

    scn = load_with_sets(scenario, sets)
    if region is None:
        known = list(scn.data.regions)
        region = ",".join([r for r in HEADLINE_REGIONS if r in known] or known[:4])
    else:
        check_region(scn, region)
    progress = Progress("simulating both:")
    try:
        info = compare(scn, against, draws=draws, seed=seed, out_dir=out_dir, chunk_size=chunk_size, progress=progress,
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
    draws_periods = None
    try:
        man = json.loads((info.path / "manifest.json").read_text())
        draws_periods = int(man["draws"]) * int(man["periods"])
    except (KeyError, TypeError, ValueError):
        pass
    failed = [f"{m} ({side})" for m, v in info.nonconverged.items() for side, n in v.items()
              if draws_periods and n >= draws_periods]
    if failed:
        click.echo(f"error: every solve of {', '.join(failed)} failed (did not converge or gave non-finite values), "
                   f"so there is no effect to report for it; see converged in {info.path}/paths.parquet", err=True)
        raise SystemExit(1)
