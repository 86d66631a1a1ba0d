"""Closed-form welfare against numerical quadrature, including across the capacity kink."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy.integrate import quad

from simsrc.calibrate import calibrate
from simsrc.equilibrium import MarketInputs, solve
from simsrc.kernels import welfare as kw

from test_equilibrium_cases import make_mineral


def supply(A, K, eps):
    return lambda x: min(A * x ** eps, K)


@pytest.mark.parametrize("A,K,eps,pp", [
    (100.0, np.inf, 0.5, 1.3),     # no limit
    (100.0, 150.0, 0.7, 0.8),      # below the kink
    (100.0, 110.0, 0.7, 1.6),      # across the kink (pk = 1.1^(1/0.7))
    (80.0, 80.0, 2.0, 1.2),        # at capacity at the baseline price
    (50.0, 60.0, 0.1, 3.0),
])
def test_producer_surplus_segment_matches_quadrature(A, K, eps, pp):
    f = supply(A, K, eps)
    pk = (K / A) ** (1 / eps) if np.isfinite(K) else np.inf
    pts = [pk] if pk < pp else None
    ref = quad(f, 0.0, pp, points=pts, epsabs=1e-12, epsrel=1e-12, limit=200)[0]
    assert kw.ps_segment(A, K, eps, pp) == pytest.approx(ref, rel=1e-9)


@pytest.mark.parametrize("eta", [0.2, 0.999, 1.0, 1.7])
@pytest.mark.parametrize("P0,P1", [(1.0, 1.4), (1.0, 0.7), (1.2, 0.9)])
def test_consumer_surplus_change_matches_quadrature(eta, P0, P1):
    V0, g = 250.0, 1.3
    ref = -quad(lambda P: V0 * g * P ** (-eta), P0, P1, epsabs=1e-12, epsrel=1e-12)[0]
    assert kw.cs_change(V0, g, eta, P0, P1) == pytest.approx(ref, rel=1e-9)


def test_consumer_surplus_when_the_composite_becomes_unobtainable():
    assert kw.cs_change(100.0, 1.0, 1.5, 1.0, np.inf) == pytest.approx(-100.0 / 0.5)
    assert kw.cs_change(100.0, 1.0, 0.5, 1.0, np.inf) == -np.inf


def test_producer_surplus_with_a_floor_and_upside_share():
    """The covered segment receives p + (F - p_ref)+ (quadrature of its supply curve up to that
    price); above the floor the government takes alpha of (p_ref - F) on covered output."""
    A, K, eps = np.array([60.0, 40.0]), np.array([70.0, 45.0]), 0.8
    F, alpha = 1.25, 0.3
    kinks = [(K[s] / A[s]) ** (1 / eps) for s in range(2)]
    # benchmark below the floor: the covered segment gets p + (F - p_ref)
    p, p_ref = 0.9, 0.95
    gap = F - p_ref
    q_cov = min(A[1] * (p + gap) ** eps, K[1])
    ref = quad(supply(A[0], K[0], eps), 0, p)[0] + quad(supply(A[1], K[1], eps), 0, p + gap, points=[kinks[1]])[0]
    assert kw.producer_surplus(A, K, eps, p, gap, alpha, 0.0, q_cov) == pytest.approx(ref, rel=1e-9)
    assert kw.floor_fiscal_cost(gap, 0.0, alpha, q_cov) == pytest.approx(gap * q_cov)
    # benchmark above the floor: the government takes alpha of the upside on covered output
    p, p_ref = 1.5, 1.6
    q_cov = min(A[1] * p ** eps, K[1])
    ref = sum(quad(supply(A[s], K[s], eps), 0, p, points=[kinks[s]])[0] for s in range(2))
    ref -= alpha * (p_ref - F) * q_cov
    assert kw.producer_surplus(A, K, eps, p, 0.0, alpha, p_ref - F, q_cov) == pytest.approx(ref, rel=1e-9)
    assert kw.floor_fiscal_cost(0.0, p_ref - F, alpha, q_cov) == pytest.approx(-alpha * (p_ref - F) * q_cov)


def test_market_result_surplus_changes_across_the_capacity_kink():
    """A demand boom pushes A to capacity: PS change is the area left of the kinked supply
    curve between the baseline price 1 and the new price; CS change the area under each
    destination's composite demand between 1 and its new composite price."""
    X0 = [[40.0, 30.0], [10.0, 50.0]]
    m = make_mineral(X0, tariffs=[[0, 0.1], [0.05, 0]], utilisation=[0.95, np.nan],
                     supply=0.6, demand=-0.4, armington=3.0, price=2.0, price_unit="USD/kg",
                     regions=["A", "B"])
    cal = calibrate(m)
    inp = replace(MarketInputs.baseline(cal), g=np.array([1.5, 1.3]))
    res = solve(cal, inp)
    assert res.converged
    assert res.production[0] == pytest.approx(cal.K0[0], rel=1e-12)  # A at capacity
    P0 = cal.price_usd_per_t  # 2000 USD/t
    for i in range(2):
        f = supply(cal.Q0[i], cal.K0[i], cal.eps[i])
        pk = (cal.K0[i] / cal.Q0[i]) ** (1 / cal.eps[i]) if np.isfinite(cal.K0[i]) else None
        p = res.price_index[i]
        pts = [pk] if pk is not None and 1 < pk < p else None
        ref = quad(f, 1.0, p, points=pts, epsabs=1e-10, epsrel=1e-12)[0] * P0
        assert res.ps_change[i] == pytest.approx(ref, rel=1e-9)
    for j in range(2):
        V0 = (cal.X0[:, j] * cal.T0[:, j]).sum()
        ref = -quad(lambda P: V0 * inp.g[j] * P ** (-cal.eta[j]), 1.0, res.consumer_price_index[j])[0] * P0
        assert res.cs_change[j] == pytest.approx(ref, rel=1e-9)


def test_welfare_is_in_usd_per_year_for_a_per_kg_price():
    m = make_mineral([[0.0, 100.0], [0.0, 0.0]], supply=1.0, demand=-1.0, price=110.0,
                     price_unit="USD/kg", regions=["A", "B"])
    cal = calibrate(m)
    assert cal.price_usd_per_t == pytest.approx(110_000.0)
    res = solve(cal, MarketInputs.baseline(cal).with_tariff(cal, "B", ["A"], 0.2))
    # tariff revenue: 0.2 x p x P0 (USD/t) x X (t/yr)
    assert res.tariff_revenue[1] == pytest.approx(0.2 * res.price_index[0] * 110_000.0 * res.flows[0, 1], rel=1e-12)
    assert res.price[0] == pytest.approx(res.price_index[0] * 110.0)  # reported in USD/kg
