"""Baseline restrictions in the data (docs/model.md sec. 1.3): a dataset states the export taxes
and quotas in force in its data year, with the observed export-to-domestic price ratio; the
calibration replicates the baseline with them binding. Expected values are written here from
the section's formulas, not taken from the engine."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simsrc.calibrate import calibrate
from simsrc.data import load_dataset
from simsrc.equilibrium import MarketInputs, solve, solve_scenario
from simsrc.errors import InputError
from simsrc.scenario import load_scenario

MINERALS = ("mineral,name,stage,unit,price,price_unit,price_date,utilisation,supply_elasticity,supply_elasticity_low,"
            "supply_elasticity_high,demand_elasticity,demand_elasticity_low,demand_elasticity_high,armington,armington_low,"
            "armington_high\nox,Oxide,separated oxide,t,10,USD/kg,2009,,0.5,0.2,1.5,-0.3,-0.8,-0.1,8.4,4.2,16.8\n")
FLOWS = ("mineral,origin,destination,quantity\n"
         "ox,CHN,CHN,600\nox,CHN,JPN,200\nox,CHN,ROW,100\nox,JPN,JPN,50\nox,ROW,ROW,30\nox,ROW,JPN,20\n")
E0 = 300.0   # China's baseline exports
TAX = 0.15
RHO = 1.5    # observed FOB / domestic price ratio
LAM0 = RHO / (1 + TAX) - 1


def make(tmp_path, restrictions: str):
    d = tmp_path / "ds"
    d.mkdir(exist_ok=True)
    (d / "regions.csv").write_text("region,name,groups\nCHN,China,\nJPN,Japan,\nROW,Rest of world,\n")
    (d / "minerals.csv").write_text(MINERALS)
    (d / "flows.csv").write_text(FLOWS)
    (d / "restrictions.csv").write_text("mineral,origin,destinations,type,value,export_domestic_ratio\n" + restrictions)
    return d


BINDING = f"ox,CHN,all,export_tax,{TAX},\nox,CHN,all,quota,{E0},{RHO}\nox,CHN,all,licensing,,\n"


def test_binding_quota_and_export_tax_replicate_the_baseline(tmp_path):
    ds = load_dataset(make(tmp_path, BINDING))
    md = ds.minerals["ox"]
    kinds = [r.kind for r in md.restrictions]
    assert kinds == ["export_tax", "quota"]  # licensing is recorded without an effect
    q = md.restrictions[1]
    assert q.lam0 == pytest.approx(LAM0, abs=1e-15)
    cal = calibrate(md, latent_link_weight=0.0)
    # baseline border factors include the tax and the wedge on China's exports only
    assert cal.T0[0, 1] == pytest.approx((1 + TAX) * (1 + LAM0), abs=1e-15)
    assert cal.T0[0, 0] == 1.0 and cal.T0[2, 1] == 1.0 and cal.tariff0[0, 1] == 1.0
    res = solve(cal, MarketInputs.baseline(cal), tol=1e-12)
    assert res.converged
    np.testing.assert_allclose(res.price_index[cal.active_origin], 1.0, atol=1e-9)
    np.testing.assert_allclose(res.flows, cal.X0, rtol=1e-9, atol=1e-9)
    # the quota binds at its baseline wedge; the export (FOB) price is the domestic price times
    # the observed ratio
    assert res.wedges[0] == pytest.approx(LAM0, abs=1e-9)
    assert res.fob_price[0] == pytest.approx(cal.price * RHO, rel=1e-9)


def test_scenario_replicates_baseline_then_lifting_the_quota_moves_prices(tmp_path):
    d = make(tmp_path, BINDING)
    f = tmp_path / "s.yaml"
    f.write_text(f"name: s\ndataset: {d}\nhorizon: {{start: 2009Q1, periods: 1, period: year}}\n")
    res = solve_scenario(load_scenario(f), ["ox"], tol=1e-12)["ox"]
    np.testing.assert_allclose(res.price_index[[0, 1, 2]], 1.0, atol=1e-9)
    X0 = calibrate(load_dataset(d).minerals["ox"]).X0  # latent links included (default weight)
    np.testing.assert_allclose(res.flows, X0, rtol=1e-9, atol=1e-9)
    # lifted before the first period: China exports more, its price rises, Japan's falls
    f.write_text(f"name: s\ndataset: {d}\nhorizon: {{start: 2015Q1, periods: 1, period: year}}\n"
                 "trade: {baseline_restrictions_until: 2014-12-31}\n")
    free = solve_scenario(load_scenario(f), ["ox"], tol=1e-12)["ox"]
    assert free.flows[0, 1:].sum() > E0 * 1.05
    assert free.price_index[0] > 1.0 and free.price_index[1] < 1.0


@pytest.mark.parametrize("rows, message", [
    (f"ox,CHN,all,quota,250,{RHO}\n", "must equal the baseline flows"),
    ("ox,CHN,all,quota,250,\n", "below the baseline flows"),
    (f"ox,CHN,all,export_tax,{TAX},\nox,CHN,all,quota,{E0},1.1\n", "below 1 + the export tax"),
    ("ox,CHN,all,export_tax,15,\n", "fraction"),
    ("ox,CHN,all,embargo,1,\n", "is not one of"),
    ("ox,CHN,MARS,quota,300,\n", "MARS"),
])
def test_bad_baseline_restrictions_are_reported_with_file_line_and_key(tmp_path, rows, message):
    with pytest.raises(InputError) as err:
        load_dataset(make(tmp_path, rows))
    text = str(err.value)
    assert "restrictions.csv:" in text and message in text  # file:line, then the key


def test_period_loop_starts_at_the_baseline_and_lifting_the_restrictions_moves_prices(tmp_path):
    """The period loop at central values starts at the baseline with the dataset's restrictions
    binding (FOB = domestic price x the observed ratio); against the same run with them kept,
    lifting them raises China's price and lowers Japan's from that period on, and nothing
    changes before."""
    from simsrc.engine import simulate_chunk
    from simsrc.policies import compile_market
    d = make(tmp_path, BINDING)
    f = tmp_path / "s.yaml"
    runs = {}
    for name, until in (("kept", ""), ("lifted", "trade: {baseline_restrictions_until: 2010-06-30}\n")):
        f.write_text(f"name: s\ndataset: {d}\nhorizon: {{start: 2009Q1, periods: 12, period: quarter}}\n" + until)
        scn = load_scenario(f)
        runs[name], _ = simulate_chunk(scn, compile_market(scn, "ox"), 0, 2, central=True, tol=1e-12)
    kept, lifted = runs["kept"], runs["lifted"]
    np.testing.assert_allclose(kept["origin_price"][:, 0, :] / 10.0, 1.0, atol=1e-5)  # P0 = 10 USD/kg
    np.testing.assert_allclose(kept["fob_price"][:, 0, 0] / 10.0, RHO, rtol=1e-5)
    np.testing.assert_array_equal(kept["origin_price"][:, :6], lifted["origin_price"][:, :6])
    d_p = lifted["origin_price"][:, 6:] - kept["origin_price"][:, 6:]
    assert (d_p[..., 0] > 0).all() and (d_p[..., 1] < 0).all()
    assert (lifted["export_tax_revenue"][:, 6:, 0] == 0).all() and (kept["export_tax_revenue"][:, 6:, 0] > 0).all()


@pytest.mark.parametrize("dataset", ["ree2009", "gage2022", "usgs2024"])
def test_builtin_datasets_replicate_their_baselines_with_their_restrictions(dataset):
    """Every built-in dataset passes the loader's checks and its calibrated baseline (with the
    dataset's export taxes and quotas in force) solves to itself: prices 1, flows X0, to 1e-9."""
    ds = load_dataset(dataset)
    for code, md in ds.minerals.items():
        cal = calibrate(md)
        res = solve(cal, MarketInputs.baseline(cal), tol=1e-12)
        assert res.converged, (dataset, code)
        np.testing.assert_allclose(res.price_index[cal.active_origin], 1.0, atol=1e-9, err_msg=f"{dataset} {code}")
        np.testing.assert_allclose(res.flows, cal.X0, rtol=1e-9, atol=1e-9 * cal.X0.max(), err_msg=f"{dataset} {code}")
    if dataset == "ree2009":  # the 2009 duties are in force: export price = domestic x 1.15 (Nd) or 1.25 (Dy)
        for code, tax in (("ndpr_oxide", 0.15), ("dy_oxide", 0.25)):
            cal = calibrate(ds.minerals[code])
            res = solve(cal, MarketInputs.baseline(cal), tol=1e-12)
            chn = cal.regions.index("CHN")
            assert res.fob_price[chn] == pytest.approx(cal.price * (1 + tax), rel=1e-9)
