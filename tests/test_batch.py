"""`simsrc batch` (issue 14): sweep members equal the same scenario run alone with --set;
resuming after SIGKILL gives the same catalogue without recomputing finished members; a bad
batch file writes nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from simsrc.batch import Batch, load_batch, run_batch
from simsrc.cli import main
from simsrc.errors import InputError

ROOT = Path(__file__).resolve().parents[1]


def small_sweep(tmp_path, points=(0.1, 0.3, 0.5)) -> Path:
    f = tmp_path / "sweep.yaml"
    f.write_text(f"name: t\ndraws: 12\nregions: [USA]\nsweeps:\n  - name: rate\n"
                 f"    scenario: {ROOT / 'scenarios' / 'section232_negotiation.yaml'}\n"
                 f"    grid: {{policies.s232_tariff.rate: [{', '.join(map(str, points))}]}}\n")
    return f


def test_a_sweep_member_equals_the_scenario_run_alone_with_set(tmp_path):
    from simsrc.compare import compare
    from simsrc.scenario import load_scenario
    res = run_batch(small_sweep(tmp_path, (0.3,)), out_dir=tmp_path / "b", echo=lambda *_: None)
    member = next((res["folder"] / "members").iterdir())
    scn = load_scenario(ROOT / "scenarios" / "section232_negotiation.yaml", sets=["policies.s232_tariff.rate=0.3"])
    alone = compare(scn, draws=12, out_dir=tmp_path / "alone")
    # members write no paths by default (outputs.paths: none); summaries and draws are complete
    assert not (member / "paths.parquet").exists()
    for f in ("summary.parquet", "draws.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(member / f), pd.read_parquet(alone.path / f))
    cat = Batch(res["folder"]).catalogue
    assert set(cat["set:policies.s232_tariff.rate"]) == {0.3}
    assert {"median", "p_lo", "p_hi", "mean", "tail_share"} <= set(cat.columns)


def test_killed_batch_resumes_to_the_same_catalogue_without_recomputing(tmp_path):
    f = small_sweep(tmp_path)
    full = run_batch(f, out_dir=tmp_path / "full", echo=lambda *_: None)
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "simsrc.cli", "batch", str(f), "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    t0 = time.time()
    def finished_members():  # not a member's hidden temporary folder, which holds its manifest just before the rename
        return {p.parent.name for p in out.glob("batch-*/members/*/manifest.json") if not p.parent.name.startswith(".")}

    while time.time() - t0 < 120:
        if finished_members():
            break
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = finished_members()
    assert 1 <= len(finished) < 3
    stamps = {n: os.stat(next(out.glob(f"batch-*/members/{n}/summary.parquet"))).st_mtime_ns for n in finished}
    again = run_batch(f, out_dir=out, echo=lambda *_: None)
    assert set(again["skipped"]) == finished and len(again["ran"]) == 3 - len(finished)
    for n, st in stamps.items():  # finished members were not recomputed
        assert os.stat(next(out.glob(f"batch-*/members/{n}/summary.parquet"))).st_mtime_ns == st
    pd.testing.assert_frame_equal(again["catalogue"], full["catalogue"])


@pytest.mark.parametrize("text, message", [
    ("name: t\nmembrs: []\n", "did you mean members"),
    ("name: t\nsweeps:\n  - name: s\n    scenario: ../nope.yaml\n    grid: {a: [1]}\n", "not found"),
    ("name: t\nsweeps:\n  - name: s\n    scenario: SCN\n    grid: {policies.s232_tarif.rate: [0.1]}\n", "did you mean s232_tariff"),
    ("name: t\nsweeps:\n  - name: s\n    scenario: SCN\n    lhs: {n: 1, ranges: {}}\n", "lhs is"),
])
def test_bad_batch_file_names_the_key_and_writes_nothing(tmp_path, text, message):
    f = tmp_path / "bad.yaml"
    f.write_text(text.replace("SCN", str(ROOT / "scenarios" / "section232_negotiation.yaml")))
    with pytest.raises(InputError) as err:
        load_batch(f)
    assert message in str(err.value)
    res = CliRunner().invoke(main, ["batch", str(f), "--out", str(tmp_path / "out")])
    assert res.exit_code == 1 and not (tmp_path / "out").exists()


def test_sweep_chart_and_library_batch_files_validate(tmp_path):
    for name in ("library", "s232_rate", "floor_grid"):
        spec = load_batch(ROOT / "scenarios" / "batches" / f"{name}.yaml")
        assert spec.members
    res = run_batch(small_sweep(tmp_path), out_dir=tmp_path / "b", echo=lambda *_: None)
    r = CliRunner().invoke(main, ["plot", str(res["folder"]), "--kind", "sweep", "--mineral", "gallium", "--format", "png"])
    assert r.exit_code == 0, r.output
    assert list((res["folder"] / "figures").glob("sweep-rate-*.png"))


def test_local_and_dask_executors_give_identical_catalogues(tmp_path):
    f = small_sweep(tmp_path, (0.2, 0.4))
    local = run_batch(f, out_dir=tmp_path / "local", echo=lambda *_: None)
    dask = run_batch(f, out_dir=tmp_path / "dask", echo=lambda *_: None, executor="dask")
    pd.testing.assert_frame_equal(local["catalogue"], dask["catalogue"])
    for m in ("rate-000-rate=0.2", "rate-001-rate=0.4"):
        for f in ("summary.parquet", "draws.parquet"):
            pd.testing.assert_frame_equal(pd.read_parquet(local["folder"] / "members" / m / f),
                                          pd.read_parquet(dask["folder"] / "members" / m / f))


def test_compare_on_a_dask_cluster_equals_local(tmp_path):
    from simsrc.compare import compare
    from simsrc.scenario import load_scenario
    scn = ROOT / "scenarios" / "ndpr_price_floor.yaml"
    a = compare(scn, draws=24, out_dir=tmp_path / "a", chunk_size=10)
    b = compare(load_scenario(scn, sets=[]), draws=24, out_dir=tmp_path / "b", chunk_size=10, executor="dask")
    for f in ("paths.parquet", "draws.parquet", "inputs.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(a.path / f), pd.read_parquet(b.path / f))


def test_batch_schema_is_printed_and_names_every_key_the_loader_allows():
    import json

    import yaml
    res = CliRunner().invoke(main, ["schema", "--batch"])
    assert res.exit_code == 0
    schema = json.loads(res.output)
    assert (ROOT / "simsrc" / "schema" / "batch.schema.json").read_text() == res.output
    for name in ("library", "s232_rate", "floor_grid"):
        data = yaml.safe_load((ROOT / "scenarios" / "batches" / f"{name}.yaml").read_text())
        assert set(data) <= set(schema["properties"])
        for sw in data.get("sweeps", []):
            assert set(sw) <= set(schema["properties"]["sweeps"]["items"]["properties"])
