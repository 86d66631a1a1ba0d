"""`simsrc plot RESULTS --kind KIND` and `simsrc report RESULTS`."""

from __future__ import annotations

from pathlib import Path

import click

from . import main

_FORMATS = ("png", "svg", "pdf")


def _check_folder(results) -> None:
    """A results folder (not a batch) must open cleanly: a damaged manifest or Parquet file is
    reported, naming it, before any figure or report folder is created."""
    from ..results import Results

    p = Path(results)
    if not p.is_dir():
        raise click.BadParameter(f"{results}: no such folder", param_hint="'RESULTS'")
    if (p / "batch.json").exists() or not (p / "manifest.json").exists():
        return  # a batch, or a folder of tables (--input); the commands say what they need
    Results(p).check()


class _RemoveIfCreated:
    """On failure, removes what the command wrote: the output folders it created (with their
    content) and, in an output folder that existed, the files that were not there before."""

    def __init__(self, *folders):
        self.missing, self.before = [], {}
        for f in folders:
            f = Path(f)
            self.missing += [q for q in [f, *f.parents] if not q.exists() and q not in self.missing]
            if f.is_dir():
                self.before[f] = {p for p in f.rglob("*")}

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            import shutil
            for f, had in self.before.items():
                for p in sorted(set(f.rglob("*")) - had, reverse=True):
                    if p.is_dir() and not p.is_symlink():
                        shutil.rmtree(p, ignore_errors=True)
                    else:
                        p.unlink(missing_ok=True)
            if self.missing:  # the outermost folder this command created, with everything in it
                shutil.rmtree(self.missing[-1], ignore_errors=True)
        return False


@main.command("plot")
@click.argument("results", type=click.Path(file_okay=False))
@click.option("--kind", "-k", required=True,
              help="fan, effects, welfare, flows, tornado, sobol, morris or sweep.")
@click.option("--mineral", "-m", default=None, help="Mineral code (default: every mineral, one file each).")
@click.option("--region", "-r", default=None,
              help="Region code, or codes separated by commas. fan: one region per panel (default all); "
                   "effects: bars shown (default all); welfare: the region (default USA); "
                   "flows: the destination whose suppliers are shown (default: the full matrix).")
@click.option("--output", "-o", "output", default=None,
              help="Output name, e.g. consumer_price, net_import_reliance, npv_net_welfare "
                   "(fan/effects; for sensitivity kinds, names the outcome and its unit).")
@click.option("--period", default="mean", show_default=True,
              help="effects: 'mean' (horizon mean of each draw), 'last', a period number or a label like 2027Q4.")
@click.option("--input", "input_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="CSV or Parquet input for flows/tornado/sobol/morris/sweep (default: <kind>.parquet or "
                   "<kind>.csv in RESULTS).")
@click.option("--unit", default=None, help="Unit of a sensitivity outcome (default: the unit of --output).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Folder for the figures (default: RESULTS/figures).")
@click.option("--format", "formats", default="png,svg", show_default=True,
              help="Comma-separated formats: png (300 dpi), svg, pdf.")
@click.option("--dpi", default=300, show_default=True, type=click.IntRange(50, 1200), help="PNG resolution.")
@click.option("--sweep", default=None, help="Batch folders, --kind sweep: the sweep to draw (default: the first).")
@click.option("--measure", default="consumer price", show_default=True,
              help="Batch folders, --kind sweep: the headline measure (e.g. 'net welfare NPV').")
@click.option("--yscale", type=click.Choice(["auto", "shared", "per-panel", "log"]), default="auto", show_default=True,
              help="fan: y scale of the panels; auto: per panel (log where a band spans >10x) when ranges differ "
                   "by more than an order of magnitude, else shared.")
def plot(results, kind, mineral, region, output, period, input_file, unit, out_dir, formats, dpi, sweep, measure,
         yscale):
    """Draw one kind of figure from a results or comparison folder, at publication size.

    Writes one file per format (and per mineral when --mineral is not given) and prints the
    paths. Sensitivity kinds read a table (--input) in these columns: tornado: parameter, low,
    high, base [, low_value, high_value]; sobol: parameter, S1, S1_conf, ST, ST_conf; morris:
    parameter, mu_star, sigma, mu_star_conf; sweep: two parameter columns and the outcome
    (tidy), or a pivot with the first column as index; flows: origin, destination, baseline,
    scenario [, mineral].
    """
    from ..plots import figures_for, save_figure

    fmts = _formats(formats)
    _check_folder(results)
    with _RemoveIfCreated(Path(out_dir) if out_dir else Path(results) / "figures"):
        _plot(results, kind, mineral, region, output, period, input_file, unit, out_dir, fmts, dpi, sweep, measure,
              figures_for, save_figure, yscale)


def _plot(results, kind, mineral, region, output, period, input_file, unit, out_dir, fmts, dpi, sweep, measure,
          figures_for, save_figure, yscale="auto"):
    from ..results import safe_component

    if (Path(results) / "batch.json").exists():  # a batch folder: sweep charts from its catalogue
        from ..batch import Batch, sweep_figure
        if kind != "sweep":
            raise click.UsageError("a batch folder draws --kind sweep; other kinds are drawn from a member's folder "
                                   "(RESULTS/members/<id>)")
        b = Batch(results)
        sweeps = [s for s in dict.fromkeys(b.catalogue["sweep"]) if s]
        sweeps = [sweep] if sweep else sweeps[:1]
        out = Path(out_dir) if out_dir else Path(results) / "figures"
        for s in sweeps:
            fig = sweep_figure(b, s, measure, mineral, region or "USA")
            for p in save_figure(fig, out / safe_component(f"sweep-{s}-{measure.replace(' ', '_')}"), fmts, dpi=dpi):
                click.echo(str(p))
        return
    regions = [r.strip() for r in region.split(",") if r.strip()] if region else None
    out = Path(out_dir) if out_dir else Path(results) / "figures"
    for stem, fig in figures_for(results, kind, mineral=mineral, regions=regions, output=output,
                                 period=period, input_file=input_file, unit=unit, yscale=yscale):
        for p in save_figure(fig, out / safe_component(stem), fmts, dpi=dpi):
            click.echo(str(p))


@main.command("report")
@click.argument("results", type=click.Path(file_okay=False))
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Folder for the report (default: RESULTS/report).")
@click.option("--mineral", "-m", "minerals", multiple=True,
              help="Report only this mineral (repeat for several; default: all).")
@click.option("--dpi", default=150, show_default=True, type=click.IntRange(50, 1200),
              help="Resolution of the report's figures (PNG files and the images in the PDF).")
def report(results, out_dir, minerals, dpi):
    """Write a report of a results or comparison folder: report.md, report.html, report.pdf.

    Page one is a summary (the headline table, one key figure, drivers and caveats); then the
    scenario, its key assumptions (a comparison: the policies and events that differ from the
    counterfactual), per mineral the tables (median [5%, 95%]) and figures, each captioned.
    Figures are rendered once, in parallel worker processes.
    The HTML page is self-contained (figures inline); the Markdown file links figures/*.png.
    """
    _check_folder(results)
    with _RemoveIfCreated(Path(out_dir) if out_dir else Path(results) / "report"):
        _report(results, out_dir, minerals, dpi)


def _report(results, out_dir, minerals, dpi):
    from ..report import build_report

    if (Path(results) / "batch.json").exists():  # a batch folder: its catalogue and sweep charts
        from ..batch import batch_report
        written = batch_report(Path(results), Path(out_dir) if out_dir else None)
        click.echo(str(written["md"]))
        for f in written["figures"]:
            click.echo(str(f))
        return
    written = build_report(Path(results), Path(out_dir) if out_dir else None, dpi=dpi,
                           minerals=list(minerals) or None)
    for p in written.values():
        click.echo(str(p))


def _formats(text: str) -> tuple[str, ...]:
    from ..errors import SimsrcError

    fmts = tuple(f.strip().lower().lstrip(".") for f in text.split(",") if f.strip())
    bad = [f for f in fmts if f not in _FORMATS]
    if bad or not fmts:
        raise SimsrcError(f"unknown figure format(s) {bad or [text]}; allowed: {', '.join(_FORMATS)}")
    return fmts
