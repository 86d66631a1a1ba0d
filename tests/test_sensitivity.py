"""Sensitivity driver: analytic references through the same driver as the engine (the test
hook: ``run_study`` evaluates a Python function), failure handling, and the engine path."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from simsrc.sensitivity import run_study


def uniform(lo, hi):
    return lambda u: lo + (hi - lo) * np.asarray(u)


def ishigami(values, a=7.0, b=0.1):
    x1, x2, x3 = values["x1"], values["x2"], values["x3"]
    y = np.sin(x1) + a * np.sin(x2) ** 2 + b * x3 ** 4 * np.sin(x1)
    return {"y": y}, np.zeros(len(y), dtype=bool)


def ishigami_indices(a=7.0, b=0.1):
    V = a ** 2 / 8 + b * math.pi ** 4 / 5 + b ** 2 * math.pi ** 8 / 18 + 0.5
    V1 = 0.5 * (1 + b * math.pi ** 4 / 5) ** 2
    V2 = a ** 2 / 8
    VT3 = 8 * b ** 2 * math.pi ** 8 / 225
    return {"S1": [V1 / V, V2 / V, 0.0], "ST": [(V1 + VT3) / V, V2 / V, VT3 / V]}


def within(idx, index, expected, names):
    got = idx[idx["index"] == index].set_index("parameter").loc[names]
    lo, hi = got["value"] - got["conf"], got["value"] + got["conf"]
    return [(n, e, v, c) for n, e, v, c, l, h in zip(names, expected, got["value"], got["conf"], lo, hi) if not (l <= e <= h)]


def test_ishigami_sobol_indices_within_their_bootstrap_intervals():
    names = ["x1", "x2", "x3"]
    st = run_study(names, [uniform(-math.pi, math.pi)] * 3, ishigami, ["y"], method="sobol", N=4096, seed=1)
    ref = ishigami_indices()
    for index in ("S1", "ST"):
        assert not within(st.indices, index, ref[index], names), (index, within(st.indices, index, ref[index], names))
    assert st.checks["y"]["converged"]


def test_sobol_g_function_indices_within_their_bootstrap_intervals():
    a = np.array([0.0, 1.0, 4.5, 9.0, 99.0, 99.0])
    names = [f"x{i}" for i in range(len(a))]

    def g(values):
        y = np.ones(len(values["x0"]))
        for i, ai in enumerate(a):
            y *= (np.abs(4 * values[f"x{i}"] - 2) + ai) / (1 + ai)
        return {"y": y}, np.zeros(len(y), dtype=bool)

    Vi = 1 / (3 * (1 + a) ** 2)
    V = np.prod(1 + Vi) - 1
    S1 = Vi / V
    ST = np.array([Vi[i] * np.prod(np.delete(1 + Vi, i)) / V for i in range(len(a))])
    st = run_study(names, [uniform(0, 1)] * len(a), g, ["y"], method="sobol", N=4096, seed=3)
    assert not within(st.indices, "S1", S1, names)
    assert not within(st.indices, "ST", ST, names)


def test_morris_ranks_a_linear_model_by_its_coefficients():
    c = np.array([5.0, -3.0, 1.0, 0.2, 0.0])
    names = [f"x{i}" for i in range(len(c))]

    def lin(values):
        y = sum(ci * values[n] for ci, n in zip(c, names))
        return {"y": y}, np.zeros(len(y), dtype=bool)

    st = run_study(names, [uniform(0, 1)] * len(c), lin, ["y"], method="morris", N=50, seed=2)
    mu = st.indices[st.indices["index"] == "mu_star"].set_index("parameter")["value"].loc[names]
    # elementary effects of a linear model are its coefficients: mu* = |c| exactly
    np.testing.assert_allclose(mu.to_numpy(), np.abs(c), atol=1e-9)
    assert list(mu.sort_values(ascending=False).index[:4]) == ["x0", "x1", "x2", "x3"]


@pytest.mark.parametrize("method", ["sobol", "morris", "delta", "pawn", "fast"])
def test_failed_rows_are_counted_dropped_as_documented_and_never_nan(method):
    """An injected input that cannot converge (x3 above 0.9 'fails'): counted, its blocks (Sobol,
    Morris) or rows (delta, PAWN) dropped, FAST refuses the outcome; no NaN in any index."""
    names = ["x1", "x2", "x3"]

    def model(values):
        y, _ = ishigami({k: -math.pi + 2 * math.pi * values[k] for k in names})
        bad = values["x3"] > 0.9
        y["y"] = np.where(bad, np.nan, y["y"])
        return y, bad

    N = {"sobol": 256, "morris": 40, "delta": 400, "pawn": 400, "fast": 260}[method]
    st = run_study(names, [uniform(0, 1)] * 3, model, ["y"], method=method, N=N, seed=5)
    assert st.meta["failed_rows"] > 0
    assert not st.indices["value"].isna().any()
    if method == "fast":
        assert not st.checks["y"]["analysed"] and "FAST cannot drop rows" in st.checks["y"]["why"]
    else:
        assert st.checks["y"]["analysed"]
        used = st.checks["y"]["rows_used"]
        if method in ("sobol", "morris"):
            assert used % st.meta["block_size"] == 0 and st.meta["rows_dropped"] >= st.meta["failed_rows"]
        else:
            assert used == st.meta["rows"] - st.meta["failed_rows"]


def test_sobol_needs_a_power_of_two():
    from simsrc.errors import SimsrcError
    with pytest.raises(SimsrcError, match="power of two"):
        run_study(["x1", "x2", "x3"], [uniform(0, 1)] * 3, ishigami, ["y"], method="sobol", N=100)


def test_engine_sensitivity_of_the_floor_writes_a_folder_the_plots_read(tmp_path):
    from simsrc.cli import main
    res = CliRunner().invoke(main, ["sensitivity", "scenarios/ndpr_price_floor.yaml", "--against", "counterfactual",
                                    "--method", "morris", "-N", "4", "--outcome", "mean_consumer_price%:ndpr_oxide:USA",
                                    "--outcome", "npv_floor_fiscal_cost:ndpr_oxide:USA",
                                    "--outcome", "consumer_price@8:ndpr_oxide:USA", "--shock-rows", "2",
                                    "--shock-replicates", "1", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    folder = next(tmp_path.glob("sensitivity-*"))
    for f in ("manifest.json", "design.parquet", "outputs.parquet", "indices.csv", "sensitivity/morris.parquet"):
        assert (folder / f).exists(), f
    idx = pd.read_parquet(folder / "indices.parquet")
    assert not idx["value"].isna().any() and set(idx["outcome"]) <= {"mean_consumer_price%:ndpr_oxide:USA",
                                                                  "npv_floor_fiscal_cost:ndpr_oxide:USA",
                                                                  "consumer_price@8:ndpr_oxide:USA"}
    assert "consumer_price@8:ndpr_oxide:USA" in set(idx["outcome"])
    res = CliRunner().invoke(main, ["plot", str(folder), "--kind", "morris", "--mineral", "ndpr_oxide", "--region", "USA",
                                    "--output", "npv_floor_fiscal_cost", "--out", str(tmp_path / "figs")])
    assert res.exit_code == 0, res.output


def test_every_run_keeps_its_draws_inputs_whatever_the_chunking(tmp_path):
    """inputs.parquet: each draw's uncertain inputs and event outcomes, identical whatever the
    chunk size; a comparison keeps both sides'."""
    from simsrc.compare import compare
    from simsrc.engine import run
    from simsrc.results import Results
    a = Results(run("scenarios/baseline.yaml", draws=24, out_dir=tmp_path / "a", chunk_size=24).path).inputs()
    b = Results(run("scenarios/baseline.yaml", draws=24, out_dir=tmp_path / "b", chunk_size=7).path).inputs()
    pd.testing.assert_frame_equal(a, b)
    assert {"elasticities.ndpr_oxide.supply_elasticity"} <= set(a["input"])
    assert any(str(i).startswith("event:") and str(i).endswith(":first_period") for i in a["input"].unique())
    c = Results(compare("scenarios/ndpr_price_floor.yaml", draws=8, out_dir=tmp_path / "c").path)
    assert set(c.inputs()["side"]) == {"scenario", "counterfactual"}
    w = c.inputs(wide=True, side="scenario")
    assert len(w) == 8 and "policies.ndpr_floor_mp.covered_share" in w.columns


def test_prim_recovers_a_known_box():
    """Synthetic check with a known answer: y = 1 where x1 > 0.7 and x2 < 0.3 (uniform inputs,
    3 irrelevant ones). PRIM's chosen box restricts exactly x1 and x2, near the true limits,
    with coverage and density above 0.8."""
    from simsrc.discover import choose, prim
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.uniform(size=(4000, 5)), columns=[f"x{i}" for i in range(1, 6)])
    y = ((X.x1 > 0.7) & (X.x2 < 0.3)).astype(float).to_numpy()
    traj, boxes, dmin, dmax = prim(X, y, alpha=0.05, min_support=0.02)
    k = choose(traj)
    b = boxes[k]
    assert b.coverage > 0.8 and b.density > 0.8
    conds = b.conditions(dmin, dmax)
    assert {c.split()[0] if c.split()[0].startswith("x") else c.split()[2] for c in conds} == {"x1", "x2"}, conds
    assert abs(b.lower["x1"] - 0.7) < 0.05 and abs(b.upper["x2"] - 0.3) < 0.05


def test_discover_on_a_comparison_reads_inputs_and_draws(tmp_path):
    from simsrc.cli import main
    from simsrc.compare import compare
    info = compare("scenarios/ndpr_price_floor.yaml", draws=200, out_dir=tmp_path)
    res = CliRunner().invoke(main, ["discover", str(info.path), "--output", "npv_floor_fiscal_cost:ndpr_oxide:USA",
                                    "--where", "> 1.5e9"])
    assert res.exit_code == 0, res.output
    assert "coverage" in res.output and list((info.path / "discovery").glob("*-box.json"))


def test_report_of_a_sensitivity_folder(tmp_path):
    from simsrc.cli import main
    res = CliRunner().invoke(main, ["sensitivity", "scenarios/ndpr_price_floor.yaml", "--against", "counterfactual",
                                    "--method", "sobol", "-N", "8", "--outcome", "npv_floor_fiscal_cost:ndpr_oxide:USA",
                                    "--shock-rows", "2", "--shock-replicates", "1", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    folder = next(tmp_path.glob("sensitivity-*"))
    from simsrc.report import build_report
    out = build_report(folder)
    text = Path(out["md"] if isinstance(out, dict) and "md" in out else folder / "report" / "report.md").read_text()
    assert "Sensitivity analysis" in text and "sobol indices" in text and "npv_floor_fiscal_cost" in text


def test_sensitivity_on_a_dask_cluster_equals_local(tmp_path):
    from simsrc.sensitivity import run_sensitivity
    kw = dict(method="morris", N=4, outcomes=["npv_floor_fiscal_cost:ndpr_oxide:USA"], shock_rows=2, shock_replicates=1,
              chunk=16)
    a = run_sensitivity("scenarios/ndpr_price_floor.yaml", "counterfactual", out_dir=tmp_path / "a", **kw)
    b = run_sensitivity("scenarios/ndpr_price_floor.yaml", "counterfactual", out_dir=tmp_path / "b", executor="dask", **kw)
    pd.testing.assert_frame_equal(pd.read_parquet(a["path"] / "outputs.parquet"), pd.read_parquet(b["path"] / "outputs.parquet"))
    pd.testing.assert_frame_equal(a["study"].indices, b["study"].indices)
