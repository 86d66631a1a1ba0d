#!/usr/bin/env python3
"""Sensitivity benchmark (issue 13): Sobol studies of library comparisons, timed.

1. The NdPr floor (ndpr_price_floor vs baseline_no_ndpr_floor): US NdPr consumer price effect
   (%) and floor fiscal cost NPV, first and total order, N = 1024, every declared input that can
   move NdPr (at least 12), 40 quarters.
2. The escalation (china_restrictions_escalate vs baseline): the US consumer price effect (%) of
   every mineral the escalation touches (gallium, germanium, graphite, antimony, NdPr, Dy/Tb),
   N = 1024... (--n-escalation to change).

Usage::

    python benchmarks/bench_sensitivity.py [--n 1024] [--n-escalation 512] [--out DIR]
"""

from __future__ import annotations

import argparse
import tempfile
import time


from simsrc.sensitivity import run_sensitivity


def show(res, title):
    st = res["study"]
    print(f"\n{title}: {st.meta['rows']} rows x {len(st.problem['names'])} inputs, {st.meta['failed_rows']} failed, "
          f"{res['wall_time']:.1f} s")
    idx = st.indices
    for lab, chk in st.checks.items():
        t = idx[idx["outcome"] == lab].pivot_table(index="parameter", columns="index", values=["value", "conf"])
        t = t.sort_values(("value", "ST"), ascending=False).head(6)
        sh = res["shocks"].get(lab, {})
        print(f"  {lab}: converged={chk.get('converged')} (max change {chk.get('max_change', float('nan')):.3f}); "
              f"shocks add {100 * sh.get('shock_share', float('nan')):.1f}% of variance")
        for p, r in t.iterrows():
            print(f"    {p:55s} S1 {r[('value', 'S1')]:6.3f} ±{r[('conf', 'S1')]:.3f}   ST {r[('value', 'ST')]:6.3f} ±{r[('conf', 'ST')]:.3f}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1024)
    ap.add_argument("--n-escalation", type=int, default=1024)
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    out = a.out or tempfile.mkdtemp(prefix="simsrc-sens-")
    t0 = time.time()
    res = run_sensitivity("scenarios/ndpr_price_floor.yaml", "counterfactual", method="sobol", N=a.n,
                          outcomes=["mean_consumer_price%:ndpr_oxide:USA", "npv_floor_fiscal_cost:ndpr_oxide:USA"],
                          out_dir=out, shock_rows=32, shock_replicates=4)
    show(res, f"NdPr floor, Sobol N={a.n}")
    minerals = ["gallium", "germanium", "graphite", "antimony", "ndpr_oxide", "dytb_oxide"]
    res2 = run_sensitivity("scenarios/china_restrictions_escalate.yaml", "counterfactual", method="sobol", N=a.n_escalation,
                           outcomes=[f"mean_consumer_price%:{m}:USA" for m in minerals], out_dir=out,
                           shock_rows=32, shock_replicates=4)
    show(res2, f"escalation, Sobol N={a.n_escalation}, every mineral it touches")
    print(f"\ntotal {time.time() - t0:.1f} s; folders under {out}")


if __name__ == "__main__":
    main()
