"""Checks of the built-in usgs2024 baseline dataset (plain pandas reads of its CSVs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

DATA = Path(__file__).resolve().parents[1] / "simsrc" / "data" / "usgs2024"
REGIONS = ["USA", "CHN", "EU", "JPN", "KOR", "IND", "AUS", "CAN", "SEA", "IDN", "MMR", "COD", "RUS", "ROW"]
NIR_TOLERANCE = 0.05  # within 5 percentage points of a USGS point figure


def read(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / name, keep_default_na=False)


@pytest.fixture(scope="module")
def minerals() -> pd.DataFrame:
    return read("minerals.csv")


@pytest.fixture(scope="module")
def flows() -> pd.DataFrame:
    return read("flows.csv")


def matrix(flows: pd.DataFrame, mineral: str) -> pd.DataFrame:
    f = flows[flows["mineral"] == mineral]
    return f.pivot_table(index="origin", columns="destination", values="quantity", aggfunc="sum",
                         fill_value=0.0).reindex(index=REGIONS, columns=REGIONS, fill_value=0.0)


def test_regions_are_the_fixed_fourteen_with_groups():
    r = read("regions.csv")
    assert list(r.columns) == ["region", "name", "groups"]
    assert r["region"].tolist() == REGIONS
    groups: dict[str, set] = {}
    for reg, g in zip(r["region"], r["groups"]):
        for name in [x.strip() for x in g.split(";") if x.strip()]:
            groups.setdefault(name, set()).add(reg)
    assert groups["G7"] == {"USA", "CAN", "JPN", "EU"}
    assert groups["allies"] == groups["G7"] | {"AUS", "KOR", "IND"}
    assert groups["US_FTA"] == {"AUS", "CAN", "KOR", "JPN"}
    assert {"USA", "EU", "JPN", "KOR", "IND", "AUS", "CAN"} == groups["MSP"]
    assert not set(groups) & set(REGIONS)


def test_minerals_columns_units_and_count(minerals):
    cols = ["mineral", "name", "stage", "unit", "price", "price_unit", "price_date", "utilisation",
            "supply_elasticity", "supply_elasticity_low", "supply_elasticity_high",
            "demand_elasticity", "demand_elasticity_low", "demand_elasticity_high",
            "armington", "armington_low", "armington_high",
            "adjustment_speed", "adjustment_speed_low", "adjustment_speed_high",
            "backstop", "backstop_low", "backstop_high",
            "backstop_elasticity", "backstop_elasticity_low", "backstop_elasticity_high",
            "capex", "capex_low", "capex_high"]
    assert list(minerals.columns) == cols
    assert len(minerals) >= 8
    assert minerals["mineral"].is_unique
    assert (minerals["unit"] == "t").all()
    assert set(minerals["price_unit"]) <= {"USD/t", "USD/kg"}
    assert (minerals["price"].astype(float) > 0).all()
    util = pd.to_numeric(minerals["utilisation"].replace("", np.nan))
    assert ((util > 0) & (util <= 1) | util.isna()).all()


def test_elasticity_signs_and_ranges(minerals):
    for name, sign in (("supply_elasticity", 1), ("demand_elasticity", -1), ("armington", 1)):
        c = minerals[name].astype(float)
        lo = minerals[f"{name}_low"].astype(float)
        hi = minerals[f"{name}_high"].astype(float)
        for v in (c, lo, hi):
            assert (v * sign > 0).all(), name
        assert ((lo <= c) & (c <= hi)).all(), name
    for col in ("armington", "armington_low", "armington_high"):
        assert (np.abs(minerals[col].astype(float) - 1.0) > 1e-9).all()


def _triple(minerals, name):
    return (minerals[name].astype(float), minerals[f"{name}_low"].astype(float),
            minerals[f"{name}_high"].astype(float))


def test_armington_homogeneous_metals_and_graphite(minerals):
    """docs/model.md v2: refined metals and oxides are close to homogeneous (central >= 8, ranges far
    from 1); graphite concentrate, the most differentiated product, keeps its low end >= 3."""
    c, lo, hi = _triple(minerals.set_index("mineral"), "armington")
    refined = [m for m in c.index if m != "graphite"]
    assert (c[refined] >= 8).all() and (lo[refined] >= 4).all()
    assert c["graphite"] >= 4 and lo["graphite"] >= 3
    assert (lo <= c).all() and (c <= hi).all()
    # GTAP non-ferrous metals (Hertel et al. 2007): ESUBM 8.4 central, ESUBD 4.2 low (SOURCES.md)
    assert c["gallium"] == 8.4 and lo["gallium"] == 4.2 and hi["gallium"] == 16.8


def test_adjustment_speed_backstop_and_backstop_elasticity(minerals):
    m = minerals.set_index("mineral")
    a = _triple(m, "adjustment_speed")
    b = _triple(m, "backstop")
    e = _triple(m, "backstop_elasticity")
    d = _triple(m, "demand_elasticity")
    for v in a:
        assert ((v > 0) & (v <= 1)).all()
    for v in b:
        assert (v > 1).all() and np.isfinite(v).all()  # every built-in mineral has a backstop
    for v in e:
        assert (v < 0).all()
    for triple in (a, b, e):
        assert ((triple[1] <= triple[0]) & (triple[0] <= triple[2])).all()
    for bv, dv in zip(e, d):  # more elastic above the backstop than the long-run demand
        assert (bv.abs() >= dv.abs()).all()
    # gallium: Rotterdam about 2.6x the dataset price in March 2024 without a collapse of demand,
    # and USGS OFR 2024-1057's +150% for a total loss of Chinese supply lies below the backstop
    assert b[1]["gallium"] >= 2.5


def test_builtin_dataset_loads_with_v2_parameters():
    from simsrc.data import ALL_PARAMETER_KINDS, load_dataset
    ds = load_dataset("usgs2024")
    for md in ds.minerals.values():
        assert set(md.elasticities) == set(ALL_PARAMETER_KINDS)
        c, lo, hi = md.elasticities["backstop"]
        assert 1 < lo <= c <= hi < np.inf


def test_every_mineral_has_a_capex_range(minerals):
    """Investment cost (USD per t/yr of capacity): every built-in mineral has one, positive and
    finite, with low <= central <= high, and the loader reads the same numbers."""
    from simsrc.data import load_dataset
    c, lo, hi = _triple(minerals.set_index("mineral"), "capex")
    for v in (c, lo, hi):
        assert np.isfinite(v).all() and (v > 0).all()
    assert ((lo <= c) & (c <= hi)).all()
    ds = load_dataset("usgs2024")
    for m in minerals["mineral"]:
        assert ds.minerals[m].elasticities["capex"] == (c[m], lo[m], hi[m])


def test_sources_md_lists_every_capex(minerals):
    """The capex table of SOURCES.md ('Investment cost by mineral') states exactly the values of
    minerals.csv, and every mineral has a derivation paragraph."""
    import re
    text = (DATA / "SOURCES.md").read_text()
    section = text.split("### Investment cost by mineral", 1)[1].split("###", 1)[0]
    m = minerals.set_index("mineral")
    seen = set()
    for line in section.splitlines():
        cells = [x.strip() for x in line.strip().strip("|").split("|")]
        if not cells or cells[0] not in m.index:
            continue
        seen.add(cells[0])
        got = tuple(float(x.replace(",", "")) for x in re.match(r"(\S+) \[(\S+), (\S+)\]", cells[1]).groups())
        row = m.loc[cells[0]]
        assert got == (float(row["capex"]), float(row["capex_low"]), float(row["capex_high"])), cells[0]
        assert cells[2].startswith("USD per t/yr")
    assert seen == set(m.index)
    derivations = text.split("### Derivations", 1)[1].split("### Sources added for capex", 1)[0]
    for mineral in m.index:
        assert f"**{mineral}**" in derivations, mineral
    assert "/work" not in text and "../shared" not in text  # cite public sources, not local paths


def test_flows_nonnegative_known_regions_and_every_mineral_present(flows, minerals):
    assert list(flows.columns) == ["mineral", "origin", "destination", "quantity"]
    assert (flows["quantity"] > 0).all()  # zero rows are omitted, none negative
    assert set(flows["origin"]) <= set(REGIONS) and set(flows["destination"]) <= set(REGIONS)
    assert set(flows["mineral"]) == set(minerals["mineral"])
    assert not flows.duplicated(["mineral", "origin", "destination"]).any()


def test_world_production_and_consumption_positive_and_equal(flows, minerals):
    for m in minerals["mineral"]:
        x = matrix(flows, m).to_numpy()
        q, c = x.sum(axis=1), x.sum(axis=0)
        assert q.sum() > 0 and c.sum() > 0
        assert q.sum() == pytest.approx(c.sum(), rel=1e-12)


def test_tariffs_and_capacity_refer_to_known_names(minerals):
    t = read("tariffs.csv")
    assert list(t.columns) == ["mineral", "origin", "destination", "rate"]
    assert set(t["mineral"]) <= set(minerals["mineral"])
    assert set(t["origin"]) | set(t["destination"]) <= set(REGIONS)
    assert ((t["rate"] > 0) & (t["rate"] < 5)).all()
    cap = read("capacity.csv")
    assert list(cap.columns) == ["mineral", "region", "utilisation"]
    assert set(cap["mineral"]) <= set(minerals["mineral"]) and set(cap["region"]) <= set(REGIONS)
    assert ((cap["utilisation"] > 0) & (cap["utilisation"] <= 1)).all()


def test_capacity_overrides_match_raw_capacity_table():
    cap = read("capacity.csv")
    raw = read("raw/capacity.csv")
    merged = cap.merge(raw, on=["mineral", "region"], how="left")
    assert merged["capacity_t"].notna().all()
    assert np.allclose(merged["utilisation"], merged["production_t"] / merged["capacity_t"], atol=5e-4)


def us_nir(flows: pd.DataFrame, mineral: str) -> float:
    x = matrix(flows, mineral)
    q, c = x.loc["USA"].sum(), x["USA"].sum()
    return max(0.0, (c - q) / c)


def test_us_net_import_reliance_matches_usgs(flows, minerals):
    nir = read("usgs_nir.csv")
    assert list(nir.columns) == ["mineral", "usgs_nir", "usgs_label", "source"]
    assert set(nir["mineral"]) <= set(minerals["mineral"])
    assert len(nir) >= 5
    for _, row in nir.iterrows():
        got = us_nir(flows, row["mineral"])
        label = str(row["usgs_label"]).strip()
        if label.startswith(">"):
            assert got >= float(row["usgs_nir"]) - 1e-9, (row["mineral"], got, label)
        elif label.startswith("<"):
            assert got <= float(row["usgs_nir"]) + 1e-9, (row["mineral"], got, label)
        elif label.upper() == "E":
            assert got == 0.0, (row["mineral"], got)
        else:
            assert abs(got - float(row["usgs_nir"])) <= NIR_TOLERANCE, (row["mineral"], got, row["usgs_nir"])


def test_pinned_us_import_shares_are_reproduced(flows):
    imp = read("raw/us_import_sources.csv")
    pins = imp[imp["use"] == "pin"].copy()
    pins["share"] = pins["share"].astype(float)
    for (m, origin), share in pins.groupby(["mineral", "origin_region"])["share"].sum().items():
        x = matrix(flows, m)
        imports = x["USA"].sum() - x.loc["USA", "USA"]
        assert x.loc[origin, "USA"] / imports == pytest.approx(share, abs=1e-4), (m, origin)


def test_every_raw_source_id_is_registered():
    ids = set(read("raw/sources.csv")["source_id"])
    for name in ("production_by_country.csv", "consumption.csv", "us_import_sources.csv", "prices.csv",
                 "capacity.csv", "us_salient.csv", "adjustments.csv"):
        used = set(read(f"raw/{name}")["source_id"])
        assert used <= ids, (name, used - ids)


def test_build_script_regenerates_flows_identically(tmp_path):
    script = DATA / "build" / "build_flows.py"
    subprocess.run([sys.executable, str(script), "--out", str(tmp_path), "--quiet"], check=True,
                   capture_output=True, text=True)
    assert (tmp_path / "flows.csv").read_bytes() == (DATA / "flows.csv").read_bytes()


def test_sources_md_table_of_v2_values_matches_minerals_csv(minerals):
    """The 'Values by mineral' table of SOURCES.md states exactly the values of minerals.csv."""
    import re
    text = (DATA / "SOURCES.md").read_text()
    section = text.split("### Values by mineral", 1)[1].split("###", 1)[0]
    m = minerals.set_index("mineral")
    kinds = ["armington", "adjustment_speed", "backstop", "backstop_elasticity"]
    seen = set()
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not cells or cells[0] not in m.index:
            continue
        seen.add(cells[0])
        for kind, cell in zip(kinds, cells[1:]):
            c, lo, hi = map(float, re.match(r"(\S+) \[(\S+), (\S+)\]", cell).groups())
            row = m.loc[cells[0]]
            assert (c, lo, hi) == (float(row[kind]), float(row[f"{kind}_low"]), float(row[f"{kind}_high"])), (cells[0], kind)
    assert seen == set(m.index)
