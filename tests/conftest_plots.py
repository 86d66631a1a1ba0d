"""Small synthetic results folders for the plot and report tests.

``make_small_results(tmp_path)`` writes a results folder with :class:`ResultsWriter` in the
real format (2 minerals, 4 regions, 8 quarters, 50 draws) so the tests can later swap it for a
tiny real run of the engine without changing anything else. ``make_small_comparison`` writes
a comparison folder (paired differences, ``"kind": "comparison"``). The numbers are made up
but have realistic shapes: prices in USD/kg with a drift and noise, a tariff wedge for the
US, US net import reliance near 0.8-0.9, welfare changes of millions of USD.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simsrc.results import OUTPUTS, ResultsWriter

REGIONS = ["USA", "CHN", "EU", "JPN"]
MINERALS = {  # code -> (price USD/kg, production t/yr by region, consumption t/yr by region)
    "ndpr_oxide": (56.0, [1_300, 90_000, 500, 0], [9_000, 72_000, 5_500, 5_300]),
    "gallium": (220.0, [0, 750, 20, 10], [20, 560, 110, 90]),
}
PERIODS = 8
DRAWS = 50

#: A resolved scenario in the shape of ``Scenario.to_dict()`` (what the engine stores in the
#: manifest), after scenarios/section232_negotiation.yaml.
SCENARIO = {
    "name": "s232_tariff",
    "description": ("Section 232 negotiation (180 days from 2026-01-14); if it fails, an extra 25% US "
                    "tariff on Chinese NdPr oxide and gallium, with the NdPr price floor of USD 110/kg "
                    "in force."),
    "horizon": {"start": "2026Q1", "periods": PERIODS, "period": "quarter"},
    "draws": DRAWS, "seed": 2026, "dataset": "usgs2024", "minerals": list(MINERALS), "groups": {},
    "elasticity_ranges": "pert",
    "parameters": [{"name": "sigma_usa", "description": "Armington elasticity of US demand (assumption).",
                    "parameter": "armington", "minerals": "all", "regions": ["USA"],
                    "value": {"dist": "uniform", "low": 2.0, "high": 6.0}}],
    "dynamics": {"demand_growth": 0.0, "demand_volatility": 0.1, "depreciation": 0.05,
                 "investment_response": 0.5, "lead_time": 3.0, "expectation_weight": 0.25},
    "policies": [
        {"type": "tariff", "name": "s232_tariff",
         "description": "Additional 25% US duty (on top of baseline rates) if the negotiation fails.",
         "when": "section232.failed", "minerals": list(MINERALS), "importers": ["USA"],
         "exporters": ["CHN"], "rate": 0.25, "mode": "add"},
        {"type": "price_floor", "name": "ndpr_floor_mp",
         "description": "DoD-MP Materials price protection: NdPr oxide floor USD 110/kg to 2035Q3.",
         "end": "2035Q3", "minerals": ["ndpr_oxide"], "region": "USA", "level": 110.0, "unit": "USD/kg",
         "covered_share": {"dist": "pert", "low": 0.8, "mode": 0.9, "high": 1.0, "lamb": 4.0},
         "upside_share": 0.3},
    ],
    "events": [{"type": "negotiation", "name": "section232",
                "description": "Section 232 negotiations: 180-day window from the proclamation.",
                "opened": "2026-01-14", "deadline_days": 180,
                "success_probability": {"dist": "pert", "low": 0.2, "mode": 0.5, "high": 0.8},
                "partners": ["G7", "AUS", "IND", "SEA"]}],
    "outputs": {"watched_origins": ["CHN"], "discount_rate": 0.05},
}


#: The counterfactual of the comparison: the same scenario without the tariff.
COUNTERFACTUAL = {**SCENARIO, "name": "no_tariff", "description": "The NdPr price floor alone.",
                  "policies": SCENARIO["policies"][1:]}


def _paths(rng, mineral, tariff=True):
    """Synthetic outputs (draws, periods, regions) for one mineral."""
    price, prod, cons = MINERALS[mineral]
    n, T, R = DRAWS, PERIODS, len(REGIONS)
    prod, cons = np.asarray(prod, float), np.asarray(cons, float)
    drift = np.cumsum(rng.normal(0.01, 0.04, (n, T)), axis=1)
    origin = price * np.exp(drift)[:, :, None] * np.array([1.0, 0.92, 1.0, 1.0])
    on = tariff * (rng.random((n, 1)) < 0.6)  # US tariff from 2026Q3 in 60% of draws
    wedge = np.ones((n, T, R))
    wedge[:, 2:, 0] = 1.0 + 0.25 * on
    origin[:, 2:, 1] *= 1.0 - 0.04 * on  # Chinese producers absorb part of it
    consumer = origin.mean(axis=2, keepdims=True) * wedge * (1 + rng.normal(0, 0.01, (n, T, R)))
    production = prod * np.exp(rng.normal(0, 0.03, (n, T, R))) * (1 + 0.02 * np.arange(T))[None, :, None]
    consumption = cons * np.exp(rng.normal(0, 0.03, (n, T, R)))
    with np.errstate(invalid="ignore", divide="ignore"):
        nir = np.where(consumption > 0, np.maximum(0, (consumption - production) / consumption), 0.0)
    usd = price * 1000  # USD/t
    a = {
        "origin_price": origin, "consumer_price": consumer, "production": production,
        "consumption": consumption, "imports": np.maximum(consumption - production, 0),
        "exports": np.maximum(production - consumption, 0), "capacity": production / 0.8,
        "net_import_reliance": nir,
        "tariff_revenue": np.where(wedge > 1, 0.25 * usd * 0.5 * consumption, 0.0),
        "levy_revenue": np.zeros((n, T, R)), "quota_rent": np.zeros((n, T, R)),
        "floor_fiscal_cost": np.zeros((n, T, R)), "stockpile": np.zeros((n, T, R)),
        "cs_change": -(consumer / price - 1) * usd * consumption * 0.5,
        "ps_change": (origin / price - 1) * usd * production * 0.5,
        "fob_price": origin * 1.05, "export_tax_revenue": np.zeros((n, T, R)),
        "transship_cost": np.zeros((n, T, R)), "intermediary_rent": np.zeros((n, T, R)),
        "backstop_substitution": np.zeros((n, T, R)),
        "stockpile_sales": np.zeros((n, T, R)), "stockpile_purchases": np.zeros((n, T, R)),
        "stockpile_value_change": np.zeros((n, T, R)), "welfare_flag": np.zeros((n, T, R)),
        "equity_income": np.zeros((n, T, R)),
        "converged": np.ones((n, T, R)),
        "share_CHN": np.clip(rng.normal(0.6, 0.05, (n, T, R)), 0, 1),
    }
    if mineral == "ndpr_oxide":
        a["floor_fiscal_cost"][:, :, 0] = np.maximum(110 - origin[:, :, 0], 0) * 1000 * production[:, :, 0] * 0.6
    a["converged"][3, 5, :] = 0  # one failed solve: excluded from summaries, the draw from NPV plots
    return {k: v.astype(np.float32) for k, v in a.items()}


def _write(tmp_path, name, manifest, seed, transform=None):
    rng = np.random.default_rng(seed)
    outputs = list(OUTPUTS) + ["share_CHN"]
    with ResultsWriter(tmp_path, name, "0123456789abcdef", outputs, 0.25, 0.05,
                       folder_name=f"{name}-20260101T000000Z-01234567") as w:
        for m in MINERALS:
            arrays = _paths(rng, m)
            if transform is not None:
                arrays = transform(m, arrays)
            for start in (0, 30):  # two chunks, as the engine writes them
                stop = 30 if start == 0 else DRAWS
                w.add_chunk(m, REGIONS, start, {k: v[start:stop] for k, v in arrays.items()})
        return w.finish(manifest)


def _manifest(**extra):
    m = {
        "scenario_name": SCENARIO["name"], "scenario_hash": "0123456789abcdef",
        "horizon": dict(SCENARIO["horizon"]), "periods": PERIODS, "draws": DRAWS,
        "kind": "run", "seed_entropy": 2026, "discount_rate": 0.05,
        "dataset": {"name": "usgs2024", "path": "usgs2024"}, "period_years": 0.25,
        "units": {m: {"price": "USD/kg", "quantity": "t/yr"} for m in MINERALS},
        "regions": REGIONS, "minerals": list(MINERALS),
        "scenario": SCENARIO, "nonconverged_solves": {m: 1 for m in MINERALS},
        "solves": {m: DRAWS * PERIODS for m in MINERALS},
    }
    m.update(extra)
    return m


def make_small_results(tmp_path):
    """A results folder of one scenario: 2 minerals, 4 regions, 8 quarters, 50 draws."""
    return _write(tmp_path, SCENARIO["name"], _manifest(), seed=7)


def make_small_comparison(tmp_path):
    """A comparison folder: paired differences scenario - counterfactual, same layout."""
    same_draws = np.random.default_rng(7)  # common random numbers: the counterfactual's draws

    def diff(m, arrays):
        cf = _paths(same_draws, m, tariff=False)
        out = {k: v - cf[k] for k, v in arrays.items()}
        out["converged"] = np.minimum(arrays["converged"], cf["converged"])
        return out

    manifest = _manifest(kind="comparison", scenario=SCENARIO, counterfactual=COUNTERFACTUAL,
                         scenario_names={"scenario": SCENARIO["name"], "counterfactual": COUNTERFACTUAL["name"]},
                         scenario_name=f"{SCENARIO['name']} vs {COUNTERFACTUAL['name']}",
                         nonconverged_solves={m: {"scenario": 1, "counterfactual": 1} for m in MINERALS})
    return _write(tmp_path, f"{SCENARIO['name']}-vs-no_tariff", manifest, seed=7, transform=diff)


# --- sensitivity inputs (what SALib and the sweep runner produce) -------------------------------

PARAMS = ["armington_USA", "supply_elasticity_CHN", "demand_elasticity_USA", "lead_time",
          "p_negotiations_fail", "demand_growth_sd"]


def tornado_frame():
    """One-at-a-time outcomes: US consumer price of NdPr oxide, USD/kg."""
    return pd.DataFrame({
        "parameter": PARAMS,
        "low": [71.0, 80.5, 74.0, 75.5, 70.2, 74.9],
        "high": [79.0, 69.0, 76.1, 74.6, 79.8, 75.2],
        "base": 75.0,
        "low_value": [2.0, 0.2, -0.6, 4, 0.3, 0.05],
        "high_value": [6.0, 1.0, -0.2, 12, 0.9, 0.2],
    })


def sobol_dict():
    """A SALib sobol.analyze-style result (ResultDict-like dict with names)."""
    return {
        "names": PARAMS,
        "S1": np.array([0.21, 0.35, 0.02, 0.01, 0.28, 0.005]),
        "S1_conf": np.array([0.04, 0.05, 0.01, 0.01, 0.05, 0.004]),
        "ST": np.array([0.27, 0.41, 0.03, 0.02, 0.33, 0.01]),
        "ST_conf": np.array([0.05, 0.06, 0.01, 0.01, 0.05, 0.005]),
    }


def morris_dict():
    """A SALib morris.analyze-style result, effects in USD/kg."""
    return {
        "names": PARAMS,
        "mu_star": np.array([4.1, 6.2, 1.0, 0.6, 5.0, 0.2]),
        "sigma": np.array([2.0, 3.5, 0.3, 0.4, 0.8, 0.1]),
        "mu_star_conf": np.array([0.8, 1.1, 0.2, 0.2, 0.9, 0.05]),
        "mu": np.array([-4.1, -6.2, 0.9, -0.5, 5.0, 0.1]),
    }


def sweep_frame():
    """Two-way sweep: change in US NdPr consumer price (USD/kg) by tariff rate and floor."""
    rates = [0.0, 0.1, 0.25, 0.5]
    floors = [90, 100, 110, 120, 130]
    vals = np.array([[12 * r + 0.08 * (f - 110) for f in floors] for r in rates])
    t = pd.DataFrame(vals, index=pd.Index(rates, name="tariff rate"), columns=pd.Index(floors, name="floor (USD/kg)"))
    return t


def flow_frames():
    """Baseline and scenario NdPr oxide flows (t/yr), origin x destination."""
    idx = pd.Index(REGIONS, name="origin")
    cols = pd.Index(REGIONS, name="destination")
    base = pd.DataFrame([[15_000, 0, 20_000, 10_000], [4_000, 230_000, 20_000, 16_000],
                         [0, 0, 2_000, 0], [1_000, 0, 0, 0]], index=idx, columns=cols, dtype=float)
    scen = base.copy()
    scen.loc["CHN", "USA"] = 1_500
    scen.loc["USA", "USA"] = 18_000
    scen.loc["JPN", "USA"] = 1_400
    scen.loc["USA", "EU"] = 17_500
    return base, scen


# --- a real run of the engine -------------------------------------------------------------------

def make_real_run(tmp_path, draws: int = 20, periods: int = 12):
    """A small real run of the engine: the test scenario with every instrument
    (tests/fixtures/scenarios/full.yaml, tiny dataset) over ``periods`` quarters."""
    from pathlib import Path

    import yaml

    from simsrc.engine import run

    fixtures = Path(__file__).parent / "fixtures"
    data = yaml.safe_load((fixtures / "scenarios" / "full.yaml").read_text())
    data["dataset"] = str((fixtures / "tinydata").resolve())
    data["horizon"]["periods"] = periods
    path = tmp_path / "full_short.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return run(path, draws=draws, out_dir=tmp_path / "results").path
