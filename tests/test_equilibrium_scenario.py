"""`simsrc solve`: a scenario's first period at central values, and its CLI."""

from __future__ import annotations

import json
import textwrap
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from simsrc.cli import main
from simsrc.equilibrium import MarketInputs, scenario_inputs, solve, solve_scenario
from simsrc.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def _write(tmp_path, text):
    f = tmp_path / "s.yaml"
    f.write_text(textwrap.dedent(text))
    return f


GSIM_SCENARIO = """
    name: gsim_fta_test
    horizon: {start: 2026Q1, periods: 8, period: quarter}
    draws: 10
    seed: 1
    dataset: gsim_example
    outputs: {watched_origins: [EU]}
    events:
      - name: talks
        type: negotiation
        opened: 2026-01-14
        deadline_days: 180
        success_probability: 0.5
    policies:
      - name: us_eu
        type: tariff
        minerals: all
        importers: [US]
        exporters: [EU]
        rate: 0.0
        mode: set
      - name: eu_us
        type: tariff
        minerals: all
        importers: [EU]
        exporters: [US]
        rate: 0.0
        mode: set
      - name: retaliation
        type: tariff
        when: talks.failed
        minerals: all
        importers: [JP]
        exporters: [US]
        rate: 0.5
        mode: add
    """


def test_first_period_applies_what_is_in_force_and_not_what_waits_for_an_event(tmp_path):
    scn = load_scenario(_write(tmp_path, GSIM_SCENARIO))
    cal, inp = scenario_inputs(scn, "GSIM")
    us, jp, eu = cal.region_index("US"), cal.region_index("JP"), cal.region_index("EU")
    assert inp.T[eu, us] == 1.0 and inp.T[us, eu] == 1.0          # the FTA, in force
    assert inp.T[us, jp] == pytest.approx(cal.T0[us, jp])          # talks pending in period 0
    res = solve_scenario(scn)["GSIM"]
    T = cal.T0.copy()
    T[eu, us] = T[us, eu] = 1.0
    ref = solve(cal, replace(MarketInputs.baseline(cal), T=T))
    np.testing.assert_allclose(res.price_index, ref.price_index, rtol=1e-12)
    assert res.converged


@pytest.mark.parametrize("name", ["baseline.yaml", "section232_negotiation.yaml"])
def test_shipped_scenarios_solve_and_match_the_dynamics_first_period(name):
    """The static compile must agree with the dynamics kernel's period 0 (central values)."""
    from simsrc.engine import simulate_chunk
    from simsrc.policies import compile_market

    scn = load_scenario(SCENARIOS / name)
    results = solve_scenario(scn)
    pairs = {"origin_price": "price", "consumer_price": "consumer_price", "production": "production",
             "consumption": "consumption", "tariff_revenue": "tariff_revenue",
             "levy_revenue": "levy_revenue", "quota_rent": "quota_rent", "fiscal_cost": "fiscal_cost",
             "cs_change": "cs_change"}
    # ps_change is not compared: the period loop charges the investment decided at the end of
    # the period (capex x investment beyond replacement) to producer surplus; a static solve
    # has no investment
    for mineral, res in results.items():
        assert res.converged, mineral
        spec = compile_market(scn, mineral)
        arrays, _ = simulate_chunk(scn, spec, 0, 1, central=True)
        for dyn, mine in pairs.items():
            if dyn not in arrays:
                continue
            a = arrays[dyn][0, 0].astype(float)
            b = np.asarray(getattr(res, mine), dtype=float)
            ok = np.isfinite(a)
            scale = np.nanmax(np.abs(b)) if np.any(np.isfinite(b)) else 1.0
            np.testing.assert_allclose(a[ok], b[ok], rtol=1e-5, atol=1e-5 * max(scale, 1.0),  # USD or t: 1e-5 is noise
                                       err_msg=f"{name} {mineral} {dyn}")


def test_cli_solve_prints_tables_and_json(tmp_path):
    f = _write(tmp_path, GSIM_SCENARIO)
    runner = CliRunner()
    out = runner.invoke(main, ["solve", str(f)])
    assert out.exit_code == 0, out.output
    assert "GSIM: converged" in out.output and "price idx" in out.output
    out = runner.invoke(main, ["solve", str(f), "--json", "--mineral", "GSIM"])
    assert out.exit_code == 0, out.output
    d = json.loads(out.output)["minerals"]["GSIM"]
    for key in ("regions", "price_index", "consumer_price_index", "production", "consumption", "flows",
                "wedges", "revenue", "fiscal_cost", "cs_change", "ps_change", "converged", "iterations"):
        assert key in d
    assert d["regions"] == ["US", "JP", "EU", "RW"] and len(d["flows"]) == 4 and d["converged"]


def test_cli_solve_unknown_mineral_suggests_a_name(tmp_path):
    f = _write(tmp_path, GSIM_SCENARIO)
    out = CliRunner().invoke(main, ["solve", str(f), "--mineral", "gsim"])
    assert out.exit_code == 1
    assert "did you mean GSIM" in out.output
