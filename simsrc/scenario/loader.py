"""Loading scenario files: extends chains, schema validation, cross-checks, error reporting."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from ..data import BUILTIN_DIR, builtin_datasets, load_dataset, resolve_dataset_path
from ..errors import InputError, Problem, did_you_mean
from .checks import Checker
from .distributions import DIST_TYPES
from .model import EVENT_TYPES, POLICY_TYPES, Scenario
from .yamlio import format_path, locate, parse_value, read_yaml

__all__ = ["load_scenario", "validate_data", "NAMED_LISTS"]

#: Most files in one extends chain (a scenario, its parent, its parent's parent, ...).
MAX_EXTENDS = 16

#: List sections merged by element name in extends chains.
NAMED_LISTS = ("policies", "events", "parameters")
_SINGULAR = {"policies": "policy", "events": "event", "parameters": "parameter"}

# ----------------------------------------------------------------------------------------------
# extends chains
# ----------------------------------------------------------------------------------------------


def _sub(locs: dict, prefix: tuple) -> dict:
    n = len(prefix)
    return {p[n:]: l for p, l in locs.items() if p[:n] == prefix}


def _graft(locs: dict, prefix: tuple, sub: dict) -> None:
    for p, l in sub.items():
        locs[prefix + p] = l


def _without(locs: dict, prefix: tuple) -> dict:
    n = len(prefix)
    return {p: l for p, l in locs.items() if p[:n] != prefix}


_MISSING = object()


def _resolve(p: Path) -> Path:
    """``p.resolve()``, or ``p.absolute()`` for a path that cannot be resolved (a symbolic-link
    loop), which then fails the existence checks with its message instead of a traceback."""
    try:
        return Path(p).resolve()
    except (RuntimeError, OSError, ValueError):
        return Path(p).absolute()


def _deep_merge(pv, pl: dict, cv, cl: dict):
    """Child value over parent value; mappings merge key by key, except distributions (atoms)."""
    if isinstance(pv, dict) and isinstance(cv, dict) and "dist" not in cv:
        out = dict(pv)
        locs = dict(pl)
        if () in cl:
            locs[()] = cl[()]
        for k, v in cv.items():
            sv, sl = _deep_merge(pv.get(k, _MISSING), _sub(pl, (k,)), v, _sub(cl, (k,)))
            out[k] = sv
            locs = _without(locs, (k,))
            _graft(locs, (k,), sl)
        return out, locs
    return cv, dict(cl)


def _merge_named(plist, pl, clist, cl):
    items = [(el, _sub(pl, (i,))) for i, el in enumerate(plist)]
    pos = {el["name"]: k for k, (el, _) in enumerate(items) if isinstance(el, dict) and isinstance(el.get("name"), str)}
    for j, el in enumerate(clist):
        nm = el.get("name") if isinstance(el, dict) else None
        if isinstance(nm, str) and nm in pos:
            items[pos[nm]] = (el, _sub(cl, (j,)))
        else:
            if isinstance(nm, str):
                pos[nm] = len(items)
            items.append((el, _sub(cl, (j,))))
    locs = {(): cl.get((), pl.get(()))}
    for k, (_, sl) in enumerate(items):
        _graft(locs, (k,), sl)
    return [el for el, _ in items], locs


def _merge(parent, plocs, child, clocs, problems, display):
    out, locs = dict(parent), dict(plocs)
    remove = child.get("remove") or []
    if isinstance(remove, str):
        remove = [remove]
    if not isinstance(remove, list):
        loc = clocs.get(("remove",))
        problems.append(Problem(display, "remove must be a list of names of inherited policies, events or parameters",
                                path="remove", line=loc.line if loc else None))
        remove = []
    for k, nm in enumerate(remove):
        found = False
        for sec in NAMED_LISTS:
            lst = out.get(sec)
            if not isinstance(lst, list):
                continue
            keep = [i for i, el in enumerate(lst) if not (isinstance(el, dict) and el.get("name") == nm)]
            if len(keep) < len(lst):
                found = True
                sl = _sub(locs, (sec,))
                new = {(): sl.get(())} if () in sl else {}
                for newi, oldi in enumerate(keep):
                    _graft(new, (newi,), _sub(sl, (oldi,)))
                locs = _without(locs, (sec,))
                _graft(locs, (sec,), new)
                out[sec] = [lst[i] for i in keep]
        if not found:
            inherited = [el.get("name") for sec in NAMED_LISTS for el in (out.get(sec) or [])
                         if isinstance(out.get(sec), list) and isinstance(el, dict) and isinstance(el.get("name"), str)]
            loc = clocs.get(("remove", k)) or clocs.get(("remove",))
            problems.append(Problem(display, f"{nm!r} is not an inherited policy, event or parameter; inherited: "
                                    f"{', '.join(inherited) or '(none)'}{did_you_mean(str(nm), inherited)}",
                                    path=format_path(("remove", k)), line=loc.line if loc else None))
    for key, val in child.items():
        if key in ("extends", "remove"):
            continue
        if key in NAMED_LISTS and isinstance(val, list) and isinstance(out.get(key), list):
            merged, ml = _merge_named(out[key], _sub(locs, (key,)), val, _sub(clocs, (key,)))
        else:
            merged, ml = _deep_merge(out.get(key, _MISSING), _sub(locs, (key,)), val, _sub(clocs, (key,)))
        out[key] = merged
        locs = _without(locs, (key,))
        _graft(locs, (key,), ml)
    return out, locs


def _check_unique_names(data, locs, display, problems):
    for sec in NAMED_LISTS:
        lst = data.get(sec)
        if not isinstance(lst, list):
            continue
        first: dict = {}
        for i, el in enumerate(lst):
            nm = el.get("name") if isinstance(el, dict) else None
            if not isinstance(nm, str):
                continue
            if nm in first:
                j = first[nm]
                loc = locs.get((sec, i, "name")) or locs.get((sec, i))
                floc = locs.get((sec, j, "name")) or locs.get((sec, j))
                problems.append(Problem(display, f"duplicate {_SINGULAR[sec]} name {nm!r} (also {sec}[{j}]"
                                        f"{f', line {floc.line}' if floc else ''}); names must be unique",
                                        path=format_path((sec, i, "name")), line=loc.line if loc else None))
            else:
                first[nm] = i


def _read_chain(path: Path, display: str, problems: list, stack: list, files: dict):
    """Read a file and its extends ancestors; return merged (data, locs) or (None, None)."""
    data, locs, probs = read_yaml(path, display)
    problems.extend(probs)
    if data is None:
        return None, None
    if not isinstance(data, dict):
        problems.append(Problem(display, f"the top level of a scenario must be a mapping (key: value pairs), got {type(data).__name__}",
                                line=locs[()].line if () in locs else None))
        return None, None
    files[display] = _resolve(path)
    _check_unique_names(data, locs, display, problems)
    ext = data.get("extends")
    if ext is None:
        if data.get("remove"):
            loc = locs.get(("remove",))
            problems.append(Problem(display, "remove drops inherited elements, so it needs extends", path="remove",
                                    line=loc.line if loc else None))
        return {k: v for k, v in data.items() if k not in ("extends", "remove")}, locs
    eloc = locs.get(("extends",))
    eline = eloc.line if eloc else None
    if not isinstance(ext, str) or not ext.strip():
        problems.append(Problem(display, f"extends must be the path of a parent scenario file, got {ext!r}", path="extends", line=eline))
        return None, None
    ppath = _resolve(path.parent / ext)
    pdisplay = os.path.normpath(os.path.join(os.path.dirname(display), ext))
    chain = stack + [(_resolve(path), display)]
    if len(chain) >= MAX_EXTENDS:
        problems.append(Problem(display, f"extends chain longer than {MAX_EXTENDS} files "
                                f"({chain[0][1]} -> ... -> {display} -> {pdisplay}); flatten it", path="extends", line=eline))
        return None, None
    if any(p == ppath for p, _ in chain):
        names = [d for _, d in chain] + [pdisplay]
        problems.append(Problem(display, f"extends cycle: {' -> '.join(names)}", path="extends", line=eline))
        return None, None
    if not ppath.is_file():
        problems.append(Problem(display, f"parent scenario file not found: {pdisplay} (looked for {ppath}; "
                                "the path is relative to this file's folder)", path="extends", line=eline))
        return None, None
    pdata, plocs = _read_chain(ppath, pdisplay, problems, chain, files)
    if pdata is None:
        return None, None
    return _merge(pdata, plocs, data, locs, problems, display)

# ----------------------------------------------------------------------------------------------
# pydantic errors -> messages with key paths
# ----------------------------------------------------------------------------------------------


def _models_in(tp) -> list:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [tp]
    out = []
    for a in get_args(tp):
        if isinstance(a, (type,)) or get_origin(a) is not None:
            out += _models_in(a)
    return out


def _model_at(data, path):
    """The pydantic model class that validates the mapping at ``path`` (None if unknown)."""
    models = [Scenario]
    cur = data
    for el in path:
        try:
            cur = cur[el]
        except (KeyError, IndexError, TypeError):
            return None
        if isinstance(el, int):
            continue
        nxt = []
        for m in models:
            if el in m.model_fields:
                nxt += _models_in(m.model_fields[el].annotation)
        models = nxt if nxt else models
    if not isinstance(cur, dict):
        return None
    cands = []
    for m in dict.fromkeys(models):
        tagf = "type" if "type" in m.model_fields else "dist" if "dist" in m.model_fields else None
        if tagf is None or cur.get(tagf) in get_args(m.model_fields[tagf].annotation):
            cands.append(m)
    if not cands:
        return None
    # several untagged candidates (e.g. {any: ...} and {all: ...}): the one sharing most keys
    return max(cands, key=lambda m: len(set(cur) & set(m.model_fields)))


def _short(v) -> str:
    s = repr(v)
    return s if len(s) <= 60 else s[:57] + "..."


_UNC_HINT = ("a number or a distribution such as {dist: uniform, low: 0.2, high: 0.5} "
             "(dists: " + ", ".join(DIST_TYPES) + ")")


def _tags_for(disc: str, path) -> list[str]:
    if disc == "dist":
        return list(DIST_TYPES)
    if path and path[0] == "events":
        return list(EVENT_TYPES)
    return list(POLICY_TYPES)


def translate_error(err: dict, data) -> tuple[tuple, str]:
    """Map one pydantic error to (key path in the data, message)."""
    loc, typ, ctx = err["loc"], err["type"], err.get("ctx") or {}
    cur, path, tags = data, [], []
    for i, el in enumerate(loc):
        if isinstance(cur, dict) and isinstance(el, str) and el in cur:
            path.append(el)
            cur = cur[el]
        elif isinstance(cur, list) and isinstance(el, int) and 0 <= el < len(cur):
            path.append(el)
            cur = cur[el]
        elif typ == "missing" and i == len(loc) - 1 and isinstance(el, str):
            path.append(el)
            return tuple(path), f"required key {el!r} is missing"
        else:
            tags.append(el)
    path = tuple(path)
    inp = err.get("input")
    got = f"; got {_short(inp)}"
    if typ == "extra_forbidden":
        key = path[-1] if path else "?"
        model = _model_at(data, path[:-1])
        if model is not None:
            allowed = [f for f in model.model_fields]
            return path, f"unknown key {key!r}; allowed: {', '.join(allowed)}{did_you_mean(str(key), allowed)}"
        return path, f"unknown key {key!r}"
    if typ in ("union_tag_invalid", "union_tag_not_found"):
        disc = str(ctx.get("discriminator", "type")).strip("'")
        allowed = _tags_for(disc, path)
        if typ == "union_tag_not_found":
            return path, f"missing key {disc!r}; allowed values: {', '.join(allowed)}"
        tag = str(ctx.get("tag", inp))
        return path + (disc,), f"unknown {disc} {tag!r}; allowed: {', '.join(allowed)}{did_you_mean(tag, allowed)}"
    if typ == "condition":
        return path, err["msg"] + got
    if typ in ("float_parsing", "float_type", "finite_number"):
        if "number" in tags:
            return path, f"expected {_UNC_HINT}{got}"
        return path, f"expected a number{got}"
    if typ in ("int_parsing", "int_type", "int_from_float"):
        return path, f"expected a whole number{got}"
    if typ in ("string_type",):
        return path, f"expected text{got}"
    if typ in ("list_type",):
        return path, f"expected a list{got}"
    if typ in ("model_type", "dict_type", "model_attributes_type"):
        return path, f"expected a mapping (key: value pairs){got}"
    if typ == "literal_error":
        exp = str(ctx.get("expected", ""))
        opts = [o.strip().strip("'") for o in exp.replace(" or ", ", ").split(",") if o.strip()]
        return path, f"must be one of {', '.join(opts)}{got}{did_you_mean(str(inp), opts)}"
    if typ in ("value_error", "assertion_error"):
        msg = err["msg"]
        for pre in ("Value error, ", "Assertion failed, "):
            if msg.startswith(pre):
                msg = msg[len(pre):]
        return path, msg
    ops = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}
    if typ in ops:
        bound = next(iter(ctx.values())) if ctx else "?"
        if isinstance(bound, float) and abs(bound) >= 1e6:
            bound = f"{bound:g}"
        return path, f"must be {ops[typ]} {bound}{got}"
    if typ in ("too_short", "string_too_short"):
        return path, f"must not be empty{got}"
    return path, f"{err['msg']}{got}"

# ----------------------------------------------------------------------------------------------
# load_scenario
# ----------------------------------------------------------------------------------------------


def _resolve_paths(data, locs, files, display, problems):
    """Make dataset and counterfactual paths absolute (relative to the file that sets them)."""
    def base(key):
        loc = locs.get((key,))
        return files.get(loc.file, files[display]).parent if loc else files[display].parent

    ds = data.get("dataset")
    if isinstance(ds, str) and ds.strip():
        folder = resolve_dataset_path(ds, base("dataset"))
        is_builtin = folder.parent == BUILTIN_DIR and folder.name == ds
        if not is_builtin and (folder.is_dir() or "/" in ds or "\\" in ds):
            data["dataset"] = str(folder)
    cf = data.get("counterfactual")
    if isinstance(cf, str) and cf.strip():
        p = _resolve(base("counterfactual") / cf)
        if not p.is_file():
            f, line, shown = locate(locs, ("counterfactual",), display)
            problems.append(Problem(f, f"counterfactual scenario file not found: {cf} (looked for {p}; the path is relative to "
                                    "the file that sets it)", path=shown, line=line))
        data["counterfactual"] = str(p)


def _salvage(data, bad_paths):
    """Data without the elements/keys that failed validation, plus index maps and flags."""
    data = copy.copy(data)
    flags = {"dates": True, "dataset": True}
    bad_el = {sec: set() for sec in NAMED_LISTS}
    for p in bad_paths:
        if not p:
            return None, None, flags
        if p[0] in NAMED_LISTS and len(p) >= 2 and isinstance(p[1], int):
            bad_el[p[0]].add(p[1])
        else:
            if p[0] == "horizon":
                flags["dates"] = False
            if p[0] == "dataset":
                flags["dataset"] = False
            data.pop(p[0], None)
    index = {}
    for sec in NAMED_LISTS:
        lst = data.get(sec)
        if isinstance(lst, list):
            index[sec] = [i for i in range(len(lst)) if i not in bad_el[sec]]
            data[sec] = [lst[i] for i in index[sec]]
    data.setdefault("name", "?")
    if "horizon" not in data:
        data["horizon"] = {"start": "2000Q1", "periods": 1}
        flags["dates"] = False
    return data, index, flags


def validate_data(data: dict, locs: dict, display: str, files: dict | None = None, problems: list | None = None):
    """Validate merged scenario data and cross-check it; return (Scenario or None, dataset, problems)."""
    problems = [] if problems is None else problems

    def report(path, msg):
        f, line, shown = locate(locs, path, display)
        problems.append(Problem(f, msg, path=shown, line=line))

    sc, index, flags = None, None, {"dates": True, "dataset": True}
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as exc:
        bad = []
        for err in exc.errors(include_url=False):
            path, msg = translate_error(err, data)
            bad.append(path)
            report(path, msg)
        sdata, index, flags = _salvage(data, bad)
        if sdata is not None:
            try:
                sc = Scenario.model_validate(sdata)
            except ValidationError:
                sc = None
    ds = None
    if sc is not None and flags["dataset"]:
        folder = resolve_dataset_path(sc.dataset)
        if not folder.is_dir():
            report(("dataset",), f"dataset {data.get('dataset')!r} not found: no built-in dataset of that name "
                   f"(built-in: {', '.join(builtin_datasets()) or 'none'}) and no folder {folder}")
        else:
            try:
                ds = load_dataset(folder)
            except InputError as exc:
                report(("dataset",), f"dataset {sc.dataset!r} has {len(exc.problems)} problem(s), listed with their files")
                problems.extend(exc.problems)
        if ds is not None:
            Checker(sc, ds, report, data, index=index, check_dates=flags["dates"]).run()
            if not problems:
                _compile_check(sc, ds, data, report)
    return sc, ds, problems


def _compile_check(sc, ds, data, report) -> None:
    """Compile every simulated mineral as `run` will, so whatever the engine refuses (a rule the
    checks above do not know yet) is refused here, with the policy's file and line."""
    from ..errors import SimsrcError
    from ..policies import CompileError, compile_market

    names = {el.get("name"): i for i, el in enumerate(data.get("policies") or []) if isinstance(el, dict)}
    old = sc._data
    sc._data = ds
    try:
        for m in sc.mineral_codes():
            try:
                compile_market(sc, m)
            except CompileError as exc:
                for item in exc.items or [str(exc)]:
                    head, _, msg = str(item).partition(": ")
                    if head.startswith("policies.") and head[len("policies."):] in names:
                        report(("policies", names[head[len("policies."):]]), msg)
                    else:
                        report((), f"{m}: {item}")
                return
            except SimsrcError as exc:
                report((), f"the scenario cannot be compiled for {m}: {exc}")
                return
    finally:
        sc._data = old


def _display(path: Path) -> str:
    s = str(path)
    if path.is_absolute():
        try:
            rel = os.path.relpath(path)
            if not rel.startswith(".."):
                return rel
        except ValueError:
            pass
    return s


def apply_sets(data: dict, locs: dict, sets, problems: list) -> None:
    """Apply ``--set KEY=VALUE`` overrides to merged scenario data (before validation).

    ``KEY`` is a dotted path; list elements (policies, events, parameters) are addressed by
    name; ``VALUE`` is read as YAML (``0.4``, ``[USA, EU]``, ``{dist: pert, low: 0, mode: 1,
    high: 2}``). Each set value is located as ``--set KEY`` in error messages, so a bad value is
    reported with the key and what is allowed, like a value in the file.
    """

    from ..errors import unknown_name_message
    from .yamlio import Loc

    for text in sets or ():
        key, sep, raw = str(text).partition("=")
        key = key.strip()
        where = f"--set {key}" if key else "--set"
        if not sep or not key:
            problems.append(Problem("--set", f"{text!r}: write KEY=VALUE, e.g. policies.s232_tariff.rate=0.4 or draws=500"))
            continue
        try:
            value = parse_value(raw) if raw.strip() else None
        except ValueError as exc:
            problems.append(Problem(where, f"the value {raw[:60]!r} cannot be read as YAML: {exc}"))
            continue
        parts = key.split(".")
        if any(not p_.strip() for p_ in parts):
            problems.append(Problem(where, f"{key!r}: empty part in the key; write a dotted path such as "
                                    "policies.s232_tariff.rate"))
            continue
        node, path, ok = data, (), True
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if isinstance(node, list):
                names = [el.get("name") for el in node if isinstance(el, dict)]
                if part not in names:
                    problems.append(Problem(where, unknown_name_message(f"element of {'.'.join(parts[:i])}", part, names)
                                            + " (list elements are addressed by name)"))
                    ok = False
                    break
                k = names.index(part)
                if last:
                    problems.append(Problem(where, f"{key} is a whole {'.'.join(parts[:i])} element; set one of its keys"))
                    ok = False
                    break
                node, path = node[k], path + (k,)
            elif isinstance(node, dict):
                if last:
                    node[part] = value
                    path = path + (part,)
                    break
                if (part not in node or node[part] is None) and path == () and part in NAMED_LISTS:
                    problems.append(Problem(where, f"the scenario has no {part}, so there is no element "
                                            f"{parts[i + 1]!r} to set; add it in the file"))
                    ok = False
                    break
                if part not in node or node[part] is None:
                    node[part] = {}  # an optional block the file leaves out (e.g. trade)
                    locs[path + (part,)] = Loc(where, None, path + (part,))  # written by --set, not the file
                node, path = node[part], path + (part,)
            else:
                problems.append(Problem(where, f"{'.'.join(parts[:i])} is a single value, not a block; "
                                        f"set {'.'.join(parts[:i])}=VALUE instead"))
                ok = False
                break
        if ok:
            locs[path] = Loc(where, None, path)
            for k in [p_ for p_ in locs if len(p_) > len(path) and p_[:len(path)] == path]:
                locs.pop(k)  # the file's lines below a replaced value no longer describe it


def load_scenario(path: Union[str, Path], *, dataset: Union[str, Path, None] = None, sets=None) -> Scenario:
    """Load, merge (extends), validate and cross-check a scenario file.

    Parameters
    ----------
    path : str or Path
        The scenario YAML file.
    dataset : str or Path, optional
        Use this dataset (built-in name or folder, relative to the working directory) instead of
        the scenario's own ``dataset``.
    sets : list of str, optional
        ``KEY=VALUE`` overrides (``--set``), applied after ``extends`` (see :func:`apply_sets`).

    Returns
    -------
    Scenario
        The resolved scenario: extends merged (``extends``/``remove`` empty), ``dataset`` and
        ``counterfactual`` paths absolute, the dataset loaded (``scenario.data``).
        ``scenario.to_dict()`` gives plain data for a manifest.

    Raises
    ------
    InputError
        Listing every problem found, each with file, line, key path and what is allowed.
    """
    path = Path(path)
    display = _display(path)
    problems: list[Problem] = []
    if not path.is_file():
        raise InputError([Problem(display, "scenario file not found" if not path.exists() else "not a file")])
    files: dict = {}
    data, locs = _read_chain(path, display, problems, [], files)
    if data is None:
        raise InputError(problems)
    _resolve_paths(data, locs, files, display, problems)
    apply_sets(data, locs, sets, problems)
    if dataset is not None:
        data["dataset"] = str(resolve_dataset_path(dataset, Path.cwd()))
        locs.pop(("dataset",), None)
    sc, ds, problems = validate_data(data, locs, display, files, problems)
    if problems:
        order = {d: k for k, d in enumerate(files)}
        problems.sort(key=lambda p: (order.get(p.file, len(order)), p.line or 0))
        raise InputError(problems)
    if sc.outputs.watched_origins is None:  # the default, resolved against the dataset
        from ..policies import default_watched
        sc.outputs.watched_origins = default_watched(None, list(ds.regions))
    sc._source = _resolve(path)
    sc._sets = tuple(sets or ())  # the --set overrides, so a Dask worker can reload the same scenario
    sc._source_files = tuple(files.values())
    sc._data = ds
    return sc


# ----------------------------------------------------------------------------------------------
# a resolved scenario sent to workers (never a path they would re-read)
# ----------------------------------------------------------------------------------------------

#: Resolved scenarios rebuilt in this process (a Dask worker), by hash.
_RESOLVED: dict = {}


def resolved_payload(sc: Scenario, scenario_hash: str) -> tuple[dict, str]:
    """What a worker needs to rebuild ``sc`` exactly: its resolved data (``to_dict``, extends
    merged, ``--set`` applied, paths absolute) and its hash (:func:`simsrc.engine.scenario_hash`:
    the data and the dataset's files). Workers never re-read the scenario file, so editing it
    during a run cannot change the run."""
    return sc.to_dict(), scenario_hash


def from_payload(data: dict, scenario_hash: str) -> Scenario:
    """The scenario of :func:`resolved_payload`, rebuilt (once per process) and checked against
    its hash, so a dataset changed during the run is an error rather than a mixed result."""
    sc = _RESOLVED.get(scenario_hash)
    if sc is not None:
        return sc
    from ..engine import scenario_hash as _hash
    from ..errors import SimsrcError

    sc = Scenario.model_validate(data)
    sc._data = load_dataset(resolve_dataset_path(sc.dataset))
    got = _hash(sc)
    if got != scenario_hash:
        raise SimsrcError(f"scenario {sc.name!r}: its dataset ({sc._data.path}) changed during the run "
                          f"(hash {got[:8]}, expected {scenario_hash[:8]}); run again")
    if len(_RESOLVED) > 16:
        _RESOLVED.clear()
    _RESOLVED[scenario_hash] = sc
    return sc
