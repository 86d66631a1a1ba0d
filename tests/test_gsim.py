"""GSIM (Francois & Hall 2003): the published 4x4 example and the linear limit of the levels model."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from simsrc.calibrate import calibrate
from simsrc.data import load_dataset
from simsrc.equilibrium import MarketInputs, solve
from simsrc.linear import solve_linear

#: GSIM's published world (exporter) price changes for the US-EU FTA (US, JP, EU, RW).
PUBLISHED = {"US": 0.0792, "JP": -0.0316, "EU": 0.0480, "RW": -0.0184}


@pytest.fixture(scope="module")
def gsim():
    ds = load_dataset("gsim_example")
    cal = calibrate(ds.minerals["GSIM"])
    us, eu = cal.region_index("US"), cal.region_index("EU")
    T_fta = cal.T0.copy()
    T_fta[us, eu] = T_fta[eu, us] = 1.0
    return cal, T_fta


def test_dataset_is_the_documented_example(gsim):
    cal, _ = gsim
    assert cal.regions == ("US", "JP", "EU", "RW")
    assert cal.X0.sum() == 2480.0
    assert cal.T0[2, 0] == pytest.approx(1.32) and cal.T0[0, 2] == pytest.approx(1.41)
    assert cal.eps[0] == 1.5 and cal.eta[0] == 1.25 and cal.sigma[0] == 5.0


def test_linear_mode_reproduces_the_published_world_price_changes(gsim):
    cal, T_fta = gsim
    lin = solve_linear(cal, T_fta)
    for r, x in zip(cal.regions, lin.world_price_change):
        assert round(x, 4) == pytest.approx(PUBLISHED[r], abs=1e-12), (r, x)


def test_linear_mode_without_a_shock_is_zero(gsim):
    cal, _ = gsim
    lin = solve_linear(cal)
    assert np.all(lin.world_price_change == 0) and np.all(lin.flow_change == 0)


def test_levels_solution_approaches_the_linear_one_as_the_shock_shrinks(gsim):
    """Scale the FTA's proportional tariff cut by s: the ratio of levels to linear price
    changes tends to 1 with an error of order s."""
    cal, T_fta = gsim
    cut = T_fta / cal.T0 - 1.0
    errors = []
    for s in (0.1, 0.01, 0.001):
        T = cal.T0 * (1.0 + s * cut)
        res = solve(cal, replace(MarketInputs.baseline(cal), T=T))
        lin = solve_linear(cal, T)
        assert res.converged
        ratio = (res.price_index - 1.0) / lin.world_price_change
        err = np.abs(ratio - 1.0).max()
        assert err < s, (s, ratio)
        errors.append(err)
    assert errors[0] > errors[1] > errors[2]
    assert errors[1] / errors[2] == pytest.approx(10.0, rel=0.05)  # first order in s


def test_linear_flow_changes_are_the_levels_derivatives(gsim):
    cal, T_fta = gsim
    cut = T_fta / cal.T0 - 1.0
    s = 1e-5
    T = cal.T0 * (1.0 + s * cut)
    res = solve(cal, replace(MarketInputs.baseline(cal), T=T))
    lin = solve_linear(cal, T)
    has = cal.X0 > 0
    d_levels = (res.flows[has] / cal.X0[has] - 1.0)
    np.testing.assert_allclose(d_levels, lin.flow_change[has], rtol=1e-3, atol=1e-9)
    np.testing.assert_allclose(res.consumer_price_index - 1.0, lin.composite_price_change, rtol=1e-3)
