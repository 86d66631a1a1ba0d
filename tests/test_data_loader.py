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
