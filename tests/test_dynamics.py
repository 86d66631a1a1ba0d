"""Monte Carlo over time (issue 4): reproducibility, common random numbers, baseline
replication, event frequencies, floor-driven investment, atomic results."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from simsrc.engine import run, simulate_chunk
from simsrc.policies import compile_market, draw_inputs, event_states, sample_inputs
from simsrc.results import Results
from simsrc.scenario import load_scenario

FIXTURES = Path(__file__).parent / "fixtures"
FULL = FIXTURES / "scenarios" / "full.yaml"


def _write(tmp_path, name, data):
    p = tmp_path / f"{name}.yaml"
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    return p


def _full_variant(tmp_path, name="variant", **changes):
    data = yaml.safe_load(FULL.read_text())
    data["dataset"] = str((FIXTURES / "tinydata").resolve())
    data["name"] = name
    for k, v in changes.items():
        data[k] = v
    return _write(tmp_path, name, data)


def _arrays(scn, mineral, a, b):
    spec = compile_market(scn, mineral)
    arrays, _ = simulate_chunk(scn, spec, a, b)
    return arrays


def test_chunking_does_not_change_a_number(tmp_path):
    scn = load_scenario(FULL)
    for m in ("ndpr_oxide", "gallium"):
        whole = _arrays(scn, m, 0, 60)
        parts = [_arrays(scn, m, a, min(a + 23, 60)) for a in range(0, 60, 23)]
        for k, v in whole.items():
            joined = np.concatenate([p[k] for p in parts])
            assert np.array_equal(v, joined, equal_nan=True), (m, k)


def test_kernel_writes_every_output_and_reused_buffers_change_nothing():
    """The period loop writes every element of its outputs and iteration counts (checked with
    a sentinel in every element beforehand), so the engine may hand it a reused buffer
    (:class:`simsrc.engine.OutputBuffers`): a chunk simulated into a buffer still holding
    another chunk's numbers is identical to one simulated into fresh memory."""
    from simsrc.engine import OutputBuffers, output_names
    from simsrc.kernels.dynamics import simulate

    scn = load_scenario(FULL)
    for m in ("ndpr_oxide", "gallium"):
        spec = compile_market(scn, m)
        args = draw_inputs(scn, spec, 0, 40)
        T, R = spec.periods, len(spec.regions)
        out = np.full((len(output_names(spec)), 40, T, R), 12345.0, dtype=np.float32)
        iters = np.full((40, T), -7, dtype=np.int32)
        simulate(**args, tol=1e-10, max_iter=100, out=out, iters=iters, flows=np.zeros((40, R, R)))
        assert not (out == 12345.0).any() and not (iters == -7).any(), m
    bufs = OutputBuffers(keep=2)
    first, _ = simulate_chunk(scn, compile_market(scn, "gallium"), 0, 30, buffers=bufs)
    used = id(first["consumer_price"].base)
    del first
    again, _ = simulate_chunk(scn, compile_market(scn, "gallium"), 30, 60, buffers=bufs)
    assert id(again["consumer_price"].base) == used  # the buffer was handed out again
    fresh = _arrays(scn, "gallium", 30, 60)
    for k, v in fresh.items():
        assert np.array_equal(v, again[k], equal_nan=True), k


def test_run_chunk_sizes_and_threads_are_bit_identical(tmp_path):
    """Chunk sizes 1000 vs 333, and NUMBA_NUM_THREADS 1 vs 2, give identical paths."""
    p = _full_variant(tmp_path, draws=1000, horizon={"start": "2026Q1", "periods": 12},
                      minerals=["gallium"])
    folders = {}
    for label, chunk, threads in (("c1000", 1000, "2"), ("c333", 333, "2"), ("t1", 1000, "1")):
        out = tmp_path / label
        env = dict(os.environ, NUMBA_NUM_THREADS=threads)
        subprocess.run([sys.executable, "-m", "simsrc.cli", "run", str(p), "--out", str(out),
                        "--chunk-size", str(chunk)], check=True, env=env, capture_output=True)
        (folder,) = [f for f in out.iterdir() if not f.name.startswith(".")]
        folders[label] = Results(folder).paths().sort_values(["mineral", "draw", "period", "region"]).reset_index(drop=True)
    base = folders["c1000"]
    for label in ("c333", "t1"):
        assert base.equals(folders[label]), label
    # a different seed changes the numbers
    out = tmp_path / "seed"
    subprocess.run([sys.executable, "-m", "simsrc.cli", "run", str(p), "--out", str(out), "--seed", "8"],
                   check=True, capture_output=True)
    (folder,) = [f for f in out.iterdir() if not f.name.startswith(".")]
    other = Results(folder).paths().sort_values(["mineral", "draw", "period", "region"]).reset_index(drop=True)
    assert not np.allclose(base["consumer_price"], other["consumer_price"], equal_nan=True)


def test_unrelated_policy_leaves_streams_unchanged(tmp_path):
    a = load_scenario(FULL)
    data = yaml.safe_load(FULL.read_text())
    data["dataset"] = str((FIXTURES / "tinydata").resolve())
    data["policies"].insert(0, {"name": "extra_tariff", "type": "tariff", "importers": ["EU"],
                                "exporters": "all", "rate": {"dist": "uniform", "low": 0.05, "high": 0.2}})
    b = load_scenario(_write(tmp_path, "plus", data))
    for m in ("ndpr_oxide", "gallium"):
        ia, ib = draw_inputs(a, compile_market(a, m), 0, 200), draw_inputs(b, compile_market(b, m), 0, 200)
        assert np.array_equal(ia["Z"], ib["Z"])  # demand shocks
        assert np.array_equal(ia["prj_period"], ib["prj_period"]) if m == "ndpr_oxide" else True
    sa, sb = event_states(a, 0, 200, sample_inputs(a, 0, 200)), event_states(b, 0, 200, sample_inputs(b, 0, 200))
    assert sa.keys() == sb.keys()
    for k in sa:
        assert np.array_equal(sa[k], sb[k]), k
    ua, ub = sample_inputs(a, 0, 200), sample_inputs(b, 0, 200)
    for k in ua:
        assert np.array_equal(ua[k], ub[k]), k


def test_no_shocks_no_policies_reproduces_baseline(tmp_path):
    p = _write(tmp_path, "quiet", {
        "name": "quiet", "horizon": {"start": "2026Q1", "periods": 12}, "draws": 20, "seed": 1,
        "dataset": str((FIXTURES / "tinydata").resolve()),
        "dynamics": {"demand_volatility": 0.0, "demand_growth": 0.0},
    })
    scn = load_scenario(p)
    for m in scn.mineral_codes():
        spec = compile_market(scn, m)
        arr = _arrays(scn, m, 0, 20)
        cal = spec.cal
        assert arr["converged"].min() == 1.0
        # every period of every draw is the baseline (float32 storage: 1e-6 relative)
        np.testing.assert_allclose(arr["production"], np.broadcast_to(cal.Q0, arr["production"].shape), rtol=2e-6, atol=1e-6)
        np.testing.assert_allclose(arr["consumption"], np.broadcast_to(cal.C0, arr["consumption"].shape), rtol=2e-6, atol=1e-6)
        active = cal.Q0 > 0
        np.testing.assert_allclose(arr["origin_price"][:, :, active], cal.price, rtol=2e-6)
        np.testing.assert_allclose(arr["cs_change"], 0.0, atol=1e-3 * cal.price_usd_per_t)
        assert np.all(arr["floor_fiscal_cost"] == 0)


def test_growth_alone_moves_consumption_as_its_path(tmp_path):
    """Growth aside: with drift and no volatility, consumption grows with g (prices adjust)."""
    p = _write(tmp_path, "grow", {
        "name": "grow", "horizon": {"start": "2026Q1", "periods": 8}, "draws": 4, "seed": 1,
        "dataset": str((FIXTURES / "tinydata").resolve()), "minerals": ["graphite"],
        "dynamics": {"demand_volatility": 0.0, "demand_growth": 0.04},
    })
    scn = load_scenario(p)
    arr = _arrays(scn, "graphite", 0, 4)
    world = arr["consumption"].sum(axis=2)
    assert np.all(np.diff(world, axis=1) > 0)


def test_dated_event_frequency_and_markov_share():
    scn = load_scenario(FULL)
    n = 4000
    inputs = sample_inputs(scn, 0, n)
    st = event_states(scn, 0, n, inputs)
    fired = st[("ban_back", "fired")][:, -1]
    p = inputs["events.ban_back.probability"]
    # the expected frequency is the mean drawn probability; the per-draw Bernoulli variance sums
    se = np.sqrt(np.sum(p * (1 - p))) / n
    assert abs(fired.mean() - p.mean()) < 4 * se
    on = st[("regime", "on")]
    pi = 0.05 / (0.05 + 0.2)
    share = on[:, 20:].mean(axis=1)  # after burn-in from 'off'
    assert abs(share.mean() - pi) < 4 * share.std(ddof=1) / np.sqrt(n) + 0.01


def test_floor_raises_investment_in_covered_segment(tmp_path):
    data = yaml.safe_load(FULL.read_text())
    data["dataset"] = str((FIXTURES / "tinydata").resolve())
    data["minerals"] = ["ndpr_oxide"]
    data["policies"] = [q for q in data["policies"] if q["name"] == "floor"]
    data["events"] = []
    data["parameters"] = []
    with_floor = load_scenario(_write(tmp_path, "floor", data))
    data["policies"] = []
    without = load_scenario(_write(tmp_path, "nofloor", data))
    a = _arrays(with_floor, "ndpr_oxide", 0, 100)
    b = _arrays(without, "ndpr_oxide", 0, 100)
    usa = compile_market(with_floor, "ndpr_oxide").regions.index("USA")
    # the floor (110 USD/kg) is above the market (60 USD/kg): more capacity after the lead time
    assert np.all(a["capacity"][:, -1, usa] > b["capacity"][:, -1, usa])
    assert np.all(a["production"][:, 0, usa] > b["production"][:, 0, usa])
    assert np.all(a["floor_fiscal_cost"][:, 0, usa] > 0)


def test_every_instrument_runs_and_writes_results(tmp_path):
    info = run(FULL, draws=40, out_dir=tmp_path, chunk_size=15)
    r = Results(info.path)
    m = r.manifest
    assert m["draws"] == 40 and m["periods"] == 40 and m["scenario_hash"]
    assert set(m["nonconverged_solves"]) == set(m["minerals"])
    paths = r.paths(mineral="gallium")
    assert len(paths) == 40 * 40 * 7
    assert paths["converged"].mean() > 0.99
    s = r.summary
    assert {"mean", "sd", "p5", "p25", "p50", "p75", "p95", "n"} <= set(s.columns)
    d = r.draws
    assert {"npv_net_welfare", "peak_consumer_price", "mean_import_reliance", "cum_floor_fiscal_cost"} <= set(d.columns)
    # stockpile is drawn down or refilled, never negative; the US floor costs money at 60 < 110 USD/kg
    assert paths.query("region == 'USA'")["stockpile"].min() >= 0
    nd = r.paths(mineral="ndpr_oxide", region="USA")
    assert nd["floor_fiscal_cost"].mean() > 0


def _start_long_run(tmp_path):
    """Start a long run in a subprocess and return once it is writing paths.parquet."""
    p = _full_variant(tmp_path, draws=200000)
    out = tmp_path / "res"
    proc = subprocess.Popen([sys.executable, "-m", "simsrc.cli", "run", str(p), "--out", str(out),
                             "--chunk-size", "500"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:
        if out.exists() and any(out.glob(".*.tmp-*/paths.parquet")):
            break
        time.sleep(0.2)
    return proc, out


def test_killed_run_leaves_no_results_folder(tmp_path):
    proc, out = _start_long_run(tmp_path)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert [f for f in out.iterdir() if not f.name.startswith(".")] == []
    # the next run clears the dead run's temporary folder
    run(FULL, draws=5, out_dir=out)
    assert not list(out.glob(".*.tmp-*"))
    assert len([f for f in out.iterdir() if not f.name.startswith(".")]) == 1


def test_terminated_run_cleans_up(tmp_path):
    proc, out = _start_long_run(tmp_path)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    assert not out.exists() or list(out.iterdir()) == []  # the folder the run created is removed too


def test_dask_executor_gives_identical_results(tmp_path):
    """The same chunks on a local Dask distributed cluster give bit-identical paths."""
    pytest.importorskip("distributed")
    from distributed import Client, LocalCluster

    p = _full_variant(tmp_path, draws=60, horizon={"start": "2026Q1", "periods": 12}, minerals=["gallium", "ndpr_oxide"])
    local = run(p, out_dir=tmp_path / "local", chunk_size=25)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        dist = run(p, out_dir=tmp_path / "dask", chunk_size=25, executor=client)
    a = Results(local.path).paths().sort_values(["mineral", "draw", "period", "region"]).reset_index(drop=True)
    b = Results(dist.path).paths().sort_values(["mineral", "draw", "period", "region"]).reset_index(drop=True)
    assert a.equals(b)
    assert Results(dist.path).manifest["executor"] == "dask"


def test_overlapping_restrictions_are_composed_as_separate_restrictions():
    """Each restriction layer in force is one restriction of the solver (they compound on the
    flows they share): direct cap = share x baseline flows to its destinations, route cost,
    route capacity = capacity share x the same flows; export taxes add up."""
    from simsrc.kernels.dynamics import compose_trade_policies

    R = 3
    X0 = np.array([[5.0, 3.0, 2.0], [0.0, 4.0, 0.0], [0.0, 0.0, 6.0]])
    T0 = np.ones((R, R))
    # layer 0: licensing, all destinations, share 0.6, no route; layer 1: ban to region 1 with
    # a route at cost 0.2 and capacity 0.5
    cap_origin = np.array([0, 0])
    cap_dest = np.array([[0, 1, 1], [0, 1, 0]], dtype=np.uint8)
    share = np.array([[0.6, 0.0]])
    cost = np.array([[np.inf, 0.2]])
    tshare = np.array([[np.inf, 0.5]])
    act = np.array([[[1, 1]]], dtype=np.uint8)
    etx_origin = np.array([0, 0])
    etx_dest = np.array([[0, 1, 1], [0, 1, 0]], dtype=np.uint8)
    etx_rate = np.array([[0.1, 0.05]])
    etx_act = np.ones((1, 1, 2), dtype=np.uint8)
    out = dict(rate=np.empty((R, R)), Tf=np.empty((R, R)), etax=np.empty((R, R)),
               rk_on=np.empty(2, dtype=np.uint8), cap=np.empty(2), tcost=np.empty(2), tcap=np.empty(2),
               mip=np.empty((R, R)), und=np.empty((R, R), dtype=np.uint8))
    none3 = np.zeros((0, R, R))
    args = (0, 0, X0, T0, none3, np.zeros(0, dtype=np.int64), np.zeros((1, 0)),
            np.zeros((1, 1, 0), dtype=np.uint8), cap_origin, cap_dest, share, cost, tshare, act,
            etx_origin, etx_dest, etx_rate, etx_act,
            np.zeros((0, R), dtype=np.uint8), np.zeros(0), np.zeros(0, dtype=np.uint8),
            np.zeros((1, 1, 0), dtype=np.uint8))
    compose_trade_policies(*args, **out)
    assert list(out["rk_on"]) == [1, 1]
    assert out["cap"][0] == pytest.approx(0.6 * 5.0) and out["cap"][1] == 0.0
    assert np.isinf(out["tcost"][0]) and np.isinf(out["tcap"][0])
    assert out["tcost"][1] == 0.2 and out["tcap"][1] == pytest.approx(0.5 * 3.0)
    assert out["etax"][0, 1] == pytest.approx(0.15) and out["etax"][0, 2] == pytest.approx(0.1)
    assert out["etax"][0, 0] == 0.0 and np.all(out["Tf"] == 1.0)
    act[0, 0, 1] = 0  # the ban is not in force
    compose_trade_policies(*args, **out)
    assert list(out["rk_on"]) == [1, 0]


def _tiny(tmp_path, name, policies, periods=12, draws=20, minerals=("gallium",), **extra):
    return load_scenario(_write(tmp_path, name, {
        "name": name, "horizon": {"start": "2026Q1", "periods": periods}, "draws": draws, "seed": 3,
        "dataset": str((FIXTURES / "tinydata").resolve()), "minerals": list(minerals),
        "dynamics": {"demand_volatility": 0.0}, "elasticity_ranges": "fixed", "policies": policies, **extra}))


def test_stockpile_releases_above_trigger_and_refills_below(tmp_path):
    ban = {"name": "ban", "type": "export_restriction", "origin": "CHN", "destinations": ["USA"],
           "cap_share": 0, "leakage": 0.3, "start": "2026Q3", "end": "2027Q2"}
    vault = {"name": "vault", "type": "stockpile", "region": "USA", "initial_months": 6, "capacity_months": 6,
             "release_rate": 0.5, "trigger": 1.2, "refill_rate": 0.2, "refill_below": 1.05}
    scn = _tiny(tmp_path, "vault", [ban, vault])
    a = _arrays(scn, "gallium", 0, 5)
    us = compile_market(scn, "gallium").regions.index("USA")
    stock = a["stockpile"][0, :, us]
    c0 = compile_market(scn, "gallium").cal.C0[us]
    assert stock[0] == pytest.approx(c0 / 2, rel=1e-6)       # full before the ban
    assert stock[2:6].min() < stock[1]                       # drawn down while the price is high
    assert stock[-1] > stock[2:6].min()                      # refilled after the ban ends
    without = _arrays(_tiny(tmp_path, "noval", [ban]), "gallium", 0, 5)
    # releases lower the US consumer price during the ban
    assert a["consumer_price"][0, 3, us] < without["consumer_price"][0, 3, us]


def test_outage_and_capacity_project_change_capacity(tmp_path):
    outage = {"name": "flood", "type": "outage", "region": "CHN", "share": 0.4, "start": "2026Q3", "end": "2026Q4"}
    project = {"name": "mine", "type": "capacity_project", "region": "USA", "mineral": "ndpr_oxide",
               "capacity_t": 2000, "date": "2027Q1", "probability": 1.0, "delay_quarters": 0}
    scn = _tiny(tmp_path, "cap", [outage, project], minerals=("gallium", "ndpr_oxide"))
    base = _tiny(tmp_path, "nocap", [], minerals=("gallium", "ndpr_oxide"))
    g, g0 = _arrays(scn, "gallium", 0, 3), _arrays(base, "gallium", 0, 3)
    chn = compile_market(scn, "gallium").regions.index("CHN")
    ratio = g["capacity"][0, :, chn] / g0["capacity"][0, :, chn]
    np.testing.assert_allclose(ratio[2:4], 0.6, rtol=1e-5)   # 40% lost in 2026Q3-Q4
    np.testing.assert_allclose(ratio[4], 1.0, rtol=1e-3)     # back afterwards (capacity not destroyed)
    assert g["consumer_price"][0, 2, chn] > g0["consumer_price"][0, 2, chn]
    n, n0 = _arrays(scn, "ndpr_oxide", 0, 3), _arrays(base, "ndpr_oxide", 0, 3)
    usa = compile_market(scn, "ndpr_oxide").regions.index("USA")
    jump = n["capacity"][0, :, usa] - n0["capacity"][0, :, usa]
    assert jump[3] == pytest.approx(0.0, abs=1e-3) and jump[4] == pytest.approx(2000, rel=1e-3)
    assert n["production"][0, 6, usa] > n0["production"][0, 6, usa]


def test_capacity_project_without_baseline_variety_is_rejected(tmp_path):
    from simsrc.policies import CompileError

    project = {"name": "mine", "type": "capacity_project", "region": "AUS", "mineral": "gallium",
               "capacity_t": 50, "date": "2027Q1"}
    from simsrc.errors import InputError

    # validation refuses it first, with the policy's file and line (issue 16)
    with pytest.raises(InputError, match="AUS has no baseline production of gallium") as ei:
        _tiny(tmp_path, "bad", [project])
    assert ei.value.problems[0].line is not None and ei.value.problems[0].path == "policies[0].region"
    # and the engine still refuses it for a scenario that skipped validation
    scn = _tiny(tmp_path, "good", [])
    scn.policies.append(type(scn).model_validate({**scn.to_dict(), "policies": [project]}).policies[0])
    with pytest.raises(CompileError, match="AUS has no baseline production of gallium"):
        compile_market(scn, "gallium")


def test_flows_table_and_flow_plot_from_a_run(tmp_path):
    """flows.parquet holds the dataset's flows and the scenario's mean flows; without shocks or
    policies they agree, and `simsrc plot --kind flows` draws them from the folder."""
    from click.testing import CliRunner

    from simsrc.cli import main

    scn = _tiny(tmp_path, "quietflows", [], periods=4, draws=6)
    info = run(scn, out_dir=tmp_path / "out")
    import pandas as pd

    f = pd.read_parquet(info.path / "flows.parquet")
    g = f[f.mineral == "gallium"]
    np.testing.assert_allclose(g.scenario, g.baseline, rtol=1e-9, atol=1e-9)
    cal = compile_market(scn, "gallium").cal
    assert g.baseline.sum() == pytest.approx(cal.X0.sum())
    res = CliRunner().invoke(main, ["plot", str(info.path), "--kind", "flows", "-r", "USA", "--format", "png",
                                    "--out", str(tmp_path / "fig")])
    assert res.exit_code == 0, res.output
    pngs = list((tmp_path / "fig").glob("*.png"))
    assert pngs and all(p.stat().st_size > 10_000 for p in pngs)
