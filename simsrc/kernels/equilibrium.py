"""One market clearing in levels (numba): one mineral, one period, one draw.

This is MODEL.md sec. 2-3, solved by a semismooth Newton method with an analytic Jacobian and a
backtracking line search on the merit function ``0.5 * ||F||^2``. It allocates nothing: the
caller passes a work buffer from :func:`make_workspace`, so the kernel can run inside a
``prange`` loop over draws (one workspace per thread or per draw).

Array interface
---------------
Region order is the dataset's; ``R`` regions, ``NC`` export caps. All prices are indices
relative to the baseline (1 at baseline); quantities are t/yr.

Calibration (fixed per market; see :mod:`simsrc.calibrate`)

=========  =======  =========================================================================
X0         (R, R)   baseline flows origin i -> destination j, t/yr
T0         (R, R)   baseline tariff factors (1 + ad valorem rate)
w          (R, R)   baseline value shares at delivered prices per destination column (theta)
sigma      (R,)     Armington elasticity per destination (> 0, != 1)
eta        (R,)     composite demand elasticity per destination, positive (= -E_m)
eps        (R,)     supply elasticity per origin (> 0)
=========  =======  =========================================================================

Period inputs (may change every period and draw)

=========  =======  =========================================================================
T          (R, R)   tariff factors in force (1 + rate)
capk       (R, R)   int64: export cap id k of flow (i, j), or -1. All flows of cap k share one
                    origin. Each flow belongs to at most one cap.
cap        (NC,)    cap quantity, t/yr: exports of cap k's origin to its destination set are
                    at most ``cap[k]``. ``cap[k] <= 0`` is a ban without leakage: the flows are
                    removed (the variety leaves those destinations) and the wedge is ``inf``.
                    A ban with leakage ``l`` is ``cap[k] = l * sum X0`` over the flows.
mip        (R, R)   minimum import price on flow (i, j) in units of the baseline world price
                    (``F / P0``), 0 = none (members of the club and flows without the policy).
g          (R,)     composite demand shifter per destination (index, > 0; 1 at baseline)
A_seg      (R, 2)   supply shifter per origin and segment, t/yr at producer price index 1
                    (segment 0: not covered by a floor; 1: covered). Scale A with capacity.
K_seg      (R, 2)   capacity per origin and segment, t/yr (``inf`` = no limit)
floor      (R,)     producer price floor index (``F / P0``) on segment 1; 0 = none
release    (R,)     stock released into origin i's supply, t/yr
purchases  (R,)     government purchases of origin i's output (extra demand), t/yr
=========  =======  =========================================================================

State and outputs

=========  =======  =========================================================================
z          (R+NC,)  in: warm start (log origin price indices, then cap wedges ``lam``);
                    out: the solution. Non-finite entries are replaced by 0.
ostat      (R,)     int64 out: origin status (:data:`ORIGIN_SOLVED`, ...)
work       float64  workspace from :func:`make_workspace`
iwork      int64    workspace from :func:`make_workspace`
=========  =======  =========================================================================

Returns ``(status, iterations)``; status :data:`STATUS_CONVERGED` (0) means the max relative
excess supply and the max Fischer-Burmeister residual are below ``tol``.

Equations (MODEL.md sec. 2-3)
-----------------------------
Unknowns: ``y[i] = log p[i]`` for every solved origin, ``lam[k]`` for every active cap.

- delivered price ``pd[i,j] = max(p[i] * T[i,j] * (1 + lam[k(i,j)]), mip[i,j]) / T0[i,j]``.
  This is ``p * T/T0 * (1 + lam) * (1 + v)`` with the minimum-import-price levy
  ``v = max(0, mip / (p * T * (1 + lam)) - 1)``: the cap wedge *enters* the border price the
  levy compares with the reference price, because the quota rent is part of the price the
  exporter charges; so the delivered price of non-member supply is at least ``mip`` (``F``).
- composite price ``P[j]^(1-s) = sum_i w[i,j] pd[i,j]^(1-s) / Wn[j]``, over open flows;
  ``Wn[j] = 1`` when ``s > 1`` (a removed variety is the ``lam -> inf`` limit of a cap).
  When ``s < 1`` that limit is degenerate (the composite becomes unobtainable), so the weights
  of the remaining varieties are renormalised, ``Wn[j] = sum_{open i} w[i,j]``.
- composite demand ``D[j] = g[j] * P[j]^(-eta[j])``, flows
  ``X[i,j] = X0[i,j] * D[j] * (pd[i,j] / P[j])^(-s)``.
- supply ``S[i] = min(A0 p^eps, K0) + min(A1 max(p, F)^eps, K1)``.
- clearing residual (log form, scale free): ``log(S + release) - log(sum_j X + purchases)``.
- cap rows: Fischer-Burmeister ``lam + b - sqrt(lam^2 + b^2)`` with the relative slack
  ``b = log(cap) - log(sum_{j in J_k} X[i_k, j])``; zero iff ``lam >= 0``, ``b >= 0`` and
  ``lam * b = 0``.

Special rows and columns (no NaN, well-posed Newton system):

- an origin with no baseline production is inactive (:data:`ORIGIN_INACTIVE`, p = 1);
- a destination with no baseline consumption has no demand (P = 1);
- an origin with no open flow left and no purchases has no market (:data:`ORIGIN_NO_MARKET`:
  price index 0, nothing sold);
- an origin with no supply at any price and no release (:data:`ORIGIN_NO_SUPPLY`) is removed
  from every destination like a ban; its price is undefined (NaN in the outputs);
- a destination whose varieties are all removed gets P = inf and no consumption.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# --- status codes -----------------------------------------------------------------------
#: Solution found: max relative excess supply and FB residual below tol.
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
#: Origin without supply at any price and without release: removed; price undefined.
ORIGIN_NO_SUPPLY = 3

#: Cap solved by complementarity.
CAP_ACTIVE = 0
#: Cap of zero quantity: a ban without leakage, flows removed, wedge infinite.
CAP_BAN = 1
#: Cap on no open flow (or on an origin not solved): wedge 0.
CAP_IDLE = 2

# --- solver constants ------------------------------------------------------------------
#: Armijo sufficient-decrease constant of the backtracking line search.
ARMIJO_C = 1e-4
#: Step shrink factor of the backtracking line search.
BACKTRACK_FACTOR = 0.5
#: Maximum number of step halvings per Newton iteration (2^-40 ~ 1e-12).
MAX_BACKTRACK = 40
#: Largest change of a log price in one Newton step (a factor e^3 ~ 20); larger steps are
#: scaled down (whole step) to keep exp() far from overflow on the first trial.
MAX_LOG_STEP = 3.0
#: Fraction-to-boundary rule: a step keeps ``1 + lam`` above this fraction of its old value.
WEDGE_BOUNDARY_FRACTION = 0.1
#: Pivot magnitude below which the Newton matrix is treated as singular.
PIVOT_TOL = 1e-300
#: Below this ``sqrt(lam^2 + b^2)`` the FB function is at its kink and the generalised
#: Jacobian element with both partial weights ``1 - 1/sqrt(2)`` is used.
FB_KINK_TOL = 1e-14
#: Generalised derivative weight of the FB function at its kink, ``1 - 1/sqrt(2)``.
FB_KINK_WEIGHT = 1.0 - 1.0 / math.sqrt(2.0)
#: Default convergence tolerance (MODEL.md sec. 2).
DEFAULT_TOL = 1e-10
#: Default iteration limit.
DEFAULT_MAX_ITER = 100

# work buffer layout: number of (R, R) blocks, (R,) blocks, (NC,) blocks
_N_RR = 7      # TT, lTT, pd, mb, shm, X, V0/T0
_N_R = 10      # p, logP, DPs, Dm, S, dS, Wn, Feps, V0, Fres
_N_C = 3       # l1 (1 + lam), E, b


def workspace_sizes(R, NC):
    """Lengths ``(n_work, n_iwork)`` of the float64 and int64 work buffers."""
    N = R + NC
    n_work = _N_RR * R * R + _N_R * R + _N_C * NC + N * N + 4 * N
    n_iwork = R * R + 2 * R + 3 * NC + N
    return n_work, n_iwork


def make_workspace(R, NC):
    """Allocate the work buffers of :func:`solve_market` for R regions and NC caps.

    Returns
    -------
    work : ndarray float64
    iwork : ndarray int64
    """
    n_work, n_iwork = workspace_sizes(R, NC)
    return np.zeros(n_work), np.zeros(n_iwork, dtype=np.int64)


@njit(cache=True)
def _views(work, iwork, R, NC):
    N = R + NC
    RR = R * R
    o = 0
    TT = work[o:o + RR].reshape((R, R)); o += RR
    lTT = work[o:o + RR].reshape((R, R)); o += RR
    pd = work[o:o + RR].reshape((R, R)); o += RR
    mb = work[o:o + RR].reshape((R, R)); o += RR
    shm = work[o:o + RR].reshape((R, R)); o += RR
    X = work[o:o + RR].reshape((R, R)); o += RR
    VT = work[o:o + RR].reshape((R, R)); o += RR
    vecR = work[o:o + _N_R * R].reshape((_N_R, R)); o += _N_R * R
    vecC = work[o:o + _N_C * NC].reshape((_N_C, NC)); o += _N_C * NC
    Jac = work[o:o + N * N].reshape((N, N)); o += N * N
    F = work[o:o + N]; o += N
    dz = work[o:o + N]; o += N
    zt = work[o:o + N]; o += N
    Ft = work[o:o + N]; o += N
    oi = 0
    opn = iwork[oi:oi + RR].reshape((R, R)); oi += RR
    col_o = iwork[oi:oi + R]; oi += R
    dstat = iwork[oi:oi + R]; oi += R
    col_c = iwork[oi:oi + NC]; oi += NC
    cstat = iwork[oi:oi + NC]; oi += NC
    corig = iwork[oi:oi + NC]; oi += NC
    piv = iwork[oi:oi + N]; oi += N
    return (TT, lTT, pd, mb, shm, X, VT, vecR, vecC, Jac, F, dz, zt, Ft,
            opn, col_o, dstat, col_c, cstat, corig, piv)


@njit(cache=True, error_model="numpy")
def _setup(X0, T0, w, sigma, T, capk, cap, mip, g, A_seg, K_seg, floor, release, purchases,
           eps, z, ostat, TT, lTT, VT, vecR, opn, col_o, dstat, col_c, cstat, corig):
    """Per-call constants, open flows, origin/cap status and the unknowns' numbering.

    Returns the number of unknowns n.
    """
    R = X0.shape[0]
    NC = cap.shape[0]
    Wn = vecR[6]
    Feps = vecR[7]
    V0 = vecR[8]
    # baseline expenditure per destination (index units) and log tariff ratios
    for j in range(R):
        s = 0.0
        for i in range(R):
            s += X0[i, j] * T0[i, j]
        V0[j] = s
    for i in range(R):
        for j in range(R):
            if X0[i, j] > 0.0:
                r = T[i, j] / T0[i, j]
                TT[i, j] = r
                lTT[i, j] = math.log(r)
                VT[i, j] = V0[j] / T0[i, j]
            else:
                TT[i, j] = 1.0
                lTT[i, j] = 0.0
                VT[i, j] = 0.0
    # origin status
    for i in range(R):
        q0 = 0.0
        for j in range(R):
            q0 += X0[i, j]
        if q0 <= 0.0:
            ostat[i] = ORIGIN_INACTIVE
            continue
        smax = 0.0
        for sg in range(A_seg.shape[1]):
            if A_seg[i, sg] > 0.0 and K_seg[i, sg] > 0.0:
                smax += 1.0
        if smax == 0.0 and release[i] <= 0.0:
            ostat[i] = ORIGIN_NO_SUPPLY
        else:
            ostat[i] = ORIGIN_SOLVED
        f = floor[i]
        Feps[i] = math.exp(eps[i] * math.log(f)) if f > 0.0 else 0.0
    # cap status (ban or not) and cap origin
    for k in range(NC):
        corig[k] = -1
        cstat[k] = CAP_BAN if cap[k] <= 0.0 else CAP_IDLE
    for i in range(R):
        for j in range(R):
            k = capk[i, j]
            if k >= 0:
                corig[k] = i
    # destinations: 1 = has demand
    for j in range(R):
        c0 = 0.0
        for i in range(R):
            c0 += X0[i, j]
        dstat[j] = 1 if c0 > 0.0 else 0
    # open flows
    for i in range(R):
        has = False
        for j in range(R):
            o = 0
            if X0[i, j] > 0.0 and ostat[i] == ORIGIN_SOLVED and dstat[j] == 1:
                o = 1
                k = capk[i, j]
                if k >= 0 and cap[k] <= 0.0:
                    o = 0
            opn[i, j] = o
            if o == 1:
                has = True
        if ostat[i] == ORIGIN_SOLVED and not has and purchases[i] <= 0.0:
            ostat[i] = ORIGIN_NO_MARKET
    # caps on at least one open flow of a solved origin are active
    for i in range(R):
        for j in range(R):
            k = capk[i, j]
            if k >= 0 and opn[i, j] == 1 and cstat[k] == CAP_IDLE and ostat[i] == ORIGIN_SOLVED:
                cstat[k] = CAP_ACTIVE
    # renormalisation of Armington weights (only matters for sigma < 1 with removed varieties)
    for j in range(R):
        if sigma[j] > 1.0:
            Wn[j] = 1.0
        else:
            s = 0.0
            for i in range(R):
                if opn[i, j] == 1:
                    s += w[i, j]
            Wn[j] = s
    # numbering of unknowns
    n = 0
    for i in range(R):
        if ostat[i] == ORIGIN_SOLVED:
            col_o[i] = n
            n += 1
            if not math.isfinite(z[i]):
                z[i] = 0.0
        else:
            col_o[i] = -1
            z[i] = 0.0
    for k in range(NC):
        if cstat[k] == CAP_ACTIVE:
            col_c[k] = n
            n += 1
            if not math.isfinite(z[R + k]):
                z[R + k] = 0.0
        else:
            col_c[k] = -1
            z[R + k] = 0.0
    return n


@njit(cache=True, error_model="numpy")
def _evaluate(X0, T0, w, sigma, eta, eps, T, capk, cap, mip, g, A_seg, K_seg, floor,
              release, purchases, zz, ostat, TT, lTT, pd, mb, shm, X, VT, vecR, vecC,
              opn, col_o, dstat, col_c, cstat, corig, Fv):
    """Evaluate every intermediate and the residual vector at the unknowns ``zz``.

    Returns ``(merit, max_rel_excess, max_fb)``; merit is NaN if anything is not finite.
    """
    R = X0.shape[0]
    NC = cap.shape[0]
    p = vecR[0]
    logP = vecR[1]
    DPs = vecR[2]
    Dm = vecR[3]
    S = vecR[4]
    dS = vecR[5]
    Wn = vecR[6]
    Feps = vecR[7]
    l1 = vecC[0]
    E = vecC[1]
    b = vecC[2]
    for i in range(R):
        st = ostat[i]
        if st == ORIGIN_SOLVED:
            p[i] = math.exp(zz[i])
        elif st == ORIGIN_INACTIVE:
            p[i] = 1.0
        elif st == ORIGIN_NO_MARKET:
            p[i] = 0.0
        else:
            p[i] = np.nan
    for k in range(NC):
        if cstat[k] == CAP_ACTIVE:
            l1[k] = 1.0 + zz[R + k]
        else:
            l1[k] = 1.0
    # demand side, destination by destination
    for i in range(R):
        Dm[i] = purchases[i]
    for j in range(R):
        if dstat[j] == 0:
            logP[j] = 0.0
            DPs[j] = 0.0
            continue
        s = sigma[j]
        oms = 1.0 - s
        tot = 0.0
        for i in range(R):
            if opn[i, j] == 0:
                continue
            k = capk[i, j]
            lf = 1.0
            llf = 0.0
            if k >= 0 and cstat[k] == CAP_ACTIVE:
                lf = l1[k]
                llf = math.log(lf)
            m = mip[i, j]
            if m > 0.0 and p[i] * T[i, j] * lf < m:
                v = m / T0[i, j]
                pd[i, j] = v
                mb[i, j] = 0.0
                e = w[i, j] * math.exp(oms * math.log(v))
            else:
                pd[i, j] = p[i] * TT[i, j] * lf
                mb[i, j] = 1.0
                e = w[i, j] * math.exp(oms * (zz[i] + lTT[i, j] + llf))
            shm[i, j] = e
            tot += e
        if tot <= 0.0:
            # every variety removed: the composite is unobtainable
            logP[j] = np.inf
            DPs[j] = 0.0
            for i in range(R):
                if opn[i, j] == 1:
                    X[i, j] = 0.0
                    shm[i, j] = 0.0
            continue
        lP = math.log(tot / Wn[j]) / oms
        logP[j] = lP
        dps = g[j] * math.exp((s - eta[j]) * lP)  # D * P^s
        DPs[j] = dps
        inv = 1.0 / tot
        for i in range(R):
            if opn[i, j] == 0:
                continue
            e = shm[i, j]
            # X = X0 D (pd/P)^-s = (V0/T0) * D P^s * (w pd^(1-s)) / pd
            x = VT[i, j] * dps * e / pd[i, j]
            X[i, j] = x
            Dm[i] += x
            shm[i, j] = e * inv * mb[i, j]
    # supply side and clearing rows
    max_rel = 0.0
    merit = 0.0
    for i in range(R):
        c = col_o[i]
        if c < 0:
            S[i] = 0.0
            dS[i] = 0.0
            continue
        y = zz[i]
        pe = math.exp(eps[i] * y)
        a0 = A_seg[i, 0] * pe
        if a0 < K_seg[i, 0]:
            s_ = a0
            ds = eps[i] * a0
        else:
            s_ = K_seg[i, 0]
            ds = 0.0
        if A_seg[i, 1] > 0.0:
            if floor[i] > 0.0 and p[i] < floor[i]:
                a1 = A_seg[i, 1] * Feps[i]
                d1 = 0.0
            else:
                a1 = A_seg[i, 1] * pe
                d1 = eps[i] * a1
            if a1 < K_seg[i, 1]:
                s_ += a1
                ds += d1
            else:
                s_ += K_seg[i, 1]
        S[i] = s_
        dS[i] = ds
        r = math.log(s_ + release[i]) - math.log(Dm[i])
        Fv[c] = r
        merit += r * r
        a = abs(math.expm1(r))
        if not a <= max_rel:  # also propagates NaN
            max_rel = a
    # cap rows (Fischer-Burmeister)
    max_fb = 0.0
    for k in range(NC):
        c = col_c[k]
        if c < 0:
            E[k] = 0.0
            b[k] = 0.0
            continue
        i = corig[k]
        e = 0.0
        for j in range(R):
            if capk[i, j] == k and opn[i, j] == 1:
                e += X[i, j]
        E[k] = e
        bk = math.log(cap[k]) - math.log(e)
        b[k] = bk
        lam = zz[R + k]
        phi = lam + bk - math.sqrt(lam * lam + bk * bk)
        Fv[c] = phi
        merit += phi * phi
        a = abs(phi)
        if not a <= max_fb:
            max_fb = a
    merit *= 0.5
    if not math.isfinite(merit):
        merit = np.nan
    return merit, max_rel, max_fb


@njit(cache=True, error_model="numpy")
def _jacobian(sigma, eta, capk, release, zz, ostat, mb, shm, X, vecR, vecC, opn, col_o,
              col_c, cstat, corig, Fv, Jac, n):
    """Analytic (generalised) Jacobian of the residual at the last evaluated point."""
    R = X.shape[0]
    NC = col_c.shape[0]
    Dm = vecR[3]
    S = vecR[4]
    dS = vecR[5]
    l1 = vecC[0]
    E = vecC[1]
    b = vecC[2]
    for r in range(n):
        for c in range(n):
            Jac[r, c] = 0.0
    # rows: clearing of origin i (agg = Dm, all destinations) and caps (agg = E_k)
    for row_kind in range(2):
        nrows = R if row_kind == 0 else NC
        for q in range(nrows):
            if row_kind == 0:
                i = q
                rr = col_o[i]
                if rr < 0:
                    continue
                agg = Dm[i]
                kk = -1
            else:
                rr = col_c[q]
                if rr < 0:
                    continue
                i = corig[q]
                agg = E[q]
                kk = q
            inv = 1.0 / agg
            for j in range(R):
                if opn[i, j] == 0:
                    continue
                if kk >= 0 and capk[i, j] != kk:
                    continue
                wgt = X[i, j] * inv
                if wgt == 0.0:
                    continue
                s = sigma[j]
                a = wgt * (s - eta[j])
                # d log P_j through every open variety m in j
                for m in range(R):
                    if opn[m, j] == 0:
                        continue
                    cm = col_o[m]
                    c = a * shm[m, j]
                    Jac[rr, cm] -= c
                    km = capk[m, j]
                    if km >= 0 and cstat[km] == CAP_ACTIVE:
                        Jac[rr, col_c[km]] -= c / l1[km]
                # own delivered price
                own = wgt * s * mb[i, j]
                Jac[rr, col_o[i]] += own
                ki = capk[i, j]
                if ki >= 0 and cstat[ki] == CAP_ACTIVE:
                    Jac[rr, col_c[ki]] += own / l1[ki]
            if row_kind == 0:
                Jac[rr, rr] += dS[i] / (S[i] + release[i])
    # FB chain rule on cap rows: d phi = (1 - lam/r) d lam + (1 - b/r) d b
    for k in range(NC):
        rr = col_c[k]
        if rr < 0:
            continue
        lam = zz[R + k]
        bk = b[k]
        rad = math.sqrt(lam * lam + bk * bk)
        if rad > FB_KINK_TOL:
            wl = 1.0 - lam / rad
            wb = 1.0 - bk / rad
        else:
            wl = FB_KINK_WEIGHT
            wb = FB_KINK_WEIGHT
        for c in range(n):
            Jac[rr, c] *= wb
        Jac[rr, rr] += wl


@njit(cache=True, error_model="numpy")
def _lu_solve(A, rhs, x, piv, n):
    """Solve ``A x = rhs`` (n x n) in place by Gaussian elimination with partial pivoting.

    ``A`` is overwritten. Returns False if a pivot is below :data:`PIVOT_TOL` or not finite.
    """
    for i in range(n):
        x[i] = rhs[i]
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
        if pr != k:
            for c in range(n):
                t = A[k, c]
                A[k, c] = A[pr, c]
                A[pr, c] = t
            t = x[k]
            x[k] = x[pr]
            x[pr] = t
        inv = 1.0 / A[k, k]
        for r in range(k + 1, n):
            f = A[r, k] * inv
            if f != 0.0:
                for c in range(k + 1, n):
                    A[r, c] -= f * A[k, c]
                x[r] -= f * x[k]
    for k in range(n - 1, -1, -1):
        s = x[k]
        for c in range(k + 1, n):
            s -= A[k, c] * x[c]
        x[k] = s / A[k, k]
    return True


@njit(cache=True, error_model="numpy")
def _pack(z, col_o, col_c, R, out):
    for i in range(R):
        if col_o[i] >= 0:
            out[col_o[i]] = z[i]
    for k in range(col_c.shape[0]):
        if col_c[k] >= 0:
            out[col_c[k]] = z[R + k]


@njit(cache=True, error_model="numpy")
def _unpack(v, col_o, col_c, R, z):
    for i in range(R):
        if col_o[i] >= 0:
            z[i] = v[col_o[i]]
    for k in range(col_c.shape[0]):
        if col_c[k] >= 0:
            z[R + k] = v[col_c[k]]


@njit(cache=True, error_model="numpy")
def solve_market(X0, T0, w, sigma, eta, eps, T, capk, cap, mip, g, A_seg, K_seg, floor,
                 release, purchases, z, ostat, work, iwork, tol, max_iter):
    """Solve one market clearing in levels (see the module docstring for the arrays).

    Parameters
    ----------
    X0, T0, w, sigma, eta, eps
        Calibration: baseline flows (t/yr), baseline tariff factors, value shares, Armington
        elasticity per destination, demand elasticity per destination (positive), supply
        elasticity per origin.
    T, capk, cap, mip, g, A_seg, K_seg, floor, release, purchases
        Period inputs: tariff factors, cap id per flow (-1 none), cap quantities (t/yr;
        <= 0 = ban), minimum import prices (index of P0; 0 none), demand shifters (index),
        supply shifters (t/yr at index 1) and capacities (t/yr) per segment, floor price
        indices (0 none), release and purchases (t/yr).
    z : ndarray (R + NC,)
        In: warm start (log price indices, then wedges). Out: the solution.
    ostat : ndarray (R,) int64
        Out: origin status codes.
    work, iwork : ndarray
        Workspace from :func:`make_workspace` (R, NC).
    tol : float
        Convergence tolerance on the max relative excess supply and the FB residual.
    max_iter : int
        Newton iteration limit.

    Returns
    -------
    status : int
        :data:`STATUS_CONVERGED` or a failure code.
    iterations : int
        Newton iterations taken.
    """
    R = X0.shape[0]
    NC = cap.shape[0]
    (TT, lTT, pd, mb, shm, X, VT, vecR, vecC, Jac, F, dz, zt, Ft,
     opn, col_o, dstat, col_c, cstat, corig, piv) = _views(work, iwork, R, NC)
    n = _setup(X0, T0, w, sigma, T, capk, cap, mip, g, A_seg, K_seg, floor, release,
               purchases, eps, z, ostat, TT, lTT, VT, vecR, opn, col_o, dstat, col_c,
               cstat, corig)
    N = R + NC
    for q in range(N):
        zt[q] = z[q]
    f, mrel, mfb = _evaluate(X0, T0, w, sigma, eta, eps, T, capk, cap, mip, g, A_seg, K_seg,
                             floor, release, purchases, z, ostat, TT, lTT, pd, mb, shm, X, VT,
                             vecR, vecC, opn, col_o, dstat, col_c, cstat, corig, F)
    if not math.isfinite(f):
        return STATUS_NONFINITE, 0
    it = 0
    while True:
        if mrel < tol and mfb < tol:
            return STATUS_CONVERGED, it
        if it >= max_iter:
            return STATUS_MAX_ITER, it
        _jacobian(sigma, eta, capk, release, z, ostat, mb, shm, X, vecR, vecC, opn, col_o,
                  col_c, cstat, corig, F, Jac, n)
        for q in range(n):
            Ft[q] = -F[q]
        if not _lu_solve(Jac, Ft, dz, piv, n):
            return STATUS_SINGULAR, it
        # step limits: log-price step and fraction to the wedge boundary
        tmax = 1.0
        for i in range(R):
            c = col_o[i]
            if c >= 0:
                a = abs(dz[c])
                if a * tmax > MAX_LOG_STEP:
                    tmax = MAX_LOG_STEP / a
        for k in range(NC):
            c = col_c[k]
            if c >= 0 and dz[c] < 0.0:
                room = (1.0 - WEDGE_BOUNDARY_FRACTION) * (1.0 + z[R + k])
                if -dz[c] * tmax > room:
                    tmax = room / -dz[c]
        t = tmax
        accepted = False
        for _ls in range(MAX_BACKTRACK):
            for i in range(R):
                c = col_o[i]
                zt[i] = z[i] + t * dz[c] if c >= 0 else z[i]
            for k in range(NC):
                c = col_c[k]
                zt[R + k] = z[R + k] + t * dz[c] if c >= 0 else z[R + k]
            ft, mrel_t, mfb_t = _evaluate(X0, T0, w, sigma, eta, eps, T, capk, cap, mip, g,
                                          A_seg, K_seg, floor, release, purchases, zt, ostat,
                                          TT, lTT, pd, mb, shm, X, VT, vecR, vecC, opn, col_o,
                                          dstat, col_c, cstat, corig, Ft)
            if ft <= (1.0 - 2.0 * ARMIJO_C * t) * f:
                accepted = True
                break
            t *= BACKTRACK_FACTOR
        it += 1
        if not accepted:
            # restore the work arrays at z (outputs are recomputed from z anyway)
            _evaluate(X0, T0, w, sigma, eta, eps, T, capk, cap, mip, g, A_seg, K_seg, floor,
                      release, purchases, z, ostat, TT, lTT, pd, mb, shm, X, VT, vecR, vecC,
                      opn, col_o, dstat, col_c, cstat, corig, F)
            return STATUS_LINE_SEARCH, it
        for q in range(N):
            z[q] = zt[q]
        for q in range(n):
            F[q] = Ft[q]
        f = ft
        mrel = mrel_t
        mfb = mfb_t


@njit(cache=True, error_model="numpy")
def market_outcomes(X0, T0, w, sigma, eta, eps, T, capk, cap, mip, g, A_seg, K_seg, floor,
                    release, purchases, z, ostat, work, iwork,
                    p_out, pd_out, levy_out, P_out, D_out, X_out, Sseg_out, lam_out):
    """Fill the outcome arrays of a solved market (no allocation).

    Call after :func:`solve_market` with the same inputs, ``z``, ``ostat`` and workspace.

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
        Composite demand index ``g P^-eta``; 1 without demand, 0 if cut off.
    X_out : ndarray (R, R)
        Flows, t/yr.
    Sseg_out : ndarray (R, 2)
        Production per supply segment, t/yr (0 for origins not solved).
    lam_out : ndarray (NC,)
        Cap wedges (inf for bans, 0 for idle caps).

    Returns
    -------
    max_rel_excess : float
        Max relative excess supply at ``z`` (the convergence measure).
    """
    R = X0.shape[0]
    NC = cap.shape[0]
    (TT, lTT, pd, mb, shm, X, VT, vecR, vecC, Jac, F, dz, zt, Ft,
     opn, col_o, dstat, col_c, cstat, corig, piv) = _views(work, iwork, R, NC)
    _setup(X0, T0, w, sigma, T, capk, cap, mip, g, A_seg, K_seg, floor, release, purchases,
           eps, z, ostat, TT, lTT, VT, vecR, opn, col_o, dstat, col_c, cstat, corig)
    f, mrel, mfb = _evaluate(X0, T0, w, sigma, eta, eps, T, capk, cap, mip, g, A_seg, K_seg,
                             floor, release, purchases, z, ostat, TT, lTT, pd, mb, shm, X, VT,
                             vecR, vecC, opn, col_o, dstat, col_c, cstat, corig, F)
    p = vecR[0]
    logP = vecR[1]
    Feps = vecR[7]
    for i in range(R):
        p_out[i] = p[i]
        for j in range(R):
            if opn[i, j] == 1:
                pd_out[i, j] = pd[i, j]
                X_out[i, j] = X[i, j]
                if mb[i, j] == 0.0:
                    k = capk[i, j]
                    lf = 1.0
                    if k >= 0 and cstat[k] == CAP_ACTIVE:
                        lf = 1.0 + z[R + k]
                    levy_out[i, j] = mip[i, j] / (p[i] * T[i, j] * lf) - 1.0
                else:
                    levy_out[i, j] = 0.0
            else:
                pd_out[i, j] = 0.0
                X_out[i, j] = 0.0
                levy_out[i, j] = 0.0
    for j in range(R):
        if dstat[j] == 0:
            P_out[j] = 1.0
            D_out[j] = 1.0
        elif logP[j] == np.inf:
            P_out[j] = np.inf
            D_out[j] = 0.0
        else:
            P_out[j] = math.exp(logP[j])
            D_out[j] = g[j] * math.exp(-eta[j] * logP[j])
    for i in range(R):
        if ostat[i] != ORIGIN_SOLVED:
            Sseg_out[i, 0] = 0.0
            Sseg_out[i, 1] = 0.0
            continue
        pe = math.exp(eps[i] * z[i])
        Sseg_out[i, 0] = min(A_seg[i, 0] * pe, K_seg[i, 0])
        if A_seg[i, 1] > 0.0:
            if floor[i] > 0.0 and p[i] < floor[i]:
                a1 = A_seg[i, 1] * Feps[i]
            else:
                a1 = A_seg[i, 1] * pe
            Sseg_out[i, 1] = min(a1, K_seg[i, 1])
        else:
            Sseg_out[i, 1] = 0.0
    for k in range(NC):
        if cstat[k] == CAP_ACTIVE:
            lam_out[k] = z[R + k]
        elif cstat[k] == CAP_BAN:
            lam_out[k] = np.inf
        else:
            lam_out[k] = 0.0
    return mrel
