"""The headline batch behind ``make demo``: every policy scenario against its counterfactual.

For each scenario file in ``scenarios/`` that names a ``counterfactual:``, run the paired
comparison (common random numbers), then draw the effect charts; run the baseline once for
fan charts of prices and import reliance. Returns the folders and a headline table.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .compare import compare
from .headline import effects, run_headline, write_headline, write_tidy_summary
from .headline import touched as touched_minerals
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
        write_headline(info.path, run_headline(info.path, DEMO_REGIONS), comparison=False)
        write_tidy_summary(info.path)
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
        eff = effects(path, regions=DEMO_REGIONS)
        touched = touched_minerals(eff)
        for m in touched:
            for stem, fig in figures_for(path, "effects", mineral=m, regions=DEMO_REGIONS, output="consumer_price"):
                out["figures"].append(_save(fig, path / "figures" / f"{stem}.png", dpi))
        write_headline(path, eff, comparison=True)
        us = eff[(eff.region == "USA") & eff.mineral.isin(touched)]
        for m, g in us.groupby("mineral", sort=False):
            for measure in ("consumer price", "net welfare NPV", "floor fiscal cost NPV", "tariff revenue NPV"):
                q = g[g.measure == measure]
                if not len(q):
                    continue
                r = q.iloc[0]
                rows.append({"scenario": name, "mineral": m, "region": "USA", "measure": measure,
                             **{k: r[k] for k in r.index if k not in ("mineral", "region", "measure")}})
    # the headline frame (simsrc.headline columns, plus the scenario): the CLI formats it
    out["headline"] = pd.DataFrame(rows)
    return out
