"""Command-line interface: a thin click layer over the library API.

Each module in this package registers its commands on :data:`main`; they are discovered at
import, so adding a command never means editing this file.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import click

from .. import __version__
from ..errors import InputError, SimsrcError


class _Group(click.Group):
    """A group that prints SimsrcError messages without a traceback and exits 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except InputError as exc:
            click.echo(exc.format(), err=True)
            sys.exit(1)
        except SimsrcError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)


#: ``--set KEY=VALUE`` (repeatable), shared by run, compare, solve and sensitivity.
set_option = click.option(
    "--set", "sets", multiple=True, metavar="KEY=VALUE",
    help="Override a scenario value: a dotted path, list elements by name, the value as YAML "
         "(policies.s232_tariff.rate=0.4, events.section232.success_probability.mode=0.3, draws=500). Repeatable.")


def load_with_sets(path, sets, **kwargs):
    """The scenario at ``path`` with its ``--set`` overrides (a plain path when there are none)."""
    if not sets:
        return path
    from ..scenario import load_scenario
    return load_scenario(path, sets=list(sets), **kwargs)


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
