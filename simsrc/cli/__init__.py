"""Command-line interface: a thin click layer over the library API.

Each module in this package registers its commands on :data:`main`; they are discovered at
import, so adding a command never means editing this file.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import sys

import click

from .. import __version__
from ..errors import InputError, SimsrcError


def fault_message(exc: BaseException) -> str | None:
    """One line for a file-system, data-file or cluster fault (None if ``exc`` is none of them)."""
    import json

    if isinstance(exc, OSError):
        what = exc.strerror or str(exc) or type(exc).__name__
        where = exc.filename if exc.filename is not None else None
        if where is not None and getattr(exc, "filename2", None):
            return f"{what}: {where} -> {exc.filename2}"
        return f"{what}: {where}" if where is not None else f"{what}"
    if isinstance(exc, json.JSONDecodeError):
        return f"a JSON file is damaged: {exc}"
    try:
        import pyarrow as pa
        if isinstance(exc, pa.ArrowException):
            return f"a Parquet file is damaged or unreadable: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    except ImportError:  # pragma: no cover
        pass
    if isinstance(exc, MemoryError):
        return "out of memory; use fewer draws or a smaller --chunk-size"
    return None


class _Group(click.Group):
    """A group that prints SimsrcError messages without a traceback and exits 1.

    File-system faults (disk full, read-only or missing folder), damaged results files and
    cluster faults end in one line naming the path or address; any other unexpected error in one
    line too (``SIMSRC_DEBUG=1`` shows its traceback)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except InputError as exc:
            click.echo(exc.format(), err=True)
            sys.exit(1)
        except SimsrcError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            if os.environ.get("SIMSRC_DEBUG"):
                raise
            msg = fault_message(exc)
            if msg is None:
                text = str(exc).strip().splitlines()
                msg = (f"unexpected {type(exc).__name__}: {text[0] if text else ''} (a bug; SIMSRC_DEBUG=1 shows "
                       "the traceback)")
            click.echo(f"error: {msg}", err=True)
            sys.exit(1)


_DASK_ADDRESS = re.compile(r"^dask://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+):(\d{1,5})$")


class ExecutorType(click.ParamType):
    """``--executor``: ``local``, ``dask`` or ``dask://HOST:PORT``."""

    name = "local|dask|dask://HOST:PORT"

    def convert(self, value, param, ctx):
        if not isinstance(value, str):
            return value
        v = value.strip()
        if v in ("local", "dask"):
            return v
        m = _DASK_ADDRESS.match(v)
        if m and 1 <= int(m.group(2)) <= 65535:
            return v
        from ..errors import did_you_mean
        hint = did_you_mean(v, ["local", "dask"]) if "://" not in v else ""
        self.fail(f"{value!r}: use 'local', 'dask' (a local cluster) or 'dask://HOST:PORT' (a running scheduler, "
                  f"port 1-65535){hint}", param, ctx)


#: ``--executor`` of run, compare, sensitivity and batch.
executor_option = click.option(
    "--executor", type=ExecutorType(), default="local", show_default=True,
    help="'local' (numba threads), 'dask' (a local Dask cluster) or dask://HOST:PORT (a running scheduler).")


def check_region(scn, region: str, param: str = "--region") -> None:
    """Refuse a headline region (or comma-separated regions) that is not in the scenario's
    dataset, before anything runs."""
    regions = list(scn.data.regions)
    for r in [x.strip() for x in str(region).split(",")]:
        if r not in regions:
            from ..errors import unknown_name_message
            raise click.BadParameter(unknown_name_message("region", r, regions), param_hint=f"'{param}'")


#: ``--set KEY=VALUE`` (repeatable), shared by run, compare, solve and sensitivity.
set_option = click.option(
    "--set", "sets", multiple=True, metavar="KEY=VALUE",
    help="Override a scenario value: a dotted path, list elements by name, the value as YAML "
         "(policies.s232_tariff.rate=0.4, events.section232.success_probability.mode=0.3, draws=500). Repeatable.")


def load_with_sets(path, sets, **kwargs):
    """The scenario at ``path``, loaded and checked, with its ``--set`` overrides."""
    from ..scenario import load_scenario
    return load_scenario(path, sets=list(sets or ()), **kwargs)


class Progress:
    """A progress callback ``(done, total, label)`` drawing a click progress bar on stderr.

    A new bar starts whenever ``done`` restarts at 1 (several runs in a row); ``close()``
    ends the current one (call it in a ``finally``).
    """

    def __init__(self, label: str):
        self.label = label
        self.bar = None

    def __call__(self, done, total, what):
        if self.bar is None or done == 1:
            self.close()
            self.bar = click.progressbar(length=total, label=self.label, show_pos=True, file=sys.stderr)
            self.bar.__enter__()
        self.bar.label = f"{self.label} {what}"
        self.bar.update(1)
        if done == total:
            self.close()

    def close(self):
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="simsrc")
def main():
    """simsrc: Monte Carlo simulation of critical-mineral trade policy.

    Scenarios are YAML files (see `simsrc schema`); baseline data are dataset folders
    (see `simsrc data list`).
    """


for _mod in pkgutil.iter_modules(__path__):
    if _mod.name.startswith("_"):
        continue
    importlib.import_module(f"{__name__}.{_mod.name}")
