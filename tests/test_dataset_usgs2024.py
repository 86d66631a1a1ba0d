"""Checks of the built-in usgs2024 baseline dataset (plain pandas reads of its CSVs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

DATA = Path(__file__).resolve().parents[1] / "simsrc" / "data" / "usgs2024"
REGIONS = ["USA", "CHN", "EU", "JPN", "KOR", "IND", "AUS", "CAN", "SEA", "IDN", "MMR", "COD", "RUS", "ZAF", "BRA", "ROW"]
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


def test_regions_are_the_fixed_sixteen_with_groups():
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
    assert len(minerals) >= 20
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


def test_armington_ranges_stay_far_from_one(minerals):
    """docs/model.md v2: refined metals and oxides are close to homogeneous (central 8.4, low 4.2);
    no built-in range comes near 1 (a variety removed by a ban must not blow up the CES price)."""
    c, lo, hi = _triple(minerals.set_index("mineral"), "armington")
    assert (lo >= 2).all() and (c >= 3).all()
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


def test_every_mineral_has_a_capex_range_or_says_why_not(minerals):
    """Investment cost (USD per t/yr of capacity): positive and finite with low <= central <= high,
    read identically by the loader; a blank (no investment cost charged) only with a note in
    raw/parameters.csv saying why."""
    from simsrc.data import load_dataset
    m = minerals.set_index("mineral")
    blank = m["capex"] == ""
    par = read("raw/parameters.csv")
    for mineral in m.index[blank]:
        note = par[(par["mineral"] == mineral) & (par["parameter"] == "capex")]["note"].iloc[0]
        assert len(note) > 20, mineral
    assert blank.sum() <= 2
    c, lo, hi = _triple(m[~blank], "capex")
    for v in (c, lo, hi):
        assert np.isfinite(v).all() and (v > 0).all()
    assert ((lo <= c) & (c <= hi)).all()
    ds = load_dataset("usgs2024")
    for mineral in m.index[~blank]:
        assert ds.minerals[mineral].elasticities["capex"] == (c[mineral], lo[mineral], hi[mineral])
    for mineral in m.index[blank]:
        assert np.isnan(ds.minerals[mineral].elasticities["capex"][0])


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
    raw = raw[(raw["production_t"] != "") & (raw["capacity_t"] != "")]
    raw = raw[raw["production_t"].astype(float) > 0]  # idle or reference-only rows are not capacity limits
    raw = raw.assign(capacity_t=raw["capacity_t"].astype(float), production_t=raw["production_t"].astype(float))
    merged = cap.merge(raw, on=["mineral", "region"], how="left")
    assert merged["capacity_t"].notna().all()
    assert np.allclose(merged["utilisation"], merged["production_t"] / merged["capacity_t"], atol=5e-4)


def us_nir(flows: pd.DataFrame, mineral: str) -> float:
    x = matrix(flows, mineral)
    q, c = x.loc["USA"].sum(), x["USA"].sum()
    return max(0.0, (c - q) / c)


def test_us_net_import_reliance_matches_usgs(flows, minerals):
    nir = read("usgs_nir.csv")
    assert list(nir.columns) == ["mineral", "usgs_nir", "usgs_label", "source", "comparable", "reason"]
    assert set(nir["mineral"]) <= set(minerals["mineral"])
    assert (nir.loc[nir["comparable"] == "no", "reason"] != "").all()  # a skipped comparison says why
    nir = nir[nir["comparable"] == "yes"]
    assert len(nir) >= 18
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


def pins() -> pd.DataFrame:
    imp = read("raw/import_sources.csv")
    p = imp[imp["use"] == "pin"].copy()
    p["share"] = p["share"].astype(float)
    return p


def test_every_published_import_share_is_reproduced_within_5_points(flows):
    """Every pinned import-source share (importer's imports from an origin region, the origin's
    countries summed) is within 5 percentage points of the dataset's flows; the builder in fact
    matches them to 1e-4."""
    p = pins()
    assert p["importer"].nunique() >= 5  # USA, JPN, KOR, EU, IND, CHN, ... not only the US
    exact = 0
    for (m, imp, origin), share in p.groupby(["mineral", "importer", "origin_region"])["share"].sum().items():
        x = matrix(flows, m)
        imports = x[imp].sum() - x.loc[imp, imp]
        got = x.loc[origin, imp] / imports
        assert abs(got - share) <= 0.05, (m, imp, origin, got, share)
        exact += abs(got - share) < 1e-3
    assert exact >= 0.9 * len(p.groupby(["mineral", "importer", "origin_region"]))  # the rest: every producer pinned


def test_import_shares_table_lists_every_pin_with_its_source():
    table = read("import_shares.csv")
    p = pins().groupby(["mineral", "importer", "origin_region"])["share"].sum()
    assert len(table) == len(p)
    for r in table.itertuples():
        assert r.source_id and abs(r.published_share - p[(r.mineral, r.importer, r.origin)]) < 1e-4


def test_two_way_trade(flows):
    """No 'own output first': where a region both produces and consumes, the prior lets it import
    and export at once (e.g. Japan buys Chinese NdPr oxide; Korea Chinese graphite)."""
    x = matrix(flows, "graphite")
    assert x.loc["CHN", "KOR"] / (x["KOR"].sum() - x.loc["KOR", "KOR"]) > 0.85
    n_two_way = 0
    for m in flows["mineral"].unique():
        x = matrix(flows, m).to_numpy()
        exports = x.sum(axis=1) - np.diag(x)
        imports = x.sum(axis=0) - np.diag(x)
        n_two_way += int(((exports > 0) & (imports > 0)).sum())
    assert n_two_way >= 2 * flows["mineral"].nunique()


RAW_WITH_SOURCES = ("production_by_country.csv", "consumption.csv", "import_sources.csv", "prices.csv",
                    "capacity.csv", "us_salient.csv", "adjustments.csv", "parameters.csv")


def test_every_raw_source_id_is_registered():
    ids = set(read("raw/sources.csv")["source_id"]) | {"derived", "assumption"}
    for name in RAW_WITH_SOURCES:
        used = {s for cell in read(f"raw/{name}")["source_id"] for s in cell.split(";")} - {""}
        assert used <= ids, (name, used - ids)


def test_every_figure_of_every_mineral_has_a_source(minerals):
    """Each mineral has production, consumption, a price and all parameters, each row with a
    registered source (or the tag 'derived'/'assumption' with a note), and a section in SOURCES.md."""
    text = (DATA / "SOURCES.md").read_text()
    assert "/work" not in text and "../shared" not in text  # cite public sources, not local paths
    for m in minerals["mineral"]:
        assert f"### {m} — " in text, f"SOURCES.md has no section for {m}"
        for name in ("production_by_country.csv", "consumption.csv", "prices.csv", "parameters.csv"):
            rows = read(f"raw/{name}")
            rows = rows[rows["mineral"] == m]
            assert len(rows), (m, name)
            assert (rows["source_id"] != "").all(), (m, name)
    par = read("raw/parameters.csv")
    assert set(par["status"]) <= {"P", "S", "D", "A"}
    assert (par.loc[par["source_id"] == "assumption", "note"] != "").all()
    assert (par["horizon"] != "").all()


GENERATED = ("flows.csv", "minerals.csv", "capacity.csv", "import_shares.csv", "PARAMETERS.md")


def test_build_script_regenerates_every_generated_file_identically(tmp_path):
    script = DATA / "build" / "build_dataset.py"
    subprocess.run([sys.executable, str(script), "--out", str(tmp_path), "--quiet"], check=True,
                   capture_output=True, text=True)
    for name in GENERATED:
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name


def test_data_coverage_lists_the_usgs_reliance_lists():
    from click.testing import CliRunner
    from simsrc.cli import main
    res = CliRunner().invoke(main, ["data", "coverage"])
    assert res.exit_code == 0, res.output
    assert "USGS: 100% net import reliant" in res.output and "at least 50%" in res.output
    lst = read("usgs_nir_list.csv")
    assert (lst["list"] == "100").sum() >= 12
    covered = lst[lst["dataset_minerals"] != ""]
    assert (covered["list"] == "100").sum() >= 5
    assert (lst.loc[lst["dataset_minerals"] == "", "reason"] != "").all()  # every gap says why
    n = int(res.output.strip().splitlines()[-1].split()[0])
    assert n >= 20
