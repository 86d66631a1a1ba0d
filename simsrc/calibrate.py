"""Calibration in share form: baseline data + parameters -> the arrays the kernels use.

docs/model.md sec. 1. With baseline policies and parameters the levels model reproduces the
baseline flows exactly, whatever the elasticities: every price index is 1 at baseline, the
Armington weights are the baseline value shares at delivered prices (GSIM's theta) and the
supply shifters equal baseline production.

Conventions (shared with :mod:`simsrc.kernels.equilibrium`):

- region order is the dataset's; arrays are ``(R,)`` per region or ``(R, R)`` origin x
  destination;
- quantities are tonnes per year (t/yr); prices inside the solver are indices (1 at baseline);
- an origin with zero baseline production is *inactive* (it has no variety); a destination
  with zero baseline consumption has no demand. The kernel keeps their price index at 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .data import baseline_export_taxes
from .errors import SimsrcError
from .units import convert_price

#: Number of supply segments per origin in the kernel's arrays: segment 0 is not covered by a
#: producer price floor, segment 1 is covered (share ``phi`` of capacity and supply shifter).
N_SEGMENTS = 2
#: Segment index of the part of an origin's capacity not covered by a producer price floor.
SEG_UNCOVERED = 0
#: Segment index of the part covered by a producer price floor.
SEG_COVERED = 1

#: Parameter names accepted by :func:`calibrate` (dataset elasticity names).
PARAMETER_NAMES = ("supply_elasticity", "demand_elasticity", "armington", "adjustment_speed",
                   "backstop", "backstop_elasticity")

#: Default weight of a latent trade link, as a share of the destination's consumption
#: (docs/model.md sec. 1): a producing origin with no baseline flow to a consuming
#: destination serves it with the Armington weight of a flow of this size.
DEFAULT_LATENT_LINK_WEIGHT = 1e-3

#: Defaults of the demand parameters a dataset may leave out: instant adjustment (speed 1 per
#: year) and no backstop (``inf``); the backstop elasticity then defaults to the demand one.
PARAMETER_DEFAULTS = {"adjustment_speed": 1.0, "backstop": np.inf}


class CalibrationError(SimsrcError):
    """Baseline data or parameters that cannot be calibrated (wrong sign, wrong shape)."""


@dataclass(frozen=True)
class Calibration:
    """Calibrated share-form arrays of one mineral market.

    Attributes
    ----------
    code : str
        Mineral code.
    regions : tuple of str
        Region order of every array (length R).
    price : float
        Baseline world price ``P0`` in ``price_unit`` (the dataset's unit, for reporting).
    price_unit : str
        Unit of ``price`` (e.g. ``USD/kg``).
    price_usd_per_t : float
        ``P0`` in USD/t (used for every value in USD/yr).
    X0 : ndarray (R, R)
        Baseline flows origin -> destination, t/yr.
    T0 : ndarray (R, R)
        Baseline border factors ``(1 + tariff) (1 + e0) (1 + lam0)`` with the dataset's
        baseline export taxes ``e0`` and binding quotas' wedges ``lam0`` (docs/model.md sec.
        1.3); ``1 + tariff`` where the dataset states no restriction. Weights and baseline
        values are at these prices.
    tariff0 : ndarray (R, R)
        Baseline tariff factors ``1 + rate`` alone: the base that tariff policies modify.
    w : ndarray (R, R)
        Baseline value shares at delivered prices, ``X0 * T0 / sum_i X0 * T0`` per destination
        column (GSIM's theta); 0 where there is no flow and in columns without consumption.
    Q0, C0 : ndarray (R,)
        Baseline production (row sums) and consumption (column sums), t/yr.
    V0 : ndarray (R,)
        Baseline expenditure per destination at delivered prices in index units,
        ``sum_i X0 * T0`` (t/yr x index); times ``price_usd_per_t`` it is USD/yr.
    unit_value0 : ndarray (R,)
        Baseline delivered (consumer) price per destination in ``price_unit``:
        ``P0 * V0 / C0`` (``P0`` where there is no consumption).
    u0 : ndarray (R,)
        Baseline capacity utilisation in (0, 1]; NaN = no capacity limit.
    K0 : ndarray (R,)
        Baseline capacity ``Q0 / u0``, t/yr; ``inf`` where ``u0`` is NaN.
    active_origin, active_dest : ndarray (R,) bool
        Origins with positive production; destinations with positive consumption.
    eps : ndarray (R,)
        Supply elasticity per origin (> 0).
    eta : ndarray (R,)
        Long-run composite demand elasticity per destination, as a positive number (``-demand
        elasticity``).
    adj : ndarray (R,)
        Partial-adjustment speed per destination: the share of the gap to long-run demand
        closed within a year, in (0, 1] (1 = instant).
    B : ndarray (R,)
        Backstop price index per destination (multiple of the baseline composite price;
        ``inf`` = none).
    etab : ndarray (R,)
        Demand elasticity above the backstop, positive (``-backstop_elasticity``).
    X0_data : ndarray (R, R)
        The dataset's flows before latent links were added, t/yr.
    latent_link_weight : float
        Weight ``psi`` of the latent links added to ``X0`` (share of destination consumption).
    sigma : ndarray (R,)
        Armington elasticity of substitution per destination (> 0, not 1).
    params : dict
        The scalar or array parameter values used (by dataset name).
    """

    code: str
    regions: tuple
    price: float
    price_unit: str
    price_usd_per_t: float
    X0: np.ndarray
    T0: np.ndarray
    tariff0: np.ndarray
    w: np.ndarray
    Q0: np.ndarray
    C0: np.ndarray
    V0: np.ndarray
    unit_value0: np.ndarray
    u0: np.ndarray
    K0: np.ndarray
    active_origin: np.ndarray
    active_dest: np.ndarray
    eps: np.ndarray
    eta: np.ndarray
    sigma: np.ndarray
    adj: np.ndarray
    B: np.ndarray
    etab: np.ndarray
    X0_data: np.ndarray
    latent_link_weight: float = 0.0
    restrictions: tuple = ()
    params: dict = field(default_factory=dict)

    def short_run_eta(self, period_years: float) -> np.ndarray:
        """Short-run demand elasticity of a period of ``period_years``: ``a eta`` with the
        per-period adjustment ``a = 1 - (1 - adj)^dt``."""
        return period_adjustment(self.adj, period_years) * self.eta

    @property
    def n_regions(self) -> int:
        return len(self.regions)

    def region_index(self, region: str) -> int:
        """Index of a region code in the arrays."""
        try:
            return self.regions.index(region)
        except ValueError:
            raise CalibrationError(f"unknown region {region!r}; known: {', '.join(self.regions)}") from None

    def baseline_policies(self):
        """The dataset's baseline restrictions as policies in force (docs/model.md sec. 1.3).

        Returns
        -------
        etax : ndarray (R, R)
            Baseline export tax rates.
        quotas : list of (name, origin, dest, share)
            Each quota's origin, destination mask (uint8, R) and cap as a share of the
            calibrated baseline flows it covers: 1 where it binds (the baseline replicates with
            it binding at wedge ``lam0``), ``quota / baseline flows`` (>= 1) where it does not.
        """
        quotas = []
        for k, r in enumerate(self.restrictions):
            cols = r.dest == 1
            if r.kind == "quota":
                data = float(self.X0_data[r.origin, cols].sum())
                share = 1.0 if r.lam0 > 0 else (r.value / data if data > 0 else np.inf)
                quotas.append((f"dataset_quota_{self.regions[r.origin]}_{k}", r.origin, r.dest.copy(), share))
        return baseline_export_taxes(self.restrictions, self.n_regions), quotas

    def supply_segments(self, phi=None, capacity=None):
        """Supply shifters and capacities of the two supply segments.

        Parameters
        ----------
        phi : array_like (R,), optional
            Share of each origin's capacity (and supply shifter) covered by a producer price
            floor, in [0, 1]; default 0 (nothing covered).
        capacity : array_like (R,), optional
            Capacity to split, t/yr; default the baseline capacity ``K0``. The supply shifter
            scales with capacity (``A = Q0 * capacity / K0``) so that utilisation at the
            baseline price stays ``u0``; where there is no limit it stays ``Q0``.

        Returns
        -------
        A_seg, K_seg : ndarray (R, 2)
            Supply shifter (t/yr at producer price index 1) and capacity (t/yr; ``inf`` = no
            limit) of segment 0 (uncovered) and 1 (covered by the floor).
        """
        R = self.n_regions
        phi = np.zeros(R) if phi is None else np.broadcast_to(np.asarray(phi, float), (R,))
        if np.any((phi < 0) | (phi > 1)):
            raise CalibrationError(f"floor coverage shares must be in [0, 1], got {phi}")
        if capacity is None:
            K, A = self.K0.copy(), self.Q0.copy()
        else:
            K = np.broadcast_to(np.asarray(capacity, float), (R,)).copy()
            with np.errstate(invalid="ignore", divide="ignore"):
                scale = np.where(np.isfinite(self.K0) & (self.K0 > 0), K / np.where(self.K0 > 0, self.K0, 1.0), 1.0)
            A = self.Q0 * scale
            K = np.where(np.isfinite(self.K0), K, np.inf)
        A_seg = np.empty((R, N_SEGMENTS))
        K_seg = np.empty((R, N_SEGMENTS))
        A_seg[:, SEG_UNCOVERED] = (1.0 - phi) * A
        A_seg[:, SEG_COVERED] = phi * A
        with np.errstate(invalid="ignore"):
            K_seg[:, SEG_UNCOVERED] = (1.0 - phi) * K
            K_seg[:, SEG_COVERED] = phi * K
        # 0 * inf is nan: an empty segment without a limit has no capacity to speak of
        K_seg[np.isnan(K_seg)] = 0.0
        return A_seg, K_seg


def period_adjustment(adj, period_years: float):
    """Per-period partial-adjustment share ``1 - (1 - adj)^dt`` of an annual speed ``adj``."""
    return 1.0 - np.power(1.0 - np.asarray(adj, dtype=float), float(period_years))


def add_latent_links(X0: np.ndarray, psi: float) -> np.ndarray:
    """Baseline flows with a latent link of ``psi * C0[j]`` t/yr from every producing origin
    to every consuming destination it does not serve (docs/model.md sec. 1)."""
    X = np.array(X0, dtype=float)
    if psi <= 0:
        return X
    Q0 = X.sum(axis=1)
    C0 = X.sum(axis=0)
    latent = (Q0[:, None] > 0) & (C0[None, :] > 0) & (X <= 0)
    np.fill_diagonal(latent, False)
    return np.where(latent, psi * C0[None, :], X)


def _param_array(value, R, name):
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        arr = np.full(R, float(arr))
    if arr.shape != (R,):
        raise CalibrationError(f"parameter {name} must be a scalar or an array of {R} values, got shape {arr.shape}")
    if name == "backstop":
        arr = np.where(np.isnan(arr), np.inf, arr)
        if np.any(arr <= 1.0):
            raise CalibrationError(f"backstop must be a price index above 1 (or none), got {arr}")
        return arr
    if not np.all(np.isfinite(arr)):
        raise CalibrationError(f"parameter {name} must be finite, got {arr}")
    return arr


def baseline_border_factors(tariff0: np.ndarray, restrictions) -> np.ndarray:
    """``(1 + tariff) (1 + e0) prod (1 + lam0)``: the baseline border factors with the dataset's
    export taxes and binding quotas in force (docs/model.md sec. 1.3)."""
    R = tariff0.shape[0]
    wedge = np.ones((R, R))
    for r in restrictions:
        if r.kind == "quota":
            wedge[r.origin, r.dest == 1] *= 1.0 + r.lam0
    return tariff0 * (1.0 + baseline_export_taxes(restrictions, R)) * wedge


def calibrate(mineral, params: dict | None = None, *,
              latent_link_weight: float = DEFAULT_LATENT_LINK_WEIGHT) -> Calibration:
    """Calibrate one mineral market in share form.

    Parameters
    ----------
    mineral : simsrc.data.MineralData
        Baseline flows (t/yr), tariffs (ad valorem fractions), utilisation, price, elasticities.
    params : dict, optional
        Overrides of ``supply_elasticity`` (> 0, per origin), ``demand_elasticity`` (< 0, per
        destination) and ``armington`` (> 0 and not 1, per destination): a scalar or an array
        of R values each; ``adjustment_speed`` (in (0, 1] per year), ``backstop`` (index > 1,
        ``inf`` none) and ``backstop_elasticity`` (< 0) per destination likewise. Missing
        names take the dataset's central value (or the defaults of :data:`PARAMETER_DEFAULTS`).
    latent_link_weight : float
        Weight ``psi`` of latent links (share of destination consumption, >= 0; 0 = none).

    Returns
    -------
    Calibration

    Raises
    ------
    CalibrationError
        Unknown parameter names, values of the wrong sign, an Armington elasticity of 1.
    """
    params = dict(params or {})
    unknown = sorted(set(params) - set(PARAMETER_NAMES))
    if unknown:
        raise CalibrationError(f"unknown parameter(s) {unknown}; known: {list(PARAMETER_NAMES)}")
    R = len(mineral.regions)
    values = {}
    for name in PARAMETER_NAMES:
        if name in params:
            v = params[name]
        elif name == "backstop_elasticity" and "demand_elasticity" in params:
            # an overridden demand elasticity: the elasticity above the backstop is at least it
            v = np.minimum(values["demand_elasticity"], mineral.elasticities.get(name, (0.0,))[0])
        elif name in mineral.elasticities:
            v = mineral.elasticities[name][0]
        elif name == "backstop_elasticity":
            v = values["demand_elasticity"]
        else:
            v = PARAMETER_DEFAULTS[name]
        values[name] = _param_array(v, R, name)
    eps = values["supply_elasticity"]
    eta = -values["demand_elasticity"]
    sigma = values["armington"]
    if np.any(eps <= 0):
        raise CalibrationError(f"supply elasticity must be positive, got {eps}")
    if np.any(eta <= 0):
        raise CalibrationError(f"demand elasticity must be negative, got {-eta}")
    if np.any(sigma <= 0) or np.any(np.abs(sigma - 1.0) < 1e-9):
        raise CalibrationError(f"Armington elasticity must be positive and not 1, got {sigma}")
    adj = values["adjustment_speed"]
    if np.any(adj <= 0) or np.any(adj > 1):
        raise CalibrationError(f"adjustment speed must be in (0, 1] per year, got {adj}")
    B = values["backstop"]
    etab = -values["backstop_elasticity"]
    if np.any(etab <= 0):
        raise CalibrationError(f"backstop elasticity must be negative, got {-etab}")
    if np.any(etab < eta - 1e-12):
        raise CalibrationError(f"the backstop elasticity ({-etab}) must be at least as elastic as the demand "
                               f"elasticity ({-eta}): demand cannot become less elastic above the backstop")
    if not (np.isfinite(latent_link_weight) and latent_link_weight >= 0):
        raise CalibrationError(f"latent link weight must be >= 0, got {latent_link_weight}")

    X0_data = np.array(mineral.flows, dtype=float)
    X0 = add_latent_links(X0_data, float(latent_link_weight))
    tariff0 = 1.0 + np.array(mineral.tariffs, dtype=float)
    T0 = baseline_border_factors(tariff0, getattr(mineral, "restrictions", ()))
    Q0 = X0.sum(axis=1)
    C0 = X0.sum(axis=0)
    V0 = (X0 * T0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.where(V0[None, :] > 0, X0 * T0 / np.where(V0 > 0, V0, 1.0)[None, :], 0.0)
    u0 = np.array(mineral.utilisation, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        K0 = np.where(np.isnan(u0), np.inf, Q0 / np.where(np.isnan(u0), 1.0, u0))
    P0_usd = convert_price(mineral.price, mineral.price_unit, "USD/t")
    with np.errstate(invalid="ignore", divide="ignore"):
        unit_value0 = np.where(C0 > 0, mineral.price * V0 / np.where(C0 > 0, C0, 1.0), mineral.price)
    arrays = dict(X0=X0, T0=T0, tariff0=tariff0, w=w, Q0=Q0, C0=C0, V0=V0, unit_value0=unit_value0, u0=u0, K0=K0,
                  active_origin=Q0 > 0, active_dest=C0 > 0, eps=eps, eta=eta, sigma=sigma,
                  adj=adj, B=B, etab=etab, X0_data=X0_data)
    for a in arrays.values():
        a.setflags(write=False)
    return Calibration(
        code=mineral.code, regions=tuple(mineral.regions), price=float(mineral.price),
        price_unit=mineral.price_unit, price_usd_per_t=float(P0_usd),
        latent_link_weight=float(latent_link_weight),
        restrictions=tuple(getattr(mineral, "restrictions", ())),
        params={k: (v[0] if np.all(v == v[0]) else v.copy()) for k, v in values.items()},
        **arrays,
    )
