"""Figures: every kind renders, and what is drawn is the data (medians, bands, bars, cells)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest_plots import (MINERALS, REGIONS, flow_frames, make_small_comparison, make_small_results,
                            morris_dict, sobol_dict, sweep_frame, tornado_frame)
from PIL import Image

from simsrc import plots as P
from simsrc.cli import main
from simsrc.errors import SimsrcError
from simsrc.results import Results


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    base = tmp_path_factory.mktemp("plots")
    return make_small_results(base), make_small_comparison(base)


@pytest.fixture(scope="module")
def res(folders):
    return Results(folders[0])


@pytest.fixture(scope="module")
def cmp_(folders):
    return Results(folders[1])


def _by_gid(fig, gid):
    found = [a for a in fig.findobj() if getattr(a, "get_gid", lambda: None)() == gid]
    assert found, f"no artist with gid {gid}"
    return found[0]


def _summary(r, mineral, output, region):
    s = r.summary
    return s[(s.mineral == mineral) & (s.output == output) & (s.region == region)].sort_values("period")


def _band_limits(coll, n):
    """Lower and upper edge of a fill_between polygon at x = 0..n-1."""
    v = coll.get_paths()[0].vertices
    lo = np.array([v[np.isclose(v[:, 0], x), 1].min() for x in range(n)])
    hi = np.array([v[np.isclose(v[:, 0], x), 1].max() for x in range(n)])
    return lo, hi


@pytest.mark.parametrize("output, factor", [("consumer_price", 1.0), ("net_import_reliance", 100.0)])
def test_fan_chart_draws_the_summary(res, output, factor):
    fig = P.fan_chart(res, output, "ndpr_oxide", "USA")
    s = _summary(res, "ndpr_oxide", output, "USA")
    n = len(s)
    assert n == 8
    np.testing.assert_allclose(_by_gid(fig, "median:USA").get_ydata(), s["p50"] * factor, rtol=1e-6)
    lo, hi = _band_limits(_by_gid(fig, "band90:USA"), n)
    np.testing.assert_allclose(lo, s["p5"] * factor, rtol=1e-6)
    np.testing.assert_allclose(hi, s["p95"] * factor, rtol=1e-6)
    lo, hi = _band_limits(_by_gid(fig, "band50:USA"), n)
    np.testing.assert_allclose(lo, s["p25"] * factor, rtol=1e-6)
    np.testing.assert_allclose(hi, s["p75"] * factor, rtol=1e-6)
    ax = fig.axes[0]
    unit = "USD/kg" if output == "consumer_price" else "%"
    assert ax.get_ylabel().endswith(f"({unit})")
    # calendar quarters on the x axis, from the manifest's horizon
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[0] == "Q1\n2026" and labels[4] == "Q1\n2027" and labels[1] == "Q2"
    cap = P.caption_of(fig)
    assert unit in cap and "simsrc 0.1.0, scenario s232_tariff, 50 draws" in cap
    assert "baseline data: dataset usgs2024" in cap
    assert _by_gid(fig, "caption").get_text().replace("\n", " ").startswith(cap[:40])


def test_fan_grid_one_panel_per_region_same_colour_as_elsewhere(res):
    fig = P.fan_grid(res, "consumer_price", "gallium")
    for reg in REGIONS:
        line = _by_gid(fig, f"median:{reg}")
        np.testing.assert_allclose(line.get_ydata(), _summary(res, "gallium", "consumer_price", reg)["p50"], rtol=1e-6)
        assert matplotlib.colors.to_hex(line.get_color()) == P.REGION_COLORS[reg].lower()
    bars = P.region_effects(res, "consumer_price", "gallium")
    for reg in REGIONS:
        assert matplotlib.colors.to_hex(_by_gid(bars, f"bar:{reg}").get_facecolor()) == P.REGION_COLORS[reg].lower()


def test_fan_grid_panels_share_one_unit(res):
    fig = P.fan_grid(res, "production", "ndpr_oxide")  # CHN in tens of kt, JPN zero: one scale
    s = res.summary
    s = s[(s.mineral == "ndpr_oxide") & (s.output == "production")]
    factor, label = P.display_scale("t/yr", s[["p5", "p95"]].to_numpy())
    assert label == "kt/yr"
    # JPN produces none in every draw: a panel without information is dropped, with a note
    assert fig.simsrc_scales["dropped"] == {"JPN": 0.0}
    assert "Not shown (the same value in every draw and period): JPN 0 kt/yr" in P.caption_of(fig)
    for reg in REGIONS:
        if reg == "JPN":
            assert not [a for a in fig.findobj() if getattr(a, "get_gid", lambda: None)() == "median:JPN"]
            continue
        np.testing.assert_allclose(_by_gid(fig, f"median:{reg}").get_ydata(),
                                   s[s.region == reg].sort_values("period")["p50"] * factor, rtol=1e-6)
    assert fig.get_supylabel() == "Production (kt/yr)"


@pytest.mark.parametrize("stat, column", [("mean", "mean"), ("median", "p50")])
def test_effect_bars_one_period_equal_the_summary(cmp_, stat, column):
    fig = P.region_effects(cmp_, "consumer_price", "ndpr_oxide", period="last", stat=stat)
    s = cmp_.summary
    s = s[(s.mineral == "ndpr_oxide") & (s.output == "consumer_price") & (s.period == 7)].set_index("region")
    for reg in REGIONS:
        assert _by_gid(fig, f"bar:{reg}").get_height() == pytest.approx(s.loc[reg, column], rel=1e-6)
    segs = _by_gid(fig, "interval").get_segments()
    for reg, seg in zip(REGIONS, segs):
        assert sorted(seg[:, 1]) == pytest.approx(sorted([s.loc[reg, "p5"], s.loc[reg, "p95"]]), rel=1e-6)
    assert fig.axes[0].get_ylabel() == "Change in consumer price (USD/kg)"
    assert "2027Q4" in P.caption_of(fig) and "scenario \u2212 counterfactual" in P.caption_of(fig)


def test_effect_bars_horizon_mean_equal_numpy(cmp_):
    fig = P.region_effects(cmp_, "consumer_price", "ndpr_oxide", period="mean")
    p = cmp_.paths(columns=["consumer_price", "converged"], mineral="ndpr_oxide")
    for reg in REGIONS:
        q = p[p.region == reg]
        v = q.consumer_price.to_numpy(float).reshape(50, 8)
        ok = q.converged.to_numpy().reshape(50, 8) > 0.5
        per_draw = np.nanmean(np.where(ok, v, np.nan), axis=1)
        # the headline statistic: the median across draws (docs/model.md sec. 6)
        assert _by_gid(fig, f"bar:{reg}").get_height() == pytest.approx(np.median(per_draw), rel=1e-6)


def test_npv_bars_and_welfare_distribution_equal_the_draws(res):
    d = res.draws
    d = d[(d.mineral == "ndpr_oxide") & (d.converged_share >= 1)]
    assert len(d) == 49 * len(REGIONS)  # draw 3 failed one solve: excluded, and said so
    fig = P.region_effects(res, "npv_net_welfare", "ndpr_oxide")
    factor, label = P.display_scale("USD", d.npv_net_welfare)
    assert label == "USD million"
    for reg in REGIONS:
        expect = np.median(d[d.region == reg].npv_net_welfare) * factor
        assert _by_gid(fig, f"bar:{reg}").get_height() == pytest.approx(expect, rel=1e-9)
    fig = P.welfare_distribution(res, "ndpr_oxide", "USA")
    us = d[d.region == "USA"]
    w = P.welfare_components(res, "ndpr_oxide", "USA")
    factor, label = P.display_scale("USD", w.to_numpy())
    for col, sign in P.WELFARE_COMPONENTS:
        if np.allclose(us[col], 0):
            continue
        med = _by_gid(fig, f"median:{col}").get_xdata()
        assert med[0] == pytest.approx(sign * np.median(us[col]) * factor, rel=1e-9)
    assert "levy revenue" in P.caption_of(fig)  # omitted because zero in every draw, and said so
    assert fig.axes[0].get_xlabel() == f"NPV ({label})"


def test_flows_tornado_sensitivity_and_sweep_draw_their_inputs():
    base, scen = flow_frames()
    fig = P.flow_panels(base, scen, "NdPr oxide flows")
    factor, _ = P.display_scale("t/yr", np.r_[base.to_numpy().ravel(), scen.to_numpy().ravel()])
    np.testing.assert_allclose(_by_gid(fig, "flows:baseline").get_array(), base.to_numpy() * factor)
    np.testing.assert_allclose(_by_gid(fig, "flows:change").get_array(), (scen - base).to_numpy() * factor)
    fig = P.supplier_bars(base, scen, "USA")
    assert _by_gid(fig, "scenario:CHN").get_width() == pytest.approx(scen.loc["CHN", "USA"])

    t = tornado_frame()
    fig = P.tornado(t, unit="USD/kg", outcome="US consumer price")
    for _, row in t.iterrows():
        for side in ("low", "high"):
            bar = _by_gid(fig, f"{side}:{row.parameter}")
            assert sorted([bar.get_x(), bar.get_x() + bar.get_width()]) == pytest.approx(sorted([75.0, row[side]]))
    ax = fig.axes[0]
    by_y = dict(zip(ax.get_yticks(), (x.get_text() for x in ax.get_yticklabels())))
    assert by_y[min(by_y)].startswith("demand_growth_sd") and by_y[max(by_y)].startswith("supply_elasticity_CHN")
    assert fig.axes[0].get_xlabel() == "US consumer price (USD/kg)"

    si = sobol_dict()
    fig = P.sobol_indices(si, outcome="US consumer price")
    for k, name in enumerate(si["names"]):
        assert _by_gid(fig, f"ST:{name}").get_width() == pytest.approx(si["ST"][k])
        assert _by_gid(fig, f"S1:{name}").get_width() == pytest.approx(si["S1"][k])
    mi = morris_dict()
    for kind in ("bar", "scatter"):
        fig = P.morris_indices(mi, unit="USD/kg", kind=kind)
    fig = P.morris_indices(mi, unit="USD/kg")
    assert _by_gid(fig, "mu_star:lead_time").get_width() == pytest.approx(0.6)

    sw = sweep_frame()
    fig = P.sweep_heatmap(sw, unit="USD/kg", outcome="Change in US consumer price")
    np.testing.assert_allclose(_by_gid(fig, "sweep").get_array(), sw.to_numpy())
    assert fig.axes[0].get_ylabel() == "tariff rate" and fig.axes[0].get_xlabel() == "floor (USD/kg)"


def test_real_salib_results_are_accepted():
    from SALib.analyze import morris, sobol
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample
    from SALib.test_functions import Ishigami

    prob = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
    x = sobol_sample.sample(prob, 64, seed=1)
    si = sobol.analyze(prob, Ishigami.evaluate(x), seed=1)  # names only in si.problem
    fig = P.sobol_indices(si)
    assert _by_gid(fig, "ST:x1").get_width() == pytest.approx(si["ST"][0])
    x = morris_sample.sample(prob, 10, seed=1)
    mi = morris.analyze(prob, x, Ishigami.evaluate(x), seed=1)
    fig = P.morris_indices(mi, kind="scatter")
    assert {t.get_text() for t in fig.axes[0].texts} == {"x1", "x2", "x3"}


def test_units_sources_periods():
    m = {"units": {"ndpr_oxide": {"price": "USD/t"}}, "dataset": "usgs2024"}
    assert P.output_unit("consumer_price", m, "ndpr_oxide") == "USD/t"
    assert P.output_unit("consumer_price", {"dataset": "usgs2024"}, "gallium") == "USD/kg"  # dataset fallback
    assert P.output_unit("consumer_price", {"dataset": "nowhere"}, "gallium") == "price unit not recorded"
    assert P.output_unit("npv_net_welfare") == "USD" and P.output_unit("share_CHN") == "share"
    assert P.display_scale("USD/yr", [3.2e7]) == (1e-6, "USD million/yr")
    assert P.display_scale("t/yr", [390_000]) == (1e-3, "kt/yr")
    assert P.display_scale("USD/kg", [1e9]) == (1.0, "USD/kg")
    assert P.period_labels({"start": "2026Q1", "period": "quarter"}, 5)[-1] == "2027Q1"
    assert P.period_labels({"start": "2026-07-01", "period": "quarter"}, 2) == ["2026Q3", "2026Q4"]
    assert P.period_labels({"start": "2026", "period": "year"}, 2) == ["2026", "2027"]
    assert P.period_labels(None, 2) == ["t=0", "t=1"]
    cmp_m = {"kind": "comparison", "scenario": "a", "counterfactual": "b", "draws": 10,
             "package_version": "0.1.0", "data_source": "USGS MCS 2025"}
    assert P.source_line(cmp_m) == ("simsrc 0.1.0, a vs b (paired differences, same draws), 10 draws; "
                                   "baseline data: USGS MCS 2025")
    colours = P.region_colors(["USA", "XXA", "CHN", "XXB"])
    assert colours["USA"] == P.REGION_COLORS["USA"] and colours["XXA"] != colours["XXB"]
    assert len(set(P.REGION_COLORS.values())) == len(P.REGION_COLORS)


def test_errors_name_what_is_allowed(res):
    with pytest.raises(SimsrcError, match=r"unknown mineral 'ndpr'.*gallium, ndpr_oxide"):
        P.fan_chart(res, mineral="ndpr")
    with pytest.raises(SimsrcError, match=r"unknown region 'usa'.*did you mean USA"):
        P.fan_chart(res, mineral="gallium", regions="usa")
    with pytest.raises(SimsrcError, match=r"unknown output 'price'.*consumer_price"):
        P.region_effects(res, "price")
    with pytest.raises(SimsrcError, match="per-draw output"):
        P.fan_chart(res, "npv_net_welfare")
    with pytest.raises(SimsrcError, match="unknown plot kind 'fans'.*did you mean fan"):
        P.figures_for(res, "fans")
    with pytest.raises(SimsrcError, match="no tornado table"):
        P.figures_for(res, "tornado")


def test_save_figure_publication_size(res, tmp_path):
    fig = P.fan_chart(res, "consumer_price", "ndpr_oxide", "USA")
    files = P.save_figure(fig, tmp_path / "fan", ("png", "svg", "pdf"))
    assert [f.suffix for f in files] == [".png", ".svg", ".pdf"]
    assert Image.open(files[0]).size == (1950, 1200)  # 6.5 x 4 in at 300 dpi
    assert all(f.stat().st_size > 20_000 for f in files)


def _cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_cli_plot_every_kind(folders, tmp_path):
    res_path, cmp_path = folders
    base, scen = flow_frames()
    flows = pd.DataFrame([{"mineral": "ndpr_oxide", "origin": o, "destination": d, "baseline": base.loc[o, d],
                           "scenario": scen.loc[o, d]} for o in base.index for d in base.columns])
    inputs = {"flows": flows, "tornado": tornado_frame(),
              "sobol": pd.DataFrame({"parameter": sobol_dict()["names"],
                                     **{k: sobol_dict()[k] for k in ("S1", "S1_conf", "ST", "ST_conf")}}),
              "morris": pd.DataFrame({"parameter": morris_dict()["names"],
                                      **{k: morris_dict()[k] for k in ("mu_star", "sigma", "mu_star_conf")}}),
              "sweep": sweep_frame().stack().rename("price_change").reset_index()}
    runs = [("fan", res_path, ["-m", "gallium", "-r", "USA"]),
            ("effects", cmp_path, ["-o", "npv_net_welfare"]), ("welfare", res_path, ["-m", "ndpr_oxide"])]
    for kind, df in inputs.items():
        f = tmp_path / f"{kind}.csv"
        df.to_csv(f, index=False)
        runs.append((kind, res_path, ["--input", f, "-o", "consumer_price", "-m", "ndpr_oxide", "-r", "USA"]
                     if kind in ("tornado", "morris", "sweep") else ["--input", f]))
    for kind, folder, extra in runs:
        out = tmp_path / "figs" / kind
        r = _cli("plot", folder, "--kind", kind, "--out", out, "--format", "png", "--dpi", 60, *extra)
        assert r.exit_code == 0, (kind, r.output)
        paths = r.output.split()
        assert paths and all(p.endswith(".png") for p in paths)
        for p in paths:
            im = Image.open(p)
            assert im.size[0] == 390 and im.size[1] >= 180  # 6.5 in wide (x 3 in or more) at 60 dpi
            assert np.asarray(im.convert("L")).std() > 5  # not blank
    effects = list((tmp_path / "figs" / "effects").glob("effects-*-npv_net_welfare.png"))
    assert len(effects) == len(MINERALS)  # one file per mineral by default


def test_cli_plot_defaults_and_errors(folders, tmp_path):
    res_path = folders[0]
    r = _cli("plot", res_path, "--kind", "effects", "-m", "gallium", "--out", tmp_path)
    assert r.exit_code == 0, r.output
    assert sorted(p.rsplit(".", 1)[1] for p in r.output.split()) == ["png", "svg"]
    for args, msg in [(["--kind", "fans"], "unknown plot kind 'fans'; known: effects, fan, flows"),
                      (["--kind", "fan", "-m", "Gallium"], "unknown mineral 'Gallium'; known: gallium, ndpr_oxide"),
                      (["--kind", "fan", "-r", "USA,CHINA"], "unknown region 'CHINA'; known: CHN, EU, JPN, USA"),
                      (["--kind", "fan", "-o", "price"], "unknown output 'price'"),
                      (["--kind", "fan", "--format", "jpg"], "unknown figure format(s) ['jpg']; allowed: png, svg, pdf"),
                      (["--kind", "sobol"], "holds no sobol table")]:
        r = _cli("plot", res_path, *args, "--out", tmp_path)
        assert r.exit_code == 1 and msg in r.output, (args, r.output)
    r = _cli("plot", tmp_path, "--kind", "fan")
    assert r.exit_code == 1 and "not a simsrc results folder" in r.output


def test_real_run_every_results_kind(tmp_path):
    """The engine's own results folder (not the synthetic one): every results kind renders and the
    fan chart still draws the summary."""
    from conftest_plots import make_real_run

    folder = make_real_run(tmp_path, draws=10)
    r = Results(folder)
    mineral = P.minerals_of(r)[0]
    fig = P.fan_grid(r, "consumer_price", mineral)
    s = r.summary
    for reg in P.regions_of(r, mineral):
        f = s[(s.mineral == mineral) & (s.output == "consumer_price") & (s.region == reg)].sort_values("period")
        if (f["n"] > 0).any():
            np.testing.assert_allclose(_by_gid(fig, f"median:{reg}").get_ydata(), f["p50"], rtol=1e-6)
    assert P.output_unit("consumer_price", r.manifest, mineral) == r.manifest["units"][mineral]["price"]
    for kind in ("effects", "welfare"):  # (fan drawn above)
        res = _cli("plot", folder, "--kind", kind, "-m", mineral, "--out", tmp_path / "figs", "--format", "png",
                   "--dpi", 50)
        assert res.exit_code == 0, res.output
        assert all(Image.open(p).size[0] == 325 for p in res.output.split())
