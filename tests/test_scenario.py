"""Scenario loading: good paths, extends merging, uncertain inputs, time helpers, CLI, schema drift."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from simsrc.cli import main
from simsrc.data import BUILTIN_DIR
from simsrc.errors import InputError
from simsrc.scenario import (
    Fixed, LogNormal, Pert, Scenario, Triangular, TruncNormal, Uniform, active_range,
    evaluate_condition, load_scenario, period_index, period_label, period_position,
    scenario_json_schema, uncertain_inputs,
)

ROOT = Path(__file__).resolve().parent.parent
FIX = Path(__file__).parent / "fixtures"
DATA = FIX / "tinydata"
FULL = FIX / "scenarios" / "full.yaml"
HEAD = f"name: t\nhorizon: {{start: 2026Q1, periods: 40}}\ndataset: {DATA}\n"


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


# -- the full fixture ------------------------------------------------------------------------

def test_full_fixture_loads_every_type():
    sc = load_scenario(FULL)
    assert {p.type for p in sc.policies} == {
        "tariff", "price_floor", "minimum_import_price", "export_restriction", "stockpile",
        "offtake", "capacity_project", "outage"}
    assert {e.type for e in sc.events} == {"dated", "markov", "negotiation"}
    assert sc.data.name == "tinydata" and sc.dataset == str(DATA.resolve())
    assert sc.source == FULL.resolve() and sc.source_files == (FULL.resolve(),)
    assert sc.event("section232").deadline_date() == dt.date(2026, 7, 13)
    assert sc.event("regime").initial == "off"  # YAML reads `off` as False; accepted
    assert sc.policy("t232").exporters == "all" and sc.policy("t232").importers == ["USA"]


def test_to_dict_round_trips():
    sc = load_scenario(FULL)
    d = sc.to_dict()
    json.dumps(d)  # plain JSON data
    assert "extends" not in d and d["remove"] == []
    assert Scenario.model_validate(d).to_dict() == d


# -- extends ---------------------------------------------------------------------------------

PARENT = HEAD + """\
draws: 100
outputs: {discount_rate: 0.05}
dynamics:
  lead_time: {dist: uniform, low: 2, high: 4}
events:
  - {name: ev, type: dated, date: 2027Q1, probability: 0.5}
parameters:
  - {name: eps, parameter: supply_elasticity, value: 1.0}
policies:
  - {name: a, type: tariff, importers: USA, exporters: all, rate: 0.1}
  - {name: b, type: tariff, importers: USA, exporters: all, rate: 0.2}
  - {name: c, type: tariff, importers: USA, exporters: all, rate: 0.3}
"""


def test_extends_merge_semantics(tmp_path):
    (tmp_path / "base").mkdir()
    write(tmp_path / "base" / "parent.yaml", PARENT)
    child = write(tmp_path / "child.yaml", """\
        extends: base/parent.yaml
        name: child
        horizon: {periods: 20}
        dynamics:
          lead_time: {dist: pert, low: 1, mode: 2, high: 5}
        remove: [c, eps]
        policies:
          - {name: b, type: export_restriction, origin: CHN, cap_share: 0.5, when: ev}
          - {name: d, type: tariff, importers: EU, exporters: CHN, rate: 0.4}
        """)
    sc = load_scenario(child)
    assert sc.name == "child" and sc.draws == 100
    assert sc.horizon.start == "2026Q1" and sc.horizon.periods == 20  # mappings deep-merge
    assert sc.outputs.discount_rate == 0.05
    assert isinstance(sc.dynamics.lead_time, Pert)  # a distribution replaces, never merges
    assert [p.name for p in sc.policies] == ["a", "b", "d"]  # replace in place, append, remove
    assert sc.policy("b").type == "export_restriction"
    assert sc.parameters == [] and [e.name for e in sc.events] == ["ev"]
    assert sc.source_files == (child.resolve(), (tmp_path / "base" / "parent.yaml").resolve())
    assert sc.dataset == str(DATA.resolve())


def test_extends_chain_and_relative_dataset(tmp_path):
    # the dataset path is relative to the file that sets it
    lib = tmp_path / "lib"
    lib.mkdir()
    rel = Path(*[".."] * len(lib.relative_to("/").parts)) / DATA.relative_to("/")
    write(lib / "grand.yaml", f"name: g\nhorizon: {{start: 2026Q1, periods: 8}}\ndataset: {rel}\n"
          "policies:\n  - {name: a, type: tariff, importers: USA, exporters: all, rate: 0.1}\n")
    write(lib / "parent.yaml", "extends: grand.yaml\nname: p\npolicies:\n  - {name: b, type: tariff, importers: EU, exporters: all, rate: 0.1}\n")
    sc = load_scenario(write(tmp_path / "child.yaml", "extends: lib/parent.yaml\nname: c\n"))
    assert [p.name for p in sc.policies] == ["a", "b"] and sc.data.name == "tinydata"


def test_dataset_override(tmp_path):
    p = write(tmp_path / "s.yaml", "name: t\nhorizon: {start: 2026Q1, periods: 4}\ndataset: nowhere\n")
    with pytest.raises(InputError):
        load_scenario(p)
    assert load_scenario(p, dataset=DATA).data.name == "tinydata"


# -- uncertain inputs ------------------------------------------------------------------------

def test_uncertain_inputs_names_and_distributions():
    sc = load_scenario(FULL)
    u = {x.name: x for x in uncertain_inputs(sc, include_dataset=False)}
    assert list(u) == [
        "dynamics.lead_time", "parameters.eps_chn.value", "parameters.sigma_all.value",
        "policies.ban.leakage", "policies.new_mine.delay_quarters",
        "events.ban_back.probability", "events.section232.success_probability",
    ]
    assert isinstance(u["policies.ban.leakage"].distribution, Uniform)
    assert u["policies.ban.leakage"].path == ("policies", 4, "leakage")
    assert u["events.section232.success_probability"].central() == pytest.approx((0.2 + 4 * 0.4 + 0.8) / 6)
    # dataset elasticities: PERT over (low, central, high) unless overridden for all regions
    names = [x.name for x in uncertain_inputs(sc)]
    assert "elasticities.gallium.armington" in names
    assert "elasticities.ndpr_oxide.armington" not in names  # parameter sigma_all covers it
    assert "elasticities.ndpr_oxide.supply_elasticity" in names  # eps_chn covers CHN only
    assert "elasticities.graphite.armington" not in names  # low == high: fixed
    d = {x.name: x for x in uncertain_inputs(sc)}["elasticities.gallium.demand_elasticity"].distribution
    assert isinstance(d, Pert) and (d.low, d.mode, d.high) == (-0.8, -0.4, -0.2)


def test_uncertain_names_are_stable(tmp_path):
    base = HEAD + textwrap.dedent("""\
        events:
          - {name: talks, type: negotiation, opened: 2026-01-14, deadline_days: 180,
             success_probability: {dist: uniform, low: 0.2, high: 0.6}}
        policies:
          - {name: t, type: tariff, importers: USA, exporters: all, rate: {dist: uniform, low: 0.1, high: 0.3}}
        """)
    more = base + "  - {name: extra, type: tariff, importers: EU, exporters: all, rate: {dist: uniform, low: 0, high: 0.1}}\n"
    a = {x.name: x.distribution for x in uncertain_inputs(load_scenario(write(tmp_path / "a.yaml", base)), include_dataset=False)}
    b = {x.name: x.distribution for x in uncertain_inputs(load_scenario(write(tmp_path / "b.yaml", more)), include_dataset=False)}
    assert set(a) == {"policies.t.rate", "events.talks.success_probability"}
    assert set(b) - set(a) == {"policies.extra.rate"} and all(a[k] == b[k] for k in a)


def test_include_fixed_lists_plain_numbers():
    sc = load_scenario(FULL)
    u = {x.name: x for x in uncertain_inputs(sc, include_fixed=True, include_dataset=False)}
    assert isinstance(u["policies.t232.rate"].distribution, Fixed) and u["policies.t232.rate"].central() == 0.25
    assert u["dynamics.depreciation"].central() == 0.05
    assert "policies.floor.level" not in u  # a policy level is not an uncertain field


# -- version 2 instruments: transshipment, export taxes, latent links ------------------------

V2 = HEAD + """\
trade: {latent_link_weight: 0.002}
policies:
  - name: ban
    type: export_restriction
    minerals: [gallium, germanium]
    origin: CHN
    destinations: [USA]
    cap_share: 0
    transshipment:
      cost: {dist: pert, low: 0.05, mode: 0.15, high: 0.4}
      capacity: {dist: uniform, low: 0.3, high: 1.0}
  - name: cap
    type: export_restriction
    origin: CHN
    destinations: [JPN]
    cap_share: 0.6
    transshipment: {cost: 0.2, capacity: unlimited}
  - name: cap_fixed
    type: export_restriction
    origin: CHN
    cap_share: 0.8
    transshipment: {cost: 0.1, capacity: 0.25}
  - name: old_style
    type: export_restriction
    origin: CHN
    destinations: [USA]
    cap_share: 0
    leakage: {dist: uniform, low: 0.05, high: 0.3}
  - name: duty
    type: export_tax
    minerals: [ndpr_oxide, dytb_oxide]
    origin: CHN
    rate: {dist: uniform, low: 0.15, high: 0.25}
  - {name: duty_us, type: export_tax, origin: CHN, destinations: [USA, EU], rate: 0.1, start: 2027Q1}
"""


def test_transshipment_export_tax_and_trade_load(tmp_path):
    from simsrc.scenario import ExportTax, Transshipment
    sc = load_scenario(write(tmp_path / "v2.yaml", V2))
    ban = sc.policy("ban")
    assert isinstance(ban.transshipment, Transshipment)
    assert isinstance(ban.transshipment.cost, Pert) and isinstance(ban.transshipment.capacity, Uniform)
    assert ban.leakage == 0.0
    # 'unlimited' (written or by default) is held as None
    assert sc.policy("cap").transshipment.capacity is None
    assert sc.policy("cap").transshipment.cost == 0.2
    assert sc.policy("cap_fixed").transshipment.capacity == 0.25
    assert sc.policy("old_style").transshipment is None  # no route unless given
    assert isinstance(sc.policy("old_style").leakage, Uniform)  # the version-1 shorthand still loads
    duty = sc.policy("duty")
    assert isinstance(duty, ExportTax) and duty.type == "export_tax"
    assert duty.origin == "CHN" and duty.destinations == "all" and isinstance(duty.rate, Uniform)
    assert sc.policy("duty_us").destinations == ["USA", "EU"] and sc.active_range(sc.policy("duty_us")) == (4, 39)
    assert sc.trade.latent_link_weight == 0.002
    # defaults: latent links on at 0.001
    plain = load_scenario(write(tmp_path / "plain.yaml", HEAD))
    assert plain.trade.latent_link_weight == 0.001
    d = sc.to_dict()
    assert d["trade"] == {"latent_link_weight": 0.002}
    assert d["policies"][1]["transshipment"] == {"cost": 0.2}  # unlimited: left out, the default
    assert Scenario.model_validate(d).to_dict() == d


def test_uncertain_inputs_list_nested_transshipment_names(tmp_path):
    sc = load_scenario(write(tmp_path / "v2.yaml", V2))
    u = {x.name: x for x in uncertain_inputs(sc, include_dataset=False)}
    assert list(u) == [
        "policies.ban.transshipment.cost", "policies.ban.transshipment.capacity",
        "policies.old_style.leakage", "policies.duty.rate",
    ]
    assert u["policies.ban.transshipment.cost"].path == ("policies", 0, "transshipment", "cost")
    assert u["policies.ban.transshipment.capacity"].path == ("policies", 0, "transshipment", "capacity")
    assert u["policies.ban.transshipment.cost"].central() == pytest.approx((0.05 + 4 * 0.15 + 0.4) / 6)
    assert u["policies.ban.transshipment.capacity"].description.startswith("How much can be routed")
    assert u["policies.duty.rate"].path == ("policies", 4, "rate")
    # the paths lead to the values in the resolved scenario
    d = sc.to_dict()
    for x in u.values():
        node = d
        for k in x.path:
            node = node[k]
        assert node["dist"] == x.distribution.dist
    # plain numbers are listed with include_fixed; an unlimited capacity is not a number
    f = {x.name: x for x in uncertain_inputs(sc, include_fixed=True, include_dataset=False)}
    assert f["policies.cap.transshipment.cost"].central() == 0.2
    assert "policies.cap.transshipment.capacity" not in f
    assert f["policies.cap_fixed.transshipment.capacity"].central() == 0.25
    assert f["policies.duty_us.rate"].central() == 0.1


def test_extends_merges_the_trade_block_and_replaces_leakage_with_transshipment(tmp_path):
    write(tmp_path / "parent.yaml", PARENT + """\
  - {name: ban, type: export_restriction, origin: CHN, destinations: [USA], cap_share: 0, leakage: 0.3}
trade:
  latent_link_weight: 0.002
""")
    inherit = load_scenario(write(tmp_path / "a.yaml", "extends: parent.yaml\nname: a\n"))
    assert inherit.trade.latent_link_weight == 0.002 and inherit.policy("ban").leakage == 0.3
    child = load_scenario(write(tmp_path / "b.yaml", """\
        extends: parent.yaml
        name: b
        trade: {latent_link_weight: 0}
        policies:
          - name: ban
            type: export_restriction
            origin: CHN
            destinations: [USA]
            cap_share: 0
            transshipment: {cost: {dist: uniform, low: 0.1, high: 0.3}, capacity: 0.5}
        """))
    assert child.trade.latent_link_weight == 0.0
    ban = child.policy("ban")  # replaced by name: no leakage left over from the parent
    assert ban.leakage == 0.0 and ban.transshipment.capacity == 0.5
    assert [p.name for p in child.policies] == ["a", "b", "c", "ban"]


# -- distributions ---------------------------------------------------------------------------

@pytest.mark.parametrize("d, mean", [
    (Uniform(dist="uniform", low=1, high=3), 2.0),
    (Triangular(dist="triangular", low=0, mode=1, high=5), 2.0),
    (Pert(dist="pert", low=0, mode=1, high=5), 1.5),
    (TruncNormal(dist="truncnormal", mean=0.5, sd=0.2, low=0, high=1), 0.5),
    (LogNormal(dist="lognormal", median=2, sigma=0.5), 2 * np.exp(0.125)),
    (Fixed(dist="fixed", value=3), 3.0),
])
def test_distribution_central_is_mean_and_ppf_matches(d, mean):
    assert d.central() == pytest.approx(mean, rel=1e-9)
    u = (np.arange(200_000) + 0.5) / 200_000
    x = d.ppf(u)
    assert x.shape == u.shape and np.all(np.diff(x) >= 0)
    assert x.mean() == pytest.approx(mean, rel=2e-3)
    lo, hi = d.support()
    assert x.min() >= lo and x.max() <= hi
    assert d.ppf(np.zeros((2, 3))).shape == (2, 3)


def test_truncated_lognormal_stays_in_bounds():
    d = LogNormal(dist="lognormal", median=2, sigma=1.0, low=0.5, high=4)
    x = d.ppf(np.linspace(0, 1, 101))
    assert x[0] == pytest.approx(0.5) and x[-1] == pytest.approx(4)
    assert d.central() == pytest.approx(d.ppf((np.arange(100_000) + 0.5) / 100_000).mean(), rel=1e-3)


# -- time ------------------------------------------------------------------------------------

def test_period_index_quarters():
    h = Scenario.model_validate({"name": "x", "horizon": {"start": "2026Q1", "periods": 40}}).horizon
    assert period_index("2026Q1", h) == 0
    assert period_index("2026-07-13", h) == 2
    assert period_index(dt.date(2026, 11, 27), h) == 3
    assert period_index("2035Q4", h) == 39 and period_index("2036Q1", h) == 40
    assert period_index("2025-12-31", h) == -1
    assert period_position("2026-02-15", h) == pytest.approx(45 / 90)
    assert period_label(h, 39) == "2035Q4"
    assert active_range(None, None, h) == (0, 39)
    assert active_range("2025Q4", "2035Q3", h) == (0, 38)
    assert active_range("2037Q1", None, h) is None


def test_period_index_other_lengths():
    y = Scenario.model_validate({"name": "x", "horizon": {"start": "2026-05-20", "periods": 5, "period": "year"}}).horizon
    assert period_index("2026Q1", y) == 0 and period_index("2028-12-31", y) == 2 and period_label(y, 1) == "2027"
    m = Scenario.model_validate({"name": "x", "horizon": {"start": "2026Q2", "periods": 24, "period": "month"}}).horizon
    assert period_index("2026-04-30", m) == 0 and period_index("2026Q3", m) == 3 and period_label(m, 0) == "2026-04"


def test_evaluate_condition_on_arrays():
    sc = load_scenario(FULL)
    states = {("section232", "failed"): np.array([1, 0, 0], bool), ("regime", "on"): np.array([0, 1, 0], bool)}
    got = evaluate_condition(sc.policy("mip").when, lambda ev, st: states[(ev, st)])
    assert got.tolist() == [True, True, False]


# -- CLI and schema ----------------------------------------------------------------------------

def test_cli_validate_exit_codes(tmp_path):
    bad = write(tmp_path / "bad.yaml", HEAD + "policies:\n  - {name: t, type: tariff, importers: USA, exporters: [CHINA], rate: 0.1}\n")
    r = CliRunner().invoke(main, ["validate", str(FULL)])
    assert r.exit_code == 0, r.output
    assert r.output.startswith(f"ok {FULL} (9 policies, 3 events, ")
    r = CliRunner().invoke(main, ["validate", str(FULL), str(bad)])
    assert r.exit_code == 1
    assert f"ok {FULL}" in r.output
    assert "bad.yaml:5: policies[0].exporters[0]: unknown region 'CHINA'" in r.output and "did you mean CHN?" in r.output
    r = CliRunner().invoke(main, ["validate", str(tmp_path / "missing.yaml")])
    assert r.exit_code == 1 and "scenario file not found" in r.output


def test_schema_command_and_committed_copy_match():
    r = CliRunner().invoke(main, ["schema"])
    assert r.exit_code == 0
    assert json.loads(r.output) == scenario_json_schema()
    committed = ROOT / "simsrc" / "schema" / "scenario.schema.json"
    assert committed.exists(), "regenerate with: simsrc schema > simsrc/schema/scenario.schema.json"
    assert committed.read_text() == r.output, (
        "simsrc/schema/scenario.schema.json is out of date with the pydantic models; regenerate it with: "
        "simsrc schema > simsrc/schema/scenario.schema.json")


def test_schema_documents_every_field():
    schema = scenario_json_schema()
    missing = [f"{name}.{prop}" for name, d in schema["$defs"].items()
               for prop, v in d.get("properties", {}).items() if not v.get("description")]
    missing += [p for p, v in schema["properties"].items() if not v.get("description")]
    assert missing == [], missing


# -- the shipped scenarios -------------------------------------------------------------------

@pytest.mark.skipif(not (BUILTIN_DIR / "usgs2024" / "flows.csv").exists(), reason="usgs2024 dataset not built")
@pytest.mark.parametrize("name", ["baseline", "section232_negotiation"])
def test_shipped_scenarios_validate(name):
    sc = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    assert sc.horizon.start == "2026Q1" and sc.horizon.periods == 40
    floor = sc.policy("ndpr_floor_mp")
    assert (floor.level, floor.unit, floor.upside_share) == (110, "USD/kg", 0.3)
    if name == "section232_negotiation":
        assert sc.event("section232").deadline_date() == dt.date(2026, 7, 13)
        assert sc.policy("s232_tariff").mode == "add"
        assert Path(sc.counterfactual) == (ROOT / "scenarios" / "baseline.yaml").resolve()
