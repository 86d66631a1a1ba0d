"""Closed-form welfare measures of one solved market (numba; MODEL.md sec. 3 and 5).

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
floor the producer price is ``max(p, F)``; the government pays ``(F - p)+`` per covered tonne
and takes a share ``alpha`` of the upside ``(p - F)+`` per covered tonne, which is deducted
from the covered producers' surplus (a transfer to the government, counted in the fiscal
cost with the opposite sign).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

#: |1 - eta| below which the logarithmic (eta = 1) consumer surplus formula is used.
ETA_ONE_TOL = 1e-12


@njit(cache=True, error_model="numpy")
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
    if math.isinf(K):
        return A * math.exp(e1 * math.log(pp)) / e1
    lpk = (math.log(K) - math.log(A)) / eps
    lpp = math.log(pp)
    if lpp <= lpk:
        return A * math.exp(e1 * lpp) / e1
    pk = math.exp(lpk)
    return A * math.exp(e1 * lpk) / e1 + K * (pp - pk)


@njit(cache=True, error_model="numpy")
def cs_change(V0, g, eta, P_from, P_to):
    """Change of consumer surplus when the composite price moves from ``P_from`` to ``P_to``.

    Parameters
    ----------
    V0 : float
        Baseline expenditure at delivered prices, index x t/yr.
    g : float
        Demand shifter (index) of the demand curve used.
    eta : float
        Composite demand elasticity, positive.
    P_from, P_to : float
        Composite price indices (``P_to`` may be ``inf``: the composite is unobtainable).

    Returns
    -------
    float
        Index x t/yr; negative when the price rises. ``-inf`` for ``P_to = inf`` and
        ``eta <= 1`` (iso-elastic demand then has unbounded willingness to pay).
    """
    if V0 <= 0.0 or P_from == P_to:
        return 0.0
    if abs(1.0 - eta) < ETA_ONE_TOL:
        return -V0 * g * (math.log(P_to) - math.log(P_from))
    a = 1.0 - eta
    if math.isinf(P_to):
        top = 0.0 if a < 0.0 else np.inf
    else:
        top = math.exp(a * math.log(P_to))
    return -V0 * g * (top - math.exp(a * math.log(P_from))) / a


@njit(cache=True, error_model="numpy")
def producer_surplus(A_seg, K_seg, eps, p, floor, alpha, q_covered):
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
    floor : float
        Floor price index on the covered segment (0 = none).
    alpha : float
        Government share of the upside ``(p - F)+`` on covered output.
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
    pp = p
    if floor > 0.0 and p < floor:
        pp = floor
    ps += ps_segment(A_seg[1], K_seg[1], eps, pp)
    if floor > 0.0 and p > floor:
        ps -= alpha * (p - floor) * q_covered
    return ps


@njit(cache=True, error_model="numpy")
def floor_fiscal_cost(p, floor, alpha, q_covered):
    """Government cost of a producer price floor: ``(F - p)+ Q_cov - alpha (p - F)+ Q_cov``.

    Index x t/yr (times ``P0`` in USD/t: USD/yr); 0 without a floor.
    """
    if floor <= 0.0 or not p >= 0.0:
        return 0.0
    if p < floor:
        return (floor - p) * q_covered
    return -alpha * (p - floor) * q_covered


@njit(cache=True, error_model="numpy")
def market_welfare(X0, T0, eta, T, capk, cap, g, A_seg, K_seg, floor, alpha, A_seg0, K_seg0,
                   eps, p, pd, levy, P, X, Sseg, lam, P_ref, und, off_q, off_val,
                   tariff_rev, levy_rev, quota_rent, fiscal, cs, ps):
    """Revenues, rents, fiscal cost and surplus changes of one solved market (no allocation).

    Parameters
    ----------
    X0, T0, eta, T, capk, cap, g, A_seg, K_seg, floor, eps
        As in :func:`simsrc.kernels.equilibrium.solve_market`.
    alpha : ndarray (R,)
        Government share of the upside above the floor.
    A_seg0, K_seg0 : ndarray (R, 2)
        Supply segments of the reference (baseline) supply curve, evaluated at price index 1.
    p, pd, levy, P, X, Sseg, lam
        Outcomes from :func:`simsrc.kernels.equilibrium.market_outcomes`.
    P_ref : ndarray (R,)
        Reference composite price index per destination (1 = baseline).
    und : ndarray (R, R) uint8
        1 where a flow's minimum-import-price levy is a price undertaking: its revenue goes to
        the exporter instead of the importer.
    off_q, off_val : ndarray (R,)
        Government offtake bought at a stated price, per region: quantity (t/yr) and value
        (price index x t/yr); its fiscal cost ``off_val - p * off_q`` (the premium over the
        market price) is added to ``fiscal``.

    Outputs (index x t/yr; times P0 in USD/t gives USD/yr)
    -------
    tariff_rev : ndarray (R,)
        Tariff revenue by importer: ``(T - 1) * p * (1 + lam) * X`` (the tariff applies to
        the border price, which includes the exporter's quota rent; with no cap this is
        MODEL.md's ``tau * p * X``).
    levy_rev : ndarray (R,)
        Minimum-import-price levy revenue ``v * p * T * (1 + lam) * X``, by importer (by
        exporter under an undertaking).
    quota_rent : ndarray (R,)
        Quota rents by exporter: ``lam * p * X`` on capped flows.
    fiscal : ndarray (R,)
        Floor fiscal cost by region (:func:`floor_fiscal_cost`) plus the offtake premium.
    cs : ndarray (R,)
        Consumer surplus change against ``P_ref`` (:func:`cs_change`).
    ps : ndarray (R,)
        Producer surplus change against the reference curve at price 1 and no floor.
    """
    R = X0.shape[0]
    for r in range(R):
        tariff_rev[r] = 0.0
        levy_rev[r] = 0.0
        quota_rent[r] = 0.0
    for i in range(R):
        for j in range(R):
            x = X[i, j]
            if x <= 0.0:
                continue
            k = capk[i, j]
            lf = 1.0
            if k >= 0 and cap[k] > 0.0 and math.isfinite(lam[k]):
                lf = 1.0 + lam[k]
                quota_rent[i] += lam[k] * p[i] * x
            border = p[i] * lf
            tariff_rev[j] += (T[i, j] - 1.0) * border * x
            if und[i, j] == 1:
                levy_rev[i] += levy[i, j] * border * T[i, j] * x
            else:
                levy_rev[j] += levy[i, j] * border * T[i, j] * x
    for r in range(R):
        fiscal[r] = floor_fiscal_cost(p[r], floor[r], alpha[r], Sseg[r, 1])
        if off_q[r] > 0.0:
            fiscal[r] += off_val[r] - p[r] * off_q[r]
        V0 = 0.0
        for i in range(R):
            V0 += X0[i, r] * T0[i, r]
        cs[r] = cs_change(V0, g[r], eta[r], P_ref[r], P[r])
        if p[r] > 0.0:
            ps1 = producer_surplus(A_seg[r], K_seg[r], eps[r], p[r], floor[r], alpha[r], Sseg[r, 1])
        else:
            ps1 = 0.0  # no market (p = 0) or no supply (p undefined): nothing produced
        ps0 = producer_surplus(A_seg0[r], K_seg0[r], eps[r], 1.0, 0.0, 0.0, 0.0)
        ps[r] = ps1 - ps0
