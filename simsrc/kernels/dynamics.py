"""The period loop over Monte Carlo draws (numba, prange over draws): docs/model.md sec. 4-5.

For each draw (in parallel) and each period (in order) the kernel composes the period's policy
arrays from the compiled layers (:mod:`simsrc.policies`), solves the market clearing with
:func:`simsrc.kernels.equilibrium.solve_market` warm-started from the previous period, records
the outputs of docs/model.md sec. 5 and updates the state: capacity (depreciation, lead-time
investment driven by expected producer prices, projects), adaptive price expectations, demand
growth and stockpiles.

Everything random arrives as arrays drawn outside (demand shocks ``Z``, layer activity paths,
per-draw parameter values), so a draw's result depends only on its own inputs: chunking,
thread count or executor cannot change a number.

State equations (per origin ``i`` and supply segment ``q``; segment 1 is the part covered by a
producer price floor, a share ``phi`` of the region's capacity; ``dt`` = period in years):

- producer surplus is measured on the period's own supply curve against the baseline curve at
  the baseline price, minus the cost of investment beyond baseline replacement
  (``capex (I - delta K0)``) and of projects when they arrive, so an outage shows its loss and
  new capacity is not free;
- capacity ``K[t+1] = K[t] + dt * (I[t - L] - delta * K[t]) + projects``; outages scale the
  capacity available in a period (``K_eff = K * outage_mult``) without destroying it;
- investment ``I[t] = K[t] * min(delta + kappa * (pe[t] - 1), imax)+`` with ``pe`` the expected producer
  price of the segment: adaptive ``pe[t+1] = pe[t] + w (p[t] - pe[t])`` and, on a covered
  segment while its floor is in force, at least the floor while the floor has more than a
  payback period to run, fading linearly to the market expectation over its last years;
  before the horizon investment is
  the replacement level ``delta * K0``; the ceiling ``imax`` (an addition to the specification, docs/model.md sec. 8) keeps
  capacity growth within what build-outs achieve when expected prices spike;
- the supply shifter scales with capacity, ``A = u0 * K`` (so supply at the baseline price is
  ``u0 * K``); an origin without a capacity limit (u0 blank) keeps a virtual capacity
  ``K = Q0`` for this scaling and ``inf`` as its limit;
- demand trend ``g[t+1] = g[t] * exp((mu - s^2/2) dt + s sqrt(dt) Z[t])``, ``g[0] = 1``, and
  partial adjustment: the period's problem has the short-run elasticity ``a eta`` with the
  per-period speed ``a = 1 - (1 - adj)^dt`` and the shifter ``H = Dstar[t-1]^(1-a) g[t]^a``,
  ``Dstar`` being the previous period's demand on its short-run curve (without the backstop,
  whose substitution is immediate and reversible); ``Dstar[-1] = 1``;
- stockpiles release at up to their rate (and at most :data:`STOCK_RELEASE_MAX` of the last
  period's consumption) while the previous period's consumer price index is
  above the trigger and stock remains, and refill at up to their rate while it is below the
  refill threshold and below capacity (lagged prices avoid a fixed point inside the period).
  Released tonnes are sold in the holder's own market at its consumer price and replace what
  its consumers buy from origins; refills are demand of the holder's market, bought from origins
  at delivered prices and under every restriction (docs/model.md sec. 3). The government's
  stock account (sales, purchases, the change in the stock's value at the consumer price)
  enters welfare.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from . import LEAF
from .equilibrium import (ORIGIN_SOLVED, STATUS_CONVERGED, export_prices, make_workspace, market_outcomes,
                          solve_market)
from .welfare import market_welfare, ps_segment, welfare_reference

# output rows of the ``out`` array: the registry's order (simsrc.outputs.PER_PERIOD), then
# watched shares. Plain ints at import, which numba compiles as constants. numba's on-disk
# cache is keyed on this file only: after reordering simsrc/outputs.py, touch this file or
# clear simsrc/kernels/__pycache__ so the kernels are compiled against the new rows.
from ..outputs import ROW as _ROW  # noqa: E402  (simsrc.outputs imports only dataclasses)
from ..outputs import WELFARE as _WELFARE  # noqa: E402

O_ORIGIN_PRICE = _ROW["origin_price"]
O_CONSUMER_PRICE = _ROW["consumer_price"]
O_PRODUCTION = _ROW["production"]
O_CONSUMPTION = _ROW["consumption"]
O_IMPORTS = _ROW["imports"]
O_EXPORTS = _ROW["exports"]
O_CAPACITY = _ROW["capacity"]
O_NIR = _ROW["net_import_reliance"]
O_TARIFF_REV = _ROW["tariff_revenue"]
O_LEVY_REV = _ROW["levy_revenue"]
O_QUOTA_RENT = _ROW["quota_rent"]
O_FISCAL = _ROW["floor_fiscal_cost"]
O_STOCKPILE = _ROW["stockpile"]
O_CS = _ROW["cs_change"]
O_PS = _ROW["ps_change"]
O_FOB_PRICE = _ROW["fob_price"]
O_ETAX_REV = _ROW["export_tax_revenue"]
O_TSHIP_COST = _ROW["transship_cost"]
O_INTER_RENT = _ROW["intermediary_rent"]
O_BACKSTOP_SUB = _ROW["backstop_substitution"]
O_STK_SALES = _ROW["stockpile_sales"]
O_STK_PURCH = _ROW["stockpile_purchases"]
O_STK_VALUE = _ROW["stockpile_value_change"]
O_EQUITY = _ROW["equity_income"]
O_WELFARE_FLAG = _ROW["welfare_flag"]
O_CONVERGED = _ROW["converged"]
N_BASE_OUTPUTS = len(_ROW)
#: Rows and signs of the terms of a region's net welfare (the registry's welfare roles).
WELFARE_ROWS = tuple(_ROW[k] for k in _WELFARE)
WELFARE_SIGNS = tuple(float(v) for v in _WELFARE.values())

#: Largest stock release per period, as a share of the holder's consumption in the period
#: before (releases replace purchases from origins; they cannot exceed what consumers buy).
STOCK_RELEASE_MAX = 0.9

#: Tariff layer modes.
TARIFF_ADD = 0
TARIFF_SET = 1


@njit(**LEAF)
def compose_trade_policies(s, t, X0, tariff0, tar_mask, tar_mode, tar_rate, tar_act,
                           cap_origin, cap_dest, cap_share, cap_cost, cap_tshare, cap_act,
                           etx_origin, etx_dest, etx_rate, etx_act,
                           mip_members, mip_level, mip_und, mip_act,
                           rate, Tf, etax, rk_on, cap, tcost, tcap, mip, und):
    """Compose draw ``s``'s tariffs, export taxes, export restrictions and minimum import
    prices of period ``t``.

    Shared by the period loop and the static solve (``simsrc solve``), so both read the
    layers the same way. Layer arrays as in :func:`simulate`. Fills (no allocation):

    - ``rate``, ``Tf`` (R, R): ad valorem tariff rates and tariff factors in force, from the
      baseline tariff factors ``tariff0`` (without the dataset's baseline export taxes and
      quota wedges, which are layers of their own); tariff layers are applied in order, ``add`` on top of the rate in force, ``set`` replacing it;
    - ``etax`` (R, R): export tax rates in force (active layers add up);
    - ``rk_on``, ``cap``, ``tcost``, ``tcap`` (NC,): each restriction layer is one restriction
      of the solver (overlapping ones compound): in force or not, direct cap = share x
      baseline flows to its destinations, route cost (``inf`` = no route) and route capacity
      = capacity share x the same flows (``inf`` = unlimited), t/yr;
    - ``mip`` (R, R), ``und`` (R, R): the highest minimum import price of the clubs an
      importer belongs to on non-members' flows (index of P0), and whether it is collected as
      an undertaking (rent to the exporter).
    """
    R = X0.shape[0]
    NL = tar_mode.shape[0]
    NC = cap_origin.shape[0]
    NE = etx_origin.shape[0]
    NM = mip_level.shape[0]
    # --- tariffs
    for i in range(R):
        for j in range(R):
            rate[i, j] = tariff0[i, j] - 1.0
            etax[i, j] = 0.0
    for l in range(NL):
        if tar_act[s, t, l] == 1:
            rl = tar_rate[s, l]
            for i in range(R):
                for j in range(R):
                    if tar_mask[l, i, j] > 0.0:
                        if tar_mode[l] == TARIFF_ADD:
                            rate[i, j] += rl
                        else:
                            rate[i, j] = rl
    for i in range(R):
        for j in range(R):
            Tf[i, j] = 1.0 + rate[i, j]
    # --- export taxes
    for e in range(NE):
        if etx_act[s, t, e] == 1:
            i = etx_origin[e]
            for j in range(R):
                if etx_dest[e, j] == 1 and j != i:
                    etax[i, j] += etx_rate[s, e]
    # --- export restrictions: one solver restriction per layer
    for c in range(NC):
        i = cap_origin[c]
        tot = 0.0
        for j in range(R):
            if cap_dest[c, j] == 1 and j != i:
                tot += X0[i, j]
        rk_on[c] = cap_act[s, t, c]
        cap[c] = cap_share[s, c] * tot
        tcost[c] = cap_cost[s, c]
        tcap[c] = cap_tshare[s, c] * tot if cap_tshare[s, c] < np.inf else np.inf
    # --- minimum import prices
    for i in range(R):
        for j in range(R):
            mip[i, j] = 0.0
            und[i, j] = 0
    for m in range(NM):
        if mip_act[s, t, m] == 1:
            for j in range(R):
                if mip_members[m, j] == 1:
                    for i in range(R):
                        if mip_members[m, i] == 0 and i != j and mip_level[m] > mip[i, j]:
                            mip[i, j] = mip_level[m]
                            und[i, j] = mip_und[m]


@njit(**LEAF)
def _activity_changed(s, t, tar_act, cap_act, etx_act, mip_act):
    """True if any trade-policy layer of draw ``s`` is in force in period ``t`` but not in
    ``t - 1`` or the reverse (:func:`compose_trade_policies` reads nothing else that varies
    over a draw's periods)."""
    for a in (tar_act, cap_act, etx_act, mip_act):
        for l in range(a.shape[2]):
            if a[s, t, l] != a[s, t - 1, l]:
                return True
    return False


@njit(**LEAF)
def period_inputs(s, t, dt, u0, unlimited, C0, capex, prj_region, prj_cap, prj_period, prj_cov,
                  flo_level, flo_act, flo_ref, fob, fob_mkt, outage_mult,
                  stk_act, stk_trig, stk_rel, stk_refill, stk_below, stk_cap,
                  off_region, off_qty, off_act, Kst, stock, Pprev, cprev,
                  invc, floor, fup, K_seg, A_seg, K_lim, dstock, rel_r, buy_r, purchases):
    """The period step's inputs other than trade policies: capacity projects arriving, floors
    against their benchmark, capacity in force and supply shifters, stockpile releases and
    refills, offtake. Shared by the period loop and the static solve (``simsrc solve``), so
    both compose a period the same way.

    Updates the state ``Kst`` (capacity by segment, t/yr: projects) and ``stock`` (t), reading
    ``fob``/``fob_mkt`` (last period's export price indices, the floors' benchmarks),
    ``Pprev`` (last consumer price indices) and ``cprev`` (last consumption, t/yr). Fills
    ``invc`` (projects' capital cost, USD/yr), ``floor`` and ``fup`` (floor payment and upside
    per covered tonne, index), ``K_seg``, ``A_seg``, ``K_lim`` (capacity in force, supply
    shifters, capacity limits), ``dstock``, ``rel_r``, ``buy_r`` (net stock flow, releases
    and refills per region, t/yr) and ``purchases`` (offtake per origin, t/yr). Layer arrays as
    in :func:`simulate`.
    """
    R = u0.shape[0]
    NP = prj_region.shape[0]
    NO = off_region.shape[0]
    for r in range(R):
        invc[r] = 0.0
    # --- capacity projects coming on stream this period (their capital cost is paid
    # once, in the period they arrive, as a rate over the period)
    for q in range(NP):
        if prj_period[s, q] == t:
            r = prj_region[q]
            c = prj_cov[s, q]
            Kst[r, 0] += prj_cap[q] * (1.0 - c)
            Kst[r, 1] += prj_cap[q] * c
            invc[r] += capex[s, r] * prj_cap[q] / dt
    # --- floors, capacity in force, supply shifters
    for i in range(R):
        floor[i] = 0.0
        fup[i] = 0.0
        if flo_act[s, t, i] == 1:
            ref = fob_mkt if flo_ref[i] < 0 else fob[flo_ref[i]]
            floor[i] = max(flo_level[i] - ref, 0.0)
            fup[i] = max(ref - flo_level[i], 0.0)
        om = outage_mult[s, t, i]
        for q in range(2):
            K_seg[i, q] = Kst[i, q] * om
            A_seg[i, q] = u0[i] * K_seg[i, q]
            K_lim[i, q] = np.inf if unlimited[i] == 1 else K_seg[i, q]
    # --- stockpiles (lagged price rule): releases are sold in the holder's market,
    # refills are demand of the holder's market (docs/model.md sec. 3); offtake
    for i in range(R):
        dstock[i] = 0.0
        rel_r[i] = 0.0
        buy_r[i] = 0.0
        purchases[i] = 0.0
    for r in range(R):
        if stk_act[s, t, r] == 1 and C0[r] > 0.0:
            rel = 0.0
            buy = 0.0
            if Pprev[r] > stk_trig[r] and stock[r] > 0.0:
                # at most a share of what the market consumed last period
                rel = min(stk_rel[r], stock[r] / dt, STOCK_RELEASE_MAX * cprev[r])
            elif stk_refill[r] > 0.0 and Pprev[r] < stk_below[r] and stock[r] < stk_cap[r]:
                buy = min(stk_refill[r], (stk_cap[r] - stock[r]) / dt)
            stock[r] += dt * (buy - rel)
            dstock[r] = rel - buy
            rel_r[r] = rel
            buy_r[r] = buy
    for o in range(NO):
        if off_act[s, t, o] == 1:
            purchases[off_region[o]] += off_qty[o]


@njit(**LEAF)
def _draw_periods(T, QO, R, s, dt, u0, unlimited, C0, capex, prj_region, prj_cap, prj_period,
                  prj_cov, flo_level, flo_act, flo_ref, fob, outage_mult, stk_act, stk_trig,
                  stk_rel, stk_refill, stk_below, stk_cap, off_region, off_qty, off_act, Kst,
                  stock, Pprev, cprev, invc, floor, fup, K_seg, A_seg, K_lim, dstock, rel_r, buy_r,
                  purchases, X0, T0, w, sig_d, eta_s, eps_d, Teff, rst, mip, g, B_d, etab_d, z,
                  ostat, ws, tol, max_iter, iters, p, pd, levy, P, D, Dsr, X, Sseg, lam, xt, NO,
                  Tf, etax, alpha, V0c, ps0, P_ref, und, off_q, off_v, cum, trev, lrev, qrent,
                  erev, tsc, irent, fisc, cs, ps, fobt, NB, tar_act, cap_act, etx_act, mip_act,
                  tariff0, tar_mask, tar_mode, tar_rate, cap_origin, cap_dest, cap_share, cap_cost,
                  cap_tshare, etx_origin, etx_dest, etx_rate, mip_members, mip_level, mip_und,
                  rate, rk_on, cap, tcost, tcap, ob, P0_usd, P0, vstock, NW, lead, pe, gtr, Dstar,
                  pipe, ew, out, flows, NC, off_price, Q0, uv0, delta, imax, eq_act, eq_share, a_p,
                  watched, kappa, K0v, eps, Z, flo_end, payback, mu, vol):
    """The period loop of draw ``s`` (docs/model.md sec. 4-5) and its mean flows.

    Called once per draw by :func:`simulate` with every array that draw needs, allocated
    there; compiled without reference counting (:data:`simsrc.kernels.LEAF`), so the
    loop's calls take no reference to the kernel's arguments: inside a parallel loop,
    numba took and dropped one on each array argument of each call, about 200 atomic
    updates per period on counters shared by the threads (10% of a single thread's time).
    """
    n_conv = 0
    fob_mkt = 1.0               # the market's quantity-weighted export price index
    for t in range(T):
        # trade policies depend on the period only through their layers' activity (rates
        # and shares are per draw): composed again only when an activity flag changed
        if t == 0 or _activity_changed(s, t, tar_act, cap_act, etx_act, mip_act):
            compose_trade_policies(s, t, X0, tariff0, tar_mask, tar_mode, tar_rate, tar_act,
                                   cap_origin, cap_dest, cap_share, cap_cost, cap_tshare,
                                   cap_act, etx_origin, etx_dest, etx_rate, etx_act,
                                   mip_members, mip_level, mip_und, mip_act,
                                   rate, Tf, etax, rk_on, cap, tcost, tcap, mip, und)
            for i in range(R):
                for j in range(R):
                    Teff[i, j] = Tf[i, j] * (1.0 + etax[i, j])
        # partial adjustment: H = Dstar[t-1]^(1-a) gtr^a
        for j in range(R):
            g[j] = math.exp((1.0 - a_p[j]) * math.log(Dstar[j]) + a_p[j] * math.log(gtr[j]))
        period_inputs(s, t, dt, u0, unlimited, C0, capex, prj_region, prj_cap, prj_period, prj_cov,
                      flo_level, flo_act, flo_ref, fob, fob_mkt, outage_mult,
                      stk_act, stk_trig, stk_rel, stk_refill, stk_below, stk_cap,
                      off_region, off_qty, off_act, Kst, stock, Pprev, cprev,
                      invc, floor, fup, K_seg, A_seg, K_lim, dstock, rel_r, buy_r, purchases)
        # --- solve (warm start: z from the previous period)
        # (and the last period's LU factors for a first chord step)
        status, it = solve_market(X0, T0, w, sig_d, eta_s, eps_d, Teff, rst, mip, g,
                                  B_d, etab_d, A_seg, K_lim, floor, dstock, purchases,
                                  z, ostat, ws, tol, max_iter, True)
        if status != STATUS_CONVERGED:
            # one retry from the baseline before flagging the solve as failed
            for q in range(R + 3 * NC):
                z[q] = 0.0
            status, it2 = solve_market(X0, T0, w, sig_d, eta_s, eps_d, Teff, rst, mip, g,
                                       B_d, etab_d, A_seg, K_lim, floor, dstock,
                                       purchases, z, ostat, ws, tol, max_iter)
            it += it2
        iters[s, t] = it
        market_outcomes(X0, T0, w, sig_d, eta_s, eps_d, Teff, rst, mip, g, B_d, etab_d,
                        A_seg, K_lim, floor, dstock, purchases, z, ostat, ws,
                        p, pd, levy, P, D, Dsr, X, Sseg, lam, xt, status == STATUS_CONVERGED)
        for r in range(R):
            off_q[r] = 0.0
            off_v[r] = 0.0
        for o in range(NO):
            if off_act[s, t, o] == 1 and off_price[o] > 0.0:
                off_q[off_region[o]] += off_qty[o]
                off_v[off_region[o]] += off_price[o] * off_qty[o]
        market_welfare(X0, T0, eta_s, B_d, etab_d, Tf, etax, rst, g, A_seg, K_lim, floor,
                       fup, alpha, V0c, ps0, eps_d, p, pd, levy, P, X, Sseg, lam, xt, P_ref,
                       und, off_q, off_v, cum, trev, lrev, qrent, erev, tsc, irent, fisc,
                       cs, ps)
        # --- outputs
        conv = 1.0 if status == STATUS_CONVERGED else 0.0
        if status == STATUS_CONVERGED:
            n_conv += 1
            for i in range(R):
                for j in range(R):
                    flows[s, i, j] += X[i, j]
        fq_all, fv_all = export_prices(pd, X, T0, Tf, fobt)
        for r in range(R):
            cons = dstock[r]            # consumers' use: purchases plus stock released
            exp_ = 0.0
            for i in range(R):
                cons += X[i, r]
                if i != r:
                    exp_ += X[r, i]
            prod = Sseg[r, 0] + Sseg[r, 1]
            ob[O_ORIGIN_PRICE, t, r] = p[r] * P0 if Q0[r] > 0.0 else np.nan
            ob[O_CONSUMER_PRICE, t, r] = P[r] * uv0[r] if C0[r] > 0.0 else np.nan
            ob[O_PRODUCTION, t, r] = prod
            ob[O_CONSUMPTION, t, r] = cons
            ob[O_IMPORTS, t, r] = cons - dstock[r] - X[r, r]
            ob[O_EXPORTS, t, r] = exp_
            ob[O_CAPACITY, t, r] = np.nan if unlimited[r] == 1 else K_seg[r, 0] + K_seg[r, 1]
            if cons > 0.0:
                ob[O_NIR, t, r] = max(0.0, (cons - prod) / cons)
            else:
                ob[O_NIR, t, r] = np.nan
            ob[O_TARIFF_REV, t, r] = trev[r] * P0_usd
            ob[O_LEVY_REV, t, r] = lrev[r] * P0_usd
            ob[O_QUOTA_RENT, t, r] = qrent[r] * P0_usd
            ob[O_FISCAL, t, r] = fisc[r] * P0_usd
            ob[O_STOCKPILE, t, r] = stock[r]
            ob[O_CS, t, r] = cs[r] * P0_usd
            ob[O_PS, t, r] = ps[r] * P0_usd
            ob[O_FOB_PRICE, t, r] = fobt[r] * P0
            if fobt[r] == fobt[r] and status == STATUS_CONVERGED:
                fob[r] = fobt[r]
            ob[O_ETAX_REV, t, r] = erev[r] * P0_usd
            ob[O_TSHIP_COST, t, r] = tsc[r] * P0_usd
            ob[O_INTER_RENT, t, r] = irent[r] * P0_usd
            ob[O_BACKSTOP_SUB, t, r] = (Dsr[r] - D[r]) * C0[r] if C0[r] > 0.0 else 0.0
            # the government's stock account at the holder's consumer price, USD/yr
            pu = P[r] * uv0[r] * P0_usd / P0 if C0[r] > 0.0 else 0.0
            ob[O_STK_SALES, t, r] = rel_r[r] * pu
            ob[O_STK_PURCH, t, r] = buy_r[r] * pu
            vnew = stock[r] * pu
            ob[O_STK_VALUE, t, r] = (vnew - vstock[r]) / dt
            vstock[r] = vnew
            cprev[r] = cons
            ob[O_CONVERGED, t, r] = conv
            for wi in range(NW):
                sh = 0.0
                for i in range(R):
                    if watched[wi, i] == 1:
                        sh += X[i, r]
                ob[N_BASE_OUTPUTS + wi, t, r] = sh / cons if cons > 0.0 else np.nan
        # --- state updates for the next period
        if fq_all > 0.0 and status == STATUS_CONVERGED:
            fob_mkt = fv_all / fq_all
        for r in range(R):
            Pprev[r] = P[r]
            if C0[r] > 0.0 and Dsr[r] > 0.0 and status == STATUS_CONVERGED:
                Dstar[r] = Dsr[r]
        slot = t % NB
        for i in range(R):
            pi = p[i] if ostat[i] == ORIGIN_SOLVED else 1.0
            for q in range(2):
                pexp = pe[i]
                if q == 1 and flo_act[s, t, i] == 1 and pexp < flo_level[i]:
                    # covered capacity expects the floor while it has more than a payback
                    # period to run, fading to the market expectation as it ends
                    left = (flo_end[i] - t) * dt
                    wgt = min(1.0, max(left, 0.0) / payback[s, i]) if payback[s, i] > 0.0 else 1.0
                    pexp = pe[i] + wgt * (flo_level[i] - pe[i])
                rate_i = delta[s, i] + kappa[s, i] * (pexp - 1.0)
                if rate_i > imax[s, i]:
                    rate_i = imax[s, i]
                pipe[slot, i, q] = Kst[i, q] * rate_i if rate_i > 0.0 else 0.0
            # investment beyond the baseline replacement is charged to producer surplus
            invc[i] += capex[s, i] * (pipe[slot, i, 0] + pipe[slot, i, 1] - delta[s, i] * K0v[i])
            ob[O_PS, t, i] -= invc[i]
            # a government's equity stake in the covered producer: its share of that
            # producer's surplus (floor receipts included) net of its investment cost
            ob[O_EQUITY, t, i] = 0.0
            if eq_act[s, t, i] == 1 and eq_share[s, i] > 0.0 and A_seg[i, 1] > 0.0 and p[i] > 0.0:
                ps_cov = ps_segment(A_seg[i, 1], K_lim[i, 1], eps[s, i], p[i] + floor[i]) \
                    - alpha[i] * fup[i] * Sseg[i, 1]
                eq = eq_share[s, i] * (ps_cov * P0_usd - capex[s, i] * pipe[slot, i, 1])
                ob[O_EQUITY, t, i] = eq
                ob[O_PS, t, i] -= eq
            # welfare flag: |net welfare change| (investment cost included; the equity
            # transfer cancels) above the value of baseline consumption per year
            nw = 0.0
            for q in range(len(WELFARE_ROWS)):
                nw += WELFARE_SIGNS[q] * ob[WELFARE_ROWS[q], t, i]
            v0c = V0c[i] * P0_usd
            ob[O_WELFARE_FLAG, t, i] = 1.0 if (v0c > 0.0 and abs(nw) > v0c) else 0.0
            L = lead[s, i]
            src = (t - L) % NB
            for q in range(2):
                Kst[i, q] += dt * (pipe[src, i, q] - delta[s, i] * Kst[i, q])
                if Kst[i, q] < 0.0:
                    Kst[i, q] = 0.0
            pe[i] += ew[s, i] * (pi - pe[i])
        for j in range(R):
            gtr[j] *= math.exp((mu[s, j] - 0.5 * vol[s, j] * vol[s, j]) * dt
                               + vol[s, j] * math.sqrt(dt) * Z[s, t, j])
    for q in range(QO):
        for t in range(T):
            for r in range(R):
                out[q, s, t, r] = ob[q, t, r]
    if n_conv > 0:
        for i in range(R):
            for j in range(R):
                flows[s, i, j] /= n_conv


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def simulate(X0, T0, tariff0, w, u0, K0v, unlimited, uv0, P0, P0_usd,
             sigma, eta, eps, adj, B, etab, mu, vol, delta, kappa, imax, lead, ew, Z, dt,
             tar_mask, tar_mode, tar_rate, tar_act,
             cap_origin, cap_dest, cap_share, cap_cost, cap_tshare, cap_act,
             etx_origin, etx_dest, etx_rate, etx_act,
             flo_level, flo_phi, flo_alpha, flo_act, flo_ref, flo_end, payback,
             mip_members, mip_level, mip_und, mip_act,
             stk_init, stk_cap, stk_rel, stk_trig, stk_refill, stk_below, stk_act,
             off_region, off_qty, off_price, off_act,
             prj_region, prj_cap, prj_period, prj_cov,
             outage_mult, capex, eq_share, eq_act, watched, tol, max_iter, out, iters, flows):
    """Simulate one mineral market for a chunk of draws.

    Parameters
    ----------
    X0, T0, w : ndarray (R, R)
        Calibration: baseline flows (t/yr), baseline border factors (tariffs and the dataset's
        baseline export taxes and quota wedges), value shares.
    tariff0 : ndarray (R, R)
        Baseline tariff factors alone (the base of tariff layers).
    u0 : ndarray (R,)
        Baseline utilisation used to scale supply with capacity (1 where unlimited).
    K0v : ndarray (R,)
        Baseline capacity, t/yr (``Q0`` where there is no capacity limit: virtual capacity).
    unlimited : ndarray (R,) uint8
        1 where the origin has no capacity limit.
    uv0 : ndarray (R,)
        Baseline consumer price per destination in the dataset's price unit.
    P0 : float
        Baseline world price in the dataset's price unit (origin price = index x P0).
    P0_usd : float
        Baseline world price, USD/t (values in USD/yr = index x t/yr x P0_usd).
    sigma, eta, eps, adj, B, etab, mu, vol, delta, kappa, imax, ew : ndarray (S, R)
        Per-draw parameters: Armington and long-run demand elasticities (per destination,
        eta > 0), supply elasticity (per origin), partial-adjustment speed per year, backstop
        price index and the demand elasticity above it (positive) per destination,
        annual demand drift and volatility (per destination),
        annual depreciation, investment response, investment ceiling (share of capacity per
        year) and per-period expectation weight (per origin).
    lead : ndarray (S, R) int64
        Lead time in periods.
    Z : ndarray (S, T, R)
        Standard normal demand shocks.
    dt : float
        Period length in years.
    tar_mask (NL, R, R), tar_mode (NL,), tar_rate (S, NL), tar_act (S, T, NL)
        Tariff layers, applied in order: mode add (rate added to the rate in force) or set.
    cap_origin (NC,), cap_dest (NC, R), cap_share (S, NC), cap_cost (S, NC), cap_tshare (S, NC), cap_act (S, T, NC)
        Export-restriction layers: direct cap as a share of baseline flows to the
        destinations, transshipment route cost (``inf`` = no route) and capacity as a share
        of the same flows (``inf`` = unlimited); overlapping layers compound.
    etx_origin (NE,), etx_dest (NE, R), etx_rate (S, NE), etx_act (S, T, NE)
        Export-tax layers (active rates on a flow add up).
    flo_level (R,), flo_phi (S, R), flo_alpha (S, R), flo_act (S, T, R)
        Producer floors: level (price index), covered share of capacity, upside share, activity.
    flo_ref (R,) int64, flo_end (R,) int64, payback (S, R)
        Each floor's benchmark (-1: the market's quantity-weighted export price; ``j``: origin
        ``j``'s export price), settled on the previous period's value (the baseline price in
        the first period); the last period of the floor (beyond the horizon if it outlasts it);
        the payback period of covered capacity, years (the floor's pull on covered investment
        fades linearly over the floor's last ``payback`` years).
    mip_members (NM, R), mip_level (NM,), mip_und (NM,), mip_act (S, T, NM)
        Minimum import prices: members, level (index of P0), 1 if an undertaking (rent to the
        exporter), activity. Overlapping clubs: the highest level applies.
    stk_init, stk_cap, stk_rel, stk_trig, stk_refill, stk_below (R,), stk_act (S, T, R)
        Stockpiles per region: initial stock (t), capacity (t), release rate (t/yr), trigger
        (consumer price index), refill rate (t/yr), refill threshold (index), activity.
    off_region (NO,), off_qty (NO,), off_price (NO,), off_act (S, T, NO)
        Offtake purchases of a region's own output, t/yr; purchase price index (0 = market
        price: no fiscal cost beyond the floor); activity.
    prj_region (NP,), prj_cap (NP,), prj_period (S, NP), prj_cov (S, NP)
        Capacity projects: region, capacity (t/yr), first producing period (-1 = never),
        covered share.
    eq_share (S, R), eq_act (S, T, R)
        Government equity stakes: share of each region's floor-covered producer, activity.
    capex : ndarray (S, R)
        Capital cost of capacity, USD per (t/yr); 0 where the dataset has none. Gross investment
        beyond the baseline replacement ``delta K0`` and capacity projects (when they arrive) are
        charged to producer surplus.
    outage_mult : ndarray (S, T, R)
        Share of capacity available (1 = no outage).
    watched : ndarray (NW, R) uint8
        Origin masks whose share of each region's consumption is reported.
    tol : float
        Convergence tolerance; max_iter: Newton iteration limit.
    out : ndarray (N_BASE_OUTPUTS + NW, S, T, R) float32
        Outputs (see the O_* row indices; units in simsrc.results.OUTPUTS).
    iters : ndarray (S, T) int32
        Newton iterations per solve.
    flows : ndarray (S, R, R) float64
        Out: each draw's bilateral flows (t/yr) averaged over its converged periods (zero if
        none converged).
    """
    S, T, R = Z.shape
    QO = out.shape[0]
    NC = cap_origin.shape[0]
    NO = off_region.shape[0]
    NW = watched.shape[0]
    C0 = np.zeros(R)
    Q0 = np.zeros(R)
    for j in range(R):
        for i in range(R):
            C0[j] += X0[i, j]
            Q0[i] += X0[i, j]
    Lmax = 0
    for s in range(S):
        for i in range(R):
            if lead[s, i] > Lmax:
                Lmax = lead[s, i]
    NB = Lmax + 1
    for s in prange(S):
        ws = make_workspace(R, NC)
        z = np.zeros(R + 3 * NC)
        ostat = np.zeros(R, dtype=np.int64)
        Tf = np.empty((R, R))
        Teff = np.empty((R, R))
        rate = np.empty((R, R))
        etax = np.zeros((R, R))
        rk_on = np.zeros(NC, dtype=np.uint8)
        cap = np.zeros(NC)
        tcost = np.zeros(NC)
        tcap = np.zeros(NC)
        rst = (cap_origin, cap_dest, rk_on, cap, tcost, tcap)
        # this draw's parameter rows, viewed once (every view is reference-counted; kernels.LEAF)
        sig_d = sigma[s]
        eps_d = eps[s]
        B_d = B[s]
        etab_d = etab[s]
        cum = np.ones((R, R))
        ob = np.empty((QO, T, R), dtype=np.float32)  # this draw's outputs, copied out at its end
        # the reference supply curve of producer surplus: the baseline capacity, no floor
        A_ref = np.zeros((R, 2))
        K_ref = np.zeros((R, 2))
        for i in range(R):
            A_ref[i, 0] = u0[i] * K0v[i]
            K_ref[i, 0] = np.inf if unlimited[i] == 1 else K0v[i]
        V0c = np.zeros(R)           # value of baseline consumption at delivered prices, index x t/yr
        ps0 = np.zeros(R)           # producer surplus of the reference curve at price 1
        welfare_reference(X0, T0, A_ref, K_ref, eps_d, V0c, ps0)
        invc = np.zeros(R)          # investment cost of the period, USD/yr
        eta_s = np.zeros(R)
        a_p = np.zeros(R)
        Dsr = np.ones(R)
        Dstar = np.ones(R)          # partial-adjustment state (short-run demand, index)
        gtr = np.ones(R)            # demand trend (growth and shocks)
        mip = np.zeros((R, R))
        und = np.zeros((R, R), dtype=np.uint8)
        g = np.ones(R)
        A_seg = np.zeros((R, 2))
        K_seg = np.zeros((R, 2))
        K_lim = np.zeros((R, 2))
        floor = np.zeros(R)         # floor payment per covered tonne, (F - p_ref)+, index
        fup = np.zeros(R)           # upside per covered tonne, (p_ref - F)+, index
        fob = np.ones(R)            # each origin's export (FOB) price index, last period
        fobt = np.zeros(R)          # this period's (NaN without exports)
        dstock = np.zeros(R)        # net stock flow into each region's market, t/yr
        rel_r = np.zeros(R)
        buy_r = np.zeros(R)
        vstock = np.zeros(R)        # value of each stock at the last consumer price, USD
        cprev = np.zeros(R)         # last period's consumption, t/yr
        purchases = np.zeros(R)
        alpha = np.zeros(R)
        P_ref = np.ones(R)
        # outcome buffers
        p = np.zeros(R)
        pd = np.zeros((R, R))
        levy = np.zeros((R, R))
        P = np.zeros(R)
        D = np.zeros(R)
        X = np.zeros((R, R))
        Sseg = np.zeros((R, 2))
        lam = np.zeros(NC)
        xt = np.zeros(NC)
        erev = np.zeros(R)
        tsc = np.zeros(R)
        irent = np.zeros(R)
        trev = np.zeros(R)
        lrev = np.zeros(R)
        qrent = np.zeros(R)
        fisc = np.zeros(R)
        cs = np.zeros(R)
        ps = np.zeros(R)
        off_q = np.zeros(R)
        off_v = np.zeros(R)
        # state
        Kst = np.zeros((R, 2))      # capacity by segment, t/yr (virtual where unlimited)
        pe = np.ones(R)             # expected origin price index
        pipe = np.zeros((NB, R, 2))  # investment pipeline (ring buffer), t/yr per year
        stock = np.zeros(R)
        Pprev = np.ones(R)
        for i in range(R):
            for j in range(R):
                flows[s, i, j] = 0.0
        for i in range(R):
            phi = flo_phi[s, i]
            Kst[i, 0] = K0v[i] * (1.0 - phi)
            Kst[i, 1] = K0v[i] * phi
            for b in range(NB):
                pipe[b, i, 0] = delta[s, i] * Kst[i, 0]
                pipe[b, i, 1] = delta[s, i] * Kst[i, 1]
            stock[i] = stk_init[i]
            alpha[i] = flo_alpha[s, i]
            vstock[i] = stk_init[i] * uv0[i] * P0_usd / P0
            cprev[i] = C0[i]
        for j in range(R):
            a_p[j] = 1.0 - math.exp(dt * math.log(1.0 - adj[s, j])) if adj[s, j] < 1.0 else 1.0
            eta_s[j] = a_p[j] * eta[s, j]
        _draw_periods(T, QO, R, s, dt, u0, unlimited, C0, capex, prj_region, prj_cap, prj_period,
                      prj_cov, flo_level, flo_act, flo_ref, fob, outage_mult, stk_act, stk_trig,
                      stk_rel, stk_refill, stk_below, stk_cap, off_region, off_qty, off_act, Kst,
                      stock, Pprev, cprev, invc, floor, fup, K_seg, A_seg, K_lim, dstock, rel_r,
                      buy_r, purchases, X0, T0, w, sig_d, eta_s, eps_d, Teff, rst, mip, g, B_d,
                      etab_d, z, ostat, ws, tol, max_iter, iters, p, pd, levy, P, D, Dsr, X, Sseg,
                      lam, xt, NO, Tf, etax, alpha, V0c, ps0, P_ref, und, off_q, off_v, cum, trev,
                      lrev, qrent, erev, tsc, irent, fisc, cs, ps, fobt, NB, tar_act, cap_act,
                      etx_act, mip_act, tariff0, tar_mask, tar_mode, tar_rate, cap_origin,
                      cap_dest, cap_share, cap_cost, cap_tshare, etx_origin, etx_dest, etx_rate,
                      mip_members, mip_level, mip_und, rate, rk_on, cap, tcost, tcap, ob, P0_usd,
                      P0, vstock, NW, lead, pe, gtr, Dstar, pipe, ew, out, flows, NC, off_price,
                      Q0, uv0, delta, imax, eq_act, eq_share, a_p, watched, kappa, K0v, eps, Z,
                      flo_end, payback, mu, vol)
