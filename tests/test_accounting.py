"""Instrument accounting against hand calculations written in this file.

Stockpiles sold and bought in the holder's market, producer surplus against the baseline
supply curve (outages, capacity projects with their capital cost), producer floors on a named
benchmark, the fading pull of a floor on covered investment, the capacity law of motion, the
government's stock account and the world adding-up (docs/model.md sec. 2.4, 3, 4.3, 5).

Every expected value is derived here from the model's equations (own root finding, own
quadrature, own recursions); the engine is used only through its public API (``calibrate``,
``MarketInputs``, ``solve``, ``simulate_chunk``) and never through its helper formulas.
Dynamic outputs are stored as float32, hence the 1e-5 relative tolerances on them.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy.integrate import quad
from scipy.optimize import root

from simsrc.calibrate import calibrate
from simsrc.data import MineralData, load_dataset
from simsrc.engine import simulate_chunk
from simsrc.equilibrium import MarketInputs, solve
from simsrc.policies import compile_market
from simsrc.scenario import load_scenario

FIXTURES = Path(__file__).parent / "fixtures"
TINY = str((FIXTURES / "tinydata").resolve())


# --- helpers ---------------------------------------------------------------------------------

def _mineral(flows, regions, *, supply, demand, armington, tariffs=None, utilisation=None,
             price=1000.0, price_unit="USD/t", backstop=None):
    flows = np.asarray(flows, dtype=float)
    R = len(regions)
    el = {"supply_elasticity": (supply,) * 3, "demand_elasticity": (demand,) * 3,
          "armington": (armington,) * 3}
    if backstop is not None:
        el["backstop"] = (backstop[0],) * 3
        el["backstop_elasticity"] = (backstop[1],) * 3
    return MineralData(code="TEST", name="test", stage="test", unit="t", price=price,
                       price_unit=price_unit, price_date="2024", regions=tuple(regions), flows=flows,
                       tariffs=np.zeros((R, R)) if tariffs is None else np.asarray(tariffs, float),
                       utilisation=np.full(R, np.nan) if utilisation is None else np.asarray(utilisation, float),
                       elasticities=el)


def _ok(res):
    assert res.converged, (res.status, res.iterations, res.max_rel_excess)
    return res


def _ps_quad(A, K, eps, pp):
    """int_0^pp min(A x^eps, K) dx by quadrature (the kink as a break point)."""
    if pp <= 0 or A <= 0:
        return 0.0
    pk = (K / A) ** (1.0 / eps) if np.isfinite(K) else np.inf
    pts = [pk] if 0 < pk < pp else None
    val, _ = quad(lambda x: min(A * x ** eps, K), 0.0, pp, points=pts, epsabs=0.0, epsrel=1e-13, limit=200)
    return val


def _write(tmp_path, name, data):
    p = tmp_path / f"{name}.yaml"
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    return p


def _scenario(tmp_path, name, policies, *, periods=8, minerals=("gallium",), dataset=TINY, dynamics=None, **extra):
    dyn = {"demand_volatility": 0.0}
    dyn.update(dynamics or {})
    return load_scenario(_write(tmp_path, name, {
        "name": name, "horizon": {"start": "2026Q1", "periods": periods}, "draws": 2, "seed": 5,
        "dataset": dataset, "minerals": list(minerals), "dynamics": dyn,
        "elasticity_ranges": "fixed", "policies": policies, **extra}))


def _run(scn, mineral, n=1):
    """Central values, no shocks: (arrays (draws, periods, regions), spec)."""
    spec = compile_market(scn, mineral)
    arr, _ = simulate_chunk(scn, spec, 0, n, central=True)
    assert arr["converged"].min() == 1.0
    return {k: np.asarray(v, dtype=float) for k, v in arr.items()}, spec


# --- 1. stock release and refill in the holder's market (static) ---------------------------

# A three-region market: China the main supplier, the rest of the world a second one, the US
# a small producer and a big importer. No tariffs, no capacity limits, no latent links.
REG3 = ("USA", "CHN", "ROW")
FLOWS3 = np.array([
    [10.0, 2.0, 2.0],      # USA
    [80.0, 500.0, 100.0],  # CHN
    [20.0, 30.0, 60.0],    # ROW
])
EPS3, ETA3, SIG3 = 0.8, 0.6, 6.0


def _own_market(X0, eps, eta, sigma, *, wedge=None, removed=None, release=None, refill=None,
                cap=None):
    """Solve the Armington market of docs/model.md sec. 2 by hand (no tariffs, no capacity).

    ``wedge`` (R, R): fixed factors (1 + lam) on flows; ``removed`` (R, R) bool: varieties
    taken out (a ban without a route); ``cap = (i, j, q)``: one binding cap on flow i -> j
    without a route, its wedge an extra unknown with the row X[i, j] = q.

    Returns dict p, P, D, M, X, lam.
    """
    R = X0.shape[0]
    Q0, C0 = X0.sum(axis=1), X0.sum(axis=0)
    w = X0 / C0[None, :]
    W = np.ones((R, R)) if wedge is None else np.array(wedge, float)
    rem = np.zeros((R, R), bool) if removed is None else removed
    net = (np.zeros(R) if refill is None else np.asarray(refill, float)) - \
        (np.zeros(R) if release is None else np.asarray(release, float))

    def outcome(z):
        p = np.exp(z[:R])
        Wz = W.copy()
        lam = None
        if cap is not None:
            i, j, _ = cap
            lam = np.exp(z[R]) - 1.0
            Wz[i, j] *= 1.0 + lam
        pd = p[:, None] * Wz
        terms = np.where(rem | (X0 <= 0), 0.0, w * pd ** (1.0 - sigma))
        P = terms.sum(axis=0) ** (1.0 / (1.0 - sigma))
        D = P ** (-eta)
        M = D + net / C0
        X = np.where(rem, 0.0, X0 * M[None, :] * (pd / P[None, :]) ** (-sigma))
        return p, P, D, M, X, lam

    def F(z):
        p, P, D, M, X, lam = outcome(z)
        rows = np.log(Q0 * p ** eps) - np.log(X.sum(axis=1))
        if cap is not None:
            i, j, q = cap
            rows = np.append(rows, np.log(X[i, j]) - np.log(q))
        return rows

    z0 = np.zeros(R + (cap is not None))
    sol = root(F, z0, method="hybr", tol=1e-13)
    # (hybr may stop with "not making good progress" at machine precision: judge the residual)
    assert np.max(np.abs(F(sol.x))) < 1e-12, sol.message
    p, P, D, M, X, lam = outcome(sol.x)
    return dict(p=p, P=P, D=D, M=M, X=X, lam=lam)


def _cal3():
    return calibrate(_mineral(FLOWS3, REG3, supply=EPS3, demand=-ETA3, armington=SIG3), latent_link_weight=0.0)


def _composite_purchases(res, cal, j):
    """Composite bought from origins, from prices and flows: spending at delivered prices over
    the composite price, sum_i pd X / P (no tariffs: b0 = 1, V0 = C0)."""
    X = res.flows[:, j]
    pd = np.where(X > 0, res.delivered_price_index[:, j], 0.0)
    return float((pd * X).sum() / res.consumer_price_index[j])


@pytest.mark.parametrize("case", ["free", "ban_with_route", "ban_no_route", "cap"])
def test_release_raises_consumption_by_release_minus_crowding_out(case):
    """A US release of x t/yr is sold to US consumers: they consume C0 D (composite, baseline
    tonnes) and buy C0 M = C0 D - x from origins, so dC = x - (fall of purchases). Both runs are
    solved by hand here; the fall is the crowding-out, strictly between 0 and x."""
    cal = _cal3()
    us, cn = 0, 1
    x = 30.0
    rel = np.array([x, 0.0, 0.0])
    base = MarketInputs.baseline(cal)
    wedge = np.ones((3, 3))
    kw = {}
    if case == "ban_with_route":
        # a ban with an unlimited route at cost 0.2: everything goes round at the wedge 1.2
        base = base.with_restriction(cal, "CHN", ["USA"], 0.0, cost=0.2)
        wedge[cn, us] = 1.2
    elif case == "ban_no_route":
        # the Chinese variety is removed from the US (its weight kept: sigma > 1)
        base = base.with_cap(cal, "CHN", ["USA"], 0.0)
        removed = np.zeros((3, 3), bool)
        removed[cn, us] = True
        kw = dict(removed=removed)
    elif case == "cap":
        base = base.with_cap(cal, "CHN", ["USA"], 0.5)
        kw = dict(cap=(cn, us, 0.5 * FLOWS3[cn, us]))
    own0 = _own_market(FLOWS3, EPS3, ETA3, SIG3, wedge=wedge, **kw)
    own1 = _own_market(FLOWS3, EPS3, ETA3, SIG3, wedge=wedge, release=rel, **kw)
    if case == "cap":
        assert own0["lam"] > 0 and own1["lam"] > 0      # the cap binds in both runs
    r0 = _ok(solve(cal, base))
    r1 = _ok(solve(cal, replace(base, release=rel)))
    C0 = FLOWS3.sum(axis=0)
    for r, own in ((r0, own0), (r1, own1)):
        np.testing.assert_allclose(r.flows, own["X"], rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(r.price_index, own["p"], rtol=1e-9)
        np.testing.assert_allclose(r.composite_demand, own["D"], rtol=1e-9)
    # consumers' consumption and purchases from origins (composite, baseline tonnes)
    cons0, cons1 = C0[us] * r0.composite_demand[us], C0[us] * r1.composite_demand[us]
    buy0, buy1 = _composite_purchases(r0, cal, us), _composite_purchases(r1, cal, us)
    assert buy0 == pytest.approx(cons0, rel=1e-9)
    assert buy1 == pytest.approx(cons1 - x, rel=1e-9)
    crowd_out = C0[us] * (own0["M"][us] - own1["M"][us])      # own solution
    assert cons1 - cons0 == pytest.approx(x - crowd_out, rel=1e-8)
    assert 0.0 < crowd_out < x
    # the release lowers the US consumer price and no origin price rises
    assert r1.consumer_price_index[us] < r0.consumer_price_index[us]
    assert np.all(r1.price_index <= r0.price_index + 1e-12)
    if case == "cap":
        assert r1.flows[cn, us] == pytest.approx(0.5 * FLOWS3[cn, us], rel=1e-9)


@pytest.mark.parametrize("route", [False, True])
def test_refill_under_a_cap_respects_the_cap(route):
    """A US refill is demand of the US market, bought from origins under every restriction.
    With China's exports to the US capped at half their baseline, the direct flow stays at the
    cap; the extra demand goes to the other origins (no route) or, with an unlimited route at
    cost c, round the cap at the wedge c (the route then carries E - q). Both runs solved by
    hand."""
    cal = _cal3()
    us, cn = 0, 1
    q = 0.5 * FLOWS3[cn, us]
    buy = np.array([25.0, 0.0, 0.0])
    base = MarketInputs.baseline(cal)
    if route:
        c = 0.05
        base = base.with_restriction(cal, "CHN", ["USA"], 0.5, cost=c)
        wedge = np.ones((3, 3))
        wedge[cn, us] = 1.0 + c
        own0 = _own_market(FLOWS3, EPS3, ETA3, SIG3, wedge=wedge)
        own1 = _own_market(FLOWS3, EPS3, ETA3, SIG3, wedge=wedge, refill=buy)
        # the route is in use in both runs (at lam = c, demand for Chinese exceeds the cap)
        assert own0["X"][cn, us] > q and own1["X"][cn, us] > q
    else:
        base = base.with_cap(cal, "CHN", ["USA"], 0.5)
        own0 = _own_market(FLOWS3, EPS3, ETA3, SIG3, cap=(cn, us, q))
        own1 = _own_market(FLOWS3, EPS3, ETA3, SIG3, cap=(cn, us, q), refill=buy)
        assert 0 < own0["lam"] < own1["lam"]            # the refill raises the scarcity wedge
    r0 = _ok(solve(cal, base))
    r1 = _ok(solve(cal, replace(base, refill=buy)))
    for r, own in ((r0, own0), (r1, own1)):
        np.testing.assert_allclose(r.flows, own["X"], rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(r.composite_demand, own["D"], rtol=1e-9)
        # consumers buy C0 D, the government C0 (M - D) = refill: spending / P = C0 D + refill
        C0 = FLOWS3.sum(axis=0)
        assert _composite_purchases(r, cal, us) == pytest.approx(
            C0[us] * r.composite_demand[us] + (buy[us] if r is r1 else 0.0), rel=1e-9)
    others = [us, 2]
    assert r1.flows[others, us].sum() > r0.flows[others, us].sum()
    if route:
        # direct exports at the cap, the rest transshipped; the refill's extra goes round
        for r in (r0, r1):
            assert r.wedges[0] == pytest.approx(c, rel=1e-9)
            assert r.transshipped[0] == pytest.approx(r.flows[cn, us] - q, rel=1e-8)
        assert r1.transshipped[0] > r0.transshipped[0]
    else:
        for r in (r0, r1):
            assert r.flows[cn, us] == pytest.approx(q, rel=1e-9)
        assert r1.wedges[0] == pytest.approx(own1["lam"], rel=1e-8)


# --- 2. producer surplus of an outage (dynamics) --------------------------------------------

NO_INVESTMENT = {"depreciation": 0.0, "investment_response": 0.0}


def test_outage_producer_surplus_is_the_area_under_the_actual_supply_curve(tmp_path):
    """With capacity fixed (no depreciation, no investment) and no shocks, a 50% outage of
    China from 2026Q3 leaves the supply curve min(u0 K x^eps, K) with K = K0/2 (the kink moves
    nowhere: A = u0 K scales with K). Producer surplus change of each period = the integral of
    the actual curve up to the period's price minus the integral of the baseline curve up to
    the baseline price (index 1), times P0 in USD/t."""
    outage = {"name": "flood", "type": "outage", "region": "CHN", "share": 0.5, "start": "2026Q3"}
    scn = _scenario(tmp_path, "outage", [outage], periods=6, dynamics=NO_INVESTMENT)
    arr, spec = _run(scn, "gallium")
    cal = spec.cal
    P0 = cal.price_usd_per_t
    for r in np.nonzero(cal.Q0 > 0)[0]:
        u0, K0, eps = cal.u0[r], cal.K0[r], cal.eps[r]
        ps_base = _ps_quad(u0 * K0, K0, eps, 1.0)
        for t in range(6):
            K = K0 * (0.5 if (cal.regions[r] == "CHN" and t >= 2) else 1.0)
            assert arr["capacity"][0, t, r] == pytest.approx(K, rel=1e-6)
            p = arr["origin_price"][0, t, r] / cal.price
            expect = (_ps_quad(u0 * K, K, eps, p) - ps_base) * P0
            assert arr["ps_change"][0, t, r] == pytest.approx(expect, rel=1e-5, abs=1e-6 * P0 * K0), (cal.regions[r], t)
    chn = cal.regions.index("CHN")
    # the price runs past China's capacity kink (u0^(-1/eps)), so the capacity segment counts;
    # the surplus is measured on the reduced curve: below what the full curve would give at
    # the same price (the outage's own loss), though the price rise leaves a net gain here
    p = arr["origin_price"][0, 2, chn] / cal.price
    u0, K0, eps = cal.u0[chn], cal.K0[chn], cal.eps[chn]
    assert p > u0 ** (-1.0 / eps)
    full = (_ps_quad(u0 * K0, K0, eps, p) - _ps_quad(u0 * K0, K0, eps, 1.0)) * P0
    assert arr["ps_change"][0, 2, chn] < full - 0.1 * abs(full)
    assert arr["ps_change"][0, 1, chn] == pytest.approx(0.0, abs=1e-3 * P0)


# --- 3. producer floor on a named benchmark ------------------------------------------------

@pytest.mark.parametrize("F, pref", [(1.3, 1.1), (1.3, 0.8), (1.3, 1.5)],
                         ids=["gap_below_kink", "gap_at_capacity", "benchmark_above_floor"])
def test_static_floor_pays_against_the_benchmark(F, pref):
    """Floor F on 60% of US capacity against a benchmark p_ref (not the producers' own price):
    the covered segment supplies min(A1 (p + (F - p_ref)+)^eps, K1), the government pays
    (F - p_ref)+ Q_cov and takes alpha (p_ref - F)+ Q_cov; producer surplus is the area under
    each segment up to its own price, net of the upside taken."""
    util = np.array([0.8, 0.9, 0.85])
    cal = calibrate(_mineral(FLOWS3, REG3, supply=EPS3, demand=-ETA3, armington=SIG3, utilisation=util),
                    latent_link_weight=0.0)
    us = 0
    phi, alpha = 0.6, 0.4
    res = _ok(solve(cal, MarketInputs.baseline(cal).with_floor(cal, "USA", F, phi, alpha, reference=pref)))
    P0 = cal.price_usd_per_t
    p = res.price_index[us]
    Q0, K0, eps = FLOWS3[us].sum(), FLOWS3[us].sum() / util[us], EPS3
    A1, K1, A0, K0u = phi * Q0, phi * K0, (1 - phi) * Q0, (1 - phi) * K0
    gap, up = max(F - pref, 0.0), max(pref - F, 0.0)
    q_cov = min(A1 * (p + gap) ** eps, K1)
    q_unc = min(A0 * p ** eps, K0u)
    assert res.production_covered[us] == pytest.approx(q_cov, rel=1e-10)
    assert res.production[us] == pytest.approx(q_cov + q_unc, rel=1e-10)
    assert res.production[us] == pytest.approx(res.flows[us].sum(), rel=1e-9)      # market clears
    assert res.fiscal_cost[us] == pytest.approx((gap - alpha * up) * q_cov * P0, rel=1e-10)
    ps = _ps_quad(A0, K0u, eps, p) + _ps_quad(A1, K1, eps, p + gap) - alpha * up * q_cov \
        - _ps_quad(Q0, K0, eps, 1.0)
    assert res.ps_change[us] == pytest.approx(ps * P0, rel=1e-9)
    if gap > 0:
        # paid on the benchmark, not on the covered producers' own price
        assert res.fiscal_cost[us] != pytest.approx(max(F - p, 0.0) * q_cov * P0, rel=1e-3)
        kink = (K1 / A1) ** (1 / eps)
        assert (p + gap > kink) == (pref < 1.0)      # one case below the kink, one at capacity
    else:
        assert res.fiscal_cost[us] < 0          # the government's share of the upside
    assert np.all(res.fiscal_cost[1:] == 0)


@pytest.mark.parametrize("reference", ["market", "CHN"])
def test_dynamic_floor_settles_on_the_previous_period_export_price(tmp_path, reference):
    """floor_fiscal_cost[t] = ((F - bench)+ - alpha (bench - F)+) Q_cov P0 with bench the
    previous period's export (FOB) price index: China's (fob_price / P0) or the market's
    (all origins' FOB prices weighted by their exports); the baseline price (1) in the first
    period. A Chinese export tax from 2026Q3 lifts the benchmark above the floor. Capacity
    is fixed (no investment), so Q_cov = min(phi u0 K0 (p + gap)^eps, phi K0)."""
    F_usd, phi, alpha = 69.0, 0.6, 0.5       # USD/kg against 60 USD/kg: F = 1.15
    floor = {"name": "floor", "type": "price_floor", "region": "USA", "level": F_usd, "unit": "USD/kg",
             "covered_share": phi, "upside_share": alpha, "reference": reference}
    tax = {"name": "duty", "type": "export_tax", "origin": "CHN", "rate": 0.3, "start": "2026Q3"}
    scn = _scenario(tmp_path, f"floor_{reference}", [floor, tax], periods=6, minerals=("ndpr_oxide",),
                    dynamics=NO_INVESTMENT)
    arr, spec = _run(scn, "ndpr_oxide")
    cal = spec.cal
    P0, Pd = cal.price_usd_per_t, cal.price
    F = F_usd * 1000.0 / P0
    us, cn = cal.regions.index("USA"), cal.regions.index("CHN")
    u0, K0, eps = cal.u0[us], cal.K0[us], cal.eps[us]
    fob = arr["fob_price"][0] / Pd
    exports = arr["exports"][0]
    signs = set()
    for t in range(6):
        if t == 0:
            bench = 1.0
        elif reference == "CHN":
            bench = fob[t - 1, cn]
        else:
            ok = exports[t - 1] > 0
            bench = (fob[t - 1, ok] * exports[t - 1, ok]).sum() / exports[t - 1, ok].sum()
        gap, up = max(F - bench, 0.0), max(bench - F, 0.0)
        signs.add(gap > 0)
        p = arr["origin_price"][0, t, us] / Pd
        q_cov = min(phi * u0 * K0 * (p + gap) ** eps, phi * K0)
        q_unc = min((1 - phi) * u0 * K0 * p ** eps, (1 - phi) * K0)
        assert arr["production"][0, t, us] == pytest.approx(q_cov + q_unc, rel=1e-5), t
        expect = (gap - alpha * up) * q_cov * P0
        assert arr["floor_fiscal_cost"][0, t, us] == pytest.approx(expect, rel=2e-5, abs=1e-9 * P0 * K0), (t, bench)
    assert signs == {True, False}        # paid before the tax bites, upside taken after


# --- 4-5. capacity law of motion (docs/model.md sec. 4.3) -------------------------------------

def _capacity_path(K_init, prices, *, dt, delta, kappa, imax, lead, pe_cov=None):
    """K[t+1] = K[t] + dt (I[t - L] - delta K[t]), I[t] = K[t] min(delta + kappa (pe[t] - 1),
    imax)+, with pe[t] = p[t-1] (expectation weight 1; pe[0] = 1) and investment ordered before
    the horizon at the replacement level delta K[0]. ``pe_cov(t, pe_m)``: the covered segment's
    expectation given the market's. Returns K[0..T-1] and the rate of each period."""
    T = len(prices)
    K = np.empty(T + 1)
    K[0] = K_init
    inv = np.empty(T)
    rates = np.empty(T)
    for t in range(T):
        pe = 1.0 if t == 0 else prices[t - 1]
        if pe_cov is not None:
            pe = pe_cov(t, pe)
        rate = min(delta + kappa * (pe - 1.0), imax)
        rates[t] = rate
        inv[t] = K[t] * max(rate, 0.0)
        ordered = inv[t - lead] if t - lead >= 0 else delta * K_init
        K[t + 1] = max(K[t] + dt * (ordered - delta * K[t]), 0.0)
    return K[:T], rates


def test_floor_pull_on_covered_investment_fades_over_the_payback_period(tmp_path):
    """US floor F = 1.3 on 60% of capacity, in force until 2027-01-01 (so through 2027Q1, the
    period containing that date), payback period P = 1 year. Covered investment expects
    pe_m + w (F - pe_m) with w = min(1, remaining / P): investment is ordered when period t
    closes, so the floor has (end of 2027Q1) - (end of period t) = (4 - t)/4 years left; w = 1,
    0.75, 0.5, 0.25, 0 in 2026Q1..2027Q1, and the market's expectation afterwards. Capacity
    (both segments) follows the recursion with a one-quarter lead time."""
    import datetime as dtm

    F_usd, phi, P = 78.0, 0.6, 1.0
    floor = {"name": "floor", "type": "price_floor", "region": "USA", "level": F_usd, "unit": "USD/kg",
             "covered_share": phi, "end": "2027-01-01"}
    dyn = {"depreciation": 0.1, "investment_response": 0.5, "max_investment_rate": 5.0, "lead_time": 0.25,
           "expectation_weight": 1.0, "floor_payback_years": P}
    T = 9
    scn = _scenario(tmp_path, "fade", [floor], periods=T, minerals=("ndpr_oxide",), dynamics=dyn)
    arr, spec = _run(scn, "ndpr_oxide")
    cal = spec.cal
    dt = 0.25
    F = F_usd * 1000.0 / cal.price_usd_per_t
    us = cal.regions.index("USA")
    prices = arr["origin_price"][0, :, us] / cal.price

    def period_start(t):                       # 2026Q1 + t quarters
        m = 2026 * 12 + 3 * t
        return dtm.date(m // 12, m % 12 + 1, 1)

    floor_ends = period_start(5)              # the end of 2027Q1, the period containing 2027-01-01

    def years(a, b):
        return ((b.year - a.year) * 12 + b.month - a.month) / 12.0

    weights = []

    def covered(t, pe_m, fade=True):
        if period_start(t) >= floor_ends:      # floor no longer in force
            return pe_m
        left = years(period_start(t + 1), floor_ends)
        w = min(1.0, left / P) if fade else 1.0
        if fade:
            weights.append(w)
        return pe_m + w * (F - pe_m) if pe_m < F else pe_m

    kw = dict(dt=dt, delta=0.1, kappa=0.5, imax=5.0, lead=1)
    K_unc, _ = _capacity_path((1 - phi) * cal.K0[us], prices, **kw)
    K_cov, _ = _capacity_path(phi * cal.K0[us], prices, pe_cov=covered, **kw)
    assert weights == [1.0, 0.75, 0.5, 0.25, 0.0]
    np.testing.assert_allclose(arr["capacity"][0, :, us], K_unc + K_cov, rtol=1e-5)
    # without the fade the covered capacity would keep growing at the floor's pace: the
    # difference is far beyond the tolerance
    K_nofade, _ = _capacity_path(phi * cal.K0[us], prices, pe_cov=lambda t, pe: covered(t, pe, fade=False), **kw)
    assert np.max(np.abs(K_nofade - K_cov) / K_cov) > 1e-3
    # other producers: no floor, the plain recursion
    for r in np.nonzero(cal.Q0 > 0)[0]:
        if r != us:
            K_r, _ = _capacity_path(cal.K0[r], arr["origin_price"][0, :, r] / cal.price, **kw)
            np.testing.assert_allclose(arr["capacity"][0, :, r], K_r, rtol=1e-5)


@pytest.mark.parametrize("lead_years, lead", [(0.0, 0), (0.5, 2)])
def test_capacity_follows_depreciation_lead_time_and_the_investment_ceiling(tmp_path, lead_years, lead):
    """No floor: a demand boom (growth 60%/yr, no volatility) raises prices, investment
    K min(delta + kappa (pe - 1), imax)+ hits the ceiling imax = 0.2/yr, and capacity moves as
    K[t+1] = K[t] + dt (I[t - L] - delta K[t]) with depreciation 0.08/yr."""
    dyn = {"depreciation": 0.08, "investment_response": 2.0, "max_investment_rate": 0.2,
           "lead_time": lead_years, "expectation_weight": 1.0, "demand_growth": 0.6}
    T = 10
    scn = _scenario(tmp_path, f"boom{lead}", [], periods=T, minerals=("ndpr_oxide",), dynamics=dyn)
    arr, spec = _run(scn, "ndpr_oxide")
    cal = spec.cal
    kw = dict(dt=0.25, delta=0.08, kappa=2.0, imax=0.2, lead=lead)
    binding = 0
    for r in np.nonzero(cal.Q0 > 0)[0]:
        prices = arr["origin_price"][0, :, r] / cal.price
        K, rates = _capacity_path(cal.K0[r], prices, **kw)
        np.testing.assert_allclose(arr["capacity"][0, :, r], K, rtol=1e-5)
        binding += int(np.sum(rates >= 0.2))
        assert rates[0] == pytest.approx(0.08) and rates[0] < 0.2   # pe[0] = 1: replacement only
    assert binding >= 4                                              # the ceiling binds
    assert arr["capacity"][0, -1, :].sum() > np.nansum(cal.K0[cal.Q0 > 0]) * 1.01


# --- 6. a capacity project's capital cost ------------------------------------------------------

def test_capacity_project_capital_cost_enters_producer_surplus_once(tmp_path):
    """A certain 10 t/yr gallium project in Japan arriving in 2026Q3 (usgs2024, capex from the
    dataset, USD per t/yr). Investment is off (no depreciation, no response), so the only
    capital cost is the project's: capex x capacity, paid as a rate over the arrival period
    (/ dt). Per period and run, ps_change = (area under min(u0 K x^eps, K) up to the price -
    the baseline area at index 1) P0 - capex cap / dt in the arrival period only; the paired
    difference carries that term in the arrival period and in no other."""
    cap_t = 10.0
    project = {"name": "plant", "type": "capacity_project", "region": "JPN", "mineral": "gallium",
               "capacity_t": cap_t, "date": "2026Q3", "probability": 1.0, "delay_quarters": 0}
    T, arrival, dt = 6, 2, 0.25
    with_p = _scenario(tmp_path, "project", [project], periods=T, dataset="usgs2024", dynamics=NO_INVESTMENT)
    without = _scenario(tmp_path, "noproject", [], periods=T, dataset="usgs2024", dynamics=NO_INVESTMENT)
    a, spec = _run(with_p, "gallium")
    b, _ = _run(without, "gallium")
    capex = float(load_dataset("usgs2024").minerals["gallium"].elasticities["capex"][0])
    assert capex > 0
    cal = spec.cal
    P0 = cal.price_usd_per_t
    jp = cal.regions.index("JPN")
    u0, K0, eps = cal.u0[jp], cal.K0[jp], cal.eps[jp]
    base = _ps_quad(u0 * K0, K0, eps, 1.0)
    charge = capex * cap_t / dt
    diffs = []
    for t in range(T):
        K = K0 + (cap_t if t >= arrival else 0.0)
        assert a["capacity"][0, t, jp] == pytest.approx(K, rel=1e-6)
        pa, pb = a["origin_price"][0, t, jp] / cal.price, b["origin_price"][0, t, jp] / cal.price
        area_a = (_ps_quad(u0 * K, K, eps, pa) - base) * P0
        area_b = (_ps_quad(u0 * K0, K0, eps, pb) - base) * P0
        expect_a = area_a - (charge if t == arrival else 0.0)
        assert a["ps_change"][0, t, jp] == pytest.approx(expect_a, rel=1e-5, abs=1e-6 * charge), t
        assert b["ps_change"][0, t, jp] == pytest.approx(area_b, rel=1e-5, abs=1e-6 * charge), t
        diffs.append(a["ps_change"][0, t, jp] - b["ps_change"][0, t, jp] - (area_a - area_b))
    expected = [(-charge if t == arrival else 0.0) for t in range(T)]
    np.testing.assert_allclose(diffs, expected, atol=1e-5 * charge)


# --- 7. the government's stock account -------------------------------------------------------

def _stock_rule(arr, cal, r, *, init, cap, rate, trig, refill, below, dt):
    """The stockpile rule of docs/model.md sec. 3.6 replayed on the run's consumer prices:
    release min(rate, stock/dt, 0.9 x last period's consumption) while the previous period's
    consumer price index was above the trigger (1 before the first period), else refill
    min(refill, (cap - stock)/dt) while it was below the threshold. Returns release, refill
    and the end-of-period stock, t/yr and t."""
    T = arr["stockpile"].shape[1]
    idx = arr["consumer_price"][0, :, r] / cal.unit_value0[r]
    stock = init
    rel, buy, end = np.zeros(T), np.zeros(T), np.zeros(T)
    for t in range(T):
        prev = 1.0 if t == 0 else idx[t - 1]
        cons_prev = cal.C0[r] if t == 0 else arr["consumption"][0, t - 1, r]
        if prev > trig and stock > 0:
            rel[t] = min(rate, stock / dt, 0.9 * cons_prev)
        elif refill > 0 and prev < below and stock < cap:
            buy[t] = min(refill, (cap - stock) / dt)
        stock += dt * (buy[t] - rel[t])
        end[t] = stock
    return rel, buy, end


@pytest.mark.parametrize("case", ["release_from_start", "ban_release_then_refill"])
def test_stock_account_sales_purchases_value_change_and_its_telescoping_sum(tmp_path, case):
    """Government of the holder (sec. 3.6): sales = release x consumer price (USD/t), purchases
    = refill x consumer price, value change = (S[t] c[t] - S[t-1] c[t-1]) / dt with the stock
    valued at the consumer price c and the initial stock at the baseline consumer price.

    Identity over the horizon (flows x dt, undiscounted). With S[t] - S[t-1] = dt (buy - rel):
        sum_t (sales - purchases) dt = -sum_t (S[t] - S[t-1]) c[t]
        sum_t value change x dt     =  S[T-1] c[T-1] - S[-1] c[-1]                (telescoping)
    so  sum_t (sales - purchases + value change) dt = sum_t S[t-1] (c[t] - c[t-1]),
    the holding gain on the stock carried into each period (zero at constant prices)."""
    T, dt = 10, 0.25
    if case == "release_from_start":
        vault = {"name": "vault", "type": "stockpile", "region": "USA", "initial_months": 6,
                 "release_rate": 0.5, "trigger": 0.8}
        policies = [vault]
        rule = dict(cap=np.inf, trig=0.8, refill=0.0, below=0.0)
    else:
        ban = {"name": "ban", "type": "export_restriction", "origin": "CHN", "destinations": ["USA"],
               "cap_share": 0, "leakage": 0.3, "start": "2026Q2", "end": "2026Q4"}
        # 5 months held, 6 the capacity: the first refill is limited by (cap - stock) / dt
        vault = {"name": "vault", "type": "stockpile", "region": "USA", "initial_months": 5,
                 "capacity_months": 6, "release_rate": 0.5, "trigger": 1.2, "refill_rate": 0.4,
                 "refill_below": 1.05}
        policies = [ban, vault]
    scn = _scenario(tmp_path, case, policies, periods=T)
    arr, spec = _run(scn, "gallium")
    cal = spec.cal
    us = cal.regions.index("USA")
    C0 = cal.C0[us]
    if case != "release_from_start":
        rule = dict(cap=0.5 * C0, trig=1.2, refill=0.4 * C0, below=1.05)
    init = (6 if case == "release_from_start" else 5) / 12.0 * C0
    rel, buy, S = _stock_rule(arr, cal, us, init=init, rate=0.5 * C0, dt=dt, **rule)
    assert rel.sum() > 0
    if case != "release_from_start":
        assert buy.sum() > 0 and rel[0] == 0           # nothing released before the ban bites
        assert buy[0] == pytest.approx((0.5 * C0 - init) / dt) and buy[0] < 0.4 * C0
    np.testing.assert_allclose(arr["stockpile"][0, :, us], S, rtol=1e-5, atol=1e-6 * C0)
    usd = cal.price_usd_per_t / cal.price
    c = arr["consumer_price"][0, :, us] * usd                     # USD/t
    c_prev = np.concatenate([[cal.unit_value0[us] * usd], c[:-1]])
    S_prev = np.concatenate([[init], S[:-1]])
    scale = init * c.max()
    np.testing.assert_allclose(arr["stockpile_sales"][0, :, us], rel * c, rtol=1e-5, atol=1e-7 * scale)
    np.testing.assert_allclose(arr["stockpile_purchases"][0, :, us], buy * c, rtol=1e-5, atol=1e-7 * scale)
    np.testing.assert_allclose(arr["stockpile_value_change"][0, :, us], (S * c - S_prev * c_prev) / dt,
                               rtol=1e-5, atol=1e-6 * scale)
    # the telescoping identity on the engine's own outputs
    acct = (arr["stockpile_sales"][0, :, us] - arr["stockpile_purchases"][0, :, us]
            + arr["stockpile_value_change"][0, :, us]) * dt
    assert arr["stockpile_value_change"][0, :, us].sum() * dt == pytest.approx(
        S[-1] * c[-1] - init * cal.unit_value0[us] * usd, rel=1e-5, abs=1e-5 * scale)
    assert acct.sum() == pytest.approx((S_prev * (c - c_prev)).sum(), rel=1e-4, abs=1e-5 * scale)
    # nobody else holds a stock
    others = [r for r in range(len(cal.regions)) if r != us]
    for k in ("stockpile_sales", "stockpile_purchases", "stockpile_value_change"):
        assert np.all(arr[k][0, :, others] == 0)


# --- 8. world adding-up (docs/model.md sec. 5.6) -------------------------------------------------

REG5 = ("USA", "CHN", "EU", "JPN", "ROW")


def _random_market(seed):
    rng = np.random.default_rng(seed)
    R = len(REG5)
    X = rng.lognormal(3.0, 1.0, size=(R, R))
    X[1] *= 8.0                                   # China the big exporter
    tariffs = rng.uniform(0.0, 0.1, size=(R, R)) * (rng.random((R, R)) < 0.5)
    np.fill_diagonal(tariffs, 0.0)
    util = rng.uniform(0.6, 0.95, size=R)
    util[rng.random(R) < 0.3] = np.nan
    util[0] = 0.8                                 # the floor region has a capacity limit
    md = _mineral(X, REG5, supply=1.0, demand=-0.5, armington=6.0, tariffs=tariffs, utilisation=util,
                  price=50.0, price_unit="USD/kg")
    eta = rng.uniform(0.2, 1.2, R)
    params = {"supply_elasticity": rng.uniform(0.3, 2.0, R), "demand_elasticity": -eta,
              "armington": rng.uniform(3.0, 12.0, R), "backstop": rng.uniform(1.3, 3.0, R),
              "backstop_elasticity": -(eta + rng.uniform(0.0, 2.0, R))}
    return md, calibrate(md, params, latent_link_weight=0.0), params


def _cs_quad(V0, eta, etab, B, P):
    """-V0 int_1^P Dc(x) dx, Dc = x^-eta up to the backstop B and B^(etab - eta) x^-etab above."""
    def Dc(x):
        return x ** -eta if x <= B else B ** (etab - eta) * x ** -etab
    lo, hi = min(1.0, P), max(1.0, P)
    pts = [B] if lo < B < hi else None
    area, _ = quad(Dc, lo, hi, points=pts, epsabs=0.0, epsrel=1e-13, limit=200)
    return -V0 * area if P > 1.0 else V0 * area


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_world_adding_up_from_prices_and_quantities(seed):
    """Wedge income from prices and quantities alone,
        Wg = sum_ij (b[i,j] (1 + v[i,j]) - p[i]) X[i,j],   b = p (1 + e) T prod_k (1 + lam_k),
    b (1 + v) = max(b, mip): consumers' spending at delivered prices minus producers' receipts
    at origin prices. It must equal tariff + levy + export-tax revenue + quota rents +
    transshipment costs + intermediaries' rents (every part of every wedge paid once). Then
        sum_r NW[r] + intermediaries' rents + transshipment costs
            = sum_j dCS[j] + sum_i dPS_m[i] + Wg,
    NW = dCS + dPS + revenues + quota rents - floor fiscal cost, dCS and dPS_m (producer
    surplus at market prices: the covered segment's area up to p + gap less the floor payment)
    by quadrature here. Market: a tariff, an export tax, a minimum import price, a floor
    against a benchmark with an upside share, a ban with a bounded route on one destination
    and a cap on another, random elasticities and backstops (long-run demand)."""
    md, cal, prm = _random_market(seed)
    us, cn, eu, jp, rw = range(5)
    F, phi, alpha, pref = 1.3, 0.5, 0.3, 1.05
    inp = (MarketInputs.baseline(cal)
           .with_tariff(cal, "USA", ["CHN"], 0.25, add=True)
           .with_export_tax(cal, "ROW", ["USA", "EU", "JPN"], 0.1)
           .with_mip(cal, "JPN", 1.25, members=["USA", "EU"])
           .with_floor(cal, "USA", F, phi, alpha, reference=pref)
           .with_restriction(cal, "CHN", ["USA"], 0.0, cost=0.1, capacity=0.1, name="ban_us")
           .with_cap(cal, "CHN", ["EU"], 0.6, name="cap_eu"))
    res = _ok(solve(cal, inp))
    R = 5
    P0 = cal.price_usd_per_t
    X, p = res.flows, res.price_index
    X0 = md.flows
    T0 = 1.0 + md.tariffs
    # border prices by hand
    T = T0.copy()
    T[cn, us] += 0.25
    e = np.zeros((R, R))
    e[rw, [us, eu, jp]] = 0.1
    W = np.ones((R, R))
    W[cn, us] *= 1.0 + res.wedges[0]
    W[cn, eu] *= 1.0 + res.wedges[1]
    mip = np.zeros((R, R))
    mip[[cn, rw], jp] = 1.25
    b = p[:, None] * (1.0 + e) * T * W
    paid = np.maximum(b, mip)                         # b (1 + v), index of P0
    flowing = X > 0
    np.testing.assert_allclose(res.delivered_price[flowing] / cal.price, paid[flowing], rtol=1e-12)
    Wg = ((paid - p[:, None]) * X)[flowing].sum() * P0
    wedges = (res.tariff_revenue + res.levy_revenue + res.export_tax_revenue + res.quota_rent
              + res.transship_cost + res.intermediary_rent).sum()
    # every instrument is at work
    assert res.levy_revenue[jp] > 0 and res.tariff_revenue[us] > 0 and res.export_tax_revenue[rw] > 0
    assert res.quota_rent[cn] > 0 and res.transship_cost[us] > 0 and res.intermediary_rent[us] > 0
    assert res.fiscal_cost[us] > 0 and res.wedges[1] > 0
    assert Wg == pytest.approx(wedges, rel=1e-9)
    # spending at delivered prices is the composite price times the composite (sec. 2.4)
    V0 = (X0 * T0).sum(axis=0)
    spending = (paid * X).sum(axis=0)
    np.testing.assert_allclose(spending, V0 * res.consumer_price_index * res.composite_demand, rtol=1e-10)
    # consumer surplus and producer surplus at market prices, by quadrature
    eta, etab, B = -prm["demand_elasticity"], -prm["backstop_elasticity"], prm["backstop"]
    dcs = np.array([_cs_quad(V0[j], eta[j], etab[j], B[j], res.consumer_price_index[j]) for j in range(R)]) * P0
    np.testing.assert_allclose(res.cs_change, dcs, rtol=1e-9)
    eps = prm["supply_elasticity"]
    Q0, u = X0.sum(axis=1), md.utilisation
    K0 = np.where(np.isnan(u), np.inf, Q0 / np.where(np.isnan(u), 1.0, u))
    dps_m = np.empty(R)
    for i in range(R):
        base = _ps_quad(Q0[i], K0[i], eps[i], 1.0)
        if i == us:
            gap = F - pref
            q_cov = min(phi * Q0[i] * (p[i] + gap) ** eps[i], phi * K0[i])
            assert res.production_covered[us] == pytest.approx(q_cov, rel=1e-10)
            dps_m[i] = (_ps_quad((1 - phi) * Q0[i], (1 - phi) * K0[i], eps[i], p[i])
                        + _ps_quad(phi * Q0[i], phi * K0[i], eps[i], p[i] + gap) - gap * q_cov - base)
        else:
            dps_m[i] = _ps_quad(Q0[i], K0[i], eps[i], p[i]) - base
    dps_m *= P0
    np.testing.assert_allclose(res.ps_change - res.fiscal_cost, dps_m, rtol=1e-9, atol=1e-12 * P0)
    nw = (res.cs_change + res.ps_change + res.tariff_revenue + res.levy_revenue + res.export_tax_revenue
          + res.quota_rent - res.fiscal_cost)
    lhs = nw.sum() + res.intermediary_rent.sum() + res.transship_cost.sum()
    rhs = dcs.sum() + dps_m.sum() + Wg
    assert lhs == pytest.approx(rhs, rel=1e-9, abs=1e-9 * (np.abs(dcs).sum() + np.abs(dps_m).sum() + abs(Wg)))


def test_investment_beyond_replacement_is_charged_to_producer_surplus(tmp_path):
    """usgs2024 gallium in a demand boom: producer surplus of each period is the area under
    the period's curve min(u0 K x^eps, K) up to its price, minus the baseline area, minus
    capex x (I[t] - delta K0): gross investment ordered in the period beyond the baseline
    replacement (docs/model.md sec. 4.3, 5.3), with I and K from the recursion replayed here."""
    dyn = {"depreciation": 0.05, "investment_response": 1.0, "max_investment_rate": 0.3,
           "lead_time": 0.25, "expectation_weight": 1.0, "demand_growth": 0.4}
    T, dt = 8, 0.25
    scn = _scenario(tmp_path, "capex_boom", [], periods=T, dataset="usgs2024", dynamics=dyn)
    arr, spec = _run(scn, "gallium")
    cal = spec.cal
    capex = float(load_dataset("usgs2024").minerals["gallium"].elasticities["capex"][0])
    P0 = cal.price_usd_per_t
    kw = dict(dt=dt, delta=0.05, kappa=1.0, imax=0.3, lead=1)
    charged = 0
    for r in np.nonzero(cal.Q0 > 0)[0]:
        u0, K0, eps = cal.u0[r], cal.K0[r], cal.eps[r]
        prices = arr["origin_price"][0, :, r] / cal.price
        K, rates = _capacity_path(K0, prices, **kw)
        np.testing.assert_allclose(arr["capacity"][0, :, r], K, rtol=1e-5)
        inv = K * np.maximum(rates, 0.0)
        base = _ps_quad(u0 * K0, K0, eps, 1.0)
        for t in range(T):
            cost = capex * (inv[t] - 0.05 * K0)
            expect = (_ps_quad(u0 * K[t], K[t], eps, prices[t]) - base) * P0 - cost
            scale = abs(cost) + abs(expect) + 1e-3 * P0 * K0
            assert arr["ps_change"][0, t, r] == pytest.approx(expect, rel=1e-5, abs=1e-6 * scale), (cal.regions[r], t)
            charged += int(abs(cost) > 1e-3 * capex * K0)
    assert charged > 0


# --- the first period of a run and the static solve agree on consumption -----------------

def test_static_first_period_counts_released_tonnes_in_consumption_like_the_run(tmp_path):
    """`simsrc solve` is the run's first period (equilibrium.scenario_inputs). A Japanese
    stockpile releasing from the start sells x t/yr to Japanese consumers; the run's
    consumption output is purchases from origins plus the release (docs/model.md sec. 5.1), so
    the static result's consumption must be too, sum_i X[i, JPN] + x, and import reliance
    max(0, (C - Q) / C) on that consumption. Prices agree already."""
    from simsrc.equilibrium import solve_scenario

    vault = {"name": "vault", "type": "stockpile", "region": "JPN", "initial_months": 6,
             "release_rate": 0.5, "trigger": 0.8}
    scn = _scenario(tmp_path, "first_period", [vault], periods=2)
    arr, spec = _run(scn, "gallium")
    res = solve_scenario(scn, ["gallium"])["gallium"]
    jp = spec.cal.regions.index("JPN")
    x = 0.5 * spec.cal.C0[jp]
    assert res.consumer_price[jp] == pytest.approx(arr["consumer_price"][0, 0, jp], rel=1e-6)
    assert res.production[jp] == pytest.approx(arr["production"][0, 0, jp], rel=1e-6)
    cons = res.flows[:, jp].sum() + x
    assert arr["consumption"][0, 0, jp] == pytest.approx(cons, rel=1e-6)
    assert arr["net_import_reliance"][0, 0, jp] == pytest.approx(max(0.0, (cons - res.production[jp]) / cons), rel=1e-5)
    # the static result of the same period
    assert res.consumption[jp] == pytest.approx(cons, rel=1e-6)
    assert res.net_import_reliance[jp] == pytest.approx(arr["net_import_reliance"][0, 0, jp], rel=1e-5)
