"""Reports: Markdown, self-contained HTML and PDF with the same captioned content."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import re
import shutil
import subprocess

import pytest
from click.testing import CliRunner
from conftest_plots import make_small_comparison, make_small_results
from PIL import Image

from simsrc import numbers as N
from simsrc import plots as P
from simsrc.cli import main
from simsrc.data import load_dataset
from simsrc.report import _markdown, report_content


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One report of the small run through the CLI: one mineral, low resolution, to stay fast
    (the visual check of the full report is by hand, see the commit message)."""
    base = tmp_path_factory.mktemp("report")
    folder = make_small_results(base)
    r = CliRunner().invoke(main, ["report", str(folder), "--out", str(base / "out"), "--dpi", "60",
                                  "--mineral", "gallium"])
    assert r.exit_code == 0, r.output
    paths = r.output.split()
    return folder, base / "out", paths


def test_report_files(built):
    folder, out, paths = built
    assert [p.rsplit(".", 1)[1] for p in paths] == ["md", "html", "pdf"]
    md, html, pdf = (out / f"report.{x}" for x in ("md", "html", "pdf"))
    pngs = sorted((out / "figures").glob("*.png"))
    # the summary's key figure, then per mineral: 2 fan grids, 2 bar charts, 1 welfare distribution
    assert len(pngs) == 6
    for p in pngs:
        assert Image.open(p).size[0] == 390  # 6.5 in at 60 dpi
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 50_000
    text = md.read_text()
    assert text.count("![Figure") == 6
    for ref in re.findall(r"\]\((figures/[^)]+)\)", text):
        assert (out / ref).exists()
    page = html.read_text()
    assert page.count('src="data:image/png;base64,') == 6
    assert not re.search(r'src="(?!data:)', page) and "<link" not in page  # self-contained


def test_report_content_units_intervals_assumptions(built):
    text = (built[1] / "report.md").read_text()
    # description and assumptions from manifest["scenario"]
    assert "Section 232 negotiation (180 days from 2026-01-14)" in text
    assert "s232_tariff (tariff, if section232.failed)" in text and "rate 0.25" in text
    assert "covered share pert(low=0.8, mode=0.9, high=1, lamb=4)" in text
    el = load_dataset("usgs2024").minerals["gallium"].elasticities  # the dataset's ranges, as run
    cells = [f"{c:g} [{lo:g}, {hi:g}]" for c, lo, hi in
             (el[k] for k in ("supply_elasticity", "demand_elasticity", "armington"))]
    assert "| gallium | " + " | ".join(cells) + " |" in text
    assert "lead time 3: Lead time L between investment and new capacity (years)." in text
    # page one: the summary, with the headline table
    assert text.index("## Summary") < text.index("## Scenario")
    assert "USA: headline outcomes, median [5th, 95th percentile] across draws" in text
    # headline tables: units in headers, median [p5, p95]
    assert "| Region | Consumer price (USD/kg) | Production (t/yr) | Net import reliance (%) |" in text
    assert re.search(r"\| USA \| [\d.]+ \[[\d.]+, [\d.]+\] \|", text)
    assert "net present value of welfare, USD million" in text
    # every figure caption states its unit and source
    caps = re.findall(r"\*Figure \d+\. (.+?)\*\n", text)
    assert len(caps) == 6
    for cap in caps:
        assert any(u in cap for u in ("USD/kg", "%", "USD million", "USD billion")), cap
        assert "Source: simsrc 0.1.0, scenario s232_tariff, 50 draws" in cap


def test_report_numbers_match_interval_table(built):
    folder = built[0]
    t = P.interval_table(folder, "consumer_price", "gallium", ["USA"], "mean").iloc[0]
    text = (built[1] / "report.md").read_text()
    # the headline statistic: the median and 5-95% interval, three significant digits
    assert f"| USA | {N.fmt_interval(t['median'], t['low'], t['high'], typeset=True)} |" in text


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) not installed")
def test_pdf_text_has_captions_and_tables(built):
    out = subprocess.run(["pdftotext", "-layout", str(built[1] / "report.pdf"), "-"], capture_output=True,
                         text=True, check=True).stdout
    for k in range(1, 7):
        assert f"Figure {k}." in out
    assert "Consumer price" in out and "(USD/kg)" in out and "Median [5th, 95th percentile]" in out
    assert out.index("Summary") < out.index("Key assumptions")
    assert "Key assumptions" in out


def test_comparison_report_content(tmp_path):
    folder = make_small_comparison(tmp_path)
    content = report_content(folder, minerals=["ndpr_oxide"])
    assert content["title"] == "s232_tariff vs no_tariff"
    assert "scenario \u2212 counterfactual" in content["subtitle"]
    tables = [b.table for b in content["blocks"] if b.kind == "table"]
    assert any("changes in prices" in t.title for t in tables)
    assert any("welfare changes" in t.title for t in tables)
    md = _markdown(content, {f.key: tmp_path / "figures" / f"{f.key}.png" for f in content["figures"]}, tmp_path)
    assert "Comparison: s232_tariff minus no_tariff, paired on the same draws" in md
    assert "Section 232 negotiation" in md and "Counterfactual: no_tariff" in md  # both resolved scenarios
    # only the policies and events that differ from the counterfactual
    assert "Policies and events that differ from the counterfactual" in md
    assert "Added policy: s232_tariff (tariff, if section232.failed)" in md
