"""`simsrc solve SCENARIO`: one market clearing per mineral, first period, central values."""

from __future__ import annotations

import json
import math
from pathlib import Path

import click
import pandas as pd

from ..errors import SimsrcError, unknown_name_message
from ..outputs import BY_NAME, MAY_BE_NAN
from . import main, set_option


def _fmt(v, spec):
    return "" if v is None or (isinstance(v, float) and not math.isfinite(v)) else format(v, spec)


def _table(res) -> str:
    """A readable per-region table of one mineral's solution."""
    d = res.to_dict()  # prices without a variety or without demand are None
    t = pd.DataFrame({
        "price idx": [_fmt(v, ".4f") for v in d["price_index"]],
        f"price {res.price_unit}": [_fmt(v, ",.4g") for v in d["price"]],
        "cons. price idx": [_fmt(v, ".4f") for v in d["consumer_price_index"]],
        f"FOB {res.price_unit}": [_fmt(v, ",.4g") for v in d["fob_price"]],
        "production t": [_fmt(v, ",.0f") for v in res.production],
        "consumption t": [_fmt(v, ",.0f") for v in res.consumption],
        "NIR": [_fmt(v, ".0%") for v in res.net_import_reliance],
        "backstop t": [_fmt(v, ",.1f") for v in res.backstop_substitution],
        "revenue USD m": [_fmt(v / 1e6, ",.2f") for v in res.tariff_revenue + res.levy_revenue],
        "exp. tax USD m": [_fmt(v / 1e6, ",.2f") for v in res.export_tax_revenue],
        "rents USD m": [_fmt(v / 1e6, ",.2f") for v in res.quota_rent],
        "tship cost USD m": [_fmt(v / 1e6, ",.2f") for v in res.transship_cost],
        "interm. rent USD m": [_fmt(v / 1e6, ",.2f") for v in res.intermediary_rent],
        "fiscal USD m": [_fmt(v / 1e6, ",.2f") for v in res.fiscal_cost],
        "dCS USD m": [_fmt(v / 1e6, ",.2f") for v in res.cs_change],
        "dPS USD m": [_fmt(v / 1e6, ",.2f") for v in res.ps_change],
    }, index=pd.Index(res.regions, name="region"))
    return t.to_string()


@main.command("solve")
@click.argument("scenario", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--mineral", "-m", "minerals", multiple=True,
              help="Mineral code (repeatable); default every mineral of the scenario's dataset.")
@click.option("--dataset", "-d", default=None, help="Use this dataset instead of the scenario's.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@set_option
def solve_cmd(scenario, minerals, dataset, as_json, sets):
    """Solve SCENARIO's first period once per mineral at the central values of its inputs.

    Policies in force in the first period are applied (a policy conditional on an event is on
    only if the event's most likely outcome has it in force then), with the first period's
    short-run demand elasticity; prices are indices (1 = baseline) and in the dataset's price
    unit (FOB: the export price at the origin's border, export taxes and restriction wedges
    included), quantities t/yr (backstop: demand lost to substitutes above the backstop
    price), values USD/yr. Exits 1 if a market does not converge.
    """
    from ..equilibrium import solve_scenario
    from ..scenario import load_scenario

    scn = load_scenario(scenario, dataset=dataset, sets=list(sets))
    known = list(scn.data.minerals)
    for m in minerals:
        if m not in known:
            raise SimsrcError(unknown_name_message("mineral", m, known))
    results = solve_scenario(scn, list(minerals) or None)
    failed = [m for m, r in results.items() if not r.converged]
    nonfinite = {m: _nonfinite(r.to_dict()) for m, r in results.items() if r.converged}
    nonfinite = {m: v for m, v in nonfinite.items() if v}
    if as_json:
        click.echo(json.dumps({"scenario": scn.name, "dataset": scn.data.name, "period": 0,
                               "minerals": {m: r.to_dict() for m, r in results.items()}}, indent=1))
    else:
        click.echo(f"scenario {scn.name} (dataset {scn.data.name}): first period, central values")
        for m, r in results.items():
            status = f"converged in {r.iterations} iterations" if r.converged else \
                f"NOT CONVERGED (status {r.status}, max relative excess supply {r.max_rel_excess:.2e})"
            click.echo(f"\n{m}: {status}; quantities t/yr, values USD m/yr")
            if len(r.cap_names):
                caps = ", ".join(f"{n} {'ban (inf)' if not math.isfinite(v) else f'{v:.4f}'}"
                                 + (f" ({x:,.1f} t/yr transshipped)" if x >= 0.05 else "")
                                 for n, v, x in zip(r.cap_names, r.wedges, r.transshipped))
                click.echo(f"export restriction wedges: {caps}")
            with pd.option_context("display.width", 250, "display.max_columns", 30):
                click.echo(_table(r))
    for m, where in nonfinite.items():
        click.echo(f"error: {m}: the solve gives no finite value for {where}; the policies leave no supply "
                   "(or no demand) there, which the model cannot value, so the solve counts as failed", err=True)
    if failed:
        click.echo(f"not converged: {', '.join(failed)}", err=True)
    if failed or nonfinite:
        raise SystemExit(1)


#: Keys of a static solve (MarketResult.to_dict) that are registry outputs under another name
#: (the revenue column is tariff plus levy revenue, finite where both are).
_AS_OUTPUT = {"price_index": "origin_price", "consumer_price_index": "consumer_price",
              "fiscal_cost": "floor_fiscal_cost", "revenue": "tariff_revenue"}


def _nonfinite(d: dict) -> str:
    """'cs_change in USA, EU' for values that are missing or infinite though they must exist
    (:data:`simsrc.outputs.MAY_BE_NAN`: prices may be missing where a region produces or
    consumes nothing, the capacity where it has no limit)."""
    bad = []
    regions = d.get("regions", [])

    def finite(x):
        return x is not None and math.isfinite(x)

    for key, vals in d.items():
        out = _AS_OUTPUT.get(key, key)
        if out not in BY_NAME or not isinstance(vals, list):
            continue
        unless = MAY_BE_NAN.get(out)
        if unless is None:
            miss = [regions[i] for i, x in enumerate(vals) if not finite(x)]
        elif unless and isinstance(d.get(unless), list):
            miss = [regions[i] for i, (x, y) in enumerate(zip(vals, d[unless])) if finite(y) and y > 0 and not finite(x)]
        else:
            continue
        if miss:
            bad.append(f"{key} in {', '.join(miss)}")
    return "; ".join(bad)
