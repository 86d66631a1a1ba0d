"""Hostile command lines and faults (issue 16): options, file-system and cluster faults, damaged
results, temporary folders, concurrent runs, a scenario edited during a run, non-finite
results and SIGKILL at every phase. Each asserts the exit status, a one-line message naming
the path or address, no traceback and nothing left behind."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from simsrc.cli import main
from simsrc.results import TMP_MARKER, make_temporary, remove_stale_temporaries, rename_into_place, safe_child

TINY = (Path(__file__).parent.parent / "fixtures" / "tinydata").resolve()
HEAD = f"name: hostile\nhorizon: {{start: 2026Q1, periods: 2}}\ndataset: '{TINY}'\nminerals: [gallium]\ndraws: 2\n"


def scenario(tmp_path, body="", name="s.yaml"):
    p = tmp_path / name
    p.write_text(HEAD + body)
    return p


def cli(*args, env=None):
    res = CliRunner().invoke(main, [str(a) for a in args], env=env)
    assert "Traceback" not in res.output, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    return res


def listing(root: Path) -> set:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


# ---------------------------------------------------------------------------------------------
# options validated by click, before anything runs
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, fragment", [
    ("lcoal", "did you mean local"), ("Dask", "did you mean dask"), ("dask://", "dask://HOST:PORT"),
    ("dask://host", "dask://HOST:PORT"), ("dask://host:99999", "port 1-65535"), ("tcp://127.0.0.1:8786", "dask://HOST:PORT"),
    ("", "use 'local'"),
])
@pytest.mark.parametrize("command", ["run", "compare", "sensitivity"])
def test_executor_option_is_validated(tmp_path, command, value, fragment):
    s = scenario(tmp_path)
    res = cli(command, s, "--executor", value, "--out", tmp_path / "out")
    assert res.exit_code == 2 and fragment in res.output, res.output
    assert not (tmp_path / "out").exists()


def test_batch_executor_option_is_validated(tmp_path):
    b = tmp_path / "b.yaml"
    b.write_text("name: b\nmembers: []\n")
    res = cli("batch", b, "--executor", "lcoal", "--out", tmp_path / "out")
    assert res.exit_code == 2 and "did you mean local" in res.output


@pytest.mark.parametrize("region, fragment", [("ZZZ", "unknown region 'ZZZ'"), ("usa", "did you mean USA"),
                                              ("", "unknown region")])
def test_region_checked_against_dataset_before_run(tmp_path, region, fragment):
    s = scenario(tmp_path)
    res = cli("run", s, "--region", region, "--out", tmp_path / "out")
    assert res.exit_code == 2 and fragment in res.output, res.output
    assert not (tmp_path / "out").exists()


def test_default_region_falls_back_on_datasets_without_usa(tmp_path):
    s = tmp_path / "g.yaml"
    s.write_text("name: g\nhorizon: {start: 2026Q1, periods: 2}\ndataset: gsim_example\ndraws: 2\n")
    res = cli("run", s, "--out", tmp_path / "out")
    head = res.output.split("headline outcomes")[-1]
    assert res.exit_code == 0 and "consumer price" in head and " US" in head, res.output


@pytest.mark.parametrize("args, fragment", [
    (["--draws", "0"], "--draws"), (["--draws", "100000000000"], "--draws"), (["--draws", "x"], "--draws"),
    (["--seed", "-1"], "--seed"), (["--seed", str(2**64)], "--seed"), (["--chunk-size", "0"], "--chunk-size"),
])
def test_numeric_options_bounded(tmp_path, args, fragment):
    s = scenario(tmp_path)
    res = cli("run", s, *args, "--out", tmp_path / "out")
    assert res.exit_code == 2 and fragment in res.output, res.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("setting, fragment", [
    ("name=../../x", "invalid scenario name"), ("name=/etc/x", "invalid scenario name"),
    ("draws=true", "boolean"), ("draws=100000000000", "draws"), ("seed=-3", "seed"),
    ("minerals=[gallium, gallium]", "more than once"), ("horizon.periods=1000000", "periods"),
    ("nosuchkey=1", "unknown key 'nosuchkey'"), ("policies.nope.rate=1", "--set policies.nope.rate"),
    ("description=[&a [1,1,1,1,1,1,1,1,1,1], &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a], &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b], "
     "&d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c], &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d], &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]]",
     "aliases"),
    ("description=" + "[" * 100 + "]" * 100, "nesting deeper"), ("horizon.start=2026-02-30", "invalid date"),
    ("draws={", "cannot be read as YAML"), ("a..b=1", "empty part in the key"), ("nosuch.key=1", "--set nosuch.key"),
])
def test_set_values_validated_like_the_file(tmp_path, setting, fragment):
    s = scenario(tmp_path)
    before = listing(tmp_path)
    for cmd in (["run", s, "--out", tmp_path / "out"], ["solve", s, "-m", "gallium"]):
        res = cli(*cmd, "--set", setting)
        assert res.exit_code == 1 and fragment in res.output, res.output
    assert listing(tmp_path) == before


@pytest.mark.parametrize("member, fragment", [
    ("{scenario: s.yaml, id: ../../x}", "member id '../../x'"), ("{scenario: s.yaml, id: 'a/b'}", "member id"),
    ("{scenario: s.yaml, id: 5}", "member id 5"),
])
def test_batch_member_ids_are_folder_names(tmp_path, member, fragment):
    scenario(tmp_path)
    b = tmp_path / "b.yaml"
    b.write_text(f"name: b\nmembers:\n  - {member}\n")
    before = listing(tmp_path)
    res = cli("batch", b, "--out", tmp_path / "out")
    assert res.exit_code == 1 and fragment in res.output and "b.yaml:3" in res.output, res.output
    assert listing(tmp_path) == before


def test_batch_sweep_name_is_a_folder_name(tmp_path):
    scenario(tmp_path)
    b = tmp_path / "b.yaml"
    b.write_text("name: b\nsweeps:\n  - {name: ../up, scenario: s.yaml, points: [{draws: 2}]}\n")
    res = cli("batch", b, "--out", tmp_path / "out")
    assert res.exit_code == 1 and "sweep name '../up'" in res.output, res.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("line, fragment", [
    ("extends: loop.yaml", "parent scenario file not found"), ("counterfactual: loop.yaml", "counterfactual scenario file not found"),
    ("extends: fifo.yaml", "parent scenario file not found"), ("counterfactual: fifo.yaml", "counterfactual scenario file not found"),
])
def test_symlink_loops_and_fifos_are_reported_not_followed(tmp_path, line, fragment):
    (tmp_path / "loop.yaml").symlink_to("loop.yaml")
    os.mkfifo(tmp_path / "fifo.yaml")
    s = scenario(tmp_path, line + "\n")
    for args in (["validate", s], ["run", s, "--out", tmp_path / "out"]):
        res = cli(*args)
        assert res.exit_code == 1 and fragment in res.output and "s.yaml:6" in res.output, res.output
    assert cli("validate", tmp_path / "loop.yaml").exit_code == 1
    assert cli("validate", tmp_path / "fifo.yaml").exit_code == 1
    res = cli("run", s, "--out", tmp_path / "loop.yaml")
    assert res.exit_code == 1


def test_scenario_argument_that_is_a_folder_or_missing(tmp_path):
    assert cli("run", tmp_path, "--out", tmp_path / "out").exit_code == 2
    assert cli("run", tmp_path / "nope.yaml", "--out", tmp_path / "out").exit_code == 2
    assert cli("validate", tmp_path / "nope.yaml").exit_code == 1


# ---------------------------------------------------------------------------------------------
# names and paths
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["../x", "..", ".", "a/b", "/abs", "a\0b", "a\nb", "x" * 300, ""])
def test_safe_child_refuses_anything_but_one_plain_name(tmp_path, name):
    from simsrc.errors import SimsrcError

    with pytest.raises(SimsrcError):
        safe_child(tmp_path, name)


def test_safe_child_refuses_a_link_leading_out(tmp_path):
    from simsrc.errors import SimsrcError

    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "link").symlink_to(tmp_path)
    with pytest.raises(SimsrcError):
        safe_child(tmp_path / "out", "link")
    assert safe_child(tmp_path / "out", "fine-name.1") == tmp_path / "out" / "fine-name.1"


def test_run_folder_name_is_sanitised_for_scenarios_built_in_code():
    from simsrc.results import run_folder_name

    name = run_folder_name("../../etc/x y\0", "abcdef0123")
    assert "/" not in name and "\0" not in name and not name.startswith(".")


# ---------------------------------------------------------------------------------------------
# temporary folders: only marked ones of dead processes are removed
# ---------------------------------------------------------------------------------------------

def test_only_marked_temporaries_of_dead_processes_are_removed(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    users = [out / ".mine.tmp-999999", out / ".x.tmp-999998-abcdef12", out / ".y.tmp-1-0000abcd"]
    for u in users:
        u.mkdir()
        (u / "precious.txt").write_text("keep")
    # a marker whose token does not match its folder's name is not ours either
    (out / ".y.tmp-1-0000abcd" / TMP_MARKER).write_text(json.dumps({"pid": 1, "token": "ffffffff", "host": os.uname().nodename}))
    dead = make_temporary(out, "run-a")
    mark = json.loads((dead / TMP_MARKER).read_text())
    mark["pid"] = 999_999_999  # no such process
    renamed = dead.with_name(f".run-a.tmp-999999999-{mark['token']}")
    dead.rename(renamed)
    (renamed / TMP_MARKER).write_text(json.dumps(mark))
    alive = make_temporary(out, "run-b")  # this process: alive
    removed = remove_stale_temporaries(out)
    assert removed == [renamed] and not renamed.exists()
    assert alive.exists() and all((u / "precious.txt").read_text() == "keep" for u in users)


def test_run_in_a_folder_with_user_folders_of_the_temporary_shape(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / ".results.tmp-12345678").mkdir()
    (out / ".results.tmp-12345678" / "thesis.tex").write_text("x")
    s = scenario(tmp_path)
    res = cli("run", s, "--out", out)
    assert res.exit_code == 0, res.output
    assert (out / ".results.tmp-12345678" / "thesis.tex").exists()
    folders = [p for p in out.iterdir() if not p.name.startswith(".")]
    assert len(folders) == 1 and not (folders[0] / TMP_MARKER).exists()


def test_concurrent_runs_in_one_second_get_distinct_folders(tmp_path, monkeypatch):
    import simsrc.results as results
    from simsrc.engine import run

    monkeypatch.setattr(results, "run_folder_name", lambda s, h, when=None: f"{s}-20260101T000000Z-{h[:8]}")
    s = scenario(tmp_path)
    paths = [run(s, out_dir=tmp_path / "out").path for _ in range(4)]
    assert len(set(paths)) == 4 and all((p / "manifest.json").is_file() for p in paths)
    assert sorted(p.name for p in paths)[1].endswith("-2")


def test_rename_into_place_never_replaces_a_folder(tmp_path):
    final = tmp_path / "r"
    final.mkdir()  # an empty folder os.replace would silently replace
    tmp = tmp_path / ".r.tmp"
    tmp.mkdir()
    (tmp / "f").write_text("x")
    got = rename_into_place(tmp, final)
    assert got == tmp_path / "r-2" and final.is_dir() and not any(final.iterdir())
    tmp.mkdir()
    with pytest.raises(FileExistsError):
        rename_into_place(tmp, final, unique=False)


# ---------------------------------------------------------------------------------------------
# file-system and cluster faults: one line, exit 1, nothing left behind
# ---------------------------------------------------------------------------------------------

def test_disk_full_while_writing(tmp_path, monkeypatch):
    import pandas as pd

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "out" / "summary.parquet"))

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full)
    s = scenario(tmp_path)
    res = cli("run", s, "--out", tmp_path / "out")
    assert res.exit_code == 1
    err = res.output.strip().splitlines()
    assert err[-1].startswith("error: No space left on device: ") and "summary.parquet" in err[-1]
    assert not (tmp_path / "out").exists()  # the folder the run created is removed too


def test_disk_full_keeps_an_existing_out_folder_untouched(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("x")

    def full(table, path, *a, **k):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(pq, "write_table", full)  # the first write is a part file of paths.parquet/
    res = cli("run", scenario(tmp_path), "--out", out)
    assert res.exit_code == 1 and "No space left on device" in res.output and "paths.parquet" in res.output
    assert listing(out) == {"old.txt"}


def test_out_is_a_file(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    res = cli("run", scenario(tmp_path), "--out", f / "sub")
    assert res.exit_code == 1 and res.output.strip().splitlines()[-1].startswith("error: Not a directory: ")
    assert f.read_text() == "x"


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_out(tmp_path):
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o555)
    try:
        res = cli("run", scenario(tmp_path), "--out", out)
        assert res.exit_code == 1 and "Permission denied" in res.output and str(out) in res.output
        assert list(out.iterdir()) == []
    finally:
        out.chmod(0o755)


def test_unreachable_scheduler(tmp_path):
    res = cli("run", scenario(tmp_path), "--out", tmp_path / "out", "--executor", "dask://127.0.0.1:1",
              env={"SIMSRC_DASK_TIMEOUT": "2"})
    assert res.exit_code == 1
    assert "cannot reach the Dask scheduler at 127.0.0.1:1" in res.output
    assert len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_unreachable_scheduler_in_batch_and_compare(tmp_path):
    s = scenario(tmp_path)
    base = scenario(tmp_path, "", name="base.yaml")
    b = tmp_path / "b.yaml"
    b.write_text("name: b\nmembers:\n  - {scenario: s.yaml, against: base.yaml}\n")
    before = listing(tmp_path)
    for args in (["batch", b], ["compare", s, "--against", base]):
        res = cli(*args, "--out", tmp_path / "out", "--executor", "dask://127.0.0.1:1", env={"SIMSRC_DASK_TIMEOUT": "1"})
        assert res.exit_code == 1 and "cannot reach the Dask scheduler at 127.0.0.1:1" in res.output, res.output
        assert listing(tmp_path) == before


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("finished")
    res = CliRunner().invoke(main, ["run", str(scenario(tmp)), "--out", str(tmp / "out")])
    assert res.exit_code == 0, res.output
    return next((tmp / "out").iterdir())


@pytest.mark.parametrize("damage, fragment", [
    (lambda p: (p / "manifest.json").write_text('{"kind": "run", '), "manifest.json is damaged"),
    (lambda p: (p / "manifest.json").write_bytes(b"\xff\xfe\x00"), "manifest.json is damaged"),
    (lambda p: (p / "manifest.json").write_text("[1, 2]"), "manifest.json is damaged"),
    (lambda p: (p / "manifest.json").write_text('{"kind": "run"}'), "manifest.json is damaged: it lacks minerals"),
    (lambda p: (p / "manifest.json").unlink(), "not a simsrc results folder"),
    (lambda p: os.truncate(p / "summary.parquet", 100), "summary.parquet is damaged or truncated"),
    (lambda p: os.truncate(next((p / "paths.parquet").glob("*.parquet")), 10),
     "paths.parquet/part-000-000000000.parquet is damaged or truncated"),
    (lambda p: (p / "draws.parquet").write_text("not parquet"), "draws.parquet is damaged or truncated"),
])
@pytest.mark.parametrize("command", [["plot", "--kind", "fan", "-m", "gallium"], ["report"],
                                     ["discover", "--output", "npv_net_welfare:gallium:USA", "--where", ">0"]])
def test_damaged_results_under_plot_and_report(finished_run, tmp_path, damage, fragment, command):
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(finished_run, folder)
    damage(folder)
    before = listing(tmp_path)
    res = cli(command[0], folder, *command[1:])
    assert res.exit_code == 1 and fragment in res.output, res.output
    assert len(res.output.strip().splitlines()) == 1
    assert listing(tmp_path) == before  # no empty figures/ or report/ folder left


@pytest.mark.parametrize("command", [["plot", "--kind", "fan", "-m", "gallium", "--format", "png,svg"], ["report"]])
@pytest.mark.parametrize("existing", [False, True])
def test_disk_full_under_plot_and_report_leaves_nothing(finished_run, tmp_path, monkeypatch, command, existing):
    import shutil

    import matplotlib.figure

    folder = tmp_path / "copy"
    shutil.copytree(finished_run, folder)
    out = folder / ("figures" if command[0] == "plot" else "report")
    if existing:
        out.mkdir()
        (out / "mine.txt").write_text("keep")
    calls = {"n": 0}
    real = matplotlib.figure.Figure.savefig

    def flaky(self, fname, *a, **k):  # the first file is written, the second finds the disk full
        calls["n"] += 1
        if calls["n"] >= 2:
            raise OSError(errno.ENOSPC, "No space left on device", str(fname))
        return real(self, fname, *a, **k)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", flaky)
    before = listing(tmp_path)
    res = cli(command[0], folder, *command[1:])
    assert res.exit_code == 1 and "No space left on device" in res.output, res.output
    assert listing(tmp_path) == before


def test_plot_of_a_missing_folder(tmp_path):
    res = cli("plot", tmp_path / "nope", "--kind", "fan")
    assert res.exit_code == 2 and "no such folder" in res.output


# ---------------------------------------------------------------------------------------------
# one resolved scenario per run
# ---------------------------------------------------------------------------------------------

class _EditingExecutor:
    """Runs 'Dask' tasks in this process, editing the scenario file before the first task: the
    tasks must carry the resolved scenario, not its path."""

    name = "dask"

    def __init__(self, path):
        self.path = path

    def map(self, fn, tasks, window=8):
        self.path.write_text(self.path.read_text().replace("rate: 0.25", "rate: 0.9"))
        for t in tasks:
            yield fn(*t)

    def close(self):
        pass


def test_workers_never_reread_the_scenario_file(tmp_path, monkeypatch):
    import simsrc.executors as executors
    from simsrc.engine import run
    from simsrc.results import Results

    body = "policies:\n  - {name: t, type: tariff, importers: [USA], exporters: [CHN], rate: 0.25}\n"
    s = scenario(tmp_path, body)
    local = run(s, out_dir=tmp_path / "local", chunk_size=1)
    monkeypatch.setattr(executors, "get_executor", lambda spec: _EditingExecutor(s))
    dist = run(s, out_dir=tmp_path / "dask", chunk_size=1, executor="dask")
    assert "rate: 0.9" in s.read_text()
    a, b = Results(local.path).paths(), Results(dist.path).paths()
    assert a.equals(b)
    assert Results(dist.path).manifest["scenario"]["policies"][0]["rate"] == 0.25


def test_payload_refuses_a_dataset_changed_during_the_run(tmp_path):
    import shutil

    from simsrc.engine import scenario_hash
    from simsrc.errors import SimsrcError
    from simsrc.scenario import load_scenario
    from simsrc.scenario.loader import from_payload, resolved_payload

    data = tmp_path / "data"
    shutil.copytree(TINY, data)
    s = tmp_path / "s.yaml"
    s.write_text(HEAD.replace(str(TINY), str(data)))
    sc = load_scenario(s)
    payload = resolved_payload(sc, scenario_hash(sc))
    assert scenario_hash(from_payload(*payload)) == payload[1]
    f = data / "flows.csv"
    f.write_text(f.read_text().replace("gallium,CHN,USA,68.6", "gallium,CHN,USA,70.0"))
    with pytest.raises(SimsrcError, match="changed during the run"):
        from_payload(payload[0], "0" * 64)


# ---------------------------------------------------------------------------------------------
# non-finite results are failures
# ---------------------------------------------------------------------------------------------

def test_a_ban_on_every_origin_is_not_a_converged_result(tmp_path):
    body = ("policies:\n" + "".join(
        f"  - {{name: b{o}, type: export_restriction, origin: {o}, destinations: all, cap_share: 0, minerals: [gallium]}}\n"
        for o in ("CHN", "JPN", "KOR")) + "  - {name: o, type: outage, region: CHN, share: 1, start: 2026Q1}\n")
    res = cli("run", scenario(tmp_path, body), "--out", tmp_path / "out")
    assert res.exit_code == 1, res.output
    assert "every solve of gallium failed" in res.output
    assert "inf" not in res.output.replace("info", "")
    from simsrc.results import Results
    folder = next((tmp_path / "out").iterdir())
    r = Results(folder)
    assert r.manifest["nonconverged_solves"]["gallium"] == r.manifest["solves"]["gallium"]
    s = r.summary
    assert (s["n"] == 0).all()
    assert not any("inf" in line for line in (folder / "summary.csv").read_text().splitlines())


def test_a_comparison_whose_every_solve_failed_reports_no_effects(tmp_path):
    body = ("policies:\n" + "".join(
        f"  - {{name: b{o}, type: export_restriction, origin: {o}, destinations: all, cap_share: 0, minerals: [gallium]}}\n"
        for o in ("CHN", "JPN", "KOR")) + "  - {name: o, type: outage, region: CHN, share: 1, start: 2026Q1}\n")
    s = scenario(tmp_path, body)
    base = scenario(tmp_path, "", name="base.yaml")
    res = cli("compare", s, "--against", base, "--out", tmp_path / "out")
    assert res.exit_code == 1 and "no headline effects" in res.output and "every solve of gallium (scenario)" in res.output


def test_a_ban_on_every_origin_fails_the_static_solve_too(tmp_path):
    body = ("policies:\n" + "".join(
        f"  - {{name: b{o}, type: export_restriction, origin: {o}, destinations: all, cap_share: 0, minerals: [gallium]}}\n"
        for o in ("CHN", "JPN", "KOR")))
    res = cli("solve", scenario(tmp_path, body), "-m", "gallium")
    assert res.exit_code == 1 and "no finite value for cs_change in USA" in res.output, res.output


def test_nonfinite_outputs_are_flagged_and_excluded():
    import numpy as np

    from simsrc.engine import flag_nonfinite, output_names

    names = output_names(["CHN"])
    out = np.ones((len(names), 3, 2, 4), dtype=np.float32)
    with np.errstate(over="ignore"):
        out[names.index("cs_change"), 1, 0, 2] = np.float32(np.float64(1e300))  # float32 overflow -> inf
    out[names.index("production"), 2, 1, 0] = np.nan  # NaN where a value must exist
    out[names.index("fob_price"), 0, 0, 1] = np.nan  # allowed: no exports
    out[names.index("exports"), 0, 0, 1] = 0.0
    flows = np.ones((3, 4, 4))
    newly = flag_nonfinite(out, names, flows)
    conv = out[names.index("converged")]
    assert newly.tolist() == [[False, False], [True, False], [False, True]]
    assert (conv[1, 0] == 0).all() and (conv[2, 1] == 0).all() and (conv[0] == 1).all()
    assert not np.isinf(out).any()
    assert np.isnan(flows[1]).all() and np.isfinite(flows[0]).all()


def test_a_missing_value_is_allowed_only_where_the_registry_allows_it():
    """simsrc.outputs.MAY_BE_NAN: an FOB price may be missing where the region exports nothing,
    net import reliance where it consumes nothing, capacity anywhere; elsewhere the solve is
    flagged."""
    import numpy as np

    from simsrc.engine import flag_nonfinite, output_names

    names = output_names(["CHN"])
    out = np.ones((len(names), 4, 1, 3), dtype=np.float32)
    out[names.index("fob_price"), 0, 0, 0] = np.nan          # exports 1: flagged
    out[names.index("fob_price"), 1, 0, 0] = np.nan          # no exports: allowed
    out[names.index("exports"), 1, 0, 0] = 0.0
    out[names.index("net_import_reliance"), 2, 0, 1] = np.nan  # consumption 1: flagged
    out[names.index("capacity"), 3, 0, 2] = np.nan           # no capacity limit: allowed
    newly = flag_nonfinite(out, names)
    assert newly[:, 0].tolist() == [True, False, True, False]


# ---------------------------------------------------------------------------------------------
# SIGKILL at compile time, mid-run and during the summary
# ---------------------------------------------------------------------------------------------

def _spawn(s, out, env=None, draws="2"):
    e = dict(os.environ, **(env or {}))
    return subprocess.Popen([sys.executable, "-m", "simsrc.cli", "run", str(s), "--out", str(out), "--draws", draws,
                             "--chunk-size", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=e)


def _wait_for(pred, proc, timeout=90):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if pred():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


def _assert_nothing_mistakable(out):
    if out.exists():
        visible = [p for p in out.iterdir() if not p.name.startswith(".")]
        assert visible == [], visible
        for p in out.iterdir():  # only marked temporaries remain, which the next run removes
            assert (p / TMP_MARKER).is_file(), p


@pytest.mark.parametrize("phase", ["compile", "mid-run", "summary", "rename"])
def test_sigkill_leaves_nothing_mistakable_for_results(tmp_path, phase):
    s = scenario(tmp_path)
    out = tmp_path / "out"
    if phase == "compile":
        proc = _spawn(s, out)
        time.sleep(0.3)  # still importing and compiling
    elif phase == "mid-run":
        proc = _spawn(s, out, draws="3000")
        assert _wait_for(lambda: any(out.glob(".*.tmp-*/paths.parquet")), proc)
    else:
        proc = _spawn(s, out, env={"SIMSRC_TEST_PAUSE": phase})
        assert _wait_for(lambda: any(out.glob(f".*.tmp-*/.paused-{phase}")), proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    _assert_nothing_mistakable(out)
    # the next run succeeds and removes the dead run's marked temporary folder only
    (out / ".mine.tmp-1").mkdir(parents=True, exist_ok=True)
    res = cli("run", s, "--out", out)
    assert res.exit_code == 0, res.output
    names = sorted(p.name for p in out.iterdir())
    assert len(names) == 2 and names[0] == ".mine.tmp-1" and not names[1].startswith("."), names
