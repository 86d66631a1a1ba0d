"""Batches of paired comparisons: library members and sweeps over ``--set`` paths.

A batch file (YAML) lists ``members`` (a scenario against its counterfactual, or ``against``)
and ``sweeps`` (one scenario, its counterfactual, and points of ``--set`` overrides: a ``grid``
(cross product of value lists), explicit ``points``, or a Latin hypercube ``lhs`` over ranges).
Every member is a paired comparison on the scenario's seed and draws (or the batch's), so all
members share common random numbers.

The batch folder ``<out>/batch-<name>-<hash of the file>/`` holds ``members/<id>/`` (each a
comparison results folder, written atomically), ``catalogue.parquet`` / ``.csv`` (members x
minerals x regions x headline measures: median, 5-95% interval, mean and its tail share, with
the swept values as columns) and ``batch.json``. Running the same command again resumes: a
finished member (its folder exists) is not recomputed, and results are bit-identical. A lock
file keeps two processes from writing into one batch folder.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import InputError, Problem, SimsrcError

SWEEP_KINDS = ("grid", "points", "lhs")


@dataclass
class Member:
    id: str
    scenario: Path
    against: Path | None
    sets: list = field(default_factory=list)
    sweep: str | None = None
    values: dict = field(default_factory=dict)


@dataclass
class BatchSpec:
    name: str
    description: str
    path: Path
    members: list
    draws: int | None
    seed: int | None
    regions: list
    digest: str


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", text).strip("_")[:80]


def load_batch(path, sets=None) -> BatchSpec:
    """Read and check a batch file; every member's scenario and --set paths are validated (by
    loading it) before anything runs, so a bad file writes nothing."""
    from .scenario import load_scenario
    from .scenario.yamlio import locate, read_yaml

    path = Path(path)
    display = str(path)
    if not path.is_file():
        raise InputError([Problem(display, "batch file not found")])
    data, locs, problems = read_yaml(path, display)
    if problems:
        raise InputError(problems)

    def bad(keypath, msg):
        f, line, shown = locate(locs, keypath, display)
        problems.append(Problem(f, msg, path=shown, line=line))

    if not isinstance(data, dict):
        raise InputError([Problem(display, "a batch file is a mapping with name, members and/or sweeps")])
    allowed = {"name", "description", "members", "sweeps", "draws", "seed", "regions"}
    for k in data:
        if k not in allowed:
            from .errors import did_you_mean
            bad((k,), f"unknown key {k!r}; allowed: {', '.join(sorted(allowed))}" + did_you_mean(k, allowed))
    name = data.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}", name or ""):
        bad(("name",), "name is required: at most 100 letters, digits, '_', '-', '.', starting with a letter or digit")
    for key in ("draws", "seed"):
        v = data.get(key)
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < (1 if key == "draws" else 0)):
            bad((key,), f"{key} must be a whole number {'>= 1' if key == 'draws' else '>= 0'}; got {v!r}")
    regions = data.get("regions", ["USA"])
    if not isinstance(regions, list) or not all(isinstance(r, str) for r in regions):
        bad(("regions",), "regions is a list of region codes, e.g. [USA, EU, JPN, CHN]")
        regions = ["USA"]
    members: list[Member] = []

    def scenario_at(v, keypath):
        if not isinstance(v, str):
            bad(keypath, "a scenario file path (relative to the batch file)")
            return None
        p = (path.parent / v).resolve()
        if not p.is_file():
            bad(keypath, f"scenario file {v!r} not found (relative to {path.parent})")
            return None
        return p

    for k, m in enumerate(data.get("members") or []):
        if not isinstance(m, dict) or "scenario" not in m:
            bad(("members", k), "a member is {scenario: FILE[, against: FILE][, set: [KEY=VALUE, ...]]}")
            continue
        unknown = set(m) - {"scenario", "against", "set", "id"}
        if unknown:
            bad(("members", k), f"unknown key(s) {sorted(unknown)}; allowed: scenario, against, set, id")
        s = scenario_at(m["scenario"], ("members", k, "scenario"))
        a = scenario_at(m["against"], ("members", k, "against")) if m.get("against") else None
        mid = m.get("id") if m.get("id") is not None else Path(str(m["scenario"])).stem
        if not isinstance(mid, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}", mid):
            bad(("members", k, "id") if "id" in m else ("members", k, "scenario"),
                f"member id {mid!r} (the folder name of its results): at most 100 letters, digits, '_', '-', '.', "
                "starting with a letter or digit; give a valid id")
            continue
        if s is not None:
            members.append(Member(mid, s, a, list(m.get("set") or [])))
    for k, sw in enumerate(data.get("sweeps") or []):
        if not isinstance(sw, dict) or "scenario" not in sw or "name" not in sw:
            bad(("sweeps", k), "a sweep is {name: NAME, scenario: FILE[, against: FILE], grid|points|lhs: ...}")
            continue
        if not isinstance(sw["name"], str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,59}", sw["name"]):
            bad(("sweeps", k, "name"), f"sweep name {sw['name']!r} (part of its members' folder names): at most 60 "
                "letters, digits, '_', '-', '.', starting with a letter or digit")
            continue
        kinds = [x for x in SWEEP_KINDS if x in sw]
        unknown = set(sw) - {"name", "scenario", "against", "set", *SWEEP_KINDS}
        if unknown:
            bad(("sweeps", k), f"unknown key(s) {sorted(unknown)}; allowed: name, scenario, against, set, grid, points, lhs")
        if len(kinds) != 1:
            bad(("sweeps", k), f"give exactly one of {', '.join(SWEEP_KINDS)}; got {kinds or 'none'}")
            continue
        s = scenario_at(sw["scenario"], ("sweeps", k, "scenario"))
        a = scenario_at(sw["against"], ("sweeps", k, "against")) if sw.get("against") else None
        if s is None:
            continue
        kind = kinds[0]
        spec = sw[kind]
        points: list[dict] = []
        if kind == "grid":
            if not isinstance(spec, dict) or not spec or not all(isinstance(v, list) and v for v in spec.values()):
                bad(("sweeps", k, "grid"), "grid maps each --set path to a list of values; every combination is run")
                continue
            keys = list(spec)
            points = [dict(zip(keys, combo)) for combo in itertools.product(*(spec[x] for x in keys))]
        elif kind == "points":
            if not isinstance(spec, list) or not all(isinstance(p, dict) and p for p in spec):
                bad(("sweeps", k, "points"), "points is a list of mappings {PATH: VALUE, ...}")
                continue
            points = spec
        else:
            n, rng_seed, ranges = spec.get("n"), spec.get("seed", 0), spec.get("ranges")
            if not isinstance(n, int) or n < 2 or not isinstance(ranges, dict) or not ranges or not all(
                    isinstance(r, list) and len(r) == 2 and all(isinstance(x, (int, float)) for x in r) and r[0] < r[1]
                    for r in ranges.values()):
                bad(("sweeps", k, "lhs"), "lhs is {n: ROWS >= 2, seed: S, ranges: {PATH: [LOW, HIGH], ...}} with LOW < HIGH")
                continue
            from scipy.stats import qmc
            u = qmc.LatinHypercube(d=len(ranges), seed=rng_seed).random(n)
            keys = list(ranges)
            points = [{kk: float(ranges[kk][0] + (ranges[kk][1] - ranges[kk][0]) * u[i, j]) for j, kk in enumerate(keys)}
                      for i in range(n)]
        base = list(sw.get("set") or [])
        for i, pt in enumerate(points):
            sets_ = base + [f"{kk}={json.dumps(v) if not isinstance(v, str) else v}" for kk, v in pt.items()]
            mid = f"{sw['name']}-{i:03d}-" + _slug("_".join(f"{kk.split('.')[-1]}={v:g}" if isinstance(v, (int, float)) else f"{kk.split('.')[-1]}={v}"
                                                        for kk, v in pt.items()))
            members.append(Member(mid, s, a, sets_, sweep=sw["name"], values=dict(pt)))
    if not members and not problems:
        bad((), "the batch has no members and no sweeps")
    ids = [m.id for m in members]
    for d in sorted({i for i in ids if ids.count(i) > 1}):
        bad(("members",), f"member id {d!r} appears twice; give members an `id`")
    if problems:
        raise InputError(problems)
    # every member's scenario, counterfactual and --set overrides are checked before running
    for m in members:
        try:
            scn = load_scenario(m.scenario, sets=(sets or []) + m.sets)
            if m.against is None and not scn.counterfactual:
                problems.append(Problem(display, f"member {m.id}: scenario {m.scenario.name} has no counterfactual; give `against`"))
            else:
                load_scenario(m.against or scn.counterfactual)  # its counterfactual is checked too
        except InputError as exc:
            problems.append(Problem(display, f"member {m.id}: {len(exc.problems)} problem(s) in its scenario or --set",
                                    path=m.id))
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    h = hashlib.sha256(path.read_bytes() + json.dumps(sets or []).encode()).hexdigest()[:10]
    return BatchSpec(name, data.get("description", ""), path, members, data.get("draws"), data.get("seed"), regions, h)


class _Lock:
    def __init__(self, folder: Path):
        self.path = folder / ".lock"

    def __enter__(self):
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            pid = self.path.read_text().strip() if self.path.exists() else "?"
            alive = pid.isdigit() and _alive(int(pid))
            if alive:
                raise SimsrcError(f"{self.path.parent} is in use by process {pid}; two batches never write into one folder")
            self.path.unlink(missing_ok=True)  # a stale lock of a killed batch
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        return self

    def __exit__(self, *exc):
        self.path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def member_effects(path, member: Member, regions) -> pd.DataFrame:
    from .compare import paired_effects

    e = paired_effects(path, regions=regions)
    e.insert(0, "member", member.id)
    e.insert(1, "sweep", member.sweep or "")
    for k, v in member.values.items():
        e[f"set:{k}"] = v
    return e


def _member_task(scn_payload, cf_payload, draws, seed, out_dir, folder_name, progress=None):
    """One member: a paired comparison written atomically into ``out_dir/folder_name`` (run
    here or in a Dask worker), of the resolved scenario and counterfactual
    (:func:`simsrc.scenario.loader.resolved_payload`; no file is re-read there)."""
    from .compare import compare
    from .scenario.loader import from_payload

    info = compare(from_payload(*scn_payload), from_payload(*cf_payload), draws=draws, seed=seed, out_dir=out_dir,
                   folder_name=folder_name, progress=progress)
    return str(info.path)


def _member_payloads(m, sets):
    """The resolved scenario and counterfactual of a member, as sent to :func:`_member_task`."""
    from .engine import scenario_hash
    from .scenario import load_scenario
    from .scenario.loader import resolved_payload

    scn = load_scenario(m.scenario, sets=(sets or []) + m.sets)
    if "paths" not in scn.outputs.model_fields_set:
        # members write summaries and per-draw outputs only, unless the scenario, the member
        # or the batch chooses paths (outputs.paths): a batch of dozens of members would
        # otherwise write gigabytes that the catalogue never reads
        scn.outputs.paths = "none"
    cf = load_scenario(m.against or scn.counterfactual)
    return resolved_payload(scn, scenario_hash(scn)), resolved_payload(cf, scenario_hash(cf))


def run_batch(path, *, out_dir="results", sets=None, draws=None, seed=None, progress=None, echo=print,
              executor="local") -> dict:
    """Run (or resume) a batch; returns ``{"folder", "catalogue", "ran", "skipped"}``. Members are
    distributed over ``executor`` ("local", "dask" or "dask://HOST:PORT",
    :func:`simsrc.executors.get_executor`); the catalogue is the same whatever the executor."""
    from .executors import get_executor

    spec = load_batch(path, sets)
    # the folder is named by the batch file, its --set overrides and the draws/seed overrides, so
    # resuming finds the same members and a different batch never writes into it
    key = hashlib.sha256(f"{spec.digest}|{draws}|{seed}".encode()).hexdigest()[:10]
    from .results import safe_child
    folder = safe_child(out_dir, f"batch-{spec.name}-{key}")
    ex = get_executor(executor)  # an unreachable scheduler fails here, before any folder is made
    try:
        return _run_batch(spec, folder, sets, draws, seed, progress, echo, executor, ex)
    finally:
        ex.close()


def _run_batch(spec, folder, sets, draws, seed, progress, echo, executor, ex):
    (folder / "members").mkdir(parents=True, exist_ok=True)
    ran, skipped = [], []
    with _Lock(folder):
        (folder / "batch.yaml").write_bytes(spec.path.read_bytes())
        todo = []
        for m in spec.members:
            if (folder / "members" / m.id / "manifest.json").exists():
                skipped.append(m.id)  # finished before: not recomputed
            else:
                todo.append(m)
        tasks = ((*_member_payloads(m, sets), draws or spec.draws, seed if seed is not None else spec.seed,
                  str(folder / "members"), m.id, progress if ex.name == "local" else None) for m in todo)
        for k, (m, _) in enumerate(zip(todo, ex.map(_member_task, tasks))):
            echo(f"[{len(skipped) + k + 1}/{len(spec.members)}] {m.id}")
            ran.append(m.id)
        frames = [member_effects(folder / "members" / m.id, m, spec.regions) for m in spec.members]
        cat = pd.concat(frames, ignore_index=True)
        cat.to_parquet(folder / "catalogue.parquet", index=False)
        cat.to_csv(folder / "catalogue.csv", index=False)
        (folder / "batch.json").write_text(json.dumps({
            "kind": "batch", "name": spec.name, "description": spec.description, "batch_file": str(spec.path),
            "digest": spec.digest, "regions": spec.regions, "executor": executor if isinstance(executor, str) else "dask", "draws": draws or spec.draws, "seed": seed if seed is not None else spec.seed,
            "members": [{"id": m.id, "scenario": str(m.scenario), "against": str(m.against) if m.against else None,
                         "set": m.sets, "sweep": m.sweep, "values": m.values} for m in spec.members]}, indent=1, default=str))
    return {"folder": folder, "catalogue": cat, "ran": ran, "skipped": skipped, "spec": spec}


class Batch:
    """A batch folder opened for reading: ``catalogue`` and each member's ``Results``."""

    def __init__(self, path):
        self.path = Path(path)
        if not (self.path / "batch.json").exists():
            raise SimsrcError(f"{self.path} is not a simsrc batch folder (no batch.json)")
        self.manifest = json.loads((self.path / "batch.json").read_text())

    @property
    def catalogue(self) -> pd.DataFrame:
        return pd.read_parquet(self.path / "catalogue.parquet")

    def member(self, member_id: str):
        from .results import Results
        return Results(self.path / "members" / member_id)

    def sweep_table(self, sweep: str, measure: str, mineral: str, region: str) -> pd.DataFrame:
        """One sweep's rows of the catalogue for a measure, mineral and region, with its swept
        columns (``set:PATH``)."""
        c = self.catalogue
        t = c[(c["sweep"] == sweep) & (c["measure"] == measure) & (c["mineral"] == mineral) & (c["region"] == region)]
        if t.empty:
            from .errors import unknown_name_message
            raise SimsrcError(unknown_name_message("sweep/measure/mineral/region", f"{sweep}/{measure}/{mineral}/{region}",
                                                   sorted(set(c["sweep"]) - {""})))
        cols = [x for x in t.columns if x.startswith("set:") and t[x].notna().any()]
        return t.dropna(axis=1, how="all")[cols + ["median", "p_lo", "p_hi", "mean", "tail_share"]]


def _set_unit(batch: Batch, path: str) -> str:
    """Unit of a swept --set path, for the axis: a rate or share is a fraction; a floor or
    minimum-import-price level is in its policy's unit; otherwise as the scenario states it."""
    last = path.split(".")[-1]
    if last in ("rate", "cap_share", "covered_share", "share", "upside_share", "probability", "success_probability",
                "mode", "low", "high", "latent_link_weight", "leakage", "cost", "capacity"):
        return "fraction"
    if last == "level":
        for m in batch.manifest["members"]:
            if any(s.startswith(path + "=") for s in m["set"]):
                man = json.loads((batch.path / "members" / m["id"] / "manifest.json").read_text())
                parts = path.split(".")
                for p in man["scenario"].get(parts[0], []):
                    if p.get("name") == parts[1] and p.get("unit"):
                        return p["unit"]
    return "as in the scenario"


def sweep_figure(batch, sweep: str, measure: str = "consumer price", mineral: str | None = None, region: str = "USA"):
    """A swept parameter against a headline measure: the median with its 5-95% band for one
    parameter, a heatmap of the median for two."""
    from .outputs import HEADLINES
    from .plots import sweep_heatmap, sweep_line

    b = batch if isinstance(batch, Batch) else Batch(batch)
    cat = b.catalogue
    sw = cat[cat["sweep"] == sweep]
    if sw.empty:
        from .errors import unknown_name_message
        raise SimsrcError(unknown_name_message("sweep", sweep, sorted(set(cat["sweep"]) - {""})))
    mineral = mineral or str(sw["mineral"].iloc[0])
    t = b.sweep_table(sweep, measure, mineral, region)
    cols = [c for c in t.columns if c.startswith("set:")]
    unit = {lab: u for lab, _, _, u, _ in HEADLINES}.get(measure, "")
    if len(cols) == 1:
        c = cols[0]
        line = t[[c, "median", "p_lo", "p_hi"]].rename(columns={c: f"{c[4:]} ({_set_unit(b, c[4:])})"})
        return sweep_line(line, unit=unit, outcome=f"{measure} effect, {region}, {mineral}",
                          title=f"Sweep {sweep}: {measure} effect against {c[4:]}")
    if len(cols) == 2:
        a, c = cols
        piv = t.pivot_table(index=a, columns=c, values="median")
        piv.index.name = f"{a[4:]} ({_set_unit(b, a[4:])})"
        piv.columns.name = f"{c[4:]} ({_set_unit(b, c[4:])})"
        return sweep_heatmap(piv, unit=unit, outcome=f"{measure}, {region}, {mineral} (median)",
                             title=f"Sweep {sweep}: two-way, {measure}")
    raise SimsrcError(f"sweep {sweep!r} varies {len(cols)} parameters; a chart shows one (line) or two (heatmap)")


def batch_report(batch, out_dir=None, dpi: int = 150) -> dict:
    """``report.md`` of a batch: its members, the catalogue's headline table (consumer price and
    net welfare of each member's region of interest, median and 5-95%) and the sweep charts."""
    import matplotlib.pyplot as plt

    from .numbers import fmt_interval

    b = batch if isinstance(batch, Batch) else Batch(batch)
    out = Path(out_dir) if out_dir else b.path / "report"
    (out / "figures").mkdir(parents=True, exist_ok=True)
    cat = b.catalogue
    man = b.manifest
    lines = [f"# Batch {man['name']}", "", man.get("description") or "", "",
             f"{len(man['members'])} members, each a paired comparison on common random numbers "
             f"(draws: {man.get('draws') or 'those of each scenario'}; seed: "
             f"{man.get('seed') if man.get('seed') is not None else 'that of each scenario'}).", ""]
    for region in man["regions"]:
        rows = cat[(cat["region"] == region) & cat["measure"].isin(["consumer price", "net welfare NPV"])]
        rows = rows[rows[["median", "p_lo", "p_hi"]].abs().sum(axis=1) > 0]
        if rows.empty:
            continue
        lines += [f"## {region}: consumer price (%) and net welfare NPV (USD m), median [5%, 95%]", "",
                  "| member | mineral | consumer price, % of counterfactual (mean over the horizon) | "
                  "net welfare NPV over the horizon, USD m |", "|---|---|---:|---:|"]
        for (mem, mineral), g in rows.groupby(["member", "mineral"], sort=False):
            cells = []
            for meas in ("consumer price", "net welfare NPV"):
                r = g[g["measure"] == meas]
                cells.append(fmt_interval(r["median"].iloc[0], r["p_lo"].iloc[0], r["p_hi"].iloc[0], signed=True,
                                          unit="%" if meas == "consumer price" else None) if len(r) else "")
            lines.append(f"| {mem} | {mineral} | {cells[0]} | {cells[1]} |")
        lines.append("")
    figs = []
    for sweep in [s for s in dict.fromkeys(cat["sweep"]) if s]:
        sw = cat[(cat["sweep"] == sweep) & (cat["measure"] == "consumer price") & (cat["region"] == man["regions"][0])]
        moved = sw.groupby("mineral")["median"].apply(lambda s: s.abs().max())
        mineral = moved.idxmax()
        fig = sweep_figure(b, sweep, "consumer price", mineral, man["regions"][0])
        f = out / "figures" / f"sweep-{sweep}-{mineral}.png"
        fig.savefig(f, dpi=dpi, bbox_inches="tight")
        plt.close(fig)
        figs.append(f)
        lines += [f"## Sweep {sweep}", "", f"![sweep {sweep}](figures/{f.name})", "",
                  f"*Consumer price effect of {mineral} in {man['regions'][0]} against the swept value(s); "
                  "median and 5-95% of draws.*", ""]
    lines += ["The full catalogue (every member, mineral, region and headline measure, with the mean and its "
              "tail diagnostic) is `catalogue.csv` in the batch folder.", ""]
    (out / "report.md").write_text("\n".join(lines))
    return {"md": out / "report.md", "figures": figs}


#: JSON Schema of batch files (``simsrc schema --batch``); :func:`load_batch` enforces it with
#: file/line/key messages.
BATCH_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "simsrc batch file",
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": "^[A-Za-z0-9_.-]+$", "description": "Batch name (the folder's)."},
        "description": {"type": "string"},
        "draws": {"type": "integer", "minimum": 1, "description": "Draws of every member (default: each scenario's)."},
        "seed": {"type": "integer", "minimum": 0, "description": "Seed of every member (default: each scenario's)."},
        "regions": {"type": "array", "items": {"type": "string"}, "default": ["USA"],
                    "description": "Regions of the catalogue."},
        "members": {"type": "array", "description": "Scenarios, each against its counterfactual (or `against`).",
                    "items": {"type": "object", "required": ["scenario"], "additionalProperties": False, "properties": {
                        "scenario": {"type": "string", "description": "Scenario file, relative to the batch file."},
                        "against": {"type": "string", "description": "Counterfactual file (default: the scenario's)."},
                        "set": {"type": "array", "items": {"type": "string"}, "description": "--set KEY=VALUE overrides."},
                        "id": {"type": "string", "description": "Member id (default: the scenario file's stem)."}}}},
        "sweeps": {"type": "array", "description": "One scenario over points of --set overrides.",
                   "items": {"type": "object", "required": ["name", "scenario"], "additionalProperties": False,
                             "properties": {
                                 "name": {"type": "string"}, "scenario": {"type": "string"}, "against": {"type": "string"},
                                 "set": {"type": "array", "items": {"type": "string"}},
                                 "grid": {"type": "object", "additionalProperties": {"type": "array", "minItems": 1},
                                          "description": "PATH: [values]; every combination is a member."},
                                 "points": {"type": "array", "items": {"type": "object", "minProperties": 1},
                                            "description": "Explicit points {PATH: value, ...}."},
                                 "lhs": {"type": "object", "required": ["n", "ranges"], "properties": {
                                     "n": {"type": "integer", "minimum": 2}, "seed": {"type": "integer"},
                                     "ranges": {"type": "object", "additionalProperties": {
                                         "type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}}},
                                     "description": "A Latin hypercube of n points over [low, high] per path."}},
                             "oneOf": [{"required": ["grid"]}, {"required": ["points"]}, {"required": ["lhs"]}]}},
    },
}
