"""`simsrc validate FILE...` and `simsrc schema`."""

from __future__ import annotations

import json

import click

from ..errors import InputError
from . import main


@main.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--dataset", "-d", default=None,
              help="Check against this dataset (built-in name or folder) instead of each scenario's own.")
def validate(files, dataset):
    """Check scenario files: schema, extends chain, and consistency with the dataset.

    Prints `ok FILE (...)` for each valid file and every problem of every invalid one; exits 1
    if any file has a problem.
    """
    from ..scenario import load_scenario, uncertain_inputs

    failed = 0
    for f in files:
        try:
            sc = load_scenario(f, dataset=dataset)
        except InputError as exc:
            failed += 1
            click.echo(f"FAILED {f}: {exc.format()}", err=True)
            continue
        n_unc = len(uncertain_inputs(sc))
        click.echo(f"ok {f} ({len(sc.policies)} policies, {len(sc.events)} events, {n_unc} uncertain inputs)")
    if failed:
        click.echo(f"{failed} of {len(files)} file(s) failed validation", err=True)
        raise SystemExit(1)


@main.command("schema")
@click.option("--batch", is_flag=True, help="The schema of batch files (simsrc batch) instead.")
def schema(batch):
    """Print the JSON Schema of scenario files (generated from the pydantic models), or with
    --batch of batch files.

    The committed copy lives at simsrc/schema/scenario.schema.json; regenerate it with
    `simsrc schema > simsrc/schema/scenario.schema.json`.
    """
    if batch:
        from ..batch import BATCH_SCHEMA
        click.echo(schema_text(BATCH_SCHEMA), nl=False)
        return
    from ..scenario import scenario_json_schema

    click.echo(schema_text(scenario_json_schema()), nl=False)


def schema_text(schema: dict) -> str:
    """The exact text `simsrc schema` prints (and the committed copy holds)."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
