"""Linear mode: the levels model linearised around the baseline, solved as GSIM does.

GSIM (Francois & Hall 2003, "Global Simulation Analysis of Industry-Level Trade Policy") writes
every equation of the Armington model in proportional changes around the benchmark and solves
a linear system in the exporters' world price changes ``x[i]`` (docs/model.md sec. 2, "Linear mode").
With the same calibration as the levels model (:mod:`simsrc.calibrate`):

- proportional change of the delivered price ``dpd[i,j] = x[i] + dT[i,j]``, with
  ``dT = T / T0 - 1`` the proportional change of the tariff factor;
- composite price ``dP[j] = sum_i theta[i,j] dpd[i,j]`` (``theta`` = value shares at internal
  prices, the calibration's ``w``);
- bilateral demand ``dX[i,j] = E_m dP[j] + sigma (dP[j] - dpd[i,j]) + dg[j]``, i.e. GSIM's own
  price elasticity ``theta E_m - (1 - theta) sigma`` and cross price elasticity
  ``theta (E_m + sigma)``, with ``E_m = -eta``;
- clearing ``eps[i] x[i] = sum_j phi[i,j] dX[i,j]``, ``phi`` = the origin's sales shares at
  world prices (row shares of ``X0``).

The resulting system ``M x = b`` is solved directly. Inactive origins (no baseline production)
have ``x = 0``; destinations without consumption contribute nothing. Capacity limits, floors,
caps and minimum import prices are not part of GSIM and are not linearised here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .calibrate import Calibration, CalibrationError


@dataclass(frozen=True)
class LinearResult:
    """Proportional changes from the linear (GSIM) solution.

    Attributes
    ----------
    regions : tuple of str
    world_price_change : ndarray (R,)
        ``x``: proportional change of each origin's world (exporter) price.
    delivered_price_change : ndarray (R, R)
        ``x[i] + dT[i,j]`` (0 where there is no flow).
    composite_price_change : ndarray (R,)
        ``dP[j]``.
    flow_change : ndarray (R, R)
        Proportional change of each flow (0 where there is no flow).
    production_change, consumption_change : ndarray (R,)
        Proportional changes of production (``eps * x``) and of consumption (t-weighted).
    """

    regions: tuple
    world_price_change: np.ndarray
    delivered_price_change: np.ndarray
    composite_price_change: np.ndarray
    flow_change: np.ndarray
    production_change: np.ndarray
    consumption_change: np.ndarray


def solve_linear(cal: Calibration, T=None, g=None) -> LinearResult:
    """Solve the linearised (GSIM) model for a change of tariffs and demand shifters.

    Parameters
    ----------
    cal : Calibration
        Share-form calibration (the same as the levels model's).
    T : array_like (R, R), optional
        New tariff factors (1 + rate); default the baseline ``T0`` (no change).
    g : array_like (R,), optional
        New composite demand shifters (index, baseline 1); ``dg = g - 1``.

    Returns
    -------
    LinearResult
    """
    R = cal.n_regions
    T = cal.T0 if T is None else np.asarray(T, dtype=float)
    g = np.ones(R) if g is None else np.asarray(g, dtype=float)
    if T.shape != (R, R) or g.shape != (R,):
        raise CalibrationError(f"T must be ({R}, {R}) and g ({R},)")
    X0, theta = cal.X0, cal.w
    has = X0 > 0
    dT = np.where(has, T / cal.T0 - 1.0, 0.0)
    dg = np.where(cal.active_dest, g - 1.0, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        phi = np.where(cal.Q0[:, None] > 0, X0 / np.where(cal.Q0 > 0, cal.Q0, 1.0)[:, None], 0.0)
    s, eta, eps = cal.sigma, cal.eta, cal.eps
    c = s - eta                                    # E_m + sigma
    act = np.flatnonzero(cal.active_origin)
    # M[i, l] = sum_j phi[i,j] (E_m + sigma)_j theta[l,j] - delta_il (sum_j phi[i,j] sigma_j + eps_i)
    M = (phi * c[None, :]) @ theta.T
    M -= np.diag(phi @ s + eps)
    dPT = (theta * dT).sum(axis=0)                  # tariff part of dP[j]
    b = -((phi * (c * dPT + dg)[None, :]).sum(axis=1) - (phi * s[None, :] * dT).sum(axis=1))
    x = np.zeros(R)
    x[act] = np.linalg.solve(M[np.ix_(act, act)], b[act])
    dpd = np.where(has, x[:, None] + dT, 0.0)
    dP = (theta * dpd).sum(axis=0)
    dX = np.where(has, (-eta * dP + dg)[None, :] + s[None, :] * (dP[None, :] - dpd), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        dC = np.where(cal.C0 > 0, (X0 * dX).sum(axis=0) / np.where(cal.C0 > 0, cal.C0, 1.0), 0.0)
    return LinearResult(
        regions=cal.regions, world_price_change=x, delivered_price_change=dpd,
        composite_price_change=dP, flow_change=dX, production_change=eps * x * cal.active_origin,
        consumption_change=dC,
    )
