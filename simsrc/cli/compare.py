"""`simsrc compare SCENARIO --against BASELINE`: paired policy effects."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from . import ExecutorType, Progress, load_with_sets, main, set_option

#: Regions shown as columns of the headline table (others are in the results folder).
HEADLINE_REGIONS = ("USA", "CHN", "EU", "JPN")


def _cell(row) -> str:
    fmt = "{:+,.1f}" if row.unit in ("%", "pp") else "{:+,.0f}"
    return f"{fmt.format(row['median'])} [{fmt.format(row.p_lo)}, {fmt.format(row.p_hi)}]"


def effects_text(path, regions=HEADLINE_REGIONS) -> str:
    """The headline effects of a comparison folder as text tables, one per mineral."""
    from ..compare import HEADLINES, paired_effects

    eff = paired_effects(path, regions=list(regions))
    if not len(eff):
        return "\nno headline effects: no draw converged to finite values on both sides in every period"
    lines = []
    untouched = []
    for m, g in eff.groupby("mineral", sort=False):
        if not g[["median", "p_lo", "p_hi", "mean"]].to_numpy().any():
            untouched.append(m)  # the policy does not touch this mineral: every effect is 0
            continue
        g = g.assign(cell=g.apply(_cell, axis=1), label=g.measure + " (" + g.unit + ")")
        tab = g.pivot(index="label", columns="region", values="cell")
        present = set(g.label)
        order = [f"{h[0]} ({h[3]})" for h in HEADLINES if f"{h[0]} ({h[3]})" in present]
        tab = tab.reindex(index=order, columns=[r for r in regions if r in tab.columns]).fillna("")
        lines.append(f"\n{m}: effect = scenario - counterfactual per draw, median [5%, 95%]")
        with pd.option_context("display.width", 220, "display.max_colwidth", 40):
            lines.append(tab.to_string())
        cp = g[(g.measure == "consumer price") & (g.region == regions[0])]
        if len(cp):
            r = cp.iloc[0]
            tail = (f"; top 1% of draws: {100 * r.tail_share:.0f}% of sum |effect|"
                    + (" (heavy tail: read the median)" if r.tail_share > 0.25 else "")) if r.tail_share == r.tail_share else ""
            lines.append(f"  mean {regions[0]} consumer price effect {r['mean']:+.2f}% with 90% CI +/-{r.ci_half_paired:.2f} "
                         f"(paired) vs +/-{r.ci_half_unpaired:.2f} if the runs had independent draws{tail}")
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
@set_option
def compare_cmd(scenario, against, draws, seed, out_dir, chunk_size, sets, executor):
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
        click.echo(f"non-converged solves (excluded from summaries): {bad}")
    import json
    flags = {m: v for m, v in json.loads((info.path / "manifest.json").read_text()).get("welfare_flags", {}).items()
             if any(v.values())}
    if flags:
        click.echo("welfare flags (region-periods whose welfare change exceeds the value of baseline consumption): "
                   f"{flags}")
    click.echo(effects_text(info.path))
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
