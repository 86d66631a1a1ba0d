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
from .kernels.dynamics import STOCK_RELEASE_MAX
from .outputs import net_import_reliance


@dataclass(frozen=True)
class MarketInputs:
    """Policy and state arrays of one period for one market (the kernel's period inputs).

    Attributes
    ----------
    T : ndarray (R, R)
        Tariff factors in force (1 + ad valorem rate) on flows origin -> destination.
    rk_orig : ndarray (NC,) int64
        Restricting origin of each export restriction.
    rk_dest : ndarray (NC, R) uint8
        Restricted destinations of each restriction (1 = covered).
    cap : ndarray (NC,)
        Direct exports allowed, t/yr (0 = ban).
    tcost : ndarray (NC,)
        Ad valorem cost of the restriction's transshipment route (``inf`` = no route).
    tcap : ndarray (NC,)
        Capacity of the route, t/yr (``inf`` = unlimited).
    cap_names : tuple of str
        A label per restriction.
    etax : ndarray (R, R)
        Export tax rates in force on flows origin -> destination (0 = none).
    mip : ndarray (R, R)
        Minimum import price per flow in units of the baseline world price (F / P0); 0 none.
    g : ndarray (R,)
        Composite demand shifters (index, > 0).
    A_seg, K_seg : ndarray (R, 2)
        Supply shifters (t/yr at price index 1) and capacities (t/yr) of the uncovered and
        the floor-covered segment.
    floor : ndarray (R,)
        Floor payment per covered tonne, ``(F - p_ref)+ / P0`` (index); the covered segment
        supplies at ``p + floor``; 0 = none.
    floor_upside : ndarray (R,), optional
        ``(p_ref - F)+ / P0`` where a floor is in force (index), of which the government takes
        ``floor_alpha``.
    floor_alpha : ndarray (R,)
        Government share of the upside above the floor.
    release, refill : ndarray (R,)
        Government stock released into region j's market (sold to its consumers at its
        consumer price) and bought to refill j's stock (demand of j's market, from origins at
        delivered prices, under every restriction), t/yr; ``refill`` may be None (0).
    purchases : ndarray (R,)
        Government purchases of origin i's output, t/yr (purchases
        here are at the market price, e.g. stockpile refills).
    undertaking : ndarray (R, R) uint8, optional
        1 where a minimum import price is a price undertaking: the levy on the flow goes to
        the exporter instead of the importer.
    offtake_qty, offtake_price : ndarray (R,), optional
        Government offtake of origin i's output at a contract price (t/yr; price index, 0 =
        market price). Added to the purchases; the fiscal cost is
        ``(offtake_price - p) * offtake_qty`` where a price is set.
    eta : ndarray (R,), optional
        Demand elasticity of this period's problem (positive); default the calibration's
        long-run elasticity (a fully adjusted equilibrium). The first period of a run uses the
        short-run elasticity (:meth:`Calibration.short_run_eta`).
    """

    T: np.ndarray
    rk_orig: np.ndarray
    rk_dest: np.ndarray
    cap: np.ndarray
    tcost: np.ndarray
    tcap: np.ndarray
    etax: np.ndarray
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
    eta: np.ndarray | None = None
    refill: np.ndarray | None = None
    floor_upside: np.ndarray | None = None

    @classmethod
    def baseline(cls, cal: Calibration) -> "MarketInputs":
        """Baseline policies: baseline tariffs and the dataset's baseline export taxes and quotas
        (none in most datasets); no other restrictions, floors or MIP; g = 1, K = K0."""
        R = cal.n_regions
        A_seg, K_seg = cal.supply_segments()
        etax, quotas = cal.baseline_policies()  # the dataset's baseline export taxes and quotas
        base = [float(cal.X0[o, d == 1].sum()) for _, o, d, _ in quotas]
        return cls(
            T=np.array(cal.tariff0, dtype=float),
            rk_orig=np.array([o for _, o, _, _ in quotas], dtype=np.int64),
            rk_dest=np.array([d for _, _, d, _ in quotas], dtype=np.uint8).reshape(len(quotas), R),
            cap=np.array([s * b for (_, _, _, s), b in zip(quotas, base)], dtype=float),
            tcost=np.full(len(quotas), np.inf), tcap=np.full(len(quotas), np.inf),
            etax=etax, mip=np.zeros((R, R)), g=np.ones(R), A_seg=A_seg, K_seg=K_seg,
            floor=np.zeros(R), floor_alpha=np.zeros(R), release=np.zeros(R),
            purchases=np.zeros(R), cap_names=tuple(n for n, _, _, _ in quotas),
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

    def with_restriction(self, cal: Calibration, origin, destinations, share, *, cost=None,
                         capacity=None, name=None):
        """Export restriction of ``origin`` to ``destinations``: direct exports capped at
        ``share`` of their baseline flows (0 = ban), with an optional transshipment route at
        ad valorem ``cost`` (None = no route) and ``capacity`` as a share of the same baseline
        flows (None = unlimited). Restrictions on the same flows compound."""
        i = cal.region_index(origin)
        js = [cal.region_index(d) for d in _as_list(destinations) if cal.region_index(d) != i]
        dest = np.zeros(cal.n_regions, dtype=np.uint8)
        dest[js] = 1
        base = float(cal.X0[i, dest == 1].sum())
        tc = np.inf if cost is None else float(cost)
        tq = np.inf if capacity is None else float(capacity) * base
        return replace(self, rk_orig=np.append(self.rk_orig, i).astype(np.int64),
                       rk_dest=np.vstack([self.rk_dest, dest[None, :]]),
                       cap=np.append(self.cap, float(share) * base), tcost=np.append(self.tcost, tc),
                       tcap=np.append(self.tcap, tq),
                       cap_names=self.cap_names + (name or f"restriction_{origin}_{len(self.cap)}",))

    def with_cap(self, cal: Calibration, origin, destinations, share, *, name=None):
        """Cap ``origin``'s exports to ``destinations`` at ``share`` of their baseline flows,
        with no transshipment route (0 = ban; version 1's ban with leakage ``l`` is
        ``share = l``)."""
        return self.with_restriction(cal, origin, destinations, share, name=name)

    def with_export_tax(self, cal: Calibration, origin, destinations, rate):
        """Ad valorem export tax ``rate`` charged by ``origin`` on exports to ``destinations``
        (added to any tax in force on the flow)."""
        i = cal.region_index(origin)
        etax = self.etax.copy()
        for d in _as_list(destinations):
            j = cal.region_index(d)
            if j != i:
                etax[i, j] += float(rate)
        return replace(self, etax=etax)

    def with_floor(self, cal: Calibration, region, price_index, coverage, alpha=0.0, reference=1.0):
        """Producer price floor at ``price_index`` (F / P0) on a share ``coverage`` of
        ``region``'s capacity, measured against the benchmark price index ``reference``
        (p_ref / P0; default the baseline price): the covered segment receives
        ``p + (F - p_ref)+``, the government pays ``(F - p_ref)+`` per covered tonne and takes a
        share ``alpha`` of the upside ``(p_ref - F)+``."""
        i = cal.region_index(region)
        A_seg, K_seg = self.A_seg.copy(), self.K_seg.copy()
        A_tot, K_tot = A_seg[i].sum(), K_seg[i].sum()
        A_seg[i] = [(1 - coverage) * A_tot, coverage * A_tot]
        K_seg[i] = [(1 - coverage) * K_tot, coverage * K_tot] if np.isfinite(K_tot) else [np.inf, np.inf if coverage > 0 else 0.0]
        floor, alpha_ = self.floor.copy(), self.floor_alpha.copy()
        up = np.zeros(cal.n_regions) if self.floor_upside is None else self.floor_upside.copy()
        floor[i], alpha_[i] = max(price_index - reference, 0.0), alpha
        up[i] = max(reference - price_index, 0.0)
        return replace(self, A_seg=A_seg, K_seg=K_seg, floor=floor, floor_alpha=alpha_, floor_upside=up)

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
        shapes = dict(T=(R, R), rk_orig=(NC,), rk_dest=(NC, R), tcost=(NC,), tcap=(NC,),
                      etax=(R, R), mip=(R, R), g=(R,), A_seg=(R, N_SEGMENTS),
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
        if self.refill is not None and (np.asarray(self.refill).shape != (R,) or np.any(np.asarray(self.refill) < 0)):
            raise CalibrationError(f"refill must be {R} quantities >= 0 (t/yr)")
        rel = np.asarray(self.release, float)
        if np.any(rel > STOCK_RELEASE_MAX * cal.C0 + 1e-12):
            raise CalibrationError(f"a stock release may not exceed {STOCK_RELEASE_MAX:.0%} of the region's baseline "
                                   "consumption (released tonnes replace what its consumers buy from origins)")
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
        if np.any((self.rk_orig < 0) | (self.rk_orig >= R)):
            raise CalibrationError(f"restriction origins must be region indices below {R}")
        if np.any(self.cap < 0) or np.any(np.isnan(self.cap)) or np.any(np.isnan(self.tcost)) \
                or np.any(self.tcost < 0) or np.any(np.isnan(self.tcap)) or np.any(self.tcap < 0):
            raise CalibrationError("restriction caps, route costs and capacities must be >= 0 (inf allowed for the route)")
        if np.any(self.etax < 0) or np.any(~np.isfinite(self.etax)):
            raise CalibrationError("export tax rates must be finite and >= 0")
        if self.eta is not None and (np.asarray(self.eta).shape != (R,) or np.any(np.asarray(self.eta) <= 0)):
            raise CalibrationError(f"eta must be {R} positive demand elasticities")


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
    wedges : restriction wedges lam (inf for a ban without a route); ``cap_names`` labels them.
    transshipped : quantity of each restriction routed through third countries, t/yr.
    fob_price_index, fob_price : export (FOB) price of each origin: the quantity-weighted mean
        over its exports of ``p (1 + e) prod(1 + lam)`` (NaN without exports).
    export_tax_revenue : by exporter, USD/yr.
    transship_cost, intermediary_rent : by destination, USD/yr (the cost is lost to the
        world; the rent goes to traders outside the regions' accounts).
    backstop_substitution : composite demand lost above the backstop, t/yr (baseline tonnes).
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
    transshipped: np.ndarray
    fob_price_index: np.ndarray
    fob_price: np.ndarray
    export_tax_revenue: np.ndarray
    transship_cost: np.ndarray
    intermediary_rent: np.ndarray
    backstop_substitution: np.ndarray
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
        """CS + PS + tariff, levy and export-tax revenue + quota rents - floor cost, USD/yr."""
        return (self.cs_change + self.ps_change + self.tariff_revenue + self.levy_revenue
                + self.export_tax_revenue + self.quota_rent - self.fiscal_cost)

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
            "export_tax_rev_usd": self.export_tax_revenue,
            f"fob_price_{self.price_unit}": self.fob_price,
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
            "transshipped": {n: float(v) for n, v in zip(self.cap_names, self.transshipped)},
            "fob_price": clean(self.fob_price),
            "export_tax_revenue": clean(self.export_tax_revenue),
            "transship_cost": clean(self.transship_cost),
            "intermediary_rent": clean(self.intermediary_rent),
            "backstop_substitution": clean(self.backstop_substitution),
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
    z0 : array_like (R + 3 NC,), optional
        Warm start: log origin price indices, then log wedges ``log(1 + lam)``, then the
        scaled transshipped quantities and route rents (see the kernel's docstring).
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
    z = np.zeros(R + 3 * NC) if z0 is None else np.array(z0, dtype=float)
    if z.shape != (R + 3 * NC,):
        raise CalibrationError(f"z0 must have {R + 3 * NC} entries (R log prices, NC log wedges, NC transshipped "
                               "quantities, NC route rents)")
    ostat = np.zeros(R, dtype=np.int64)
    ws = keq.make_workspace(R, NC)
    status, iters = keq.solve_market(*args, z, ostat, ws, float(tol), int(max_iter))
    p = np.empty(R)
    pd_ = np.empty((R, R))
    levy = np.empty((R, R))
    P = np.empty(R)
    D = np.empty(R)
    Dsr = np.empty(R)
    X = np.empty((R, R))
    Sseg = np.empty((R, N_SEGMENTS))
    lam = np.empty(NC)
    xt = np.empty(NC)
    mrel = keq.market_outcomes(*args, z, ostat, ws, p, pd_, levy, P, D, Dsr, X, Sseg, lam, xt)
    A0, K0 = cal.supply_segments()
    P_ref = np.ones(R) if P_ref is None else np.asarray(P_ref, dtype=float)
    out = {k: np.empty(R) for k in ("tr", "lr", "qr", "er", "tc", "ir", "fc", "cs", "ps")}
    und = np.zeros((R, R), dtype=np.uint8) if inputs.undertaking is None else inputs.undertaking.astype(np.uint8)
    off_q, off_val = np.zeros(R), np.zeros(R)
    if inputs.offtake_qty is not None:
        priced = inputs.offtake_price > 0
        off_q = np.where(priced, inputs.offtake_qty, 0.0)
        off_val = np.where(priced, inputs.offtake_price * inputs.offtake_qty, 0.0)
    eta = args[4]
    fup = np.zeros(R) if inputs.floor_upside is None else np.asarray(inputs.floor_upside, float)
    V0, ps0 = np.empty(R), np.empty(R)
    kwf.welfare_reference(cal.X0, cal.T0, A0, K0, cal.eps, V0, ps0)
    kwf.market_welfare(cal.X0, cal.T0, eta, cal.B, cal.etab, np.asarray(inputs.T, float),
                       np.asarray(inputs.etax, float), args[7], inputs.g,
                       inputs.A_seg, inputs.K_seg, inputs.floor, fup, inputs.floor_alpha, V0, ps0,
                       cal.eps, p, pd_, levy, P, X, Sseg, lam, xt, P_ref, und, off_q, off_val,
                       np.empty((R, R)), out["tr"], out["lr"], out["qr"], out["er"], out["tc"],
                       out["ir"], out["fc"], out["cs"], out["ps"])
    P0 = cal.price_usd_per_t
    Q = Sseg.sum(axis=1)
    # consumers' use: purchases from origins plus stock released, less stock bought (sec. 5.1)
    net_stock = np.asarray(inputs.release, float) - (0.0 if inputs.refill is None else np.asarray(inputs.refill, float))
    C = X.sum(axis=0) + net_stock
    dom = np.diag(X)
    fob_idx = np.empty(R)
    keq.export_prices(pd_, X, cal.T0, np.asarray(inputs.T, float), fob_idx)
    with np.errstate(invalid="ignore", divide="ignore"):
        delivered = np.where(X > 0, pd_ * cal.price * cal.T0, np.nan)
    nir = net_import_reliance(C, Q)
    return MarketResult(
        code=cal.code, regions=cal.regions, price_unit=cal.price_unit,
        price_index=p, price=p * cal.price,
        delivered_price_index=pd_, delivered_price=delivered,
        consumer_price_index=P, consumer_price=P * cal.unit_value0, composite_demand=D,
        production=Q, production_covered=Sseg[:, SEG_COVERED].copy(), consumption=C,
        imports=C - net_stock - dom, exports=X.sum(axis=1) - dom, flows=X,
        wedges=lam, cap_names=tuple(inputs.cap_names) or tuple(f"restriction_{k}" for k in range(NC)),
        transshipped=xt, fob_price_index=fob_idx, fob_price=fob_idx * cal.price,
        export_tax_revenue=out["er"] * P0, transship_cost=out["tc"] * P0,
        intermediary_rent=out["ir"] * P0, backstop_substitution=np.where(cal.C0 > 0, (Dsr - D) * cal.C0, 0.0),
        levy=levy,
        tariff_revenue=out["tr"] * P0, levy_revenue=out["lr"] * P0, quota_rent=out["qr"] * P0,
        fiscal_cost=out["fc"] * P0, cs_change=out["cs"] * P0, ps_change=out["ps"] * P0,
        net_import_reliance=nir,
        converged=status == keq.STATUS_CONVERGED, status=int(status), iterations=int(iters),
        max_rel_excess=float(mrel), origin_status=ostat, z=z,
    )


def _kernel_args(cal: Calibration, inputs: MarketInputs) -> tuple:
    """The kernel's argument tuple up to (not including) ``z`` (contiguous float64/int64).

    The border factor the kernel sees is ``T (1 + e)``: tariffs and export taxes both scale
    the delivered price (docs/model.md sec. 2)."""
    f = lambda a: np.ascontiguousarray(a, dtype=np.float64)  # noqa: E731
    purchases = inputs.purchases if inputs.offtake_qty is None else inputs.purchases + inputs.offtake_qty
    NC = len(inputs.cap)
    rst = (np.ascontiguousarray(inputs.rk_orig, dtype=np.int64),
           np.ascontiguousarray(inputs.rk_dest, dtype=np.uint8).reshape(NC, cal.n_regions),
           np.ones(NC, dtype=np.uint8), f(inputs.cap), f(inputs.tcost), f(inputs.tcap))
    eta = cal.eta if inputs.eta is None else inputs.eta
    return (f(cal.X0), f(cal.T0), f(cal.w), f(cal.sigma), f(eta), f(cal.eps),
            f(np.asarray(inputs.T) * (1.0 + np.asarray(inputs.etax))), rst,
            f(inputs.mip), f(inputs.g), f(cal.B), f(cal.etab), f(inputs.A_seg), f(inputs.K_seg),
            f(inputs.floor), f(np.asarray(inputs.release, float) - (0.0 if inputs.refill is None else np.asarray(inputs.refill, float))),
            f(purchases))


# --- scenarios: the first period at central values ----------------------------------------------

def scenario_inputs(scn, mineral: str) -> tuple[Calibration, MarketInputs]:
    """Compile a loaded scenario's first period for one mineral at central values.

    The scenario is compiled by :func:`simsrc.policies.compile_market` and materialised by
    :func:`simsrc.policies.draw_inputs` with ``central=True`` (every uncertain number at its
    central value; an event's most likely outcome; a conditional policy is on in the first
    period only if its condition holds there, so policies waiting for an event that cannot
    have happened by then are off). The layers are then composed for period 0 exactly as the
    dynamics kernel composes a period: tariffs applied in order (add or set), export taxes,
    every export restriction in force (compounding where they overlap, each with its
    transshipment route), the highest minimum import price of the clubs an importer belongs to, floors on a
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
        Period-0 kernel arrays; only restrictions in force in period 0 are included; the
        demand elasticity is the first period's short-run one.
    """
    from . import policies as pol_mod
    from .kernels.dynamics import compose_trade_policies, period_inputs

    spec = pol_mod.compile_market(scn, mineral)
    a = pol_mod.draw_inputs(scn, spec, 0, 1, central=True)
    cal0 = spec.cal
    R = cal0.n_regions
    X0 = cal0.X0
    B0 = np.array(a["B"][0], dtype=float)
    cal = replace(cal0, sigma=np.array(a["sigma"][0], dtype=float), eta=np.array(a["eta"][0], dtype=float),
                  eps=np.array(a["eps"][0], dtype=float), adj=np.array(a["adj"][0], dtype=float),
                  B=B0, etab=np.array(a["etab"][0], dtype=float),
                  params={"supply_elasticity": np.array(a["eps"][0]), "demand_elasticity": -np.array(a["eta"][0]),
                          "armington": np.array(a["sigma"][0]), "adjustment_speed": np.array(a["adj"][0]),
                          "backstop": B0, "backstop_elasticity": -np.array(a["etab"][0])})
    t = 0
    # tariffs, export taxes, restrictions and minimum import prices: composed by the period
    # loop's own code
    NC = a["cap_origin"].shape[0]
    rate, T, etax = np.empty((R, R)), np.empty((R, R)), np.empty((R, R))
    rk_on, cap_all, tcost_all, tcap_all = np.empty(NC, dtype=np.uint8), np.empty(NC), np.empty(NC), np.empty(NC)
    mip, und = np.empty((R, R)), np.empty((R, R), dtype=np.uint8)
    compose_trade_policies(0, t, X0, cal.tariff0, a["tar_mask"], a["tar_mode"], a["tar_rate"], a["tar_act"],
                           a["cap_origin"], a["cap_dest"], a["cap_share"], a["cap_cost"], a["cap_tshare"],
                           a["cap_act"], a["etx_origin"], a["etx_dest"], a["etx_rate"], a["etx_act"],
                           a["mip_members"], a["mip_level"], a["mip_und"], a["mip_act"],
                           rate, T, etax, rk_on, cap_all, tcost_all, tcap_all, mip, und)
    # keep the restrictions in force in period 0
    cap_layers = [l for l in spec.layers if l.kind == "cap"]
    used = [c for c in range(NC) if rk_on[c] == 1]
    names = tuple(cap_layers[c].name for c in used)
    # floors against their benchmark, capacity in force, projects, stockpiles and offtake:
    # composed by the period loop's own function from the initial state (benchmarks and
    # consumer prices at baseline, stocks at their initial level)
    phi = a["flo_phi"][0]
    Kst = np.stack([a["K0v"] * (1.0 - phi), a["K0v"] * phi], axis=1)
    stock = np.array(a["stk_init"], dtype=float)
    C0 = cal.C0
    floor, floor_up, invc = np.zeros(R), np.zeros(R), np.zeros(R)
    K_seg, A_seg, K_lim = np.zeros((R, 2)), np.zeros((R, 2)), np.zeros((R, 2))
    dstock, release, refill, purchases = np.zeros(R), np.zeros(R), np.zeros(R), np.zeros(R)
    period_inputs(0, t, a["dt"], a["u0"], a["unlimited"], np.array(C0, dtype=float), a["capex"],
                  a["prj_region"], a["prj_cap"], a["prj_period"], a["prj_cov"],
                  a["flo_level"], a["flo_act"], a["flo_ref"], np.ones(R), 1.0, a["outage_mult"],
                  a["stk_act"], a["stk_trig"], a["stk_rel"], a["stk_refill"], a["stk_below"], a["stk_cap"],
                  a["off_region"], a["off_qty"], a["off_act"], Kst, stock, np.ones(R), np.array(C0, dtype=float),
                  invc, floor, floor_up, K_seg, A_seg, K_lim, dstock, release, refill, purchases)
    purchases = np.zeros(R)  # offtake enters below as offtake_qty (with its price)
    off_q = np.zeros(R)
    off_p = np.zeros(R)
    for o in range(a["off_region"].shape[0]):
        if a["off_act"][0, t, o]:
            r = a["off_region"][o]
            off_q[r] += a["off_qty"][o]
            if a["off_price"][o] > 0:
                off_p[r] = a["off_price"][o]
    inputs = MarketInputs(
        T=T, rk_orig=a["cap_origin"][used].astype(np.int64),
        rk_dest=a["cap_dest"][used].reshape(len(used), R).astype(np.uint8), cap=cap_all[used],
        tcost=tcost_all[used], tcap=tcap_all[used], etax=etax,
        mip=mip, g=np.ones(R), A_seg=A_seg, K_seg=K_lim, floor=floor,
        floor_alpha=np.array(a["flo_alpha"][0], dtype=float), floor_upside=floor_up,
        release=release, refill=refill, purchases=purchases,
        cap_names=names, undertaking=und, offtake_qty=off_q, offtake_price=off_p,
        eta=cal.short_run_eta(a["dt"]),
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
