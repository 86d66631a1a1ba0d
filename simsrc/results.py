"""Results store: a folder per run, written as computed and atomically, and a reader.

Layout of ``results/<scenario>-<UTC time>-<short hash>/``:

``manifest.json``
    package version, git commit, scenario hash and the fully resolved scenario, seed
    entropy, draws, periods, wall time, non-converged solve counts, machine, units.
``paths.parquet/``
    a Parquet dataset (a folder of part files, one per mineral and chunk of draws, written by
    several threads at once; read it whole with ``pandas.read_parquet`` or
    :meth:`Results.paths`), tidy: ``draw, period, region, mineral`` and one float32 column per
    output of docs/model.md section 5 (:data:`OUTPUTS`; plus ``share_<ORIGIN>`` for each
    watched origin) -- the outputs, regions and minerals the scenario's ``outputs.paths``
    selects (:class:`PathSelection`; absent when it selects none). Summaries and per-draw
    scalars are always complete.
``summary.parquet`` / ``summary.csv``
    mean, sd and the 5/25/50/75/95 percentiles by mineral, period, region and output, over
    the converged draws (``n`` says how many).
``draws.parquet``
    per draw, mineral and region: NPVs of the welfare components, peak prices, mean import
    reliance, cumulative fiscal cost, share of periods converged.
``inputs.parquet``
    per draw (and side, in a comparison): every uncertain input's drawn value and every
    event's outcome (``event:<name>:<state>:first_period``, -1 if never, and ``:periods``, the
    number of periods in that state): ``draw, side, input, value`` (:meth:`Results.inputs`).
``flows.parquet``
    per mineral, origin and destination: the reference flows (``baseline``: the dataset for a
    run, the counterfactual for a comparison) and the scenario's flows averaged over draws and
    periods (``scenario``), t/yr -- what ``simsrc plot --kind flows`` draws.

The writer works in a hidden temporary folder beside the final one,
``.<name>.tmp-<pid>-<token>/`` holding a marker file (:data:`TMP_MARKER`: pid, host, token),
and renames it at the end (``<name>-2``, ``-3``, ... if another run took the name in the same
second), so an interrupted run leaves no half-written results folder, and only folders whose
marker proves they are a dead writer's are ever removed (:func:`remove_stale_temporaries`);
every folder name is checked by :func:`safe_child` to lie directly inside the output folder;
memory is bounded whatever the number of draws: the chunks being written (at most
:data:`PATH_WRITERS` x 2 tables of one chunk), and for each mineral's summary at most
:data:`SUMMARY_BUDGET_BYTES` of the values its percentiles need (those of the cells that vary
across draws; summaries are accumulated as chunks arrive); beyond that, they are spilled to raw
scratch files in the temporary folder and read back memory-mapped by the summary;
per-draw scalars and inputs are appended to scratch files as chunks arrive and sorted at the end.
"""

from __future__ import annotations

import errno
import json
import os
import platform
import re
import secrets
import shutil
import socket
import signal
import subprocess
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from . import __version__
from . import outputs as _reg

# Everything below is derived from the registry simsrc.outputs, where each output is declared once.

#: Outputs per draw, period and region (docs/model.md sec. 5): name -> (unit, description), in
#: the order of the kernel's output rows. ``PRICE`` stands for the mineral's dataset price unit
#: (e.g. USD/kg).
OUTPUTS: dict[str, tuple[str, str]] = {o.name: (o.unit, o.description) for o in _reg.PER_PERIOD}

#: Per-draw scalars of ``draws.parquet``: name -> (unit, description), in the order written.
DRAW_OUTPUTS: dict[str, tuple[str, str]] = {d.name: (d.unit, d.description) for d in _reg.PER_DRAW}

#: Components of net welfare and their signs, in the order they are summed.
WELFARE_TERMS: dict[str, float] = {k: float(v) for k, v in _reg.WELFARE.items()}

#: Terms reported beside net welfare, not part of any region's welfare (docs/model.md sec. 5).
WORLD_TERMS: tuple[str, ...] = _reg.WORLD

PERCENTILES = (5, 25, 50, 75, 95)

#: Memory a results writer may hold per mineral to summarise it as soon as it is done; above
#: it, a mineral is summarised at the end by re-reading paths.parquet one column at a time.
SUMMARY_BUDGET_BYTES = 640 * 2**20
SUMMARY_STATS = ["mean", "sd"] + [f"p{q}" for q in PERCENTILES] + ["n"]

#: Threads encoding and writing ``paths.parquet`` part files at once (Parquet encoding and
#: compression release the GIL).
PATH_WRITERS = 2

#: Name of the paths dataset (a folder of part files) in a results folder.
PATHS = "paths.parquet"


class StageTimes:
    """Seconds spent per stage of a run (summed over threads; stages overlap in time), for
    the manifest's ``timings_s`` and ``benchmarks/bench_batch.py``."""

    def __init__(self):
        self._lock = threading.Lock()
        self.seconds: dict[str, float] = {}

    def add(self, stage: str, seconds: float):
        with self._lock:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds

    @contextmanager
    def stage(self, name: str):
        """``with times.stage(name):`` adds the block's wall time to ``name``."""
        t = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - t)

    def to_dict(self) -> dict[str, float]:
        return {k: round(v, 3) for k, v in self.seconds.items()}


@dataclass(frozen=True)
class PathSelection:
    """What goes into ``paths.parquet`` (the scenario's ``outputs.paths``).

    ``outputs``, ``regions`` and ``minerals`` are tuples of names, or None for all;
    ``none=True`` writes no paths at all. Summaries and per-draw scalars never depend on it.
    """

    outputs: tuple[str, ...] | None = None
    regions: tuple[str, ...] | None = None
    minerals: tuple[str, ...] | None = None
    none: bool = False

    @classmethod
    def from_spec(cls, spec) -> "PathSelection":
        """From ``outputs.paths`` of a scenario: ``"all"``, ``"none"`` or a dict with
        ``outputs``, ``regions`` (codes; groups already expanded) and ``minerals``, each a
        list or ``"all"`` (:func:`simsrc.engine.paths_selection`)."""
        if spec is None or spec == "all":
            return cls()
        if spec == "none":
            return cls(none=True)

        def names(v):
            return None if v is None or v == "all" else tuple(v)
        return cls(outputs=names(spec.get("outputs")), regions=names(spec.get("regions")),
                   minerals=names(spec.get("minerals")))

    def wants(self, mineral: str) -> bool:
        return not self.none and (self.minerals is None or mineral in self.minerals)

    def columns(self, names: list[str]) -> list[str]:
        """Output columns written, in the results' order (``converged`` always, so that
        non-converged solves stay visible)."""
        if self.outputs is None:
            return list(names)
        keep = set(self.outputs) | {"converged"}
        return [k for k in names if k in keep]

    def region_index(self, regions: list[str]) -> np.ndarray | None:
        """Positions of the selected regions in ``regions`` (None: all)."""
        if self.regions is None:
            return None
        keep = set(self.regions)
        return np.array([q for q, r in enumerate(regions) if r in keep], dtype=np.int64)

    def to_manifest(self):
        if self.none:
            return "none"
        return {"outputs": "all" if self.outputs is None else list(self.outputs),
                "regions": "all" if self.regions is None else list(self.regions),
                "minerals": "all" if self.minerals is None else list(self.minerals)}


def git_commit(path: Path | None = None) -> str | None:
    """The git commit of the working tree holding ``path`` (the package), if any."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=path or Path(__file__).parent,
                             capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except Exception:
        return None


def machine_info() -> dict:
    import numba

    return {"platform": platform.platform(), "python": platform.python_version(),
            "processor": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
            "numba": numba.__version__, "numpy": np.__version__,
            "numba_threads": numba.get_num_threads()}


#: File inside every temporary folder a writer creates; a folder is removed as a stale
#: temporary only if it holds this file, naming a process of this host that no longer exists.
TMP_MARKER = ".simsrc-temporary"
_TMP_NAME = re.compile(r"^\.(?P<final>.+)\.tmp-(?P<pid>\d+)-(?P<token>[0-9a-f]{8})$")
#: Longest folder name a writer creates (most file systems allow 255 bytes).
MAX_FOLDER_NAME = 200


def safe_component(text: str, max_len: int = 120) -> str:
    """``text`` made safe as one component of a folder name: every character outside letters,
    digits, ``_``, ``-`` and ``.`` becomes ``_``, no leading dot, at most ``max_len`` characters."""
    s = re.sub(r"[^A-Za-z0-9_.\-]", "_", str(text))[:max_len].lstrip(".")
    return s or "unnamed"


def safe_child(parent, name: str) -> Path:
    """``parent / name``, checked to lie directly inside ``parent`` once resolved (symbolic links
    followed): ``name`` is one plain folder name, no separator, NUL, ``.`` or ``..``, at most
    :data:`MAX_FOLDER_NAME` bytes. Every results writer builds its folder with this.

    Raises
    ------
    SimsrcError
        Naming the parent, the name and what is allowed.
    """
    from .errors import SimsrcError

    name = str(name)
    bad = (not name or name in (".", "..") or any(c in name for c in "/\\\0\n\r")
           or len(name.encode("utf-8", "surrogateescape")) > MAX_FOLDER_NAME)
    try:
        base = Path(parent).resolve()
    except (RuntimeError, OSError, ValueError):
        raise SimsrcError(f"output folder {parent} cannot be resolved (a loop of symbolic links?)") from None
    try:
        if not bad:
            target = (base / name).resolve()
            bad = target.parent != base
    except (RuntimeError, OSError, ValueError):  # a symbolic-link loop
        bad = True
    if bad:
        raise SimsrcError(f"refusing to write {name[:80]!r} under {parent}: a results folder name is one plain "
                          f"folder name inside the output folder (letters, digits, '_', '-', '.'; at most "
                          f"{MAX_FOLDER_NAME} bytes; no '/', '..' or links leading elsewhere)")
    return Path(parent) / name


def run_folder_name(scenario: str, scenario_hash: str, when: datetime | None = None) -> str:
    """``<scenario>-<UTC time>-<short hash>``, the scenario part made safe (:func:`safe_component`)."""
    when = when or datetime.now(timezone.utc)
    return f"{safe_component(scenario)}-{when.strftime('%Y%m%dT%H%M%SZ')}-{safe_component(scenario_hash[:8])}"


def make_temporary(parent: Path, final_name: str) -> Path:
    """Create a marked temporary folder ``.<final_name>.tmp-<pid>-<token>`` in ``parent``.

    The folder is created (exclusively) then the marker file :data:`TMP_MARKER`, naming this
    process, host and token; :func:`remove_stale_temporaries` removes only folders whose marker
    matches their name, so a user's own folder is never removed.
    """
    token = secrets.token_hex(4)
    tmp = safe_child(parent, f".{final_name}.tmp-{os.getpid()}-{token}")
    tmp.mkdir()
    try:  # the marker appears whole or not at all: written beside, then renamed
        part = tmp / (TMP_MARKER + ".part")
        with open(part, "x") as f:
            json.dump({"pid": os.getpid(), "host": socket.gethostname(), "token": token,
                       "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds")}, f)
        os.replace(part, tmp / TMP_MARKER)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tmp


def _is_ours(p: Path) -> tuple[bool, int | None]:
    """(True, pid) if ``p`` is a temporary folder created by a simsrc writer on this host."""
    m = _TMP_NAME.match(p.name)
    if m is None or p.is_symlink() or not p.is_dir():
        return False, None
    try:
        with open(p / TMP_MARKER) as f:
            mark = json.load(f)
    except (OSError, ValueError):
        return False, None
    if not isinstance(mark, dict) or mark.get("token") != m["token"] or str(mark.get("pid")) != m["pid"] \
            or mark.get("host") != socket.gethostname():
        return False, None
    return True, int(m["pid"])


def remove_stale_temporaries(out_dir: Path) -> list[Path]:
    """Remove the temporary folders of simsrc writers of this host whose process no longer
    exists (a run killed with SIGKILL); only folders holding a matching marker are touched."""
    removed = []
    try:
        entries = list(Path(out_dir).glob(".*.tmp-*"))
    except OSError:
        return removed
    for p in entries:
        ours, pid = _is_ours(p)
        if not ours:
            continue
        try:
            os.kill(pid, 0)
            alive = True
        except ProcessLookupError:
            alive = False
        except (PermissionError, OverflowError, OSError):
            alive = True
        if not alive:
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


def rename_into_place(tmp: Path, final: Path, unique: bool = True) -> Path:
    """Rename the finished ``tmp`` folder to ``final`` (or, with ``unique``, ``final-2``,
    ``final-3``, ... when another run took the name first); never replaces an existing folder."""
    for k in range(1, 1000):
        target = final if k == 1 else final.with_name(f"{final.name}-{k}")
        if not target.exists() and not target.is_symlink():
            try:
                os.rename(tmp, target)
                return target
            except OSError as exc:
                if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                    raise
        if not unique:
            break
    raise FileExistsError(errno.EEXIST, "results folder already exists", str(final))


def discount_factors(periods: int, period_years: float, rate: float) -> np.ndarray:
    """Discount factor of each period's flow, at the period's start: (1 + r)^(-t dt)."""
    return (1.0 + rate) ** (-np.arange(periods) * period_years)


def input_frame(side: str, draw_start: int, inputs: dict, states: dict) -> pd.DataFrame:
    """Long frame ``draw, side, input, value`` of one chunk's inputs and event outcomes (rows by
    input, then draw; ``input`` a categorical with its names in sorted order)."""
    n = len(next(iter(inputs.values()))) if inputs else (next(iter(states.values())).shape[0] if states else 0)
    names, cols = [], []
    for name, v in inputs.items():
        names.append(name)
        cols.append(np.asarray(v, dtype=np.float64))
    for (ev, st), path in states.items():
        path = np.asarray(path, dtype=bool)
        names += [f"event:{ev}:{st}:first_period", f"event:{ev}:{st}:periods"]
        cols += [np.where(path.any(axis=1), path.argmax(axis=1), -1).astype(np.float64),
                 path.sum(axis=1).astype(np.float64)]
    if not names:
        return pd.DataFrame(columns=["draw", "side", "input", "value"])
    cats = sorted(names)
    rank = {k: q for q, k in enumerate(cats)}
    codes = np.repeat(np.array([rank[k] for k in names], dtype=np.int32), n)
    return pd.DataFrame({
        "draw": np.tile(np.arange(draw_start, draw_start + n, dtype=np.int64), len(names)),
        "side": side,
        "input": pd.Categorical.from_codes(codes, categories=cats),
        "value": np.concatenate(cols),
    })


def draw_scalars(arrays: dict[str, np.ndarray], period_years: float, rate: float) -> dict[str, np.ndarray]:
    """Per-draw, per-region scalars from one chunk of paths.

    Parameters
    ----------
    arrays : dict name -> ndarray (n_draws, periods, regions)
        Outputs of :data:`OUTPUTS` (annual rates for flows).
    period_years : float
        Period length in years (0.25 for quarters); flows x period_years = volume.
    rate : float
        Annual discount rate.

    Returns
    -------
    dict name -> ndarray (n_draws, regions), float64
        Every name of :data:`DRAW_OUTPUTS`, in its order.
    """
    from .kernels.summary import PERIOD_MAX, PERIOD_MEAN, PERIOD_SUM, npv_sum, period_stat

    T = next(iter(arrays.values())).shape[1]
    disc = discount_factors(T, period_years, rate) * period_years
    out = {}
    net = 0.0
    # in the registry's order: NPVs of the welfare and world terms, net welfare, then the
    # horizon's means (of the periods with a value), peaks and cumulative sums
    for d in _reg.PER_DRAW:
        if d.stat == "net_welfare":
            out[d.name] = net
            continue
        x = arrays[d.of]  # (draws, periods, regions), float32 from the kernel
        if d.stat == "npv":
            out[d.name] = v = npv_sum(x, disc)
            if d.of in WELFARE_TERMS:
                net = net + WELFARE_TERMS[d.of] * v
        elif d.stat == "cumulative":  # USD/yr x years per period = USD
            out[d.name] = period_stat(x, PERIOD_SUM) * period_years
        else:
            out[d.name] = period_stat(x, {"mean": PERIOD_MEAN, "peak": PERIOD_MAX}[d.stat])
    return out


def _tidy_chunk(mineral: str, draw_start: int, regions: list[str], arrays: dict[str, np.ndarray],
                columns: list[str] | None = None, region_index: np.ndarray | None = None) -> pa.Table:
    """One chunk of paths as a tidy table: the given output ``columns`` (default all) of the
    regions at ``region_index`` (default all; the region dictionary keeps every region, so
    parts of one run share a schema)."""
    n, T, R = next(iter(arrays.values())).shape
    rix = np.arange(R) if region_index is None else np.asarray(region_index, dtype=np.int64)
    Rs = len(rix)
    draw = np.repeat(np.arange(draw_start, draw_start + n, dtype=np.int32), T * Rs)
    period = np.tile(np.repeat(np.arange(T, dtype=np.int16), Rs), n)
    # int8 dictionary indices while they fit (every built-in dataset), wider for larger datasets
    region_codes = np.tile(rix.astype(np.int8 if R <= 127 else np.int16 if R <= 32767 else np.int32), n * T)
    cols = {
        "draw": pa.array(draw),
        "period": pa.array(period),
        "region": pa.DictionaryArray.from_arrays(pa.array(region_codes), pa.array(regions)),
        "mineral": pa.DictionaryArray.from_arrays(pa.array(np.zeros(n * T * Rs, dtype=np.int8)), pa.array([mineral])),
    }
    for name in (columns if columns is not None else list(arrays)):
        a = arrays[name] if region_index is None else arrays[name][:, :, rix]
        cols[name] = pa.array(np.ascontiguousarray(a, dtype=np.float32).reshape(-1))
    # no column holds a null (a failed solve is NaN, a value): declared non-nullable, the
    # Parquet writer skips the definition levels, half its time for these tables
    schema = pa.schema([pa.field(k, v.type, nullable=False) for k, v in cols.items()])
    return pa.Table.from_arrays(list(cols.values()), schema=schema)


def _write_part(table: pa.Table, path: Path, float_columns: list[str], times: StageTimes,
                aborted: threading.Event):
    """Write one part file of the paths dataset (runs in a writer thread); skipped once the
    run is being abandoned (``aborted`` set)."""
    if aborted.is_set():
        return
    with times.stage("paths_write"):
        # lz4 on plain floats: for these tables faster than byte-stream-split (and smaller);
        # uncompressed is faster still, but several times larger on disk; batches of 64k
        # values (default 1k): 9% faster
        pq.write_table(table, path, compression="lz4", use_dictionary=["region", "mineral"],
                       write_statistics=["draw", "period", "mineral"], write_batch_size=1 << 16,
                       column_encoding={k: "PLAIN" for k in float_columns})


def _after(future, fn, *args):
    """``fn(*args)`` once ``future`` (if any) is done; its exception, if any, is raised instead."""
    if future is not None:
        future.result()
    return fn(*args)


class BackgroundWriter:
    """A :class:`ResultsWriter`'s work in two background threads, while the caller's kernel
    (which releases the GIL) computes the next chunk.

    :meth:`submit` queues a call that adds a chunk (run in order by one thread; at most
    ``ahead`` wait, beyond that the caller blocks, so memory stays bounded); :meth:`mineral_done`
    queues the mineral's summary, computed by a second thread once the mineral's last chunk is
    added, while the next mineral is simulated and written (at most one waits: each holds a
    mineral's chunks). The caller's waits are timed as ``writer_wait``. Results are the same
    as writing in the caller's thread: chunks are added in the order submitted.
    """

    def __init__(self, writer: "ResultsWriter", ahead: int = 2):
        self.writer = writer
        self.ahead = max(1, int(ahead))
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="simsrc-writer")
        self._summ = ThreadPoolExecutor(max_workers=1, thread_name_prefix="simsrc-summary")
        self._writes: deque = deque()
        self._summaries: deque = deque()

    def submit(self, fn, *args):
        with self.writer.times.stage("writer_wait"):
            while len(self._writes) >= self.ahead:
                self._writes.popleft().result()
        self._writes.append(self._io.submit(fn, *args))

    def mineral_done(self, mineral: str):
        with self.writer.times.stage("writer_wait"):
            while self._summaries:
                self._summaries.popleft().result()
        last = self._writes[-1] if self._writes else None
        self._summaries.append(self._summ.submit(_after, last, self.writer.finish_mineral, mineral))

    def drain(self):
        """Wait for every queued chunk and summary (raising the first error)."""
        while self._writes:
            self._writes.popleft().result()
        while self._summaries:
            self._summaries.popleft().result()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._io.shutdown(wait=True, cancel_futures=True)
        self._summ.shutdown(wait=True, cancel_futures=True)
        return False


class ResultsWriter:
    """Writes one results folder, chunk by chunk, and renames it into place at the end.

    Use as a context manager; on an exception (or SIGTERM/SIGINT) the temporary folder is
    removed, so no half-written results folder is left.

    Parameters
    ----------
    out_dir : Path
        Parent folder (``results/``).
    scenario_name, scenario_hash : str
        Used in the folder name ``<scenario>-<UTC time>-<short hash>``.
    output_names : list of str
        Output columns of ``paths.parquet`` (the keys of :data:`OUTPUTS` plus shares).
    period_years, discount_rate : float
        For the per-draw NPVs.
    paths : PathSelection, optional
        What goes into ``paths.parquet`` (default: everything).
    """

    def __init__(self, out_dir: Path, scenario_name: str, scenario_hash: str, output_names: list[str],
                 period_years: float, discount_rate: float, folder_name: str | None = None,
                 summary_budget_bytes: int = SUMMARY_BUDGET_BYTES, paths: PathSelection | None = None,
                 path_writers: int | None = None):
        self.out_dir = Path(out_dir)
        self.unique = folder_name is None  # an explicit name (a batch member) is never renamed
        self.final = safe_child(self.out_dir, folder_name or run_folder_name(scenario_name, scenario_hash))
        self.tmp = None
        self._created_dirs: list[Path] = []
        self.output_names = list(output_names)
        self.period_years = period_years
        self.discount_rate = discount_rate
        self.paths = paths or PathSelection()
        self.times = StageTimes()
        nw = max(1, int(PATH_WRITERS if path_writers is None else path_writers))
        self._pool = ThreadPoolExecutor(max_workers=nw, thread_name_prefix="simsrc-paths")
        self._pending: list = []                 # part files being written
        self.max_pending = 2 * nw  # part files being written at once
        self._schema = None
        self._scalar_writers: dict[str, pq.ParquetWriter] = {}  # per-draw scalars, spilled as they come
        self._input_writers: dict[str, pq.ParquetWriter] = {}  # side -> scratch file of its inputs
        self._input_groups: dict[str, list[int]] = {}          # side -> first draw of each row group
        self._input_sides: set[str] = set()
        self._input_names: set[str] = set()
        self._budget = summary_budget_bytes
        self._stats: dict[str, dict] = {}       # mineral -> output -> CellStats
        self._shape: dict[str, tuple] = {}      # mineral -> (periods, regions)
        self._next_draw: dict[str, int] = {}    # mineral -> first draw not yet in its statistics
        self._early: dict[str, dict] = {}       # mineral -> chunks that came before their turn
        self._part_bytes: dict[str, int] = {}   # bytes of a mineral's kept values held in memory
        self._summaries: dict[str, pd.DataFrame] = {}
        self._flows: list[pd.DataFrame] = []
        self._minerals: list[str] = []
        self._regions: dict[str, list[str]] = {}
        self._old_handlers = {}
        self._aborted = threading.Event()  # set once the run is being abandoned
        self.t0 = time.time()

    # context management: clean up on failure or termination
    def __enter__(self):
        missing = [p for p in [self.out_dir, *self.out_dir.parents] if not p.exists()]
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._created_dirs = missing  # removed again if the run fails and they are empty
        remove_stale_temporaries(self.out_dir)
        if not self.unique and self.final.exists():
            raise FileExistsError(errno.EEXIST, "results folder already exists", str(self.final))
        try:
            self.tmp = make_temporary(self.out_dir, self.final.name)
        except BaseException:
            self._remove_created()
            raise
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                self._old_handlers[sig] = signal.signal(sig, self._on_signal)
            except ValueError:  # not in the main thread
                pass
        return self

    def _on_signal(self, signum, frame):
        # background threads stop adding files at once; the folder itself is removed by
        # __exit__ once they have stopped (removing it here raced with a thread still writing)
        self._aborted.set()
        raise KeyboardInterrupt(f"interrupted by signal {signum}; no results folder written")

    def __exit__(self, exc_type, exc, tb):
        for sig, h in self._old_handlers.items():
            signal.signal(sig, h)
        if exc_type is not None:
            self.abort()
        return False

    def abort(self):
        self._aborted.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
        for w in [*self._scalar_writers.values(), *self._input_writers.values()]:
            try:
                w.close()
            except Exception:
                pass
        self._scalar_writers = {}
        self._input_writers = {}
        if self.tmp is not None:
            # the part writers have stopped (above), and a BackgroundWriter's threads stop
            # before this writer's __exit__ runs: nothing adds to the folder any more
            shutil.rmtree(self.tmp, ignore_errors=True)
        self._remove_created()

    def _remove_created(self):
        for d in self._created_dirs:  # folders this writer created, deepest first, if still empty
            try:
                d.rmdir()
            except OSError:
                pass

    def _wait_parts(self, keep: int = 0):
        """Wait until at most ``keep`` part files are being written (re-raising their errors)."""
        while len(self._pending) > keep:
            self._pending.pop(0).result()

    def add_chunk(self, mineral: str, regions: list[str], draw_start: int, arrays: dict[str, np.ndarray],
                  scalars: dict[str, np.ndarray] | None = None):
        """Append one chunk of paths (and its per-draw scalars).

        Parameters
        ----------
        arrays : dict name -> ndarray (n_draws, periods, regions)
            Every name of ``output_names``.
        scalars : dict name -> ndarray (n_draws, regions), optional
            Per-draw scalars (:data:`DRAW_OUTPUTS`); default :func:`draw_scalars` of ``arrays``
            (a comparison passes the difference of each side's scalars instead).
        """
        if self._aborted.is_set():  # a background add after the run was abandoned
            raise RuntimeError("results writer aborted")
        missing = [k for k in self.output_names if k not in arrays]
        if missing:
            raise ValueError(f"chunk lacks outputs {missing}")
        arrays = {k: arrays[k] for k in self.output_names}
        if mineral not in self._regions:
            self._minerals.append(mineral)
            self._regions[mineral] = list(regions)
        t0 = time.perf_counter()
        if self.paths.wants(mineral):
            cols = self.paths.columns(self.output_names)
            table = _tidy_chunk(mineral, draw_start, list(regions), arrays, cols,
                                self.paths.region_index(list(regions)))
            if self._schema is None:
                self._schema = table.schema
                (self.tmp / PATHS).mkdir()
            elif table.schema != self._schema:
                table = table.cast(self._schema)
            # part files named in write order, so that reading the folder keeps the run's
            # mineral and draw order; several are encoded and written at once
            name = f"part-{self._minerals.index(mineral):03d}-{draw_start:09d}.parquet"
            self.times.add("paths_table", time.perf_counter() - t0)
            with self.times.stage("paths_wait"):
                self._wait_parts(self.max_pending - 1)
            self._pending.append(self._pool.submit(_write_part, table, self.tmp / PATHS / name, cols, self.times,
                                                   self._aborted))
        with self.times.stage("draw_scalars"):
            sc = scalars if scalars is not None else draw_scalars(arrays, self.period_years, self.discount_rate)
            self._add_scalars("draws", _scalar_table(mineral, regions, draw_start, sc))
        self._add_stats(mineral, draw_start, arrays)

    def _add_stats(self, mineral: str, draw_start: int, arrays: dict[str, np.ndarray]):
        """Add a chunk to the mineral's summary statistics (:class:`simsrc.kernels.summary.CellStats`,
        fed in draw order: a chunk that arrives early waits for its predecessors). Values kept for
        the percentiles (the cells that vary) stay in memory within the budget; beyond it they are
        spilled to raw scratch files, read back memory-mapped by the summary."""
        from .kernels.summary import CellStats

        early = self._early.setdefault(mineral, {})
        early[draw_start] = arrays
        stats = self._stats.get(mineral)
        while self._next_draw.get(mineral, 0) in early:
            arrays = early.pop(self._next_draw.get(mineral, 0))
            n, T, R = arrays["converged"].shape
            if stats is None:
                stats = self._stats[mineral] = {k: CellStats(T * R) for k in self.output_names}
                self._shape[mineral] = (T, R)
            ok = arrays["converged"] > 0.5
            ok = None if ok.all() else ok.reshape(n, T * R)
            with self.times.stage("summary_scan"):
                kept = sum(stats[k].add(arrays[k].reshape(n, T * R), ok) for k in self.output_names)
            self._next_draw[mineral] = self._next_draw.get(mineral, 0) + n
            self._part_bytes[mineral] = self._part_bytes.get(mineral, 0) + kept
            if self._part_bytes[mineral] > self._budget:
                scratch = self.tmp / ".scratch"
                scratch.mkdir(exist_ok=True)
                with self.times.stage("summary_spill"):
                    for q, k in enumerate(self.output_names):
                        stats[k].spill(scratch, f"{self._minerals.index(mineral):03d}-{q:03d}")
                self._part_bytes[mineral] = 0

    def set_flows(self, mineral: str, regions: list[str], baseline: np.ndarray, scenario: np.ndarray):
        """Bilateral flows of a mineral for ``flows.parquet`` (origin x destination, t/yr).

        ``baseline``: the reference (the dataset's 2024 flows for a run, the counterfactual's
        mean flows for a comparison); ``scenario``: mean over draws and periods.
        """
        R = len(regions)
        self._flows.append(pd.DataFrame({
            "mineral": mineral, "origin": np.repeat(regions, R), "destination": np.tile(regions, R),
            "baseline": np.asarray(baseline, dtype=float).reshape(-1),
            "scenario": np.asarray(scenario, dtype=float).reshape(-1),
        }))

    def finish_mineral(self, mineral: str):
        """Summarise a mineral whose chunks are all added, from memory if within the budget.

        Called by the engine as soon as a mineral is done, so its summary is computed while
        the next mineral is simulated; a mineral over budget is summarised at :meth:`finish`.
        """
        with self.times.stage("summary"):
            self._summarise(mineral)

    def _summarise(self, mineral: str):
        stats = self._stats.pop(mineral, None)
        self._part_bytes.pop(mineral, None)
        if self._early.pop(mineral, None):
            raise RuntimeError(f"{mineral}: chunks missing before draw {self._next_draw.get(mineral, 0)}")
        if not stats:
            return
        T, R = self._shape[mineral]
        qs = np.asarray(PERCENTILES, dtype=np.float64)
        frames = [_summary_frame(mineral, out, stats[out].result(qs), T, self._regions[mineral])
                  for out in self.output_names]
        self._summaries[mineral] = pd.concat(frames, ignore_index=True)
        for st in stats.values():
            for f in st.files():
                f.unlink(missing_ok=True)

    def add_inputs(self, side: str, draw_start: int, inputs: dict, states: dict, frame: pd.DataFrame | None = None):
        """Per-draw inputs of a chunk (``inputs.parquet``): drawn values and event outcomes
        (``frame``: their :func:`input_frame`, if the caller has it). Appended to a scratch file
        per side, rows ordered by draw and input name, so memory stays flat whatever the number
        of draws; :meth:`finish` writes the sides one after the other."""
        f = input_frame(side, draw_start, inputs, states) if frame is None else frame
        self._input_sides.add(side)
        if not len(f):
            return
        cat = pd.Categorical(f["input"])
        cat = cat.reorder_categories(sorted(cat.categories))  # codes in name order
        names = [str(x) for x in cat.categories]
        self._input_names.update(names)
        codes = np.asarray(cat.codes, dtype=np.int32)
        draw = f["draw"].to_numpy(dtype=np.int64)
        order = np.lexsort((codes, draw))
        table = pa.table({"draw": pa.array(draw[order]),
                          "input": pa.DictionaryArray.from_arrays(pa.array(codes[order]), pa.array(names)),
                          "value": pa.array(f["value"].to_numpy(dtype=np.float64)[order])})
        w = self._input_writers.get(side)
        if w is None:
            scratch = self.tmp / ".scratch"
            scratch.mkdir(exist_ok=True)
            w = self._input_writers[side] = pq.ParquetWriter(scratch / f"inputs-{len(self._input_writers)}.parquet",
                                                             table.schema, compression="none",
                                                             write_statistics=False, use_dictionary=["input"])
        w.write_table(table.cast(w.schema))
        self._input_groups.setdefault(side, []).append(draw_start)

    def add_side_scalars(self, side: str, mineral: str, regions: list[str], draw_start: int,
                         scalars: dict[str, np.ndarray]):
        """Per-draw scalars of one side of a comparison, written to ``draws_<side>.parquet``."""
        self._add_scalars(f"draws_{side}", _scalar_table(mineral, regions, draw_start, scalars))

    def _add_scalars(self, fname: str, table: pa.Table):
        """Append one chunk's per-draw scalars to a scratch file (memory stays flat whatever
        the number of draws; :meth:`finish` sorts them into ``<fname>.parquet``)."""
        w = self._scalar_writers.get(fname)
        if w is None:
            scratch = self.tmp / ".scratch"
            scratch.mkdir(exist_ok=True)
            w = self._scalar_writers[fname] = pq.ParquetWriter(scratch / f"{fname}.parquet", table.schema,
                                                               compression="none", write_statistics=False,
                                                               use_dictionary=["mineral", "region"])
        w.write_table(table.cast(w.schema))

    def _write_inputs(self):
        """inputs.parquet from the sides' scratch files: rows by side, draw and input (names in
        sorted order; ``side`` and ``input`` read as categoricals), one chunk at a time."""
        dst = self.tmp / "inputs.parquet"
        if not self._input_writers:  # no uncertain input and no event
            empty = pd.DataFrame(columns=["draw", "side", "input", "value"])
            empty["side"] = empty["side"].astype("category")
            empty["input"] = empty["input"].astype("category")
            empty.to_parquet(dst, index=False)
            return
        sides = sorted(self._input_sides)
        names = sorted(self._input_names)
        sdict, ndict = pa.array(sides), pa.array(names)
        rank = {k: q for q, k in enumerate(names)}
        writer = None
        try:
            for side in sides:
                w = self._input_writers.get(side)
                if w is None:
                    continue
                pf = pq.ParquetFile(w.where, read_dictionary=["input"])
                starts = self._input_groups[side]
                for g in sorted(range(len(starts)), key=starts.__getitem__):
                    t = pf.read_row_group(g)
                    col = t.column("input").combine_chunks()
                    remap = np.array([rank[k] for k in col.dictionary.to_pylist()], dtype=np.int32)
                    n = t.num_rows
                    out = pa.table({
                        "draw": t.column("draw"),
                        "side": pa.DictionaryArray.from_arrays(pa.array(np.full(n, sides.index(side), dtype=np.int32)),
                                                               sdict),
                        "input": pa.DictionaryArray.from_arrays(
                            pa.array(remap[col.indices.to_numpy(zero_copy_only=False)]), ndict),
                        "value": t.column("value"),
                    })
                    if writer is None:
                        writer = pq.ParquetWriter(dst, out.schema, use_dictionary=["side", "input"])
                    writer.write_table(out)
        finally:
            if writer is not None:
                writer.close()

    def _write_summary(self):
        """summary.parquet, summary.csv and flows.parquet (minerals over the memory budget are
        summarised here)."""
        for m in list(self._stats):
            self.finish_mineral(m)
        summary = (pd.concat([self._summaries[m] for m in self._minerals], ignore_index=True)
                   if self._minerals else pd.DataFrame())
        if len(summary):
            summary["n"] = summary["n"].astype(np.int64)
        summary.to_parquet(self.tmp / "summary.parquet", index=False)
        if self._flows:
            pd.concat(self._flows, ignore_index=True).to_parquet(self.tmp / "flows.parquet", index=False)
        # Arrow's CSV writer (multi-threaded, C++): the same values as pandas' to_csv at a
        # tenth of its time (string fields are quoted, NaN is an empty field)
        pacsv.write_csv(pa.Table.from_pandas(summary, preserve_index=False), self.tmp / "summary.csv",
                        write_options=pacsv.WriteOptions(quoting_style="needed"))

    def finish(self, manifest: dict) -> Path:
        """Write summaries and the manifest, then rename the folder into place."""
        with self.times.stage("paths_wait"):
            self._wait_parts()
            self._pool.shutdown(wait=True)
        t_finish = time.perf_counter()
        _pause_point("summary", self.tmp)
        # the files below are independent: written by two threads at once (Arrow and the
        # sorts release the GIL), the largest (draws.parquet) beside the others
        jobs = []
        for fname, w in self._scalar_writers.items():
            w.close()
            jobs.append((_sort_scalars, self.tmp / ".scratch" / f"{fname}.parquet", self.tmp / f"{fname}.parquet"))
        self._scalar_writers = {}
        for w in self._input_writers.values():
            w.close()
        if self._input_sides:
            jobs.append((self._write_inputs,))
        jobs.append((self._write_summary,))
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="simsrc-finish") as ex:
            for f in [ex.submit(*j) for j in jobs]:
                f.result()
        shutil.rmtree(self.tmp / ".scratch", ignore_errors=True)
        manifest = dict(manifest)
        manifest.setdefault("package_version", __version__)
        manifest.setdefault("git_commit", git_commit())
        manifest.setdefault("machine", machine_info())
        manifest["paths"] = self.paths.to_manifest()
        self.times.add("finish", time.perf_counter() - t_finish)
        manifest["timings_s"] = {**manifest.get("timings_s", {}), **self.times.to_dict()}
        manifest["wall_time_s"] = round(time.time() - self.t0, 3)
        manifest["created_utc"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        manifest["files"] = sorted(p.name for p in self.tmp.iterdir() if p.name != TMP_MARKER) + ["manifest.json"]
        with open(self.tmp / "manifest.json", "w") as f:
            json.dump(manifest, f, indent=2, default=_json_default)
        _pause_point("rename", self.tmp)
        self.final = rename_into_place(self.tmp, self.final, unique=self.unique)
        self.tmp = None
        (self.final / TMP_MARKER).unlink(missing_ok=True)
        return self.final


def _pause_point(name: str, folder: Path) -> None:
    """A test hook: with ``SIMSRC_TEST_PAUSE=<name>`` the writer stops at that point (touching
    ``<folder>/.paused-<name>``) so a test can kill it there; a no-op otherwise."""
    if os.environ.get("SIMSRC_TEST_PAUSE") == name:
        (folder / f".paused-{name}").touch()
        time.sleep(600)


def _sort_scalars(src: Path, dst: Path):
    """Write the per-draw scalars of ``src`` (row groups of one chunk each, in run order) to
    ``dst`` sorted by mineral, draw and region (names in alphabetical order), one row group at
    a time: memory holds one chunk, whatever the number of draws. ``mineral`` and ``region``
    become categories with sorted categories when read by pandas."""
    pf = pq.ParquetFile(src, read_dictionary=["mineral", "region"])
    groups, minerals, regions = [], set(), set()
    for g in range(pf.num_row_groups):
        t = pf.read_row_group(g, columns=["mineral", "region", "draw"])
        mcol, rcol = t.column("mineral").combine_chunks(), t.column("region").combine_chunks()
        minerals.update(mcol.dictionary.to_pylist())
        regions.update(rcol.dictionary.to_pylist())
        groups.append((mcol.dictionary[mcol.indices[0].as_py()].as_py(), int(np.min(t.column("draw").to_numpy())), g))
    mins, regs = sorted(minerals), sorted(regions)
    mdict, rdict = pa.array(mins), pa.array(regs)
    rank = {r: k for k, r in enumerate(regs)}
    writer = None
    try:
        for m in mins:
            for _, _, g in sorted(x for x in groups if x[0] == m):
                t = pf.read_row_group(g)
                rcol = t.column("region").combine_chunks()
                codes = np.array([rank[r] for r in rcol.dictionary.to_pylist()], dtype=np.int32)[
                    rcol.indices.to_numpy(zero_copy_only=False)]
                draw = t.column("draw").to_numpy()
                order = np.lexsort((codes, draw))
                cols = {}
                for name in t.column_names:
                    if name == "mineral":
                        cols[name] = pa.DictionaryArray.from_arrays(
                            pa.array(np.full(len(order), mins.index(m), dtype=np.int32)), mdict)
                    elif name == "region":
                        cols[name] = pa.DictionaryArray.from_arrays(pa.array(codes[order]), rdict)
                    else:
                        cols[name] = t.column(name).take(pa.array(order))
                out = pa.table(cols)
                if writer is None:
                    # dictionaries for the names only: trying one on every float column cost
                    # two thirds of the write (9.5 -> 3.3 ms per 16,000 rows, and smaller)
                    writer = pq.ParquetWriter(dst, out.schema, use_dictionary=["mineral", "region"],
                                              write_statistics=["draw", "mineral", "region"])
                writer.write_table(out)
    finally:
        if writer is not None:
            writer.close()


def _scalar_table(mineral, regions, draw_start, sc) -> pa.Table:
    """One chunk's per-draw scalars as rows ``draw, mineral, region`` and a float64 column
    per scalar (mineral and region dictionary-encoded, as :func:`_sort_scalars` reads them)."""
    n, R = next(iter(sc.values())).shape
    cols = {
        "draw": pa.array(np.repeat(np.arange(draw_start, draw_start + n, dtype=np.int32), R)),
        "mineral": pa.DictionaryArray.from_arrays(pa.array(np.zeros(n * R, dtype=np.int32)), pa.array([mineral])),
        "region": pa.DictionaryArray.from_arrays(pa.array(np.tile(np.arange(R, dtype=np.int32), n)),
                                                 pa.array(list(regions))),
    }
    for k, v in sc.items():
        cols[k] = pa.array(np.ascontiguousarray(v, dtype=np.float64).reshape(-1))
    return pa.table(cols)


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    return str(o)




def _summary_frame(mineral: str, output: str, res: np.ndarray, T: int, regions) -> pd.DataFrame:
    """Summary rows of one output of one mineral from its statistics by (period x region)
    cell (:meth:`simsrc.kernels.summary.CellStats.result` with :data:`PERCENTILES`)."""
    R = len(regions)
    nq = len(PERCENTILES)
    stats = {"mean": res[nq], "sd": res[nq + 1], **{f"p{q}": res[j] for j, q in enumerate(PERCENTILES)},
             "n": res[nq + 2]}
    return pd.DataFrame({
        "mineral": mineral, "period": np.repeat(np.arange(T), R), "region": np.tile(list(regions), T),
        "output": output, **stats,
    })


@dataclass
class Results:
    """A results folder opened for reading.

    Examples
    --------
    >>> r = Results("results/baseline-20260101T000000Z-abcd1234")  # doctest: +SKIP
    >>> r.summary.query("output == 'consumer_price' and region == 'USA'")  # doctest: +SKIP
    """

    path: Path

    def __init__(self, path):
        from .errors import SimsrcError

        self.path = Path(path)
        if not (self.path / "manifest.json").is_file():
            raise SimsrcError(f"{self.path} is not a simsrc results folder (no manifest.json)")
        try:
            with open(self.path / "manifest.json", encoding="utf-8") as f:
                self.manifest = json.load(f)
        except (ValueError, UnicodeDecodeError) as exc:
            raise SimsrcError(f"{self.path / 'manifest.json'} is damaged (not valid JSON: {exc}); the results "
                              "folder cannot be read") from None
        if not isinstance(self.manifest, dict):
            raise SimsrcError(f"{self.path / 'manifest.json'} is damaged (not a JSON object)")

    def check(self) -> "Results":
        """Open every Parquet file of the folder (its footer), so a truncated or damaged file is
        reported, naming it, before anything is drawn or written."""
        from .errors import SimsrcError

        if self.manifest.get("kind") in ("run", "comparison", None):
            need = {"minerals": list, "regions": list, "periods": int}
            bad = [k for k, t in need.items() if not isinstance(self.manifest.get(k), t)]
            if bad:
                raise SimsrcError(f"{self.path / 'manifest.json'} is damaged: it lacks {', '.join(bad)} (or holds the "
                                  "wrong type); run the simulation again")
        files = []
        for f in sorted(self.path.glob("*.parquet")):  # paths.parquet is a folder of part files
            files.extend(sorted(f.glob("*.parquet")) if f.is_dir() else [f])
        for f in files:
            try:
                pq.read_metadata(f)
            except (pa.ArrowException, OSError) as exc:
                raise SimsrcError(f"{f} is damaged or truncated ({str(exc).splitlines()[0] if str(exc) else 'unreadable'}); "
                                  "run the simulation again") from None
        return self

    @property
    def scenario(self) -> dict:
        """The fully resolved scenario as run."""
        return self.manifest.get("scenario", {})

    @property
    def summary(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / "summary.parquet")

    @property
    def draws(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / "draws.parquet")

    def inputs(self, wide: bool = False, side: str | None = None) -> pd.DataFrame:
        """Every draw's uncertain inputs and event outcomes (``inputs.parquet``): long
        (``draw, side, input, value``) or, with ``wide=True``, one row per draw (and side) and
        one column per input."""
        df = pd.read_parquet(self.path / "inputs.parquet")
        if side is not None:
            df = df[df["side"] == side]
        if not wide:
            return df
        return df.pivot_table(index=["side", "draw"], columns="input", values="value", observed=True).reset_index()

    def paths(self, columns: list[str] | None = None, mineral: str | None = None,
              region: str | None = None) -> pd.DataFrame:
        """Read (part of) ``paths.parquet`` as a tidy frame."""
        filters = []
        if mineral is not None:
            filters.append(("mineral", "=", mineral))
        if region is not None:
            filters.append(("region", "=", region))
        cols = None if columns is None else ["draw", "period", "region", "mineral"] + [c for c in columns if c not in ("draw", "period", "region", "mineral")]
        from .errors import SimsrcError
        sel = self.manifest.get("paths", "all")
        f = self.path / PATHS
        if not f.exists():
            raise SimsrcError(f"{self.path} has no paths (the scenario's outputs.paths was {sel!r}); its summary "
                              "and per-draw outputs are complete; rerun with --set outputs.paths=all for paths")
        if columns is not None and isinstance(sel, dict) and sel.get("outputs") != "all":
            missing = [c for c in columns if c not in sel["outputs"] and c != "converged"]
            if missing:
                raise SimsrcError(f"{self.path} has no paths of {', '.join(missing)} (outputs.paths.outputs was "
                                  f"{sel['outputs']}); rerun with --set outputs.paths=all")
        return pq.read_table(f, columns=cols, filters=filters or None).to_pandas()

    def __repr__(self):
        m = self.manifest
        return f"Results({str(self.path)!r}, scenario={m.get('scenario_name')!r}, draws={m.get('draws')}, periods={m.get('periods')})"

