"""Global sensitivity analysis of a scenario or a paired comparison (SALib methods).

The driver (docs/model.md sec. 6.3):

1. **Inputs.** The scenario's declared uncertain inputs that can move the outcomes' minerals
   (dynamics, events, parameters and policies that apply to them, their dataset elasticities);
   with ``--against``, the union of both scenarios' inputs, one value per name shared by both
   sides. Every other uncertain input is held at its central value (its mean).
2. **Design.** SALib samples the unit cube (Sobol: scrambled Sobol sequence, Saltelli's
   scheme, ``N`` a power of two; Morris: ``N`` trajectories on 4 levels; FAST: ``N`` per
   parameter; delta and PAWN: Latin hypercube of ``N`` rows); every coordinate is mapped
   through its input's inverse CDF, so the design follows the declared distributions.
3. **Stochastic elements** (demand shocks, event outcomes, project and outage timing) are
   common random numbers: every design row takes the shocks of one draw (``shock_draw``), so
   the indices attribute the variance of the outcome given the shocks to the inputs. The share
   of variance that the shocks themselves add is estimated separately: ``shock_rows`` design
   rows are re-run under ``shock_replicates`` other shock draws, and the mean within-row
   variance is reported against the design's variance (``shock_share``).
4. **Failed solves never break the design.** A row with a non-converged period is re-run with
   a more robust setting (4x the iterations, tolerance 1e-8); if it still fails it is recorded
   with its inputs, and the analysis drops its whole block (a Sobol block of D+2 rows, a Morris
   trajectory) or, for the given-data methods (delta, PAWN), the row. FAST cannot drop rows: an
   outcome with a failed row gets no FAST indices and says so. No NaN reaches SALib.
5. **Confidence and convergence.** Bootstrap intervals (95%) for every index (SALib's, or
   resampled rows for PAWN); the indices at N are compared with those on the first half of the
   design (N/2 blocks) and the study says whether N was enough.
"""

from __future__ import annotations

import fnmatch
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import SimsrcError

METHODS = ("sobol", "morris", "fast", "delta", "pawn")
CONF_LEVEL = 0.95
CONVERGENCE_TOL = 0.05   # largest change of a main index between N/2 and N deemed converged
U_EPS = 1e-9             # unit-cube coordinates are clipped into [U_EPS, 1 - U_EPS]


@dataclass(frozen=True)
class Outcome:
    """A per-draw statistic (:data:`simsrc.outputs.PER_DRAW`) of one mineral and region; in a
    comparison the paired effect, in percent of the counterfactual when ``relative``."""

    stat: str
    mineral: str
    region: str
    relative: bool = False

    @property
    def label(self) -> str:
        return f"{self.stat}{'%' if self.relative else ''}:{self.mineral}:{self.region}"


def parse_outcome(text: str) -> Outcome:
    """``STAT[%]:MINERAL:REGION``: a per-draw statistic, e.g. ``mean_consumer_price%:ndpr_oxide:USA``
    (the paired effect in percent) or ``npv_floor_fiscal_cost:ndpr_oxide:USA``, or a per-period
    output in one period, ``OUTPUT@K`` with ``K`` a period index from 0 (``consumer_price@7``)."""
    from .errors import unknown_name_message
    from .outputs import BY_NAME, DRAW_BY_NAME

    parts = text.split(":")
    if len(parts) != 3:
        raise SimsrcError(f"outcome {text!r}: write STAT[%]:MINERAL:REGION, e.g. mean_consumer_price%:ndpr_oxide:USA "
                          "or consumer_price@7:ndpr_oxide:USA (period 7)")
    stat, mineral, region = parts
    rel = stat.endswith("%")
    stat = stat.rstrip("%")
    if "@" in stat:
        out, _, k = stat.partition("@")
        if out not in BY_NAME or not k.isdigit():
            raise SimsrcError(f"outcome {text!r}: OUTPUT@K needs a per-period output and a period index; "
                              + unknown_name_message("output", out, BY_NAME))
    elif stat not in DRAW_BY_NAME:
        raise SimsrcError(f"outcome {text!r}: " + unknown_name_message("per-draw statistic", stat, DRAW_BY_NAME)
                          + " (or OUTPUT@K for one period)")
    return Outcome(stat, mineral, region, rel)


def headline_outcomes(minerals, region: str = "USA") -> list[Outcome]:
    """The comparison headline table's measures for each mineral (``--all-headlines``)."""
    from .outputs import HEADLINES

    return [Outcome(col, m, region, rel) for m in minerals for _, col, _, _, rel in HEADLINES]


# ----------------------------------------------------------------------------------------------
# design and analysis (engine-free: the analytic tests drive these with Python functions)
# ----------------------------------------------------------------------------------------------


def make_problem(names: list[str], groups: dict[str, list[str]] | None = None) -> dict:
    """SALib problem on the unit cube; ``groups`` maps a group name to its input names."""
    problem = {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}
    if groups:
        of = {}
        for g, members in groups.items():
            for n in members:
                of[n] = g
        problem["groups"] = [of.get(n, n) for n in names]
    return problem


def factors(problem: dict) -> list[str]:
    """The analysed factors: the groups (in first-appearance order) or the inputs."""
    g = problem.get("groups")
    return list(dict.fromkeys(g)) if g else list(problem["names"])


def block_size(problem: dict, method: str) -> int:
    k = len(factors(problem))
    return {"sobol": k + 2, "morris": k + 1}.get(method, 1)


def sample_unit(problem: dict, method: str, N: int, seed: int) -> np.ndarray:
    """The design on the unit cube (rows x inputs)."""
    from SALib.sample import fast_sampler, latin, morris as morris_sample, sobol as sobol_sample

    if method not in METHODS:
        from .errors import unknown_name_message
        raise SimsrcError(unknown_name_message("method", method, METHODS))
    if method == "sobol":
        if N < 4 or N & (N - 1):
            raise SimsrcError(f"Sobol designs need N a power of two (>= 4): got {N}; e.g. {1 << max(2, int(N).bit_length())}")
        U = sobol_sample.sample(problem, N, calc_second_order=False, scramble=True, seed=seed)
    elif method == "morris":
        U = morris_sample.sample(problem, N, num_levels=4, seed=seed)
    elif method == "fast":
        if problem.get("groups"):
            raise SimsrcError("FAST does not take groups; use sobol or morris for grouped inputs")
        if N <= 4 * 4 ** 2:
            raise SimsrcError(f"FAST needs N > 64 (4 M^2 with M = 4); got {N}")
        U = fast_sampler.sample(problem, N, M=4, seed=seed)
    else:
        if problem.get("groups"):
            raise SimsrcError(f"{method} does not take groups; use sobol or morris for grouped inputs")
        U = latin.sample(problem, N, seed=seed)
    return np.clip(np.asarray(U, dtype=float), U_EPS, 1.0 - U_EPS)


def _keep_rows(method: str, n_rows: int, bsize: int, failed: np.ndarray) -> np.ndarray:
    """Rows the analysis may use: whole blocks without a failure (Sobol, Morris), every
    non-failed row (delta, PAWN), all rows or none (FAST)."""
    if method in ("sobol", "morris"):
        bad = failed.reshape(-1, bsize).any(axis=1)
        return np.repeat(~bad, bsize)
    if method == "fast":
        return np.full(n_rows, not failed.any())
    return ~failed


def analyze(problem: dict, method: str, U: np.ndarray, Y: np.ndarray, seed: int, N: int | None = None) -> pd.DataFrame:
    """Indices of one outcome: a tidy frame ``parameter, index, value, conf``."""
    from SALib.analyze import delta as delta_a, fast as fast_a, morris as morris_a, pawn as pawn_a, sobol as sobol_a

    names = factors(problem)
    rows = []
    if method == "sobol":
        S = sobol_a.analyze(problem, Y, calc_second_order=False, conf_level=CONF_LEVEL, seed=seed)
        pairs = (("S1", "S1_conf"), ("ST", "ST_conf"))
    elif method == "morris":
        S = morris_a.analyze(problem, U, Y, num_levels=4, conf_level=CONF_LEVEL, seed=seed)
        S = {k: np.asarray(v) for k, v in S.items() if k != "names"}
        S["sigma_conf"] = np.full(len(names), np.nan)
        S["mu_conf"] = np.full(len(names), np.nan)
        pairs = (("mu_star", "mu_star_conf"), ("sigma", None), ("mu", None))
    elif method == "fast":
        S = fast_a.analyze(problem, Y, M=4, conf_level=CONF_LEVEL, seed=seed)
        pairs = (("S1", "S1_conf"), ("ST", "ST_conf"))
    elif method == "delta":
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SALib's bias notices: the balanced delta is what is reported
            S = delta_a.analyze(problem, U, Y, conf_level=CONF_LEVEL, seed=seed)
        S = {"delta": S["delta_balanced"], "delta_conf": S["delta_balanced_conf"], "S1": S["S1"], "S1_conf": S["S1_conf"]}
        pairs = (("delta", "delta_conf"), ("S1", "S1_conf"))
    else:  # pawn: SALib gives no interval; rows are resampled here
        S = pawn_a.analyze(problem, U, Y, S=10, seed=seed)
        rng = np.random.default_rng(seed)
        boots = []
        for _ in range(50):
            k = rng.integers(0, len(Y), len(Y))
            boots.append(np.asarray(pawn_a.analyze(problem, U[k], Y[k], S=10, seed=seed)["median"]))
        z = 1.959963984540054
        S = {"median": np.asarray(S["median"]), "median_conf": z * np.std(boots, axis=0, ddof=1),
             "maximum": np.asarray(S["maximum"])}
        pairs = (("median", "median_conf"), ("maximum", None))
    for idx, conf in pairs:
        vals = np.asarray(S[idx], dtype=float)
        cf = np.asarray(S[conf], dtype=float) if conf else np.full(len(vals), np.nan)
        for p, v, c in zip(names, vals, cf):
            rows.append({"parameter": p, "index": idx, "value": float(v), "conf": float(c)})
    return pd.DataFrame(rows)


MAIN_INDEX = {"sobol": "ST", "morris": "mu_star", "fast": "ST", "delta": "delta", "pawn": "median"}


def convergence(problem, method, U, Y, keep, bsize, seed, full: pd.DataFrame) -> dict:
    """Indices on the first half of the design against the full design: the largest change of
    the main index (scaled by the largest index for Morris), and whether N was enough."""
    if method == "fast":
        return {"checked": False, "why": "FAST's design cannot be halved; not checked"}
    n_rows = len(Y)
    half = np.zeros(n_rows, dtype=bool)
    if bsize > 1:
        nb = n_rows // bsize
        half[: (nb // 2) * bsize] = True
    else:
        half[: n_rows // 2] = True
    sel = half & keep
    if sel.sum() < max(2 * bsize, 8):
        return {"checked": False, "why": "too few rows in half the design"}
    h = analyze(problem, method, U[sel], Y[sel], seed)
    key = MAIN_INDEX[method]
    a = full[full["index"] == key].set_index("parameter")["value"]
    b = h[h["index"] == key].set_index("parameter")["value"].reindex(a.index)
    scale = max(float(a.abs().max()), 1e-12) if method == "morris" else 1.0
    change = float(((a - b).abs() / scale).max())
    return {"checked": True, "index": key, "max_change": change, "converged": bool(change <= CONVERGENCE_TOL)}


@dataclass
class Study:
    """A finished design: unit coordinates, values, outcomes, failures and indices."""

    method: str
    N: int
    problem: dict
    U: np.ndarray
    values: dict
    Y: dict
    failed: np.ndarray
    indices: pd.DataFrame
    checks: dict
    meta: dict = field(default_factory=dict)


def run_study(names: list[str], ppfs: list, evaluate, outcomes: list[str], *, method: str = "sobol", N: int = 256,
              seed: int = 0, groups: dict | None = None) -> Study:
    """Sample, evaluate and analyse.

    ``ppfs[k](u)`` maps unit coordinates to input ``names[k]``; ``evaluate(values)`` takes a dict
    name -> ndarray (rows) and returns ``(Y, failed)``: a dict outcome label -> ndarray (rows)
    and a bool array of rows that failed. This is the test hook: the engine's evaluator and
    a Python function (Ishigami, Sobol's g-function) go through the same driver.
    """
    problem = make_problem(names, groups)
    U = sample_unit(problem, method, N, seed)
    values = {n: np.asarray(f(U[:, k]), dtype=float) for k, (n, f) in enumerate(zip(names, ppfs))}
    Y, failed = evaluate(values)
    failed = np.asarray(failed, dtype=bool).copy()
    for lab in outcomes:
        failed |= ~np.isfinite(Y[lab])
    bsize = block_size(problem, method)
    keep = _keep_rows(method, len(U), bsize, failed)
    frames, checks = [], {}
    for lab in outcomes:
        if not keep.any():
            checks[lab] = {"analysed": False, "why": f"{int(failed.sum())} failed rows leave nothing to analyse"
                           + (" (FAST cannot drop rows)" if method == "fast" else "")}
            continue
        y = Y[lab][keep]
        if np.ptp(y) == 0:
            checks[lab] = {"analysed": False, "why": "the outcome does not vary over the design (every index is 0)"}
            continue
        idx = analyze(problem, method, U[keep], y, seed)
        idx.insert(0, "outcome", lab)
        frames.append(idx)
        checks[lab] = {"analysed": True, "rows_used": int(keep.sum()), **convergence(problem, method, U, Y[lab], keep, bsize, seed, idx)}
    indices = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["outcome", "parameter", "index", "value", "conf"])
    if indices[["value"]].isna().any().any():
        raise SimsrcError("internal error: an index is NaN")  # never reported silently
    return Study(method, N, problem, U, values, Y, failed, indices, checks,
                 {"rows": len(U), "failed_rows": int(failed.sum()), "rows_dropped": int((~keep).sum()),
                  "block_size": bsize})


# ----------------------------------------------------------------------------------------------
# the engine as evaluator
# ----------------------------------------------------------------------------------------------


def study_inputs(scn, cf, minerals) -> list:
    """Uncertain inputs that can move the minerals' outcomes (see the module docstring)."""
    from .policies import _applies
    from .scenario import uncertain_inputs

    out = {}
    for s in (scn, cf) if cf is not None else (scn,):
        pols = {p.name: p for p in s.policies}
        pars = {p.name: p for p in s.parameters}
        for ui in uncertain_inputs(s):
            parts = ui.name.split(".")
            if parts[0] == "elasticities" and parts[1] not in minerals:
                continue
            if parts[0] == "policies" and not any(_applies(pols[parts[1]], m) for m in minerals):
                continue
            if parts[0] == "parameters":
                p = pars[parts[1]]
                if p.minerals != "all" and not set(p.minerals) & set(minerals):
                    continue
            out.setdefault(ui.name, ui)
    return list(out.values())


class EngineEvaluator:
    """Evaluates design rows with the engine: one run per row chunk serves every outcome."""

    def __init__(self, scn, cf, outcomes: list[Outcome], chunk: int = 512, shock_draw: int = 0, executor=None):
        from .policies import compile_market
        from .scenario import uncertain_inputs

        self.scn, self.cf, self.outcomes, self.chunk, self.shock_draw = scn, cf, outcomes, chunk, shock_draw
        self.executor = executor
        self.minerals = list(dict.fromkeys(o.mineral for o in outcomes))
        self.specs = {m: (compile_market(scn, m), compile_market(cf, m) if cf is not None else None) for m in self.minerals}
        # every uncertain input of each side, walked once (a design value or the input's mean)
        self.inputs = {id(s): uncertain_inputs(s) for s in (scn, cf) if s is not None}

    def _scalars(self, s, spec, arrays) -> dict:
        """Per-draw statistics of a chunk, plus the per-period outcomes (``OUTPUT@K``)."""
        from .results import draw_scalars

        sc = draw_scalars(arrays, spec.period_years, s.outputs.discount_rate)
        for o in self.outcomes:
            if "@" in o.stat:
                out, _, k = o.stat.partition("@")
                if int(k) >= arrays[out].shape[1]:
                    raise SimsrcError(f"outcome {o.label}: period {k} is beyond the horizon ({arrays[out].shape[1]} periods)")
                sc[o.stat] = arrays[out][:, int(k), :].astype(np.float64)
        return sc

    def _side(self, s, spec, values, rows, shock_draw, robust=False):
        """Per-draw statistics of one side for the design rows ``rows`` and the rows that
        failed. A failed row is re-run once with a more robust setting (tolerance 1e-8, 4x the
        iterations); a chunk the kernel cannot take at all is re-run row by row that way, so one
        bad row does not fail its neighbours. Statistics are None when no row could be solved."""
        from .engine import DEFAULT_MAX_ITER, DEFAULT_TOL, simulate_chunk
        from .policies import draw_inputs, event_states, sample_inputs

        n = len(rows)
        ov = {u.name: (values[u.name][rows] if u.name in values else np.full(n, u.central())) for u in self.inputs[id(s)]}
        inputs = sample_inputs(s, 0, n, overrides=ov)
        states = event_states(s, 0, n, inputs, shock_draw=shock_draw)
        args = draw_inputs(s, spec, 0, n, inputs=inputs, states=states, shock_draw=shock_draw)
        tol, max_iter = (1e-8, 4 * DEFAULT_MAX_ITER) if robust else (DEFAULT_TOL, DEFAULT_MAX_ITER)
        try:
            arrays, _ = simulate_chunk(s, spec, 0, n, args=args, tol=tol, max_iter=max_iter)
        except Exception:
            if robust:
                return None, np.ones(n, dtype=bool)
            parts = [self._side(s, spec, values, rows[[i]], shock_draw, robust=True) for i in range(n)]
            done = [sc for sc, _ in parts if sc is not None]
            bad = np.concatenate([b for _, b in parts])
            if not done:
                return None, bad
            nan = {key: np.full((1,) + v.shape[1:], np.nan) for key, v in done[0].items()}
            return {key: np.concatenate([(sc or nan)[key] for sc, _ in parts]) for key in nan}, bad
        sc = self._scalars(s, spec, arrays)
        bad = (arrays["converged"][:, :, 0] < 0.5).any(axis=1)
        if bad.any() and not robust:
            k = np.nonzero(bad)[0]
            again, bad2 = self._side(s, spec, values, rows[k], shock_draw, robust=True)
            if again is not None:
                ok = ~bad2
                for key in sc:
                    sc[key][k[ok]] = again[key][ok]
                bad[k[ok]] = False
        return sc, bad

    def __call__(self, values: dict, shock_draw: int | None = None):
        shock_draw = self.shock_draw if shock_draw is None else shock_draw
        n = len(next(iter(values.values())))
        if self.executor is not None and self.executor.name == "dask":
            # chunks of rows on the cluster; each worker rebuilds the resolved scenarios
            from .engine import scenario_hash
            from .scenario.loader import resolved_payload
            cuts = list(range(0, n, self.chunk)) + [n]
            pa_ = resolved_payload(self.scn, scenario_hash(self.scn))
            pb_ = resolved_payload(self.cf, scenario_hash(self.cf)) if self.cf is not None else None
            tasks = [(pa_, pb_, [o.label for o in self.outcomes],
                      {k: v[a:b] for k, v in values.items()}, shock_draw, self.chunk)
                     for a, b in zip(cuts[:-1], cuts[1:])]
            parts = list(self.executor.map(_eval_task, tasks))
            Y = {o.label: np.concatenate([p[0][o.label] for p in parts]) for o in self.outcomes}
            return Y, np.concatenate([p[1] for p in parts])
        Y = {o.label: np.full(n, np.nan) for o in self.outcomes}
        failed = np.zeros(n, dtype=bool)
        for m in self.minerals:
            sa, sb = self.specs[m]
            regions = list(sa.regions)
            for a in range(0, n, self.chunk):
                b = min(a + self.chunk, n)
                rows = np.arange(a, b)
                ca, bad = self._side(self.scn, sa, values, rows, shock_draw)
                failed[a:b] |= bad
                cb = None
                if self.cf is not None:
                    cb, bad_b = self._side(self.cf, sb, values, rows, shock_draw)
                    failed[a:b] |= bad_b
                if ca is None or (self.cf is not None and cb is None):
                    continue
                for o in self.outcomes:
                    if o.mineral != m:
                        continue
                    r = regions.index(o.region)
                    va = ca[o.stat][:, r]
                    if cb is None:
                        Y[o.label][a:b] = va
                    else:
                        vb = cb[o.stat][:, r]
                        with np.errstate(invalid="ignore", divide="ignore"):
                            Y[o.label][a:b] = 100.0 * (va / vb - 1.0) if o.relative else va - vb
        return Y, failed


def _eval_task(scn_payload, cf_payload, labels, values, shock_draw, chunk):
    """Design rows evaluated in a Dask worker (the resolved scenarios rebuilt there, checked
    by their hashes; the scenario files are never re-read)."""
    from .scenario.loader import from_payload

    scn = from_payload(*scn_payload)
    cf = from_payload(*cf_payload) if cf_payload is not None else None
    ev = EngineEvaluator(scn, cf, [parse_outcome(l) for l in labels], chunk=chunk, shock_draw=shock_draw)
    return ev(values, shock_draw=shock_draw)


def shock_share(evaluate, values: dict, outcomes: list[str], rows: int, replicates: int, design_Y: dict,
                keep: np.ndarray) -> dict:
    """Share of the outcome's variance that the stochastic elements add: ``rows`` design rows
    re-run under ``replicates`` further shock draws; mean within-row variance over (itself +
    the design's variance across rows)."""
    if replicates < 1 or rows < 1:
        return {}
    n = len(next(iter(values.values())))
    pick = np.nonzero(keep)[0][: min(rows, n)]
    sub = {k: v[pick] for k, v in values.items()}
    stacks = {lab: [design_Y[lab][pick]] for lab in outcomes}
    for r in range(1, replicates + 1):
        Yr, bad = evaluate(sub, shock_draw=r)
        for lab in outcomes:
            stacks[lab].append(np.where(bad, np.nan, Yr[lab]))
    out = {}
    for lab in outcomes:
        s = np.vstack(stacks[lab])
        within = float(np.nanmean(np.nanvar(s, axis=0, ddof=1)))
        design = float(np.nanvar(design_Y[lab][keep], ddof=1))
        tot = within + design
        out[lab] = {"within_row_variance": within, "design_variance": design,
                    "shock_share": within / tot if tot > 0 else 0.0, "rows": len(pick), "replicates": replicates}
    return out


def run_sensitivity(scenario, against=None, *, outcomes: list[str] | None = None, all_headlines: bool = False,
                    method: str = "sobol", N: int = 256, seed: int | None = None, groups: dict | None = None,
                    group_patterns: list[str] | None = None, shock_rows: int = 16, shock_replicates: int = 4,
                    out_dir="results", chunk: int = 512, progress=None, executor="local") -> dict:
    """A sensitivity study of a scenario (or of the paired effect against ``against``); writes
    a sensitivity folder and returns ``{"path", "study", "shocks"}``."""
    from .results import run_folder_name, safe_child
    from .scenario import load_scenario
    from .engine import scenario_hash

    t0 = time.time()
    scn = load_scenario(scenario) if not hasattr(scenario, "horizon") else scenario
    cf = None
    if against == "counterfactual":  # the scenario's own `counterfactual:`
        if not scn.counterfactual:
            raise SimsrcError(f"scenario {scn.name!r} has no counterfactual: give --against BASELINE")
        against = scn.counterfactual
    if against is not None:
        cf = load_scenario(against) if not hasattr(against, "horizon") else against
        if scn.horizon.model_dump() != cf.horizon.model_dump() or Path(scn.data.path).resolve() != Path(cf.data.path).resolve():
            raise SimsrcError(f"{scn.name} and {cf.name} differ in horizon or dataset; a paired effect needs both the same")
    seed = scn.seed if seed is None else seed
    outs = [parse_outcome(o) for o in (outcomes or [])]
    if all_headlines:
        outs += headline_outcomes(scn.mineral_codes())
    if not outs:
        raise SimsrcError("name at least one outcome (--outcome STAT[%]:MINERAL:REGION) or --all-headlines")
    for o in outs:
        if o.mineral not in scn.mineral_codes():
            from .errors import unknown_name_message
            raise SimsrcError(unknown_name_message("mineral", o.mineral, scn.mineral_codes()))
        if o.region not in scn.data.regions:
            from .errors import unknown_name_message
            raise SimsrcError(unknown_name_message("region", o.region, scn.data.regions))
        if o.relative and cf is None:
            raise SimsrcError(f"outcome {o.label}: '%' is a paired effect in percent; it needs --against")
    outs = list(dict.fromkeys(outs))
    minerals = list(dict.fromkeys(o.mineral for o in outs))
    uis = study_inputs(scn, cf, minerals)
    if not uis:
        raise SimsrcError("the scenario declares no uncertain input that can move these outcomes")
    names = [u.name for u in uis]
    if group_patterns:
        groups = dict(groups or {})
        for spec in group_patterns:
            g, _, pat = spec.partition("=")
            if not pat:
                raise SimsrcError(f"--group {spec!r}: write NAME=PATTERN, e.g. elasticities=elasticities.*")
            members = [n for n in names if fnmatch.fnmatch(n, pat)]
            if not members:
                raise SimsrcError(f"--group {spec!r} matches no input; inputs: {', '.join(names)}")
            groups.setdefault(g, []).extend(m for m in members if m not in groups.get(g, []))
    from .executors import get_executor

    ex = get_executor(executor)
    try:
        evaluator = EngineEvaluator(scn, cf, outs, chunk=chunk, executor=ex)
        labels = [o.label for o in outs]
        study = run_study(names, [u.ppf for u in uis], evaluator, labels, method=method, N=N, seed=seed, groups=groups)
        keep = ~study.failed
        shocks = shock_share(evaluator, study.values, labels, shock_rows, shock_replicates, study.Y, keep)
    finally:
        ex.close()
    wall = time.time() - t0
    h = scenario_hash(scn)[:8] + (scenario_hash(cf)[:8] if cf is not None else "")
    name = f"sensitivity-{scn.name}" + (f"-vs-{cf.name}" if cf is not None else "") + f"-{method}"
    folder = write_folder(safe_child(out_dir, run_folder_name(name, h)), study, scn, cf, outs, uis, shocks, wall)
    return {"path": folder, "study": study, "shocks": shocks, "outcomes": outs, "wall_time": wall}


def write_folder(folder: Path, study: Study, scn, cf, outs, uis, shocks, wall) -> Path:
    """Manifest, design, outputs, tidy indices and the chart tables (sobol/morris), written in a
    marked temporary folder renamed into place at the end; returns the folder written."""
    import shutil

    from .results import TMP_MARKER, make_temporary, rename_into_place

    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = make_temporary(folder.parent, folder.name)
    try:
        _write_folder(tmp, study, scn, cf, outs, uis, shocks, wall)
        final = rename_into_place(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    (final / TMP_MARKER).unlink(missing_ok=True)
    return final


def _write_folder(tmp: Path, study: Study, scn, cf, outs, uis, shocks, wall) -> None:
    sub = tmp / "sensitivity"
    sub.mkdir()
    cols = {"row": np.arange(len(study.U))}
    for k, n in enumerate(study.problem["names"]):
        cols[f"u:{n}"] = study.U[:, k]
        cols[n] = study.values[n]
    cols["failed"] = study.failed
    design = pd.DataFrame(cols)
    design.to_parquet(tmp / "design.parquet", index=False)
    outputs = pd.DataFrame({"row": np.arange(len(study.U)), "failed": study.failed, **{k: v for k, v in study.Y.items()}})
    outputs.to_parquet(tmp / "outputs.parquet", index=False)
    by = {o.label: o for o in outs}
    idx = study.indices.copy()
    idx["output"] = [by[l].stat for l in idx["outcome"]]
    idx["percent"] = [by[l].relative for l in idx["outcome"]]  # a paired effect in % of the counterfactual
    idx["mineral"] = [by[l].mineral for l in idx["outcome"]]
    idx["region"] = [by[l].region for l in idx["outcome"]]
    idx.to_parquet(tmp / "indices.parquet", index=False)
    idx.to_csv(tmp / "indices.csv", index=False)
    if study.method in ("sobol", "fast") and len(idx):
        w = idx.pivot_table(index=["output", "percent", "mineral", "region", "parameter"], columns="index", values=["value", "conf"])
        t = pd.DataFrame({"S1": w[("value", "S1")], "S1_conf": w[("conf", "S1")], "ST": w[("value", "ST")],
                          "ST_conf": w[("conf", "ST")]}).reset_index()
        t.to_parquet(sub / "sobol.parquet", index=False)
    if study.method == "morris" and len(idx):
        w = idx.pivot_table(index=["output", "percent", "mineral", "region", "parameter"], columns="index", values=["value", "conf"])
        t = pd.DataFrame({"mu_star": w[("value", "mu_star")], "sigma": w[("value", "sigma")],
                          "mu_star_conf": w[("conf", "mu_star")]}).reset_index()
        t.to_parquet(sub / "morris.parquet", index=False)
    units = {}
    for m in dict.fromkeys(o.mineral for o in outs):
        md = scn.data.minerals[m]
        units[m] = {"price": md.price_unit, "quantity": "t/yr", "values": "USD/yr"}
    manifest = {
        "kind": "sensitivity", "method": study.method, "N": study.N,
        "scenario_name": scn.name + (f" vs {cf.name}" if cf is not None else ""),
        "scenario": scn.to_dict(), "counterfactual": cf.to_dict() if cf is not None else None,
        "dataset": scn.data.name, "units": units,
        "minerals": list(dict.fromkeys(o.mineral for o in outs)), "regions": list(scn.data.regions),
        "horizon": {"start": str(scn.horizon.start), "periods": scn.horizon.periods, "period": scn.horizon.period},
        "outcomes": [o.label for o in outs],
        "inputs": [{"name": u.name, "distribution": repr(u.distribution), "description": u.description} for u in uis],
        "held_at_central_value": "every other uncertain input of the scenario(s)",
        "groups": study.problem.get("groups"),
        "stochastic_elements": "common random numbers: every design row takes the shocks of draw 0; "
                               "shock_share from re-runs of some rows under other shock draws",
        "rows": study.meta["rows"], "failed_rows": study.meta["failed_rows"], "rows_dropped": study.meta["rows_dropped"],
        "failure_rule": {"sobol": "drop the whole block of D+2 rows", "morris": "drop the whole trajectory",
                         "fast": "no indices for an outcome with a failed row", "delta": "drop the row",
                         "pawn": "drop the row"}[study.method],
        "checks": study.checks, "shocks": shocks, "wall_time_s": round(wall, 2),
        "created_utc": pd.Timestamp.now("UTC").isoformat(),
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1, default=str))
