"""Time `simsrc report` on a baseline run and a 9-mineral comparison (issue 15).

Usage::

    python benchmarks/bench_report.py                    # runs both (1000 draws) then reports
    python benchmarks/bench_report.py --draws 1000 --results RUN_FOLDER --results CMP_FOLDER

Without ``--results`` it runs ``scenarios/baseline.yaml`` and ``scenarios/combined.yaml``
against the baseline (9 minerals touched by the policies, the demo's 1000 draws) into
``--out``, then times ``build_report`` on each folder in a fresh process (imports included,
as a user's ``simsrc report`` would), and prints the wall time, the number of PDF pages and
the figures rendered. ``--python`` chooses the interpreter (e.g. a checkout of an older
version, to measure before and after on the same folders).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(args, env=None):
    return subprocess.run(args, check=True, capture_output=True, text=True, env=env)


def make_folders(out: Path, draws: int) -> list[Path]:
    from simsrc.compare import compare
    from simsrc.engine import run

    out.mkdir(parents=True, exist_ok=True)
    base = run(ROOT / "scenarios" / "baseline.yaml", draws=draws, out_dir=out).path
    cmp_ = compare(ROOT / "scenarios" / "combined.yaml", draws=draws, out_dir=out).path
    return [base, cmp_]


def pdf_pages(path: Path) -> int | None:
    import re

    if not path.exists():
        return None
    return len(re.findall(rb"/Type\s*/Page[^s]", path.read_bytes()))


def time_report(folder: Path, python: str, env=None) -> dict:
    import os

    load = os.getloadavg()[0]  # the machine is shared: say how busy it was
    t0 = time.perf_counter()
    _run([python, "-m", "simsrc.cli", "report", str(folder)], env=env)
    wall = time.perf_counter() - t0
    manifest = json.loads((folder / "manifest.json").read_text())
    rep = folder / "report"
    return {"folder": folder.name, "kind": manifest.get("kind", "run"), "draws": manifest.get("draws"),
            "minerals": len(manifest.get("minerals", [])), "seconds": round(wall, 1),
            "load_before": round(load, 1),
            "pages": pdf_pages(rep / "report.pdf"), "pngs": len(list((rep / "figures").glob("*.png")))}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", action="append", type=Path, help="existing results folders (repeat)")
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "bench_report")
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--pythonpath", default=None, help="PYTHONPATH for the timed process (an older checkout)")
    a = ap.parse_args(argv)
    folders = a.results or make_folders(a.out, a.draws)
    env = None
    if a.pythonpath:
        import os
        env = {**os.environ, "PYTHONPATH": a.pythonpath}
    rows = [time_report(Path(f), a.python, env) for f in folders]
    for r in rows:
        print(f"{r['kind']:<11} {r['folder']:<55} draws {r['draws']:>5}  minerals {r['minerals']:>2}  "
              f"{r['seconds']:>6.1f} s wall  {r['pages']} pages  {r['pngs']} PNGs  "
              f"(load average before {r['load_before']})")
    return rows


if __name__ == "__main__":
    main()
