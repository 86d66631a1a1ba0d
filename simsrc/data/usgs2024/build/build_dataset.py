#!/usr/bin/env python3
"""Build the generated CSVs of the usgs2024 dataset from the inputs in ``raw/``.

Writes ``flows.csv``, ``minerals.csv``, ``capacity.csv``, ``import_shares.csv`` and
``PARAMETERS.md`` (every model parameter with its horizon, status and source). Method
(documented in ``SOURCES.md``, section "Method"):

1. Production by region ``Q``: the rows of ``raw/production_by_country.csv`` summed by region
   (each row names the region where the processed product is made), then the optional
   adjustments of ``raw/adjustments.csv`` (scaling to a stated world total).
2. Consumption by region ``C``: ``raw/consumption.csv`` gives fixed tonnages (``t``), shares of
   world production (``share_world``) and shares of the remainder (``share_rest``). World
   consumption equals world production by construction (stock changes are folded into
   consumption).
3. Prior bilateral matrix, gravity-like with two-way trade: ``x0[i, j] = Q[i] C[j] / W`` times a
   border effect: flows inside a region are ``HOME_BIAS`` times as likely as flows across a
   border. Every producer supplies every consumer; nobody serves itself "first".
4. Balancing with published import-source shares: iterative proportional fitting (rows scaled
   to ``Q``, columns to ``C``), where in the column of every importer with published shares
   (``use = pin`` rows of ``raw/import_sources.csv``) the imports (everything but the diagonal)
   are split as published: pinned origins get their share, the other origins the rest in
   proportion to the current matrix. Iterated until rows, columns and shares hold to 1e-10.

``minerals.csv`` gathers ``raw/minerals.csv`` (names, stages), ``raw/prices.csv`` and the
parameters of ``raw/parameters.csv``; utilisation comes from ``raw/capacity.csv`` (world and by
region, the latter written to ``capacity.csv``). ``import_shares.csv`` lists every pinned
share beside the dataset's share, with its source.

Only numpy and pandas are used. Running the script twice gives byte-identical output.

Usage::

    python build_dataset.py            # writes into the dataset folder
    python build_dataset.py --out DIR  # writes into DIR
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
DATASET = HERE.parent
HOME_BIAS = 10.0  # border effect of the prior (SOURCES.md, "Method")
TOL = 1e-10
MAX_ITER = 200_000
DECIMALS = 3
PARAMETERS = ["supply_elasticity", "demand_elasticity", "armington", "adjustment_speed", "backstop",
              "backstop_elasticity", "capex"]
WORLD_UTILISATION_COVERAGE = 0.8  # share of world output the capacity rows must cover
BLANK_ALLOWED = ("capex",)  # blank capex: no investment cost data (simsrc/data/README.md)
MINERAL_COLUMNS = ["mineral", "name", "stage", "unit", "price", "price_unit", "price_date", "utilisation"] + [
    f"{p}{s}" for p in PARAMETERS for s in ("", "_low", "_high")]


class BuildError(SystemExit):
    pass


def read_raw(dataset: Path) -> dict[str, pd.DataFrame]:
    raw = dataset / "raw"
    names = ["minerals", "parameters", "prices", "production_by_country", "adjustments", "consumption",
             "import_sources", "capacity", "sources"]
    out = {n: pd.read_csv(raw / f"{n}.csv", dtype=str, keep_default_na=False) for n in names}
    out["regions"] = pd.read_csv(dataset / "regions.csv", dtype=str, keep_default_na=False)
    return out


def production(mineral: str, regions: list[str], prod: pd.DataFrame, adj: pd.DataFrame) -> np.ndarray:
    rows = prod[prod["mineral"] == mineral]
    unknown = set(rows["region"]) - set(regions)
    if unknown:
        raise BuildError(f"{mineral}: unknown region(s) in production_by_country.csv: {sorted(unknown)}")
    q = np.array([rows.loc[rows["region"] == r, "quantity_t"].astype(float).sum() for r in regions])
    a = adj[adj["mineral"] == mineral].set_index("parameter")["value"]
    if "world_total_t" in a.index:
        keep = set(a.get("unscaled_regions", "").split(";")) - {""}
        fixed = np.array([r in keep for r in regions])
        target = float(a["world_total_t"]) - q[fixed].sum()
        q = np.where(fixed, q, q * target / q[~fixed].sum())
    if (q < 0).any() or q.sum() <= 0:
        raise BuildError(f"{mineral}: production must be >= 0 with a positive world total: {dict(zip(regions, q))}")
    return q


def consumption(mineral: str, regions: list[str], world: float, cons: pd.DataFrame) -> np.ndarray:
    rows = cons[cons["mineral"] == mineral]
    bad = set(rows["kind"]) - {"t", "share_world", "share_rest"}
    if bad:
        raise BuildError(f"{mineral}: unknown consumption kind(s) {sorted(bad)}")
    unknown = set(rows["region"]) - set(regions)
    if unknown:
        raise BuildError(f"{mineral}: unknown region(s) in consumption.csv: {sorted(unknown)}")
    idx = {r: k for k, r in enumerate(regions)}
    c = np.zeros(len(regions))
    for kind, scale in (("t", 1.0), ("share_world", world)):
        for _, row in rows[rows["kind"] == kind].iterrows():
            c[idx[row["region"]]] += float(row["value"]) * scale
    rest_rows = rows[rows["kind"] == "share_rest"]
    rest = world - c.sum()
    shares = rest_rows["value"].astype(float).to_numpy()
    if rest < -1e-9 * world or (len(rest_rows) and abs(shares.sum() - 1.0) > 1e-9) or (not len(rest_rows) and abs(rest) > 1e-9 * world):
        raise BuildError(f"{mineral}: consumption does not close (rest {rest:.3f} t, share_rest sum {shares.sum():.6f})")
    for region, s in zip(rest_rows["region"], shares):
        c[idx[region]] += s * rest
    return c


def pinned_shares(mineral: str, regions: list[str], imp: pd.DataFrame, q: np.ndarray) -> dict[int, dict[int, float]]:
    """{importer: {origin: share of the importer's imports}} from the ``pin`` rows."""
    idx = {r: k for k, r in enumerate(regions)}
    pins: dict[int, dict[int, float]] = {}
    for _, row in imp[(imp["mineral"] == mineral) & (imp["use"] == "pin")].iterrows():
        j, i = row["importer"], row["origin_region"]
        if j not in idx or i not in idx:
            raise BuildError(f"{mineral}: import_sources.csv pins unknown region(s) {j!r} <- {i!r}")
        if i == j:
            raise BuildError(f"{mineral}: import_sources.csv pins {j}'s imports from itself")
        if q[idx[i]] <= 0:
            raise BuildError(f"{mineral}: {j} imports are pinned from {i}, which produces nothing in production_by_country.csv")
        d = pins.setdefault(idx[j], {})
        d[idx[i]] = d.get(idx[i], 0.0) + float(row["share"])
    for j, d in pins.items():
        total = sum(d.values())
        if total > 1 + 1e-9:
            raise BuildError(f"{mineral}: pinned import shares of {regions[j]} sum to {total:.4f} > 1")
        if all(i in d for i in np.flatnonzero(q > 0) if i != j):
            # every producer is pinned: the published remainder ("other") can only come from them
            for i in d:
                d[i] /= total
    return pins


def prior(q: np.ndarray, c: np.ndarray) -> np.ndarray:
    x = np.outer(q, c) / q.sum()
    x[np.diag_indices_from(x)] *= HOME_BIAS
    return x


def balance(x0: np.ndarray, q: np.ndarray, c: np.ndarray, pins: dict[int, dict[int, float]], mineral: str) -> np.ndarray:
    """Rows to ``q``, columns to ``c``, and every pinned importer's imports split as published."""
    x = x0.copy()
    n = len(q)
    scale = max(q.sum(), 1e-300)
    cols = []
    for j, d in pins.items():
        origins = np.array(list(d), dtype=int)
        s = np.array([d[i] for i in origins])
        free = np.ones(n, dtype=bool)
        free[origins] = False
        free[j] = False
        cols.append((j, origins, s, free))
    for it in range(MAX_ITER):
        rs = x.sum(axis=1)
        x *= np.divide(q, rs, out=np.zeros_like(q), where=rs > 0)[:, None]
        cs = x.sum(axis=0)
        x *= np.divide(c, cs, out=np.zeros_like(c), where=cs > 0)[None, :]
        share_err = 0.0
        for j, origins, s, free in cols:
            m = c[j] - x[j, j]
            share_err = max(share_err, float(np.abs(x[origins, j] - s * m).max()) / scale)
            x[origins, j] = s * m
            rest = x[free, j].sum()
            target = (1.0 - s.sum()) * m
            if rest > 0:
                x[free, j] *= target / rest
            elif target > 1e-12 * scale:
                raise BuildError(f"{mineral}: the unpinned {1 - s.sum():.1%} of imports has no other origin to come from")
        row_err = float(np.abs(x.sum(axis=1) - q).max()) / scale
        if max(row_err, share_err) < TOL:
            return x
    raise BuildError(f"{mineral}: balancing did not converge (row error {row_err:.2e}, share error {share_err:.2e}): "
                     "pinned import shares may ask more of an origin than it produces")


def mineral_rows(raw: dict[str, pd.DataFrame], minerals: list[str], world_output: dict[str, float]) -> tuple[list[dict], list[tuple]]:
    info = raw["minerals"].set_index("mineral")
    prices = raw["prices"].set_index("mineral")
    par = raw["parameters"]
    cap = raw["capacity"]
    rows, cap_rows = [], []
    for m in minerals:
        if m not in prices.index:
            raise BuildError(f"{m}: no row in raw/prices.csv")
        row = {"mineral": m, **{k: info.loc[m, k] for k in ("name", "stage", "unit")},
               "price": prices.loc[m, "price"], "price_unit": prices.loc[m, "price_unit"],
               "price_date": prices.loc[m, "price_date"], "utilisation": ""}
        c = cap[(cap["mineral"] == m) & (cap["production_t"] != "") & (cap["capacity_t"] != "")]  # blank: reference only
        c = c[c["production_t"].astype(float) > 0]  # idle plants: the model has no capacity without output
        if len(c):
            # the world-average utilisation (the default for regions without a row) only where
            # the rows cover most of world output; otherwise the rows are regional overrides only
            covered = c["production_t"].astype(float).sum() / world_output[m]
            if covered >= WORLD_UTILISATION_COVERAGE:
                row["utilisation"] = fmt(round(c["production_t"].astype(float).sum() / c["capacity_t"].astype(float).sum(), 3))
            cap_rows += [(m, r, round(float(p) / float(k), 4)) for r, k, p in zip(c["region"], c["capacity_t"], c["production_t"])]
        p = par[par["mineral"] == m].set_index("parameter")
        missing = [k for k in PARAMETERS if k not in p.index]
        if missing:
            raise BuildError(f"{m}: raw/parameters.csv lacks {missing}")
        for k in PARAMETERS:
            for suffix, col in (("", "central"), ("_low", "low"), ("_high", "high")):
                v = p.loc[k, col]
                if v == "" and k not in BLANK_ALLOWED:
                    raise BuildError(f"{m}: raw/parameters.csv {k} {col} is blank (only {BLANK_ALLOWED} may be)")
                row[k + suffix] = "" if v == "" else fmt(float(v))
        rows.append(row)
    return rows, cap_rows


def fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def build(dataset: Path):
    raw = read_raw(dataset)
    regions = raw["regions"]["region"].tolist()
    minerals = raw["minerals"]["mineral"].tolist()
    idx = {r: k for k, r in enumerate(regions)}
    out, shares, summary = [], [], []
    for m in minerals:
        q = production(m, regions, raw["production_by_country"], raw["adjustments"])
        world = q.sum()
        c = consumption(m, regions, world, raw["consumption"])
        pins = pinned_shares(m, regions, raw["import_sources"], q)
        x = balance(prior(q, c), q, c, pins, m)
        x = np.round(x, DECIMALS)
        out += [(m, o, d, x[i, j]) for i, o in enumerate(regions) for j, d in enumerate(regions) if x[i, j] > 0]
        imports = x.sum(axis=0) - np.diag(x)
        pin_rows = raw["import_sources"]
        pin_rows = pin_rows[(pin_rows["mineral"] == m) & (pin_rows["use"] == "pin")]
        for (imp, org), g in pin_rows.groupby(["importer", "origin_region"], sort=False):
            j, i = idx[imp], idx[org]
            shares.append((m, imp, org, g["share"].astype(float).sum(), x[i, j] / imports[j],
                           "; ".join(dict.fromkeys(g["origin_country"])), "; ".join(dict.fromkeys(g["basis"])),
                           "; ".join(dict.fromkeys(g["period"])), "; ".join(dict.fromkeys(g["source_id"]))))
        us = idx["USA"]
        qq, cc = x.sum(axis=1), x.sum(axis=0)
        summary.append({"mineral": m, "world_t": world, "US_NIR": max(0.0, (cc[us] - qq[us]) / cc[us]) if cc[us] > 0 else float("nan"),
                        "CHN_production_share": qq[idx["CHN"]] / world, "pinned_importers": len(pins),
                        "two_way_regions": int(((qq - np.diag(x)) > 0).__and__(imports > 0).sum())})
    flows = pd.DataFrame(out, columns=["mineral", "origin", "destination", "quantity"])
    share_table = pd.DataFrame(shares, columns=["mineral", "importer", "origin", "published_share", "dataset_share",
                                                "origin_countries", "basis", "period", "source_id"])
    rows, cap_rows = mineral_rows(raw, minerals, {s["mineral"]: s["world_t"] for s in summary})
    return (flows, pd.DataFrame(rows, columns=MINERAL_COLUMNS), cap_rows, share_table, pd.DataFrame(summary),
            parameters_markdown(raw, minerals))


def write_csv(path: Path, header: list[str], lines: list[str]) -> None:
    path.write_text("\n".join([",".join(header)] + lines) + "\n", encoding="utf-8")


def quote(v: str) -> str:
    v = str(v)
    return '"' + v.replace('"', '""') + '"' if any(ch in v for ch in ',"\n') else v


def write_all(out: Path, flows, minerals, cap_rows, shares, params_md: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "PARAMETERS.md").write_text(params_md, encoding="utf-8")
    write_csv(out / "flows.csv", list(flows.columns),
              [f"{m},{o},{d},{q:.{DECIMALS}f}" for m, o, d, q in flows.itertuples(index=False)])
    write_csv(out / "minerals.csv", MINERAL_COLUMNS,
              [",".join(quote(r[c]) for c in MINERAL_COLUMNS) for r in minerals.to_dict("records")])
    write_csv(out / "capacity.csv", ["mineral", "region", "utilisation"], [f"{m},{r},{fmt(u)}" for m, r, u in cap_rows])
    write_csv(out / "import_shares.csv", list(shares.columns),
              [",".join([r.mineral, r.importer, r.origin, f"{r.published_share:.4f}", f"{r.dataset_share:.4f}",
                         quote(r.origin_countries), quote(r.basis), quote(r.period), quote(r.source_id)])
               for r in shares.itertuples(index=False)])


def parameters_markdown(raw: dict[str, pd.DataFrame], minerals: list[str]) -> str:
    """PARAMETERS.md: one table per mineral of raw/parameters.csv, sources resolved to titles."""
    titles = dict(zip(raw["sources"]["source_id"], raw["sources"]["title"]))
    par = raw["parameters"]
    info = raw["minerals"].set_index("mineral")
    out = ["# usgs2024: model parameters by mineral", "",
           "Generated by `build/build_dataset.py` from `raw/parameters.csv`; do not edit by hand. Status: P published,",
           "S secondary source, D derived here, A assumption of this dataset (reasoning in the note). Horizon: the",
           "time over which the source's estimate applies; the model reads `supply_elasticity` and",
           "`demand_elasticity` as long-run (5-10 year) elasticities, the short run following from",
           "`adjustment_speed` (docs/model.md). Source ids are those of `raw/sources.csv`.",
           "Units: elasticities are dimensionless (demand and backstop elasticities negative); `adjustment_speed` is",
           "the share of the demand gap closed per year; `backstop` is a multiple of the baseline consumer price;",
           "`capex` is USD per t/yr of new capacity of the mineral's product (the unit of its flows, named in",
           "each heading); `blank` means no figure (no investment cost is charged).", ""]
    for m in minerals:
        out += [f"## {m}: {info.loc[m, 'name']}", "", f"Flows in t/yr of: {info.loc[m, 'stage']}.", "",
                "| parameter | central [low, high] | horizon | status | source | note |", "|---|---|---|---|---|---|"]
        for k in PARAMETERS:
            r = par[(par["mineral"] == m) & (par["parameter"] == k)].iloc[0]
            src = "; ".join(f"{s} ({titles[s]})" if s in titles else s for s in r["source_id"].split(";") if s)
            value = "blank" if r["central"] == "" else f"{fmt(float(r['central']))} [{fmt(float(r['low']))}, {fmt(float(r['high']))}]"
            cells = [k, value,
                     r["horizon"], r["status"], src, r["note"]]
            out.append("| " + " | ".join(c.replace("|", "/").replace("\n", " ") for c in cells) + " |")
        out.append("")
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", type=Path, default=DATASET, help="dataset folder holding regions.csv and raw/ (default: this script's parent)")
    ap.add_argument("--out", type=Path, default=None, help="folder to write the generated CSVs into (default: the dataset folder)")
    ap.add_argument("--quiet", action="store_true", help="do not print the summary")
    args = ap.parse_args(argv)
    flows, minerals, cap_rows, shares, summary, params_md = build(args.dataset)
    out = args.out if args.out is not None else args.dataset
    write_all(out, flows, minerals, cap_rows, shares, params_md)
    if not args.quiet:
        with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:,.4f}".format):
            print(summary.to_string(index=False))
            print(shares[["mineral", "importer", "origin", "published_share", "dataset_share"]].to_string(index=False))
        print(f"wrote flows.csv ({len(flows)} rows), minerals.csv, capacity.csv, import_shares.csv into {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
