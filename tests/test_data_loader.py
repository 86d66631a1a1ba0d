"""Dataset loader and the `simsrc data` commands: tables, net import reliance, clear errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from simsrc.cli import main
from simsrc.data import load_dataset
from simsrc.errors import InputError
from simsrc.units import UnitError, convert_price

TINY = Path(__file__).parent / "fixtures" / "tinydata"


def _copy(tmp_path) -> Path:
    d = tmp_path / "ds"
    shutil.copytree(TINY, d)
    return d


def _edit(path: Path, old: str, new: str):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_net_import_reliance_is_the_usgs_definition():
    ds = load_dataset(TINY)
    m = ds.minerals["gallium"]
    c, q = m.consumption, m.production
    us = ds.regions.index("USA")
    assert m.net_import_reliance[us] == pytest.approx(max(0.0, (c[us] - q[us]) / c[us]))
    assert np.allclose(m.flows.sum(axis=1), q) and np.allclose(m.flows.sum(axis=0), c)


def test_data_list_and_show_print_tables():
    r = CliRunner().invoke(main, ["data", "list"])
    assert r.exit_code == 0, r.output
    assert "US_net_import_reliance" in r.output and "gallium" in r.output and "groups:" in r.output
    r = CliRunner().invoke(main, ["data", "show", "cobalt"])
    assert r.exit_code == 0, r.output
    assert "net_import_reliance" in r.output and "76%" in r.output  # USGS: 76% (2024)
    assert "bilateral flows" in r.output


def test_data_show_unknown_mineral_suggests():
    r = CliRunner().invoke(main, ["data", "show", "galium"])
    assert r.exit_code == 1
    assert "unknown mineral 'galium'" in r.output and "did you mean gallium?" in r.output


@pytest.mark.parametrize("file,old,new,expected", [
    ("flows.csv", "gallium,CHN,USA,68.6", "gallium,CHN,USA,-68.6", "flows.csv:"),
    ("flows.csv", "gallium,CHN,USA,68.6", "gallium,CHINA,USA,68.6", "unknown region 'CHINA'"),
    ("minerals.csv", "600,USD/kg", "600,USD/m3", "unknown mass unit 'm3'"),
    ("minerals.csv", "3.0,2.0,5.0\ngermanium", "3.0,0.5,5.0\ngermanium", "crosses 1"),
    ("minerals.csv", "-0.4,-0.8,-0.2,3.0,2.0,5.0\ngermanium", "0.4,-0.8,-0.2,3.0,2.0,5.0\ngermanium",
     "demand elasticity must be negative"),
    ("tariffs.csv", "graphite,CHN,USA,0.25", "graphite,CHN,USA,25", "look like percentages"),
])
def test_bad_dataset_inputs_name_file_line_and_rule(tmp_path, file, old, new, expected):
    d = _copy(tmp_path)
    _edit(d / file, old, new)
    with pytest.raises(InputError) as e:
        load_dataset(d)
    msg = str(e.value)
    assert expected in msg
    assert str(d / file) in msg


def test_missing_file_and_every_problem_listed(tmp_path):
    d = _copy(tmp_path)
    (d / "regions.csv").unlink()
    with pytest.raises(InputError, match="regions.csv: file is missing"):
        load_dataset(d)
    d2 = tmp_path / "ds2"
    shutil.copytree(TINY, d2)
    _edit(d2 / "flows.csv", "gallium,CHN,USA,68.6", "gallium,CHN,USA,-1")
    _edit(d2 / "flows.csv", "gallium,JPN,USA,0.7", "gallium,JAPAN,USA,0.7")
    with pytest.raises(InputError) as e:
        load_dataset(d2)
    assert len(e.value.problems) >= 2


def test_price_units_convert_and_refuse():
    assert convert_price(110, "USD/kg", "USD/t") == pytest.approx(110_000)
    assert convert_price(1, "USD/lb", "USD/kg") == pytest.approx(1 / 0.45359237)
    with pytest.raises(UnitError, match="unknown currency .EUR."):
        convert_price(1, "USD/kg", "EUR/kg")


# --- optional version-2 columns: adjustment_speed, backstop, backstop_elasticity ---------------

V2_COLUMNS = ["adjustment_speed", "adjustment_speed_low", "adjustment_speed_high",
              "backstop", "backstop_low", "backstop_high",
              "backstop_elasticity", "backstop_elasticity_low", "backstop_elasticity_high"]
V2_VALUES = "0.4,0.2,0.7,4,3,6,-2,-4,-1.2"  # valid for every tinydata mineral (demand >= -1.0)


def _with_v2(tmp_path, values: dict | None = None, columns: list | None = None) -> Path:
    """tinydata copy whose minerals.csv has the optional columns; ``values`` maps a mineral to
    its nine cells (default V2_VALUES)."""
    d = _copy(tmp_path)
    f = d / "minerals.csv"
    cols = V2_COLUMNS if columns is None else columns
    out = []
    for line in f.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            out.append(line)
        elif line.startswith("mineral,"):
            out.append(line + "," + ",".join(cols))
        else:
            m = line.split(",", 1)[0]
            cells = (values or {}).get(m, V2_VALUES)
            out.append(line + "," + ",".join(cells.split(",")[:len(cols)]))
    f.write_text("\n".join(out) + "\n")
    return d


@pytest.mark.parametrize("name", ["tinydata", "gsim_example"])
def test_missing_v2_columns_take_defaults(name):
    ds = load_dataset(TINY if name == "tinydata" else name)
    for m in ds.minerals.values():
        el = m.elasticities
        assert el["adjustment_speed"] == (1.0, 1.0, 1.0)  # instant adjustment
        assert all(np.isinf(v) and v > 0 for v in el["backstop"])  # no backstop
        assert el["backstop_elasticity"] == el["demand_elasticity"]


def test_v2_columns_are_read_like_elasticities(tmp_path):
    d = _with_v2(tmp_path, {"gallium": "0.25,0.1,0.5,3,2,5,-3,-5,-2",
                            "graphite": ",,,,,,,,"})  # all blank: the defaults
    ds = load_dataset(d)
    ga = ds.minerals["gallium"].elasticities
    assert ga["adjustment_speed"] == (0.25, 0.1, 0.5)
    assert ga["backstop"] == (3.0, 2.0, 5.0)
    assert ga["backstop_elasticity"] == (-3.0, -5.0, -2.0)
    assert ds.minerals["germanium"].elasticities["backstop"] == (4.0, 3.0, 6.0)
    gr = ds.minerals["graphite"].elasticities
    assert gr["adjustment_speed"] == (1.0, 1.0, 1.0) and np.isinf(gr["backstop"][0])
    assert gr["backstop_elasticity"] == gr["demand_elasticity"]


def _assert_names_the_gallium_row(d, msg, column, expected):
    """The error names the rule, the column, the file and the gallium row's line."""
    assert expected in msg
    assert column in msg
    assert str(d / "minerals.csv") in msg
    lines = (d / "minerals.csv").read_text().splitlines()
    ga_line = next(k for k, line in enumerate(lines, 1) if line.startswith("gallium,"))
    assert f":{ga_line}:" in msg  # the line of the gallium row


@pytest.mark.parametrize("cells,column,expected", [
    ("0,0.2,0.7,4,3,6,-2,-4,-1.2", "gallium.adjustment_speed", "adjustment speed must be in (0, 1]"),
    ("0.4,0.2,1.5,4,3,6,-2,-4,-1.2", "gallium.adjustment_speed_high", "adjustment speed must be in (0, 1]"),
    ("0.4,0.2,0.7,4,0.9,6,-2,-4,-1.2", "gallium.backstop_low", "backstop must be a price index above 1"),
    ("0.4,0.2,0.7,4,3,6,2,-4,-1.2", "gallium.backstop_elasticity", "backstop elasticity must be negative"),
    # gallium's demand elasticity is -0.4 [-0.8, -0.2]: -0.3 is less elastic than -0.4
    ("0.4,0.2,0.7,4,3,6,-0.3,-4,-1.2", "gallium.backstop_elasticity",
     "need |backstop_elasticity| >= |demand_elasticity|"),
    ("0.4,0.2,0.7,4,3,6,-2,-4,-0.1", "gallium.backstop_elasticity_high",
     "need |backstop_elasticity_high| >= |demand_elasticity_high|"),
    ("0.4,0.5,0.7,4,3,6,-2,-4,-1.2", "gallium.adjustment_speed", "need adjustment_speed_low <= adjustment_speed"),
    ("0.4,0.2,0.7,4,5,6,-2,-4,-1.2", "gallium.backstop", "need backstop_low <= backstop <= backstop_high"),
    ("0.4,0.2,0.7,4,,6,-2,-4,-1.2", "gallium.backstop_low", "or leave all three blank"),
    ("0.4,0.2,0.7,4,3,inf,-2,-4,-1.2", "backstop_high", "must be finite"),
])
def test_bad_v2_values_name_file_line_column_and_rule(tmp_path, cells, column, expected):
    d = _with_v2(tmp_path, {"gallium": cells})
    with pytest.raises(InputError) as e:
        load_dataset(d)
    _assert_names_the_gallium_row(d, str(e.value), column, expected)


def test_v2_columns_go_in_threes(tmp_path):
    d = _with_v2(tmp_path, columns=V2_COLUMNS[:5])  # backstop_high missing
    with pytest.raises(InputError) as e:
        load_dataset(d)
    msg = str(e.value)
    assert "go together" in msg and "backstop_high" in msg and "no backstop" in msg


def test_every_scenario_elasticity_kind_is_in_the_dataset():
    """Scenarios draw and override `elasticities.MINERAL.KIND` for these kinds, read from the dataset;
    the cost parameter capex is one of them (drawn from its range, and overridable, like the rest)."""
    from simsrc.data import ALL_PARAMETER_KINDS, COST_KINDS, PARAMETER_KINDS
    from simsrc.scenario.model import ELASTICITY_KINDS, PARAMETER_RULES
    # the dataset's parameters (elasticities and the capex cost) are all scenario kinds, drawn
    # from their ranges like the elasticities
    assert set(ELASTICITY_KINDS) == set(PARAMETER_KINDS) | set(COST_KINDS)
    assert set(ELASTICITY_KINDS) <= set(PARAMETER_RULES)
    assert COST_KINDS == ("capex",)
    assert set(ALL_PARAMETER_KINDS) == set(PARAMETER_KINDS) | set(COST_KINDS)


def test_hand_built_mineral_data_gets_the_v2_defaults():
    from simsrc.data import MineralData
    md = MineralData(code="x", name="x", stage="", unit="t", price=1.0, price_unit="USD/t", price_date="2024",
                     regions=("A",), flows=np.ones((1, 1)), tariffs=np.zeros((1, 1)), utilisation=np.full(1, np.nan),
                     elasticities={"supply_elasticity": (1.0, 1.0, 1.0), "demand_elasticity": (-0.5, -0.9, -0.2),
                                   "armington": (8.0, 4.0, 16.0)})
    assert md.elasticities["adjustment_speed"] == (1.0, 1.0, 1.0)
    assert np.isinf(md.elasticities["backstop"]).all()
    assert md.elasticities["backstop_elasticity"] == (-0.5, -0.9, -0.2)
    assert np.isnan(md.elasticities["capex"]).all()  # no investment cost data


# --- optional cost columns: capex (USD per t/yr of capacity) ------------------------------------

CAPEX_COLUMNS = ["capex", "capex_low", "capex_high"]


def _with_capex(tmp_path, values: dict | None = None, columns: list | None = None,
                default: str = "20000,10000,40000") -> Path:
    """tinydata copy whose minerals.csv has the capex columns (``columns``, default all three);
    ``values`` maps a mineral to its cells (default ``default``)."""
    d = _copy(tmp_path)
    f = d / "minerals.csv"
    cols = CAPEX_COLUMNS if columns is None else columns
    out = []
    for line in f.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            out.append(line)
        elif line.startswith("mineral,"):
            out.append(line + "," + ",".join(cols))
        else:
            cells = (values or {}).get(line.split(",", 1)[0], default)
            out.append(line + "," + ",".join(cells.split(",")[:len(cols)]))
    f.write_text("\n".join(out) + "\n")
    return d


@pytest.mark.parametrize("name", ["tinydata", "gsim_example"])
def test_missing_capex_columns_mean_no_investment_cost_data(name):
    """Without the capex columns every mineral gets (NaN, NaN, NaN): no investment cost data."""
    ds = load_dataset(TINY if name == "tinydata" else name)
    for m in ds.minerals.values():
        assert len(m.elasticities["capex"]) == 3
        assert np.isnan(m.elasticities["capex"]).all()


def test_capex_columns_are_read_like_parameters(tmp_path):
    d = _with_capex(tmp_path, {"gallium": "2000000,95000,6400000", "graphite": ",,",  # blank: no data
                               "antimony": "6000,6000,6000"})
    ds = load_dataset(d)
    assert ds.minerals["gallium"].elasticities["capex"] == (2000000.0, 95000.0, 6400000.0)
    assert ds.minerals["germanium"].elasticities["capex"] == (20000.0, 10000.0, 40000.0)
    assert ds.minerals["antimony"].elasticities["capex"] == (6000.0, 6000.0, 6000.0)
    assert np.isnan(ds.minerals["graphite"].elasticities["capex"]).all()
    # the behavioural parameters keep their defaults, and capex goes with the v2 columns too
    assert ds.minerals["gallium"].elasticities["adjustment_speed"] == (1.0, 1.0, 1.0)
    d2 = _with_v2(tmp_path / "v2", columns=V2_COLUMNS + CAPEX_COLUMNS,
                  values={m: V2_VALUES + ",30000,15000,60000" for m in
                          ("ndpr_oxide", "dytb_oxide", "gallium", "germanium", "antimony", "graphite")})
    el = load_dataset(d2).minerals["gallium"].elasticities
    assert el["capex"] == (30000.0, 15000.0, 60000.0) and el["backstop"] == (4.0, 3.0, 6.0)


@pytest.mark.parametrize("cells,column,expected", [
    ("0,10000,40000", "gallium.capex", "capex must be a positive capital cost in USD per (t/yr)"),
    ("20000,-1,40000", "gallium.capex_low", "capex must be a positive capital cost in USD per (t/yr)"),
    ("20000,30000,40000", "gallium.capex", "need capex_low <= capex <= capex_high; got 30000, 20000, 40000"),
    ("20000,10000,15000", "gallium.capex", "need capex_low <= capex <= capex_high"),
    ("20000,,40000", "gallium.capex_low", "or leave all three blank"),
    ("20000,10000,inf", "capex_high", "must be finite"),
    ("20000,10000,lots", "capex_high", "must be a number, got 'lots'"),
])
def test_bad_capex_values_name_file_line_column_and_rule(tmp_path, cells, column, expected):
    d = _with_capex(tmp_path, {"gallium": cells})
    with pytest.raises(InputError) as e:
        load_dataset(d)
    _assert_names_the_gallium_row(d, str(e.value), column, expected)


def test_capex_columns_go_in_threes(tmp_path):
    d = _with_capex(tmp_path, columns=CAPEX_COLUMNS[:2])  # capex_high missing
    with pytest.raises(InputError) as e:
        load_dataset(d)
    msg = str(e.value)
    assert "go together" in msg and "capex_high" in msg and "no investment cost data" in msg
    assert f"{d / 'minerals.csv'}:1" in msg
