"""Reading YAML with ``yaml.safe_load`` semantics while keeping the line of every key.

:func:`read_yaml` returns the plain data (exactly what ``yaml.safe_load`` returns) and a map
from key paths (tuples of keys and list indices) to :class:`Loc` (file, line, path as written in
that file). Loc maps survive merging of extends chains, so an error in an inherited element still
names the file and line it was written on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import Problem

__all__ = ["Loc", "read_yaml", "format_path", "locate"]

_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class Loc:
    """Where a value was written: file, 1-based line, and its key path inside that file."""

    file: str
    line: int
    path: tuple


def format_path(path) -> str:
    """``('policies', 2, 'exporters')`` -> ``policies[2].exporters``."""
    out = ""
    for p in path:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out


def read_yaml(path: Path, display: str | None = None) -> tuple[Any, dict, list[Problem]]:
    """Parse one YAML file.

    Parameters
    ----------
    path : Path
        The file.
    display : str, optional
        How to name the file in messages (default: ``str(path)``).

    Returns
    -------
    data, locs, problems
        ``data`` is what ``yaml.safe_load`` returns (None when the file cannot be parsed);
        ``locs`` maps key paths to :class:`Loc`; ``problems`` lists syntax errors and duplicate keys.
    """
    name = display or str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        return None, {}, [Problem(name, f"cannot read file: {exc.strerror or exc}")]
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = None if node is None else loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        msg = "YAML syntax error: " + "; ".join(s for s in (exc.context, exc.problem) if s)
        if exc.context_mark is not None and exc.problem_mark is not None and exc.context_mark.line != exc.problem_mark.line:
            msg += f" (the construct began on line {exc.context_mark.line + 1})"
        return None, {}, [Problem(name, msg, line=mark.line + 1 if mark else None)]
    except yaml.YAMLError as exc:
        return None, {}, [Problem(name, f"YAML error: {exc}")]
    finally:
        loader.dispose()
    if node is None:
        return None, {}, [Problem(name, "file is empty; a scenario needs at least `name` and `horizon`")]

    locs: dict = {}
    problems: list[Problem] = []

    def walk(n, p):
        if isinstance(n, yaml.MappingNode):
            seen: dict = {}
            for k, v in n.value:
                if k.tag == _MERGE_TAG:
                    continue
                key = k.value if isinstance(k, yaml.ScalarNode) else None
                if key is None:
                    continue
                line = k.start_mark.line + 1
                if key in seen:
                    problems.append(Problem(name, f"duplicate key {key!r} (first on line {seen[key]}); YAML would silently keep only the last one",
                                            path=format_path(p + (key,)), line=line))
                seen[key] = line
                locs[p + (key,)] = Loc(name, line, p + (key,))
                walk(v, p + (key,))
        elif isinstance(n, yaml.SequenceNode):
            for i, v in enumerate(n.value):
                locs[p + (i,)] = Loc(name, v.start_mark.line + 1, p + (i,))
                walk(v, p + (i,))

    locs[()] = Loc(name, node.start_mark.line + 1, ())
    walk(node, ())
    return data, locs, problems


def locate(locs: dict, path: tuple, default_file: str) -> tuple[str, int | None, str]:
    """(file, line, displayed path) of a key path, using the nearest known ancestor's line.

    The displayed path is the path as written in the file that holds the value (indices of
    inherited list elements are those of the parent file), with any unknown suffix appended.
    """
    path = tuple(path)
    for k in range(len(path), -1, -1):
        loc = locs.get(path[:k])
        if loc is not None:
            return loc.file, loc.line, format_path(loc.path + path[k:])
    return default_file, None, format_path(path)
