"""Batch benchmark (issues 4 and 17): the headline run over every built-in mineral.

Runs scenarios/baseline.yaml (every mineral of usgs2024, its policies and events; 40 quarters)
through ``simsrc.engine.run`` into a temporary folder, in four configurations: 1 and 2 threads
(numba threads over draws and as many paths writers), with all paths written and with none
(``outputs.paths``), each in a fresh process after a small warm-up run (JIT compilation is
cached by numba between runs). For each it prints

- the wall time and market clearings per second (draws x periods x minerals / wall);
- the kernel's time (the period loop over draws, numba) and each other stage's time, summed
  over the threads that ran it (stages overlap: paths are written and summaries computed in
  background threads while the kernel runs the next chunk), and the wall time outside the
  kernel (wall - kernel);
- peak memory (resident set) and the size of the results folder.

With ``--rev REV`` the same run (paths written, 2 threads) is also timed at git revision REV
(checked out in a temporary worktree), so old and new figures come from one run on the same
machine. Figures are printed, never asserted.

    python benchmarks/bench_batch.py [--draws 10000] [--chunk-size 1000] [--rev ceaa1fc]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "baseline.yaml"

#: Runner for another revision (its engine has no stage times or output selection).
_OLD_RUNNER = """
import json, resource, sys, tempfile, time, shutil
from pathlib import Path
from simsrc.engine import run
from simsrc.scenario import load_scenario
scn = load_scenario(sys.argv[1]); draws, chunk = int(sys.argv[2]), int(sys.argv[3])
out = Path(tempfile.mkdtemp(prefix="simsrc-bench-"))
run(scn, draws=20, out_dir=out / "warmup", chunk_size=chunk)
t = time.perf_counter(); info = run(scn, draws=draws, out_dir=out, chunk_size=chunk); wall = time.perf_counter() - t
size = sum(f.stat().st_size for f in info.path.rglob("*") if f.is_file()) / 2**20
print(json.dumps({"wall": wall, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "size_mib": size, "minerals": len(scn.mineral_codes()), "periods": scn.horizon.periods}))
shutil.rmtree(out, ignore_errors=True)
"""


def child(a):
    """One configuration, in this (fresh) process; prints a JSON line."""
    import numba

    from simsrc import results
    from simsrc.engine import run
    from simsrc.scenario import load_scenario

    numba.set_num_threads(a.threads)
    results.PATH_WRITERS = a.threads
    scn = load_scenario(SCENARIO, sets=[f"outputs.paths={a.paths}"])
    out = Path(tempfile.mkdtemp(prefix="simsrc-bench-"))
    try:
        run(scn, draws=20, out_dir=out / "warmup", chunk_size=a.chunk_size)
        t = time.perf_counter()
        info = run(scn, draws=a.draws, out_dir=out, chunk_size=a.chunk_size)
        wall = time.perf_counter() - t
        size = sum(f.stat().st_size for f in info.path.rglob("*") if f.is_file()) / 2**20
        print(json.dumps({"wall": wall, "stages": info.timings, "size_mib": size,
                          "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                          "minerals": len(scn.mineral_codes()), "periods": scn.horizon.periods,
                          "nonconverged": sum(info.nonconverged.values())}))
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _spawn(cmd, env=None, cwd=ROOT):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd)
    if r.returncode != 0:
        sys.stderr.write(r.stderr)
        raise SystemExit(f"benchmark child failed: {' '.join(map(str, cmd))}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def old_revision(rev, draws, chunk):
    """Wall time and peak memory of the same run at git revision ``rev`` (paths written, 2 threads)."""
    wt = Path(tempfile.mkdtemp(prefix="simsrc-rev-")) / "tree"
    subprocess.run(["git", "worktree", "add", "--detach", str(wt), rev], cwd=ROOT, check=True, capture_output=True)
    try:
        env = dict(os.environ, PYTHONPATH=str(wt), NUMBA_NUM_THREADS="2")
        # run in the old tree: ``python -c`` puts the working directory first on sys.path, so
        # from this tree it would import this tree's simsrc (the old figures were this tree's)
        return _spawn([sys.executable, "-c", _OLD_RUNNER, str(wt / "scenarios" / "baseline.yaml"), str(draws), str(chunk)],
                      env, cwd=wt)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(wt)], cwd=ROOT, capture_output=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=10_000)
    ap.add_argument("--chunk-size", type=int, default=1000)
    ap.add_argument("--rev", default=None, help="also time the same run at this git revision")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=2, help=argparse.SUPPRESS)
    ap.add_argument("--paths", default="all", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        return child(a)
    rows = []
    for paths in ("all", "none"):
        for threads in (1, 2):
            res = _spawn([sys.executable, __file__, "--child", "--threads", str(threads), "--paths", paths,
                          "--draws", str(a.draws), "--chunk-size", str(a.chunk_size)],
                         dict(os.environ, NUMBA_NUM_THREADS="2"))
            rows.append((paths, threads, res))
    first = rows[0][2]
    solves = a.draws * first["periods"] * first["minerals"]
    print(f"simsrc batch benchmark: {SCENARIO.name}, {first['minerals']} minerals x {first['periods']} periods x "
          f"{a.draws:,} draws = {solves:,} market clearings (chunk {a.chunk_size}), {os.cpu_count()} CPUs")
    stages = sorted({k for _, _, r in rows for k in r["stages"]} - {"kernel"})
    hdr = (f"{'paths':<6}{'thr':>4}{'wall s':>9}{'clear/s':>10}{'kernel s':>10}{'outside':>9}"
           + "".join(f"{s:>14}" for s in stages) + f"{'peak MiB':>10}{'folder MiB':>11}")
    print(hdr)
    print("-" * len(hdr))
    for paths, threads, r in rows:
        k = r["stages"].get("kernel", 0.0)
        out = max(r["wall"] - k, 0.0)
        print(f"{paths:<6}{threads:>4}{r['wall']:>9.1f}{solves / r['wall']:>10,.0f}{k:>10.1f}"
              f"{100 * out / r['wall']:>8.0f}%" + "".join(f"{r['stages'].get(s, 0.0):>14.1f}" for s in stages)
              + f"{r['peak_mib']:>10,.0f}{r['size_mib']:>11,.0f}")
    if a.rev:
        o = old_revision(a.rev, a.draws, a.chunk_size)
        print(f"{'rev ' + a.rev:<10}{'2':>0}{o['wall']:>9.1f}{solves / o['wall']:>10,.0f}"
              f"{'':>10}{'':>9}" + "".join(f"{'':>14}" for _ in stages)
              + f"{o['peak_mib']:>10,.0f}{o['size_mib']:>11,.0f}   (paths written, 2 threads)")
    print("\nkernel s: wall time in the period loop (numba, parallel over draws); outside: share of the wall time"
          " not in the kernel;\nother stages: seconds summed over the threads that ran them (paths_write runs in"
          " PATH_WRITERS threads,\nsummary in its own thread, both while the kernel computes the next chunk; writer_wait: the"
          " main thread\nwaiting for the writer, the kernel idle).")


if __name__ == "__main__":
    main()
