"""Property tests (hypothesis) of the levels market clearing over the data's parameter ranges."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simsrc.calibrate import calibrate
from simsrc.data import load_dataset
from simsrc.equilibrium import MarketInputs, solve
from simsrc.kernels import equilibrium as keq

from test_equilibrium_cases import random_mineral

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _data_ranges():
    """Union of the elasticity ranges of the built-in usgs2024 dataset."""
    ds = load_dataset("usgs2024")
    lo = {k: min(m.elasticities[k][1] for m in ds.minerals.values()) for k in ("supply_elasticity", "demand_elasticity", "armington")}
    hi = {k: max(m.elasticities[k][2] for m in ds.minerals.values()) for k in ("supply_elasticity", "demand_elasticity", "armington")}
    return lo, hi


LO, HI = _data_ranges()


@st.composite
def markets(draw):
    seed = draw(st.integers(0, 2**32 - 1))
    R = draw(st.integers(2, 12))
    rng = np.random.default_rng(seed)
    m = random_mineral(rng, R=R, inactive=int(R > 3), no_demand=int(R > 4))
    u = [draw(st.floats(0, 1)) for _ in range(3)]
    params = {
        "supply_elasticity": LO["supply_elasticity"] + u[0] * (HI["supply_elasticity"] - LO["supply_elasticity"]),
        "demand_elasticity": HI["demand_elasticity"] + u[1] * (LO["demand_elasticity"] - HI["demand_elasticity"]),
        "armington": LO["armington"] + u[2] * (HI["armington"] - LO["armington"]),
    }
    cal = calibrate(m, params)
    T = cal.T0 * np.exp(rng.uniform(0, 0.5, (R, R)) * (rng.random((R, R)) < 0.3))
    g = np.exp(rng.normal(0, 0.2, R))
    inp = replace(MarketInputs.baseline(cal), T=T, g=g)
    if draw(st.booleans()):
        o = int(np.argmax(cal.Q0))
        dests = [cal.regions[j] for j in range(R) if j != o and cal.X0[o, j] > 0]
        if dests:
            inp = inp.with_cap(cal, cal.regions[o], dests[:3], draw(st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.5])))
    return cal, inp, rng


@SETTINGS
@given(markets())
def test_solver_converges_with_finite_positive_prices(case):
    cal, inp, _ = case
    res = solve(cal, inp)
    assert res.converged, (res.status, res.iterations, res.max_rel_excess, cal.params)
    assert res.max_rel_excess < 1e-10
    solved = res.origin_status == keq.ORIGIN_SOLVED
    assert np.all(np.isfinite(res.price_index[solved])) and np.all(res.price_index[solved] > 0)
    assert np.all(np.isfinite(res.consumer_price_index[cal.active_dest]))
    assert np.all(res.consumer_price_index[cal.active_dest] > 0)
    assert np.all(np.isfinite(res.flows)) and np.all(res.flows >= 0)
    assert np.all(np.isfinite(res.wedges) | (inp.cap <= 0))
    assert np.all(res.wedges >= 0)


@SETTINGS
@given(markets(), st.floats(0.01, 1.0), st.data())
def test_a_higher_tariff_never_raises_exports_to_that_destination(case, dt, data):
    cal, inp, _ = case
    flows = np.argwhere((cal.X0 > 0) & ~np.eye(cal.n_regions, dtype=bool) & cal.active_dest[None, :])
    if len(flows) == 0:
        return
    i, j = flows[data.draw(st.integers(0, len(flows) - 1))]
    base = solve(cal, inp)
    T = inp.T.copy()
    T[i, j] += dt
    more = solve(cal, replace(inp, T=T))
    assert base.converged and more.converged
    assert more.flows[i, j] <= base.flows[i, j] * (1 + 1e-9)


@SETTINGS
@given(markets())
def test_the_flag_agrees_with_the_residual(case):
    """Cut the iterations short: a run reported as not converged has a residual above tol,
    one reported as converged below it."""
    cal, inp, _ = case
    for it in (0, 1, 2):
        res = solve(cal, inp, max_iter=it)
        if res.converged:
            assert res.max_rel_excess < 1e-10
        else:
            assert res.status == keq.STATUS_MAX_ITER
            assert res.max_rel_excess >= 1e-10 or np.any(np.isfinite(res.wedges) & (res.wedges > 0))
