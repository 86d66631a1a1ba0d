"""One output registry (simsrc.outputs): the kernel's rows, the results' tables, the plots'
labels and welfare components and the comparison's headlines are all derived from it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from simsrc import compare, outputs, plots, results
from simsrc.kernels import dynamics

FULL = Path(__file__).parent / "fixtures" / "scenarios" / "full.yaml"

#: Kernel row constant -> output (the names of simsrc/kernels/dynamics.py).
KERNEL_ROWS = {
    "O_ORIGIN_PRICE": "origin_price", "O_CONSUMER_PRICE": "consumer_price", "O_PRODUCTION": "production",
    "O_CONSUMPTION": "consumption", "O_IMPORTS": "imports", "O_EXPORTS": "exports", "O_CAPACITY": "capacity",
    "O_NIR": "net_import_reliance", "O_TARIFF_REV": "tariff_revenue", "O_LEVY_REV": "levy_revenue",
    "O_QUOTA_RENT": "quota_rent", "O_FISCAL": "floor_fiscal_cost", "O_STOCKPILE": "stockpile",
    "O_CS": "cs_change", "O_PS": "ps_change", "O_FOB_PRICE": "fob_price", "O_ETAX_REV": "export_tax_revenue",
    "O_TSHIP_COST": "transship_cost", "O_INTER_RENT": "intermediary_rent",
    "O_BACKSTOP_SUB": "backstop_substitution", "O_STK_SALES": "stockpile_sales",
    "O_STK_PURCH": "stockpile_purchases", "O_STK_VALUE": "stockpile_value_change",
    "O_WELFARE_FLAG": "welfare_flag", "O_CONVERGED": "converged", "O_EQUITY": "equity_income",
}

#: The rows as they were when the registry was introduced: results folders and the kernel's
#: writes depend on them, so outputs are only ever appended (a reorder fails here).
HISTORIC_ORDER = [
    "origin_price", "consumer_price", "production", "consumption", "imports", "exports", "capacity",
    "net_import_reliance", "tariff_revenue", "levy_revenue", "quota_rent", "floor_fiscal_cost", "stockpile",
    "cs_change", "ps_change", "fob_price", "export_tax_revenue", "transship_cost", "intermediary_rent",
    "backstop_substitution", "stockpile_sales", "stockpile_purchases", "stockpile_value_change",
    "welfare_flag", "converged",
]


def test_every_kernel_row_constant_is_the_registry_index():
    consts = {k: getattr(dynamics, k) for k in dir(dynamics) if k.startswith("O_") and k.isupper()}
    assert set(consts) == set(KERNEL_ROWS), "a kernel row constant without a test entry, or the reverse"
    for const, name in KERNEL_ROWS.items():
        assert type(consts[const]) is int  # a plain int: a compile-time constant for numba
        assert consts[const] == outputs.ROW[name] == [o.name for o in outputs.PER_PERIOD].index(name), const
    assert dynamics.N_BASE_OUTPUTS == len(outputs.PER_PERIOD) == len(outputs.ROW)
    assert type(dynamics.N_BASE_OUTPUTS) is int
    # every output has a row, each row one output
    assert sorted(consts.values()) == list(range(dynamics.N_BASE_OUTPUTS))


def test_outputs_keep_their_historic_rows():
    names = [o.name for o in outputs.PER_PERIOD]
    assert names[:len(HISTORIC_ORDER)] == HISTORIC_ORDER


def test_results_tables_follow_the_registry():
    assert list(results.OUTPUTS) == [o.name for o in outputs.PER_PERIOD]
    assert results.OUTPUTS == {o.name: (o.unit, o.description) for o in outputs.PER_PERIOD}
    assert list(results.DRAW_OUTPUTS) == [d.name for d in outputs.PER_DRAW]
    assert results.DRAW_OUTPUTS == {d.name: (d.unit, d.description) for d in outputs.PER_DRAW}
    assert plots.LABELS == {**{o.name: o.label for o in outputs.PER_PERIOD},
                            **{d.name: d.label for d in outputs.PER_DRAW}}
    assert compare.HEADLINES == outputs.HEADLINES
    for label, col, scale, unit, rel in compare.HEADLINES:
        assert col in results.DRAW_OUTPUTS and label and unit and scale > 0 and isinstance(rel, bool)


def test_every_output_has_a_label_a_unit_and_a_welfare_role():
    for o in outputs.PER_PERIOD:
        assert o.label and o.description, o.name
        assert o.unit in ("PRICE", "t/yr", "USD/yr", "t", "share", "flag"), o.name
        assert o.welfare in (-1, 0, 1) and isinstance(o.world, bool), o.name
        assert not (o.world and o.welfare), o.name
        assert plots.output_label(o.name) == o.label
    for d in outputs.PER_DRAW:
        assert d.label and d.description and d.unit in outputs.UNITS, d.name
        assert d.of is None or d.of in outputs.ROW, d.name
        assert plots.output_label(d.name) == d.label


def test_net_welfare_terms_are_the_outputs_with_a_role():
    role = {o.name: o.welfare for o in outputs.PER_PERIOD if o.welfare}
    assert results.WELFARE_TERMS == {k: float(v) for k, v in role.items()}
    assert set(results.WELFARE_TERMS) == {o.name for o in outputs.PER_PERIOD if o.welfare != 0}
    assert results.WORLD_TERMS == ("transship_cost", "intermediary_rent")
    assert set(results.WORLD_TERMS) == {o.name for o in outputs.PER_PERIOD if o.world}
    assert not set(results.WORLD_TERMS) & set(results.WELFARE_TERMS)
    # the plots' components: every term with its sign, then net welfare
    assert plots.WELFARE_COMPONENTS == ([(f"npv_{k}", v) for k, v in results.WELFARE_TERMS.items()]
                                        + [("npv_net_welfare", 1.0)])
    assert {k for k, v in results.WELFARE_TERMS.items() if v < 0} == {"floor_fiscal_cost", "stockpile_purchases"}
    # every term and world term has its NPV among the per-draw outputs
    for k in [*results.WELFARE_TERMS, *results.WORLD_TERMS]:
        assert results.DRAW_OUTPUTS[f"npv_{k}"][0] == "USD"


def test_draw_scalars_write_every_per_draw_output_in_order():
    rng = np.random.default_rng(0)
    arrays = {k: rng.random((4, 6, 3)).astype(np.float32) for k in results.OUTPUTS}
    sc = results.draw_scalars(arrays, 0.25, 0.03)
    assert list(sc) == list(results.DRAW_OUTPUTS)
    net = sum(sign * sc[f"npv_{k}"] for k, sign in results.WELFARE_TERMS.items())
    np.testing.assert_allclose(sc["npv_net_welfare"], net, rtol=1e-12)


def test_net_import_reliance_has_one_definition():
    c = np.array([10.0, 10.0, 0.0, 5.0])
    q = np.array([4.0, 12.0, 3.0, 5.0])
    nir = outputs.net_import_reliance(c, q)
    np.testing.assert_array_equal(nir[[0, 1, 3]], [0.6, 0.0, 0.0])
    assert np.isnan(nir[2])
    from simsrc.data import load_dataset

    ds = load_dataset(Path(__file__).parent / "fixtures" / "tinydata")
    m = next(iter(ds.minerals.values()))
    np.testing.assert_array_equal(m.net_import_reliance, outputs.net_import_reliance(m.consumption, m.production))


def test_the_registry_and_the_kernels_stay_light():
    code = ("import sys, simsrc.outputs; heavy = {'numpy', 'pandas', 'numba', 'pyarrow'} & set(sys.modules); "
            "assert not heavy, heavy; import simsrc.kernels.dynamics; assert 'pandas' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    from simsrc.engine import run

    info = run(FULL, draws=3, out_dir=tmp_path_factory.mktemp("registry"), chunk_size=2)
    return results.Results(info.path)


def test_a_tiny_run_writes_the_registry_columns(tiny_run):
    r = tiny_run
    watched = [c for c in r.manifest["outputs"] if c.startswith("share_")]
    assert watched == ["share_CHN"]
    names = [o.name for o in outputs.PER_PERIOD]
    assert r.manifest["outputs"] == names + watched
    paths = r.paths(mineral="ndpr_oxide")
    assert list(paths.columns) == ["draw", "period", "region", "mineral"] + names + watched
    assert list(r.draws.columns) == ["draw", "mineral", "region"] + [d.name for d in outputs.PER_DRAW]
    assert set(r.summary["output"]) == set(names + watched)
    # the kernel writes each output in its own row: relations that hold only if rows match names
    cons = paths["consumption"].to_numpy(np.float64)
    prod = paths["production"].to_numpy(np.float64)
    nir = paths["net_import_reliance"].to_numpy(np.float64)
    np.testing.assert_allclose(nir, outputs.net_import_reliance(cons, prod), rtol=1e-5, atol=1e-6)
    assert set(np.unique(paths["converged"])) <= {0.0, 1.0}
    assert set(np.unique(paths["welfare_flag"])) <= {0.0, 1.0}
    assert (paths["stockpile"] >= 0).all()
    cap = paths["capacity"].to_numpy(np.float64)
    ok = np.isfinite(cap)
    assert (prod[ok] <= cap[ok] * (1 + 1e-4) + 1e-6).all()
