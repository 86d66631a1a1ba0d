"""Error types that carry every problem found, each naming file, line and key path."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable, Sequence


@dataclass(frozen=True)
class Problem:
    """One problem in an input file.

    Parameters
    ----------
    file : str
        Path of the file the problem is in.
    message : str
        What is wrong and what is allowed.
    path : str
        Key path inside the file (``policies[2].exporters``), or ``""`` for the whole file.
    line : int or None
        1-based line number, when known.
    """

    file: str
    message: str
    path: str = ""
    line: int | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
        if self.path:
            where += f": {self.path}"
        return f"{where}: {self.message}"


class SimsrcError(Exception):
    """Base class of errors a user can act on."""


class InputError(SimsrcError):
    """One or more problems in input files (scenario YAML or dataset CSV).

    ``problems`` lists them all, not only the first.
    """

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__(self.format())

    def format(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} found:"
        return "\n".join([head] + [f"  - {p}" for p in self.problems])


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """Return ``"; did you mean X?"`` for the closest known name, or ``""``."""
    known = list(known)
    lowered = {k.lower(): k for k in known}
    if name.lower() in lowered:
        return f"; did you mean {lowered[name.lower()]}?"
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if not close:
        close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
        close = [lowered[c] for c in close]
    return f"; did you mean {close[0]}?" if close else ""


def unknown_name_message(kind: str, name: str, known: Iterable[str]) -> str:
    """Message for an unknown region/mineral/group: names the known ones and a suggestion."""
    known = sorted(known)
    shown = ", ".join(known[:20]) + (", ..." if len(known) > 20 else "")
    return f"unknown {kind} {name!r}; known: {shown}{did_you_mean(name, known)}"
