"""One market clearing in levels (numba): one mineral, one period, one draw.

This is docs/model.md sec. 2-3, solved by a semismooth Newton method with an analytic Jacobian
and a backtracking line search on the merit function ``0.5 * ||F||^2``. It allocates nothing:
the caller passes a workspace from :func:`make_workspace`, so the kernel can run inside a
``prange`` loop over draws (one workspace per draw).

Array interface
---------------
Region order is the dataset's; ``R`` regions, ``NC`` export restrictions. All prices are
indices relative to the baseline (1 at baseline); quantities are t/yr.

Calibration (fixed per market; see :mod:`simsrc.calibrate`)

=========  =======  =========================================================================
X0         (R, R)   baseline flows origin i -> destination j, t/yr (with latent links)
T0         (R, R)   baseline border factors (1 + tariff) x (1 + export tax)
w          (R, R)   baseline value shares at delivered prices per destination column (theta)
sigma      (R,)     Armington elasticity per destination (> 0, != 1)
eta        (R,)     short-run composite demand elasticity per destination, positive
eps        (R,)     supply elasticity per origin (> 0)
=========  =======  =========================================================================

Period inputs (may change every period and draw)

=========  =======  =========================================================================
T          (R, R)   border factors in force: (1 + tariff) x (1 + export tax)
rst        tuple    export restrictions ``(orig, dest, on, cap, cost, tcap)``:
                    ``orig`` (NC,) int64 restricting origin; ``dest`` (NC, R) uint8 restricted
                    destinations; ``on`` (NC,) uint8 1 if in force; ``cap`` (NC,) direct
                    exports allowed, t/yr (0 = ban); ``cost`` (NC,) ad valorem cost of the
                    transshipment route (``inf`` = no route); ``tcap`` (NC,) route capacity,
                    t/yr (``inf`` = unlimited).
mip        (R, R)   minimum import price on flow (i, j) in units of the baseline world price
                    (``F / P0``), 0 = none (members of the club and flows without the policy).
g          (R,)     composite demand shifter ``H`` per destination (index, > 0)
B          (R,)     backstop price index per destination (``inf`` = none)
etab       (R,)     demand elasticity above the backstop, positive
A_seg      (R, 2)   supply shifter per origin and segment, t/yr at producer price index 1
                    (segment 0: not covered by a floor; 1: covered).
K_seg      (R, 2)   capacity per origin and segment, t/yr (``inf`` = no limit)
floor      (R,)     producer price floor payment per covered tonne, ``(F - p_ref)+ / P0`` (index):
                    segment 1 supplies at ``p + floor``; 0 = none
stock      (R,)     net government stock flow in destination j's market, t/yr: released
                    tonnes (> 0) sold to j's consumers, refill purchases (< 0) bought like
                    any demand of j (from origins, at delivered prices, under restrictions)
purchases  (R,)     government purchases of origin i's output (extra demand), t/yr
=========  =======  =========================================================================

State and outputs

=========  =========  =======================================================================
z          (R+3NC,)   in: warm start (log origin price indices ``y``, then the log wedges
                      ``m = log(1 + lam)`` of the restrictions, then the scaled transshipped
                      quantities ``s``, then the log route rents ``r``); out: the solution.
                      Non-finite entries are replaced by 0 (the baseline).
ostat      (R,)       int64 out: origin status (:data:`ORIGIN_SOLVED`, ...)
ws         tuple      workspace ``make_workspace(R, NC)``
=========  =========  =======================================================================

Returns ``(status, iterations)``; status :data:`STATUS_CONVERGED` (0) means the max relative
excess supply and the max complementarity residual are below ``tol``.

Equations (docs/model.md sec. 2)
--------------------------------
- delivered price ``pd[i,j] = max(p[i] T[i,j] W[i,j], mip[i,j]) / T0[i,j]`` with the wedge
  factor ``W[i,j] = prod_k (1 + lam_k)`` over the restrictions in force covering the flow
  (overlapping restrictions compound); the minimum-import-price levy compares the border
  price, which includes the wedges, with the reference price.
- composite price ``P[j]^(1-s) = sum_i w[i,j] pd[i,j]^(1-s) / Wn[j]`` over open flows
  (``Wn = 1`` for ``s > 1``; renormalised over open varieties for ``s < 1``).
- composite demand with a backstop: ``D = g P^-eta`` for ``P <= B``,
  ``D = g B^-eta (P/B)^-etab`` above; flows ``X[i,j] = X0[i,j] D[j] (pd[i,j]/P[j])^-s``.
- supply ``S[i] = min(A0 p^eps, K0) + min(A1 (p + f)^eps, K1)`` with the floor payment
  ``f = (F - p_ref)+`` per covered tonne (``p_ref`` a benchmark fixed within the period).
- composite purchases from origins in ``j``: ``M = D - stock[j] / C0[j]`` (stock releases
  supply ``j``'s consumers; refills are demand of ``j``), flows ``X = X0 M (pd/P)^-s``.
- clearing residual (log form): ``log(S) - log(sum_j X + purchases)``.
- restriction k with exports ``E_k = sum_{j in J_k} X[i_k, j]``, direct cap ``q``, route cost
  ``c`` and capacity ``L`` (``lam >= 0 _|_ q - Xd >= 0``; ``mu >= 0 _|_ L - Xt >= 0``;
  ``Xt >= 0 _|_ c + mu - lam >= 0``; ``Xd + Xt = E``):

  * no route (or ``L = 0``): Fischer-Burmeister row ``FB(m, log q - log E)``
    (:data:`CAP_ACTIVE`); ``q = 0`` removes the variety (:data:`CAP_BAN`);
  * a free route (``c = 0``, finite ``L``): the same row with the allowance ``q + L``;
    unlimited and free: no restriction (:data:`CAP_IDLE`);
  * an unlimited route at ``c > 0`` (:data:`CAP_BOX`): unknowns ``m`` and the transshipped
    quantity ``s = Xt / E0`` (``E0`` the baseline restricted flows), rows
    ``FB(m, (q + s E0 - E) / E0)`` and ``FB(s, log(1 + c) - m)``, so ``0 <= lam <= c``; with
    ``q = 0`` the wedge is ``c`` and everything is transshipped (:data:`CAP_FIXED`, no row);
  * a bounded route at ``c > 0`` (:data:`CAP_ROUTE`): unknowns ``m``, ``s = Xt / L`` and the
    route's scarcity rent in logs ``r = log(1 + c + mu) - log(1 + c)`` (0 iff ``mu = 0``), rows
    ``FB(m, (q + s L - E) / E0)``, ``FB(s, log(1 + c) + r - m)`` and ``FB(r, 1 - s)``.

  Every row is a Fischer-Burmeister function, whose squared norm is continuously
  differentiable, so a Newton step is a descent direction of the merit function (a mid/box
  formulation stalled at its kinks).

Special rows and columns (no NaN, well-posed Newton system):

- an origin with no baseline production is inactive (:data:`ORIGIN_INACTIVE`, p = 1);
- a destination with no baseline consumption has no demand (P = 1);
- an origin with no open flow left and no purchases has no market (:data:`ORIGIN_NO_MARKET`:
  price index 0, nothing sold);
- an origin with no supply at any price (:data:`ORIGIN_NO_SUPPLY`) is removed
  from every destination like a ban; its price is undefined (NaN in the outputs);
- a destination whose varieties are all removed gets P = inf and no consumption.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from . import LEAF

# --- status codes -----------------------------------------------------------------------
#: Solution found: max relative excess supply and complementarity residual below tol.
STATUS_CONVERGED = 0
#: Iteration limit reached before convergence.
STATUS_MAX_ITER = 1
#: The line search found no step that decreases the merit function.
STATUS_LINE_SEARCH = 2
#: The Newton system is singular (pivot below :data:`PIVOT_TOL`).
STATUS_SINGULAR = 3
#: The residual is not finite at the starting point.
STATUS_NONFINITE = 4

#: Origin solved for its price.
ORIGIN_SOLVED = 0
#: Origin without baseline production (no variety): price index fixed at 1.
ORIGIN_INACTIVE = 1
#: Origin whose flows are all removed and with no purchases: price index 0, no sales.
ORIGIN_NO_MARKET = 2
#: Origin without supply at any price: removed; price undefined.
ORIGIN_NO_SUPPLY = 3

#: Restriction solved by a Fischer-Burmeister row on its direct cap (no route, or a free one).
CAP_ACTIVE = 0
#: Ban without a route: flows removed, wedge infinite.
CAP_BAN = 1
#: Restriction not in force, on no open flow, or made void by a free unlimited route: wedge 0.
CAP_IDLE = 2
#: Cap with an unlimited transshipment route at a cost: wedge in [0, cost] (two rows).
CAP_BOX = 3
#: Cap with a bounded transshipment route at a cost: rows on the cap, the route and its capacity.
CAP_ROUTE = 4
#: Ban with an unlimited route at a cost: every unit is transshipped, wedge = cost (no row).
CAP_FIXED = 5

# --- solver constants ------------------------------------------------------------------
#: Armijo sufficient-decrease constant of the backtracking line search.
ARMIJO_C = 1e-4
#: Step shrink factor of the backtracking line search.
BACKTRACK_FACTOR = 0.5
#: Maximum number of step halvings per Newton iteration (2^-40 ~ 1e-12).
MAX_BACKTRACK = 40
#: Largest change of a log price or log wedge in one Newton step (a factor e^3 ~ 20); larger
#: steps are scaled down (whole step) to keep exp() far from overflow on the first trial.
MAX_LOG_STEP = 3.0
#: Chord steps: after a full Newton step that shrank the residual norm by at least this
#: factor (the quadratic regime), the next step reuses the factorised Jacobian; a chord step
#: that fails the Armijo test at full length is discarded and the Jacobian recomputed.
CHORD_RATIO = 1e-2
#: Active-set steps: while restriction rows exist, each Newton direction is first computed
#: with the min function's generalised Jacobian (every complementarity row replaced by the
#: linearisation of its smaller argument: the active-set guess of the point) and checked on
#: the Fischer-Burmeister merit; a direction that needs a step shorter than this fraction of
#: its length ends the active-set steps of the solve (plain FB Newton from there). Near a
#: solution the guess is right and the step is the exact Newton step of the smooth system
#: (the FB rows' curvature no longer slows convergence at caps sitting on their kink).
MIN_BACKTRACK_T = 0.03
#: Pivot magnitude below which the Newton matrix is treated as singular.
PIVOT_TOL = 1e-300
#: Below this ``sqrt(mu^2 + b^2)`` the FB function is at its kink and the generalised
#: Jacobian element with both partial weights ``1 - 1/sqrt(2)`` is used.
FB_KINK_TOL = 1e-14
#: Generalised derivative weight of the FB function at its kink, ``1 - 1/sqrt(2)``.
FB_KINK_WEIGHT = 1.0 - 1.0 / math.sqrt(2.0)
#: Distance (in logs) from a kink within which a stalled Newton iteration retries with the
#: Jacobian of the kink's other side (see :func:`_evaluate`).
KINK_FLIP = 1e-3
#: Levenberg-Marquardt fallback (after a failed Newton run): iteration limit, initial damping
#: relative to the largest diagonal element of J'J, and damping factors on success / failure.
LM_MAX_ITER = 300
#: (The fallback is also bounded by the caller's ``max_iter``.)
LM_LAMBDA0 = 1e-4
LM_DOWN = 3.0
LM_UP = 4.0
#: Default convergence tolerance (docs/model.md sec. 2).
DEFAULT_TOL = 1e-10
#: Default iteration limit.
DEFAULT_MAX_ITER = 100

# --- workspace layout ------------------------------------------------------------------
# Open flows are kept in per-destination lists: entry (j, c) is the c-th open flow into j, from
# origin dv[j, c]. The Newton system has n = (solved origins) + (restriction wedges) +
# (bounded routes) unknowns; ol[q] is the index in z of unknown q.
# (R, R) float blocks indexed by flow: [origin, destination] or [destination, list position]
(_M_TT, _M_LTT, _M_WTS, _M_X0M, _M_E, _M_X, _M_MB, _M_WTSD, _M_LW, _M_X0MD,
 _M_KT, _M_KMIP, _M_WTO) = range(13)
_N_MAT = 13
# (N, N) float blocks of the Newton system, N = R + 3 NC: the dense price rows H (R x n; the
# Gauss-Newton matrix in Levenberg-Marquardt), the Jacobian and the damped system
(_J_H, _J_JAC, _J_LM) = range(3)
_N_JMAT = 3
# (N,) float vectors
(_V_P, _V_PS, _V_PM, _V_LOGP, _V_DM, _V_DSR, _V_CAPE, _V_LK0, _V_WN, _V_FEPS, _V_CS, _V_CH,
 _V_E0, _V_MC, _V_LB, _V_E, _V_B, _V_F, _V_DZ, _V_ZT, _V_FT, _V_TMP, _V_LSC, _V_B2,
 _V_TCE, _V_C0, _V_ITOT, _V_DPS, _V_TOTV, _V_WROW, _V_KSIG, _V_KETA, _V_KB, _V_KCAP, _V_KCOST,
 _V_KTCAP, _V_PST, _V_OROW) = range(38)
_N_VEC = 38
# (max(R, NC), R) int blocks: flow lists [origin or destination, position] (R rows) and the
# restrictions' flow lists [restriction, position] (NC rows)
(_IM_OPEN, _IM_DV, _IM_POS, _IM_FKN, _IM_OV, _IM_OC, _IM_SPEC, _IM_CJ, _IM_CC,
 _IM_TL, _IM_KDEST, _IM_SPF) = range(12)
_N_IMAT = 12
# (N,) int vectors
(_I_DSTAT, _I_CSTAT, _I_CORIG, _I_PIV, _I_DN, _I_ODN, _I_NSPEC, _I_CT, _I_FAST, _I_OL,
 _I_DL, _I_UPOS, _I_META, _I_NTL, _I_KON, _I_KORIG, _I_KPOS, _I_KOST) = range(18)
_N_IVEC = 18
# entries of the int vector _I_META: the last _setup's results and the identity of the
# calibration arrays it read (see _prepare)
(_META_ND, _META_UNIFORM, _META_VALID, _META_N, _META_NO, _META_NM, _META_X0, _META_T0,
 _META_W, _META_LU, _META_LISTS) = range(11)
_N_META = 11
# _META_LU: what the Jacobian block holds (factored by _lu_factor, with the pivots in _I_PIV)
_LU_NONE = 0    # nothing usable
_LU_FB = 1      # the LU factors of the Fischer-Burmeister Jacobian of the current structure
_LU_MIN = 2     # the same with the min function's rows (active-set steps)
# _META_LISTS: 1 while the flow lists (dv, pos, dn, ov, oc, odn)
# are those of the open flows in opn and the solved origins' numbering in upos, for the
# calibration whose X0 is at _META_X0


@njit(cache=True)
def make_workspace(R, NC):
    """Allocate the workspace of :func:`solve_market` for R regions and NC restrictions.

    Compiled, so that kernels (the period loop over draws) can allocate one per draw.

    Returns
    -------
    tuple
        ``(wm, wv, im, iv, fk, wj)``: float64 ``(12, R, R)`` (per flow), float64 ``(36, N)``,
        int64 ``(12, max(R, NC), R)`` (flow lists), int64 ``(18, max(N, 9))``, int64
        ``(R, R, max(NC, 1))`` (``fk[j, c]`` lists the restrictions covering open flow
        ``(j, c)``) and float64 ``(3, N, N)`` (the Newton system) arrays with ``N = R + 3 NC``.
        Blocks indexed by flow are R x R whatever the number of restrictions (a workspace of a
        market with 24 restriction layers: 0.3 MiB instead of 2.8 MiB; no measurable change in
        speed). Between calls the workspace keeps the per-call constants of the last
        :func:`_setup` and the inputs they came from (see :func:`_prepare`), the lists of open
        flows (which :func:`_setup` rebuilds only when the open flows, the solved origins or
        the calibration change), and the last LU factors of the Newton matrix, which only a
        call with ``warm_lu`` reads (:func:`solve_market`); nothing else is carried over.
    """
    N = R + 3 * NC
    M = max(R, NC)
    return (np.zeros((_N_MAT, R, R)), np.zeros((_N_VEC, N)),
            np.zeros((_N_IMAT, M, R), dtype=np.int64),
            np.zeros((_N_IVEC, max(N, _N_META)), dtype=np.int64),
            np.zeros((R, R, max(NC, 1)), dtype=np.int64), np.zeros((_N_JMAT, N, N)))


@njit(cache=True)
def has_row(st):
    """True for restriction statuses solved with a wedge unknown."""
    return st == CAP_ACTIVE or st == CAP_BOX or st == CAP_ROUTE


@njit(cache=True)
def covers(st):
    """True for restriction statuses that put a wedge on open flows."""
    return st == CAP_ACTIVE or st == CAP_BOX or st == CAP_ROUTE or st == CAP_FIXED


@njit(**LEAF)
def _setup(X0, T0, w, sigma, eta, eps, T, rst, mip, B, floor, stock, purchases, A_seg,
           K_seg, z, ostat, ws):
    """Per-call constants: restriction types, open flows and their lists, statuses, tariff
    powers, numbering of unknowns.

    Returns ``(n, no, nm, nd, uniform)``: the number of unknowns of the Newton system, of
    solved origins, of origins plus wedges, of destinations with demand, and 1 if the
    Armington elasticity is the same in every destination with demand.
    """
    wm, wv, im, iv, fk, wj = ws
    rk_orig, rk_dest, rk_on, cap, tcost, tcap = rst
    R = X0.shape[0]
    NC = cap.shape[0]
    TT = wm[_M_TT]
    lTT = wm[_M_LTT]
    wTs = wm[_M_WTS]
    X0m = wm[_M_X0M]
    mb = wm[_M_MB]
    wTsD = wm[_M_WTSD]
    X0mD = wm[_M_X0MD]
    opn = im[_IM_OPEN]
    dv = im[_IM_DV]
    pos = im[_IM_POS]
    fkn = im[_IM_FKN]
    ov = im[_IM_OV]
    oc = im[_IM_OC]
    spec = im[_IM_SPEC]
    cj = im[_IM_CJ]
    cc = im[_IM_CC]
    p = wv[_V_P]
    Wn = wv[_V_WN]
    lK0 = wv[_V_LK0]
    cS = wv[_V_CS]
    cH = wv[_V_CH]
    cape = wv[_V_CAPE]
    E0 = wv[_V_E0]
    mc = wv[_V_MC]
    lB = wv[_V_LB]
    dstat = iv[_I_DSTAT]
    cstat = iv[_I_CSTAT]
    corig = iv[_I_CORIG]
    dn = iv[_I_DN]
    odn = iv[_I_ODN]
    nspec = iv[_I_NSPEC]
    ct = iv[_I_CT]
    fast = iv[_I_FAST]
    ol = iv[_I_OL]
    dl = iv[_I_DL]
    upos = iv[_I_UPOS]
    meta = iv[_I_META]
    # the flow lists can be kept if the same calibration has the same open flows and solved
    # origins (checked below as they are recomputed)
    lists = meta[_META_LISTS] == 1 and meta[_META_X0] == X0.ctypes.data
    meta[_META_LISTS] = 0
    # baseline production and consumption (row and column sums) in one pass
    for j in range(R):
        wv[_V_TMP, j] = 0.0
    for i in range(R):
        q0 = 0.0
        for j in range(R):
            x = X0[i, j]
            q0 += x
            wv[_V_TMP, j] += x
        wv[_V_DZ, i] = q0
    # destinations with demand; uniform Armington elasticity over them?
    for j in range(R):
        wv[_V_C0, j] = wv[_V_TMP, j]
    uniform = 1
    s_ref = np.nan
    nd = 0
    for j in range(R):
        cS[j] = sigma[j]
        cH[j] = sigma[j] - eta[j]
        lB[j] = math.log(B[j]) if B[j] < np.inf else np.inf
        if wv[_V_TMP, j] > 0.0:
            dstat[j] = 1
            dl[nd] = j
            nd += 1
            if s_ref != s_ref:
                s_ref = sigma[j]
            elif sigma[j] != s_ref:
                uniform = 0
        else:
            dstat[j] = 0
    # restrictions on exactly the same flows: the one with the lowest direct cap governs, with
    # its route limited so that the total never exceeds what any of the others allows (a
    # second quantity cap on the same aggregate could only bind with a zero wedge, and the
    # pair would make the Newton system degenerate; docs/model.md sec. 8)
    tce = wv[_V_TCE]
    for k in range(NC):
        corig[k] = rk_orig[k]
        tce[k] = tcap[k]
        cstat[k] = -1 if rk_on[k] == 1 else CAP_IDLE
    for k in range(NC):
        if cstat[k] != -1:
            continue
        for k2 in range(k + 1, NC):
            if cstat[k2] != -1 or corig[k2] != corig[k]:
                continue
            same = True
            for j in range(R):
                if j != corig[k] and rk_dest[k, j] != rk_dest[k2, j]:
                    same = False
                    break
            if not same:
                continue
            q1 = max(cap[k], 0.0)
            q2 = max(cap[k2], 0.0)
            al1 = q1 + (tce[k] if tcost[k] < np.inf else 0.0)
            al2 = q2 + (tce[k2] if tcost[k2] < np.inf else 0.0)
            if q2 <= q1:
                tce[k2] = min(tce[k2], max(al1 - q2, 0.0))
                cstat[k] = CAP_IDLE
                break
            tce[k] = min(tce[k], max(al2 - q1, 0.0))
            cstat[k2] = CAP_IDLE
    # restriction types from their (effective) parameters
    for k in range(NC):
        st = CAP_IDLE
        q = cap[k] if cap[k] > 0.0 else 0.0
        ce = q
        mc[k] = 0.0
        if cstat[k] == -1:
            c = tcost[k]
            L = tce[k]
            if not c < np.inf or not L > 0.0:     # no route
                st = CAP_BAN if q <= 0.0 else CAP_ACTIVE
            elif c <= 0.0:                         # a free route: extra allowance
                if L < np.inf:
                    ce = q + L
                    st = CAP_ACTIVE
            else:                                  # a route at a cost
                mc[k] = math.log1p(c)
                if L < np.inf:
                    st = CAP_ROUTE
                else:
                    st = CAP_FIXED if q <= 0.0 else CAP_BOX
        cstat[k] = st
        cape[k] = ce
        E0[k] = 0.0
        ct[k] = 0
    # origin status, supply constants, open flows in one pass
    for i in range(R):
        fast[i] = 0
        if wv[_V_DZ, i] <= 0.0:
            ostat[i] = ORIGIN_INACTIVE
        else:
            has_supply = False
            for sg in range(A_seg.shape[1]):
                if A_seg[i, sg] > 0.0 and K_seg[i, sg] > 0.0:
                    has_supply = True
            ostat[i] = ORIGIN_SOLVED if has_supply else ORIGIN_NO_SUPPLY
        solved = ostat[i] == ORIGIN_SOLVED
        has = False
        for j in range(R):
            o = 0
            if solved and X0[i, j] > 0.0 and dstat[j] == 1:
                o = 1
                if j != i:
                    for k in range(NC):
                        if corig[k] == i and rk_dest[k, j] == 1 and cstat[k] == CAP_BAN:
                            o = 0
            if opn[i, j] != o:
                lists = False
            opn[i, j] = o
            if o == 1:
                has = True
        if solved and not has and purchases[i] <= 0.0:
            ostat[i] = ORIGIN_NO_MARKET
            solved = False
        if solved:
            # one uncovered segment: log supply is linear in log p below
            # capacity, no exp/log needed per evaluation
            if (A_seg[i, 1] <= 0.0 and A_seg[i, 0] > 0.0
                    and K_seg[i, 0] > 0.0):
                fast[i] = 1
                lK0[i] = math.log(K_seg[i, 0] / A_seg[i, 0])  # log kink price x eps
    # restrictions on no open flow (or on an origin not solved) are idle
    for k in range(NC):
        i = corig[k]
        if not covers(cstat[k]):
            continue
        e0 = 0.0
        if ostat[i] == ORIGIN_SOLVED:
            for j in range(R):
                if j != i and rk_dest[k, j] == 1 and opn[i, j] == 1:
                    e0 += X0[i, j]
        E0[k] = e0
        if e0 <= 0.0:
            cstat[k] = CAP_IDLE
    # numbering of unknowns; fixed prices of origins not solved
    n = 0
    for i in range(R):
        st = ostat[i]
        if st == ORIGIN_SOLVED:
            if upos[i] != n:
                lists = False
            ol[n] = i
            upos[i] = n
            n += 1
            if not math.isfinite(z[i]):
                z[i] = 0.0
        else:
            if upos[i] != -1:
                lists = False
            upos[i] = -1
            z[i] = 0.0
            if st == ORIGIN_INACTIVE:
                p[i] = 1.0
            elif st == ORIGIN_NO_MARKET:
                p[i] = 0.0
            else:
                p[i] = np.nan
    no = n
    for k in range(NC):
        if has_row(cstat[k]):
            upos[R + k] = n
            ol[n] = R + k
            n += 1
            if not math.isfinite(z[R + k]):
                z[R + k] = 0.0
        else:
            upos[R + k] = -1
            z[R + k] = 0.0
    nm = n
    lsc = wv[_V_LSC]
    for k in range(NC):
        st = cstat[k]
        # the transshipped quantity (unknown s) in units of the route capacity, or of the
        # baseline restricted flows for an unlimited route
        lsc[k] = tce[k] if st == CAP_ROUTE else E0[k]
        if st == CAP_ROUTE or st == CAP_BOX:
            upos[R + NC + k] = n
            ol[n] = R + NC + k
            n += 1
            if not math.isfinite(z[R + NC + k]):
                z[R + NC + k] = 0.0
        else:
            upos[R + NC + k] = -1
            z[R + NC + k] = 0.0
    for k in range(NC):
        if cstat[k] == CAP_ROUTE:
            upos[R + 2 * NC + k] = n
            ol[n] = R + 2 * NC + k
            n += 1
            if not math.isfinite(z[R + 2 * NC + k]):
                z[R + 2 * NC + k] = 0.0
        else:
            upos[R + 2 * NC + k] = -1
            z[R + 2 * NC + k] = 0.0
    tl = im[_IM_TL]
    ntj = iv[_I_NTL]
    spf = im[_IM_SPF]  # 1 for open flows with wedges or a minimum import price ([j, c])
    if not lists:
        # per-destination and per-origin lists of open flows; closed flows weigh nothing
        for i in range(R):
            odn[i] = 0
        for j in range(R):
            c = 0
            for i in range(R):
                if opn[i, j] == 0:
                    wTsD[i, j] = 0.0
                    X0mD[i, j] = 0.0
                    continue
                dv[j, c] = i
                pos[j, c] = upos[i]
                ov[i, odn[i]] = j
                oc[i, odn[i]] = c
                odn[i] += 1
                c += 1
            dn[j] = c
    meta[_META_LISTS] = 1
    # restrictions covering each open flow, flows with wedges or minimum import prices
    # ("special": evaluated one by one), and the values of the current tariffs
    for j in range(R):
        ntl = 0
        nsp = 0
        wsum = 0.0
        for c in range(dn[j]):
            i = dv[j, c]
            wsum += w[i, j]
            nf = 0
            if j != i:
                for k in range(NC):
                    if corig[k] == i and rk_dest[k, j] == 1 and covers(cstat[k]):
                        fk[j, c, nf] = k
                        nf += 1
                        cj[k, ct[k]] = j
                        cc[k, ct[k]] = c
                        ct[k] += 1
            fkn[j, c] = nf
            special = nf > 0 or mip[i, j] > 0.0
            TT[i, j] = 1.0
            if not uniform:
                # read for every flow only with more than one Armington elasticity
                mb[j, c] = 1.0
                lTT[i, j] = 0.0
            if special:
                spf[j, c] = 1
                spec[j, nsp] = c
                nsp += 1
                mb[j, c] = 1.0
                wTs[j, c] = w[i, j]
                X0m[j, c] = X0[i, j]
                wTsD[i, j] = 0.0
                X0mD[i, j] = 0.0
            else:
                spf[j, c] = 0
                wTsD[i, j] = w[i, j]
                X0mD[i, j] = X0[i, j]
            if T[i, j] != T0[i, j]:
                # tariff powers below, in one tight loop
                tl[j, ntl] = c
                ntl += 1
        ntj[j] = ntl
        nspec[j] = nsp
        # renormalisation of Armington weights (only for sigma < 1 with removed varieties)
        Wn[j] = 1.0 if sigma[j] > 1.0 else wsum
    # tariff powers where T differs from its baseline (log/exp only there)
    for j in range(R):
        sj = sigma[j]
        for q in range(ntj[j]):
            c = tl[j, q]
            i = dv[j, c]
            r = T[i, j] / T0[i, j]
            TT[i, j] = r
            if uniform:
                a = r ** (-sj)                 # TT^-s (the log is only needed below)
            else:
                lr = math.log(r)
                lTT[i, j] = lr
                a = math.exp(-sj * lr)
            wa = w[i, j] * a * r               # w TT^(1-s)
            xa = X0[i, j] * a                  # X0 TT^-s
            wTs[j, c] = wa
            X0m[j, c] = xa
            if spf[j, c] == 0:
                wTsD[i, j] = wa
                X0mD[i, j] = xa
    # the same weights by [destination, solved origin's unknown] (the Jacobian's dense rows)
    wTo = wm[_M_WTO]
    for j in range(R):
        for t in range(no):
            wTo[j, t] = wTsD[ol[t], j]
    iv[_I_META, _META_ND] = nd
    iv[_I_META, _META_UNIFORM] = uniform
    return n, no, nm, nd, uniform


@njit(**LEAF)
def _fb(a, b):
    """Fischer-Burmeister function ``a + b - sqrt(a^2 + b^2)`` (0 iff a, b >= 0, a b = 0)."""
    return a + b - math.sqrt(a * a + b * b)


@njit(**LEAF)
def _evaluate(X0, T0, w, sigma, eta, eps, T, rst, mip, g, B, etab, A_seg, K_seg, floor,
              stock, purchases, zz, ostat, ws, Fv, no, nd, uniform, flip=0.0):
    """Evaluate every intermediate and the residual ``Fv`` (length n) at ``zz``.

    ``flip > 0`` selects, for the Jacobian only, the other one-sided derivative of every kink
    (minimum import price, capacity, backstop) whose argument is within ``flip`` (in
    logs) of its threshold; the residual is the same (the functions are continuous there).

    Returns ``(merit, rel_bound, max_fb)``: the merit ``0.5 ||F||^2`` (NaN if anything is not
    finite), an upper bound ``max |r| (1 + |r|)`` of the max relative excess supply
    ``|expm1(r)|`` over the log residuals ``r``, and the max |complementarity residual|.
    """
    wm, wv, im, iv, fk, wj = ws
    rk_orig, rk_dest, rk_on, cap, tcost, tcap = rst
    R = X0.shape[0]
    NC = cap.shape[0]
    TT = wm[_M_TT]
    lTT = wm[_M_LTT]
    wTs = wm[_M_WTS]
    X0m = wm[_M_X0M]
    eL = wm[_M_E]
    XL = wm[_M_X]
    mb = wm[_M_MB]
    LW = wm[_M_LW]
    dv = im[_IM_DV]
    fkn = im[_IM_FKN]
    spec = im[_IM_SPEC]
    cj = im[_IM_CJ]
    cc = im[_IM_CC]
    p = wv[_V_P]
    ps = wv[_V_PS]
    pm = wv[_V_PM]
    logP = wv[_V_LOGP]
    Dm = wv[_V_DM]
    dSr = wv[_V_DSR]
    lK0 = wv[_V_LK0]
    Wn = wv[_V_WN]
    cH = wv[_V_CH]
    cape = wv[_V_CAPE]
    E0 = wv[_V_E0]
    mc = wv[_V_MC]
    lB = wv[_V_LB]
    E = wv[_V_E]
    b = wv[_V_B]
    cstat = iv[_I_CSTAT]
    dn = iv[_I_DN]
    nspec = iv[_I_NSPEC]
    ct = iv[_I_CT]
    fast = iv[_I_FAST]
    ol = iv[_I_OL]
    dl = iv[_I_DL]
    upos = iv[_I_UPOS]
    lsc = wv[_V_LSC]
    b2 = wv[_V_B2]
    wTsD = wm[_M_WTSD]
    X0mD = wm[_M_X0MD]
    dpsv = wv[_V_DPS]
    totv = wv[_V_TOTV]
    s_u = sigma[dl[0]] if nd > 0 else 0.0
    for t in range(no):
        i = ol[t]
        y = zz[i]
        p[i] = math.exp(y)
        if uniform:
            pm[i] = math.exp(-s_u * y)      # p^-s
            ps[i] = pm[i] * p[i]             # p^(1-s)
        Dm[i] = purchases[i]
    for j in range(R):
        dpsv[j] = 0.0
        totv[j] = 0.0
    if uniform:
        # one Armington elasticity: the flows without wedges or minimum import prices enter
        # the composites as a product of the [origin, destination] weights and a price per
        # origin (the Jacobian and market_outcomes form the flows from these products)
        for t in range(no):
            i = ol[t]
            a = ps[i]
            for j in range(R):
                totv[j] += wTsD[i, j] * a
    # demand side, destination by destination: e = w pd^(1-s), X = X0 pd^-s (x D P^s later)
    for u in range(nd):
        j = dl[u]
        s = sigma[j]
        nj = dn[j]
        tot = 0.0
        if uniform:
            for q in range(nspec[j]):
                c = spec[j, q]
                i = dv[j, c]
                eL[j, c] = wTs[j, c] * ps[i]
                XL[j, c] = X0m[j, c] * pm[i]
        else:
            for c in range(nj):
                i = dv[j, c]
                a = math.exp(-s * (zz[i] + lTT[i, j]))   # pd^-s
                e_ = w[i, j] * a * p[i] * TT[i, j]
                eL[j, c] = e_
                tot += e_
                XL[j, c] = X0[i, j] * a
        nsj = nspec[j]
        for q in range(nsj):
            c = spec[j, q]
            i = dv[j, c]
            nf = fkn[j, c]
            lw = 0.0
            for h in range(nf):
                k = fk[j, c, h]
                if cstat[k] == CAP_FIXED:
                    lw += mc[k]
                else:
                    lw += zz[R + k]
            LW[j, c] = lw
            lf = math.exp(lw) if nf > 0 else 1.0
            m = mip[i, j]
            bind = m > 0.0 and p[i] * T[i, j] * lf < m
            near = flip > 0.0 and m > 0.0 and abs(math.log(p[i] * T[i, j] * lf / m)) < flip
            if bind:
                v = m / T0[i, j]
                a = math.exp(-s * math.log(v))   # v^-s
                eL[j, c] = w[i, j] * a * v
                XL[j, c] = X0[i, j] * a
                mb[j, c] = 1.0 if near else 0.0
            else:
                mb[j, c] = 0.0 if near else 1.0
                if nf > 0:
                    a = math.exp(-s * lw)
                    eL[j, c] *= a * lf
                    XL[j, c] *= a
        if uniform:
            tot = totv[j]
            for q in range(nsj):
                tot += eL[j, spec[j, q]]
        elif nsj > 0:
            # the special flows changed: sum again in the same order (bit-identical)
            tot = 0.0
            for c in range(nj):
                tot += eL[j, c]
        if tot <= 0.0:
            # every variety removed: the composite is unobtainable
            logP[j] = np.inf
            for c in range(nj):
                XL[j, c] = 0.0
            wv[_V_ITOT, j] = 0.0
            continue
        lP = math.log(tot / Wn[j]) / (1.0 - s)
        logP[j] = lP
        above = lP > lB[j]
        if above:
            # above the backstop: D = g B^-eta (P/B)^-etab
            ex = -eta[j] * lB[j] - etab[j] * (lP - lB[j])
        else:
            ex = -eta[j] * lP
        if flip > 0.0 and abs(lP - lB[j]) < flip:
            above = not above
        el_ = etab[j] if above else eta[j]
        ms = -stock[j] / wv[_V_C0, j]
        if ms != 0.0:
            # government stock flows in j: purchases from origins M = D + ms
            dd = g[j] * math.exp(ex)
            mm = dd + ms
            cH[j] = s - el_ * dd / mm
            dps = mm * math.exp(s * lP)  # M * P^s
        else:
            cH[j] = s - el_
            dps = g[j] * math.exp(ex + s * lP)  # D * P^s
        wv[_V_ITOT, j] = 1.0 / tot
        dpsv[j] = dps
        if uniform:
            for q in range(nsj):
                c = spec[j, q]
                x = XL[j, c] * dps
                XL[j, c] = x
                Dm[dv[j, c]] += x
        else:
            for c in range(nj):
                x = XL[j, c] * dps
                XL[j, c] = x
                Dm[dv[j, c]] += x
    if uniform:
        for t in range(no):
            i = ol[t]
            acc = 0.0
            for j in range(R):
                acc += X0mD[i, j] * dpsv[j]
            Dm[i] += pm[i] * acc
    # supply side and clearing rows (log form)
    max_rel = 0.0
    merit = 0.0
    for t in range(no):
        i = ol[t]
        y = zz[i]
        if fast[i] == 1:
            ey = eps[i] * y
            below = ey < lK0[i]
            if below:
                r = math.log(A_seg[i, 0] / Dm[i]) + ey
            else:
                r = math.log(K_seg[i, 0] / Dm[i])
            if flip > 0.0 and abs(ey - lK0[i]) < flip:
                below = not below
            dSr[i] = eps[i] if below else 0.0
        else:
            pe = math.exp(eps[i] * y)
            a0 = A_seg[i, 0] * pe
            below = a0 < K_seg[i, 0]
            s_ = a0 if below else K_seg[i, 0]
            if flip > 0.0 and K_seg[i, 0] > 0.0 and abs(math.log(a0 / K_seg[i, 0])) < flip:
                below = not below
            ds = eps[i] * a0 if below else 0.0
            if A_seg[i, 1] > 0.0:
                # the covered segment supplies at p + gap (the floor payment per tonne)
                if floor[i] > 0.0:
                    pp = p[i] + floor[i]
                    a1 = A_seg[i, 1] * math.exp(eps[i] * math.log(pp))
                    d1 = eps[i] * a1 * p[i] / pp
                else:
                    a1 = A_seg[i, 1] * pe
                    d1 = eps[i] * a1
                below = a1 < K_seg[i, 1]
                s_ += a1 if below else K_seg[i, 1]
                if flip > 0.0 and K_seg[i, 1] > 0.0 and abs(math.log(a1 / K_seg[i, 1])) < flip:
                    below = not below
                if below:
                    ds += d1
            dSr[i] = ds / s_
            r = math.log(s_ / Dm[i])
        Fv[t] = r
        merit += r * r
        a = abs(r)
        a = a * (1.0 + a)
        if not a <= max_rel:  # also propagates NaN
            max_rel = a
    # restriction rows
    max_fb = 0.0
    for k in range(NC):
        st = cstat[k]
        if not has_row(st):
            continue
        e = 0.0
        for q in range(ct[k]):
            e += XL[cj[k, q], cc[k, q]]
        E[k] = e
        m = zz[R + k]
        if st == CAP_ACTIVE:
            bk = math.log(cape[k]) - math.log(e)
            b[k] = bk
            phi = _fb(m, bk)
        else:  # CAP_BOX or CAP_ROUTE: direct cap, route and (bounded) route capacity
            sv = zz[R + NC + k]
            bl = (cape[k] + sv * lsc[k] - e) / E0[k]
            b[k] = bl
            phi = _fb(m, bl)
            if st == CAP_ROUTE:
                # route rent in logs: r = log(1 + c + mu) - log(1 + c) >= 0 (0 iff mu = 0), so
                # c + mu - lam >= 0 reads log(1 + c) + r - m >= 0, linear in the unknowns
                rr_ = zz[R + 2 * NC + k]
                f2 = mc[k] + rr_ - m
                phin = _fb(rr_, 1.0 - sv)
                Fv[upos[R + 2 * NC + k]] = phin
                merit += phin * phin
                a = abs(phin)
                if not a <= max_fb:
                    max_fb = a
            else:
                f2 = mc[k] - m
            b2[k] = f2
            phis = _fb(sv, f2)
            Fv[upos[R + NC + k]] = phis
            merit += phis * phis
            a = abs(phis)
            if not a <= max_fb:
                max_fb = a
        Fv[upos[R + k]] = phi
        merit += phi * phi
        a = abs(phi)
        if not a <= max_fb:
            max_fb = a
    merit *= 0.5
    if not math.isfinite(merit):
        merit = np.nan
    return merit, max_rel, max_fb


@njit(**LEAF)
def _jacobian(rst, zz, ostat, ws, n, no, nm, nd, amin=False):
    """Analytic (generalised) Jacobian of the residual at the last evaluated point.

    Rows and columns follow the numbering of unknowns (solved origins' log prices, then the
    restrictions' log wedges, then the bounded routes' transshipped shares). Each price or
    wedge row starts as the gradient of ``-log(aggregate)`` of flows of one origin (all its
    sales plus purchases for a clearing row; the restricted flows for a restriction row) with
    weights ``W = flow / aggregate``:
    ``d log X[i,j] = (s_j - eta_j) d log P_j - s_j d log pd[i,j]`` (``eta_j`` the elasticity
    of the demand branch in force) and ``d log P_j = sum_m sh[m,j] mb[m,j] d log pd[m,j]``
    (``mb = 0`` where the minimum import price binds and the delivered price is fixed);
    clearing rows add ``dS / S``; restriction rows are then mapped through the
    generalised derivative of their FB or mid function.
    """
    wm, wv, im, iv, fk, wj = ws
    rk_orig, rk_dest, rk_on, cap, tcost, tcap = rst
    R = ostat.shape[0]
    NC = cap.shape[0]
    XL = wm[_M_X]
    mb = wm[_M_MB]
    eL = wm[_M_E]
    H = wj[_J_H]
    Jac = wj[_J_JAC]
    pos = im[_IM_POS]
    fkn = im[_IM_FKN]
    ov = im[_IM_OV]
    oc = im[_IM_OC]
    cj = im[_IM_CJ]
    cc = im[_IM_CC]
    Dm = wv[_V_DM]
    dSr = wv[_V_DSR]
    cS = wv[_V_CS]
    cH = wv[_V_CH]
    E0 = wv[_V_E0]
    E = wv[_V_E]
    b = wv[_V_B]
    cstat = iv[_I_CSTAT]
    corig = iv[_I_CORIG]
    dn = iv[_I_DN]
    odn = iv[_I_ODN]
    ct = iv[_I_CT]
    ol = iv[_I_OL]
    dl = iv[_I_DL]
    upos = iv[_I_UPOS]
    lsc = wv[_V_LSC]
    b2 = wv[_V_B2]
    X0mD = wm[_M_X0MD]
    ps = wv[_V_PS]
    pm = wv[_V_PM]
    dpsv = wv[_V_DPS]
    wrow = wv[_V_WROW]
    orow = wv[_V_OROW]
    spf = im[_IM_SPF]
    spec = im[_IM_SPEC]
    nspec = iv[_I_NSPEC]
    uniform = iv[_I_META, _META_UNIFORM] == 1
    # with one Armington elasticity the evaluation stored only the special flows' values
    # (spf = 1); the others are products of [destination, origin] weights and prices, formed
    # densely over the solved origins (zero weight where the flow is closed or special)
    # H[j, :] = (s_j - eta_j) d log P_j / d unknowns (a dense row per destination)
    if uniform:
        pst = wv[_V_PST]
        wTo = wm[_M_WTO]
        for t in range(no):
            pst[t] = ps[ol[t]]
    for u in range(nd):
        j = dl[u]
        a = cH[j] * wv[_V_ITOT, j]
        if uniform:
            for t in range(no):
                H[j, t] = a * (wTo[j, t] * pst[t])
            for c in range(no, n):
                H[j, c] = 0.0
            nl = nspec[j]
        else:
            for c in range(n):
                H[j, c] = 0.0
            nl = dn[j]
        # the flows evaluated one by one (with one elasticity, those with wedges or minimum
        # import prices; otherwise all)
        for q in range(nl):
            c2 = spec[j, q] if uniform else q
            v = a * eL[j, c2] * mb[j, c2]
            H[j, pos[j, c2]] += v
            for h in range(fkn[j, c2]):
                col = upos[R + fk[j, c2, h]]
                if col >= 0:
                    H[j, col] += v
    for r in range(n):
        for c in range(n):
            Jac[r, c] = 0.0
    for r in range(nm):
        if r < no:
            i = ol[r]
            npair = odn[i]
            inv = 1.0 / Dm[i]
            k = -1
        else:
            k = ol[r] - R
            i = corig[k]
            npair = ct[k]
            inv = 1.0 / E[k]
        ri = upos[i]
        # the row's flow weights W = flow / aggregate, and each flow's own-price term
        # W s_j mb (mb = 1 on flows without wedges or minimum import prices)
        nwr = 0  # wedge entries on the row's flows
        if k < 0:
            pmi = pm[i]
            for q in range(npair):
                j = ov[i, q]
                c = oc[i, q]
                if uniform and spf[j, c] == 0:
                    wq = X0mD[i, j] * pmi * dpsv[j] * inv
                    orow[q] = wq * cS[j]
                else:
                    wq = XL[j, c] * inv
                    orow[q] = wq * cS[j] * mb[j, c]
                    nwr += fkn[j, c]
                wrow[q] = wq
        else:
            nwr = 1
            for q in range(npair):
                j = cj[k, q]
                c = cc[k, q]
                wq = XL[j, c] * inv
                wrow[q] = wq
                orow[q] = wq * cS[j] * mb[j, c]
        # -W[r, j] H[j, :] summed over the row's flows, four flows per pass over the columns
        q = 0
        while q + 4 <= npair:
            if k < 0:
                j0, j1, j2, j3 = ov[i, q], ov[i, q + 1], ov[i, q + 2], ov[i, q + 3]
            else:
                j0, j1, j2, j3 = cj[k, q], cj[k, q + 1], cj[k, q + 2], cj[k, q + 3]
            w0, w1, w2, w3 = wrow[q], wrow[q + 1], wrow[q + 2], wrow[q + 3]
            for c2 in range(n):
                Jac[r, c2] -= w0 * H[j0, c2] + w1 * H[j1, c2] + w2 * H[j2, c2] + w3 * H[j3, c2]
            q += 4
        while q < npair:
            j0 = ov[i, q] if k < 0 else cj[k, q]
            w0 = wrow[q]
            for c2 in range(n):
                Jac[r, c2] -= w0 * H[j0, c2]
            q += 1
        # own delivered price (summed in a register), then the flows' own restriction wedges
        # (columns >= no, never ri), each in flow order
        acc = Jac[r, ri]
        for q in range(npair):
            acc += orow[q]
        Jac[r, ri] = acc
        if nwr > 0:
            for q in range(npair):
                if k < 0:
                    j = ov[i, q]
                    c = oc[i, q]
                else:
                    j = cj[k, q]
                    c = cc[k, q]
                for h in range(fkn[j, c]):
                    col = upos[R + fk[j, c, h]]
                    if col >= 0:
                        Jac[r, col] += orow[q]
        if k < 0:
            Jac[r, r] += dSr[i]
    # restriction rows: generalised derivatives of the FB functions
    for k in range(NC):
        st = cstat[k]
        rr = upos[R + k]
        if rr < 0:
            continue
        mu = zz[R + k]
        if st == CAP_BOX or st == CAP_ROUTE:
            # slack (q + s Lsc - E) / E0: d = (E / E0) d(-log E) + (Lsc / E0) ds
            rs = upos[R + NC + k]
            f = E[k] / E0[k]
            for c in range(n):
                Jac[rr, c] *= f
            Jac[rr, rs] += lsc[k] / E0[k]
            # route row FB(s, f2): f2 = log(1 + c) + r - m (bounded) or log(1 + c) - m (unlimited)
            sv = zz[R + NC + k]
            wa, wf = _cweights(sv, b2[k], amin)
            Jac[rs, rs] += wa
            Jac[rs, rr] -= wf
            if st == CAP_ROUTE:
                rn = upos[R + 2 * NC + k]
                lr = zz[R + 2 * NC + k]
                Jac[rs, rn] += wf
                # capacity row FB(r, 1 - s)
                wa, wf = _cweights(lr, 1.0 - sv, amin)
                Jac[rn, rn] += wa
                Jac[rn, rs] -= wf
        wl, wb = _cweights(mu, b[k], amin)
        for c in range(n):
            Jac[rr, c] *= wb
        Jac[rr, rr] += wl


@njit(**LEAF)
def _fb_weights(a, b):
    """Partial derivatives ``(dFB/da, dFB/db)`` of the Fischer-Burmeister function, with the
    generalised element ``1 - 1/sqrt(2)`` at its kink."""
    rad = math.sqrt(a * a + b * b)
    if rad > FB_KINK_TOL:
        return 1.0 - a / rad, 1.0 - b / rad
    return FB_KINK_WEIGHT, FB_KINK_WEIGHT


@njit(**LEAF)
def _cweights(a, b, amin):
    """Row weights ``(d/da, d/db)`` of a complementarity row: the FB function's, or with
    ``amin`` the min function's (the active-set guess: 1 on the smaller argument)."""
    if amin:
        if a <= b:
            return 1.0, 0.0
        return 0.0, 1.0
    return _fb_weights(a, b)


@njit(**LEAF)
def _min_rhs(zz, ws, rhs, R, NC):
    """Overwrite the complementarity rows of ``rhs`` with ``-min(a, b)`` (at the last
    evaluated point), the right-hand side of an active-set Newton step."""
    wm, wv, im, iv, fk, wj = ws
    cstat = iv[_I_CSTAT]
    upos = iv[_I_UPOS]
    b = wv[_V_B]
    b2 = wv[_V_B2]
    for k in range(NC):
        st = cstat[k]
        if not has_row(st):
            continue
        rhs[upos[R + k]] = -min(zz[R + k], b[k])
        if st == CAP_BOX or st == CAP_ROUTE:
            sv = zz[R + NC + k]
            rhs[upos[R + NC + k]] = -min(sv, b2[k])
            if st == CAP_ROUTE:
                rhs[upos[R + 2 * NC + k]] = -min(zz[R + 2 * NC + k], 1.0 - sv)


@njit(**LEAF)
def _lu_factor(A, piv, n):
    """LU factorisation with partial pivoting of the leading n x n block of ``A``, in place.

    ``A`` receives U on and above the diagonal and the multipliers of L below it; ``piv[k]``
    the row swapped with row k. Returns False if a pivot is below :data:`PIVOT_TOL` or not
    finite (the system is treated as singular).
    """
    for k in range(n):
        pmax = abs(A[k, k])
        pr = k
        for r in range(k + 1, n):
            v = abs(A[r, k])
            if v > pmax:
                pmax = v
                pr = r
        if not pmax > PIVOT_TOL or not math.isfinite(pmax):
            return False
        piv[k] = pr
        if pr != k:
            for c in range(n):
                t = A[k, c]
                A[k, c] = A[pr, c]
                A[pr, c] = t
        inv = 1.0 / A[k, k]
        for r in range(k + 1, n):
            f = A[r, k] * inv
            A[r, k] = f
            if f != 0.0:
                for c in range(k + 1, n):
                    A[r, c] -= f * A[k, c]
    return True


@njit(**LEAF)
def _lu_solve(A, piv, rhs, x, n):
    """Solve ``A x = rhs`` with the factors of :func:`_lu_factor` (``rhs`` is not changed)."""
    for i in range(n):
        x[i] = rhs[i]
    for k in range(n):  # row swaps first (whole rows were swapped in the factorisation)
        pr = piv[k]
        if pr != k:
            t = x[k]
            x[k] = x[pr]
            x[pr] = t
    for k in range(n):  # unit lower triangle
        xk = x[k]
        if xk != 0.0:
            for r in range(k + 1, n):
                x[r] -= A[r, k] * xk
    for k in range(n - 1, -1, -1):
        s = x[k]
        for c in range(k + 1, n):
            s -= A[k, c] * x[c]
        x[k] = s / A[k, k]


@njit(cache=True)
def _supply_flags(A_seg, K_seg, purchases, j):
    """Which of origin j's supply shifters, capacities and purchases are positive (bits)."""
    return ((1 if A_seg[j, 0] > 0.0 else 0) + (2 if K_seg[j, 0] > 0.0 else 0)
            + (4 if A_seg[j, 1] > 0.0 else 0) + (8 if K_seg[j, 1] > 0.0 else 0)
            + (16 if purchases[j] > 0.0 else 0))


@njit(**LEAF)
def _prepare(X0, T0, w, sigma, eta, eps, T, rst, mip, B, floor, stock, purchases, A_seg,
             K_seg, z, ostat, ws):
    """:func:`_setup`, or only its parts that depend on the period's supply curves where
    every other input it reads equals that of the last call with this workspace.

    In the period loop the trade policies, elasticities and calibration of a draw stay the
    same over most periods while capacities move: the flow lists, restriction types and
    tariff powers are then kept, and only the supply constants (the kink of each origin's
    supply curve) and the warm start's fixed entries are refreshed. The key is compared
    value by value (border factors, minimum import prices, restrictions, elasticities,
    backstops, and which origins have supply or purchases) and the calibration arrays
    ``X0``, ``T0`` and ``w`` by identity (a workspace serves one market: they must not be
    changed in place between calls), so a result never depends on what the workspace solved
    before (unless the caller asks for the last LU factors, ``warm_lu``): a cached call leaves
    the workspace exactly as :func:`_setup` would (tested). A rebuild drops the LU factors.
    """
    wm, wv, im, iv, fk, wj = ws
    rk_orig, rk_dest, rk_on, cap, tcost, tcap = rst
    R = X0.shape[0]
    NC = cap.shape[0]
    meta = iv[_I_META]
    kpos = iv[_I_KPOS]
    # the calibration arrays by identity (a workspace serves one market), then the inputs of
    # the period by value: small ones first (most misses are found there)
    same = (meta[_META_VALID] == 1 and meta[_META_X0] == X0.ctypes.data
            and meta[_META_T0] == T0.ctypes.data and meta[_META_W] == w.ctypes.data)
    if same:
        for k in range(NC):
            if ((rk_on[k] != iv[_I_KON, k]) or (rk_orig[k] != iv[_I_KORIG, k])
                    or (cap[k] != wv[_V_KCAP, k]) or (tcost[k] != wv[_V_KCOST, k])
                    or (tcap[k] != wv[_V_KTCAP, k])):
                same = False
                break
    if same:
        for j in range(R):
            if ((sigma[j] != wv[_V_KSIG, j]) or (eta[j] != wv[_V_KETA, j]) or (B[j] != wv[_V_KB, j])
                    or _supply_flags(A_seg, K_seg, purchases, j) != kpos[j]):
                same = False
                break
    if same:
        d = False
        kT = wm[_M_KT]
        kM = wm[_M_KMIP]
        for i in range(R):
            for j in range(R):
                d |= (T[i, j] != kT[i, j]) | (mip[i, j] != kM[i, j])
        for k in range(NC):
            for j in range(R):
                d |= rk_dest[k, j] != im[_IM_KDEST, k, j]
        same = not d
    if not same:
        meta[_META_LU] = _LU_NONE
        res = _setup(X0, T0, w, sigma, eta, eps, T, rst, mip, B, floor, stock, purchases,
                     A_seg, K_seg, z, ostat, ws)
        for i in range(R):
            for j in range(R):
                wm[_M_KT, i, j] = T[i, j]
                wm[_M_KMIP, i, j] = mip[i, j]
        for j in range(R):
            wv[_V_KSIG, j] = sigma[j]
            wv[_V_KETA, j] = eta[j]
            wv[_V_KB, j] = B[j]
            kpos[j] = _supply_flags(A_seg, K_seg, purchases, j)
            iv[_I_KOST, j] = ostat[j]
        meta[_META_X0] = X0.ctypes.data
        meta[_META_T0] = T0.ctypes.data
        meta[_META_W] = w.ctypes.data
        for k in range(NC):
            iv[_I_KON, k] = rk_on[k]
            iv[_I_KORIG, k] = rk_orig[k]
            wv[_V_KCAP, k] = cap[k]
            wv[_V_KCOST, k] = tcost[k]
            wv[_V_KTCAP, k] = tcap[k]
            for j in range(R):
                im[_IM_KDEST, k, j] = rk_dest[k, j]
        n, no, nm, nd, uniform = res
        meta[_META_VALID] = 1
        meta[_META_N] = n
        meta[_META_NO] = no
        meta[_META_NM] = nm
        return res
    # the same structure: refresh what depends on the supply curves' values and on z
    fast = iv[_I_FAST]
    lK0 = wv[_V_LK0]
    upos = iv[_I_UPOS]
    for i in range(R):
        ostat[i] = iv[_I_KOST, i]
        if fast[i] == 1:
            lK0[i] = math.log(K_seg[i, 0] / A_seg[i, 0])  # log kink price x eps
    for q in range(R + 3 * NC):
        if upos[q] < 0 or not math.isfinite(z[q]):
            z[q] = 0.0
    return meta[_META_N], meta[_META_NO], meta[_META_NM], meta[_META_ND], meta[_META_UNIFORM]


@njit(**LEAF)
def solve_market(X0, T0, w, sigma, eta, eps, T, rst, mip, g, B, etab, A_seg, K_seg, floor,
                 stock, purchases, z, ostat, ws, tol, max_iter, warm_lu=False):
    """Solve one market clearing in levels (see the module docstring for the arrays).

    Parameters
    ----------
    X0, T0, w, sigma, eta, eps
        Calibration: baseline flows (t/yr), baseline border factors, value shares, Armington
        elasticity per destination, short-run demand elasticity per destination (positive),
        supply elasticity per origin.
    T, rst, mip, g, B, etab, A_seg, K_seg, floor, stock, purchases
        Period inputs: border factors, export restrictions ``(orig, dest, on, cap, cost,
        tcap)``, minimum import prices (index of P0; 0 none), demand shifters (index),
        backstop price indices (inf none) and elasticities above them (positive), supply
        shifters (t/yr at index 1) and capacities (t/yr) per segment, floor price indices
        (0 none), stock and purchases (t/yr).
    z : ndarray (R + 2 NC,)
        In: warm start (log price indices, log wedges ``log(1 + lam)``, transshipped shares).
        Out: the solution.
    ostat : ndarray (R,) int64
        Out: origin status codes.
    ws : tuple
        Workspace from :func:`make_workspace` (R, NC).
    tol : float
        Convergence tolerance on the max relative excess supply and the complementarity
        residuals.
    max_iter : int
        Newton iteration limit.
    warm_lu : bool
        Continue from the workspace's last LU factors: the first Newton step is a chord step
        with the Jacobian factored in the previous call (the period loop, where the last
        period's solution is both the warm start and the point of that Jacobian), taken
        only where the market's structure is unchanged (:func:`_prepare` kept it) and
        followed by a fresh Jacobian as soon as a chord step does not reduce the residual
        fast enough. A solution then depends on the workspace's previous call within the
        tolerance, as it does on the warm start ``z``; without it, never.

    Returns
    -------
    status : int
        :data:`STATUS_CONVERGED` or a failure code.
    iterations : int
        Newton iterations taken.
    """
    n, no, nm, nd, uniform = _prepare(X0, T0, w, sigma, eta, eps, T, rst, mip, B, floor,
                                      stock, purchases, A_seg, K_seg, z, ostat, ws)
    status, it = _newton(X0, T0, w, sigma, eta, eps, T, rst, mip, g, B, etab, A_seg, K_seg,
                         floor, stock, purchases, z, ostat, ws, tol, max_iter, n, no, nm, nd,
                         uniform, warm_lu)
    if status == STATUS_CONVERGED or status == STATUS_NONFINITE:
        return status, it
    # a Newton run that stalls (degenerate or nearly singular systems: overlapping
    # restrictions on the same flows, dead zones behind a minimum import price) is continued
    # from its last iterate by Levenberg-Marquardt on the same residual
    st2, it2 = _levenberg_marquardt(X0, T0, w, sigma, eta, eps, T, rst, mip, g, B, etab, A_seg,
                                    K_seg, floor, stock, purchases, z, ostat, ws, tol, max_iter,
                                    n, no, nm, nd, uniform)
    return (STATUS_CONVERGED if st2 == STATUS_CONVERGED else status), it + it2


@njit(**LEAF)
def _newton(X0, T0, w, sigma, eta, eps, T, rst, mip, g, B, etab, A_seg, K_seg, floor, stock,
            purchases, z, ostat, ws, tol, max_iter, n, no, nm, nd, uniform, warm_lu=False):
    """Semismooth Newton iterations with backtracking (after :func:`_prepare`); ``warm_lu``
    as in :func:`solve_market`."""
    wm, wv, im, iv, fk, wj = ws
    F = wv[_V_F]
    dz = wv[_V_DZ]
    zt = wv[_V_ZT]
    Ft = wv[_V_FT]
    rhs = wv[_V_TMP]
    Jac = wj[_J_JAC]
    piv = iv[_I_PIV]
    ol = iv[_I_OL]
    N = z.shape[0]
    R = X0.shape[0]
    for q in range(N):
        zt[q] = z[q]
    f, mrel, mfb = _evaluate(X0, T0, w, sigma, eta, eps, T, rst, mip, g, B, etab, A_seg, K_seg,
                             floor, stock, purchases, z, ostat, ws, F, no, nd, uniform)
    if not math.isfinite(f):
        return STATUS_NONFINITE, 0
    it = 0
    chord = False
    flipped = False
    NC = rst[3].shape[0]
    # active-set steps (min-function rows) while they are accepted at full length
    amin = nm > no
    jmin = False
    meta = iv[_I_META]
    if warm_lu and meta[_META_LU] == (_LU_MIN if amin else _LU_FB):
        chord = True
        jmin = amin
    while True:
        if mrel < tol and mfb < tol:
            return STATUS_CONVERGED, it
        if it >= max_iter:
            return STATUS_MAX_ITER, it
        if not chord:
            jmin = amin
            meta[_META_LU] = _LU_NONE
            _jacobian(rst, z, ostat, ws, n, no, nm, nd, jmin)
            if not _lu_factor(Jac, piv, n):
                if not jmin:
                    return STATUS_SINGULAR, it
                amin = False
                continue
            meta[_META_LU] = _LU_MIN if jmin else _LU_FB
        for q in range(n):
            rhs[q] = -F[q]
        if jmin:
            _min_rhs(z, ws, rhs, R, NC)
        _lu_solve(Jac, piv, rhs, dz, n)
        # step limit on log prices, log wedges and shares
        tmax = 1.0
        for q in range(n):
            a = abs(dz[q])
            if a * tmax > MAX_LOG_STEP:
                tmax = MAX_LOG_STEP / a
        t = tmax
        accepted = False
        for _ls in range(MAX_BACKTRACK):
            for q in range(n):
                zi = ol[q]
                zt[zi] = z[zi] + t * dz[q]
            ft, mrel_t, mfb_t = _evaluate(X0, T0, w, sigma, eta, eps, T, rst, mip, g, B, etab,
                                          A_seg, K_seg, floor, stock, purchases, zt, ostat,
                                          ws, Ft, no, nd, uniform)
            if ft <= (1.0 - 2.0 * ARMIJO_C * t) * f:
                accepted = True
                break
            if chord or (jmin and t < MIN_BACKTRACK_T):
                break
            t *= BACKTRACK_FACTOR
        it += 1
        if not accepted:
            if jmin and not chord:
                # the active-set guess did not give a descent step: FB Newton from here on
                amin = False
                _evaluate(X0, T0, w, sigma, eta, eps, T, rst, mip, g, B, etab, A_seg, K_seg,
                          floor, stock, purchases, z, ostat, ws, F, no, nd, uniform)
                continue
            if chord:
                # the stale Jacobian did not give a descent step: recompute it (the work
                # arrays are refreshed at z by this evaluation)
                _evaluate(X0, T0, w, sigma, eta, eps, T, rst, mip, g, B, etab, A_seg, K_seg,
                          floor, stock, purchases, z, ostat, ws, F, no, nd, uniform)
                chord = False
                continue
            if not flipped:
                # stalled next to a kink (a minimum import price, a capacity limit, a floor
                # or the backstop about to switch): take the Jacobian of the other side of
                # every kink within KINK_FLIP of z once
                _evaluate(X0, T0, w, sigma, eta, eps, T, rst, mip, g, B, etab, A_seg, K_seg,
                          floor, stock, purchases, z, ostat, ws, F, no, nd, uniform, KINK_FLIP)
                flipped = True
                continue
            return STATUS_LINE_SEARCH, it
        flipped = False
        chord = t == 1.0 and ft <= CHORD_RATIO * CHORD_RATIO * f
        for q in range(N):
            z[q] = zt[q]
        for q in range(n):
            F[q] = Ft[q]
        f = ft
        mrel = mrel_t
        mfb = mfb_t


@njit(**LEAF)
def _levenberg_marquardt(X0, T0, w, sigma, eta, eps, T, rst, mip, g, B, etab, A_seg, K_seg,
                         floor, stock, purchases, z, ostat, ws, tol, max_iter, n, no, nm, nd,
                         uniform):
    """Levenberg-Marquardt on the same residual from ``z``: steps
    ``(J'J + lam diag(J'J)) dz = -J'F``, accepted when the merit falls (lam / 3), else
    lam x 4, at most ``min(max_iter, LM_MAX_ITER)`` steps. Robust where the Newton matrix is
    (nearly) singular. Returns (status, iterations).
    """
    wm, wv, im, iv, fk, wj = ws
    iv[_I_META, _META_LU] = _LU_NONE    # the Jacobian block is used unfactored here
    F = wv[_V_F]
    dz = wv[_V_DZ]
    zt = wv[_V_ZT]
    Ft = wv[_V_FT]
    gr = wv[_V_TMP]
    Jac = wj[_J_JAC]
    JTJ = wj[_J_H]
    A = wj[_J_LM]
    piv = iv[_I_PIV]
    ol = iv[_I_OL]
    N = z.shape[0]
    f, mrel, mfb = _evaluate(X0, T0, w, sigma, eta, eps, T, rst, mip, g, B, etab, A_seg, K_seg,
                             floor, stock, purchases, z, ostat, ws, F, no, nd, uniform)
    if not math.isfinite(f):
        return STATUS_NONFINITE, 0
    lam = -1.0
    it = 0
    limit = min(max_iter, LM_MAX_ITER)
    while it < limit:
        if mrel < tol and mfb < tol:
            return STATUS_CONVERGED, it
        _jacobian(rst, z, ostat, ws, n, no, nm, nd)
        dmax = 0.0
        for a in range(n):
            sg = 0.0
            for r in range(n):
                sg += Jac[r, a] * F[r]
            gr[a] = -sg
            for b in range(a, n):
                v = 0.0
                for r in range(n):
                    v += Jac[r, a] * Jac[r, b]
                JTJ[a, b] = v
                JTJ[b, a] = v
            if JTJ[a, a] > dmax:
                dmax = JTJ[a, a]
        if lam < 0.0:
            lam = LM_LAMBDA0
        accepted = False
        for _try in range(60):
            for a in range(n):
                for b in range(n):
                    A[a, b] = JTJ[a, b]
                A[a, a] += lam * (JTJ[a, a] + 1e-12 * dmax + 1e-300)
            if _lu_factor(A, piv, n):
                _lu_solve(A, piv, gr, dz, n)
                for q in range(N):
                    zt[q] = z[q]
                for q in range(n):
                    zt[ol[q]] = z[ol[q]] + dz[q]
                ft, mrel_t, mfb_t = _evaluate(X0, T0, w, sigma, eta, eps, T, rst, mip, g, B,
                                              etab, A_seg, K_seg, floor, stock, purchases,
                                              zt, ostat, ws, Ft, no, nd, uniform)
                if ft < f:
                    accepted = True
                    break
            lam *= LM_UP
        it += 1
        if not accepted:
            return STATUS_LINE_SEARCH, it
        lam = max(lam / LM_DOWN, 1e-15)
        for q in range(N):
            z[q] = zt[q]
        for q in range(n):
            F[q] = Ft[q]
        f = ft
        mrel = mrel_t
        mfb = mfb_t
    if mrel < tol and mfb < tol:
        return STATUS_CONVERGED, it
    return STATUS_MAX_ITER, it


@njit(**LEAF)
def export_prices(pd, X, T0, T, fob):
    """Export (FOB) price index of each origin (no allocation): the quantity-weighted mean over
    its exports of the border price before tariffs, ``p (1 + e) prod(1 + lam)`` (the minimum
    import price where it binds), recovered from the delivered price index ``pd`` (relative to
    the baseline delivered price ``P0 T0``) and the tariff factors ``T`` as ``pd T0 / T``;
    NaN for an origin without exports.

    Returns ``(quantity, value)`` summed over every export flow of the market (t/yr, index x
    t/yr): their ratio is the market's quantity-weighted export price index.
    """
    R = X.shape[0]
    q_all = 0.0
    v_all = 0.0
    for i in range(R):
        q = 0.0
        v = 0.0
        for j in range(R):
            if j != i and X[i, j] > 0.0:
                q += X[i, j]
                v += X[i, j] * pd[i, j] * T0[i, j] / T[i, j]
        fob[i] = v / q if q > 0.0 else np.nan
        q_all += q
        v_all += v
    return q_all, v_all


@njit(**LEAF)
def market_outcomes(X0, T0, w, sigma, eta, eps, T, rst, mip, g, B, etab, A_seg, K_seg, floor,
                    stock, purchases, z, ostat, ws,
                    p_out, pd_out, levy_out, P_out, D_out, Dsr_out, X_out, Sseg_out, lam_out,
                    xt_out, fresh=False):
    """Fill the outcome arrays of a solved market at ``z`` (no allocation).

    Call after :func:`solve_market` with the same inputs and ``z`` (``ostat`` and the
    workspace are recomputed unless ``fresh``).

    Parameters
    ----------
    p_out : ndarray (R,)
        Origin price index (1 inactive, 0 no market, NaN no supply).
    pd_out : ndarray (R, R)
        Delivered price index ``pd`` (relative to the baseline delivered price P0*T0);
        0 where there is no open flow.
    levy_out : ndarray (R, R)
        Minimum import price levy rate ``v`` (0 where it does not bind).
    P_out : ndarray (R,)
        Composite (consumer) price index; 1 without demand, inf if every variety is removed.
    D_out : ndarray (R,)
        Composite demand index (with the backstop); 1 without demand, 0 if cut off.
    Dsr_out : ndarray (R,)
        Composite demand on the period's short-run curve without the backstop, ``g P^-eta``
        (the partial-adjustment state; ``Dsr - D`` is the backstop substitution).
    X_out : ndarray (R, R)
        Flows, t/yr.
    Sseg_out : ndarray (R, 2)
        Production per supply segment, t/yr (0 for origins not solved).
    lam_out : ndarray (NC,)
        Restriction wedges ``lam >= 0`` (inf for bans without a route, the route cost where
        a ban is fully transshipped, 0 for idle restrictions; a slack row's value, which
        converges to within tol of 0 from either side, is reported as 0).
    xt_out : ndarray (NC,)
        Quantity transshipped through third countries, t/yr.
    fresh : bool
        True when ``ws`` still holds the evaluation at ``z`` of a :func:`solve_market` call that
        returned :data:`STATUS_CONVERGED` with the same inputs.

    Returns
    -------
    max_rel_excess : float
        Max relative excess supply at ``z`` (the convergence measure).
    """
    wm, wv, im, iv, fk, wj = ws
    rk_orig, rk_dest, rk_on, cap, tcost, tcap = rst
    R = X0.shape[0]
    NC = cap.shape[0]
    if not fresh:
        n, no, nm, nd, uniform = _prepare(X0, T0, w, sigma, eta, eps, T, rst, mip, B, floor,
                                        stock, purchases, A_seg, K_seg, z, ostat, ws)
        _evaluate(X0, T0, w, sigma, eta, eps, T, rst, mip, g, B, etab, A_seg, K_seg, floor,
                  stock, purchases, z, ostat, ws, wv[_V_F], no, nd, uniform)
    TT = wm[_M_TT]
    XL = wm[_M_X]
    mb = wm[_M_MB]
    LW = wm[_M_LW]
    X0mD = wm[_M_X0MD]
    opn = im[_IM_OPEN]
    dv = im[_IM_DV]
    spf = im[_IM_SPF]
    spec = im[_IM_SPEC]
    cj = im[_IM_CJ]
    cc = im[_IM_CC]
    p = wv[_V_P]
    pm = wv[_V_PM]
    dpsv = wv[_V_DPS]
    logP = wv[_V_LOGP]
    Dm = wv[_V_DM]
    lB = wv[_V_LB]
    dstat = iv[_I_DSTAT]
    cstat = iv[_I_CSTAT]
    dn = iv[_I_DN]
    nspec = iv[_I_NSPEC]
    ct = iv[_I_CT]
    dl = iv[_I_DL]
    nd = iv[_I_META, _META_ND]
    uniform = iv[_I_META, _META_UNIFORM] == 1
    if uniform:
        # one Armington elasticity: the evaluation kept the flows without wedges or minimum
        # import prices as [origin, destination] products, X = X0 TT^-s p^-s (D P^s) in the
        # order of its products; closed flows 0
        for i in range(R):
            p_out[i] = p[i]
            a = pm[i]
            for j in range(R):
                levy_out[i, j] = 0.0
                if opn[i, j] == 1:
                    X_out[i, j] = X0mD[i, j] * a * dpsv[j]
                    pd_out[i, j] = p[i] * TT[i, j]
                else:
                    X_out[i, j] = 0.0
                    pd_out[i, j] = 0.0
    else:
        for i in range(R):
            p_out[i] = p[i]
            for j in range(R):
                pd_out[i, j] = 0.0
                X_out[i, j] = 0.0
                levy_out[i, j] = 0.0
    # the flows evaluated one by one (with one elasticity only those with wedges or minimum
    # import prices; otherwise every open flow)
    for u in range(nd):
        j = dl[u]
        nl = nspec[j] if uniform else dn[j]
        for q in range(nl):
            c = spec[j, q] if uniform else q
            i = dv[j, c]
            X_out[i, j] = XL[j, c]
            if spf[j, c] == 0:
                # no wedge (LW = 0) and no minimum import price
                pd_out[i, j] = p[i] * TT[i, j]
                continue
            lf = math.exp(LW[j, c])
            if mb[j, c] == 0.0:
                pd_out[i, j] = mip[i, j] / T0[i, j]
                levy_out[i, j] = mip[i, j] / (p[i] * T[i, j] * lf) - 1.0
            else:
                pd_out[i, j] = p[i] * TT[i, j] * lf
    for j in range(R):
        if dstat[j] == 0:
            P_out[j] = 1.0
            D_out[j] = 1.0
            Dsr_out[j] = 1.0
        elif logP[j] == np.inf:
            P_out[j] = np.inf
            D_out[j] = 0.0
            Dsr_out[j] = 0.0
        else:
            lP = logP[j]
            P_out[j] = math.exp(lP)
            Dsr_out[j] = g[j] * math.exp(-eta[j] * lP)
            if lP > lB[j]:
                D_out[j] = g[j] * math.exp(-eta[j] * lB[j] - etab[j] * (lP - lB[j]))
            else:
                D_out[j] = Dsr_out[j]
    mrel = 0.0
    for i in range(R):
        if ostat[i] != ORIGIN_SOLVED:
            Sseg_out[i, 0] = 0.0
            Sseg_out[i, 1] = 0.0
            continue
        pe = math.exp(eps[i] * z[i])
        Sseg_out[i, 0] = min(A_seg[i, 0] * pe, K_seg[i, 0])
        if A_seg[i, 1] > 0.0:
            if floor[i] > 0.0:
                a1 = A_seg[i, 1] * math.exp(eps[i] * math.log(p[i] + floor[i]))
            else:
                a1 = A_seg[i, 1] * pe
            Sseg_out[i, 1] = min(a1, K_seg[i, 1])
        else:
            Sseg_out[i, 1] = 0.0
        a = abs((Sseg_out[i, 0] + Sseg_out[i, 1] - Dm[i]) / Dm[i])
        if not a <= mrel:
            mrel = a
    for k in range(NC):
        st = cstat[k]
        e = 0.0
        for q in range(ct[k]):
            e += XL[cj[k, q], cc[k, q]]
        xt_out[k] = 0.0
        if has_row(st):
            # a slack row converges to |m| < tol, possibly just below 0: report 0
            lam_out[k] = math.expm1(z[R + k]) if z[R + k] > 0.0 else 0.0
            q0 = cap[k] if cap[k] > 0.0 else 0.0
            if st == CAP_ROUTE or st == CAP_BOX:
                sv = max(z[R + NC + k], 0.0)
                xt_out[k] = min(sv * wv[_V_LSC, k], e)
            elif wv[_V_TCE, k] < np.inf and tcost[k] <= 0.0:
                # a free bounded route: what exceeds the direct cap goes round it
                xt_out[k] = max(0.0, e - q0)
        elif st == CAP_FIXED:
            lam_out[k] = tcost[k]
            xt_out[k] = e
        elif st == CAP_BAN:
            lam_out[k] = np.inf
        else:
            lam_out[k] = 0.0
            if rk_on[k] == 1 and tcost[k] <= 0.0 and cap[k] < e:
                # a free unlimited route: the excess over the direct cap goes round it
                xt_out[k] = e - max(cap[k], 0.0)
    return mrel
