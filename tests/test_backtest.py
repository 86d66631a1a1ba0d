"""`simsrc backtest`: every episode runs end to end at a few draws; the comparison table is checked
against the run's own paths, recomputed here (correctness of the comparison, not of the fit)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from simsrc.backtest import compare_targets, load_episodes, read_targets
from simsrc.cli import main

ROOT = Path(__file__).resolve().parents[1]
EPISODES = ROOT / "scenarios" / "backtests" / "episodes.yaml"


@pytest.mark.parametrize("name", ["ree2010", "gage2023"])
def test_backtest_episode_runs_and_its_table_matches_the_paths(tmp_path, name):
    res = CliRunner().invoke(main, ["backtest", name, "--episodes", str(EPISODES), "--draws", "12", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "targets inside the model's 90% band: in-sample" in res.output
    folder = next(tmp_path.glob(f"{name}-*"))
    table = pd.read_csv(folder / "backtest.csv")
    ep = load_episodes(EPISODES)[name]
    targets = read_targets(ep.targets)
    assert len(table) == len(targets)  # every target is listed, compared or with its reason
    done = table[table["status"] == "compared"]
    assert len(done) >= 0.8 * len(table)
    assert (table.loc[table["status"] != "compared", "status"].str.startswith("not compared")).all()
    # inside flags follow the band
    inside = (done["p5"] <= done["observed"]) & (done["observed"] <= done["p95"])
    assert (inside == done["inside"].astype(bool)).all()
    assert (done["p5"] <= done["median"]).all() and (done["median"] <= done["p95"]).all()
    assert list(folder.glob("figures/backtest-*.png"))
    # recompute one price and one tonnage target from the paths
    paths = pd.read_parquet(folder / "paths.parquet")
    price = done[(done["series"] == "domestic_price") & ~done["date"].str.len().eq(4)].iloc[0]
    start = pd.Period(json.loads((folder / "manifest.json").read_text())["horizon"]["start"], "Q")
    k = (pd.Period(price["date"], "Q") - start).n
    v = paths[(paths.period == k) & (paths.region == "CHN") & (paths.mineral == price["mineral"])]["origin_price"]
    assert price["median"] == pytest.approx(float(v.median()), rel=1e-6)
    ton = done[done["series"] == "export_volume"].iloc[-1]
    year = int(str(ton["date"])[:4])
    ks = [(pd.Period(f"{year}Q{q}", "Q") - start).n for q in range(1, 5)]
    minerals = ep.aggregates.get(ton["mineral"], {}).get("minerals", [ton["mineral"]])
    share = ep.aggregates.get(ton["mineral"], {}).get("share_of_total", 1.0)
    sel = paths[paths.period.isin(ks) & (paths.region == "CHN") & paths.mineral.isin(minerals)]
    if len(str(ton["date"])) == 4:
        per_draw = sel.groupby("draw")["exports"].sum() * 0.25 / share
        assert ton["median"] == pytest.approx(float(per_draw.median()), rel=1e-6)


def test_targets_in_the_data_year_are_calibration_not_in_sample(tmp_path):
    ep = load_episodes(EPISODES)["ree2010"]
    assert ep.calibration_year == 2009 and ep.in_sample[0].year == 2010
    t = read_targets(ep.targets)
    assert {"fob_price", "domestic_price", "export_volume"} <= set(t["series"])


@pytest.mark.slow
@pytest.mark.parametrize("name", ["ree2010", "gage2023"])
def test_backtest_full_size(tmp_path, name):
    res = CliRunner().invoke(main, ["backtest", name, "--episodes", str(EPISODES), "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
