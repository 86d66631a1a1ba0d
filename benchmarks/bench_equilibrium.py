"""Benchmark: market-clearing solves per second, numba kernel vs scipy.optimize.root.

For every market of a built-in dataset (default usgs2024) and for a dense synthetic
12-region market, draws random problems: elasticities uniform within the dataset's
[low, high] ranges (one draw per problem), a random ad valorem tariff (0-50%) on each flow
with probability 0.3, demand shifters lognormal(0, 0.1), and with probability 0.5 an export
cap on the largest producer's exports to up to 4 destinations at 0.3-1.2 times their baseline
flows (binding or slack). Each problem is solved

- by :func:`simsrc.kernels.equilibrium.solve_market`, cold start (baseline), single thread,
  in an njit loop, after JIT warm-up;
- by ``scipy.optimize.root(method="hybr")`` on the same residual (log excess supply and the
  Fischer-Burmeister cap rows in ``mu = log(1 + lam)``) written in NumPy, from the same start.

It prints both rates, their ratio, the convergence counts and the largest relative
difference in origin prices between the two solutions. Run: ``python benchmarks/bench_equilibrium.py``
(``--quick`` for fewer problems). Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from numba import njit  # noqa: E402
from scipy import optimize  # noqa: E402

from simsrc.calibrate import calibrate  # noqa: E402
from simsrc.data import MineralData, load_dataset  # noqa: E402
from simsrc.equilibrium import MarketInputs, _kernel_args  # noqa: E402
from simsrc.kernels import equilibrium as keq  # noqa: E402

#: Probability that a flow gets a random tariff in a benchmark problem.
TARIFF_PROB = 0.3
#: Upper end of the random ad valorem tariff.
TARIFF_MAX = 0.5
#: Probability that a problem has an export cap.
CAP_PROB = 0.5
#: Range of the cap as a share of the capped baseline flows.
CAP_SHARE = (0.3, 1.2)
#: Maximum number of destinations under the cap.
CAP_DESTS = 4
#: Timed repetitions of the kernel loop (the best is reported).
KERNEL_REPEATS = 3
#: Standard deviation of log demand shifters.
G_SD = 0.1


def make_problems(cal, mineral, n, rng):
    """Random problems of one market as stacked arrays (one row per problem)."""
    R = cal.n_regions
    el = mineral.elasticities
    lo_hi = lambda name: (min(el[name][1], el[name][2]), max(el[name][1], el[name][2]))  # noqa: E731
    eps = np.repeat(rng.uniform(*lo_hi("supply_elasticity"), size=(n, 1)), R, axis=1)
    eta = -np.repeat(rng.uniform(*lo_hi("demand_elasticity"), size=(n, 1)), R, axis=1)
    sigma = np.repeat(rng.uniform(*lo_hi("armington"), size=(n, 1)), R, axis=1)
    T = np.repeat(cal.T0[None], n, axis=0)
    hit = (rng.random((n, R, R)) < TARIFF_PROB) & (cal.X0[None] > 0)
    T = np.where(hit, T + rng.uniform(0, TARIFF_MAX, size=(n, R, R)), T)
    g = np.exp(rng.normal(0.0, G_SD, size=(n, R)))
    # one cap slot: largest producer to up to CAP_DESTS of its export destinations
    o = int(np.argmax(cal.Q0))
    dests = [j for j in range(R) if j != o and cal.X0[o, j] > 0]
    capk = np.full((R, R), -1, dtype=np.int64)
    if dests:
        for j in dests[:CAP_DESTS]:
            capk[o, j] = 0
    base = cal.X0[o][capk[o] == 0].sum()
    has_cap = rng.random(n) < CAP_PROB
    cap = np.where(has_cap, rng.uniform(*CAP_SHARE, size=n) * base, 1e30)[:, None]
    return dict(eps=eps, eta=eta, sigma=sigma, T=T, g=g, capk=capk, cap=cap)


@njit
def _kernel_loop(X0, T0, w, sigma, eta, eps, T, capk, cap, mip, g, A_seg, K_seg, floor,
                 release, purchases, z_out, status_out, iters_out, ws, ostat, tol, max_iter):
    n = T.shape[0]
    for s in range(n):
        z = z_out[s]
        for q in range(z.shape[0]):
            z[q] = 0.0
        st, it = keq.solve_market(X0, T0, w, sigma[s], eta[s], eps[s], T[s], capk, cap[s],
                                  mip, g[s], A_seg, K_seg, floor, release, purchases, z,
                                  ostat, ws, tol, max_iter)
        status_out[s] = st
        iters_out[s] = it


def run_kernel(cal, base_args, pr):
    n, R = pr["T"].shape[0], cal.n_regions
    a = base_args
    z = np.zeros((n, R + 1))
    st = np.zeros(n, dtype=np.int64)
    it = np.zeros(n, dtype=np.int64)
    ws = keq.make_workspace(R, 1)
    ostat = np.zeros(R, dtype=np.int64)
    args = (a[0], a[1], a[2], pr["sigma"], pr["eta"], pr["eps"], pr["T"], pr["capk"], pr["cap"],
            a[9], pr["g"], a[11], a[12], a[13], a[14], a[15])
    m = min(n, 20)
    warm = tuple(x[:m] if x is not None and getattr(x, "ndim", 0) >= 1 and x.shape[0] == n else x for x in args)
    _kernel_loop(*warm, z[:m], st[:m], it[:m], ws, ostat, keq.DEFAULT_TOL, keq.DEFAULT_MAX_ITER)
    cpu, wall = [], []
    for _ in range(KERNEL_REPEATS):
        t0, w0 = time.thread_time(), time.perf_counter()
        _kernel_loop(*args, z, st, it, ws, ostat, keq.DEFAULT_TOL, keq.DEFAULT_MAX_ITER)
        cpu.append(time.thread_time() - t0)
        wall.append(time.perf_counter() - w0)
    return z, st, it, min(cpu), min(wall)


def numpy_residual_factory(cal, inp_args, s, pr):
    """The kernel's residual in NumPy for problem s (benchmark problems: no bans, MIP,
    floors or release; every producing origin is solved)."""
    X0, T0, w = cal.X0, cal.T0, cal.w
    sig, eta, eps = pr["sigma"][s], pr["eta"][s], pr["eps"][s]
    T, g, capk, cap = pr["T"][s], pr["g"][s], pr["capk"], pr["cap"][s]
    A, K = inp_args[11][:, 0], inp_args[12][:, 0]
    act = np.flatnonzero(cal.Q0 > 0)
    dem = cal.C0 > 0
    opn = (X0 > 0) & dem[None, :]
    capped = capk >= 0
    no = len(act)
    R = cal.n_regions

    def residual(x):
        y = np.zeros(R)
        y[act] = x[:no]
        mu = x[no]
        p = np.exp(y)
        lf = np.where(capped, np.exp(mu), 1.0)
        pd = p[:, None] * T / T0 * lf
        e = np.where(opn, w * pd ** (1.0 - sig[None, :]), 0.0)
        tot = e.sum(axis=0)
        P = np.where(dem, np.where(dem, tot, 1.0) ** (1.0 / (1.0 - sig)), 1.0)
        D = g * P ** (-eta)
        X = np.where(opn, X0 * D[None, :] * (pd / P[None, :]) ** (-sig[None, :]), 0.0)
        S = np.minimum(A * p ** eps, K)
        r = np.log(S[act]) - np.log(X.sum(axis=1)[act])
        b = np.log(cap[0]) - np.log(X[capped].sum())
        fb = mu + b - np.sqrt(mu * mu + b * b)
        return np.append(r, fb)

    return residual, act


def run_scipy(cal, inp_args, pr, idx):
    prices, ok = [], []
    t, w = time.thread_time(), time.perf_counter()
    for s in idx:
        fun, act = numpy_residual_factory(cal, inp_args, s, pr)
        sol = optimize.root(fun, np.zeros(len(act) + 1), method="hybr", options={"xtol": 1e-13})
        res = np.abs(fun(sol.x))
        ok.append(bool(sol.success) and np.all(np.abs(np.expm1(res[:-1])) < 1e-8))
        y = np.zeros(cal.n_regions)
        y[act] = sol.x[:len(act)]
        prices.append(np.exp(y))
    return np.array(prices), np.array(ok), time.thread_time() - t, time.perf_counter() - w


def dense_market(R=12, seed=7) -> MineralData:
    """A dense synthetic R-region market: every region produces and consumes."""
    rng = np.random.default_rng(seed)
    X = rng.lognormal(3.0, 1.5, size=(R, R)) * (rng.random((R, R)) < 0.8)
    X[np.diag_indices(R)] += rng.lognormal(4.0, 1.0, size=R)
    tariffs = rng.uniform(0, 0.1, size=(R, R))
    np.fill_diagonal(tariffs, 0.0)
    util = rng.uniform(0.7, 1.0, size=R)
    return MineralData(code=f"dense{R}", name=f"dense synthetic {R}-region market", stage="test",
                       unit="t", price=1000.0, price_unit="USD/t", price_date="-",
                       regions=tuple(f"R{k}" for k in range(R)), flows=X, tariffs=tariffs,
                       utilisation=util,
                       elasticities={"supply_elasticity": (0.5, 0.1, 1.5),
                                     "demand_elasticity": (-0.3, -0.8, -0.05),
                                     "armington": (4.2, 2.1, 8.4)})


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="usgs2024")
    ap.add_argument("-n", type=int, default=20000, help="kernel problems per market")
    ap.add_argument("--scipy-n", type=int, default=300, help="scipy problems per market")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seed", type=int, default=2024)
    args = ap.parse_args(argv)
    if args.quick:
        args.n, args.scipy_n = 2000, 50
    rng = np.random.default_rng(args.seed)
    ds = load_dataset(args.dataset)
    markets = [(m.code, m) for m in ds.minerals.values()] + [("dense12 (synthetic)", dense_market(12))]
    print(f"simsrc equilibrium benchmark: dataset {args.dataset}, {args.n} kernel and "
          f"{args.scipy_n} scipy problems per market, single thread, cold start (baseline), after JIT warm-up")
    hdr = (f"{'market':<20}{'R':>3}{'n':>3}{'kernel/s':>11}{'it':>6}{'fail':>6}"
           f"{'scipy/s':>9}{'fail':>6}{'ratio':>8}{'max|dp|/p':>11}")
    print(hdr)
    print("-" * len(hdr))
    tot_k = tot_kt = tot_kw = tot_s = tot_st = tot_sw = 0.0
    worst = 0.0
    for name, m in markets:
        cal = calibrate(m)
        inp = MarketInputs.baseline(cal)
        base = _kernel_args(cal, inp)
        pr = make_problems(cal, m, args.n, rng)
        z, st, it, dt_k, wall_k = run_kernel(cal, base, pr)
        idx = np.arange(min(args.scipy_n, args.n))
        p_s, ok_s, dt_s, wall_s = run_scipy(cal, base, pr, idx)
        p_k = np.exp(z[idx, :cal.n_regions])
        both = ok_s & (st[idx] == keq.STATUS_CONVERGED)
        act = cal.Q0 > 0
        diff = np.abs(p_k[both][:, act] / p_s[both][:, act] - 1.0).max() if both.any() else np.nan
        worst = max(worst, diff)
        rk, rs = args.n / dt_k, len(idx) / dt_s
        tot_k += args.n
        tot_kt += dt_k
        tot_kw += wall_k
        tot_s += len(idx)
        tot_st += dt_s
        tot_sw += wall_s
        print(f"{name:<20}{cal.n_regions:>3}{int(act.sum()):>3}{rk:>11,.0f}{it.mean():>6.2f}"
              f"{int((st != 0).sum()):>6}{rs:>9,.0f}{int((~ok_s).sum()):>6}{rk / rs:>8,.0f}"
              f"{diff:>11.1e}")
    print("-" * len(hdr))
    rk, rs = tot_k / tot_kt, tot_s / tot_st
    print(f"{'all markets':<26}{rk:>11,.0f}{'':>12}{rs:>9,.0f}{'':>6}{rk / rs:>8,.0f}{worst:>11.1e}")
    print(f"{'all markets, wall clock':<26}{tot_k / tot_kw:>11,.0f}{'':>12}{tot_s / tot_sw:>9,.0f}"
          f"{'':>6}{(tot_k / tot_kw) / (tot_s / tot_sw):>8,.0f}")
    print("\nkernel/s, scipy/s: solves per second of thread CPU time (robust to other load on the"
          " machine; the last line is wall clock);\nn: producing origins solved; it: mean Newton"
          " iterations (chord steps included);\nfail: not converged (kernel: status != 0; scipy: success False or max"
          " relative excess >= 1e-8);\nmax|dp|/p: largest relative origin-price difference"
          " where both converged.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
