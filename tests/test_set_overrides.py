"""`--set KEY=VALUE` (issue 14, item 1): a dotted path into the scenario, list elements by name,
validated like the file; the run equals the same values written in a YAML file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from simsrc.cli import main
from simsrc.errors import InputError
from simsrc.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
S232 = ROOT / "scenarios" / "section232_negotiation.yaml"


def test_set_equals_the_same_value_in_a_file(tmp_path):
    # the same scenario written out with the two values changed (beside the original, so that
    # its relative paths resolve alike)
    child = S232.parent / f".test_set_{tmp_path.name}.yaml"
    text = S232.read_text().replace("    rate: 0.25\n    mode: add", "    rate: 0.4\n    mode: add")
    assert "rate: 0.4" in text
    child.write_text(text + "\ndraws: 16\n" if "\ndraws:" not in text else text)
    a = CliRunner().invoke(main, ["run", str(S232), "--set", "draws=16", "--set", "policies.s232_tariff.rate=0.4",
                                  "--out", str(tmp_path / "a")])
    try:
        b = CliRunner().invoke(main, ["run", str(child), "--out", str(tmp_path / "b")])
    finally:
        child.unlink()
    assert a.exit_code == 0 and b.exit_code == 0, a.output + b.output
    pa = pd.read_parquet(next((tmp_path / "a").glob("*/paths.parquet")))
    pb = pd.read_parquet(next((tmp_path / "b").glob("*/paths.parquet")))
    pd.testing.assert_frame_equal(pa, pb)
    import json
    man = json.loads(next((tmp_path / "a").glob("*/manifest.json")).read_text())
    assert [p for p in man["scenario"]["policies"] if p["name"] == "s232_tariff"][0]["rate"] == 0.4


@pytest.mark.parametrize("sets, message", [
    (["policies.s232_tarif.rate=0.4"], "did you mean s232_tariff"),
    (["policies.s232_tariff.rat=0.4"], "did you mean rate"),
    (["draws=-5"], "must be > 0"),
    (["horizon.periods=abc"], "whole number"),
    (["nokey"], "write KEY=VALUE"),
])
def test_bad_set_names_the_key_and_what_is_allowed_and_writes_nothing(tmp_path, sets, message):
    with pytest.raises(InputError) as err:
        load_scenario(S232, sets=sets)
    assert "--set" in str(err.value) and message in str(err.value)
    args = ["run", str(S232), "--out", str(tmp_path / "out")]
    for s in sets:
        args += ["--set", s]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 1 and not (tmp_path / "out").exists()


def test_set_reaches_distribution_fields_and_optional_blocks():
    s = load_scenario(S232, sets=["events.section232.success_probability.mode=0.3",
                                  "trade.latent_link_weight=0.002"])
    ev = [e for e in s.events if e.name == "section232"][0]
    assert ev.success_probability.mode == 0.3 and s.trade.latent_link_weight == 0.002
