"""The headline batch behind ``make demo``: every policy scenario against its counterfactual.

For each scenario file in ``scenarios/`` that names a ``counterfactual:``, run the paired
comparison (common random numbers), then draw the effect charts; run the baseline once for
fan charts of prices and import reliance. Returns the folders and a headline table.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .compare import compare, paired_effects
from .engine import run
from .scenario import load_scenario

#: Regions in the demo's charts and headline table.
DEMO_REGIONS = ["USA", "CHN", "EU", "JPN"]


def policy_scenarios(folder: Path) -> list[Path]:
    """Scenario files of a folder that name a counterfactual, in name order.

    Files named ``baseline*`` are reference points (e.g. the baseline without a policy, kept as
    the counterfactual of the scenario that adds it), not policy scenarios.
    """
    out = []
    for p in sorted(Path(folder).glob("*.yaml")):
        if p.stem.startswith("baseline"):
            continue
        scn = load_scenario(p)
        if scn.counterfactual:
            out.append(p)
    return out


def _save(fig, path: Path, dpi: int):
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path


def demo(scenarios_dir="scenarios", out_dir="results/demo", draws: int = 1000, dpi: int = 150,
         progress=None, echo=print) -> dict:
    """Run the demo batch; returns ``{"runs": [...], "comparisons": [...], "figures": [...], "headline": DataFrame}``."""
    from .plots import figures_for

    scenarios_dir, out_dir = Path(scenarios_dir), Path(out_dir)
    out = {"runs": [], "comparisons": [], "figures": []}
    base = scenarios_dir / "baseline.yaml"
    if base.exists():
        echo(f"baseline: {draws} draws")
        info = run(base, draws=draws, out_dir=out_dir, progress=progress)
        out["runs"].append(info.path)
        for output in ("consumer_price", "net_import_reliance"):
            for stem, fig in figures_for(info.path, "fan", regions=DEMO_REGIONS, output=output):
                out["figures"].append(_save(fig, info.path / "figures" / f"{stem}.png", dpi))
    rows = []
    batch_file = scenarios_dir / "batches" / "library.yaml"
    if batch_file.exists():
        # the library as a batch: its catalogue (every member, mineral, region and headline
        # measure) stays on disk, and a demo run again resumes instead of recomputing
        from .batch import run_batch
        # members keep the paths the demo's figures read (consumer prices of its regions),
        # not every output (batch members write none by default)
        keep = f"outputs.paths={{outputs: [consumer_price], regions: [{', '.join(DEMO_REGIONS)}]}}"
        res = run_batch(batch_file, out_dir=out_dir, sets=[keep], draws=draws, progress=progress, echo=echo)
        out["batch"] = res["folder"]
        members = [(m.id, res["folder"] / "members" / m.id) for m in res["spec"].members]
    else:
        members = []
        for p in policy_scenarios(scenarios_dir):
            echo(f"{p.stem} vs its counterfactual: {draws} draws each, common random numbers")
            members.append((p.stem, compare(p, draws=draws, out_dir=out_dir, progress=progress).path))
    for name, path in members:
        path = Path(path)
        out["comparisons"].append(path)
        # effect figures only for the minerals the policy touches (an untouched market's effects
        # are exactly zero: common random numbers and identical policies)
        touched = paired_effects(path, regions=DEMO_REGIONS)
        touched = [m for m, g in touched.groupby("mineral", sort=False)
                   if np.any(g[["mean", "p_lo", "p_hi"]].to_numpy())]
        for m in touched:
            for stem, fig in figures_for(path, "effects", mineral=m, regions=DEMO_REGIONS, output="consumer_price"):
                out["figures"].append(_save(fig, path / "figures" / f"{stem}.png", dpi))
        eff = paired_effects(path, regions=["USA"])
        for m, g in eff.groupby("mineral", sort=False):
            if not np.any(g[["mean", "p_lo", "p_hi"]].to_numpy()):
                continue  # the policy does not touch this mineral
            row = {"scenario": name, "mineral": m}
            for measure, col in (("consumer price", "USA consumer price %"), ("net welfare NPV", "USA net welfare NPV, USD m"),
                                 ("floor fiscal cost NPV", "USA floor cost NPV, USD m"),
                                 ("tariff revenue NPV", "USA tariff revenue NPV, USD m")):
                q = g[g.measure == measure]
                if len(q):
                    r = q.iloc[0]
                    fmt = "{:+,.1f}" if measure == "consumer price" else "{:+,.0f}"
                    # the headline is the median and 5-95% interval; a mean only with its tail
                    # diagnostic (docs/model.md sec. 6)
                    row[col + ", median [5%, 95%]"] = f"{fmt.format(r['median'])} [{fmt.format(r.p_lo)}, {fmt.format(r.p_hi)}]"
                    if measure in ("consumer price", "net welfare NPV"):
                        row[col + ", mean (top 1% share)"] = f"{fmt.format(r['mean'])} ({100 * r.tail_share:.0f}%)"
            rows.append(row)
    out["headline"] = pd.DataFrame(rows).set_index(["scenario", "mineral"]) if rows else pd.DataFrame()
    return out
