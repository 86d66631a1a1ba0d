"""Baseline datasets: loading and checking a dataset folder.

A dataset folder holds ``regions.csv``, ``minerals.csv``, ``flows.csv`` and optionally
``tariffs.csv`` and ``capacity.csv``; the format is documented in ``simsrc/data/README.md``.
Built-in datasets live beside this file (``usgs2024``, the default) and are named by folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError, Problem, unknown_name_message
from ..outputs import net_import_reliance
from ..units import UnitError, parse_price_unit

BUILTIN_DIR = Path(__file__).resolve().parent
DEFAULT_DATASET = "usgs2024"

REGION_COLUMNS = ["region", "name", "groups"]
MINERAL_COLUMNS = [
    "mineral", "name", "stage", "unit", "price", "price_unit", "price_date", "utilisation",
    "supply_elasticity", "supply_elasticity_low", "supply_elasticity_high",
    "demand_elasticity", "demand_elasticity_low", "demand_elasticity_high",
    "armington", "armington_low", "armington_high",
]
FLOW_COLUMNS = ["mineral", "origin", "destination", "quantity"]
TARIFF_COLUMNS = ["mineral", "origin", "destination", "rate"]
CAPACITY_COLUMNS = ["mineral", "region", "utilisation"]
RESTRICTION_COLUMNS = ["mineral", "origin", "destinations", "type", "value", "export_domestic_ratio"]
#: Types of ``restrictions.csv``: baseline export restrictions in force in the data year.
RESTRICTION_TYPES = {
    "export_tax": "ad valorem export tax rate (a fraction, 0.15 = 15%)",
    "quota": "export quota on the listed flows together, t/yr",
    "licensing": "licensing without a quantity limit: recorded, no effect in the model",
}
#: A binding baseline quota must equal its baseline flows to this relative tolerance.
QUOTA_BINDING_TOL = 1e-3


@dataclass(frozen=True)
class BaselineRestriction:
    """An export restriction in force in the data year (``restrictions.csv``, docs/model.md
    sec. 1.3).

    ``kind`` is ``export_tax`` (``value`` the rate) or ``quota`` (``value`` the cap, t/yr, on
    the flows from ``origin`` to ``dest`` together); ``rho`` is the observed ratio of the export
    (FOB) price to the domestic price (NaN if not given). ``lam0`` is the calibrated baseline
    wedge of a quota, ``rho / (1 + e0) - 1`` where it binds (0 where it does not).
    """

    kind: str
    origin: int
    dest: np.ndarray
    value: float
    rho: float
    lam0: float
    line: int

#: Required elasticity names, their sign rule and a description.
ELASTICITIES = {
    "supply_elasticity": (+1, "supply elasticity must be positive (a higher price raises output)"),
    "demand_elasticity": (-1, "demand elasticity must be negative (the long-run elasticity: a higher price lowers demand)"),
    "armington": (+1, "Armington elasticity must be positive and not 1"),
}

#: Optional parameters of minerals.csv (model version 2), each with ``_low`` and ``_high`` columns
#: like the elasticities: name -> (what is allowed, default when the columns are missing or the
#: three cells are blank). A dataset without these columns (e.g. ``gsim_example``) gets the defaults.
OPTIONAL_PARAMETERS = {
    "adjustment_speed": (
        "adjustment speed must be in (0, 1]: the share of the gap between current and long-run demand "
        "closed within one year (1 = demand adjusts at once)",
        "1 (instant adjustment)"),
    "backstop": (
        "backstop must be a price index above 1 (a multiple of the baseline price above which "
        "substitution, thrifting and recycling set in), or blank for no backstop",
        "blank: no backstop (infinite)"),
    "backstop_elasticity": (
        "backstop elasticity must be negative (demand elasticity above the backstop price)",
        "the demand elasticity (the backstop changes nothing)"),
}
#: Optional cost columns of minerals.csv, read like the optional parameters (``_low``/``_high``,
#: three columns or none, three cells or none) but not behavioural: scenarios do not draw them as
#: ``elasticities.MINERAL.KIND`` (they are not in the scenario model's ``ELASTICITY_KINDS``).
#: ``capex``: capital cost of new capacity at the dataset's processing stage, USD per (t/yr) of
#: annual capacity; investment cost = capex x gross investment in capacity (t/yr). NaN (columns
#: missing or cells blank) means "no investment cost data": the engine charges no investment cost.
COST_PARAMETERS = {
    "capex": (
        "capex must be a positive capital cost in USD per (t/yr) of annual capacity, or all three "
        "cells blank for no investment cost data",
        "blank: no investment cost data (no investment cost is charged)"),
}
#: The optional columns of minerals.csv, in groups of three (central, low, high).
OPTIONAL_MINERAL_COLUMNS = [c for k in (*OPTIONAL_PARAMETERS, *COST_PARAMETERS) for c in (k, f"{k}_low", f"{k}_high")]
#: Behavioural parameter names: the ones scenarios draw and override (``elasticities.MINERAL.KIND``).
PARAMETER_KINDS = tuple(ELASTICITIES) + tuple(OPTIONAL_PARAMETERS)
#: Cost parameter names (not drawn by scenarios as elasticities).
COST_KINDS = tuple(COST_PARAMETERS)
#: Every name held in ``MineralData.elasticities``: the parameters and the cost parameters.
ALL_PARAMETER_KINDS = PARAMETER_KINDS + COST_KINDS


@dataclass(frozen=True)
class MineralData:
    """Baseline data of one mineral market.

    Attributes
    ----------
    code, name, stage : str
        Identifier, long name, processing stage.
    unit : str
        Quantity unit of flows (``t``); flows are annual rates (unit/yr).
    price : float
        Baseline world price in ``price_unit`` (e.g. USD/t).
    price_unit, price_date : str
    regions : tuple of str
        Region order of every array.
    flows : ndarray (R, R)
        Baseline bilateral flows ``X0[i, j]`` from origin i to destination j, unit/yr.
    tariffs : ndarray (R, R)
        Baseline ad valorem tariff rates (fraction) on flows i -> j.
    utilisation : ndarray (R,)
        Baseline capacity utilisation in (0, 1]; NaN = no capacity limit.
    restrictions : tuple of BaselineRestriction
        Export taxes and quotas in force in the data year (``restrictions.csv``); calibration
        replicates the baseline with them (docs/model.md sec. 1.3).
    elasticities : dict
        ``name -> (central, low, high)`` for supply_elasticity, demand_elasticity (long-run),
        armington, adjustment_speed (annual share in (0, 1]), backstop (price index > 1; ``inf``
        for no backstop) and backstop_elasticity (negative), and the cost parameter capex (USD per
        (t/yr) of capacity; NaN for no investment cost data). See :data:`PARAMETER_KINDS`,
        :data:`COST_KINDS` and :data:`ALL_PARAMETER_KINDS`.
    """

    code: str
    name: str
    stage: str
    unit: str
    price: float
    price_unit: str
    price_date: str
    regions: tuple[str, ...]
    flows: np.ndarray
    tariffs: np.ndarray
    utilisation: np.ndarray
    elasticities: dict = field(default_factory=dict)
    restrictions: tuple = ()

    def __post_init__(self):
        # MineralData built by hand (tests, benchmarks) with only the three required elasticities
        # gets the defaults of the optional parameters, as a dataset without their columns does
        el = dict(self.elasticities)
        if "demand_elasticity" in el:
            el.setdefault("adjustment_speed", (1.0, 1.0, 1.0))
            el.setdefault("backstop", (np.inf, np.inf, np.inf))
            el.setdefault("backstop_elasticity", tuple(el["demand_elasticity"]))
            el.setdefault("capex", (np.nan, np.nan, np.nan))  # no investment cost data
        object.__setattr__(self, "elasticities", el)

    @property
    def production(self) -> np.ndarray:
        """Baseline production by region (row sums of flows), unit/yr."""
        return self.flows.sum(axis=1)

    @property
    def consumption(self) -> np.ndarray:
        """Baseline consumption by region (column sums of flows), unit/yr."""
        return self.flows.sum(axis=0)

    @property
    def imports(self) -> np.ndarray:
        """Baseline imports (consumption less domestic sales), unit/yr."""
        return self.consumption - np.diag(self.flows)

    @property
    def exports(self) -> np.ndarray:
        """Baseline exports (production less domestic sales), unit/yr."""
        return self.production - np.diag(self.flows)

    @property
    def net_import_reliance(self) -> np.ndarray:
        """USGS net import reliance ``max(0, (C - Q) / C)``; NaN where consumption is 0."""
        return net_import_reliance(self.consumption, self.production)

    def table(self) -> pd.DataFrame:
        """Per-region table: production, consumption, imports, exports, NIR, utilisation."""
        return pd.DataFrame(
            {
                "production": self.production,
                "consumption": self.consumption,
                "imports": self.imports,
                "exports": self.exports,
                "net_import_reliance": self.net_import_reliance,
                "utilisation": self.utilisation,
            },
            index=pd.Index(self.regions, name="region"),
        )

    def flow_frame(self) -> pd.DataFrame:
        """Bilateral flows as an origin x destination frame (unit/yr)."""
        return pd.DataFrame(self.flows, index=pd.Index(self.regions, name="origin"),
                            columns=pd.Index(self.regions, name="destination"))


@dataclass(frozen=True)
class Dataset:
    """A baseline dataset: regions, groups and per-mineral market data."""

    name: str
    path: Path
    regions: tuple[str, ...]
    region_names: dict
    groups: dict  # group -> tuple of regions
    minerals: dict  # code -> MineralData

    def region_index(self, region: str) -> int:
        return self.regions.index(region)

    def expand(self, names) -> list[str]:
        """Expand region codes and group names into a sorted-by-dataset-order region list."""
        out: set[str] = set()
        for n in [names] if isinstance(names, str) else names:
            if n in self.groups:
                out.update(self.groups[n])
            else:
                out.add(n)
        return [r for r in self.regions if r in out]

    def knows(self, name: str) -> bool:
        """True if name is a region or a group."""
        return name in self.regions or name in self.groups


def citation(ds: "Dataset") -> str:
    """One-line source of a dataset: its ``CITATION.txt`` if present, else its name."""
    f = Path(ds.path) / "CITATION.txt"
    if f.exists():
        return f.read_text().strip().splitlines()[0]
    return f"dataset {ds.name}"


def resolve_dataset_path(name_or_path: str | Path, relative_to: Path | None = None) -> Path:
    """Return the folder of a built-in dataset name or a path to a dataset folder."""
    s = str(name_or_path)
    builtin = BUILTIN_DIR / s
    if "/" not in s and "\\" not in s and (builtin / "flows.csv").exists():
        return builtin
    p = Path(s).expanduser()
    if not p.is_absolute() and relative_to is not None:
        p = (relative_to / p)
    try:
        return p.resolve()
    except (RuntimeError, OSError, ValueError):  # a symbolic-link loop: fails the folder checks later
        return p.absolute()


def builtin_datasets() -> list[str]:
    """Names of the datasets shipped with the package."""
    return sorted(p.name for p in BUILTIN_DIR.iterdir() if (p / "flows.csv").exists())


def _read_csv(path: Path, columns: list[str], problems: list[Problem], required: bool = True):
    if not path.exists():
        if required:
            problems.append(Problem(str(path), "file is missing; a dataset folder needs regions.csv, minerals.csv and flows.csv (see simsrc/data/README.md)"))
        return None
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, comment="#", skip_blank_lines=True)
    except Exception as exc:  # malformed CSV
        problems.append(Problem(str(path), f"cannot read CSV: {exc}"))
        return None
    df.columns = [c.strip() for c in df.columns]
    missing = [c for c in columns if c not in df.columns]
    if missing:
        problems.append(Problem(str(path), f"missing column(s) {missing}; required columns: {columns}", line=1))
        return None
    df = df.map(lambda v: v.strip() if isinstance(v, str) else v)
    df["_line"] = _data_line_numbers(path, len(df))
    return df


def _data_line_numbers(path: Path, n: int) -> np.ndarray:
    """Line numbers in the file (1-based) of the ``n`` data rows, skipping the comment and blank
    lines that the CSV reader drops; header-relative numbering if the file cannot be matched."""
    try:
        kept = [k for k, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if line.split("#", 1)[0].strip()]
    except (OSError, UnicodeDecodeError):
        kept = []
    if len(kept) == n + 1:
        return np.array(kept[1:], dtype=int)
    return np.arange(n) + 2


def _number(df_row, col, path, problems, *, allow_blank=False):
    raw = df_row[col]
    if raw == "" and allow_blank:
        return np.nan
    try:
        v = float(raw)
    except ValueError:
        problems.append(Problem(str(path), f"{col} must be a number, got {raw!r}", path=col, line=int(df_row["_line"])))
        return np.nan
    if not np.isfinite(v):
        problems.append(Problem(str(path), f"{col} must be finite, got {raw!r}", path=col, line=int(df_row["_line"])))
    elif abs(v) > MAX_MAGNITUDE:
        problems.append(Problem(str(path), f"{col} must be at most {MAX_MAGNITUDE:g} in magnitude (values, quantities "
                                "and their products must fit the float32 outputs), got {raw!r}".replace("{raw!r}", repr(raw)),
                                path=col, line=int(df_row["_line"])))
        return np.nan
    return v


#: Largest magnitude of any number in a dataset (prices, flows, capital costs): beyond it values
#: times quantities leave the float32 range of the outputs (3.4e38).
MAX_MAGNITUDE = 1e15


def _optional_columns(mdf, mpath, problems) -> dict:
    """Which optional parameters minerals.csv has; each needs its three columns together."""
    present = {}
    for name, (_, default) in {**OPTIONAL_PARAMETERS, **COST_PARAMETERS}.items():
        cols = [name, f"{name}_low", f"{name}_high"]
        have = [c for c in cols if c in mdf.columns]
        if have and len(have) < 3:
            problems.append(Problem(str(mpath), f"columns {cols} go together (central, low, high); missing "
                                                f"{[c for c in cols if c not in have]}; or drop all three to use "
                                                f"the default, {default}", line=1))
        present[name] = len(have) == 3
    return present


def _optional_parameters(row, code, line, mpath, present, el, problems):
    """Read and check adjustment_speed, backstop, backstop_elasticity and capex of one minerals.csv
    row into ``el`` (``name -> (central, low, high)``), with their defaults where not given."""
    for name, (rule, default) in {**OPTIONAL_PARAMETERS, **COST_PARAMETERS}.items():
        labels = (name, f"{name}_low", f"{name}_high")
        raw = [row[c] for c in labels] if present[name] else ["", "", ""]
        if all(r == "" for r in raw):
            if name == "adjustment_speed":
                el[name] = (1.0, 1.0, 1.0)
            elif name == "backstop":
                el[name] = (np.inf, np.inf, np.inf)
            elif name == "capex":
                el[name] = (np.nan, np.nan, np.nan)  # no investment cost data
            else:
                el[name] = tuple(el["demand_elasticity"])
            continue
        if any(r == "" for r in raw):
            blank = [c for c, r in zip(labels, raw) if r == ""]
            problems.append(Problem(str(mpath), f"give all three of {list(labels)} or leave all three blank "
                                                f"(default: {default}); {blank} blank",
                                    path=f"{code}.{blank[0]}", line=line))
            el[name] = (np.nan, np.nan, np.nan)
            continue
        c, lo, hi = (_number(row, col, mpath, problems) for col in labels)
        for label, v in zip(labels, (c, lo, hi)):
            if v != v or not np.isfinite(v):
                continue
            if name == "adjustment_speed":
                bad = not (0.0 < v <= 1.0)
            elif name == "backstop":
                bad = not v > 1.0
            elif name == "capex":
                bad = not v > 0.0
            else:
                bad = not v < 0.0
            if bad:
                problems.append(Problem(str(mpath), f"{rule}; got {v:g}", path=f"{code}.{label}", line=line))
        if c == c and lo == lo and hi == hi and not (lo <= c <= hi):
            problems.append(Problem(str(mpath), f"need {name}_low <= {name} <= {name}_high; got {lo:g}, {c:g}, {hi:g}",
                                    path=f"{code}.{name}", line=line))
        if name == "backstop_elasticity":
            for label, b, d in zip(labels, (c, lo, hi), el["demand_elasticity"]):
                if b == b and d == d and b < 0 and d < 0 and abs(b) < abs(d):
                    dlabel = label.replace("backstop_elasticity", "demand_elasticity")
                    problems.append(Problem(
                        str(mpath), f"the demand elasticity above the backstop must be at least as elastic as the "
                                    f"long-run demand elasticity: need |{label}| >= |{dlabel}|; got {b:g} and {d:g}",
                        path=f"{code}.{label}", line=line))
        el[name] = (c, lo, hi)


def load_dataset(name_or_path: str | Path = DEFAULT_DATASET, relative_to: Path | None = None) -> Dataset:
    """Load and check a dataset folder.

    Parameters
    ----------
    name_or_path : str or Path
        A built-in dataset name (see :func:`builtin_datasets`) or a folder path.
    relative_to : Path, optional
        Folder that a relative path is relative to (a scenario file's folder).

    Raises
    ------
    InputError
        Listing every problem found: missing files or columns, unknown regions, negative
        flows, bad units, elasticities of the wrong sign, a mineral without flows.
    """
    folder = resolve_dataset_path(name_or_path, relative_to)
    return _load_dataset_cached(str(folder))


@lru_cache(maxsize=16)
def _load_dataset_cached(folder_s: str) -> Dataset:
    folder = Path(folder_s)
    problems: list[Problem] = []
    if not folder.is_dir():
        known = builtin_datasets()
        raise InputError([Problem(str(folder), f"dataset folder not found; built-in datasets: {known}, or give a path to a folder with regions.csv, minerals.csv, flows.csv")])
    rpath, mpath, fpath = folder / "regions.csv", folder / "minerals.csv", folder / "flows.csv"
    tpath, cpath, xpath = folder / "tariffs.csv", folder / "capacity.csv", folder / "restrictions.csv"
    rdf = _read_csv(rpath, REGION_COLUMNS, problems)
    mdf = _read_csv(mpath, MINERAL_COLUMNS, problems)
    fdf = _read_csv(fpath, FLOW_COLUMNS, problems)
    tdf = _read_csv(tpath, TARIFF_COLUMNS, problems, required=False)
    cdf = _read_csv(cpath, CAPACITY_COLUMNS, problems, required=False)
    xdf = _read_csv(xpath, RESTRICTION_COLUMNS, problems, required=False)
    if problems:
        raise InputError(problems)

    # regions and groups
    regions: list[str] = []
    names: dict[str, str] = {}
    groups: dict[str, list[str]] = {}
    for _, row in rdf.iterrows():
        r = row["region"]
        if not r or r in regions:
            problems.append(Problem(str(rpath), f"region code {r!r} is empty or repeated", path="region", line=int(row["_line"])))
            continue
        regions.append(r)
        names[r] = row["name"]
        for g in [g.strip() for g in row["groups"].split(";") if g.strip()]:
            groups.setdefault(g, []).append(r)
    clash = sorted(set(groups) & set(regions))
    if clash:
        problems.append(Problem(str(rpath), f"group name(s) {clash} clash with region codes"))
    ridx = {r: k for k, r in enumerate(regions)}
    R = len(regions)

    def check_region(code, path, col, line):
        if code not in ridx:
            problems.append(Problem(str(path), unknown_name_message("region", code, regions), path=col, line=line))
            return False
        return True

    # minerals
    optional_present = _optional_columns(mdf, mpath, problems)
    minerals_meta = {}
    for _, row in mdf.iterrows():
        line = int(row["_line"])
        code = row["mineral"]
        if not code or code in minerals_meta:
            problems.append(Problem(str(mpath), f"mineral code {code!r} is empty or repeated", path="mineral", line=line))
            continue
        if row["unit"] != "t":
            problems.append(Problem(str(mpath), f"unit {row['unit']!r} not supported; flows must be in tonnes per year ('t')", path=f"{code}.unit", line=line))
        try:
            parse_price_unit(row["price_unit"])
        except UnitError as exc:
            problems.append(Problem(str(mpath), str(exc), path=f"{code}.price_unit", line=line))
        price = _number(row, "price", mpath, problems)
        if price == price and price <= 0:
            problems.append(Problem(str(mpath), f"price must be positive, got {price}", path=f"{code}.price", line=line))
        util = _number(row, "utilisation", mpath, problems, allow_blank=True)
        if util == util and not (0 < util <= 1):
            problems.append(Problem(str(mpath), f"utilisation must be in (0, 1] or blank (no capacity limit), got {util}", path=f"{code}.utilisation", line=line))
        el = {}
        for name, (sign, rule) in ELASTICITIES.items():
            c = _number(row, name, mpath, problems)
            lo = _number(row, f"{name}_low", mpath, problems)
            hi = _number(row, f"{name}_high", mpath, problems)
            for label, v in ((name, c), (f"{name}_low", lo), (f"{name}_high", hi)):
                if v == v and (v * sign <= 0 or (name == "armington" and abs(v - 1.0) < 1e-9)):
                    problems.append(Problem(str(mpath), f"{rule}; got {v}", path=f"{code}.{label}", line=line))
            if name == "armington" and lo == lo and hi == hi and lo < 1.0 < hi:
                problems.append(Problem(str(mpath), f"the Armington range [{lo}, {hi}] crosses 1, where the CES composite is undefined; keep low and high on one side of 1", path=f"{code}.armington_low", line=line))
            if c == c and lo == lo and hi == hi and not (lo <= c <= hi):
                problems.append(Problem(str(mpath), f"need {name}_low <= {name} <= {name}_high; got {lo}, {c}, {hi}", path=f"{code}.{name}", line=line))
            el[name] = (c, lo, hi)
        _optional_parameters(row, code, line, mpath, optional_present, el, problems)
        minerals_meta[code] = dict(row=row, price=price, util=util, el=el)

    flows = {m: np.zeros((R, R)) for m in minerals_meta}
    tariffs = {m: np.zeros((R, R)) for m in minerals_meta}
    utils = {m: np.full(R, minerals_meta[m]["util"]) for m in minerals_meta}

    def bilateral(df, path, col, target, nonneg_msg):
        seen = set()
        for _, row in df.iterrows():
            line = int(row["_line"])
            m = row["mineral"]
            if m not in minerals_meta:
                problems.append(Problem(str(path), unknown_name_message("mineral", m, minerals_meta), path="mineral", line=line))
                continue
            ok = check_region(row["origin"], path, "origin", line) & check_region(row["destination"], path, "destination", line)
            v = _number(row, col, path, problems)
            if not ok or v != v:
                continue
            if v < 0:
                problems.append(Problem(str(path), nonneg_msg.format(v=v), path=col, line=line))
                continue
            key = (m, row["origin"], row["destination"])
            if key in seen:
                problems.append(Problem(str(path), f"duplicate entry for {key}", line=line))
                continue
            seen.add(key)
            target[m][ridx[row["origin"]], ridx[row["destination"]]] = v

    bilateral(fdf, fpath, "quantity", flows, "quantity must be >= 0 (t/yr), got {v}")
    if tdf is not None:
        bilateral(tdf, tpath, "rate", tariffs, "tariff rate must be >= 0 (a fraction, 0.25 = 25%), got {v}")
        bad = [(m, r) for m in tariffs for r in np.argwhere(tariffs[m] > 5)]
        if bad:
            problems.append(Problem(str(tpath), "tariff rates are fractions (0.25 = 25%); rates above 5 (500%) look like percentages", path="rate"))
    if cdf is not None:
        for _, row in cdf.iterrows():
            line = int(row["_line"])
            m = row["mineral"]
            if m not in minerals_meta:
                problems.append(Problem(str(cpath), unknown_name_message("mineral", m, minerals_meta), path="mineral", line=line))
                continue
            if not check_region(row["region"], cpath, "region", line):
                continue
            u = _number(row, "utilisation", cpath, problems, allow_blank=True)
            if u == u and not (0 < u <= 1):
                problems.append(Problem(str(cpath), f"utilisation must be in (0, 1] or blank, got {u}", path="utilisation", line=line))
                continue
            utils[m][ridx[row["region"]]] = u

    for m in minerals_meta:
        if flows[m].sum() <= 0:
            problems.append(Problem(str(fpath), f"mineral {m!r} has no flows; every mineral in minerals.csv needs baseline flows", path="mineral"))
    if problems:
        raise InputError(problems)
    restrictions = {m: [] for m in minerals_meta}
    if xdf is not None:
        _baseline_restrictions(xdf, xpath, minerals_meta, regions, groups, flows, restrictions, problems)
    if problems:
        raise InputError(problems)

    minerals = {}
    for m, meta in minerals_meta.items():
        row = meta["row"]
        minerals[m] = MineralData(
            code=m, name=row["name"], stage=row["stage"], unit=row["unit"], price=meta["price"],
            price_unit=row["price_unit"], price_date=row["price_date"], regions=tuple(regions),
            flows=flows[m], tariffs=tariffs[m], utilisation=utils[m], elasticities=meta["el"],
            restrictions=tuple(restrictions[m]),
        )
        for a in (flows[m], tariffs[m], utils[m]):
            a.setflags(write=False)
    return Dataset(
        name=folder.name, path=folder, regions=tuple(regions), region_names=names,
        groups={g: tuple(v) for g, v in groups.items()}, minerals=minerals,
    )


def baseline_export_taxes(restrictions, R: int) -> np.ndarray:
    """Export tax rates (R, R) of a mineral's baseline restrictions (taxes on a flow add up)."""
    etax = np.zeros((R, R))
    for r in restrictions:
        if r.kind == "export_tax":
            etax[r.origin, r.dest == 1] += r.value
    return etax


def _baseline_restrictions(df, path, minerals_meta, regions, groups, flows, out, problems) -> None:
    """Read ``restrictions.csv`` into ``out[mineral]`` (a list of :class:`BaselineRestriction`).

    An export tax applies to every listed flow; a quota caps the listed flows together. With
    the observed export-to-domestic price ratio ``rho`` a quota binds in the baseline: its cap
    must equal the baseline flows and ``1 + lam0 = rho / (1 + e0)`` (``e0`` the baseline export
    tax on those flows); without ``rho`` it must not bind (cap >= baseline flows).
    """
    ridx = {r: k for k, r in enumerate(regions)}
    R = len(regions)
    pending = []
    for _, row in df.iterrows():
        line = int(row["_line"])
        m, kind = row["mineral"], row["type"]
        if m not in minerals_meta:
            problems.append(Problem(str(path), unknown_name_message("mineral", m, minerals_meta), path="mineral", line=line))
            continue
        if kind not in RESTRICTION_TYPES:
            problems.append(Problem(str(path), f"type {kind!r} is not one of " + "; ".join(f"{k} ({v})" for k, v in RESTRICTION_TYPES.items()), path="type", line=line))
            continue
        if row["origin"] not in ridx:
            problems.append(Problem(str(path), unknown_name_message("region", row["origin"], regions), path="origin", line=line))
            continue
        o = ridx[row["origin"]]
        dest = np.zeros(R, dtype=np.uint8)
        codes = [c.strip() for c in row["destinations"].split(";") if c.strip()]
        bad = False
        for c in codes:
            if c == "all":
                dest[:] = 1
            elif c in ridx:
                dest[ridx[c]] = 1
            elif c in groups:
                for r in groups[c]:
                    dest[ridx[r]] = 1
            else:
                problems.append(Problem(str(path), unknown_name_message("region or group", c, list(regions) + list(groups)) + " ('all' for every destination)", path="destinations", line=line))
                bad = True
        dest[o] = 0
        if bad or not codes:
            if not codes:
                problems.append(Problem(str(path), "destinations is empty; give 'all' or region codes separated by ';'", path="destinations", line=line))
            continue
        if kind == "licensing":
            continue  # recorded in the dataset; no effect without a quantity or a price wedge
        v = _number(row, "value", path, problems)
        rho = _number(row, "export_domestic_ratio", path, problems, allow_blank=True)
        if v != v:
            continue
        if kind == "export_tax" and not (0 <= v < 5):
            problems.append(Problem(str(path), f"an export tax rate is a fraction in [0, 5) (0.15 = 15%), got {v}", path="value", line=line))
            continue
        if kind == "quota" and v < 0:
            problems.append(Problem(str(path), f"a quota is a quantity in t/yr >= 0, got {v}", path="value", line=line))
            continue
        if rho == rho and rho <= 0:
            problems.append(Problem(str(path), f"export_domestic_ratio must be positive (FOB price / domestic price), got {rho}", path="export_domestic_ratio", line=line))
            continue
        pending.append((m, kind, o, dest, v, rho, line))
    # export taxes first: a quota's wedge is the observed ratio net of the tax on its flows
    for m, kind, o, dest, v, rho, line in pending:
        if kind == "export_tax":
            out[m].append(BaselineRestriction(kind, o, dest, v, rho, 0.0, line))
    etax = {m: baseline_export_taxes(out[m], R) for m in minerals_meta}
    for m, kind, o, dest, v, rho, line in pending:
        if kind != "quota":
            continue
        E0 = float(flows[m][o, dest == 1].sum())
        e0 = etax[m][o, dest == 1]
        if rho == rho:
            if abs(v - E0) > QUOTA_BINDING_TOL * max(E0, 1e-12):
                problems.append(Problem(str(path), f"{m}: a quota with an export_domestic_ratio binds in the baseline, so it must equal the "
                                        f"baseline flows it covers ({E0:,.3f} t/yr in flows.csv), got {v:,.3f}; leave the ratio blank for a quota "
                                        "that did not bind", path="value", line=line))
                continue
            if len(e0) and np.ptp(e0) > 1e-12:
                problems.append(Problem(str(path), f"{m}: the export tax differs across the quota's destinations; give one quota per tax rate", path="destinations", line=line))
                continue
            lam0 = rho / (1.0 + (float(e0[0]) if len(e0) else 0.0)) - 1.0
            if lam0 < -1e-9:
                problems.append(Problem(str(path), f"{m}: export_domestic_ratio {rho} is below 1 + the export tax on these flows ({1 + float(e0[0]):g}); "
                                        "a binding quota raises the export price above the domestic price times (1 + tax)", path="export_domestic_ratio", line=line))
                continue
            out[m].append(BaselineRestriction(kind, o, dest, v, rho, max(lam0, 0.0), line))
        else:
            if v < E0 * (1.0 - QUOTA_BINDING_TOL):
                problems.append(Problem(str(path), f"{m}: the quota ({v:,.3f} t/yr) is below the baseline flows it covers ({E0:,.3f} t/yr), so it "
                                        "binds: give the observed export_domestic_ratio (FOB / domestic price) so calibration can set its wedge",
                                        path="export_domestic_ratio", line=line))
                continue
            out[m].append(BaselineRestriction(kind, o, dest, v, rho, 0.0, line))
