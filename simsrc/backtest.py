"""Historical backtests: run an episode's scenario and compare its paths with observed targets.

An episode is an entry of ``scenarios/backtests/episodes.yaml``: a scenario file, a CSV of
observed targets (``date,series,region,mineral,value,unit,source_id,note``), the in-sample
window (the periods whose targets informed the parameter ranges; every other target is
out-of-sample) and aggregates (a target over several minerals, e.g. all rare earths, as the sum
of the episode's minerals divided by their share of the aggregate).

Each target is matched to the model's output in its period (a quarter like ``2011Q3``, or a year:
the mean of its periods for prices, the sum over its periods for tonnages), across draws: the
median and the 5th-95th percentile band, and whether the observed value falls inside.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from .errors import InputError, Problem, SimsrcError, unknown_name_message
from .scenario.timeline import parse_time, period_start
from .units import convert_price

EPISODES_FILE = Path("scenarios") / "backtests" / "episodes.yaml"
TARGET_COLUMNS = ["date", "series", "region", "mineral", "value", "unit", "source_id", "note"]
BAND = (0.05, 0.95)

#: Target series -> (model output, kind); kind "price" is averaged over a year's periods and
#: converted to the target's price unit, "tonnes" is a t/yr rate summed into tonnes per period.
SERIES = {
    "fob_price": ("fob_price", "price"),
    "domestic_price": ("origin_price", "price"),
    "price_outside_china": ("consumer_price", "price"),
    "fob_domestic_ratio": (("fob_price", "origin_price"), "ratio"),
    "export_volume": ("exports", "tonnes"),
    "imports": ("imports", "tonnes"),
    "production": ("production", "tonnes"),
}


@dataclass
class Episode:
    name: str
    scenario: Path
    targets: Path
    in_sample: tuple | None
    aggregates: dict
    description: str
    calibration_year: int | None = None


def load_episodes(path: Path | str = EPISODES_FILE) -> dict[str, Episode]:
    """Episodes of a backtest index file (``episodes.yaml``), keyed by name."""

    path = Path(path)
    if not path.exists():
        raise SimsrcError(f"{path}: backtest index not found (run from the project folder, or give --episodes)")
    from .errors import InputError
    from .scenario.yamlio import read_yaml

    data, _, problems = read_yaml(path)
    if problems and data is None:
        raise InputError(problems)
    data = data or {}
    if not isinstance(data, dict):
        raise SimsrcError(f"{path}: a backtest index is a mapping of episode names to episodes")
    out = {}
    for name, e in data.items():
        missing = [k for k in ("scenario", "targets") if k not in (e or {})]
        if missing:
            raise InputError([Problem(str(path), f"episode {name!r} lacks {missing}", path=name)])
        window = e.get("in_sample")
        out[name] = Episode(name=name, scenario=path.parent / e["scenario"], targets=path.parent / e["targets"],
                            in_sample=tuple(parse_time(str(x)) for x in window) if window else None,
                            aggregates=e.get("aggregates") or {}, description=e.get("description", ""),
                            calibration_year=e.get("calibration_year"))
    return out


def read_targets(path: Path) -> pd.DataFrame:
    t = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in TARGET_COLUMNS if c not in t.columns]
    if missing:
        raise InputError([Problem(str(path), f"missing column(s) {missing}; required: {TARGET_COLUMNS}", line=1)])
    t["line"] = np.arange(2, len(t) + 2)
    t["value"] = pd.to_numeric(t["value"], errors="coerce")
    bad = t[t["value"].isna()]
    if len(bad):
        raise InputError([Problem(str(path), "value must be a number", path="value", line=int(bad["line"].iloc[0]))])
    return t


def _periods_of(date: str, horizon: dict) -> list[int]:
    """Model periods a target date covers: one quarter (``2011Q3``), every period of a year
    (``2011``) or of a range (``2011Q1-2011Q3``: a cumulative or average figure)."""
    s = date.strip()
    if "Q" in s and "-" in s:  # a range of quarters (an ISO date has no Q)
        a, b = s.split("-", 1)
        first, last = _periods_of(a, horizon), _periods_of(b, horizon)
        return list(range(first[0], last[-1] + 1)) if first and last else []
    starts = [pd.Timestamp(period_start(_H(horizon), k)) for k in range(horizon["periods"])]
    if len(s) == 4 and s.isdigit():
        return [k for k, d in enumerate(starts) if d.year == int(s)]
    d = pd.Timestamp(parse_time(s))
    return [k for k, st in enumerate(starts) if st <= d < (starts[k + 1] if k + 1 < len(starts) else st + pd.DateOffset(years=1))][:1]


def _H(h: dict) -> SimpleNamespace:
    """A manifest's horizon as the object the timeline functions take."""
    return SimpleNamespace(start=parse_time(h["start"]), periods=h["periods"], period=h["period"])


def compare_targets(results_path, episode: Episode, targets: pd.DataFrame, paths: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per target: the model's median and 5-95% band in the target's period and unit,
    whether the observation is inside, in- or out-of-sample, or why it is not compared."""
    from .results import Results

    res = Results(results_path)
    man = res.manifest
    horizon = man["horizon"]
    dt = {"quarter": 0.25, "year": 1.0, "month": 1 / 12}[horizon["period"]]
    if paths is None:
        paths = pd.read_parquet(Path(results_path) / "paths.parquet")
    units = man.get("units", {})
    rows = []
    for t in targets.itertuples(index=False):
        row = {"date": t.date, "series": t.series, "region": t.region, "mineral": t.mineral, "observed": t.value,
               "unit": t.unit, "source_id": t.source_id, "median": np.nan, "p5": np.nan, "p95": np.nan,
               "inside": np.nan, "sample": "", "status": ""}
        ks = _periods_of(t.date, horizon)
        d0 = t.date.split("-")[0] if "Q" in t.date else t.date
        first = pd.Timestamp(parse_time(d0 if not (len(d0) == 4 and d0.isdigit()) else f"{d0}-01-01"))
        if episode.calibration_year and first.year == episode.calibration_year:
            row["sample"] = "calibration"  # the data year: the baseline reproduces it by construction
        else:
            row["sample"] = ("in" if episode.in_sample and episode.in_sample[0] <= first.date() <= episode.in_sample[1]
                             else "out")
        if t.series not in SERIES:
            row["status"] = f"not compared: series {t.series!r} has no model output"
            rows.append(row)
            continue
        if not ks:
            row["status"] = "not compared: outside the horizon"
            rows.append(row)
            continue
        minerals = [t.mineral]
        scale = 1.0
        if t.mineral in episode.aggregates:
            agg = episode.aggregates[t.mineral]
            minerals, scale = list(agg["minerals"]), 1.0 / float(agg.get("share_of_total", 1.0))
        if any(m not in units for m in minerals):
            row["status"] = f"not compared: mineral {t.mineral!r} not in the run"
            rows.append(row)
            continue
        output, kind = SERIES[t.series]
        sel = paths[(paths["region"] == t.region) & paths["period"].isin(ks) & paths["mineral"].isin(minerals)]
        if sel.empty:
            row["status"] = f"not compared: region {t.region!r} not in the run"
            rows.append(row)
            continue
        if kind == "ratio":
            num, den = output
            per = sel.assign(v=sel[num] / sel[den]).groupby("draw")["v"].mean()
        elif kind == "price":
            if len(minerals) != 1:
                row["status"] = "not compared: a price of an aggregate"
                rows.append(row)
                continue
            per = sel.groupby("draw")[output].mean()
            have = units[minerals[0]]["price"]
            if t.unit != have:
                per = per.map(lambda v: convert_price(v, have, t.unit))
        else:  # tonnes: t/yr rates summed over minerals, times the periods' length
            per = sel.groupby(["draw", "period"])[output].sum().groupby("draw").sum() * dt * scale
        q = per.quantile([BAND[0], 0.5, BAND[1]])
        row.update(median=float(q.iloc[1]), p5=float(q.iloc[0]), p95=float(q.iloc[2]))
        row["inside"] = bool(q.iloc[0] <= t.value <= q.iloc[2])
        row["status"] = "compared"
        rows.append(row)
    return pd.DataFrame(rows)


def summary_counts(table: pd.DataFrame) -> dict:
    c = table[table["status"] == "compared"]
    out = {}
    for s in ("in", "out", "calibration"):
        part = c[c["sample"] == s]
        out[s] = (int(part["inside"].sum()), len(part))
    out["not_compared"] = int((table["status"] != "compared").sum())
    return out


def backtest_figures(results_path, table: pd.DataFrame, paths: pd.DataFrame | None = None) -> list[tuple[str, object]]:
    """One figure per (mineral, series, region) with compared price targets: the model's median
    and 5-95% band per period, observed points (filled: in-sample; open: out-of-sample)."""
    import matplotlib.pyplot as plt

    from .results import Results

    res = Results(results_path)
    horizon = res.manifest["horizon"]
    starts = [pd.Timestamp(period_start(_H(horizon), k)) for k in range(horizon["periods"])]
    if paths is None:
        paths = pd.read_parquet(Path(results_path) / "paths.parquet")
    units = res.manifest.get("units", {})
    figs = []
    comp = table[(table["status"] == "compared") & table["series"].isin(["fob_price", "domestic_price", "price_outside_china"])]
    for (m, series, region), g in comp.groupby(["mineral", "series", "region"], sort=True):
        output = SERIES[series][0]
        sel = paths[(paths["mineral"] == m) & (paths["region"] == region)]
        q = sel.groupby("period")[output].quantile([BAND[0], 0.5, BAND[1]]).unstack()
        unit = units[m]["price"]
        fig, ax = plt.subplots(figsize=(7.5, 4.0))
        x = [starts[k] for k in q.index]
        ax.fill_between(x, q[BAND[0]], q[BAND[1]], alpha=0.25, color="#4C72B0", label="model 5-95%")
        ax.plot(x, q[0.5], color="#4C72B0", lw=1.8, label="model median")
        for sample, marker, face, label in (("calibration", "s", "#999999", "observed, data year"),
                                            ("in", "o", "#C44E52", "observed, in-sample"),
                                            ("out", "o", "none", "observed, out-of-sample")):
            pts = g[g["sample"] == sample]
            if len(pts):
                px = [starts[_periods_of(d, horizon)[-1]] + (pd.DateOffset(months=-6) if len(d) == 4 else pd.DateOffset(0))
                      for d in pts["date"]]
                py = [convert_price(v, u, unit) if u != unit else v for v, u in zip(pts["observed"], pts["unit"])]
                ax.scatter(px, py, marker=marker, facecolors=face, edgecolors="#C44E52", zorder=3, s=36,
                           label=label)
        ax.set_yscale("log")
        ax.set_ylabel(f"{series.replace('_', ' ')} ({unit}, log scale)")
        ax.set_title(f"{m}: {series.replace('_', ' ')}, {region}")
        ax.legend(fontsize=8, loc="upper left")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        figs.append((f"backtest-{m}-{series}-{region}", fig))
    return figs


def run_backtest(name: str, *, episodes_file=EPISODES_FILE, draws: int | None = None, seed: int | None = None,
                 out_dir="results/backtests", progress=None) -> dict:
    """Run an episode; write the results folder, ``backtest.csv`` and figures in it."""
    from .engine import run

    episodes = load_episodes(episodes_file)
    if name not in episodes:
        raise SimsrcError(unknown_name_message("backtest episode", name, episodes))
    ep = episodes[name]
    targets = read_targets(ep.targets)
    info = run(ep.scenario, draws=draws, seed=seed, out_dir=out_dir, progress=progress)
    paths = pd.read_parquet(Path(info.path) / "paths.parquet")  # read once for the table and the figures
    table = compare_targets(info.path, ep, targets, paths)
    table.to_csv(Path(info.path) / "backtest.csv", index=False)
    figures = []
    import matplotlib.pyplot as plt
    for stem, fig in backtest_figures(info.path, table, paths):
        from .results import safe_component
        p = Path(info.path) / "figures" / f"{safe_component(stem)}.png"  # stems hold codes from the episode files
        p.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(p, dpi=150, bbox_inches="tight")
        plt.close(fig)
        figures.append(p)
    return {"episode": ep, "path": info.path, "table": table, "counts": summary_counts(table), "figures": figures}
