"""Bad scenario inputs: every message names the file, the line, the key path and what is allowed."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from simsrc.errors import InputError
from simsrc.scenario import load_scenario

DATA = Path(__file__).parent / "fixtures" / "tinydata"
HEAD = f"name: t\nhorizon: {{start: 2026Q1, periods: 40}}\ndataset: {DATA}\n"


def write(tmp_path, body, name="s.yaml", head=True):
    text = (HEAD if head else "") + textwrap.dedent(body)
    p = tmp_path / name
    p.write_text(text)
    return p, text


def line_of(text, needle, nth=0):
    hits = [k + 1 for k, line in enumerate(text.splitlines()) if needle in line]
    return hits[nth]


def problems(path):
    with pytest.raises(InputError) as ei:
        load_scenario(path)
    return ei.value.problems


def one(path, key_path):
    """The single problem at key_path (asserting there is exactly one)."""
    ps = problems(path)
    hit = [p for p in ps if p.path == key_path]
    assert len(hit) == 1, "\n".join(map(str, ps))
    return hit[0]


def test_typo_key_suggests_nearest(tmp_path):
    p, text = write(tmp_path, """
        policies:
          - name: floor
            type: price_floor
            minerals: [ndpr_oxide]
            region: USA
            level: 110
            unit: USD/kg
            covered_shre: 0.8
        """)
    pr = one(p, "policies[0].covered_shre")
    assert pr.file.endswith("s.yaml") and pr.line == line_of(text, "covered_shre")
    assert "unknown key 'covered_shre'" in pr.message
    assert "allowed:" in pr.message and "upside_share" in pr.message
    assert pr.message.endswith("did you mean covered_share?")
    assert str(pr).startswith(f"{pr.file}:{pr.line}: policies[0].covered_shre: unknown key")


def test_top_level_typo(tmp_path):
    p, text = write(tmp_path, "polices: []\n")
    pr = one(p, "polices")
    assert pr.line == 4 and "did you mean policies?" in pr.message


def test_unknown_region_with_suggestion(tmp_path):
    p, text = write(tmp_path, """
        policies:
          - name: t
            type: tariff
            importers: [USA]
            exporters: [AUS, CHINA]
            rate: 0.1
        """)
    pr = one(p, "policies[0].exporters[1]")
    assert pr.line == line_of(text, "CHINA")
    assert "unknown region 'CHINA'" in pr.message
    assert "known regions: USA, CHN, EU" in pr.message and "groups: G7" in pr.message
    assert pr.message.endswith("did you mean CHN?")


def test_group_where_one_region_is_needed(tmp_path):
    p, text = write(tmp_path, """
        policies:
          - {name: f, type: price_floor, minerals: [ndpr_oxide], region: G7, level: 100, unit: USD/kg, covered_share: 1}
        """)
    pr = one(p, "policies[0].region")
    assert "'G7' is a group; this field needs one region" in pr.message and "USA" in pr.message


def test_unknown_mineral(tmp_path):
    p, text = write(tmp_path, """
        minerals: [ndpr_oxide, galium]
        """)
    pr = one(p, "minerals[1]")
    assert pr.line == line_of(text, "galium")
    assert "unknown mineral 'galium'; known: antimony, dytb_oxide, gallium" in pr.message
    assert "did you mean gallium?" in pr.message


def test_unknown_group(tmp_path):
    p, text = write(tmp_path, """
        groups:
          club: [G7, NATO]
        outputs:
          watched_origins: [CHN, BRICS]
        """)
    ps = problems(p)
    paths = {x.path: x for x in ps}
    assert "unknown region 'NATO'" in paths["groups.club[1]"].message
    assert paths["groups.club[1]"].line == line_of(text, "NATO")
    assert "unknown region 'BRICS'" in paths["outputs.watched_origins[1]"].message


def test_probability_above_one(tmp_path):
    p, text = write(tmp_path, """
        events:
          - name: ev
            type: dated
            date: 2027Q1
            probability: 1.5
        """)
    pr = one(p, "events[0].probability")
    assert pr.line == line_of(text, "1.5")
    assert pr.message == "a probability must be in [0, 1]; got 1.5"


def test_probability_distribution_support(tmp_path):
    p, text = write(tmp_path, """
        events:
          - {name: ev, type: dated, date: 2027Q1, probability: {dist: uniform, low: 0.2, high: 1.3}}
        """)
    pr = one(p, "events[0].probability")
    assert "a probability must be in [0, 1]" in pr.message and "[0.2, 1.3]" in pr.message


def test_negative_supply_elasticity(tmp_path):
    p, text = write(tmp_path, """
        parameters:
          - name: eps
            parameter: supply_elasticity
            value: -0.5
        """)
    pr = one(p, "parameters[0].value")
    assert pr.line == line_of(text, "-0.5")
    assert "a supply elasticity must be > 0; got -0.5" == pr.message


def test_positive_demand_elasticity(tmp_path):
    p, text = write(tmp_path, """
        parameters:
          - {name: eta, parameter: demand_elasticity, value: 0.3}
          - {name: eta2, parameter: demand_elasticity, value: {dist: triangular, low: -0.5, mode: -0.2, high: 0.1}}
        """)
    ps = {x.path: x.message for x in problems(p)}
    assert ps["parameters[0].value"] == "a demand elasticity must be < 0; got 0.3"
    assert "a demand elasticity must be < 0, but triangular" in ps["parameters[1].value"]


def test_armington_one(tmp_path):
    p, text = write(tmp_path, """
        parameters:
          - {name: s1, parameter: armington, value: 1}
          - {name: s2, parameter: armington, value: {dist: uniform, low: 0.5, high: 3}}
        """)
    ps = {x.path: x.message for x in problems(p)}
    assert "must not be 1" in ps["parameters[0].value"]
    assert "includes 1" in ps["parameters[1].value"]


def test_distribution_low_above_high(tmp_path):
    p, text = write(tmp_path, """
        dynamics:
          lead_time: {dist: pert, low: 6, mode: 3, high: 2}
        """)
    pr = one(p, "dynamics.lead_time")
    assert pr.line == line_of(text, "lead_time")
    assert "need low < high; got low=6, high=2" in pr.message


def test_distribution_unknown_key(tmp_path):
    p, text = write(tmp_path, """
        dynamics:
          depreciation: {dist: uniform, low: 0.02, hi: 0.08}
        """)
    ps = {x.path: x.message for x in problems(p)}
    assert "allowed: dist, low, high; did you mean high?" in ps["dynamics.depreciation.hi"]


def test_date_outside_horizon(tmp_path):
    p, text = write(tmp_path, """
        events:
          - name: late
            type: dated
            date: 2040-01-01
        policies:
          - {name: t, type: tariff, importers: USA, exporters: all, rate: 0.1, start: 2037Q1}
        """)
    ps = {x.path: x for x in problems(p)}
    assert ps["events[0].date"].line == line_of(text, "2040-01-01")
    assert "date 2040-01-01 is outside the horizon 2026Q1 to 2035Q4" in ps["events[0].date"].message
    assert "start 2037Q1 is after the horizon" in ps["policies[0].start"].message


def test_floor_in_unconvertible_unit(tmp_path):
    p, text = write(tmp_path, """
        policies:
          - name: floor
            type: price_floor
            minerals: [ndpr_oxide]
            region: USA
            level: 110
            unit: USD/m3
            covered_share: 1
          - {name: mip, type: minimum_import_price, minerals: [gallium], members: [G7], level: 700, unit: EUR/kg}
        """)
    ps = {x.path: x for x in problems(p)}
    pr = ps["policies[0].unit"]
    assert pr.line == line_of(text, "USD/m3")
    assert "unit 'USD/m3' cannot be converted to the price unit of ndpr_oxide (USD/t)" in pr.message
    assert "allowed: USD/t, USD/tonne, USD/kg" in pr.message
    assert "unknown currency 'EUR'" in ps["policies[1].unit"].message


def test_floor_in_implausible_unit(tmp_path):
    p, text = write(tmp_path, """
        policies:
          - name: floor
            type: price_floor
            minerals: [ndpr_oxide]
            region: USA
            level: 110
            unit: USD/t
            covered_share: 1
        """)
    pr = one(p, "policies[0].level")
    assert pr.line == line_of(text, "level: 110")
    assert "baseline price of ndpr_oxide (60000 USD/t" in pr.message
    assert "more than 100x away" in pr.message and pr.message.endswith("did you mean 110 USD/kg?")


def test_missing_extends_file(tmp_path):
    p, text = write(tmp_path, "extends: parent/nothere.yaml\n")
    pr = one(p, "extends")
    assert pr.file.endswith("s.yaml") and pr.line == 4
    assert "parent scenario file not found" in pr.message and "nothere.yaml" in pr.message


def test_extends_cycle(tmp_path):
    (tmp_path / "a.yaml").write_text("name: a\nextends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("name: b\n\nextends: a.yaml\n")
    ps = problems(tmp_path / "a.yaml")
    assert len(ps) == 1
    assert ps[0].file.endswith("b.yaml") and ps[0].line == 3 and ps[0].path == "extends"
    assert "extends cycle:" in ps[0].message and "a.yaml -> " in ps[0].message


def test_malformed_yaml(tmp_path):
    p, text = write(tmp_path, """
        policies:
          - name: t
            rate: [0.1
          - name: u
        """)
    ps = problems(p)
    assert len(ps) == 1 and ps[0].line == line_of(text, "name: u")
    assert "YAML syntax error" in ps[0].message and ps[0].file.endswith("s.yaml")


def test_duplicate_yaml_key(tmp_path):
    p, text = write(tmp_path, "draws: 10\ndraws: 20\n")
    pr = one(p, "draws")
    assert pr.line == 5 and "duplicate key 'draws' (first on line 4)" in pr.message


def test_duplicate_policy_names(tmp_path):
    p, text = write(tmp_path, """
        policies:
          - {name: t, type: tariff, importers: USA, exporters: all, rate: 0.1}
          - {name: t, type: tariff, importers: EU, exporters: all, rate: 0.1}
        """)
    pr = one(p, "policies[1].name")
    assert pr.line == line_of(text, "importers: EU")
    assert "duplicate policy name 't' (also policies[0], line 6)" in pr.message


def test_when_unknown_event_and_state(tmp_path):
    p, text = write(tmp_path, """
        events:
          - {name: talks, type: negotiation, opened: 2026-01-14, deadline_days: 180, success_probability: 0.5}
        policies:
          - {name: t, type: tariff, importers: USA, exporters: all, rate: 0.1, when: talk.failed}
          - {name: u, type: tariff, importers: USA, exporters: all, rate: 0.1, when: {any: [talks.fired]}}
        """)
    ps = {x.path: x for x in problems(p)}
    pr = ps["policies[0].when"]
    assert pr.line == line_of(text, "talk.failed")
    assert "unknown event 'talk'; known: talks; did you mean talks?" in pr.message
    pr = ps["policies[1].when.any[0]"]
    assert "event 'talks' (negotiation) has no state 'fired'; its states: failed, succeeded, pending" in pr.message


def test_string_for_a_number(tmp_path):
    p, text = write(tmp_path, """
        draws: many
        policies:
          - {name: t, type: tariff, importers: USA, exporters: all, rate: "25%"}
        """)
    ps = {x.path: x.message for x in problems(p)}
    assert ps["draws"] == "expected a whole number; got 'many'"
    assert ps["policies[0].rate"].startswith("expected a number or a distribution such as {dist: uniform")
    assert ps["policies[0].rate"].endswith("got '25%'")


def test_bad_quarter_string(tmp_path):
    p, text = write(tmp_path, "horizon: {start: 2026Q5, periods: 40}\n", head=False)
    text = f"name: t\ndataset: {DATA}\n" + text
    p.write_text(text)
    pr = one(p, "horizon.start")
    assert pr.line == 3
    assert "invalid quarter or date '2026Q5'; expected a quarter like 2026Q1 (Q1 to Q4) or an ISO date" in pr.message


def test_unknown_policy_type(tmp_path):
    p, text = write(tmp_path, """
        policies:
          - name: t
            type: tarif
        """)
    pr = one(p, "policies[0].type")
    assert pr.line == line_of(text, "tarif")
    assert "unknown type 'tarif'; allowed: tariff, price_floor" in pr.message and pr.message.endswith("did you mean tariff?")


def test_literal_with_suggestion(tmp_path):
    p, text = write(tmp_path, """
        policies:
          - {name: t, type: tariff, importers: USA, exporters: all, rate: 0.1, mode: ad}
        """)
    pr = one(p, "policies[0].mode")
    assert "must be one of add, set; got 'ad'; did you mean add?" == pr.message


def test_model_level_rule(tmp_path):
    p, text = write(tmp_path, """
        policies:
          - name: vault
            type: stockpile
            region: USA
            minerals: [gallium]
            initial_months: 3
            initial_t: 100
            release_rate: 0.5
            trigger: 1.5
        """)
    pr = one(p, "policies[0]")
    assert pr.line == line_of(text, "name: vault")
    assert "give exactly one of initial_months" in pr.message


def test_missing_required_key(tmp_path):
    p, text = write(tmp_path, """
        policies:
          - {name: t, type: tariff, importers: USA, exporters: all}
        """)
    pr = one(p, "policies[0].rate")
    assert pr.message == "required key 'rate' is missing" and pr.line == line_of(text, "type: tariff")


def test_remove_unknown_name(tmp_path):
    (tmp_path / "parent.yaml").write_text(HEAD + "policies:\n  - {name: t, type: tariff, importers: USA, exporters: all, rate: 0.1}\n")
    p = tmp_path / "child.yaml"
    p.write_text("extends: parent.yaml\nremove: [tt]\n")
    pr = one(p, "remove[0]")
    assert pr.line == 2 and "'tt' is not an inherited policy, event or parameter; inherited: t; did you mean t?" in pr.message


def test_unknown_dataset(tmp_path):
    p, text = write(tmp_path, "name: t\nhorizon: {start: 2026Q1, periods: 4}\ndataset: usgs1999\n", head=False)
    pr = one(p, "dataset")
    assert pr.line == 3 and "dataset 'usgs1999' not found: no built-in dataset of that name" in pr.message


def test_empty_file(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("# nothing\n")
    ps = problems(p)
    assert len(ps) == 1 and "file is empty" in ps[0].message


def test_error_in_parent_names_parent_file(tmp_path):
    sub = tmp_path / "lib"
    sub.mkdir()
    (sub / "parent.yaml").write_text(HEAD + "policies:\n  - {name: t, type: tariff, importers: USA, exporters: [CHINA], rate: 0.1}\n")
    p = tmp_path / "child.yaml"
    p.write_text("extends: lib/parent.yaml\nname: child\n")
    pr = one(p, "policies[0].exporters[0]")
    assert pr.file.endswith("lib/parent.yaml") and pr.line == 5 and "did you mean CHN?" in pr.message


def test_many_problems_reported_together(tmp_path):
    p, text = write(tmp_path, """
        draws: 0
        paramters: []
        events:
          - {name: ev, type: dated, date: 2027Q1, probability: 2}
        policies:
          - {name: a, type: tariff, importers: [USA], exporters: [CHINA], minerals: [galium], rate: abc}
          - {name: b, type: price_floor, minerals: [ndpr_oxide], region: USA, level: 110, unit: USD/t, covered_share: 1}
          - {name: c, type: export_restriction, origin: CHN, cap_share: 0, when: evv}
        """)
    ps = problems(p)
    paths = {x.path for x in ps}
    assert {"draws", "paramters", "events[0].probability", "policies[0].exporters[0]", "policies[0].minerals[0]",
            "policies[0].rate", "policies[1].level", "policies[2].when"} <= paths, "\n".join(map(str, ps))
    assert all(x.line is not None and x.file.endswith("s.yaml") for x in ps)
    assert [x.line for x in ps] == sorted(x.line for x in ps)


def test_assorted_rules(tmp_path):
    p, text = write(tmp_path, """
        groups:
          club: [NO]
        events:
          - {name: ev, type: dated, date: 2026Q3}
        policies:
          - {name: a, type: tariff, importers: USA, exporters: all, rate: {low: 0, high: 1}}
          - {name: b, type: tariff, importers: USA, exporters: all, rate: 0.1, when: "ev failed"}
          - {name: c, type: tariff, importers: USA, exporters: all, rate: 25}
          - {name: d, type: tariff, importers: USA, exporters: all, rate: 0.1, start: 2027Q1, end: 2026Q3}
          - {name: e, type: stockpile, region: USA, minerals: [gallium, germanium], initial_t: 10, release_rate: 0.5, trigger: 1.5}
          - {name: f, type: capacity_project, region: USA, mineral: gallium, capacity_t: 10, date: 2027Q1, covered_share: 0.5}
        """)
    ps = problems(p)
    by = {}
    for x in ps:
        by.setdefault(x.path, []).append(x.message)
    assert "YAML reads yes/no/on/off/true/false as booleans; quote it" in by["groups.club[0]"][0]
    assert by["policies[0].rate"] == ["missing key 'dist'; allowed values: fixed, uniform, triangular, truncnormal, lognormal, pert"]
    assert len(by["policies[1].when"]) == 1 and "invalid condition 'ev failed'" in by["policies[1].when"][0]
    assert by["policies[2].rate"] == ["a tariff rate (a fraction, 0.25 = 25%) must be in [0, 5]; got 25"]
    assert by["policies[3].end"] == ["end 2026Q3 is before start 2027Q1"]
    assert "needs exactly one mineral" in by["policies[4].initial_t"][0]
    assert "covered_share needs a price_floor policy for region USA and mineral gallium" in by["policies[5].covered_share"][0]


# -- version 2 instruments: transshipment, export taxes, latent links ---------------------------

def test_transshipment_unknown_key(tmp_path):
    p, text = write(tmp_path, """
        policies:
          - name: ban
            type: export_restriction
            origin: CHN
            destinations: [USA]
            cap_share: 0
            transshipment:
              cots: 0.2
        """)
    ps = {x.path: x for x in problems(p)}
    pr = ps["policies[0].transshipment.cots"]
    assert pr.line == line_of(text, "cots")
    assert pr.message == "unknown key 'cots'; allowed: cost, capacity; did you mean cost?"
    # cost is required once the block is given
    assert ps["policies[0].transshipment.cost"].message == "required key 'cost' is missing"


def test_transshipment_negative_cost(tmp_path):
    p, text = write(tmp_path, """
        policies:
          - name: ban
            type: export_restriction
            origin: CHN
            cap_share: 0
            transshipment:
              cost: -0.1
          - name: ban2
            type: export_restriction
            origin: CHN
            cap_share: 0
            transshipment: {cost: {dist: uniform, low: -0.1, high: 0.3}}
        """)
    ps = {x.path: x for x in problems(p)}
    pr = ps["policies[0].transshipment.cost"]
    assert pr.line == line_of(text, "cost: -0.1")
    assert pr.message == "a transshipment cost (a fraction of the export price, 0.15 = 15%) must be in [0, 5]; got -0.1"
    assert "a transshipment cost" in ps["policies[1].transshipment.cost"].message
    assert "[-0.1, 0.3]" in ps["policies[1].transshipment.cost"].message


def test_transshipment_capacity_above_one(tmp_path):
    p, text = write(tmp_path, """
        policies:
          - name: ban
            type: export_restriction
            origin: CHN
            cap_share: 0
            transshipment:
              cost: 0.2
              capacity: 1.5
          - name: ban2
            type: export_restriction
            origin: CHN
            cap_share: 0
            transshipment: {cost: 0.2, capacity: unlimted}
        """)
    ps = {x.path: x for x in problems(p)}
    pr = ps["policies[0].transshipment.capacity"]
    assert pr.line == line_of(text, "capacity: 1.5")
    assert pr.message == ("a transshipment capacity (a share of the baseline flows to the restricted destinations) "
                          "must be in [0, 1]; got 1.5")
    assert ps["policies[1].transshipment.capacity"].message == (
        "capacity must be 'unlimited', a share in [0, 1] or a distribution; got 'unlimted'; did you mean unlimited?")


def test_leakage_and_transshipment_together(tmp_path):
    p, text = write(tmp_path, """
        policies:
          - name: ban
            type: export_restriction
            origin: CHN
            destinations: [USA]
            cap_share: 0
            leakage: {dist: uniform, low: 0.1, high: 0.3}
            transshipment:
              cost: 0.1
          - {name: fine, type: export_restriction, origin: CHN, cap_share: 0, leakage: 0, transshipment: {cost: 0.1}}
        """)
    pr = one(p, "policies[0].transshipment")
    assert pr.line == line_of(text, "transshipment:")
    assert pr.message.startswith("give either leakage (a free route, the version-1 shorthand) or transshipment")
    assert "not both" in pr.message and "{cost: 0, capacity: l x (1 - cap_share)}" in pr.message
    assert [x.path for x in problems(p)] == ["policies[0].transshipment"]  # leakage 0 is no leakage


def test_export_tax_unknown_field_and_region(tmp_path):
    p, text = write(tmp_path, """
        policies:
          - name: duty
            type: export_tax
            origin: CHINA
            destinations: [USA]
            rat: 0.2
          - {name: duty2, type: export_tx, origin: CHN, rate: 0.2}
        """)
    ps = {x.path: x for x in problems(p)}
    pr = ps["policies[0].rat"]
    assert pr.line == line_of(text, "rat: 0.2")
    assert "unknown key 'rat'; allowed: type, name, description, when, start, end, minerals, origin, destinations, rate" in pr.message
    assert pr.message.endswith("did you mean rate?")
    assert ps["policies[0].rate"].message == "required key 'rate' is missing"
    assert "unknown region 'CHINA'" in ps["policies[0].origin"].message and "did you mean CHN?" in ps["policies[0].origin"].message
    assert ps["policies[1].type"].message.endswith("did you mean export_tax?")
    assert "export_restriction, export_tax, stockpile" in ps["policies[1].type"].message


def test_export_tax_negative_rate_and_origin_only(tmp_path):
    p, text = write(tmp_path, """
        policies:
          - name: duty
            type: export_tax
            origin: CHN
            rate: -0.15
          - {name: duty2, type: export_tax, origin: CHN, destinations: [CHN], rate: 0.2}
          - {name: duty3, type: export_tax, origin: G7, rate: 15}
        """)
    ps = {x.path: x for x in problems(p)}
    pr = ps["policies[0].rate"]
    assert pr.line == line_of(text, "rate: -0.15")
    assert pr.message == "an export tax rate (a fraction, 0.2 = 20%) must be in [0, 5]; got -0.15"
    assert ps["policies[1].destinations"].message == "no destination other than the origin CHN"
    assert ps["policies[2].rate"].message == "an export tax rate (a fraction, 0.2 = 20%) must be in [0, 5]; got 15"


def test_trade_block_errors(tmp_path):
    p, text = write(tmp_path, """
        trade:
          latent_link_wieght: 0.01
        """)
    pr = one(p, "trade.latent_link_wieght")
    assert pr.line == line_of(text, "latent_link_wieght")
    assert pr.message == "unknown key 'latent_link_wieght'; allowed: latent_link_weight, baseline_restrictions_until; did you mean latent_link_weight?"
    p, text = write(tmp_path, "trade: {latent_link_weight: -0.001}\n", name="neg.yaml")
    assert one(p, "trade.latent_link_weight").message == "must be >= 0.0; got -0.001"
