"""Policy comparison on common random numbers (docs/model.md sec. 6).

``compare(scenario, against)`` runs both scenarios on the same draws and seed. Every random
stream is keyed by (seed, mineral or shared, element name, draw), so draw ``d`` of both runs
sees the same demand shocks, the same event outcomes and the same values of shared uncertain
inputs; the paired difference ``scenario - counterfactual`` of each draw isolates the policy.
The comparison folder has the layout of a run (``paths.parquet`` and ``summary`` of paired
differences, ``draws.parquet`` of differences of per-draw scalars) plus each side's per-draw
scalars (``draws_scenario.parquet``, ``draws_counterfactual.parquet``), so unpaired intervals
can be computed for contrast.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from . import outputs as _registry
from .engine import (DEFAULT_CHUNK, FLOWS_KEY, _with_overrides, chunks, output_names, paths_selection, same_inputs,
                     scenario_hash, simulate_chunk, OutputBuffers, WRITE_AHEAD)
from .errors import SimsrcError
from .policies import compile_market, draw_inputs, event_states, sample_inputs
from .results import BackgroundWriter, ResultsWriter, draw_scalars
from .data import citation
from .scenario import load_scenario
from .scenario.timeline import period_label


@dataclass
class CompareInfo:
    path: Path
    nonconverged: dict
    wall_time: float


def _load(x):
    return x if hasattr(x, "horizon") else load_scenario(Path(x))


def _pair(scn, cf, sa, sb, a, b, shared_a, buffers=None):
    """Both sides of one chunk of one mineral: (scenario arrays, counterfactual arrays)
    (output arrays from ``buffers``, a :class:`simsrc.engine.OutputBuffers`, if given)."""
    args_a = draw_inputs(scn, sa, a, b, **shared_a[0])
    args_b = draw_inputs(cf, sb, a, b, **shared_a[1])
    xa, _ = simulate_chunk(scn, sa, a, b, args=args_a, buffers=buffers)
    # a market the policy does not touch has identical inputs on both sides (common random
    # numbers): the deterministic kernel would return the same arrays
    xb = xa if same_inputs(args_a, args_b) else simulate_chunk(cf, sb, a, b, args=args_b, buffers=buffers)[0]
    return xa, xb


def _pair_task(scn_payload, cf_payload, mineral, a, b):
    """A chunk of a comparison in a Dask worker: both resolved scenarios rebuilt there (checked
    by their hashes; the scenario files are never re-read)."""
    from .scenario.loader import from_payload

    scn, cf = from_payload(*scn_payload), from_payload(*cf_payload)
    ia, ib = sample_inputs(scn, a, b), sample_inputs(cf, a, b)
    shared_a = (dict(inputs=ia, states=event_states(scn, a, b, ia)), dict(inputs=ib, states=event_states(cf, a, b, ib)))
    return _pair(scn, cf, compile_market(scn, mineral), compile_market(cf, mineral), a, b, shared_a)


def compare(scenario, against=None, *, draws: int | None = None, seed: int | None = None, out_dir="results",
            chunk_size: int = DEFAULT_CHUNK, progress=None, folder_name: str | None = None,
            executor="local") -> CompareInfo:
    """Run ``scenario`` and its counterfactual on common random numbers; write paired differences.

    Parameters
    ----------
    scenario : path or Scenario
    against : path or Scenario, optional
        The counterfactual; default the scenario's ``counterfactual:``.
    draws, seed : int, optional
        Override the scenario's; the counterfactual always uses the scenario's draws and seed.

    Raises
    ------
    SimsrcError
        No counterfactual, or horizons / datasets that differ (differences would not be paired).
    """
    t0 = time.time()
    scn = _with_overrides(_load(scenario), draws, seed)
    if against is None:
        if not scn.counterfactual:
            raise SimsrcError(f"scenario {scn.name!r} has no counterfactual: give --against BASELINE "
                              "or set `counterfactual:` in the scenario")
        against = scn.counterfactual
    cf = _with_overrides(_load(against), scn.draws, scn.seed)
    if scn.horizon.model_dump() != cf.horizon.model_dump():
        raise SimsrcError(f"horizons differ ({scn.name}: {scn.horizon.model_dump()}, {cf.name}: "
                          f"{cf.horizon.model_dump()}); a paired comparison needs the same periods")
    if Path(scn.data.path).resolve() != Path(cf.data.path).resolve():
        raise SimsrcError(f"datasets differ ({scn.data.path} vs {cf.data.path}); compare scenarios on one dataset")
    minerals = [m for m in scn.mineral_codes() if m in set(cf.mineral_codes())]
    if not minerals:
        raise SimsrcError(f"{scn.name} and {cf.name} share no mineral")
    specs = {m: (compile_market(scn, m), compile_market(cf, m)) for m in minerals}
    names_a = output_names(specs[minerals[0]][0])
    names_b = set(output_names(specs[minerals[0]][1]))
    names = [k for k in names_a if k in names_b]
    h = scenario_hash(scn)[:8] + scenario_hash(cf)[:8]
    parts = chunks(scn.draws, chunk_size)
    total = len(parts) * len(minerals)
    period_years = specs[minerals[0]][0].period_years
    rate = scn.outputs.discount_rate
    from .executors import get_executor

    ex = get_executor(executor)
    try:
        return _compare(scn, cf, minerals, specs, names, h, parts, total, period_years, rate, ex, out_dir,
                        folder_name, chunk_size, progress, t0)
    finally:
        ex.close()


def _add_pair(w, m, regions, a, xa, xb, names, period_years, rate):
    """One chunk of a comparison into the writer: the paired differences (scenario minus
    counterfactual; a solve counts as converged where both sides converged, flagged where
    either is), the per-draw scalars of the difference and of each side."""
    diff = {k: (xa[k].astype(np.float64) - xb[k]).astype(np.float32) for k in names
            if k not in _registry.FLAGS}
    diff["converged"] = np.minimum(xa["converged"], xb["converged"])
    diff["welfare_flag"] = np.maximum(xa["welfare_flag"], xb["welfare_flag"])
    ca, cb = draw_scalars(xa, period_years, rate), draw_scalars(xb, period_years, rate)
    dsc = {k: ca[k] - cb[k] for k in ca}
    dsc["converged_share"] = diff["converged"].astype(np.float64).mean(axis=1)
    w.add_chunk(m, regions, a, diff, scalars=dsc)
    w.add_side_scalars("scenario", m, regions, a, ca)
    w.add_side_scalars("counterfactual", m, regions, a, cb)


def _compare(scn, cf, minerals, specs, names, h, parts, total, period_years, rate, ex, out_dir, folder_name,
             chunk_size, progress, t0) -> CompareInfo:
    done = 0
    nonconv = {}
    flags = {}
    with ResultsWriter(out_dir, f"{scn.name}-vs-{cf.name}", h, names, period_years, rate, folder_name=folder_name,
                       paths=paths_selection(scn)) as w, BackgroundWriter(w, WRITE_AHEAD) as bg:
        shared = {}
        order = [(m, a, b) for m in minerals for a, b in parts]
        if ex.name == "dask":  # workers rebuild both resolved scenarios (checked by their hashes)
            from .scenario.loader import resolved_payload
            pa_, pb_ = resolved_payload(scn, scenario_hash(scn)), resolved_payload(cf, scenario_hash(cf))
            results = ex.map(_pair_task, [(pa_, pb_, m, a, b) for m, a, b in order])
        else:  # lazily, after the loop below has drawn the chunk's shared inputs
            # both sides of the chunks in flight: the kernel's, WRITE_AHEAD waiting and the writer's
            buffers = OutputBuffers(2 * (WRITE_AHEAD + 2))
            results = ex.map(lambda m, a, b: _pair(scn, cf, specs[m][0], specs[m][1], a, b, shared[a], buffers),
                             order)
        for m in minerals:
            sa, sb = specs[m]
            nonconv[m] = {"scenario": 0, "counterfactual": 0}
            fa = fb = 0.0
            for a, b in parts:
                if a not in shared:  # inputs and event paths are shared by all minerals of a side
                    ia, ib = sample_inputs(scn, a, b), sample_inputs(cf, a, b)
                    shared[a] = (dict(inputs=ia, states=event_states(scn, a, b, ia)),
                                 dict(inputs=ib, states=event_states(cf, a, b, ib)))
                    w.add_inputs("scenario", a, shared[a][0]["inputs"], shared[a][0]["states"])
                    w.add_inputs("counterfactual", a, shared[a][1]["inputs"], shared[a][1]["states"])
                xa, xb = next(results)
                fa = fa + xa[FLOWS_KEY].sum(axis=0)
                fb = fb + xb[FLOWS_KEY].sum(axis=0)
                nonconv[m]["scenario"] += int((xa["converged"][:, :, 0] < 0.5).sum())
                nonconv[m]["counterfactual"] += int((xb["converged"][:, :, 0] < 0.5).sum())
                flags[m] = flags.get(m, {"scenario": 0, "counterfactual": 0})
                flags[m]["scenario"] += int((xa["welfare_flag"] > 0.5).sum())
                flags[m]["counterfactual"] += int((xb["welfare_flag"] > 0.5).sum())
                # differenced and written by a background thread (in order) while the kernel
                # computes the next pair; at most WRITE_AHEAD wait
                bg.submit(_add_pair, w, m, list(sa.regions), a, xa, xb, names, period_years, rate)
                done += 1
                if progress:
                    progress(done, total, m)
            bg.mineral_done(m)  # summarised in the background while the next mineral runs
            w.set_flows(m, list(sa.regions), fb / scn.draws, fa / scn.draws)
        bg.drain()
        manifest = {
            "kind": "comparison",
            "scenario_name": f"{scn.name} vs {cf.name}",
            "scenario": scn.to_dict(),
            "counterfactual": cf.to_dict(),
            "scenario_names": {"scenario": scn.name, "counterfactual": cf.name},
            "scenario_hash": scenario_hash(scn),
            "counterfactual_hash": scenario_hash(cf),
            "seed_entropy": scn.seed,
            "draws": scn.draws,
            "periods": scn.horizon.periods,
            "horizon": {"start": str(scn.horizon.start), "periods": scn.horizon.periods, "period": scn.horizon.period,
                        "labels": [period_label(scn.horizon, k) for k in range(scn.horizon.periods)]},
            "period_years": period_years,
            "minerals": minerals,
            "regions": list(specs[minerals[0]][0].regions),
            "outputs": names,
            "units": {m: {"price": specs[m][0].cal.price_unit, "quantity": "t/yr", "values": "USD/yr",
                          "name": scn.data.minerals[m].name.split(" (")[0]} for m in minerals},
            "dataset": {"name": scn.data.name, "path": str(scn.data.path)},
            "data_source": citation(scn.data),
            "nonconverged_solves": nonconv,
            "welfare_flags": flags,
            "chunk_size": chunk_size,
            "executor": ex.name,
            "discount_rate": rate,
            "package_version": __version__,
            "difference": "scenario - counterfactual, paired by draw (common random numbers)",
        }
        path = w.finish(manifest)
    return CompareInfo(path=path, nonconverged=nonconv, wall_time=time.time() - t0)


#: Headline measures of a comparison: (label, per-draw column, scale, unit, relative?), from
#: the ``headline`` of the per-draw outputs in the registry simsrc.outputs.
HEADLINES: list[tuple[str, str, float, str, bool]] = list(_registry.HEADLINES)


# the tail diagnostic (docs/model.md sec. 6) lives with the headline statistics
from .headline import TAIL_TOP, tail_share  # noqa: E402,F401


def paired_effects(path, regions=None, minerals=None, *, level: float = 0.90, seed: int = 0) -> pd.DataFrame:
    """Headline effects of a comparison folder with paired and unpaired intervals.

    For each mineral, region and headline measure: the median and ``level`` interval of the
    per-draw paired effect, the mean effect with its paired confidence interval, and the
    half-width the interval would have if the two runs had *independent* draws (the
    counterfactual's draws permuted), which common random numbers avoid.

    Relative measures (prices, production) are in percent of the counterfactual's per-draw
    value; import reliance in percentage points; welfare terms in USD million (NPV).

    ``tail_share`` is the tail diagnostic of the mean (docs/model.md sec. 6): the share of the
    total absolute effect, ``sum |d|``, contributed by the top 1% of draws ranked by ``|d|``
    (at least one draw). About 0.01 for a well-behaved effect; above 0.25 a handful of draws
    make the mean, which is then not an estimable headline: use the median and interval.
    """
    from .results import Results

    res = Results(path)
    if res.manifest.get("kind") != "comparison":
        raise SimsrcError(f"{path} is not a comparison folder (run `simsrc compare`)")
    A = pd.read_parquet(Path(path) / "draws_scenario.parquet")
    B = pd.read_parquet(Path(path) / "draws_counterfactual.parquet")
    z = {0.90: 1.6448536269514722, 0.95: 1.959963984540054}[level]
    lo_q, hi_q = (1 - level) / 2 * 100, (1 + level) / 2 * 100
    rng = np.random.default_rng(seed)
    rows = []
    for m in minerals or res.manifest["minerals"]:
        for r in regions or res.manifest["regions"]:
            a = A[(A.mineral == m) & (A.region == r)].sort_values("draw")
            b = B[(B.mineral == m) & (B.region == r)].sort_values("draw")
            if not len(a):
                continue
            perm = rng.permutation(len(b))
            # only draws whose every solve, on both sides, converged to finite values
            whole = np.ones(len(a), dtype=bool)
            for side in (a, b):
                if "converged_share" in side:
                    whole &= side["converged_share"].to_numpy() >= 1.0 - 1e-9
            for label, col, scale, unit, rel in HEADLINES:
                va, vb = a[col].to_numpy(), b[col].to_numpy()
                with np.errstate(invalid="ignore", divide="ignore"):
                    if rel:
                        d = (va / vb - 1.0) * 100.0
                        du = (va / vb[perm] - 1.0) * 100.0
                    else:
                        d = (va - vb) * scale
                        du = (va - vb[perm]) * scale
                ok = np.isfinite(d) & whole
                if ok.sum() < 2 or (np.all(d[ok] == 0) and np.all(va[np.isfinite(va)] == 0)):
                    continue
                d, du = d[ok], du[np.isfinite(du) & whole & whole[perm]]
                p5, p50, p95 = np.percentile(d, [lo_q, 50, hi_q])
                mean = d.mean()
                half = z * d.std(ddof=1) / np.sqrt(len(d))
                half_u = z * du.std(ddof=1) / np.sqrt(len(du)) if len(du) > 1 else np.nan
                rows.append({"mineral": m, "region": r, "measure": label, "unit": unit, "median": p50,
                             "p_lo": p5, "p_hi": p95, "mean": mean, "tail_share": tail_share(d),
                             "ci_half_paired": half, "ci_half_unpaired": half_u, "n": int(ok.sum())})
    return pd.DataFrame(rows)
