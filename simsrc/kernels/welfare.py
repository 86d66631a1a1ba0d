"""Closed-form welfare measures of one solved market (numba; docs/model.md sec. 3 and 5).

Units: quantities t/yr, prices as indices relative to the baseline world price ``P0``; every
function returns *index x t/yr*; multiply by ``P0`` in USD/t to get USD/yr.

Consumer surplus is the Marshallian area under the iso-elastic composite demand of a
destination, ``q(P) = V0 * g * P^-eta`` (``V0`` = baseline expenditure at delivered prices in
index units, so ``q`` is the composite quantity valued at baseline delivered prices):

    dCS = -V0 g  int_{P_from}^{P_to} P^-eta dP
        = -V0 g (P_to^(1-eta) - P_from^(1-eta)) / (1 - eta)     (eta != 1)
        = -V0 g log(P_to / P_from)                              (eta == 1)

Producer surplus of a supply segment ``S(x) = min(A x^eps, K)`` at producer price ``pp`` is

    PS(pp) = int_0^pp S(x) dx
           = A pp^(eps+1) / (eps+1)                               pp <= pk
           = A pk^(eps+1) / (eps+1) + K (pp - pk)                  pp >  pk

with the kink price ``pk = (K / A)^(1/eps)``. On the segment covered by a producer price
floor the producer price is ``p + (F - p_ref)+`` with a benchmark ``p_ref``; the government
pays ``(F - p_ref)+`` per covered tonne and takes a share ``alpha`` of the upside
``(p_ref - F)+`` per covered tonne, which is deducted from the covered producers' surplus (a
transfer to the government, counted in the fiscal cost with the opposite sign).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from . import LEAF

#: |1 - eta| below which the logarithmic (eta = 1) consumer surplus formula is used.
ETA_ONE_TOL = 1e-12


@njit(**LEAF)
def ps_segment(A, K, eps, pp):
    """Producer surplus ``int_0^pp min(A x^eps, K) dx`` of one supply segment.

    Parameters
    ----------
    A : float
        Supply shifter, t/yr at producer price index 1.
    K : float
        Capacity, t/yr (``inf`` = no limit).
    eps : float
        Supply elasticity (> 0).
    pp : float
        Producer price index (>= 0).

    Returns
    -------
    float
        Surplus in index x t/yr.
    """
    if A <= 0.0 or K <= 0.0 or pp <= 0.0:
        return 0.0
    e1 = eps + 1.0
    x = A * math.exp(eps * math.log(pp))    # supply at pp without the limit
    if x <= K:
        return x * pp / e1                   # A pp^(eps+1) / (eps+1)
    pk = math.exp(math.log(K / A) / eps)     # the kink price, where A pk^eps = K
    return K * pk / e1 + K * (pp - pk)


@njit(**LEAF)
def _area(c, e, a, b):
    """``int_a^b c P^-e dP`` for ``0 < a <= b`` (``b`` may be ``inf``)."""
    if a == b:
        return 0.0
    if abs(1.0 - e) < ETA_ONE_TOL:
        return c * (math.log(b) - math.log(a))
    x = 1.0 - e
    if math.isinf(b):
        top = 0.0 if x < 0.0 else np.inf
    else:
        top = math.exp(x * math.log(b))
    bottom = 1.0 if a == 1.0 else math.exp(x * math.log(a))   # a = 1: the baseline price
    return c * (top - bottom) / x


@njit(**LEAF)
def cs_change(V0, g, eta, P_from, P_to, B=np.inf, etab=0.0):
    """Change of consumer surplus when the composite price moves from ``P_from`` to ``P_to``.

    The area to the left of the composite demand curve ``q(P) = V0 g P^-eta`` up to the
    backstop ``B`` and ``V0 g B^-eta (P/B)^-etab`` above it (closed form on each branch).

    Parameters
    ----------
    V0 : float
        Baseline expenditure at delivered prices, index x t/yr.
    g : float
        Demand shifter (index) of the demand curve used.
    eta : float
        Composite demand elasticity below the backstop, positive.
    P_from, P_to : float
        Composite price indices (``P_to`` may be ``inf``: the composite is unobtainable).
    B : float
        Backstop price index (``inf`` = none).
    etab : float
        Demand elasticity above the backstop, positive.

    Returns
    -------
    float
        Index x t/yr; negative when the price rises. ``-inf`` for ``P_to = inf`` when the
        elasticity of the top branch is at most 1 (unbounded willingness to pay).
    """
    if V0 <= 0.0 or P_from == P_to:
        return 0.0
    lo = P_from if P_from < P_to else P_to
    hi = P_to if P_from < P_to else P_from
    area = 0.0
    if lo < B:
        area += _area(g, eta, lo, hi if hi < B else B)
    if hi > B:
        cb = g * math.exp((etab - eta) * math.log(B))   # g B^-eta B^etab
        area += _area(cb, etab, lo if lo > B else B, hi)
    return -V0 * area if P_to > P_from else V0 * area


@njit(**LEAF)
def producer_surplus(A_seg, K_seg, eps, p, gap, alpha, upside, q_covered):
    """Producer surplus of one origin (all segments), net of the floor's upside share.

    Parameters
    ----------
    A_seg, K_seg : ndarray (2,)
        Supply shifters (t/yr at index 1) and capacities (t/yr) of the uncovered and the
        covered segment.
    eps : float
        Supply elasticity.
    p : float
        Origin (market) price index.
    gap : float
        Floor payment per covered tonne, ``(F - p_ref)+`` (index); the covered segment
        receives ``p + gap``.
    alpha : float
        Government share of the upside ``(p_ref - F)+`` on covered output.
    upside : float
        ``(p_ref - F)+`` (index; 0 without a floor).
    q_covered : float
        Output of the covered segment, t/yr.

    Returns
    -------
    float
        Index x t/yr.
    """
    if not p >= 0.0:
        return 0.0
    ps = ps_segment(A_seg[0], K_seg[0], eps, p)
    ps += ps_segment(A_seg[1], K_seg[1], eps, p + gap)
    ps -= alpha * upside * q_covered
    return ps


@njit(**LEAF)
def floor_fiscal_cost(gap, upside, alpha, q_covered):
    """Government cost of a producer price floor measured against a benchmark ``p_ref``:
    ``(F - p_ref)+ Q_cov - alpha (p_ref - F)+ Q_cov`` (index x t/yr; times ``P0`` in USD/t:
    USD/yr); 0 without a floor."""
    return gap * q_covered - alpha * upside * q_covered


@njit(**LEAF)
def welfare_reference(X0, T0, A_seg0, K_seg0, eps, V0, ps0):
    """The per-region terms of :func:`market_welfare` that do not change between periods of
    a draw (no allocation): ``V0`` the baseline expenditure at delivered prices (index x
    t/yr, the scale of consumer surplus) and ``ps0`` the producer surplus of the reference
    supply curve ``A_seg0``/``K_seg0`` at price index 1 without a floor (the zero of producer
    surplus changes)."""
    R = X0.shape[0]
    for r in range(R):
        v = 0.0
        for i in range(R):
            v += X0[i, r] * T0[i, r]
        V0[r] = v
        ps0[r] = producer_surplus(A_seg0[r], K_seg0[r], eps[r], 1.0, 0.0, 0.0, 0.0, 0.0)


@njit(**LEAF)
def market_welfare(X0, T0, eta, B, etab, T, etax, rst, g, A_seg, K_seg, floor, fup, alpha, V0,
                   ps0, eps, p, pd, levy, P, X, Sseg, lam, xt, P_ref, und, off_q, off_val,
                   cum, tariff_rev, levy_rev, quota_rent, etax_rev, tship_cost, inter_rent,
                   fiscal, cs, ps):
    """Revenues, rents, fiscal cost and surplus changes of one solved market (no allocation).

    Every transfer has a payer and a payee (docs/model.md sec. 5): tariff and levy revenue
    go to the importer (a price undertaking's levy to the exporter), export-tax revenue and
    quota rents on direct exports to the exporter; on transshipped exports the route cost is
    lost and the rest of the wedge (the scarcity rent of a full route) goes to intermediaries
    outside the modelled regions' accounts. Both are reported by destination.

    Parameters
    ----------
    X0, T0, eta, B, etab, g, A_seg, K_seg, floor, eps
        As in :func:`simsrc.kernels.equilibrium.solve_market` (``T0`` the baseline border
        factors, ``eta`` the period's short-run elasticity, ``floor`` the floor payment per
        covered tonne ``(F - p_ref)+``).
    fup : ndarray (R,)
        The upside ``(p_ref - F)+`` per covered tonne where a floor is in force (index).
    T : ndarray (R, R)
        Tariff factors in force (1 + tariff rate), without the export tax.
    etax : ndarray (R, R)
        Export tax rates in force.
    rst : tuple
        Export restrictions ``(orig, dest, on, cap, cost, tcap)`` as in the solver.
    alpha : ndarray (R,)
        Government share of the upside above the floor.
    V0, ps0 : ndarray (R,)
        From :func:`welfare_reference`: baseline expenditure per destination and the
        reference producer surplus per origin (the baseline supply curve at price index 1).
    p, pd, levy, P, X, Sseg, lam, xt
        Outcomes from :func:`simsrc.kernels.equilibrium.market_outcomes`.
    P_ref : ndarray (R,)
        Reference composite price index per destination (1 = baseline).
    und : ndarray (R, R) uint8
        1 where a flow's minimum-import-price levy is a price undertaking.
    off_q, off_val : ndarray (R,)
        Government offtake bought at a stated price, per region: quantity (t/yr) and value
        (price index x t/yr); its premium ``off_val - p * off_q`` is added to ``fiscal``.
    cum : ndarray (R, R)
        Scratch space (the cumulative wedge factor of each flow).

    Outputs (index x t/yr; times P0 in USD/t gives USD/yr)
    -------
    tariff_rev : by importer, ``(T - 1) p (1 + e) W X`` with ``W`` the flow's wedge factor.
    levy_rev : ``v p (1 + e) W T X``, by importer (by exporter under an undertaking).
    quota_rent : by exporter, the wedge on direct (not transshipped) exports; with
        overlapping restrictions restriction k's share is ``p (1 + e) prod_{k' < k}(1 +
        lam_k') lam_k`` per tonne, so the shares add up to the whole wedge.
    etax_rev : by exporter, ``e p X``.
    tship_cost : by destination, ``c`` times the border price on transshipped tonnes (lost).
    inter_rent : by destination, ``(lam - c)`` times the border price on transshipped tonnes.
    fiscal : floor fiscal cost by region (:func:`floor_fiscal_cost`) plus the offtake premium.
    cs : consumer surplus change against ``P_ref`` (:func:`cs_change`, with the backstop).
    ps : producer surplus change against the reference curve at price 1 and no floor.
    """
    rk_orig, rk_dest, rk_on, cap, tcost, tcap = rst
    R = X0.shape[0]
    NC = cap.shape[0]
    for r in range(R):
        tariff_rev[r] = 0.0
        levy_rev[r] = 0.0
        quota_rent[r] = 0.0
        etax_rev[r] = 0.0
        tship_cost[r] = 0.0
        inter_rent[r] = 0.0
        for j in range(R):
            cum[r, j] = 1.0
    # restriction wedges, restriction by restriction (compounding in order)
    for k in range(NC):
        lk = lam[k]
        if rk_on[k] != 1 or not lk > 0.0 or not math.isfinite(lk):
            continue
        i = rk_orig[k]
        e = 0.0
        for j in range(R):
            if j != i and rk_dest[k, j] == 1:
                e += X[i, j]
        if e <= 0.0:
            continue
        th = xt[k] / e
        if th > 1.0:
            th = 1.0
        c = tcost[k] if th > 0.0 else 0.0
        for j in range(R):
            x = X[i, j]
            if j == i or rk_dest[k, j] != 1 or x <= 0.0:
                continue
            base = p[i] * (1.0 + etax[i, j]) * cum[i, j]
            quota_rent[i] += (1.0 - th) * lk * base * x
            if th > 0.0:
                tship_cost[j] += th * c * base * x
                inter_rent[j] += th * (lk - c) * base * x
            cum[i, j] *= 1.0 + lk
    for i in range(R):
        for j in range(R):
            x = X[i, j]
            if x <= 0.0:
                continue
            fob = p[i] * (1.0 + etax[i, j])
            etax_rev[i] += etax[i, j] * p[i] * x
            border = fob * cum[i, j]
            tariff_rev[j] += (T[i, j] - 1.0) * border * x
            if und[i, j] == 1:
                levy_rev[i] += levy[i, j] * border * T[i, j] * x
            else:
                levy_rev[j] += levy[i, j] * border * T[i, j] * x
    for r in range(R):
        fiscal[r] = floor_fiscal_cost(floor[r], fup[r], alpha[r], Sseg[r, 1])
        if off_q[r] > 0.0:
            fiscal[r] += off_val[r] - p[r] * off_q[r]
        cs[r] = cs_change(V0[r], g[r], eta[r], P_ref[r], P[r], B[r], etab[r])
        if p[r] > 0.0:
            ps1 = producer_surplus(A_seg[r], K_seg[r], eps[r], p[r], floor[r], alpha[r], fup[r], Sseg[r, 1])
        else:
            ps1 = 0.0  # no market (p = 0) or no supply (p undefined): nothing produced
        ps[r] = ps1 - ps0[r]
