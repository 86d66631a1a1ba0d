"""Results store: tidy layout, summaries against numpy, atomic folders."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from pathlib import Path

from simsrc.results import OUTPUTS, Results, ResultsWriter, discount_factors

ROOT = Path(__file__).resolve().parents[1]


def _chunk(rng, n, T, R):
    arrays = {k: rng.random((n, T, R)).astype(np.float32) for k in OUTPUTS}
    arrays["converged"] = np.ones((n, T, R), dtype=np.float32)
    return arrays


def test_write_read_and_summaries(tmp_path):
    rng = np.random.default_rng(0)
    regions = ["USA", "CHN", "ROW"]
    T = 4
    chunks = [_chunk(rng, 5, T, 3), _chunk(rng, 3, T, 3)]
    chunks[1]["converged"][1, 2, :] = 0  # one non-converged solve: excluded from the summary
    with ResultsWriter(tmp_path, "toy", "abcdef123456", list(OUTPUTS), 0.25, 0.03) as w:
        w.add_chunk("gallium", regions, 0, chunks[0])
        w.add_chunk("gallium", regions, 5, chunks[1])
        folder = w.finish({"scenario_name": "toy", "draws": 8, "periods": T})
    assert folder.name.startswith("toy-") and folder.name.endswith("-abcdef12")
    assert not list(tmp_path.glob(".*"))
    r = Results(folder)
    paths = r.paths(mineral="gallium")
    assert len(paths) == 8 * T * 3
    assert set(paths.columns) >= {"draw", "period", "region", "mineral", *OUTPUTS}
    full = np.concatenate([c["consumer_price"] for c in chunks]).astype(np.float64)
    ok = np.concatenate([c["converged"] for c in chunks]) > 0.5
    full[~ok] = np.nan
    s = r.summary.query("output == 'consumer_price' and region == 'CHN' and period == 2").iloc[0]
    assert s["n"] == 7
    assert s["p50"] == pytest.approx(np.nanmedian(full[:, 2, 1]))
    assert s["mean"] == pytest.approx(np.nanmean(full[:, 2, 1]))
    d = r.draws.query("mineral == 'gallium' and region == 'USA'").sort_values("draw")
    disc = discount_factors(T, 0.25, 0.03) * 0.25
    cs = np.concatenate([c["cs_change"] for c in chunks])[:, :, 0].astype(np.float64)
    assert np.allclose(d["npv_cs_change"], cs @ disc)
    m = json.loads((folder / "manifest.json").read_text())
    assert m["draws"] == 8 and "machine" in m and m["wall_time_s"] >= 0


def test_failure_leaves_no_folder(tmp_path):
    rng = np.random.default_rng(1)
    with pytest.raises(RuntimeError):
        with ResultsWriter(tmp_path, "toy", "abc", list(OUTPUTS), 0.25, 0.03) as w:
            w.add_chunk("nickel", ["A", "B"], 0, _chunk(rng, 2, 3, 2))
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_column_stats_match_numpy_with_ties_and_nan(monkeypatch):
    from simsrc.kernels import summary
    from simsrc.results import PERCENTILES

    rng = np.random.default_rng(3)
    qs = np.asarray(PERCENTILES, dtype=float)
    for n in (1, 2, 3, 7, 100, 2001):
        x = rng.random((n, 40)).astype(np.float32)
        x[:, :10] = np.round(x[:, :10] * 3)  # ties
        x[:, 10] = 2.0                        # constant cell
        if n > 3:
            x[::3, 11] = np.nan               # failed solves are skipped
        x[:, 12] = np.nan                     # a cell with no solve
        out = summary.column_stats(x, qs, workers=1)
        # the same with blocks of 3 cells, on 2 threads
        monkeypatch.setattr(summary, "BLOCK_CELLS", 3)
        assert np.array_equal(out, summary.column_stats(x, qs, workers=2), equal_nan=True)
        monkeypatch.undo()
        assert np.isnan(out[:7, 12]).all() and out[7, 12] == 0
        xd = x.astype(np.float64)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # numpy on the cell with no solve
            np.testing.assert_allclose(out[:5], np.nanpercentile(xd, qs, axis=0), rtol=0, atol=1e-12)
            np.testing.assert_allclose(out[5], np.nanmean(xd, axis=0), rtol=1e-12)
            np.testing.assert_allclose(out[6], np.nanstd(xd, axis=0, ddof=1), rtol=1e-10)
        assert np.array_equal(out[7], np.sum(~np.isnan(xd), axis=0))


def test_in_memory_and_spilled_summaries_agree(tmp_path):
    """A mineral summarised from memory equals one whose chunks were spilled to scratch files
    (over the memory budget), and no scratch file is left in the results folder."""
    rng = np.random.default_rng(5)
    chunks = [_chunk(rng, 6, 5, 3), _chunk(rng, 4, 5, 3)]
    chunks[0]["converged"][2, 1, :] = 0
    folders = []
    for budget in (2**30, 0):
        with ResultsWriter(tmp_path / str(budget), "toy", "abc", list(OUTPUTS), 0.25, 0.03,
                           summary_budget_bytes=budget) as w:
            for m in ("gallium", "cobalt"):
                w.add_chunk(m, ["USA", "CHN", "ROW"], 0, chunks[0])
                w.add_chunk(m, ["USA", "CHN", "ROW"], 6, chunks[1])
                w.finish_mineral(m)
            folders.append(w.finish({}))
    a, b = (Results(f).summary for f in folders)
    assert not any(p.name == ".scratch" for f in folders for p in f.rglob("*"))
    assert list(a.columns) == list(b.columns) and len(a) == len(b) == 2 * 5 * 3 * len(OUTPUTS)
    pd.testing.assert_frame_equal(a, b)


def test_paths_selection_parallel_writers_and_chunking_give_identical_results(tmp_path):
    """Issue 17: the paths written with one or several writer threads and any chunk size are
    bit-identical; a selection holds exactly the selected columns of the full paths; summaries
    and per-draw outputs do not depend on what paths keep (none included)."""
    from simsrc import results as res_mod
    from simsrc.engine import run
    from simsrc.scenario import load_scenario

    scn = ROOT / "scenarios" / "baseline.yaml"
    only = ["minerals=[gallium, germanium]"]
    full = run(load_scenario(scn, sets=only), draws=24, out_dir=tmp_path / "full", chunk_size=7)
    sel = run(load_scenario(scn, sets=only + ["outputs.paths={outputs: [consumer_price, production], "
                                              "regions: [USA, EU], minerals: [germanium]}"]),
              draws=24, out_dir=tmp_path / "sel", chunk_size=24)
    none = run(load_scenario(scn, sets=only + ["outputs.paths=none"]), draws=24, out_dir=tmp_path / "none")
    old = res_mod.PATH_WRITERS
    try:
        res_mod.PATH_WRITERS = 1
        one = run(load_scenario(scn, sets=only), draws=24, out_dir=tmp_path / "one", chunk_size=5)
    finally:
        res_mod.PATH_WRITERS = old
    a = pd.read_parquet(full.path / "paths.parquet")
    pd.testing.assert_frame_equal(a, pd.read_parquet(one.path / "paths.parquet"))
    b = pd.read_parquet(sel.path / "paths.parquet")
    assert list(b.columns) == ["draw", "period", "region", "mineral", "consumer_price", "production", "converged"]
    want = a[(a["mineral"] == "germanium") & a["region"].isin(["USA", "EU"])][list(b.columns)]
    for c in ("region", "mineral"):
        want[c], b[c] = want[c].astype(str), b[c].astype(str)
    pd.testing.assert_frame_equal(want.reset_index(drop=True), b.reset_index(drop=True))
    assert not (none.path / "paths.parquet").exists()
    assert Results(none.path).manifest["paths"] == "none"
    for f in ("summary.parquet", "draws.parquet"):
        ref = pd.read_parquet(full.path / f)
        for other in (sel, none, one):
            pd.testing.assert_frame_equal(ref, pd.read_parquet(other.path / f))


def test_npv_kernel_equals_numpy_to_the_last_bit():
    """The per-draw NPV kernel gives numpy's nansum of the discounted float64 values exactly
    (periods added in the same order), NaN skipped, infinities kept."""
    from simsrc.kernels.summary import npv_sum

    rng = np.random.default_rng(11)
    for shape in [(300, 40, 16), (5, 3, 2), (1, 1, 1)]:
        x = (rng.standard_normal(shape) * 10 ** rng.uniform(-3, 9, shape)).astype(np.float32)
        x[rng.random(shape) < 0.1] = np.nan
        x[rng.random(shape) < 0.01] = np.inf
        disc = discount_factors(shape[1], 0.25, 0.03) * 0.25
        ref = np.nansum(x.astype(np.float64) * disc[None, :, None], axis=1)
        assert np.array_equal(npv_sum(x, disc), ref, equal_nan=True)


def test_background_writer_keeps_order_summarises_after_the_last_chunk_and_raises():
    """BackgroundWriter: chunks are added in the order submitted, a mineral's summary runs only
    after its last chunk is added, and a failure in the writer thread reaches the caller."""
    import threading
    import time

    from simsrc.results import BackgroundWriter, StageTimes

    class Fake:
        def __init__(self):
            self.times = StageTimes()
            self.log = []
            self.lock = threading.Lock()

        def add(self, m, k, delay):
            time.sleep(delay)
            with self.lock:
                self.log.append(("add", m, k))

        def finish_mineral(self, m):
            with self.lock:
                self.log.append(("summary", m))

    w = Fake()
    with BackgroundWriter(w, ahead=2) as bg:
        for m in ("a", "b"):
            for k in range(4):
                bg.submit(w.add, m, k, 0.01 * (3 - k))  # later chunks finish faster
            bg.mineral_done(m)
        bg.drain()
    adds = [e for e in w.log if e[0] == "add"]
    assert adds == [("add", m, k) for m in ("a", "b") for k in range(4)]
    for m in ("a", "b"):
        assert w.log.index(("summary", m)) > w.log.index(("add", m, 3))

    def boom(*_):
        raise OSError("disk full")

    w = Fake()
    with pytest.raises(OSError, match="disk full"):
        with BackgroundWriter(w, ahead=1) as bg:
            bg.submit(boom)
            bg.submit(w.add, "a", 0, 0.0)   # waits for the failed one: raises here
            bg.drain()


def test_cell_stats_fed_in_chunks_equal_the_whole_cube(tmp_path, monkeypatch):
    """Summaries accumulated chunk by chunk (only the cells that vary kept, some spilled to
    disk) equal those of the whole cube at once, to the last bit, whatever the chunking: cells
    constant throughout, constant within chunks but not across them, constant but for failed
    solves, masked (non-converged) values and cells with no value at all."""
    from simsrc.kernels import summary
    from simsrc.kernels.summary import CellStats, column_stats
    from simsrc.results import PERCENTILES

    rng = np.random.default_rng(17)
    qs = np.asarray(PERCENTILES, dtype=float)
    n, m = 230, 9
    x = rng.random((n, m)).astype(np.float32)
    x[:, 0] = 3.5                        # constant
    x[:100, 1], x[100:, 1] = 1.0, 2.0    # constant within the first chunks, not across
    x[:, 2] = 7.25
    x[::5, 2] = np.nan                   # constant but for failed solves
    x[:, 3] = np.nan                     # no value
    x[:, 4] = np.round(x[:, 4] * 2)      # ties
    ok = rng.random((n, m)) > 0.1
    ok[:, 0] = True
    ref = column_stats(np.where(ok, x, np.float32(np.nan)), qs)
    for sizes in ([n], [1, 99, 130], [50] * 4 + [30], [7] * 32 + [6]):
        st = CellStats(m)
        a = 0
        for k, s in enumerate(sizes):
            st.add(x[a:a + s], ok[a:a + s])
            a += s
            if k % 2:
                st.spill(tmp_path, f"s{len(sizes)}")
        assert np.array_equal(st.result(qs), ref, equal_nan=True)
        monkeypatch.setattr(summary, "BLOCK_CELLS", 2)  # blocks of 2 cells, on 2 threads
        assert np.array_equal(st.result(qs, workers=2), ref, equal_nan=True)
        monkeypatch.undo()
    assert ref[5, 0] == 3.5 and ref[6, 0] == 0.0 and (ref[:5, 0] == 3.5).all()
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        xd = np.where(ok, x, np.nan).astype(np.float64)
        np.testing.assert_allclose(ref[:5], np.nanpercentile(xd, qs, axis=0), rtol=0, atol=1e-12)
        np.testing.assert_allclose(ref[6], np.nanstd(xd, axis=0, ddof=1), rtol=1e-10)


def test_per_draw_means_peaks_and_sums_match_numpy():
    """The per-draw scalars over the horizon (one numba pass each) equal numpy's nanmean,
    nanmax and nansum of the float64 values: NaN periods skipped, all-NaN cells NaN (means and
    peaks) or 0 (sums)."""
    from simsrc.kernels.summary import period_stat

    rng = np.random.default_rng(12)
    x = (rng.standard_normal((50, 40, 6)) * 1e3).astype(np.float32)
    x[rng.random(x.shape) < 0.2] = np.nan
    x[:, :, 5] = np.nan
    xd = x.astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        np.testing.assert_allclose(period_stat(x, 1), np.nanmean(xd, axis=1), rtol=1e-14)
        assert np.array_equal(period_stat(x, 2), np.nanmax(xd, axis=1), equal_nan=True)
    np.testing.assert_allclose(period_stat(x, 0), np.nansum(xd, axis=1), rtol=1e-14)
    assert np.isnan(period_stat(x, 1)[:, 5]).all() and (period_stat(x, 0)[:, 5] == 0).all()
