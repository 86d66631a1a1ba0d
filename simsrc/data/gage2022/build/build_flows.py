"""Build flows.csv for gage2022 from raw/ (pandas only). Run from the dataset folder:
    python build/build_flows.py
China's domestic sales = production - total exports (Chinese customs); China's exports by
destination from raw/china_exports_2022.csv; all other flows from raw/other_flows.csv.
Checks: every flow >= 0, row sums = production, world production = world consumption."""
import pandas as pd, sys
prod = pd.read_csv("raw/production.csv")
exp = pd.read_csv("raw/china_exports_2022.csv")
oth = pd.read_csv("raw/other_flows.csv")
rows = []
for m in ["gallium", "germanium"]:
    q = prod[prod.mineral == m].groupby("region").quantity_t.sum()
    e = exp[(exp.mineral == m) & (exp.destination_region != "ALL")]
    tot = float(exp[(exp.mineral == m) & (exp.destination_region == "ALL")].quantity_t.iloc[0])
    assert abs(e.quantity_t.sum() - tot) < 1e-9, (m, e.quantity_t.sum(), tot)
    rows.append((m, "CHN", "CHN", q["CHN"] - tot))
    rows += [(m, "CHN", d, v) for d, v in zip(e.destination_region, e.quantity_t)]
    o = oth[oth.mineral == m]
    rows += list(zip(o.mineral, o.origin, o.destination, o.quantity_t))
f = pd.DataFrame(rows, columns=["mineral", "origin", "destination", "quantity"])
assert (f.quantity >= 0).all()
for m in ["gallium", "germanium"]:
    q = prod[prod.mineral == m].groupby("region").quantity_t.sum()
    fm = f[f.mineral == m]
    rs = fm.groupby("origin").quantity.sum()
    for r in q.index:
        assert abs(rs[r] - q[r]) < 1e-6, (m, r, rs[r], q[r])
    assert set(rs.index) <= set(q.index)
    c = fm.groupby("destination").quantity.sum()
    print(m, "world production", round(q.sum(), 3), "world consumption", round(c.sum(), 3))
    print("  consumption:", c.round(3).to_dict())
f["quantity"] = f.quantity.round(3)
f.to_csv("flows.csv", index=False, float_format="%.3f")
