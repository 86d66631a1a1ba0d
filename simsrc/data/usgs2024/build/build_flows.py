#!/usr/bin/env python3
"""Build ``flows.csv`` of the usgs2024 dataset from the inputs in ``raw/``.

Method (documented in ``SOURCES.md``, section "Method"):

1. Production by region ``Q``: the rows of ``raw/production_by_country.csv`` summed by region
   (each row names the region where the processed product is made), then the optional
   adjustments of ``raw/adjustments.csv`` (scaling to a stated world total).
2. Consumption by region ``C``: ``raw/consumption.csv`` gives fixed tonnages (``t``), shares of
   world production (``share_world``) and shares of the remainder (``share_rest``). World
   consumption equals world production by construction (stock changes are folded into
   consumption).
3. Prior bilateral matrix (home bias): each region first supplies itself,
   ``d = min(Q, C)``; the US import mix is pinned to the published import-source shares of
   ``raw/us_import_sources.csv`` (rows with ``use = pin``); all other import needs are
   allocated to exporters in proportion to their remaining exportable supply.
4. RAS (iterative proportional fitting) on every entry except the pinned US import entries, so
   that row sums equal ``Q`` and column sums equal ``C`` exactly (to 1e-12 relative).

Only numpy and pandas are used. Running the script twice gives byte-identical output.

Usage::

    python build_flows.py            # writes ../flows.csv
    python build_flows.py --out DIR  # writes DIR/flows.csv
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
DATASET = HERE.parent
PINNED_DESTINATION = "USA"
RAS_TOL = 1e-12
RAS_MAX_ITER = 100_000
DECIMALS = 3


def read_inputs(dataset: Path):
    raw = dataset / "raw"
    regions = pd.read_csv(dataset / "regions.csv", dtype=str, keep_default_na=False)["region"].tolist()
    minerals = pd.read_csv(dataset / "minerals.csv", dtype=str, keep_default_na=False)["mineral"].tolist()
    prod = pd.read_csv(raw / "production_by_country.csv", keep_default_na=False)
    adj = pd.read_csv(raw / "adjustments.csv", dtype=str, keep_default_na=False)
    cons = pd.read_csv(raw / "consumption.csv", keep_default_na=False)
    imp = pd.read_csv(raw / "us_import_sources.csv", dtype=str, keep_default_na=False)
    return regions, minerals, prod, adj, cons, imp


def production(mineral: str, regions: list[str], prod: pd.DataFrame, adj: pd.DataFrame) -> np.ndarray:
    rows = prod[prod["mineral"] == mineral]
    unknown = set(rows["region"]) - set(regions)
    if unknown:
        raise SystemExit(f"{mineral}: unknown region(s) in production_by_country.csv: {sorted(unknown)}")
    q = np.array([rows.loc[rows["region"] == r, "quantity_t"].astype(float).sum() for r in regions])
    a = adj[adj["mineral"] == mineral].set_index("parameter")["value"]
    if "world_total_t" in a.index:
        keep = set(a.get("unscaled_regions", "").split(";")) - {""}
        fixed = np.array([r in keep for r in regions])
        target = float(a["world_total_t"]) - q[fixed].sum()
        q = np.where(fixed, q, q * target / q[~fixed].sum())
    if (q < -1e-9).any():
        raise SystemExit(f"{mineral}: negative production after reassignments: {dict(zip(regions, q))}")
    return np.maximum(q, 0.0)


def consumption(mineral: str, regions: list[str], world: float, cons: pd.DataFrame) -> np.ndarray:
    rows = cons[cons["mineral"] == mineral]
    c = np.zeros(len(regions))
    idx = {r: k for k, r in enumerate(regions)}
    for _, row in rows[rows["kind"] == "t"].iterrows():
        c[idx[row["region"]]] += float(row["value"])
    for _, row in rows[rows["kind"] == "share_world"].iterrows():
        c[idx[row["region"]]] += float(row["value"]) * world
    rest_rows = rows[rows["kind"] == "share_rest"]
    rest = world - c.sum()
    shares = rest_rows["value"].astype(float)
    if rest < -1e-9 or (len(rest_rows) and abs(shares.sum() - 1.0) > 1e-9):
        raise SystemExit(f"{mineral}: consumption does not close (rest {rest:.3f} t, shares sum {shares.sum():.6f})")
    for (_, row), s in zip(rest_rows.iterrows(), shares):
        c[idx[row["region"]]] += s * rest
    bad = set(rows["kind"]) - {"t", "share_world", "share_rest"}
    if bad:
        raise SystemExit(f"{mineral}: unknown consumption kind(s) {sorted(bad)}")
    return c


def prior(q: np.ndarray, c: np.ndarray, pins: dict[int, float], us: int):
    """Home-bias prior with the US import shares pinned; returns (prior, pinned mask)."""
    n = len(q)
    d = np.minimum(q, c)
    e = q - d  # exportable supply
    m = c - d  # import needs
    x = np.diag(d)
    fixed = np.zeros((n, n), dtype=bool)
    m_us = m[us]
    for o, s in pins.items():
        v = s * m_us
        if v <= 0:
            continue
        if e[o] < v:  # the origin re-exports: it supplies itself less and imports more
            deficit = v - e[o]
            if d[o] + 1e-9 < deficit:
                raise SystemExit(f"pinned US import share infeasible for origin index {o}: needs {v:.3f} t, production {q[o]:.3f} t")
            d[o] -= deficit
            x[o, o] = d[o]
            m[o] += deficit
            e[o] += deficit
        x[o, us] = v
        fixed[o, us] = True
        e[o] -= v
    m[us] = m_us * (1.0 - sum(pins.values()))
    # allocate remaining import needs to exporters in proportion to remaining exportable supply
    for j in range(n):
        if m[j] <= 0:
            continue
        w = e.copy()
        w[j] = 0.0
        if j == us:
            for o in pins:
                w[o] = 0.0
        if w.sum() <= 0:
            raise SystemExit(f"no exporter available for destination index {j}")
        if j == us and w.sum() < m[j] - 1e-9:
            raise SystemExit(f"the unpinned US imports ({m[j]:.3f} t) exceed what unpinned exporters can supply ({w.sum():.3f} t); pin more origins")
        x[:, j] += m[j] * w / w.sum()
    return x, fixed


def ras(x0: np.ndarray, fixed: np.ndarray, q: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Scale the free entries of x0 so that row sums are q and column sums are c."""
    free = np.where(fixed, 0.0, x0)
    pin = np.where(fixed, x0, 0.0)
    rt = q - pin.sum(axis=1)
    ct = c - pin.sum(axis=0)
    if (rt < -1e-9).any() or (ct < -1e-9).any():
        raise SystemExit("pinned flows exceed production or consumption")
    x = free.copy()
    for _ in range(RAS_MAX_ITER):
        rs = x.sum(axis=1)
        x *= np.divide(rt, rs, out=np.zeros_like(rt), where=rs > 0)[:, None]
        cs = x.sum(axis=0)
        x *= np.divide(ct, cs, out=np.zeros_like(ct), where=cs > 0)[None, :]
        err = np.abs(x.sum(axis=1) - rt).max() / max(q.max(), 1e-12)
        if err < RAS_TOL:
            break
    else:
        raise SystemExit(f"RAS did not converge (relative error {err:.2e})")
    return x + pin


def build(dataset: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    regions, minerals, prod, adj, cons, imp = read_inputs(dataset)
    idx = {r: k for k, r in enumerate(regions)}
    us = idx[PINNED_DESTINATION]
    out, summary = [], []
    for m in minerals:
        q = production(m, regions, prod, adj)
        world = q.sum()
        c = consumption(m, regions, world, cons)
        rows = imp[(imp["mineral"] == m) & (imp["use"] == "pin")]
        pins: dict[int, float] = {}
        for _, row in rows.iterrows():
            pins[idx[row["origin_region"]]] = pins.get(idx[row["origin_region"]], 0.0) + float(row["share"])
        if sum(pins.values()) > 1 + 1e-9:
            raise SystemExit(f"{m}: pinned US import shares sum above 1")
        x0, fixed = prior(q, c, pins, us)
        x = ras(x0, fixed, q, c)
        x = np.round(x, DECIMALS)
        for i, o in enumerate(regions):
            for j, dname in enumerate(regions):
                if x[i, j] > 0:
                    out.append((m, o, dname, x[i, j]))
        qq, cc = x.sum(axis=1), x.sum(axis=0)
        imports_us = cc[us] - x[us, us]
        summary.append({
            "mineral": m, "world_t": world, "US_production_t": qq[us], "US_consumption_t": cc[us],
            "US_NIR": max(0.0, (cc[us] - qq[us]) / cc[us]) if cc[us] > 0 else float("nan"),
            "US_imports_from_CHN_share": x[idx["CHN"], us] / imports_us if imports_us > 0 else float("nan"),
            "CHN_production_share": qq[idx["CHN"]] / world,
            "CHN_consumption_share": cc[idx["CHN"]] / world,
            "max_row_error_t": float(np.abs(qq - q).max()), "max_col_error_t": float(np.abs(cc - c).max()),
        })
    flows = pd.DataFrame(out, columns=["mineral", "origin", "destination", "quantity"])
    return flows, pd.DataFrame(summary)


def write_flows(flows: pd.DataFrame, path: Path) -> None:
    lines = ["mineral,origin,destination,quantity"]
    lines += [f"{m},{o},{d},{q:.{DECIMALS}f}" for m, o, d, q in flows.itertuples(index=False)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", type=Path, default=DATASET, help="dataset folder holding regions.csv, minerals.csv and raw/ (default: this script's parent)")
    ap.add_argument("--out", type=Path, default=None, help="folder to write flows.csv into (default: the dataset folder)")
    ap.add_argument("--quiet", action="store_true", help="do not print the summary")
    args = ap.parse_args(argv)
    flows, summary = build(args.dataset)
    out = args.out if args.out is not None else args.dataset
    out.mkdir(parents=True, exist_ok=True)
    write_flows(flows, out / "flows.csv")
    if not args.quiet:
        with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:,.4f}".format):
            print(summary.to_string(index=False))
        print(f"wrote {out / 'flows.csv'} ({len(flows)} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
