"""The one registry of a run's outputs (docs/model.md sec. 5).

Every output is declared here once; everything else is derived from this module:

- the rows of the dynamics kernel's ``out`` array (``simsrc.kernels.dynamics.O_*`` are
  ``ROW[name]``, ``N_BASE_OUTPUTS`` is ``len(PER_PERIOD)``): the order of :data:`PER_PERIOD`
  is the order the kernel writes, so never reorder it without the kernel in mind;
- the columns of ``paths.parquet`` and ``summary`` (``simsrc.results.OUTPUTS``, then
  ``share_<ORIGIN>`` per watched origin), with units and descriptions;
- the per-draw scalars of ``draws.parquet`` (:data:`PER_DRAW`, ``simsrc.results.DRAW_OUTPUTS``),
  declared in the order :func:`simsrc.results.draw_scalars` writes them;
- the terms of a region's net welfare and their signs (``simsrc.results.WELFARE_TERMS``, in
  the order of their NPVs in :data:`PER_DRAW`), the world-only terms reported beside it
  (``simsrc.results.WORLD_TERMS``), the welfare components of the plots
  (``simsrc.plots.WELFARE_COMPONENTS``);
- display names (``simsrc.plots.LABELS``) and the headline measures of a comparison
  (``simsrc.compare.HEADLINES``).

This module imports nothing heavier than :mod:`dataclasses` (the numba kernels import it at
compile time); :func:`net_import_reliance` imports numpy when called.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Units an output may have. ``PRICE`` is the mineral's dataset price unit (e.g. USD/kg).
UNITS = ("PRICE", "t/yr", "USD/yr", "t", "share", "flag", "USD")

#: Statistics a per-draw output may be over its per-period output (:attr:`DrawOutput.stat`).
DRAW_STATS = ("npv", "net_welfare", "mean", "peak", "cumulative")


@dataclass(frozen=True)
class Output:
    """An output per draw, period and region (a row of the kernel's ``out``, a paths column).

    Attributes
    ----------
    name : str
        Column name.
    unit : str
        One of :data:`UNITS` (``USD/yr`` for welfare flows, ``t/yr`` for quantities).
    description : str
        One line for manifests, ``--help`` and readers of the results.
    label : str
        Short display name (axis labels, legends).
    welfare : int
        Sign with which the output enters a region's net welfare: +1, -1 or 0 (not a term).
    world : bool
        A world-only term (lost to the world or earned outside the region): reported beside
        net welfare, never part of it (``welfare`` is 0).
    nan_unless : str or None
        Where the output may be missing (NaN) in a valid solve: ``None`` nowhere; ``""``
        anywhere (capacity where there is no limit); otherwise the output that is zero wherever
        this one is missing (a region's origin price where it produces nothing). See
        :data:`MAY_BE_NAN`.
    """

    name: str
    unit: str
    description: str
    label: str
    welfare: int = 0
    world: bool = False
    nan_unless: str | None = None

    def __post_init__(self):
        if self.unit not in UNITS:
            raise ValueError(f"output {self.name}: unit {self.unit!r} is not one of {UNITS}")
        if self.welfare not in (-1, 0, 1):
            raise ValueError(f"output {self.name}: welfare sign {self.welfare!r} is not +1, -1 or 0")
        if self.world and self.welfare:
            raise ValueError(f"output {self.name}: a world-only term has no sign in a region's welfare")
        if (self.welfare or self.world) and self.unit != "USD/yr":
            raise ValueError(f"output {self.name}: a welfare term is in USD/yr, not {self.unit}")


@dataclass(frozen=True)
class Headline:
    """How a per-draw output is shown as a headline effect of a comparison.

    ``relative``: the effect in percent of the counterfactual's per-draw value (``scale``
    unused); otherwise ``(scenario - counterfactual) * scale`` in ``unit``. ``rank``: the
    position among the headlines.
    """

    label: str
    scale: float
    unit: str
    relative: bool
    rank: int


@dataclass(frozen=True)
class DrawOutput:
    """A per-draw, per-region scalar of ``draws.parquet``.

    Attributes
    ----------
    name, unit, description, label : str
        As for :class:`Output` (``USD`` for NPVs).
    of : str or None
        The per-period output it summarises (None for net welfare, a sum of terms).
    stat : str
        One of :data:`DRAW_STATS`: ``npv`` (discounted sum; then ``name`` is ``npv_<of>``),
        ``net_welfare`` (the signed sum of the welfare terms' NPVs), ``mean``, ``peak`` or
        ``cumulative`` (undiscounted sum) over the horizon.
    headline : Headline or None
        Set where the output is a headline measure of a comparison.
    """

    name: str
    unit: str
    description: str
    label: str
    of: str | None
    stat: str
    headline: Headline | None = None

    def __post_init__(self):
        if self.unit not in UNITS:
            raise ValueError(f"draw output {self.name}: unit {self.unit!r} is not one of {UNITS}")
        if self.stat not in DRAW_STATS:
            raise ValueError(f"draw output {self.name}: stat {self.stat!r} is not one of {DRAW_STATS}")
        if self.stat == "npv" and self.name != f"npv_{self.of}":
            raise ValueError(f"draw output {self.name}: the NPV of {self.of} is named npv_{self.of}")


_USD_M = "USD m"

#: Outputs per draw, period and region, in the order of the kernel's output rows.
PER_PERIOD: tuple[Output, ...] = (
    Output("origin_price", "PRICE", "producer (origin) price of the region's output, before tariffs",
           "Origin price", nan_unless="production"),
    Output("consumer_price", "PRICE", "composite consumer price in the region, tariffs and levies included",
           "Consumer price", nan_unless="consumption"),
    Output("production", "t/yr", "production (annual rate)", "Production"),
    Output("consumption", "t/yr", "consumption (annual rate), including government offtake", "Consumption"),
    Output("imports", "t/yr", "imports (consumption less domestic supply)", "Imports"),
    Output("exports", "t/yr", "exports (production less domestic sales)", "Exports"),
    Output("capacity", "t/yr", "production capacity", "Capacity", nan_unless=""),
    Output("net_import_reliance", "share", "max(0, (C - Q) / C), the USGS definition", "Net import reliance",
           nan_unless="consumption"),
    Output("tariff_revenue", "USD/yr", "tariff revenue collected by the region as importer", "Tariff revenue",
           welfare=+1),
    Output("levy_revenue", "USD/yr",
           "minimum-import-price levy revenue (importer, or exporter under an undertaking)", "Levy revenue",
           welfare=+1),
    Output("quota_rent", "USD/yr", "export-restriction quota rent earned by the region as exporter", "Quota rent",
           welfare=+1),
    Output("floor_fiscal_cost", "USD/yr", "producer price floor payments net of the government's upside share",
           "Floor fiscal cost", welfare=-1),
    Output("stockpile", "t", "strategic stock held by the region", "Stockpile"),
    Output("cs_change", "USD/yr", "consumer surplus change against the baseline price path",
           "Consumer surplus change", welfare=+1),
    Output("ps_change", "USD/yr", "producer surplus change against the baseline price path",
           "Producer surplus change", welfare=+1),
    Output("fob_price", "PRICE",
           "export (FOB) price: quantity-weighted mean over the region's exports of the border price before "
           "tariffs, export taxes and restriction wedges included", "FOB price", nan_unless="exports"),
    Output("export_tax_revenue", "USD/yr", "export-tax revenue collected by the region as exporter",
           "Export tax revenue", welfare=+1),
    Output("transship_cost", "USD/yr",
           "cost of routing restricted imports into the region through third countries (lost to the world)",
           "Transshipment cost", world=True),
    Output("intermediary_rent", "USD/yr",
           "scarcity rent of third-country intermediaries on restricted imports into the region (outside the "
           "region's welfare)", "Intermediary rent", world=True),
    Output("backstop_substitution", "t/yr",
           "demand for the region's composite lost to substitutes, thrifting and recycling above the backstop price",
           "Backstop substitution"),
    Output("stockpile_sales", "USD/yr",
           "government stock released and sold in the region's market, at its consumer price", "Stockpile sales",
           welfare=+1),
    Output("stockpile_purchases", "USD/yr",
           "government purchases to refill the region's stock, at its consumer price", "Stockpile purchases",
           welfare=-1),
    Output("stockpile_value_change", "USD/yr",
           "change in the value of the region's stock at its consumer price (quantity and price), per year",
           "Stockpile value change", welfare=+1),
    Output("welfare_flag", "flag",
           "1 where the region's net welfare change exceeds the value of its baseline consumption per year (a "
           "parameter draw outside what the model was calibrated for)", "Welfare flag"),
    Output("converged", "flag", "1 if the market clearing converged in this draw and period", "Converged"),
    # appended after the registry was introduced (rows are only ever appended)
    Output("equity_income", "USD/yr",
           "the government's share of its floor-covered producer's surplus, net of investment cost (equity "
           "stakes): a transfer within the region, deducted from producer surplus", "Equity income", welfare=+1),
)

#: Output name -> its row in the kernel's ``out`` array (and its position among the paths columns).
ROW: dict[str, int] = {o.name: i for i, o in enumerate(PER_PERIOD)}

#: Output name -> :class:`Output`.
BY_NAME: dict[str, Output] = {o.name: o for o in PER_PERIOD}

#: The outputs that may be missing (NaN) in a valid solve -> the output that is zero wherever
#: they are ("": anywhere); every other output is finite in a valid solve (the engine treats a
#: solve that breaks this as failed, ``simsrc solve`` reports it).
MAY_BE_NAN: dict[str, str] = {o.name: o.nan_unless for o in PER_PERIOD if o.nan_unless is not None}

#: Flags (0/1 outputs): a comparison does not difference them.
FLAGS: tuple[str, ...] = tuple(o.name for o in PER_PERIOD if o.unit == "flag")


def _npv(of: str, description: str, label: str, headline: Headline | None = None) -> DrawOutput:
    return DrawOutput(f"npv_{of}", "USD", description, label, of, "npv", headline)


# NPVs of the welfare terms, in the order they are summed into net welfare and written
_NPV_WELFARE = (
    _npv("cs_change", "NPV of the consumer surplus change", "Consumer surplus",
         Headline("consumer surplus NPV", 1e-6, _USD_M, False, 4)),
    _npv("ps_change", "NPV of the producer surplus change", "Producer surplus",
         Headline("producer surplus NPV", 1e-6, _USD_M, False, 5)),
    _npv("tariff_revenue", "NPV of tariff revenue", "Tariff revenue",
         Headline("tariff revenue NPV", 1e-6, _USD_M, False, 6)),
    _npv("levy_revenue", "NPV of levy revenue", "Levy revenue",
         Headline("levy revenue NPV", 1e-6, _USD_M, False, 7)),
    _npv("export_tax_revenue", "NPV of export-tax revenue", "Export tax revenue",
         Headline("export tax revenue NPV", 1e-6, _USD_M, False, 8)),
    _npv("quota_rent", "NPV of quota rents", "Quota rent",
         Headline("quota rents NPV", 1e-6, _USD_M, False, 9)),
    _npv("floor_fiscal_cost", "NPV of floor fiscal cost", "Floor fiscal cost",
         Headline("floor fiscal cost NPV", 1e-6, _USD_M, False, 10)),
    _npv("stockpile_sales", "NPV of stockpile sales", "Stockpile sales"),
    _npv("stockpile_purchases", "NPV of stockpile purchases", "Stockpile purchases"),
    _npv("stockpile_value_change", "NPV of the change in the stock's value", "Stockpile value change"),
    _npv("equity_income", "NPV of the government's equity income", "Equity income",
         Headline("equity income NPV", 1e-6, _USD_M, False, 11)),
)


def _net_welfare_description() -> str:
    text = _NPV_WELFARE[0].label.lower()
    for d in _NPV_WELFARE[1:]:
        text += (" - " if BY_NAME[d.of].welfare < 0 else " + ") + d.label.lower()
    return f"NPV of net welfare: {text}"


#: Per-draw, per-region scalars of ``draws.parquet``, in the order they are written.
PER_DRAW: tuple[DrawOutput, ...] = _NPV_WELFARE + (
    DrawOutput("npv_net_welfare", "USD", _net_welfare_description(), "Net welfare", None, "net_welfare",
               Headline("net welfare NPV", 1e-6, _USD_M, False, 12)),
    _npv("transship_cost", "NPV of transshipment costs on the region's restricted imports (lost)",
         "Transshipment cost"),
    _npv("intermediary_rent", "NPV of intermediaries' rents on the region's restricted imports",
         "Intermediary rent"),
    DrawOutput("mean_consumer_price", "PRICE", "mean consumer price over the horizon", "Mean consumer price",
               "consumer_price", "mean", Headline("consumer price", 1.0, "%", True, 0)),
    DrawOutput("mean_origin_price", "PRICE", "mean origin (producer) price over the horizon", "Mean origin price",
               "origin_price", "mean", Headline("origin price", 1.0, "%", True, 1)),
    DrawOutput("mean_production", "t/yr", "mean production over the horizon", "Mean production",
               "production", "mean", Headline("production", 1.0, "%", True, 2)),
    DrawOutput("peak_consumer_price", "PRICE", "highest consumer price over the horizon", "Peak consumer price",
               "consumer_price", "peak"),
    DrawOutput("peak_origin_price", "PRICE", "highest origin price over the horizon", "Peak origin price",
               "origin_price", "peak"),
    DrawOutput("mean_import_reliance", "share", "mean net import reliance over the horizon",
               "Mean net import reliance", "net_import_reliance", "mean",
               Headline("import reliance", 100.0, "pp", False, 3)),
    DrawOutput("cum_floor_fiscal_cost", "USD", "undiscounted cumulative floor fiscal cost",
               "Cumulative floor fiscal cost", "floor_fiscal_cost", "cumulative"),
    DrawOutput("converged_share", "share", "share of periods whose market clearing converged", "Share converged",
               "converged", "mean"),
)

#: Per-draw output name -> :class:`DrawOutput`.
DRAW_BY_NAME: dict[str, DrawOutput] = {d.name: d for d in PER_DRAW}

#: Terms of a region's net welfare -> sign (+1 or -1), in the order their NPVs are summed.
WELFARE: dict[str, int] = {d.of: BY_NAME[d.of].welfare for d in PER_DRAW
                           if d.stat == "npv" and BY_NAME[d.of].welfare}

#: World-only terms, reported beside net welfare and never part of it.
WORLD: tuple[str, ...] = tuple(d.of for d in PER_DRAW if d.stat == "npv" and BY_NAME[d.of].world)

#: Headline measures of a comparison, in display order: (label, per-draw column, scale, unit, relative?).
HEADLINES: list[tuple[str, str, float, str, bool]] = [
    (d.headline.label, d.name, d.headline.scale, d.headline.unit, d.headline.relative)
    for d in sorted((d for d in PER_DRAW if d.headline), key=lambda d: d.headline.rank)]

#: Short display name of every output, per period and per draw.
LABELS: dict[str, str] = {**{o.name: o.label for o in PER_PERIOD}, **{d.name: d.label for d in PER_DRAW}}


def net_import_reliance(consumption, production):
    """USGS net import reliance ``max(0, (C - Q) / C)``; NaN where consumption is not positive.

    The one definition outside the dynamics kernel (which computes the same per region and
    period); arrays or scalars, returns a float ndarray.
    """
    import numpy as np

    c = np.asarray(consumption, dtype=float)
    q = np.asarray(production, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(c > 0, np.maximum(0.0, (c - q) / np.where(c > 0, c, 1.0)), np.nan)


def _check():
    """The registry's own consistency (run at import: a slip fails loudly, not in a result)."""
    for seq, what in ((PER_PERIOD, "output"), (PER_DRAW, "draw output")):
        names = [x.name for x in seq]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"{what}s declared twice: {sorted(dup)}")
    if set(BY_NAME) & set(DRAW_BY_NAME):
        raise ValueError(f"names both per period and per draw: {sorted(set(BY_NAME) & set(DRAW_BY_NAME))}")
    for d in PER_DRAW:
        if d.of is not None and d.of not in BY_NAME:
            raise ValueError(f"draw output {d.name} summarises an unknown output {d.of!r}")
    npv_of = [d.of for d in PER_DRAW if d.stat == "npv"]
    for o in PER_PERIOD:
        if (o.welfare or o.world) and npv_of.count(o.name) != 1:
            raise ValueError(f"welfare term {o.name} needs exactly one NPV among the per-draw outputs")
    stats = [d.stat for d in PER_DRAW]
    last_term = max(i for i, d in enumerate(PER_DRAW) if d.stat == "npv" and BY_NAME[d.of].welfare)
    if stats.count("net_welfare") != 1 or stats.index("net_welfare") < last_term:
        raise ValueError("net welfare is declared once, after the NPVs of all its terms")
    ranks = sorted(d.headline.rank for d in PER_DRAW if d.headline)
    if ranks != list(range(len(ranks))):
        raise ValueError(f"headline ranks {ranks} are not 0..{len(ranks) - 1}")


_check()
