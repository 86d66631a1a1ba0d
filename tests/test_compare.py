"""Policy comparison on common random numbers (issue 5)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from simsrc.compare import compare, paired_effects
from simsrc.results import Results

FIXTURES = Path(__file__).parent / "fixtures"
TINY = str((FIXTURES / "tinydata").resolve())


def _scn(tmp_path, name, policies=(), events=(), **extra):
    data = {"name": name, "horizon": {"start": "2026Q1", "periods": 8}, "draws": 200, "seed": 11,
            "dataset": TINY, "minerals": ["ndpr_oxide", "gallium"],
            "dynamics": {"demand_volatility": 0.1},
            "policies": list(policies), "events": list(events), **extra}
    p = tmp_path / f"{name}.yaml"
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    return p


def _draws(path, side):
    return pd.read_parquet(Path(path) / f"draws_{side}.parquet")


def test_self_comparison_is_exactly_zero(tmp_path):
    base = _scn(tmp_path, "base", policies=[{"name": "lic", "type": "export_restriction", "origin": "CHN",
                                             "destinations": "all", "cap_share": {"dist": "uniform", "low": 0.6, "high": 1.0}}])
    info = compare(base, base, out_dir=tmp_path / "out")
    r = Results(info.path)
    paths = r.paths()
    outs = [c for c in r.manifest["outputs"] if c not in ("converged", "welfare_flag")]  # flags, not differences
    vals = paths[outs].to_numpy()
    assert np.all((vals == 0) | np.isnan(vals))
    d = r.draws
    num = d.select_dtypes("number").drop(columns=["draw", "converged_share"])
    assert np.all((num.to_numpy() == 0) | np.isnan(num.to_numpy()))


def test_paired_interval_is_narrower_than_unpaired(tmp_path):
    base = _scn(tmp_path, "base")
    tariff = _scn(tmp_path, "tariff", policies=[{"name": "t", "type": "tariff", "importers": ["USA"],
                                                 "exporters": ["CHN"], "rate": 0.25}])
    info = compare(tariff, base, out_dir=tmp_path / "out")
    eff = paired_effects(info.path, regions=["USA"], minerals=["gallium"])
    row = eff[eff.measure == "consumer price"].iloc[0]
    assert row["mean"] > 0
    # common random numbers remove the demand-shock noise shared by both runs
    assert row.ci_half_paired < 0.25 * row.ci_half_unpaired


def test_us_tariff_on_china_raises_us_price_and_lowers_china_price(tmp_path):
    base = _scn(tmp_path, "base")
    tariff = _scn(tmp_path, "tariff", policies=[{"name": "t", "type": "tariff", "importers": ["USA"],
                                                 "exporters": ["CHN"], "rate": 0.25}])
    info = compare(tariff, base, out_dir=tmp_path / "out")
    A, B = _draws(info.path, "scenario"), _draws(info.path, "counterfactual")
    for m in ("gallium", "ndpr_oxide"):
        a = A[(A.mineral == m)].set_index(["draw", "region"])
        b = B[(B.mineral == m)].set_index(["draw", "region"])
        us = (a.xs("USA", level="region").mean_consumer_price - b.xs("USA", level="region").mean_consumer_price)
        cn = (a.xs("CHN", level="region").mean_origin_price - b.xs("CHN", level="region").mean_origin_price)
        assert (us > 0).all(), m
        assert (cn < 0).all(), m
        rev = a.xs("USA", level="region").npv_tariff_revenue - b.xs("USA", level="region").npv_tariff_revenue
        assert (rev > 0).all()


def test_producer_floor_raises_us_production_at_a_fiscal_cost(tmp_path):
    base = _scn(tmp_path, "base")
    floor = _scn(tmp_path, "floor", policies=[{"name": "f", "type": "price_floor", "minerals": ["ndpr_oxide"],
                                               "region": "USA", "level": 110, "unit": "USD/kg",
                                               "covered_share": 0.9, "upside_share": 0.3}])
    info = compare(floor, base, out_dir=tmp_path / "out")
    A, B = _draws(info.path, "scenario"), _draws(info.path, "counterfactual")
    a = A[(A.mineral == "ndpr_oxide") & (A.region == "USA")].set_index("draw")
    b = B[(B.mineral == "ndpr_oxide") & (B.region == "USA")].set_index("draw")
    assert (a.mean_production > b.mean_production).all()
    # the market (60 USD/kg in the fixture) is below the floor: the floor costs money
    assert (a.npv_floor_fiscal_cost > 0).all() and (b.npv_floor_fiscal_cost == 0).all()


def test_ban_raises_non_chinese_prices_and_pays_rents_to_the_right_party(tmp_path):
    base = _scn(tmp_path, "base")
    ban = _scn(tmp_path, "ban", policies=[{"name": "b", "type": "export_restriction", "minerals": ["gallium"],
                                           "origin": "CHN", "destinations": ["USA", "JPN"], "cap_share": 0,
                                           "leakage": 0.2}])
    info = compare(ban, base, out_dir=tmp_path / "out")
    A, B = _draws(info.path, "scenario"), _draws(info.path, "counterfactual")
    a = A[A.mineral == "gallium"].set_index(["draw", "region"])
    b = B[B.mineral == "gallium"].set_index(["draw", "region"])
    for r in ("JPN", "KOR"):  # non-Chinese producers' prices rise
        assert (a.xs(r, level="region").mean_origin_price > b.xs(r, level="region").mean_origin_price).all(), r
    for r in ("USA", "JPN"):  # consumer prices in the banned destinations rise
        assert (a.xs(r, level="region").mean_consumer_price > b.xs(r, level="region").mean_consumer_price).all(), r
    # a ban with leakage is a free route of capacity 0.2 x baseline: no direct exports, so no
    # quota rent for China; the scarcity rent of the full route goes to intermediaries
    assert (a.xs("CHN", level="region").npv_quota_rent == 0).all()
    assert (b.xs("CHN", level="region").npv_quota_rent == 0).all()
    for r in ("USA", "JPN"):
        assert (a.xs(r, level="region").npv_intermediary_rent > 0).all(), r
        assert (a.xs(r, level="region").npv_transship_cost == 0).all(), r  # leakage is free


def test_counterfactual_key_and_errors(tmp_path):
    base = _scn(tmp_path, "base")
    pol = _scn(tmp_path, "pol", counterfactual="base.yaml",
               policies=[{"name": "t", "type": "tariff", "importers": ["USA"], "exporters": ["CHN"], "rate": 0.1}])
    info = compare(pol, out_dir=tmp_path / "out")
    assert Results(info.path).manifest["scenario_names"] == {"scenario": "pol", "counterfactual": "base"}
    from simsrc.errors import SimsrcError
    with pytest.raises(SimsrcError, match="no counterfactual"):
        compare(base, out_dir=tmp_path / "out")
    other = _scn(tmp_path, "other", horizon={"start": "2026Q1", "periods": 9})
    with pytest.raises(SimsrcError, match="horizons differ"):
        compare(pol, other, out_dir=tmp_path / "out")


def test_compare_cli_prints_effects(tmp_path):
    from click.testing import CliRunner

    from simsrc.cli import main

    base = _scn(tmp_path, "base")
    pol = _scn(tmp_path, "pol", policies=[{"name": "t", "type": "tariff", "importers": ["USA"], "exporters": ["CHN"], "rate": 0.1}])
    res = CliRunner().invoke(main, ["compare", str(pol), "--against", str(base), "--draws", "50",
                                    "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert "consumer price (USD/kg; mean 2026Q1" in res.output and "paired" in res.output
    assert "% of the counterfactual" in res.output
