"""Shared builders of synthetic markets for the equilibrium tests (and a check of them).

``random_mineral`` makes a MineralData with the structure of the built-in data: some zero
flows, some regions without production (inactive origins) or without consumption, tariffs,
capacity limits with utilisation between 0.6 and 1, and elasticity ranges.
"""

from __future__ import annotations

import numpy as np

from simsrc.data import MineralData


def make_mineral(flows, tariffs=None, utilisation=None, *, supply=1.0, demand=-1.0,
                 armington=4.0, price=1000.0, price_unit="USD/t", regions=None,
                 ranges=None) -> MineralData:
    """A MineralData from arrays (flows t/yr origin x destination)."""
    flows = np.asarray(flows, dtype=float)
    R = flows.shape[0]
    regions = tuple(regions or [f"R{k}" for k in range(R)])
    tariffs = np.zeros((R, R)) if tariffs is None else np.asarray(tariffs, dtype=float)
    utilisation = np.full(R, np.nan) if utilisation is None else np.asarray(utilisation, dtype=float)
    ranges = ranges or {}
    el = {
        "supply_elasticity": ranges.get("supply_elasticity", (supply, supply, supply)),
        "demand_elasticity": ranges.get("demand_elasticity", (demand, demand, demand)),
        "armington": ranges.get("armington", (armington, armington, armington)),
    }
    return MineralData(code="TEST", name="test", stage="test", unit="t", price=price,
                       price_unit=price_unit, price_date="2024", regions=regions, flows=flows,
                       tariffs=tariffs, utilisation=utilisation, elasticities=el)


def random_mineral(rng, R=12, *, density=0.6, inactive=1, no_demand=1) -> MineralData:
    """A random market with R regions, zero flows, inactive origins and destinations."""
    X = rng.lognormal(mean=3.0, sigma=2.0, size=(R, R)) * (rng.random((R, R)) < density)
    for i in range(R):
        X[i, i] += rng.lognormal(3.0, 1.5)  # most regions sell at home
    idx = rng.permutation(R)
    for i in idx[:inactive]:
        X[i, :] = 0.0  # no production: an importer only
        X[(i + 1) % R, i] += 10.0
    for j in idx[inactive:inactive + no_demand]:
        X[:, j] = 0.0  # no consumption: an exporter only
        X[j, (j + 1) % R] += 5.0
        if X[j].sum() == 0:
            X[j, (j + 2) % R] = 5.0
    tariffs = rng.uniform(0, 0.15, size=(R, R)) * (rng.random((R, R)) < 0.5)
    np.fill_diagonal(tariffs, 0.0)
    util = rng.uniform(0.6, 1.0, size=R)
    util[rng.random(R) < 0.3] = np.nan
    return make_mineral(X, tariffs, util, ranges={
        "supply_elasticity": (0.5, 0.1, 3.0),
        "demand_elasticity": (-0.5, -2.0, -0.05),
        "armington": (4.0, 0.5, 12.0),
    })


def test_random_mineral_has_the_structure_the_tests_need():
    m = random_mineral(np.random.default_rng(0))
    assert (m.production == 0).sum() >= 1
    assert (m.consumption == 0).sum() >= 1
    assert m.flows.sum() > 0 and np.all(m.flows >= 0)
