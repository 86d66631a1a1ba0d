"""The hostile-input corpus (issue 16): bad and hostile scenarios, datasets and command lines.

Each case in ``cases/*.yaml`` is a scenario whose leading comment says what must happen::

    # category: names
    # expect: 1                 exit status of every command
    # commands: validate run    the commands run on it
    # at: name:                 the message names this file and the line holding this text
    # message: letters, digits  fragments the output must contain (one per line)
    # results: kept             (optional) run writes its folder although it exits 1 (every
                                solve failed: the folder shows which)

More files of a case (an extends parent) follow ``# --- file: NAME`` lines. ``@TINY@`` stands
for the tiny test dataset. Cases that cannot be text (binary, other encodings, huge files,
datasets) are built in :data:`GENERATED`. For every case and command the test asserts the exit
status, the message (file, line, key), that no traceback is printed and that nothing outside
the results folder changed (a snapshot of the whole temporary tree before and after; the
scenario is two folders deep, so a name such as ``../../x`` would land inside the snapshot).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from simsrc.cli import main

HERE = Path(__file__).parent
TINY = (HERE.parent / "fixtures" / "tinydata").resolve()
CASES = sorted((HERE / "cases").glob("*.yaml"))
HEAD = f"name: hostile\nhorizon: {{start: 2026Q1, periods: 2}}\ndataset: '{TINY}'\nminerals: [gallium]\ndraws: 2\n"


def parse_case(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    meta = {"expect": 1, "commands": ["validate", "run"], "at": None, "messages": [], "category": ""}
    for line in text.splitlines():
        m = re.match(r"^# (category|expect|commands|at|message|results): ?(.*)$", line)
        if not m:
            break
        k, v = m.groups()
        if k == "expect":
            meta["expect"] = int(v)
        elif k == "commands":
            meta["commands"] = v.split()
        elif k == "message":
            meta["messages"].append(v)
        else:
            meta[k] = v
    files = {}
    name, buf = "scenario.yaml", []
    for line in text.replace("@TINY@", str(TINY)).splitlines(keepends=True):
        m = re.match(r"^# --- file: (\S+)\s*$", line)
        if m:
            files[name] = "".join(buf)
            name, buf = m.group(1), []
        else:
            buf.append(line)
    files[name] = "".join(buf)
    meta["files"] = {k: v.encode("utf-8") for k, v in files.items()}
    return meta


def _bomb(levels=9) -> str:
    out = ["a0: &a0 [x,x,x,x,x,x,x,x,x,x]"]
    for k in range(1, levels):
        out.append(f"a{k}: &a{k} [" + ",".join([f"*a{k-1}"] * 10) + "]")
    return "\n".join(out) + "\n"


def _dataset(tmp: Path, edit) -> Path:
    d = tmp / "data"
    shutil.copytree(TINY, d)
    edit(d)
    return d


def _gen(files, messages, at_file="scenario.yaml", line=None, expect=1, commands=("validate", "run"), dataset=None):
    return {"expect": expect, "commands": list(commands), "at": None, "line": line, "at_file": at_file,
            "messages": messages, "files": files, "dataset": dataset, "category": "generated"}


def _csv_edit(name, old, new):
    def edit(d):
        p = d / name
        p.write_bytes(p.read_bytes().replace(old, new))
    return edit


#: Cases that cannot be written as a text file of the corpus.
GENERATED = {
    "binary_png": _gen({"scenario.yaml": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"}, ["not a text file"]),
    "binary_nul_inside": _gen({"scenario.yaml": HEAD.encode() + b"x: a\x00b\n"}, ["not a text file"]),
    "latin1": _gen({"scenario.yaml": HEAD.encode() + "description: caf\u00e9\n".encode("latin-1")},
                   ["not valid UTF-8", "0xe9"], line=6),
    "utf16": _gen({"scenario.yaml": HEAD.encode("utf-16")}, ["UTF-8"]),
    "random_bytes": _gen({"scenario.yaml": bytes(range(128, 256)) * 8}, ["not valid UTF-8"], line=1),
    "extends_parent_latin1": _gen({"scenario.yaml": b"extends: parent.yaml\n",
                                   "parent.yaml": HEAD.encode() + "description: \u00e9t\u00e9\n".encode("latin-1")},
                                  ["parent.yaml", "not valid UTF-8"], at_file="parent.yaml", line=6),
    "extends_parent_binary": _gen({"scenario.yaml": b"extends: parent.yaml\n", "parent.yaml": b"\x00\x01\x02\x03"},
                                  ["parent.yaml", "not a text file"]),
    "huge_file": _gen({"scenario.yaml": HEAD.encode() + b"description: '" + b"x" * (5 * 2**20) + b"'\n"},
                      ["larger than 4 MB"]),
    "alias_bomb_generated": _gen({"scenario.yaml": HEAD.encode() + _bomb(12).encode()}, ["aliases"]),
    "long_extends_chain": _gen({"scenario.yaml": b"extends: p1.yaml\n",
                                **{f"p{k}.yaml": f"extends: p{k + 1}.yaml\n".encode() for k in range(1, 40)},
                                "p40.yaml": HEAD.encode()}, ["extends chain longer than 16"]),
    "bom_crlf_ok": _gen({"scenario.yaml": b"\xef\xbb\xbf" + HEAD.replace("\n", "\r\n").encode()}, [], expect=0),
    "dataset_binary_flows": _gen({"scenario.yaml": b"@DATA@"}, ["flows.csv", "utf-8"],
                                 dataset=lambda d: (d / "flows.csv").write_bytes(b"\xff\xfe\x00\x00garbage")),
    "dataset_price_1e300": _gen({"scenario.yaml": b"@DATA@"}, ["minerals.csv", "price", "at most 1e+15"],
                                dataset=_csv_edit("minerals.csv", b"gallium,Gallium metal,refined,t,600,",
                                                  b"gallium,Gallium metal,refined,t,1e300,")),
    "dataset_price_nan": _gen({"scenario.yaml": b"@DATA@"}, ["minerals.csv", "price"],
                              dataset=_csv_edit("minerals.csv", b"gallium,Gallium metal,refined,t,600,",
                                                b"gallium,Gallium metal,refined,t,nan,")),
    "dataset_flow_huge": _gen({"scenario.yaml": b"@DATA@"}, ["flows.csv"],
                              dataset=_csv_edit("flows.csv", b"gallium,CHN,USA,68.6", b"gallium,CHN,USA,1e40")),
    "dataset_130_regions": _gen({"scenario.yaml": b"@DATA@"}, [], expect=0,
                                dataset=lambda d: open(d / "regions.csv", "a").write(
                                    "".join(f"R{i},Region {i},\n" for i in range(123)))),
    "dataset_without_chn_default_watched": _gen(
        {"scenario.yaml": b"@DATA@"}, [], expect=0,
        dataset=lambda d: [(d / f).write_bytes(b"".join(l for l in (d / f).read_bytes().splitlines(keepends=True)
                                                        if b"CHN" not in l))
                           for f in ("regions.csv", "flows.csv", "tariffs.csv")]),
}


def snapshot(root: Path, skip: Path | None = None) -> dict:
    out = {}
    for p in sorted(root.rglob("*")):
        if skip is not None and (p == skip or skip in p.parents):
            continue
        st = p.lstat()  # a folder's own mtime changes with its entries, which are listed anyway
        out[str(p.relative_to(root))] = (True, 0, 0) if p.is_dir() else (False, st.st_size, st.st_mtime_ns)
    return out


def _write(work: Path, files: dict, dataset=None) -> Path:
    for name, data in files.items():
        if dataset is not None:
            d = _dataset(work, dataset)
            data = data.replace(b"@DATA@", HEAD.replace(str(TINY), str(d)).encode())
        (work / name).write_bytes(data)
    return work / "scenario.yaml"


def _check(case: dict, tmp_path: Path):
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    scn = _write(work, case["files"], case.get("dataset"))
    out = work / "out"
    before = snapshot(tmp_path)
    runner = CliRunner()
    for cmd in case["commands"]:
        args = ["validate", str(scn)] if cmd == "validate" else ["run", str(scn), "--out", str(out), "--draws", "2"]
        res = runner.invoke(main, args)
        text = res.output
        assert res.exit_code == case["expect"], f"{cmd}: exit {res.exit_code}\n{text}\n{res.exception!r}"
        assert "Traceback" not in text, text
        assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
        for frag in case["messages"]:
            assert frag in text, f"{cmd}: {frag!r} not in:\n{text}"
        line = case.get("line")
        if case.get("at"):
            lines = case["files"]["scenario.yaml"].decode("utf-8").splitlines()
            header = next(k for k, l in enumerate(lines + [""]) if not l.startswith("# "))
            line = next(k + 1 for k, l in enumerate(lines) if k >= header and case["at"] in l)
        if line is not None and case["expect"] != 0:
            assert f"{case.get('at_file', 'scenario.yaml')}:{line}" in text, f"{cmd}: line {line} not named:\n{text}"
        after = snapshot(tmp_path, skip=out)
        assert after == before, f"{cmd} changed files outside the results folder"
        if cmd == "run" and (case["expect"] == 0 or case.get("results") == "kept"):
            made = [p for p in out.iterdir()]
            assert len(made) == 1 and not made[0].name.startswith("."), made
            assert (made[0] / "manifest.json").is_file()
            shutil.rmtree(out)
        elif cmd == "run":
            assert not out.exists(), list(out.iterdir())


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_corpus_case(path, tmp_path):
    _check(parse_case(path), tmp_path)


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_case(name, tmp_path):
    _check(GENERATED[name], tmp_path)


def test_corpus_is_large_enough():
    assert len(CASES) + len(GENERATED) >= 80
