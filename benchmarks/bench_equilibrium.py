"""Benchmark: market-clearing solves per second, numba kernel vs scipy.optimize.root.

For every market of a built-in dataset (default usgs2024) and for a dense synthetic
12-region market, draws random problems (docs/model.md sec. 2):

- elasticities uniform within the dataset's [low, high] ranges (one draw per problem),
  backstop index and elasticity likewise (where the dataset has them);
- a random ad valorem tariff (0-50%) on each flow with probability 0.3, demand shifters
  lognormal(0, 0.1);
- with probability 0.5 an export restriction on the largest producer's exports to up to 4
  destinations at 0.3-1.2 times their baseline flows (binding or slack), of one of three
  kinds with equal probability: no route, an unlimited transshipment route at a cost of
  5-40%, or a route of 10-80% of the restricted flows at that cost.

Each problem is solved

- by :func:`simsrc.kernels.equilibrium.solve_market` (version 2), cold start (baseline),
  single thread, in an njit loop, after JIT warm-up;
- by ``scipy.optimize.root(method="hybr")`` on the same equations (log excess supply and the
  Fischer-Burmeister restriction rows) written in NumPy, from the same start;
- and, in the same run, the version-1 kernel (the project's commit ``V1_COMMIT``, read from
  git) against the version-2 kernel on version-1 problems (no routes, no backstop, no latent
  links), so old and new rates are measured side by side.

It prints the rates, their ratio, convergence counts and the largest relative difference in
origin prices between kernel and scipy. Run: ``python benchmarks/bench_equilibrium.py``
(``--quick`` for fewer problems). Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from numba import njit  # noqa: E402
from scipy import optimize  # noqa: E402

from simsrc.calibrate import calibrate  # noqa: E402
from simsrc.data import MineralData, load_dataset  # noqa: E402
from simsrc.equilibrium import MarketInputs, _kernel_args  # noqa: E402
from simsrc.kernels import LEAF  # noqa: E402
from simsrc.kernels import equilibrium as keq  # noqa: E402

#: Probability that a flow gets a random tariff in a benchmark problem.
TARIFF_PROB = 0.3
#: Upper end of the random ad valorem tariff.
TARIFF_MAX = 0.5
#: Probability that a problem has an export restriction.
CAP_PROB = 0.5
#: Range of the direct cap as a share of the restricted baseline flows.
CAP_SHARE = (0.3, 1.2)
#: Maximum number of destinations under the restriction.
CAP_DESTS = 4
#: Range of the transshipment route's ad valorem cost.
ROUTE_COST = (0.05, 0.4)
#: Range of a bounded route's capacity as a share of the restricted baseline flows.
ROUTE_SHARE = (0.1, 0.8)
#: Timed repetitions of the kernel loop (the best is reported).
KERNEL_REPEATS = 3
#: Standard deviation of log demand shifters.
G_SD = 0.1
#: The last commit with the version-1 kernel (fixed-share leakage, no backstop).
V1_COMMIT = "9583930"


def _range(el, name, default):
    if name not in el:
        return default, default
    lo, hi = el[name][1], el[name][2]
    return min(lo, hi), max(lo, hi)


def make_problems(cal, mineral, n, rng, v2=True):
    """Random problems of one market as stacked arrays (one row per problem)."""
    R = cal.n_regions
    el = mineral.elasticities
    u = lambda name, d=1.0: np.repeat(rng.uniform(*_range(el, name, d), size=(n, 1)), R, axis=1)  # noqa: E731
    eps = u("supply_elasticity")
    eta = -u("demand_elasticity")
    sigma = u("armington")
    if v2 and "backstop" in el and np.isfinite(el["backstop"][0]):
        B = u("backstop")
        etab = np.maximum(-u("backstop_elasticity"), eta)
    else:
        B, etab = np.full((n, R), np.inf), eta.copy()
    T = np.repeat(cal.T0[None], n, axis=0)
    hit = (rng.random((n, R, R)) < TARIFF_PROB) & (cal.X0[None] > 0)
    T = np.where(hit, T + rng.uniform(0, TARIFF_MAX, size=(n, R, R)), T)
    g = np.exp(rng.normal(0.0, G_SD, size=(n, R)))
    # one restriction slot: largest producer to up to CAP_DESTS of its export destinations
    o = int(np.argmax(cal.Q0))
    dests = [j for j in range(R) if j != o and cal.X0[o, j] > 0][:CAP_DESTS]
    dest = np.zeros((1, R), dtype=np.uint8)
    dest[0, dests] = 1
    base = cal.X0[o, dests].sum()
    on = (rng.random(n) < CAP_PROB).astype(np.uint8) if dests else np.zeros(n, dtype=np.uint8)
    cap = rng.uniform(*CAP_SHARE, size=n) * base
    kind = rng.integers(0, 3, size=n) if v2 else np.zeros(n, dtype=np.int64)
    cost = np.where(kind == 0, np.inf, rng.uniform(*ROUTE_COST, size=n))
    tcap = np.where(kind == 2, rng.uniform(*ROUTE_SHARE, size=n) * base, np.inf)
    return dict(eps=eps, eta=eta, sigma=sigma, B=B, etab=etab, T=T, g=g, orig=np.array([o], dtype=np.int64),
                dest=dest, on=on, cap=cap, cost=cost, tcap=tcap, kind=kind, base=base)


@njit(**dict(LEAF, cache=False))  # no allocation: views without reference counting, as the kernel
def _kernel_loop(X0, T0, w, sigma, eta, eps, T, orig, dest, on, cap, cost, tcap, mip, g, B, etab,
                 A_seg, K_seg, floor, release, purchases, z_out, status_out, iters_out, ws, ostat,
                 tol, max_iter):
    n = T.shape[0]
    for s in range(n):
        z = z_out[s]
        for q in range(z.shape[0]):
            z[q] = 0.0
        rst = (orig, dest, on[s:s + 1], cap[s:s + 1], cost[s:s + 1], tcap[s:s + 1])
        st, it = keq.solve_market(X0, T0, w, sigma[s], eta[s], eps[s], T[s], rst, mip, g[s], B[s],
                                  etab[s], A_seg, K_seg, floor, release, purchases, z, ostat, ws,
                                  tol, max_iter)
        status_out[s] = st
        iters_out[s] = it


def _timed(loop, args, n):
    m = min(n, 20)
    warm = tuple(x[:m] if isinstance(x, np.ndarray) and x.ndim >= 1 and x.shape[0] == n else x for x in args)
    loop(*warm)
    cpu, wall = [], []
    for _ in range(KERNEL_REPEATS):
        t0, w0 = time.thread_time(), time.perf_counter()
        loop(*args)
        cpu.append(time.thread_time() - t0)
        wall.append(time.perf_counter() - w0)
    return min(cpu), min(wall)


def run_kernel(cal, base_args, pr):
    n, R = pr["T"].shape[0], cal.n_regions
    a = base_args
    z = np.zeros((n, R + 3))
    st = np.zeros(n, dtype=np.int64)
    it = np.zeros(n, dtype=np.int64)
    ws = keq.make_workspace(R, 1)
    ostat = np.zeros(R, dtype=np.int64)
    args = (a[0], a[1], a[2], pr["sigma"], pr["eta"], pr["eps"], pr["T"], pr["orig"], pr["dest"],
            pr["on"], pr["cap"], pr["cost"], pr["tcap"], a[8], pr["g"], pr["B"], pr["etab"],
            a[12], a[13], a[14], a[15], a[16], z, st, it, ws, ostat, keq.DEFAULT_TOL, keq.DEFAULT_MAX_ITER)
    cpu, wall = _timed(_kernel_loop, args, n)
    return z, st, it, cpu, wall


# --- the version-1 kernel, from git, on version-1 problems ------------------------------------

def load_v1_kernel():
    """The version-1 equilibrium kernel module (from git), or None if git cannot provide it."""
    root = Path(__file__).resolve().parents[1]
    try:
        src = subprocess.run(["git", "show", f"{V1_COMMIT}:simsrc/kernels/equilibrium.py"], cwd=root,
                             capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    d = Path(tempfile.mkdtemp(prefix="simsrc-v1-"))
    f = d / "simsrc_v1_equilibrium.py"
    f.write_text(src)
    spec = importlib.util.spec_from_file_location("simsrc_v1_equilibrium", f)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def v1_loop_factory(k1):
    @njit
    def loop(X0, T0, w, sigma, eta, eps, T, capk, cap, mip, g, A_seg, K_seg, floor, release,
             purchases, z_out, status_out, iters_out, ws, ostat, tol, max_iter):
        n = T.shape[0]
        for s in range(n):
            z = z_out[s]
            for q in range(z.shape[0]):
                z[q] = 0.0
            st, it = k1.solve_market(X0, T0, w, sigma[s], eta[s], eps[s], T[s], capk, cap[s],
                                     mip, g[s], A_seg, K_seg, floor, release, purchases, z,
                                     ostat, ws, tol, max_iter)
            status_out[s] = st
            iters_out[s] = it
    return loop


def run_v1_pair(k1, loop1, cal0, base0, pr):
    """Version-1 and version-2 kernels on the same version-1 problems (rates, CPU time)."""
    n, R = pr["T"].shape[0], cal0.n_regions
    capk = np.full((R, R), -1, dtype=np.int64)
    o = int(pr["orig"][0])
    capk[o, pr["dest"][0] == 1] = 0
    cap1 = np.where(pr["on"] == 1, pr["cap"], 1e30)[:, None]
    a = base0
    z1 = np.zeros((n, R + 1))
    st1 = np.zeros(n, dtype=np.int64)
    it1 = np.zeros(n, dtype=np.int64)
    args1 = (a[0], a[1], a[2], pr["sigma"], pr["eta"], pr["eps"], pr["T"], capk, cap1, a[8], pr["g"],
             a[12], a[13], a[14], a[15], a[16], z1, st1, it1, k1.make_workspace(R, 1),
             np.zeros(R, dtype=np.int64), k1.DEFAULT_TOL, k1.DEFAULT_MAX_ITER)
    c1, _ = _timed(loop1, args1, n)
    z2, st2, it2, c2, _ = run_kernel(cal0, base0, pr)
    both = (st1 == 0) & (st2 == 0)
    act = cal0.Q0 > 0
    diff = np.abs(np.exp(z1[both][:, :R][:, act]) / np.exp(z2[both][:, :R][:, act]) - 1).max() if both.any() else np.nan
    return n / c1, n / c2, int((st1 != 0).sum()), int((st2 != 0).sum()), diff


# --- the same equations in NumPy, for scipy ---------------------------------------------------

def _fb(a, b):
    return a + b - np.sqrt(a * a + b * b)


def numpy_residual_factory(cal, inp_args, s, pr):
    """The kernel's residual in NumPy for problem s (benchmark problems: no bans, MIP, floors
    or release; every producing origin is solved). Unknowns: log prices, then for an active
    restriction its log wedge m, and for a route the transshipped quantity s (and for a
    bounded route its scarcity rent nu)."""
    X0, T0, w = cal.X0, cal.T0, cal.w
    sig, eta, eps = pr["sigma"][s], pr["eta"][s], pr["eps"][s]
    B, etab = pr["B"][s], pr["etab"][s]
    T, g = pr["T"][s], pr["g"][s]
    A, K = inp_args[12][:, 0], inp_args[13][:, 0]
    act = np.flatnonzero(cal.Q0 > 0)
    dem = cal.C0 > 0
    opn = (X0 > 0) & dem[None, :]
    R = cal.n_regions
    on = bool(pr["on"][s])
    capped = np.zeros((R, R), dtype=bool)
    capped[pr["orig"][0], :] = pr["dest"][0] == 1
    capped &= opn
    q, c, L, kind = pr["cap"][s], pr["cost"][s], pr["tcap"][s], pr["kind"][s]
    E0 = X0[capped].sum()
    no = len(act)
    nx = no + (0 if not on else (1 if kind == 0 else (2 if kind == 1 else 3)))

    def residual(x):
        y = np.zeros(R)
        y[act] = x[:no]
        p = np.exp(y)
        m = x[no] if on else 0.0
        lf = np.where(capped, np.exp(m), 1.0)
        pd = p[:, None] * T / T0 * lf
        e = np.where(opn, w * pd ** (1.0 - sig[None, :]), 0.0)
        tot = e.sum(axis=0)
        lP = np.where(dem, np.log(np.where(dem, tot, 1.0)) / (1.0 - sig), 0.0)
        lB = np.log(B)
        logD = np.where(lP > lB, np.log(g) - eta * lB - etab * (lP - lB), np.log(g) - eta * lP)
        X = np.where(opn, X0 * np.exp(logD)[None, :] * np.exp(-sig[None, :] * (np.log(np.where(opn, pd, 1.0)) - lP[None, :])), 0.0)
        S = np.minimum(A * p ** eps, K)
        out = list(np.log(S[act]) - np.log(X.sum(axis=1)[act]))
        if on:
            E = X[capped].sum()
            if kind == 0:
                out.append(_fb(m, np.log(q) - np.log(E)))
            elif kind == 1:
                sv = x[no + 1]
                out.append(_fb(m, (q + sv * E0 - E) / E0))
                out.append(_fb(sv, np.log1p(c) - m))
            else:
                sv, nu = x[no + 1], x[no + 2]
                out.append(_fb(m, (q + sv * L - E) / E0))
                out.append(_fb(sv, 1.0 + c + nu - np.exp(m)))
                out.append(_fb(nu, 1.0 - sv))
        return np.array(out)

    return residual, act, nx


def run_scipy(cal, inp_args, pr, idx):
    prices, ok = [], []
    t, w = time.thread_time(), time.perf_counter()
    for s in idx:
        fun, act, nx = numpy_residual_factory(cal, inp_args, s, pr)
        sol = optimize.root(fun, np.zeros(nx), method="hybr", options={"xtol": 1e-13})
        res = np.abs(fun(sol.x))
        ok.append(bool(sol.success) and np.all(np.abs(np.expm1(res[:len(act)])) < 1e-8) and np.all(res[len(act):] < 1e-8))
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
                                     "armington": (8.4, 4.2, 16.8),
                                     "backstop": (4.0, 3.0, 6.0),
                                     "backstop_elasticity": (-2.0, -4.0, -1.2)})


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
    k1 = load_v1_kernel()
    loop1 = v1_loop_factory(k1) if k1 is not None else None
    print(f"simsrc equilibrium benchmark: dataset {args.dataset}, {args.n} kernel and "
          f"{args.scipy_n} scipy problems per market, single thread, cold start (baseline), after JIT warm-up")
    print("version 2 problems: restrictions with routes (none / unlimited / bounded), backstops, latent links")
    hdr = (f"{'market':<20}{'R':>3}{'n':>3}{'kernel/s':>11}{'it':>6}{'fail':>6}"
           f"{'scipy/s':>9}{'fail':>6}{'ratio':>8}{'max|dp|/p':>11}{'v1/s':>10}{'v2/s':>10}{'fail v1,v2':>11}")
    print(hdr)
    print("-" * len(hdr))
    tot = dict(k=0.0, kt=0.0, kw=0.0, s=0.0, st=0.0, sw=0.0, v1=0.0, v2=0.0, nv=0.0)
    worst = 0.0
    for name, m in markets:
        cal = calibrate(m)
        base = _kernel_args(cal, MarketInputs.baseline(cal))
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
        tot["k"] += args.n
        tot["kt"] += dt_k
        tot["kw"] += wall_k
        tot["s"] += len(idx)
        tot["st"] += dt_s
        tot["sw"] += wall_s
        v1s = v2s = "-"
        fails = ""
        if loop1 is not None:
            cal0 = calibrate(m, latent_link_weight=0.0)
            cal0 = replace(cal0, B=np.full(cal0.n_regions, np.inf))
            base0 = _kernel_args(cal0, MarketInputs.baseline(cal0))
            pr0 = make_problems(cal0, m, args.n, rng, v2=False)
            r1, r2, f1, f2, _ = run_v1_pair(k1, loop1, cal0, base0, pr0)
            tot["v1"] += args.n / r1
            tot["v2"] += args.n / r2
            tot["nv"] += args.n
            v1s, v2s, fails = f"{r1:,.0f}", f"{r2:,.0f}", f"{f1},{f2}"
        print(f"{name:<20}{cal.n_regions:>3}{int(act.sum()):>3}{rk:>11,.0f}{it.mean():>6.2f}"
              f"{int((st != 0).sum()):>6}{rs:>9,.0f}{int((~ok_s).sum()):>6}{rk / rs:>8,.0f}"
              f"{diff:>11.1e}{v1s:>10}{v2s:>10}{fails:>11}")
    print("-" * len(hdr))
    rk, rs = tot["k"] / tot["kt"], tot["s"] / tot["st"]
    line = f"{'all markets':<26}{rk:>11,.0f}{'':>12}{rs:>9,.0f}{'':>6}{rk / rs:>8,.0f}{worst:>11.1e}"
    if tot["nv"]:
        line += f"{tot['nv'] / tot['v1']:>10,.0f}{tot['nv'] / tot['v2']:>10,.0f}"
    print(line)
    print(f"{'all markets, wall clock':<26}{tot['k'] / tot['kw']:>11,.0f}{'':>12}{tot['s'] / tot['sw']:>9,.0f}"
          f"{'':>6}{(tot['k'] / tot['kw']) / (tot['s'] / tot['sw']):>8,.0f}")
    print("\nkernel/s, scipy/s: version-2 solves per second of thread CPU time (robust to other load on"
          " the machine; the wall-clock line below);\nn: producing origins solved; it: mean iterations"
          " (chord steps included);\nfail: not converged (kernel: status != 0; scipy: success False or"
          " residual >= 1e-8);\nmax|dp|/p: largest relative origin-price difference where both converged;"
          f"\nv1/s, v2/s: the version-1 kernel (commit {V1_COMMIT}) and the version-2 kernel on the same"
          " version-1 problems\n(no routes, no backstop, no latent links), thread CPU time.")
    if loop1 is None:
        print(f"(version-1 kernel not measured: git could not provide commit {V1_COMMIT})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
