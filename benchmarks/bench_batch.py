"""Batch benchmark (issue 4): 10,000 draws x 40 quarters x every built-in mineral.

Runs scenarios/baseline.yaml (every mineral of usgs2024, its policies and events) through
``simsrc.engine.run`` into a temporary folder after a small warm-up run (JIT compilation is
cached by numba between runs), and prints wall time, solves per second, peak memory and the
results folder's size. Targets: at most 60 s and 2 GiB on 2 cores.

    python benchmarks/bench_batch.py [--draws 10000] [--chunk-size 1000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numba

from simsrc.engine import run
from simsrc.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "baseline.yaml"))
    ap.add_argument("--draws", type=int, default=10_000)
    ap.add_argument("--chunk-size", type=int, default=1000)
    ap.add_argument("--keep", default=None, help="write the results here instead of a temporary folder")
    a = ap.parse_args()
    scn = load_scenario(a.scenario)
    minerals = scn.mineral_codes()
    out = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="simsrc-bench-"))
    try:
        t = time.perf_counter()
        run(scn, draws=20, out_dir=out / "warmup", chunk_size=a.chunk_size)
        warm = time.perf_counter() - t
        t = time.perf_counter()
        info = run(scn, draws=a.draws, out_dir=out, chunk_size=a.chunk_size)
        wall = time.perf_counter() - t
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB
        solves = a.draws * scn.horizon.periods * len(minerals)
        size = sum(f.stat().st_size for f in info.path.iterdir()) / 2**20
        print(f"scenario        {scn.name}: {len(minerals)} minerals x {len(scn.data.regions)} regions, "
              f"{scn.horizon.periods} periods, {a.draws} draws (chunk {a.chunk_size})")
        print(f"threads         {numba.get_num_threads()}")
        print(f"warm-up run     {warm:.1f} s (20 draws; includes JIT compilation unless cached)")
        print(f"wall time       {wall:.1f} s  (target <= 60 s)")
        print(f"solves          {solves:,}  -> {solves / wall:,.0f} solves/s overall")
        print(f"non-converged   {sum(info.nonconverged.values())} of {solves:,}")
        print(f"peak memory     {peak:,.0f} MiB  (target <= 2048 MiB)")
        print(f"results folder  {size:,.0f} MiB at {info.path if a.keep else '(temporary, removed)'}")
    finally:
        if not a.keep:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
