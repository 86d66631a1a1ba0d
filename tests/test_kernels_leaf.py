"""Kernel functions compiled without reference counting (simsrc.kernels.LEAF) are safe only if
they allocate nothing and return no array: numba refuses an allocation at compile time, and this
test checks the return types of every compiled LEAF function after a run that exercises them."""

from __future__ import annotations

from pathlib import Path

from numba import types
from numba.core.registry import CPUDispatcher

from simsrc import kernels
from simsrc.engine import simulate_chunk
from simsrc.kernels import dynamics, equilibrium, welfare
from simsrc.policies import compile_market
from simsrc.scenario import load_scenario

FULL = Path(__file__).parent / "fixtures" / "scenarios" / "full.yaml"


def _has_array(t) -> bool:
    if isinstance(t, types.Array):
        return True
    if isinstance(t, types.BaseTuple):
        return any(_has_array(x) for x in t.types)
    return False


def test_leaf_kernels_return_no_array_and_cover_the_solver():
    scn = load_scenario(FULL)
    for m in ("ndpr_oxide", "gallium"):
        simulate_chunk(scn, compile_market(scn, m), 0, 8)
    leaf = {}
    for mod in (equilibrium, welfare, dynamics):
        for name, obj in vars(mod).items():
            if isinstance(obj, CPUDispatcher) and obj.targetoptions.get("_nrt") is False:
                leaf[f"{mod.__name__}.{name}"] = obj
    # the solver, outcomes, welfare and per-period functions and each draw's period loop are
    # LEAF; the loop over draws (which allocates each draw's workspace) and the workspace
    # allocator are not
    for name in ("_setup", "_prepare", "_evaluate", "_jacobian", "_newton", "solve_market",
                 "_lu_factor", "_lu_solve", "market_outcomes", "export_prices"):
        assert f"simsrc.kernels.equilibrium.{name}" in leaf, name
    for name in ("market_welfare", "welfare_reference", "ps_segment"):
        assert f"simsrc.kernels.welfare.{name}" in leaf, name
    for name in ("compose_trade_policies", "period_inputs", "_draw_periods"):
        assert f"simsrc.kernels.dynamics.{name}" in leaf, name
    assert equilibrium.make_workspace.targetoptions.get("_nrt") is not False
    assert dynamics.simulate.targetoptions.get("_nrt") is not False
    assert kernels.LEAF["_nrt"] is False
    compiled = 0
    for name, disp in leaf.items():
        for sig, cres in disp.overloads.items():
            compiled += 1
            assert not _has_array(cres.signature.return_type), (name, cres.signature)
    assert compiled >= 15
