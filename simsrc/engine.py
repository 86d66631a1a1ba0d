"""Orchestration: compile a scenario, run the kernels in chunks of draws, write results.

``run`` is the library entry point behind ``simsrc run``; it never loops over draws or periods
in Python (the kernels do), only over minerals and chunks. Chunks can be computed locally
(numba threads over draws) or on a Dask distributed cluster (``executor="dask"`` with a
scheduler address or a ``distributed.Client``); since a kernel's result depends only on its
arguments, and every random array depends only on the seed, the element and the draw index,
the numbers are bit-identical whatever the chunk size, thread count or executor.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import __version__
from .kernels.dynamics import N_BASE_OUTPUTS, simulate
from .kernels.equilibrium import DEFAULT_MAX_ITER, DEFAULT_TOL
from .kernels.summary import nonfinite_solves
from .policies import compile_market, draw_inputs, event_states, sample_inputs
from .outputs import MAY_BE_NAN
from .results import OUTPUTS, BackgroundWriter, PathSelection, ResultsWriter
from .data import citation
from .scenario import load_scenario
from .scenario.timeline import period_label

#: Chunks computed ahead on a Dask cluster (results wait in worker memory until written).
MAX_IN_FLIGHT = 8

#: Key of the per-draw mean bilateral flows in :func:`simulate_chunk`'s arrays (not a paths column).
FLOWS_KEY = "_mean_flows"

#: Chunks computed but not yet written (each holds draws x periods x regions x outputs floats).
WRITE_AHEAD = 2

#: Default number of draws per chunk (memory per chunk ~ chunk x periods x regions x outputs x 4 bytes).
DEFAULT_CHUNK = 1000


def output_names(spec_or_watched) -> list[str]:
    """Output columns: docs/model.md sec. 5 outputs, then ``share_<ORIGIN>`` per watched origin."""
    watched = spec_or_watched if isinstance(spec_or_watched, list) else spec_or_watched.watched_names
    return list(OUTPUTS) + [f"share_{w}" for w in watched]


def paths_selection(scn) -> PathSelection:
    """The scenario's ``outputs.paths`` with groups expanded into regions."""
    sel = scn.outputs.paths
    if isinstance(sel, str):
        return PathSelection.from_spec(sel)
    from .policies import scenario_groups
    from .scenario.checks import expand_groups

    regions = "all" if sel.regions == "all" else expand_groups(sel.regions, list(scn.data.regions), scenario_groups(scn))
    return PathSelection.from_spec({"outputs": sel.outputs, "regions": regions, "minerals": sel.minerals})


def scenario_hash(scn) -> str:
    """SHA-256 of the resolved scenario (canonical JSON) and the dataset's files."""
    h = hashlib.sha256(json.dumps(scn.to_dict(), sort_keys=True).encode())
    ds = scn.data
    for f in sorted(Path(ds.path).glob("*.csv")):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def same_inputs(a: dict, b: dict) -> bool:
    """True if two kernel argument dicts (:func:`simsrc.policies.draw_inputs`) are identical, so
    the kernel, which is deterministic, returns identical outputs for both."""
    if a.keys() != b.keys():
        return False
    for k, x in a.items():
        y = b[k]
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            x, y = np.asarray(x), np.asarray(y)
            if x.shape != y.shape or x.dtype != y.dtype:
                return False
            if not np.array_equal(x, y, equal_nan=x.dtype.kind in "fc"):
                return False
        elif x != y:
            return False
    return True


class OutputBuffers:
    """Output arrays of the kernel, reused from chunk to chunk once nothing refers to them.

    A chunk's outputs (about 66 MB per 1,000 draws of a mineral) live until their part file is
    written and their summary statistics are taken, in background threads. Allocating them
    afresh for every chunk costs the kernel the first touch of new memory, about a third of its
    time on this project's virtual machines (measured: 13.7 against 9.2 us per clearing on 2
    threads); a buffer is handed out again only when no array, view or Arrow table refers to it
    any more (its reference count), so reuse never changes a value: the kernel writes every
    element of its outputs (tests/test_dynamics.py).

    Parameters
    ----------
    keep : int
        Buffers kept for reuse (beyond them, a busy pool allocates arrays that are not kept).
    """

    def __init__(self, keep: int = 8):
        self.keep = int(keep)
        self._bufs: list[np.ndarray] = []

    def get(self, shape: tuple) -> np.ndarray:
        for b in self._bufs:
            # references: the list, the loop variable and getrefcount's argument
            if b.shape == shape and sys.getrefcount(b) <= 3:
                return b
        b = np.empty(shape, dtype=np.float32)
        if len(self._bufs) < self.keep:
            self._bufs.append(b)
        elif self._bufs:  # full: replace the oldest buffer of another shape, if any
            for q, old in enumerate(self._bufs):
                if old.shape != shape:
                    self._bufs[q] = b
                    break
        return b


def simulate_chunk(scn, spec, start: int, stop: int, *, central: bool = False, overrides: dict | None = None,
                   inputs: dict | None = None, states: dict | None = None, args: dict | None = None,
                   tol: float = DEFAULT_TOL, max_iter: int = DEFAULT_MAX_ITER, times=None,
                   buffers: OutputBuffers | None = None) -> tuple[dict, np.ndarray]:
    """Run the dynamics kernel for draws [start, stop) of one mineral.

    ``inputs`` and ``states`` (from :func:`simsrc.policies.sample_inputs` and
    :func:`simsrc.policies.event_states`) are shared by every mineral of a chunk and may be
    passed in to avoid drawing them again; they are the same arrays either way.

    Returns
    -------
    arrays : dict name -> ndarray (n, periods, regions) float32
        The outputs (:func:`output_names`), plus ``FLOWS_KEY``: each draw's bilateral flows
        averaged over its converged periods, ndarray (n, regions, regions), t/yr.
    iters : ndarray (n, periods) int32
        Newton iterations per solve.
    """
    t0 = time.perf_counter()
    if args is None:  # ``args``: the kernel arguments from draw_inputs, when the caller has them
        args = draw_inputs(scn, spec, start, stop, central=central, overrides=overrides, inputs=inputs, states=states)
    n, T, R = stop - start, spec.periods, len(spec.regions)
    names = output_names(spec)
    shape = (len(names), n, T, R)
    out = np.empty(shape, dtype=np.float32) if buffers is None else buffers.get(shape)
    iters = np.zeros((n, T), dtype=np.int32)
    flows = np.zeros((n, R, R))
    t1 = time.perf_counter()
    simulate(**args, tol=tol, max_iter=max_iter, out=out, iters=iters, flows=flows)
    if times is not None:  # simsrc.results.StageTimes
        times.add("inputs", t1 - t0)
        times.add("kernel", time.perf_counter() - t1)
    assert out.shape[0] == N_BASE_OUTPUTS + len(spec.watched_names)
    flag_nonfinite(out, names, flows)
    arrays = {k: out[q] for q, k in enumerate(names)}
    arrays[FLOWS_KEY] = flows
    return arrays, iters


def flag_nonfinite(out: np.ndarray, names: list[str], flows: np.ndarray | None = None) -> np.ndarray:
    """Treat solves with non-finite outputs as failed, in place: a solve (draw, period) with an
    infinite value anywhere (including a float64 value beyond the float32 range of the outputs),
    a NaN in an output that is never NaN, or a NaN where :data:`simsrc.outputs.MAY_BE_NAN` says
    the value exists (a price where the region produces or consumes),
    gets ``converged = 0`` in every region, its infinite values become NaN and the draw's mean
    flows NaN; it is then counted and excluded like a non-converged solve.

    Returns the (draws, periods) mask of solves flagged here.
    """
    idx = {k: q for q, k in enumerate(names)}
    # rows that may be NaN: the registry's (a region without production, consumption, exports
    # or a capacity limit) and the watched origins' shares (a region without consumption)
    nan_ok = np.array([k in MAY_BE_NAN or k.startswith("share_") for k in names], dtype=np.uint8)
    pairs = [(idx[p], idx[q]) for p, q in MAY_BE_NAN.items() if q and p in idx and q in idx]
    pp = np.array([a for a, _ in pairs], dtype=np.int64)
    pq = np.array([b for _, b in pairs], dtype=np.int64)
    bad, newly = nonfinite_solves(out, nan_ok, pp, pq, idx["converged"])
    conv = out[idx["converged"]]
    if bad.any():
        out[np.isinf(out)] = np.nan
        conv[bad] = 0.0
        if flows is not None:
            flows[bad.any(axis=1)] = np.nan
    return newly


def chunks(draws: int, chunk_size: int) -> list[tuple[int, int]]:
    chunk_size = max(1, int(chunk_size))
    return [(a, min(a + chunk_size, draws)) for a in range(0, draws, chunk_size)]


@dataclass
class RunInfo:
    path: Path
    nonconverged: dict
    wall_time: float
    timings: dict | None = None   # seconds per stage (simsrc.results.StageTimes; stages overlap)


def _chunk_task(payload, mineral, start, stop):
    """A chunk computed in a Dask worker from the resolved scenario (its data and hash,
    :func:`simsrc.scenario.loader.resolved_payload`), never from the scenario file."""
    from .scenario.loader import from_payload

    scn = from_payload(*payload)
    spec = compile_market(scn, mineral)
    return simulate_chunk(scn, spec, start, stop)


def _with_overrides(scn, draws=None, seed=None):
    upd = {}
    if draws is not None:
        upd["draws"] = int(draws)
    if seed is not None:
        upd["seed"] = int(seed)
    if not upd:
        return scn
    new = scn.model_copy(update=upd)
    new._data = scn._data
    new._source = getattr(scn, "_source", None)
    new._source_files = getattr(scn, "_source_files", ())
    return new


class _ChunksAhead:
    """What each task ``(mineral, a, b)`` of a run needs before its kernel call, prepared in a
    background thread one task ahead, while the kernel computes the previous one: the chunk's
    shared inputs and event paths (drawn once per chunk of draws, with their
    ``inputs.parquet`` rows, for the first mineral) and, for a local run, the kernel's arguments
    (:func:`simsrc.policies.draw_inputs`). The arrays are the same whenever they are drawn.
    Time preparing is the stage ``inputs``; the caller's wait for a task not yet ready,
    ``inputs_wait``."""

    def __init__(self, scn, specs, order, times, kernel_args: bool):
        from concurrent.futures import ThreadPoolExecutor

        self.scn, self.specs, self.order, self.times, self.kernel_args = scn, specs, order, times, kernel_args
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="simsrc-inputs")
        self._futures: dict[int, object] = {}
        self._shared: dict[int, tuple] = {}  # draw start -> (inputs, states); used by the pool's thread only

    def _prepare(self, k):
        from .results import input_frame

        m, a, b = self.order[k]
        with self.times.stage("inputs"):
            frame = None
            if a not in self._shared:
                inputs = sample_inputs(self.scn, a, b)
                states = event_states(self.scn, a, b, inputs)
                self._shared[a] = (inputs, states)
                frame = input_frame("scenario", a, inputs, states)
            inputs, states = self._shared[a]
            args = (draw_inputs(self.scn, self.specs[m], a, b, inputs=inputs, states=states)
                    if self.kernel_args else None)
            return inputs, states, frame, args

    def get(self, k):
        """Task ``k``'s (inputs, states, inputs frame or None if an earlier task had them, kernel
        arguments or None); starts preparing task ``k + 1``."""
        for j in (k, k + 1):
            if j < len(self.order) and j not in self._futures:
                self._futures[j] = self._pool.submit(self._prepare, j)
        with self.times.stage("inputs_wait"):
            return self._futures.pop(k).result()

    def close(self):
        self._pool.shutdown(wait=True, cancel_futures=True)


def run(scenario, *, draws: int | None = None, seed: int | None = None, out_dir="results",
        chunk_size: int = DEFAULT_CHUNK, executor="local", progress=None, folder_name: str | None = None) -> RunInfo:
    """Run a scenario's Monte Carlo and write a results folder.

    Parameters
    ----------
    scenario : str, Path or Scenario
        A scenario file or a loaded scenario.
    draws, seed : int, optional
        Override the scenario's draws and seed.
    out_dir : path
        Parent folder of the results folder (``results/``).
    chunk_size : int
        Draws per kernel call (bounds memory; never changes a number).
    executor : "local", "dask", "dask://HOST:PORT" or a distributed.Client
        Where chunks are computed.
    progress : callable(done, total, label), optional
        Called after each chunk.

    Returns
    -------
    RunInfo
        The results folder, the count of non-converged solves per mineral and the wall time.
    """
    t0 = time.time()
    scn_path = None
    if not hasattr(scenario, "horizon"):
        scn_path = Path(scenario)
        scenario = load_scenario(scn_path)
    elif getattr(scenario, "_source", None) is not None:
        scn_path = Path(scenario._source)
    scn = _with_overrides(scenario, draws, seed)
    minerals = scn.mineral_codes()
    specs = {m: compile_market(scn, m) for m in minerals}
    names = output_names(next(iter(specs.values())))
    h = scenario_hash(scn)
    parts = chunks(scn.draws, chunk_size)
    total = len(parts) * len(minerals)
    done = 0
    nonconv: dict[str, int] = {}
    flags: dict[str, int] = {}  # region-periods whose welfare change exceeds baseline consumption
    iters_sum: dict[str, int] = {}
    from .executors import get_executor

    ex = get_executor(executor)
    ahead = None
    try:
        with ResultsWriter(out_dir, scn.name, h, names, specs[minerals[0]].period_years,
                           scn.outputs.discount_rate, folder_name=folder_name,
                           paths=paths_selection(scn)) as writer, BackgroundWriter(writer, WRITE_AHEAD) as bg:
            for m in minerals:
                nonconv[m] = 0
                iters_sum[m] = 0
            flow_sum = {}
            order = [(m, a, b) for m in minerals for a, b in parts]
            if ex.name == "dask":  # workers rebuild the resolved scenario (checked by its hash)
                from .scenario.loader import resolved_payload
                payload = resolved_payload(scn, h)
                results = ex.map(_chunk_task, [(payload, m, a, b) for m, a, b in order], MAX_IN_FLIGHT)
            # inputs and event paths are shared by all minerals: drawn once per chunk of draws
            ahead = _ChunksAhead(scn, specs, order, writer.times, kernel_args=ex.name != "dask")
            # chunks in flight: the kernel's, WRITE_AHEAD waiting for the writer, the writer's,
            # and the part files being written
            buffers = OutputBuffers(WRITE_AHEAD + 2 + writer.max_pending)
            k = -1
            for m in minerals:
                spec = specs[m]
                for a, b in parts:
                    k += 1
                    inputs, states, frame, args = ahead.get(k)
                    if frame is not None:
                        writer.add_inputs("scenario", a, inputs, states, frame=frame)
                    if args is None:
                        arrays, iters = next(results)
                    else:
                        arrays, iters = simulate_chunk(scn, spec, a, b, args=args, times=writer.times,
                                                       buffers=buffers)
                    nonconv[m] += int((arrays["converged"][:, :, 0] < 0.5).sum())
                    flags[m] = flags.get(m, 0) + int((arrays["welfare_flag"] > 0.5).sum())
                    iters_sum[m] += int(iters.sum())
                    flow_sum[m] = flow_sum.get(m, 0.0) + arrays[FLOWS_KEY].sum(axis=0)
                    # written by a background thread (in order) while the kernel computes the next
                    # chunk; at most WRITE_AHEAD wait
                    bg.submit(writer.add_chunk, m, list(spec.regions), a, arrays)
                    done += 1
                    if progress:
                        progress(done, total, m)
                # summarised in the background while the next mineral runs
                bg.mineral_done(m)
                writer.set_flows(m, list(spec.regions), spec.cal.X0, flow_sum[m] / scn.draws)
            bg.drain()
            manifest = {
                "kind": "run",
                "scenario_name": scn.name,
                "scenario_file": str(scn_path) if scn_path else None,
                "scenario_hash": h,
                "scenario": scn.to_dict(),
                "seed_entropy": scn.seed,
                "draws": scn.draws,
                "periods": scn.horizon.periods,
                "horizon": {"start": str(scn.horizon.start), "periods": scn.horizon.periods,
                            "period": scn.horizon.period,
                            "labels": [period_label(scn.horizon, k) for k in range(scn.horizon.periods)]},
                "period_years": specs[minerals[0]].period_years,
                "minerals": minerals,
                "regions": list(specs[minerals[0]].regions),
                "outputs": names,
                "units": {m: {"price": specs[m].cal.price_unit, "quantity": "t/yr", "values": "USD/yr",
                              "name": scn.data.minerals[m].name.split(" (")[0]} for m in minerals},
                "dataset": {"name": scn.data.name, "path": str(scn.data.path)},
            "data_source": citation(scn.data),
                "nonconverged_solves": nonconv,
                "welfare_flags": flags,
                "solves": {m: scn.draws * scn.horizon.periods for m in minerals},
                "newton_iterations": iters_sum,
                "chunk_size": chunk_size,
                "executor": ex.name,
                "discount_rate": scn.outputs.discount_rate,
                "package_version": __version__,
            }
            path = writer.finish(manifest)
    finally:
        ex.close()
        if ahead is not None:
            ahead.close()
    return RunInfo(path=path, nonconverged=nonconv, wall_time=time.time() - t0, timings=writer.times.to_dict())
