"""Version-2 engine against closed forms written independently in this file.

Every expected value below is derived here from the model's equations (docs/model.md sec. 1-5),
never by calling the engine's own helper formulas; the engine is exercised only through its
public API (``calibrate``, ``MarketInputs``, ``solve``, ``simulate_chunk``).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

from simsrc.calibrate import calibrate
from simsrc.equilibrium import MarketInputs, solve
from simsrc.kernels import equilibrium as keq
from simsrc.kernels import welfare as kwf

from test_equilibrium_cases import make_mineral, random_mineral


# --- shared markets ------------------------------------------------------------------------

def _four_region(armington=8.0, supply=1.0, demand=-0.5, tariffs=None, utilisation=None):
    """A dense four-region market: a big exporter X and three buyers that also produce."""
    flows = np.array([
        [400.0, 120.0, 80.0, 60.0],   # X
        [20.0, 150.0, 10.0, 15.0],    # A
        [15.0, 10.0, 120.0, 10.0],    # B
        [10.0, 12.0, 8.0, 90.0],      # C
    ])
    return make_mineral(flows, tariffs, utilisation, supply=supply, demand=demand,
                        armington=armington, regions=["X", "A", "B", "C"])


def _ok(res):
    assert res.converged, (res.status, res.iterations, res.max_rel_excess)
    return res


def _idx(cal, *names):
    return [cal.region_index(n) for n in names]


# --- 1. unlimited transshipment at a cost ------------------------------------------------------

def test_unlimited_route_caps_the_wedge_at_its_cost():
    """Closed form (sec. 2.7, CAP_BOX): with an unlimited route at cost c the wedge is
    min(c, lam0), lam0 the wedge of the same cap without a route. While the route has room
    the delivered price of the restricted variety is at most (1 + c) p_i T/T0 (sec. 2.10),
    and for c < lam0 the route carries exactly E - q (restricted exports minus the direct
    cap); for c > lam0 the route is idle and the solution is the no-route one."""
    m = _four_region()
    cal = calibrate(m)
    X, A, B = _idx(cal, "X", "A", "B")
    # a tariff change on one restricted flow makes T/T0 non-trivial
    base = MarketInputs.baseline(cal).with_tariff(cal, "A", ["X"], 0.10)
    share = 0.4
    J = [A, B]
    E0 = cal.X0[X, J].sum()
    q = share * E0
    r0 = _ok(solve(cal, base.with_cap(cal, "X", ["A", "B"], share)))
    lam0 = r0.wedges[0]
    assert lam0 > 0.05
    assert r0.flows[X, J].sum() == pytest.approx(q, rel=1e-9)

    for c in (0.3 * lam0, 0.8 * lam0, 1.5 * lam0, 3.0 * lam0):
        res = _ok(solve(cal, base.with_restriction(cal, "X", ["A", "B"], share, cost=c)))
        lam = res.wedges[0]
        assert lam == pytest.approx(min(c, lam0), rel=1e-8), (c, lam0, lam)
        p = res.price_index
        factor = np.asarray(base.T)[X, J] / cal.T0[X, J]
        pd = res.delivered_price_index[X, J]
        # (equality when the route is used; the solver's tolerance is 1e-10 in logs)
        assert np.all(pd <= (1.0 + c) * p[X] * factor * (1.0 + 1e-9)), (c, pd, p[X])
        np.testing.assert_allclose(pd, (1.0 + lam) * p[X] * factor, rtol=1e-12)
        E = res.flows[X, J].sum()
        if c < lam0:
            assert res.transshipped[0] == pytest.approx(E - q, rel=1e-8)
            assert E > q * (1 + 1e-6)
        else:
            assert res.transshipped[0] == pytest.approx(0.0, abs=1e-9 * E0)
            np.testing.assert_allclose(res.price_index, r0.price_index, rtol=1e-8)


# --- 2. bounded route ----------------------------------------------------------------------

def test_full_bounded_route_earns_intermediaries_the_scarcity_rent():
    """Closed form (sec. 2.7, bounded route at cost c with capacity L): when the route is full
    (Xt = L) the wedge lam >= c, direct exports equal the cap q, and per tonne transshipped
    the world loses c and intermediaries earn lam - c on the border price p_i (no export tax,
    a single restriction): transship_cost = c p_i Xt P0$, intermediary_rent =
    (lam - c) p_i Xt P0$ (summed over destinations), quota rent = lam p_i q P0$."""
    cal = calibrate(_four_region())
    X, A, B = _idx(cal, "X", "A", "B")
    J = [A, B]
    E0 = cal.X0[X, J].sum()
    share, c, cap_share = 0.2, 0.05, 0.1
    inp = MarketInputs.baseline(cal).with_restriction(cal, "X", ["A", "B"], share, cost=c, capacity=cap_share)
    res = _ok(solve(cal, inp))
    lam, Xt = res.wedges[0], res.transshipped[0]
    L, q = cap_share * E0, share * E0
    assert Xt == pytest.approx(L, rel=1e-9)                   # the route is full
    assert lam >= c and lam > c + 1e-3                        # ... and scarce
    E = res.flows[X, J].sum()
    assert E - Xt == pytest.approx(q, rel=1e-9)               # direct exports = cap
    P0 = cal.price_usd_per_t
    pX = res.price_index[X]
    assert res.intermediary_rent.sum() == pytest.approx((lam - c) * pX * Xt * P0, rel=1e-9)
    assert res.transship_cost.sum() == pytest.approx(c * pX * Xt * P0, rel=1e-9)
    # by destination: in proportion to each destination's covered flow (tau common)
    tau = Xt / E
    for j in J:
        assert res.intermediary_rent[j] == pytest.approx(tau * (lam - c) * pX * res.flows[X, j] * P0, rel=1e-9)
    others = [k for k in range(cal.n_regions) if k not in J]
    assert np.all(res.intermediary_rent[others] == 0) and np.all(res.transship_cost[others] == 0)
    assert res.quota_rent[X] == pytest.approx(lam * pX * q * P0, rel=1e-9)
    # a full route is extra allowance: prices and wedge are those of a cap at q + L, no route
    ref = _ok(solve(cal, MarketInputs.baseline(cal).with_cap(cal, "X", ["A", "B"], share + cap_share)))
    assert lam == pytest.approx(ref.wedges[0], rel=1e-9)
    np.testing.assert_allclose(res.price_index, ref.price_index, rtol=1e-9)
    np.testing.assert_allclose(res.flows, ref.flows, rtol=1e-9)


# --- 3. restrictions raise the other exporters' prices -----------------------------------------

@st.composite
def _all_destination_restrictions(draw):
    """A random market (psi = 0), an exporter i and an all-destination restriction; in half
    the examples the other origins' flows into i's home market are removed (home_only)."""
    seed = draw(st.integers(0, 2**32 - 1))
    R = draw(st.integers(3, 8))
    rng = np.random.default_rng(seed)
    m0 = random_mineral(rng, R=R, inactive=int(R > 3), no_demand=int(R > 4))
    flows = np.array(m0.flows, dtype=float)
    exporters = [i for i in range(R) if (flows[i].sum() - flows[i, i]) > 0]
    assume(len(exporters) > 0)
    i = exporters[draw(st.integers(0, len(exporters) - 1))]
    home_only = draw(st.booleans())
    if home_only:
        # nobody else sells into i's home market
        keep = flows[i, i]
        flows[:, i] = 0.0
        flows[i, i] = keep
    m = make_mineral(flows, m0.tariffs, m0.utilisation)
    params = {"armington": draw(st.floats(4.0, 12.0)),
              "demand_elasticity": -draw(st.floats(0.05, 1.5)),
              "supply_elasticity": draw(st.floats(0.1, 3.0))}
    cal = calibrate(m, params, latent_link_weight=0.0)
    # a ban, or a cap share of at least 0.05: an exporter without a home market must sell its
    # whole supply under the cap, at p = share^(1/eps), which for share 1e-6 and eps 0.125 is
    # 1e-48 (the solver gives up there; not a modelling question)
    share = draw(st.one_of(st.just(0.0), st.floats(0.05, 0.95)))
    route = draw(st.sampled_from(["none", "unlimited", "bounded"]))
    cost = None if route == "none" else draw(st.floats(0.01, 1.0))
    # route capacities below ~1e-5 of E0 with a ban need more than the default iteration
    # limit (see test_bounded_route_with_a_large_wedge_converges_within_the_default_iteration_limit)
    capacity = draw(st.one_of(st.just(0.0), st.floats(0.01, 0.5))) if route == "bounded" else None
    return cal, i, share, cost, capacity, home_only


def _solve_patiently(cal, inp, bounded_route):
    res = solve(cal, inp)
    if not res.converged:
        # give it more iterations, and skip the example if that is not enough: a route of
        # negligible capacity (see test_bounded_route_with_a_large_wedge_converges_within_the_
        # default_iteration_limit), or a market without a backstop where a ban leaves a
        # destination almost without supply at a demand elasticity of 0.05, so that the
        # solution's prices are beyond e^40 (the engine flags it; not a modelling question)
        res = solve(cal, inp, max_iter=5000)
        assume(res.converged)
    return _ok(res)


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(_all_destination_restrictions())
def test_restriction_on_all_destinations_never_lowers_other_exporters_prices(case):
    """Property (sec. 2.10, in the scope where it holds): a restriction by origin i covering ALL
    its export destinations (share in {0} U [0.05, 0.95], no route, an unlimited or a bounded
    route) never lowers the origin price of another exporter k that is cut off from i's home
    market: k does not sell into it, and no chain of exporters sharing markets links k to a
    seller into it. In the home_only examples nobody else sells into i's home market, so this
    covers every other exporter. Why: with sigma > eta the CES demands are gross substitutes;
    the restriction raises i's delivered price factor p_i (1 + lam) by one common factor in
    every covered market and lowers p_i only at home, so only exporters linked to i's home
    market can face i's cheaper variety. The brief's weaker condition (X0[k, i] = 0 for k
    alone) is NOT sufficient: test_a_third_exporter_passes_the_home_price_fall_on_to_a_
    competitor is the counterexample, verified by an independent solution."""
    cal, i, share, cost, capacity, home_only = case
    R = cal.n_regions
    dests = [cal.regions[j] for j in range(R) if j != i]
    inp = MarketInputs.baseline(cal).with_restriction(cal, cal.regions[i], dests, share,
                                                      cost=cost, capacity=capacity)
    base = _ok(solve(cal, MarketInputs.baseline(cal)))
    res = _solve_patiently(cal, inp, bounded_route=capacity is not None and capacity > 0)
    X0 = cal.X0
    # origins that can feel i's lower home price: sellers into i's home market, then anyone
    # selling into a market one of them serves, and so on (the connected component)
    exposed = {k for k in range(R) if k != i and X0[k, i] > 0}
    grew = True
    while grew:
        markets = {j for k in exposed for j in range(R) if X0[k, j] > 0} - {i}
        new = {k for k in range(R) if k != i and any(X0[k, j] > 0 for j in markets)} - exposed
        grew = bool(new)
        exposed |= new
    if home_only:
        assert not exposed
    comp = [k for k in range(R) if k != i and k not in exposed and cal.Q0[k] > 0
            and res.origin_status[k] == keq.ORIGIN_SOLVED]
    event(f"home_only={home_only}, competitors checked: {min(len(comp), 2)}")
    for k in comp:
        assert res.price_index[k] - base.price_index[k] >= -1e-9, (k, i, res.price_index, cal.params)


def test_restriction_on_some_destinations_can_lower_a_competitor_price():
    """Counterexample documenting the scope of the sec. 2.10 property: A caps its exports to B
    only; C sells only at home (not into A's home market, X0[C, A] = 0, nor into B). A's
    diverted supply is sold at home and in C, so C's consumers switch to A's cheaper variety
    and C's origin price FALLS (trade diversion). The property therefore needs the restriction
    to cover every export destination of i. Confirmed by an independent scipy solution."""
    flows = np.array([
        [100.0, 50.0, 50.0],   # A
        [0.0, 20.0, 0.0],      # B
        [0.0, 0.0, 100.0],     # C
    ])
    m = make_mineral(flows, supply=1.0, demand=-0.5, armington=8.0, regions=["A", "B", "C"])
    cal = calibrate(m, latent_link_weight=0.0)
    A, B, C = _idx(cal, "A", "B", "C")
    assert cal.X0[C, A] == 0 and cal.X0[C, B] == 0
    res = _ok(solve(cal, MarketInputs.baseline(cal).with_cap(cal, "A", ["B"], 0.3)))
    assert res.wedges[0] > 0
    p_ref, lam_ref = _independent_cap_solution(cal, A, [B], 0.3 * 50.0, 1.0, 0.5, 8.0)
    np.testing.assert_allclose(res.price_index, p_ref, rtol=1e-9)
    assert res.wedges[0] == pytest.approx(lam_ref, rel=1e-9)
    assert res.price_index[A] < 1.0 - 1e-4          # A's price falls
    assert res.price_index[C] < 1.0 - 1e-4          # the competitor loses
    assert res.price_index[B] > 1.0 + 1e-4          # B's own producers gain
    # with the cap on ALL of A's destinations, C gains instead
    res_all = _ok(solve(cal, MarketInputs.baseline(cal).with_cap(cal, "A", ["B", "C"], 0.3)))
    assert res_all.price_index[C] > 1.0 + 1e-4


def _independent_cap_solution(cal, i, J, q, eps, eta, sigma):
    """The levels model of docs/model.md sec. 2 for one binding cap without a route (no
    capacity limits, uniform elasticities), solved here with scipy from the data alone:
    unknowns log p (active origins) and log(1 + lam); rows log S - log sum_j X and
    log E - log q."""
    from scipy.optimize import root

    X0, T0 = cal.X0, cal.T0
    R = X0.shape[0]
    Q0, C0 = X0.sum(axis=1), X0.sum(axis=0)
    act = np.flatnonzero(Q0 > 0)
    V0 = (X0 * T0).sum(axis=0)
    w = np.where(V0 > 0, X0 * T0 / np.where(V0 > 0, V0, 1.0), 0.0)
    cover = np.zeros((R, R))
    cover[i, J] = 1.0

    def flows(z):
        p = np.ones(R)
        p[act] = np.exp(z[:-1])
        pd = p[:, None] * (1.0 + (np.exp(z[-1]) - 1.0) * cover)
        X = np.zeros((R, R))
        for j in np.flatnonzero(C0 > 0):
            P = (w[:, j] @ pd[:, j] ** (1 - sigma)) ** (1 / (1 - sigma))
            X[:, j] = X0[:, j] * P ** -eta * (pd[:, j] / P) ** -sigma
        return p, X

    def F(z):
        p, X = flows(z)
        return np.append(np.log(Q0[act] * p[act] ** eps) - np.log(X[act].sum(axis=1)),
                         np.log(X[i, J].sum()) - np.log(q))

    sol = root(F, np.zeros(len(act) + 1), method="hybr", tol=1e-14)
    assert np.max(np.abs(F(sol.x))) < 1e-12
    return flows(sol.x)[0], np.exp(sol.x[-1]) - 1.0


def test_a_third_exporter_passes_the_home_price_fall_on_to_a_competitor():
    """Counterexample documenting the scope of the sec. 2.10 property (found by the property
    test above in its first, weaker form): I caps exports to D, its ONLY export destination;
    K does not sell into I's home market (X0[K, I] = 0) and yet K's origin price FALLS. The
    restricted supply lowers I's home price; M, which sells into I's home market, loses there
    and its price falls; K competes with M in M's home market and loses in turn. The engine's
    numbers are confirmed by an independent scipy solution of the levels equations."""
    flows = np.array([
        [100.0, 0.0, 0.0, 20.0],   # I: home and D
        [50.0, 50.0, 0.0, 0.0],    # M: into I's home market and its own
        [0.0, 50.0, 50.0, 0.0],    # K: into M's market and its own, never into I
        [0.0, 0.0, 0.0, 20.0],     # D
    ])
    eps, eta, sigma = 0.5, 0.5, 8.0
    m = make_mineral(flows, supply=eps, demand=-eta, armington=sigma, regions=["I", "M", "K", "D"])
    cal = calibrate(m, latent_link_weight=0.0)
    I, M, K, D = range(4)
    assert cal.X0[K, I] == 0
    res = _ok(solve(cal, MarketInputs.baseline(cal).with_cap(cal, "I", ["D"], 0.5)))
    p_ref, lam_ref = _independent_cap_solution(cal, I, [D], 0.5 * 20.0, eps, eta, sigma)
    np.testing.assert_allclose(res.price_index, p_ref, rtol=1e-9)
    assert res.wedges[0] == pytest.approx(lam_ref, rel=1e-9)
    assert res.price_index[M] < 1.0 - 1e-3
    assert res.price_index[K] < 1.0 - 1e-3        # the competitor outside I's home market loses
    assert res.price_index[D] > 1.0 + 1e-3


# --- 4. integrated-market limit ----------------------------------------------------------------

def test_prices_approach_the_integrated_one_price_market_as_sigma_grows():
    """Closed form: with zero tariffs, uniform eps and eta, no capacity limits and every price
    equal (sigma -> inf), world clearing sum_i s_i Q0_i p^eps = sum_j C0_j p^-eta gives
    p* = (sum C0 / sum_i s_i Q0_i)^(1/(eps+eta)), s_i the supply scale. Each origin price
    index must approach p* as sigma grows, the gap shrinking monotonically (~1/sigma)."""
    flows = np.array([
        [300.0, 80.0, 50.0, 40.0],
        [30.0, 120.0, 20.0, 10.0],
        [20.0, 15.0, 90.0, 25.0],
        [10.0, 5.0, 15.0, 60.0],
    ])
    eps, eta = 0.8, 0.6
    shocked = 1
    s = np.ones(4)
    s[shocked] = 0.5
    errs = []
    for sigma in (8.0, 32.0, 128.0, 512.0):
        m = make_mineral(flows, supply=eps, demand=-eta, armington=sigma)
        cal = calibrate(m)
        Q0, C0 = cal.Q0, cal.C0
        p_star = (C0.sum() / (s * Q0).sum()) ** (1.0 / (eps + eta))
        inp = MarketInputs.baseline(cal)
        A_seg = np.array(inp.A_seg, dtype=float)
        A_seg[shocked] *= 0.5
        res = _ok(solve(cal, replace(inp, A_seg=A_seg)))
        errs.append(np.max(np.abs(res.price_index / p_star - 1.0)))
    assert p_star > 1.05
    assert all(b < a for a, b in zip(errs, errs[1:])), errs
    assert errs[-1] < 2e-3, errs


# --- 5. backstop bound -------------------------------------------------------------------------

def test_backstop_bounds_consumer_prices_after_a_total_supply_loss():
    """Closed form: after a total loss of origin o's supply with no supply response elsewhere
    (capacity binding at baseline), the integrated market clears where demand equals the
    remaining supply (1 - L) of world supply. On the backstop branch D = B^-eta (P/B)^-etab
    this is P = B^(1 - eta/etab) (1 - L)^(-1/etab); with o's variety gone, destination j's
    CES composite costs (1 - L_j)^(-1/(sigma-1)) times the common price (love of variety,
    L_j the value share of o in j). No P_j may exceed that. Without a backstop the same loss
    costs (1 - L)^(-1/eta), far higher."""
    flows = np.array([
        [300.0, 150.0, 100.0, 50.0],    # o: 60% of world supply
        [40.0, 80.0, 20.0, 20.0],
        [20.0, 30.0, 60.0, 10.0],
        [10.0, 10.0, 20.0, 80.0],
    ])
    util = np.ones(4)
    sigma, eta, B, etab = 64.0, 0.2, 2.0, 2.5
    m = make_mineral(flows, utilisation=util, supply=1.0, demand=-eta, armington=sigma)
    o = 0
    results = {}
    for label, params in (("backstop", {"backstop": B, "backstop_elasticity": -etab}), ("none", {})):
        cal = calibrate(m, params)
        inp = MarketInputs.baseline(cal)
        A_seg, K_seg = np.array(inp.A_seg, dtype=float), np.array(inp.K_seg, dtype=float)
        A_seg[o] = 0.0
        K_seg[o] = 0.0
        results[label] = (cal, _ok(solve(cal, replace(inp, A_seg=A_seg, K_seg=K_seg))))
    cal, res = results["backstop"]
    L = cal.Q0[o] / cal.Q0.sum()
    Lj = cal.X0[o] * cal.T0[o] / (cal.X0 * cal.T0).sum(axis=0)
    bound = B ** (1 - eta / etab) * (1 - L) ** (-1 / etab) * (1 - Lj) ** (-1 / (sigma - 1)) * (1 + 1e-6)
    P = res.consumer_price_index
    assert np.all(P <= bound), (P, bound)
    assert np.all(P > B)                          # the backstop branch is where it binds
    P_none = results["none"][1].consumer_price_index
    assert np.all(P_none > 10 * P)
    assert np.min(P_none) > 0.5 * (1 - L) ** (-1 / eta)


# --- 6. partial adjustment in the period loop ---------------------------------------------------

def _write_dataset(folder, adj):
    folder.mkdir()
    (folder / "regions.csv").write_text("region,name,groups\nA,Producer,\nB,Importer,\n")
    cols = ("mineral,name,stage,unit,price,price_unit,price_date,utilisation,"
            "supply_elasticity,supply_elasticity_low,supply_elasticity_high,"
            "demand_elasticity,demand_elasticity_low,demand_elasticity_high,"
            "armington,armington_low,armington_high,"
            "adjustment_speed,adjustment_speed_low,adjustment_speed_high")
    row = f"mx,Test metal,refined,t,1000,USD/t,2024,,200,200,200,-0.6,-0.6,-0.6,8,8,8,{adj},{adj},{adj}"
    (folder / "minerals.csv").write_text(cols + "\n" + row + "\n")
    (folder / "flows.csv").write_text("mineral,origin,destination,quantity\nmx,A,A,10000\nmx,A,B,20\n")


def test_partial_adjustment_moves_demand_the_share_one_minus_decay_to_the_k(tmp_path):
    """Closed form (sec. 4.2): with prices fixed (supply almost perfectly elastic, importer
    tiny), log D*_t = (1 - a) log D*_{t-1} + a log P^-eta_l, so after k periods of a permanent
    tariff demand has moved the share 1 - (1 - a)^k of its long-run response -eta_l log(1+t),
    a = 1 - (1 - adj)^dt the per-period speed of an annual speed adj (dt = 0.25)."""
    from simsrc.engine import simulate_chunk
    from simsrc.policies import compile_market
    from simsrc.scenario import load_scenario

    adj, eta, rate, k0, n = 0.4, 0.6, 0.25, 4, 24
    _write_dataset(tmp_path / "ds", adj)
    scn_file = tmp_path / "adj.yaml"
    scn_file.write_text(yaml.safe_dump({
        "name": "adj", "horizon": {"start": "2026Q1", "periods": n}, "draws": 1, "seed": 0,
        "dataset": "./ds", "elasticity_ranges": "fixed",
        "dynamics": {"demand_growth": 0.0, "demand_volatility": 0.0, "depreciation": 0.0,
                     "investment_response": 0.0},
        "outputs": {"watched_origins": ["A"]},
        "policies": [{"name": "duty", "type": "tariff", "importers": ["B"], "exporters": ["A"],
                      "rate": rate, "start": "2027Q1"}],
    }, sort_keys=False))
    scn = load_scenario(scn_file)
    spec = compile_market(scn, "mx")
    arrays, _ = simulate_chunk(scn, spec, 0, 1, central=True)
    assert arrays["converged"].min() == 1.0
    b = list(spec.regions).index("B")
    C = arrays["consumption"][0, :, b].astype(float)
    a = 1.0 - (1.0 - adj) ** 0.25
    long_run = -eta * np.log(1.0 + rate)
    assert C[k0 - 1] == pytest.approx(20.0, rel=1e-6)        # before the tariff: baseline
    pA = arrays["origin_price"][0, :, list(spec.regions).index("A")].astype(float) / 1000.0
    assert np.max(np.abs(pA - 1.0)) < 1e-4                   # prices (nearly) fixed
    for k in range(1, n - k0 + 1):
        share = np.log(C[k0 - 1 + k] / C[k0 - 1]) / long_run
        assert share == pytest.approx(1.0 - (1.0 - a) ** k, abs=1e-3), k
    assert 1.0 - (1.0 - a) ** 1 < 0.2                          # genuinely partial


# --- 7. overlapping caps ------------------------------------------------------------------------

def test_two_overlapping_caps_bind_jointly_and_compound():
    """Closed form (sec. 2.7, overlapping restrictions): cap a on i -> {J1, J2} at 0.7 and cap
    b on i -> {J1} at 0.3 both bind: exports to {J1, J2} = 0.7 of their baseline, to J1 = 0.3 of
    its baseline; the wedge factor on i -> J1 is (1 + lam_a)(1 + lam_b), on i -> J2 (1 + lam_a),
    i.e. pd / (p_i T/T0) equals those products."""
    flows = np.array([
        [400.0, 50.0, 200.0, 30.0],   # i: J1 small, J2 large
        [10.0, 100.0, 5.0, 5.0],
        [10.0, 5.0, 150.0, 5.0],
        [10.0, 5.0, 10.0, 80.0],
    ])
    m = make_mineral(flows, supply=1.0, demand=-0.5, armington=8.0, regions=["I", "J1", "J2", "K"])
    cal = calibrate(m)
    i, j1, j2 = _idx(cal, "I", "J1", "J2")
    inp = (MarketInputs.baseline(cal)
           .with_cap(cal, "I", ["J1", "J2"], 0.7, name="a")
           .with_cap(cal, "I", ["J1"], 0.3, name="b"))
    res = _ok(solve(cal, inp))
    la, lb = res.wedges
    assert la > 1e-4 and lb > 1e-4
    assert res.flows[i, [j1, j2]].sum() == pytest.approx(0.7 * cal.X0[i, [j1, j2]].sum(), rel=1e-9)
    assert res.flows[i, j1] == pytest.approx(0.3 * cal.X0[i, j1], rel=1e-9)
    p = res.price_index[i]
    pd = res.delivered_price_index
    T = np.asarray(inp.T)
    assert pd[i, j1] / (p * T[i, j1] / cal.T0[i, j1]) == pytest.approx((1 + la) * (1 + lb), rel=1e-12)
    assert pd[i, j2] / (p * T[i, j2] / cal.T0[i, j2]) == pytest.approx(1 + la, rel=1e-12)


# --- 8. world adding-up -------------------------------------------------------------------------

def test_consumer_spending_equals_receipts_plus_every_wedge():
    """Identity (sec. 5.6): spending at delivered prices sum_ij pd P0 T0 X equals producer
    receipts sum_ij p X plus quota rents, tariff, levy and export-tax revenue, transshipment
    costs and intermediaries' rents. Also e p X is the export-tax revenue on the taxed flows,
    and an export tax raises the origin's FOB price index and lowers its origin price."""
    cal = calibrate(_four_region(tariffs=np.array([
        [0, 0.05, 0.02, 0], [0, 0, 0.03, 0], [0.04, 0, 0, 0], [0, 0.01, 0, 0]], dtype=float)))
    X, A, B, C = _idx(cal, "X", "A", "B", "C")
    e = 0.15
    pre = (MarketInputs.baseline(cal)
           .with_tariff(cal, "C", ["X", "A"], 0.2, add=True)
           .with_restriction(cal, "X", ["A"], 0.0, cost=0.1, capacity=0.3, name="ban_route")
           .with_cap(cal, "X", ["B"], 0.5, name="cap"))
    inp = pre.with_export_tax(cal, "A", ["B", "C"], e)
    res = _ok(solve(cal, inp))
    P0 = cal.price_usd_per_t
    Xf = res.flows
    spending = (res.delivered_price_index * cal.T0 * Xf).sum() * P0
    receipts = (res.price_index[:, None] * Xf).sum() * P0
    wedges = (res.quota_rent.sum() + res.tariff_revenue.sum() + res.levy_revenue.sum()
              + res.export_tax_revenue.sum() + res.transship_cost.sum() + res.intermediary_rent.sum())
    assert spending == pytest.approx(receipts + wedges, rel=1e-10)
    assert res.transshipped[0] > 0 and res.transship_cost.sum() > 0 and res.quota_rent[X] > 0
    assert res.tariff_revenue[C] > 0
    # export-tax revenue: e p X on the taxed flows, to the origin
    assert res.export_tax_revenue[A] == pytest.approx(e * res.price_index[A] * Xf[A, [B, C]].sum() * P0, rel=1e-12)
    assert np.all(res.export_tax_revenue[[X, B, C]] == 0)
    # the tax raises A's FOB price and lowers its origin price (same market without it)
    res0 = _ok(solve(cal, pre))
    assert res.fob_price_index[A] > res0.fob_price_index[A] + 1e-4
    assert res.price_index[A] < res0.price_index[A] - 1e-4
    # against the plain baseline too, with the tax alone
    res_tax = _ok(solve(cal, MarketInputs.baseline(cal).with_export_tax(cal, "A", ["B", "C"], e)))
    assert res_tax.fob_price_index[A] > 1.0 and res_tax.price_index[A] < 1.0


# --- 9. latent links ----------------------------------------------------------------------------

def test_latent_links_add_psi_c0_replicate_and_can_grow():
    """Closed form (sec. 1.2): calibration adds psi * C0d[j] on every zero flow i -> j (i != j)
    from a producing origin to a consuming destination and changes nothing else; the baseline
    still replicates X0 (max rel error < 1e-9). A ban on the only supplier of a destination
    lets the latent supplier's flow rise many-fold (its variety's weight is small, so its
    relative demand at the new composite price is huge); without latent links (psi = 0) the
    destination is left without supply (P = inf, no consumption)."""
    flows = np.array([
        [200.0, 0.0, 50.0],    # S: the only supplier of D
        [30.0, 150.0, 0.0],    # L: produces, no flow to D
        [0.0, 0.0, 0.0],       # D: no production
    ])
    m = make_mineral(flows, supply=1.0, demand=-0.5, armington=8.0, regions=["S", "L", "D"])
    S, L, D = 0, 1, 2
    psi = 2e-3
    cal = calibrate(m, latent_link_weight=psi)
    C0d = flows.sum(axis=0)
    Q0d = flows.sum(axis=1)
    expected = flows.copy()
    for i in range(3):
        for j in range(3):
            if i != j and flows[i, j] == 0 and Q0d[i] > 0 and C0d[j] > 0:
                expected[i, j] = psi * C0d[j]
    np.testing.assert_array_equal(cal.X0, expected)
    assert expected[L, D] == psi * 50.0 and expected[L, S] == 30.0 and expected[D, S] == 0.0
    base = _ok(solve(cal))
    rel = np.abs(base.flows - cal.X0) / np.where(cal.X0 > 0, cal.X0, 1.0)
    assert rel.max() < 1e-9
    ban = _ok(solve(cal, MarketInputs.baseline(cal).with_cap(cal, "S", ["D"], 0.0)))
    assert ban.flows[S, D] == 0.0
    assert ban.flows[L, D] > 100 * cal.X0[L, D]
    assert np.isfinite(ban.consumer_price_index[D]) and ban.consumption[D] > 0
    cal0 = calibrate(m, latent_link_weight=0.0)
    np.testing.assert_array_equal(cal0.X0, flows)
    ban0 = _ok(solve(cal0, MarketInputs.baseline(cal0).with_cap(cal0, "S", ["D"], 0.0)))
    assert ban0.consumption[D] == 0.0
    assert np.isinf(ban0.consumer_price_index[D])


# --- 10. welfare across the backstop kink -------------------------------------------------------

@pytest.mark.parametrize("eta,etab,B,P_to", [
    (0.3, 2.0, 1.5, 3.0), (0.5, 0.8, 1.2, 5.0), (0.2, 1.0, 2.0, 2.5), (1.0, 3.0, 1.1, 1.6),
])
def test_consumer_surplus_across_the_backstop_matches_quadrature(eta, etab, B, P_to):
    """Closed form (sec. 5.2): dCS = -V0 * integral_1^P Dc(x) dx with Dc = g x^-eta below B and
    g B^-eta (x/B)^-etab above; compared with scipy quadrature of the piecewise demand, split
    at the kink (and the reverse move gives the opposite sign)."""
    V0, g = 123.0, 1.3

    def demand(x):
        return g * x ** -eta if x <= B else g * B ** -eta * (x / B) ** -etab

    area = quad(demand, 1.0, B, epsabs=0, epsrel=1e-13)[0] + quad(demand, B, P_to, epsabs=0, epsrel=1e-13)[0]
    got = kwf.cs_change(V0, g, eta, 1.0, P_to, B, etab)
    assert got == pytest.approx(-V0 * area, rel=1e-8)
    back = kwf.cs_change(V0, g, eta, P_to, 1.0, B, etab)
    assert back == pytest.approx(V0 * area, rel=1e-8)
    # a move entirely above the kink
    hi = quad(demand, B * 1.1, P_to * 1.2, epsabs=0, epsrel=1e-13)[0]
    assert kwf.cs_change(V0, g, eta, B * 1.1, P_to * 1.2, B, etab) == pytest.approx(-V0 * hi, rel=1e-8)


# --- engine discrepancies found while writing these tests (strict xfail) --------------------------

@pytest.mark.parametrize("case", ["no_home_market", pytest.param("tiny_route", marks=pytest.mark.xfail(
    strict=True, reason="a route of capacity 1e-7 of the restricted flows: its transshipped-share "
    "unknown barely moves the cap row (coefficient 1e-7) and Newton and the fallback stop before "
    "1e-10; flagged as not converged (the log form of the route rent fixed the large-wedge case)"))])
def test_bounded_route_with_a_large_wedge_converges_within_the_default_iteration_limit(case):
    """Closed form: once a bounded route is full its allowance simply adds to the cap, so the
    solution equals that of a cap at q + L without a route (which converges quickly). Case
    no_home_market: origin I has no home consumption and unlimited supply with eps = 0.25, so
    it sells q + L = 0.25 E0 = 0.25 Q0 and p_I = 0.25^(1/eps) = 0.25^4 exactly (wedge ~505).
    Case tiny_route: a ban with a route of capacity 1e-7 of E0 at cost 0.01."""
    if case == "no_home_market":
        flows = np.array([[0.0, 100.0, 50.0], [0.0, 80.0, 10.0], [0.0, 10.0, 60.0]])
        m = make_mineral(flows, supply=0.25, demand=-1.0, armington=4.0, regions=["I", "A", "B"])
        cal = calibrate(m)
        origin, dests, share, cost, capacity = "I", ["A", "B"], 0.0, 1.0, 0.25
    else:
        cal = calibrate(_four_region())
        origin, dests, share, cost, capacity = "X", ["A", "B"], 0.0, 0.01, 1e-7
    i = cal.region_index(origin)
    ref = _ok(solve(cal, MarketInputs.baseline(cal).with_cap(cal, origin, dests, share + capacity)))
    assert ref.iterations < 20
    if case == "no_home_market":
        assert ref.price_index[i] == pytest.approx(0.25 ** 4, rel=1e-9)
    res = solve(cal, MarketInputs.baseline(cal).with_restriction(cal, origin, dests, share,
                                                                  cost=cost, capacity=capacity))
    assert res.converged, (res.status, res.iterations, res.max_rel_excess, res.wedges, ref.wedges)
    np.testing.assert_allclose(res.price_index, ref.price_index, rtol=1e-8)
    assert res.wedges[0] == pytest.approx(ref.wedges[0], rel=1e-8)


def test_backstop_elasticity_defaults_to_the_demand_elasticity_in_use():
    """Sec. 1.4: eta_b >= eta_l, default eta_l. Overriding the demand elasticity to -1 (the
    data say -0.5) and setting a backstop must give eta_b = 1 (or be rejected), not 0.5."""
    from simsrc.calibrate import CalibrationError

    m = make_mineral(np.array([[10.0, 5.0], [2.0, 8.0]]), demand=-0.5)
    try:
        cal = calibrate(m, {"demand_elasticity": -1.0, "backstop": 2.0})
    except CalibrationError:
        return
    assert np.all(cal.etab >= cal.eta), (cal.eta, cal.etab)
    np.testing.assert_allclose(cal.etab, 1.0)


def test_total_loss_of_chinese_gallium_within_factor_two_of_usgs(tmp_path):
    """USGS OFR 2024-1057 (integrated market): a complete stop of China's net gallium exports
    raises prices by more than 150%. At the dataset's central values, with demand fully adjusted
    (docs/model.md sec. 7.5), the consumption-weighted consumer price outside China rises within
    a factor of two of that (+75% to +300%); China's own price falls."""
    from simsrc.equilibrium import solve_scenario
    from simsrc.scenario import load_scenario
    f = tmp_path / "ban.yaml"
    f.write_text(
        "name: total_ban\nminerals: [gallium]\nhorizon: {start: 2026Q1, periods: 1, period: year}\n"
        "policies:\n  - name: ban\n    type: export_restriction\n    minerals: [gallium]\n    origin: CHN\n"
        "    destinations: all\n    cap_share: 0.0\n"
        "parameters:\n  - name: full\n    parameter: adjustment_speed\n    minerals: [gallium]\n    value: 1.0\n")
    scn = load_scenario(f)
    res = solve_scenario(scn, ["gallium"])["gallium"]
    md = scn.data.minerals["gallium"]
    c0 = md.flows.sum(axis=0)
    chn = md.regions.index("CHN")
    out = [k for k in range(len(md.regions)) if k != chn and c0[k] > 0]
    effect = float((np.asarray(res.consumer_price_index)[out] - 1) @ c0[out] / c0[out].sum())
    assert 0.75 <= effect <= 3.0, effect
    assert res.price_index[chn] < 1
