"""Scenario discovery over a run's or a comparison's draws: PRIM (Friedman and Fisher 1999).

Which combinations of inputs produce the outcome of interest? ``y`` is 1 for the draws where a
per-draw statistic meets a condition (e.g. the floor's fiscal cost NPV above USD 2 bn), the
inputs are the draws' uncertain inputs and event outcomes (``inputs.parquet``).

Peeling: starting from the box holding every draw, each step removes the ``alpha`` share of the
draws still in the box at the low or the high end of one input, choosing the peel that leaves
the highest share of ``y = 1`` in the box (density); it stops when the box holds fewer than
``min_support`` of the draws. Every step is kept (the peeling trajectory) with its coverage
(share of all ``y = 1`` draws inside the box), density and support. The reported box is the one
with the best balance of coverage and density (their harmonic mean) unless a minimum density
is asked for, in which case it is the first box reaching it. Restrictions that hardly matter
(lifting one lowers the density by less than one point or one standard error of the box's
density) are then lifted, one at a time. No pasting step.

Written here rather than taken from EMA Workbench: that package brings a large dependency tree
(ipyparallel, altair, statsmodels, ...) for one algorithm of about a hundred lines; this
implementation follows its definitions (coverage, density, peeling on quantiles) and is tested
on a problem whose true box is known.
"""

from __future__ import annotations

import json
import operator
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import SimsrcError

OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "==": operator.eq}


@dataclass
class Box:
    lower: dict
    upper: dict
    coverage: float
    density: float
    support: float
    n: int

    def conditions(self, data_min: dict, data_max: dict, fmt="{:.4g}") -> list[str]:
        """Readable restrictions: only the inputs the box restricts."""
        out = []
        for k in self.lower:
            lo, hi = self.lower[k], self.upper[k]
            has_lo, has_hi = lo > data_min[k], hi < data_max[k]
            if has_lo and has_hi:
                out.append(f"{fmt.format(lo)} <= {k} <= {fmt.format(hi)}")
            elif has_lo:
                out.append(f"{k} >= {fmt.format(lo)}")
            elif has_hi:
                out.append(f"{k} <= {fmt.format(hi)}")
        return out


def prim(X: pd.DataFrame, y: np.ndarray, *, alpha: float = 0.05, min_support: float = 0.05):
    """Peeling trajectory (DataFrame: step, coverage, density, support, n, restricted) and boxes."""
    y = np.asarray(y, dtype=float)
    if not (0 < alpha < 0.5):
        raise SimsrcError(f"alpha must be in (0, 0.5), got {alpha}")
    if y.sum() == 0:
        raise SimsrcError("no draw meets the condition: nothing to discover")
    cols = [c for c in X.columns if X[c].nunique() > 1]
    V = X[cols].to_numpy(dtype=float)
    n = len(y)
    total = y.sum()
    inside = np.ones(n, dtype=bool)
    lower = {c: float(V[:, k].min()) for k, c in enumerate(cols)}
    upper = {c: float(V[:, k].max()) for k, c in enumerate(cols)}
    boxes = [Box(dict(lower), dict(upper), 1.0, float(y.mean()), 1.0, n)]
    while inside.sum() > max(min_support * n, 2):
        best = None
        idx = np.nonzero(inside)[0]
        for k, c in enumerate(cols):
            v = V[idx, k]
            for side in ("low", "high"):
                q = np.quantile(v, alpha) if side == "low" else np.quantile(v, 1 - alpha)
                keep = v > q if side == "low" else v < q
                if keep.all() or not keep.any():
                    continue
                dens = y[idx][keep].mean()
                if best is None or dens > best[0] + 1e-12:
                    best = (dens, k, c, side, q, keep)
        if best is None:
            break
        dens, k, c, side, q, keep = best
        if keep.sum() < min_support * n:
            break
        new = np.zeros(n, dtype=bool)
        new[idx[keep]] = True
        inside = new
        if side == "low":
            lower[c] = float(V[inside, k].min())
        else:
            upper[c] = float(V[inside, k].max())
        boxes.append(Box(dict(lower), dict(upper), float(y[inside].sum() / total), float(dens),
                         float(inside.mean()), int(inside.sum())))
    dmin = {c: float(V[:, k].min()) for k, c in enumerate(cols)}
    dmax = {c: float(V[:, k].max()) for k, c in enumerate(cols)}
    traj = pd.DataFrame([{"step": s, "coverage": b.coverage, "density": b.density, "support": b.support, "n": b.n,
                          "restricted": len(b.conditions(dmin, dmax))} for s, b in enumerate(boxes)])
    return traj, boxes, dmin, dmax


def prune(box: Box, X: pd.DataFrame, y: np.ndarray, dmin: dict, dmax: dict, tol: float = 0.01) -> Box:
    """Drop the box's restrictions that hardly matter: one at a time, the restriction whose
    removal lowers the density least is lifted while the density falls by less than ``tol`` or
    one standard error of the box's density, ``sqrt(d (1 - d) / n)``, whichever is larger
    (peeling on sampling noise in an irrelevant input adds such restrictions)."""
    y = np.asarray(y, dtype=float)
    total = y.sum()
    lower, upper = dict(box.lower), dict(box.upper)

    def mask(lo, hi):
        m = np.ones(len(y), dtype=bool)
        for c in lo:
            v = X[c].to_numpy(dtype=float)
            m &= (v >= lo[c]) & (v <= hi[c])
        return m

    m0 = mask(lower, upper)
    dens = y[m0].mean()
    tol = max(tol, float(np.sqrt(dens * (1 - dens) / max(m0.sum(), 1))))
    while True:
        best = None
        for c in lower:
            if lower[c] <= dmin[c] and upper[c] >= dmax[c]:
                continue
            lo, hi = dict(lower), dict(upper)
            lo[c], hi[c] = dmin[c], dmax[c]
            m = mask(lo, hi)
            d = y[m].mean()
            if d >= dens - tol and (best is None or d > best[0]):
                best = (d, c)
        if best is None:
            break
        lower[best[1]], upper[best[1]] = dmin[best[1]], dmax[best[1]]
    m = mask(lower, upper)
    return Box(lower, upper, float(y[m].sum() / total), float(y[m].mean()), float(m.mean()), int(m.sum()))


def choose(traj: pd.DataFrame, min_density: float | None = None) -> int:
    """The reported box: the first reaching ``min_density``, else the best harmonic mean of
    coverage and density."""
    if min_density is not None:
        ok = traj[traj["density"] >= min_density]
        if len(ok):
            return int(ok["step"].iloc[0])
    h = 2 * traj["coverage"] * traj["density"] / (traj["coverage"] + traj["density"])
    return int(traj["step"].iloc[int(np.argmax(h.to_numpy()))])


def parse_where(text: str):
    m = re.fullmatch(r"\s*(>=|<=|==|>|<)\s*([-+0-9.eE]+)\s*", text or "")
    if not m:
        raise SimsrcError(f"--where {text!r}: write a comparison with a number, e.g. '> 2e9' or '<= 0'")
    return m.group(1), float(m.group(2))


def discover(results, output: str, where: str, *, side: str = "scenario", alpha: float = 0.05,
             min_support: float = 0.05, min_density: float | None = None, write: bool = True) -> dict:
    """PRIM on a results folder: ``output`` is ``STAT:MINERAL:REGION`` (a per-draw statistic of
    ``draws.parquet``; in a comparison the paired effect), ``where`` the condition on it."""
    from .errors import unknown_name_message
    from .results import Results

    r = Results(results)
    if not (r.path / "inputs.parquet").exists():
        raise SimsrcError(f"{r.path} has no inputs.parquet (runs made before per-draw inputs were kept); run it again")
    parts = output.split(":")
    if len(parts) != 3:
        raise SimsrcError(f"--output {output!r}: write STAT:MINERAL:REGION, e.g. npv_floor_fiscal_cost:ndpr_oxide:USA")
    stat, mineral, region = parts
    d = r.draws
    if stat not in d.columns:
        raise SimsrcError(unknown_name_message("per-draw statistic", stat, [c for c in d.columns if c not in ("draw", "mineral", "region")]))
    sel = d[(d["mineral"] == mineral) & (d["region"] == region)]
    if sel.empty:
        raise SimsrcError(f"no draws for mineral {mineral!r} and region {region!r} in {r.path}")
    op, thr = parse_where(where)
    yv = sel.set_index("draw")[stat]
    X = r.inputs(wide=True, side=side)
    if X.empty:
        raise SimsrcError(f"no inputs of side {side!r} in {r.path}")
    X = X.drop(columns=["side"]).set_index("draw").reindex(yv.index)
    # another mineral's dataset parameters cannot move this mineral's outcome: leave them out,
    # so that PRIM does not peel on noise in them
    X = X[[c for c in X.columns if not (c.startswith("elasticities.") and c.split(".")[1] != mineral)]]
    y = OPS[op](yv.to_numpy(), thr).astype(float)
    traj, boxes, dmin, dmax = prim(X, y, alpha=alpha, min_support=min_support)
    k = choose(traj, min_density)
    cols = [c for c in X.columns if c in dmin]
    box = prune(boxes[k], X[cols], y, dmin, dmax)
    conds = box.conditions(dmin, dmax)
    out = {"output": output, "where": where, "draws": len(y), "cases": int(y.sum()), "step": k,
           "coverage": box.coverage, "density": box.density, "support": box.support, "conditions": conds,
           "trajectory": traj}
    if write:
        folder = r.path / "discovery"
        folder.mkdir(exist_ok=True)
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{output}{where}")
        traj.to_csv(folder / f"prim-{stem}-trajectory.csv", index=False)
        (folder / f"prim-{stem}-box.json").write_text(json.dumps(
            {k_: v for k_, v in out.items() if k_ != "trajectory"} | {"lower": box.lower, "upper": box.upper}, indent=1))
        out["folder"] = folder
    return out
