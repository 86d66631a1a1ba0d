"""Python API for one market clearing: calibrate, set policies, solve, read a tidy result.

Example
-------
>>> from simsrc.data import load_dataset
>>> from simsrc.calibrate import calibrate
>>> from simsrc.equilibrium import MarketInputs, solve
>>> cal = calibrate(load_dataset("gsim_example").minerals["GSIM"])
>>> inp = MarketInputs.baseline(cal).with_tariff(cal, "EU", ["US"], 0.0)
>>> res = solve(cal, inp)
>>> res.price_index            # origin price indices, 1 at baseline

The arithmetic is done by the numba kernels (:mod:`simsrc.kernels.equilibrium` and
:mod:`simsrc.kernels.welfare`); this module only validates, allocates and labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .calibrate import N_SEGMENTS, SEG_COVERED, Calibration, CalibrationError
from .kernels import equilibrium as keq
from .kernels import welfare as kwf


@dataclass(frozen=True)
class MarketInputs:
    """Policy and state arrays of one period for one market (the kernel's period inputs).

    Attributes
    ----------
    T : ndarray (R, R)
        Tariff factors in force (1 + ad valorem rate) on flows origin -> destination.
    capk : ndarray (R, R) int64
        Export cap id per flow, -1 for none.
    cap : ndarray (NC,)
        Cap quantities, t/yr (<= 0: ban without leakage).
    cap_names : tuple of str
        A label per cap.
    mip : ndarray (R, R)
        Minimum import price per flow in units of the baseline world price (F / P0); 0 none.
    g : ndarray (R,)
        Composite demand shifters (index, > 0).
    A_seg, K_seg : ndarray (R, 2)
        Supply shifters (t/yr at price index 1) and capacities (t/yr) of the uncovered and
        the floor-covered segment.
    floor : ndarray (R,)
        Producer price floor index (F / P0) on the covered segment; 0 = none.
    floor_alpha : ndarray (R,)
        Government share of the upside above the floor.
    release, purchases : ndarray (R,)
        Stock release into and government purchases of origin i's output, t/yr (purchases
        here are at the market price, e.g. stockpile refills).
    undertaking : ndarray (R, R) uint8, optional
        1 where a minimum import price is a price undertaking: the levy on the flow goes to
        the exporter instead of the importer.
    offtake_qty, offtake_price : ndarray (R,), optional
        Government offtake of origin i's output at a contract price (t/yr; price index, 0 =
        market price). Added to the purchases; the fiscal cost is
        ``(offtake_price - p) * offtake_qty`` where a price is set.
    """

    T: np.ndarray
    capk: np.ndarray
    cap: np.ndarray
    mip: np.ndarray
    g: np.ndarray
    A_seg: np.ndarray
    K_seg: np.ndarray
    floor: np.ndarray
    floor_alpha: np.ndarray
    release: np.ndarray
    purchases: np.ndarray
    cap_names: tuple = field(default_factory=tuple)
    undertaking: np.ndarray | None = None
    offtake_qty: np.ndarray | None = None
    offtake_price: np.ndarray | None = None

    @classmethod
    def baseline(cls, cal: Calibration) -> "MarketInputs":
        """Baseline policies: baseline tariffs, no caps, floors or MIP, g = 1, K = K0."""
        R = cal.n_regions
        A_seg, K_seg = cal.supply_segments()
        return cls(
            T=np.array(cal.T0, dtype=float), capk=np.full((R, R), -1, dtype=np.int64),
            cap=np.zeros(0), mip=np.zeros((R, R)), g=np.ones(R), A_seg=A_seg, K_seg=K_seg,
            floor=np.zeros(R), floor_alpha=np.zeros(R), release=np.zeros(R),
            purchases=np.zeros(R), cap_names=(),
        )

    # --- convenience builders (each returns a new MarketInputs) ---------------------------
    def with_tariff(self, cal: Calibration, importer, exporters, rate, *, add=False):
        """Set (or with ``add=True`` add to) the ad valorem tariff of ``importer`` on
        ``exporters`` (region codes). ``rate`` is a fraction (0.25 = 25%)."""
        T = self.T.copy()
        j = cal.region_index(importer)
        for e in _as_list(exporters):
            i = cal.region_index(e)
            T[i, j] = (T[i, j] + rate) if add else 1.0 + rate
        return replace(self, T=T)

    def with_cap(self, cal: Calibration, origin, destinations, share, *, name=None):
        """Cap ``origin``'s exports to ``destinations`` at ``share`` of their baseline flows
        (0 = ban without leakage; a ban with leakage ``l`` is ``share = l``)."""
        i = cal.region_index(origin)
        js = [cal.region_index(d) for d in _as_list(destinations)]
        capk = self.capk.copy()
        k = len(self.cap)
        for j in js:
            if capk[i, j] >= 0:
                raise CalibrationError(f"flow {origin}->{cal.regions[j]} is already under cap {self.cap_names[capk[i, j]]!r}")
            capk[i, j] = k
        q = float(share) * float(sum(cal.X0[i, j] for j in js))
        return replace(self, capk=capk, cap=np.append(self.cap, q),
                       cap_names=self.cap_names + (name or f"cap_{origin}",))

    def with_floor(self, cal: Calibration, region, price_index, coverage, alpha=0.0):
        """Producer price floor at ``price_index`` (F / P0) on a share ``coverage`` of
        ``region``'s capacity, with government upside share ``alpha``."""
        i = cal.region_index(region)
        A_seg, K_seg = self.A_seg.copy(), self.K_seg.copy()
        A_tot, K_tot = A_seg[i].sum(), K_seg[i].sum()
        A_seg[i] = [(1 - coverage) * A_tot, coverage * A_tot]
        K_seg[i] = [(1 - coverage) * K_tot, coverage * K_tot] if np.isfinite(K_tot) else [np.inf, np.inf if coverage > 0 else 0.0]
        floor, alpha_ = self.floor.copy(), self.floor_alpha.copy()
        floor[i], alpha_[i] = price_index, alpha
        return replace(self, A_seg=A_seg, K_seg=K_seg, floor=floor, floor_alpha=alpha_)

    def with_mip(self, cal: Calibration, importer, price_index, members=()):
        """Minimum import price ``price_index`` (F / P0) charged by ``importer`` on every
        origin except ``members`` (and itself)."""
        j = cal.region_index(importer)
        mem = {cal.region_index(m) for m in _as_list(members)} | {j}
        mip = self.mip.copy()
        for i in range(cal.n_regions):
            if i not in mem:
                mip[i, j] = price_index
        return replace(self, mip=mip)

    def check(self, cal: Calibration) -> None:
        """Raise CalibrationError if a shape or a value is out of range."""
        R = cal.n_regions
        NC = len(self.cap)
        shapes = dict(T=(R, R), capk=(R, R), mip=(R, R), g=(R,), A_seg=(R, N_SEGMENTS),
                      K_seg=(R, N_SEGMENTS), floor=(R,), floor_alpha=(R,), release=(R,),
                      purchases=(R,), cap=(NC,))
        for name, shape in shapes.items():
            a = np.asarray(getattr(self, name))
            if a.shape != shape:
                raise CalibrationError(f"{name} must have shape {shape}, got {a.shape}")
        if np.any(~np.isfinite(self.T)) or np.any(self.T <= 0):
            raise CalibrationError("tariff factors T must be finite and positive (T = 1 + rate)")
        if np.any(self.g <= 0) or np.any(~np.isfinite(self.g)):
            raise CalibrationError("demand shifters g must be finite and positive")
        if np.any(self.A_seg < 0) or np.any(self.K_seg < 0) or np.any(np.isnan(self.K_seg)):
            raise CalibrationError("supply shifters and capacities must be >= 0 (inf = no limit)")
        for name in ("mip", "floor", "release", "purchases", "floor_alpha"):
            a = getattr(self, name)
            if np.any(a < 0) or np.any(~np.isfinite(a)):
                raise CalibrationError(f"{name} must be finite and >= 0")
        for name, shape in (("undertaking", (R, R)), ("offtake_qty", (R,)), ("offtake_price", (R,))):
            a = getattr(self, name)
            if a is not None and np.asarray(a).shape != shape:
                raise CalibrationError(f"{name} must have shape {shape}, got {np.asarray(a).shape}")
        if (self.offtake_qty is None) != (self.offtake_price is None):
            raise CalibrationError("offtake_qty and offtake_price go together")
        if np.any(self.capk >= NC) or np.any(self.capk < -1):
            raise CalibrationError(f"capk must be -1 or a cap id below {NC}")
        for k in range(NC):
            rows = np.unique(np.nonzero(self.capk == k)[0])
            if len(rows) > 1:
                raise CalibrationError(f"cap {k} covers flows of several origins {rows}; one origin per cap")


def _as_list(x):
    return [x] if isinstance(x, str) else list(x)


@dataclass(frozen=True)
class MarketResult:
    """Outcome of one market clearing, labelled by region.

    Prices are given both as indices (1 at baseline) and in the dataset's price unit
    (``price_unit``); values (revenue, rents, fiscal cost, surplus) are USD/yr; quantities
    t/yr. Per-region arrays are in ``regions`` order; matrices are origin x destination.

    Attributes
    ----------
    price_index : origin price index p (0: no market; NaN: no supply).
    price : origin (producer market) price ``p * P0``.
    delivered_price_index : ``pd`` relative to the baseline delivered price ``P0 * T0``.
    delivered_price : delivered price ``pd * P0 * T0`` = ``p P0 T (1 + lam)(1 + v)``; NaN
        where there is no open flow.
    consumer_price_index : composite price index P (inf: every variety removed).
    consumer_price : ``P`` times the baseline delivered unit value of the destination.
    production, consumption, imports, exports : t/yr.
    flows : (R, R) t/yr.
    wedges : cap wedges lam (inf for a ban); ``cap_names`` labels them.
    levy : (R, R) minimum-import-price levy rates v.
    tariff_revenue, levy_revenue : by importer, USD/yr.
    quota_rent : by exporter, USD/yr.
    fiscal_cost : producer price floor cost by region, USD/yr.
    cs_change, ps_change : surplus changes against the baseline, USD/yr.
    net_import_reliance : ``max(0, (C - Q) / C)``; NaN where C = 0.
    converged, status, iterations, max_rel_excess : solver report.
    origin_status : kernel origin status codes.
    """

    code: str
    regions: tuple
    price_unit: str
    price_index: np.ndarray
    price: np.ndarray
    delivered_price_index: np.ndarray
    delivered_price: np.ndarray
    consumer_price_index: np.ndarray
    consumer_price: np.ndarray
    composite_demand: np.ndarray
    production: np.ndarray
    production_covered: np.ndarray
    consumption: np.ndarray
    imports: np.ndarray
    exports: np.ndarray
    flows: np.ndarray
    wedges: np.ndarray
    cap_names: tuple
    levy: np.ndarray
    tariff_revenue: np.ndarray
    levy_revenue: np.ndarray
    quota_rent: np.ndarray
    fiscal_cost: np.ndarray
    cs_change: np.ndarray
    ps_change: np.ndarray
    net_import_reliance: np.ndarray
    converged: bool
    status: int
    iterations: int
    max_rel_excess: float
    origin_status: np.ndarray
    z: np.ndarray

    @property
    def net_welfare(self) -> np.ndarray:
        """CS + PS + tariff and levy revenue + quota rents - floor cost, USD/yr."""
        return (self.cs_change + self.ps_change + self.tariff_revenue + self.levy_revenue
                + self.quota_rent - self.fiscal_cost)

    def table(self) -> pd.DataFrame:
        """Per-region table of prices, quantities and welfare."""
        return pd.DataFrame({
            "price_index": self.price_index,
            f"price_{self.price_unit}": self.price,
            "consumer_price_index": self.consumer_price_index,
            "production_t": self.production,
            "consumption_t": self.consumption,
            "imports_t": self.imports,
            "exports_t": self.exports,
            "nir": self.net_import_reliance,
            "tariff_levy_rev_usd": self.tariff_revenue + self.levy_revenue,
            "quota_rent_usd": self.quota_rent,
            "fiscal_cost_usd": self.fiscal_cost,
            "cs_change_usd": self.cs_change,
            "ps_change_usd": self.ps_change,
        }, index=pd.Index(self.regions, name="region"))

    def flow_frame(self) -> pd.DataFrame:
        """Flows as an origin x destination frame, t/yr."""
        return pd.DataFrame(self.flows, index=pd.Index(self.regions, name="origin"),
                            columns=pd.Index(self.regions, name="destination"))

    def to_dict(self) -> dict:
        """JSON-ready dict (inf and NaN become None; origins without production have no
        price and destinations without consumption no consumer price: None)."""
        def clean(a):
            a = np.asarray(a, dtype=float)
            return [None if not np.isfinite(v) else float(v) for v in a.ravel()] if a.ndim == 1 else \
                [clean(r) for r in a]
        regions = list(self.regions)
        # no production: no variety, no price; no consumption: no consumer price
        inactive = self.origin_status == keq.ORIGIN_INACTIVE
        no_demand = self.consumption <= 0
        price_index = np.where(inactive, np.nan, self.price_index)
        price = np.where(inactive, np.nan, self.price)
        cpi = np.where(no_demand, np.nan, self.consumer_price_index)
        cp = np.where(no_demand, np.nan, self.consumer_price)
        return {
            "mineral": self.code,
            "regions": regions,
            "price_unit": self.price_unit,
            "price_index": clean(price_index),
            "price": clean(price),
            "consumer_price_index": clean(cpi),
            "consumer_price": clean(cp),
            "production": clean(self.production),
            "consumption": clean(self.consumption),
            "flows": clean(self.flows),
            "wedges": {n: (None if not np.isfinite(v) else float(v)) for n, v in zip(self.cap_names, self.wedges)},
            "revenue": clean(self.tariff_revenue + self.levy_revenue),
            "tariff_revenue": clean(self.tariff_revenue),
            "levy_revenue": clean(self.levy_revenue),
            "quota_rent": clean(self.quota_rent),
            "fiscal_cost": clean(self.fiscal_cost),
            "cs_change": clean(self.cs_change),
            "ps_change": clean(self.ps_change),
            "net_import_reliance": clean(self.net_import_reliance),
            "converged": bool(self.converged),
            "iterations": int(self.iterations),
            "max_rel_excess": float(self.max_rel_excess),
        }


def solve(cal: Calibration, inputs: MarketInputs | None = None, *, z0=None,
          tol: float = keq.DEFAULT_TOL, max_iter: int = keq.DEFAULT_MAX_ITER,
          P_ref=None) -> MarketResult:
    """Solve one market clearing in levels and compute every outcome.

    Parameters
    ----------
    cal : Calibration
        From :func:`simsrc.calibrate.calibrate`.
    inputs : MarketInputs, optional
        Period policies and state; default :meth:`MarketInputs.baseline`.
    z0 : array_like (R + NC,), optional
        Warm start: log origin price indices, then log cap wedges ``log(1 + lam)``.
        Default: the baseline (zeros).
    tol : float
        Convergence tolerance (max relative excess supply and FB residual).
    max_iter : int
        Newton iteration limit.
    P_ref : array_like (R,), optional
        Reference composite price indices for the consumer surplus change (default 1, the
        baseline).

    Returns
    -------
    MarketResult
    """
    inputs = MarketInputs.baseline(cal) if inputs is None else inputs
    inputs.check(cal)
    R = cal.n_regions
    NC = len(inputs.cap)
    args = _kernel_args(cal, inputs)
    z = np.zeros(R + NC) if z0 is None else np.array(z0, dtype=float)
    if z.shape != (R + NC,):
        raise CalibrationError(f"z0 must have {R + NC} entries (R log prices + NC log wedges)")
    ostat = np.zeros(R, dtype=np.int64)
    ws = keq.make_workspace(R, NC)
    status, iters = keq.solve_market(*args, z, ostat, ws, float(tol), int(max_iter))
    p = np.empty(R)
    pd_ = np.empty((R, R))
    levy = np.empty((R, R))
    P = np.empty(R)
    D = np.empty(R)
    X = np.empty((R, R))
    Sseg = np.empty((R, N_SEGMENTS))
    lam = np.empty(NC)
    mrel = keq.market_outcomes(*args, z, ostat, ws, p, pd_, levy, P, D, X, Sseg, lam)
    A0, K0 = cal.supply_segments()
    P_ref = np.ones(R) if P_ref is None else np.asarray(P_ref, dtype=float)
    out = {k: np.empty(R) for k in ("tr", "lr", "qr", "fc", "cs", "ps")}
    und = np.zeros((R, R), dtype=np.uint8) if inputs.undertaking is None else inputs.undertaking.astype(np.uint8)
    off_q, off_val = np.zeros(R), np.zeros(R)
    if inputs.offtake_qty is not None:
        priced = inputs.offtake_price > 0
        off_q = np.where(priced, inputs.offtake_qty, 0.0)
        off_val = np.where(priced, inputs.offtake_price * inputs.offtake_qty, 0.0)
    kwf.market_welfare(cal.X0, cal.T0, cal.eta, inputs.T, inputs.capk, inputs.cap, inputs.g,
                       inputs.A_seg, inputs.K_seg, inputs.floor, inputs.floor_alpha, A0, K0,
                       cal.eps, p, pd_, levy, P, X, Sseg, lam, P_ref, und, off_q, off_val,
                       out["tr"], out["lr"], out["qr"], out["fc"], out["cs"], out["ps"])
    P0 = cal.price_usd_per_t
    Q = Sseg.sum(axis=1)
    C = X.sum(axis=0)
    dom = np.diag(X)
    with np.errstate(invalid="ignore", divide="ignore"):
        nir = np.where(C > 0, np.maximum(0.0, (C - Q) / np.where(C > 0, C, 1.0)), np.nan)
        delivered = np.where(X > 0, pd_ * cal.price * cal.T0, np.nan)
    return MarketResult(
        code=cal.code, regions=cal.regions, price_unit=cal.price_unit,
        price_index=p, price=p * cal.price,
        delivered_price_index=pd_, delivered_price=delivered,
        consumer_price_index=P, consumer_price=P * cal.unit_value0, composite_demand=D,
        production=Q, production_covered=Sseg[:, SEG_COVERED].copy(), consumption=C,
        imports=C - dom, exports=X.sum(axis=1) - dom, flows=X,
        wedges=lam, cap_names=tuple(inputs.cap_names) or tuple(f"cap_{k}" for k in range(NC)),
        levy=levy,
        tariff_revenue=out["tr"] * P0, levy_revenue=out["lr"] * P0, quota_rent=out["qr"] * P0,
        fiscal_cost=out["fc"] * P0, cs_change=out["cs"] * P0, ps_change=out["ps"] * P0,
        net_import_reliance=nir,
        converged=status == keq.STATUS_CONVERGED, status=int(status), iterations=int(iters),
        max_rel_excess=float(mrel), origin_status=ostat, z=z,
    )


def _kernel_args(cal: Calibration, inputs: MarketInputs) -> tuple:
    """The kernel's argument tuple up to (not including) ``z`` (contiguous float64/int64)."""
    f = lambda a: np.ascontiguousarray(a, dtype=np.float64)  # noqa: E731
    purchases = inputs.purchases if inputs.offtake_qty is None else inputs.purchases + inputs.offtake_qty
    return (f(cal.X0), f(cal.T0), f(cal.w), f(cal.sigma), f(cal.eta), f(cal.eps),
            f(inputs.T), np.ascontiguousarray(inputs.capk, dtype=np.int64), f(inputs.cap),
            f(inputs.mip), f(inputs.g), f(inputs.A_seg), f(inputs.K_seg), f(inputs.floor),
            f(inputs.release), f(purchases))


# --- scenarios: the first period at central values ----------------------------------------------

def scenario_inputs(scn, mineral: str) -> tuple[Calibration, MarketInputs]:
    """Compile a loaded scenario's first period for one mineral at central values.

    The scenario is compiled by :func:`simsrc.policies.compile_market` and materialised by
    :func:`simsrc.policies.draw_inputs` with ``central=True`` (every uncertain number at its
    central value; an event's most likely outcome; a conditional policy is on in the first
    period only if its condition holds there, so policies waiting for an event that cannot
    have happened by then are off). The layers are then composed for period 0 exactly as the
    dynamics kernel composes a period: tariffs applied in order (add or set), each capped flow
    under the tightest active cap covering it (cap = (share + leakage (1 - share)) x baseline
    flows), the highest minimum import price of the clubs an importer belongs to, floors on a
    share ``phi`` of capacity, capacity projects due in period 0, outages, stockpile rules
    against the baseline consumer price, and offtake.

    Parameters
    ----------
    scn : simsrc.scenario.Scenario
        A loaded scenario (:func:`simsrc.scenario.load_scenario`).
    mineral : str
        A mineral code of the scenario's dataset.

    Returns
    -------
    cal : Calibration
        With the central elasticities of the scenario (dataset values and parameter overrides).
    inputs : MarketInputs
        Period-0 kernel arrays; only caps active in period 0 are included.
    """
    from . import policies as pol_mod
    from .kernels.dynamics import compose_trade_policies

    spec = pol_mod.compile_market(scn, mineral)
    a = pol_mod.draw_inputs(scn, spec, 0, 1, central=True)
    cal0 = spec.cal
    R = cal0.n_regions
    X0 = cal0.X0
    cal = replace(cal0, sigma=np.array(a["sigma"][0], dtype=float), eta=np.array(a["eta"][0], dtype=float),
                  eps=np.array(a["eps"][0], dtype=float),
                  params={"supply_elasticity": np.array(a["eps"][0]), "demand_elasticity": -np.array(a["eta"][0]),
                          "armington": np.array(a["sigma"][0])})
    t = 0
    # tariffs, export caps and minimum import prices: composed by the period loop's own code
    NC = a["cap_origin"].shape[0]
    rate, T = np.empty((R, R)), np.empty((R, R))
    capk_full, cap_full, eff = np.empty((R, R), dtype=np.int64), np.empty(NC), np.empty(NC)
    mip, und = np.empty((R, R)), np.empty((R, R), dtype=np.uint8)
    compose_trade_policies(0, t, X0, cal.T0, a["tar_mask"], a["tar_mode"], a["tar_rate"], a["tar_act"],
                           a["cap_origin"], a["cap_dest"], a["cap_share"], a["cap_leak"], a["cap_act"],
                           a["mip_members"], a["mip_level"], a["mip_und"], a["mip_act"],
                           rate, T, capk_full, cap_full, eff, mip, und)
    # keep the caps that hold flows in period 0
    cap_layers = [l for l in spec.layers if l.kind == "cap"]
    used = sorted({int(k) for k in capk_full.ravel() if k >= 0})
    capk = np.full((R, R), -1, dtype=np.int64)
    for new, c in enumerate(used):
        capk[capk_full == c] = new
    cap = cap_full[used]
    names = tuple(cap_layers[c].name for c in used)
    # floors, capacity in force, supply shifters
    phi = a["flo_phi"][0]
    floor = np.where(a["flo_act"][0, t] == 1, a["flo_level"], 0.0)
    K = np.stack([a["K0v"] * (1.0 - phi), a["K0v"] * phi], axis=1)
    for q in range(a["prj_region"].shape[0]):
        if a["prj_period"][0, q] == t:
            r, c = a["prj_region"][q], a["prj_cov"][0, q]
            K[r] += a["prj_cap"][q] * np.array([1.0 - c, c])
    K_seg = K * a["outage_mult"][0, t][:, None]
    A_seg = a["u0"][:, None] * K_seg
    K_lim = np.where(a["unlimited"][:, None] == 1, np.inf, K_seg)
    # stockpiles against the baseline consumer price (index 1), offtake
    release = np.zeros(R)
    purchases = np.zeros(R)
    dt = a["dt"]
    C0 = cal.C0
    for r in range(R):
        if a["stk_act"][0, t, r] and C0[r] > 0:
            stock = a["stk_init"][r]
            rel = buy = 0.0
            if 1.0 > a["stk_trig"][r] and stock > 0:
                rel = min(a["stk_rel"][r], stock / dt)
            elif a["stk_refill"][r] > 0 and 1.0 < a["stk_below"][r] and stock < a["stk_cap"][r]:
                buy = min(a["stk_refill"][r], (a["stk_cap"][r] - stock) / dt)
            release += rel * X0[:, r] / C0[r]
            purchases += buy * X0[:, r] / C0[r]
    off_q = np.zeros(R)
    off_p = np.zeros(R)
    for o in range(a["off_region"].shape[0]):
        if a["off_act"][0, t, o]:
            r = a["off_region"][o]
            off_q[r] += a["off_qty"][o]
            if a["off_price"][o] > 0:
                off_p[r] = a["off_price"][o]
    inputs = MarketInputs(
        T=T, capk=capk, cap=cap, mip=mip, g=np.ones(R), A_seg=A_seg, K_seg=K_lim, floor=floor,
        floor_alpha=np.array(a["flo_alpha"][0], dtype=float), release=release, purchases=purchases,
        cap_names=names, undertaking=und, offtake_qty=off_q, offtake_price=off_p,
    )
    return cal, inputs


def solve_scenario(scn, minerals=None, **kwargs) -> dict:
    """Solve the first period of a scenario at central values, mineral by mineral.

    Parameters
    ----------
    scn : simsrc.scenario.Scenario
        A loaded scenario.
    minerals : iterable of str, optional
        Mineral codes; default every mineral of the scenario's dataset.
    **kwargs
        Passed to :func:`solve` (``tol``, ``max_iter``).

    Returns
    -------
    dict
        mineral code -> :class:`MarketResult`.
    """
    codes = list(scn.data.minerals) if minerals is None else list(minerals)
    out = {}
    for code in codes:
        cal, inputs = scenario_inputs(scn, code)
        out[code] = solve(cal, inputs, **kwargs)
    return out
