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
_STR_TAG = "tag:yaml.org,2002:str"

#: Largest scenario file read, in bytes (the library's largest is a few KB).
MAX_FILE_BYTES = 4 * 2**20
#: Deepest nesting of mappings and lists (the scenario format needs fewer than 15 levels).
MAX_DEPTH = 40
#: Most nodes a document may hold once its aliases are expanded (``*anchor`` repeats what
#: ``&anchor`` names): a bound on what aliases can multiply, so a small file cannot expand into
#: millions of values (an "alias bomb").
MAX_NODES = 100_000


class _Refused(Exception):
    """A document this reader refuses (too deep, too large once expanded, recursive)."""

    def __init__(self, message, mark=None):
        super().__init__(message)
        self.message, self.mark = message, mark


class _Loader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that bounds nesting depth while composing (PyYAML's composer recurses
    once per level) and turns impossible dates (2026-02-30) into errors with their line."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise _Refused(f"nesting deeper than {MAX_DEPTH} levels of mappings and lists; "
                               "a scenario needs far fewer", mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_yaml_timestamp(self, node):
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"invalid date {node.value!r} ({exc}); expected a quarter like 2026Q1 (Q1 to Q4) "
                "or an ISO date like 2026-01-14", node.start_mark) from None


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def _expanded_size(root) -> int:
    """Nodes of the document once aliases are expanded, counted on the composed graph with
    memoisation (linear in the file, never expanding anything); raises _Refused above
    MAX_NODES or on a recursive alias (an anchor used inside itself)."""
    size: dict = {}
    depth: dict = {}
    state: dict = {}  # id -> 1 while visiting, 2 when done
    stack = [(root, False)]
    while stack:
        n, post = stack.pop()
        k = id(n)
        if post:
            total = 1
            if isinstance(n, yaml.SequenceNode):
                total += sum(size[id(c)] for c in n.value)
                depth[k] = 1 + max((depth[id(c)] for c in n.value), default=0)
            elif isinstance(n, yaml.MappingNode):
                total += sum(size[id(a)] + size[id(b)] for a, b in n.value)
                depth[k] = 1 + max((max(depth[id(a)], depth[id(b)]) for a, b in n.value), default=0)
            else:
                depth[k] = 0
            size[k] = total
            state[k] = 2
            if depth[k] > MAX_DEPTH:
                raise _Refused(f"nesting deeper than {MAX_DEPTH} levels of mappings and lists once its aliases "
                               "(*name) are expanded; a scenario needs far fewer", n.start_mark)
            if total > MAX_NODES:
                raise _Refused(f"the document expands to more than {MAX_NODES:,} values once its aliases "
                               "(*name) are expanded; write the values out or use fewer aliases", n.start_mark)
            continue
        st = state.get(k)
        if st == 2:
            continue
        if st == 1:
            raise _Refused("recursive alias: an anchor (&name) is used inside its own value", n.start_mark)
        state[k] = 1
        stack.append((n, True))
        if isinstance(n, yaml.SequenceNode):
            children = list(n.value)
        elif isinstance(n, yaml.MappingNode):
            children = [c for pair in n.value for c in pair]
        else:
            children = []
        for c in children:
            if state.get(id(c)) == 1:
                raise _Refused("recursive alias: an anchor (&name) is used inside its own value", c.start_mark)
            if state.get(id(c)) != 2:
                stack.append((c, False))
    return size[id(root)]


def _decode(raw: bytes, name: str):
    """Text of a scenario file, or a Problem naming why it is not UTF-8 text."""
    if b"\x00" in raw[:8192] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, Problem(name, "not a text file (it holds NUL bytes); a scenario is a UTF-8 YAML text file")
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        return None, Problem(name, f"not valid UTF-8 text: byte 0x{raw[exc.start]:02x} at offset {exc.start} cannot be "
                             "decoded; save the file as UTF-8", line=line)


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


def parse_value(text: str):
    """A YAML value written on the command line (``--set KEY=VALUE``), read with the same bounds
    as files (depth, alias expansion, dates); raises ValueError with the reason."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node)
        return loader.construct_document(node)
    except _Refused as exc:
        raise ValueError(exc.message) from None
    except yaml.YAMLError as exc:
        raise ValueError(str(exc).replace("\n", " ")) from None
    finally:
        loader.dispose()


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
        with open(path, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return None, {}, [Problem(name, f"cannot read file: {exc.strerror or exc}")]
    if len(raw) > MAX_FILE_BYTES:
        return None, {}, [Problem(name, f"file is larger than {MAX_FILE_BYTES // 2**20} MB; a scenario is a few KB of YAML")]
    text, prob = _decode(raw, name)
    if prob is not None:
        return None, {}, [prob]
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _expanded_size(node)
        data = None if node is None else loader.construct_document(node)
    except _Refused as exc:
        return None, {}, [Problem(name, exc.message, line=exc.mark.line + 1 if exc.mark is not None else None)]
    except RecursionError:
        return None, {}, [Problem(name, f"nesting too deep to read (at most {MAX_DEPTH} levels)")]
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
    bad_keys: list[int] = []

    def walk(n, p):
        if isinstance(n, yaml.MappingNode):
            seen: dict = {}
            for k, v in n.value:
                if k.tag == _MERGE_TAG:
                    continue
                line = k.start_mark.line + 1
                if not isinstance(k, yaml.ScalarNode) or k.tag != _STR_TAG:
                    shown = k.value if isinstance(k, yaml.ScalarNode) else ("a list" if isinstance(k, yaml.SequenceNode) else "a mapping")
                    what = {"tag:yaml.org,2002:bool": "a true/false value", "tag:yaml.org,2002:int": "a number",
                            "tag:yaml.org,2002:float": "a number", "tag:yaml.org,2002:null": "null",
                            "tag:yaml.org,2002:timestamp": "a date"}.get(k.tag, "not text")
                    problems.append(Problem(name, f"key {shown!r} is read by YAML as {what}; keys are names (text): "
                                            "quote it or rename it", path=format_path(p), line=line))
                    bad_keys.append(line)
                    continue
                key = k.value
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
    if bad_keys:  # the data holds keys no message could place: report them, not their effects
        return None, locs, problems
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
