"""Pydantic models of a scenario file: the one source of truth for its format.

The JSON Schema printed by ``simsrc schema`` is generated from these models, so every field's
description is user documentation: it names the unit and the default.
"""

from __future__ import annotations

import datetime as _dt
from typing import Annotated, Any, Literal, Optional, Union

from annotated_types import MinLen
from pydantic import (
    AfterValidator, BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, PrivateAttr,
    Tag, ValidationInfo, WithJsonSchema, field_validator, model_validator,
)

from .distributions import Distribution, _DistBase
from .timeline import TIME_HELP, TIME_PATTERN, active_range, normalize_time, parse_time, period_index

# ----------------------------------------------------------------------------------------------
# Building blocks
# ----------------------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, validate_default=False)


class UncertainMarker:
    """Annotation marker of fields that accept a number or a distribution."""

    def __repr__(self) -> str:
        return "UNCERTAIN"


UNCERTAIN = UncertainMarker()


class Bounds:
    """Allowed interval of a numeric field; checks numbers and the supports of distributions.

    Also adds ``minimum``/``maximum`` to the JSON Schema (they constrain plain numbers only).
    """

    def __init__(self, lo=None, hi=None, *, lo_open=False, hi_open=False, what="the value",
                 not_one=False):
        self.lo, self.hi, self.lo_open, self.hi_open = lo, hi, lo_open, hi_open
        self.what, self.not_one = what, not_one

    def interval(self) -> str:
        lo, hi = self.lo, self.hi
        if lo is not None and hi is not None:
            return f"in {'(' if self.lo_open else '['}{lo:g}, {hi:g}{')' if self.hi_open else ']'}"
        if lo is not None:
            return f"{'>' if self.lo_open else '>='} {lo:g}"
        if hi is not None:
            return f"{'<' if self.hi_open else '<='} {hi:g}"
        return "finite"

    def contains(self, a: float, b: float) -> bool:
        """True if the interval [a, b] lies inside the allowed interval."""
        if self.lo is not None and (a < self.lo or (self.lo_open and a <= self.lo)):
            return False
        if self.hi is not None and (b > self.hi or (self.hi_open and b >= self.hi)):
            return False
        return True

    def message(self, value) -> str | None:
        """Why ``value`` (number or distribution) is not allowed, or None if it is."""
        if isinstance(value, _DistBase):
            a, b = value.support()
            if not self.contains(a, b):
                return (f"{self.what} must be {self.interval()}, but {value.describe()} can take values in "
                        f"[{a:g}, {b:g}]; narrow the distribution (or truncate it with low/high)")
            if self.not_one and a <= 1.0 <= b and a != b:
                return (f"{self.what} must not be 1 (the CES composite is undefined at 1), but "
                        f"{value.describe()} can take values in [{a:g}, {b:g}], which includes 1; keep the "
                        "distribution on one side of 1")
            if self.not_one and a == b == 1.0:
                return f"{self.what} must not be 1 (the CES composite is undefined at 1)"
            return None
        v = float(value)
        if not self.contains(v, v):
            return f"{self.what} must be {self.interval()}; got {v:g}"
        if self.not_one and abs(v - 1.0) < 1e-9:
            return f"{self.what} must not be 1 (the CES composite is undefined at 1); got {v:g}"
        return None

    def check(self, value):
        msg = self.message(value)
        if msg:
            raise ValueError(msg)
        return value

    def __get_pydantic_json_schema__(self, core_schema, handler):
        js = handler(core_schema)
        if self.lo is not None:
            js["exclusiveMinimum" if self.lo_open else "minimum"] = self.lo
        if self.hi is not None:
            js["exclusiveMaximum" if self.hi_open else "maximum"] = self.hi
        return js


def _reject_bool(v):
    if isinstance(v, bool):
        raise ValueError(f"expected a number, got {v!r} (YAML reads yes/no/on/off/true/false as booleans)")
    return v


def _uncertain_tag(v):
    return "distribution" if isinstance(v, (dict, _DistBase)) else "number"


_DIST_PLACEHOLDER = {"x-simsrc": "distribution"}

_UncertainBase = Annotated[
    Union[
        Annotated[float, BeforeValidator(_reject_bool), Tag("number")],
        # the JSON Schema refers to one shared definition (added by scenario_json_schema)
        Annotated[Distribution, Tag("distribution"), WithJsonSchema(_DIST_PLACEHOLDER)],
    ],
    Discriminator(_uncertain_tag),
    UNCERTAIN,
]


def uncertain(lo=None, hi=None, *, lo_open=False, hi_open=False, what="the value", not_one=False):
    """Type of a field that takes a number or a distribution, with allowed interval."""
    b = Bounds(lo, hi, lo_open=lo_open, hi_open=hi_open, what=what, not_one=not_one)
    return Annotated[_UncertainBase, AfterValidator(b.check), b]


#: A number or a distribution, without range restriction.
Uncertain = _UncertainBase
#: A probability in [0, 1], number or distribution.
Probability = uncertain(0, 1, what="a probability")
#: A share in [0, 1], number or distribution.
Share = uncertain(0, 1, what="a share")

UNCERTAIN_HELP = (" Accepts a number or a distribution: {dist: uniform, low, high}, "
                  "{dist: triangular, low, mode, high}, {dist: pert, low, mode, high, lamb}, "
                  "{dist: truncnormal, mean, sd, low, high}, {dist: lognormal, median, sigma, low, high} "
                  "or {dist: fixed, value}; drawn once per Monte Carlo draw.")


def _check_name(v: str) -> str:
    import re
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_\-]*", v):
        raise ValueError(f"invalid name {v!r}: use letters, digits, '_' and '-', starting with a letter "
                         "(no dots or spaces: names appear in `when` conditions and in dotted input names)")
    return v


#: Allowed scenario names: they become part of results folder names.
SCENARIO_NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.\-]*"
SCENARIO_NAME_MAX = 64
#: Most Monte Carlo draws of one run, and the largest seed.
MAX_DRAWS = 10_000_000
MAX_SEED = 2**63 - 1
#: Largest quantity in tonnes (per year or in stock) a policy may name; world output of any
#: mineral is below 1e9 t/yr, so more is a typo (and would overflow the float32 outputs).
MAX_TONNES = 1e12


def _check_scenario_name(v: str) -> str:
    import re
    if len(v) > SCENARIO_NAME_MAX or not re.fullmatch(SCENARIO_NAME_PATTERN, v):
        raise ValueError(f"invalid scenario name {_shown(v)}: use at most {SCENARIO_NAME_MAX} letters, digits, "
                         "'_', '-' and '.', starting with a letter or digit (the name becomes part of the "
                         "results folder name, so no '/', spaces or other characters)")
    return v


def _shown(v) -> str:
    s = repr(v)
    return s if len(s) <= 60 else s[:57] + "...'"


def _whole(v):
    """A whole number, not a boolean (YAML reads true/yes/on as booleans) nor a float."""
    if isinstance(v, bool):
        raise ValueError(f"expected a whole number, got {v!r} (YAML reads yes/no/on/off/true/false as booleans)")
    return v


Whole = Annotated[int, BeforeValidator(_whole)]


def _text(v):
    if isinstance(v, bool):
        raise ValueError(f"expected a name, got {v!r} (YAML reads yes/no/on/off/true/false as booleans; quote it)")
    if isinstance(v, (int, float)):
        raise ValueError(f"expected a name (text), got the number {v!r}")
    return v


#: A policy/event/parameter/group name.
Name = Annotated[str, BeforeValidator(_text), AfterValidator(_check_name)]
#: A region, group or mineral code.
Code = Annotated[str, BeforeValidator(_text), MinLen(1)]


def _as_list(v):
    return [v] if isinstance(v, str) else v


def _no_duplicates(v):
    seen = set()
    for c in v:
        if c in seen:
            raise ValueError(f"{c!r} is listed more than once; list each code once")
        seen.add(c)
    return v


#: One or more codes (a single code is accepted for a one-element list), each once.
CodeList = Annotated[list[Code], BeforeValidator(_as_list), MinLen(1), AfterValidator(_no_duplicates)]


def _all_tag(v):
    return "all" if v == "all" else "names"


#: The keyword ``all`` or one or more codes.
CodesOrAll = Annotated[
    Union[Annotated[Literal["all"], Tag("all")], Annotated[CodeList, Tag("names")]],
    Discriminator(_all_tag),
]

#: A quarter ``2026Q1`` or an ISO date ``2026-01-14``.
Time = Annotated[
    str,
    BeforeValidator(normalize_time),
    WithJsonSchema({"type": "string", "pattern": TIME_PATTERN,
                    "description": f"A time: {TIME_HELP}; a quarter stands for its first day.",
                    "examples": ["2026Q1", "2026-01-14"]}),
]

# ----------------------------------------------------------------------------------------------
# Conditions on events
# ----------------------------------------------------------------------------------------------

#: States of each event type; the first is the event's main state (what a bare name means).
EVENT_STATES = {
    "dated": ("fired",),
    "markov": ("on", "off"),
    "negotiation": ("failed", "succeeded", "pending"),
}


def _check_ref(v: str) -> str:
    import re
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_\-]*(\.[A-Za-z_]+)?", v.strip()):
        raise ValueError(f"invalid condition {v!r}; write EVENT or EVENT.STATE, e.g. 'section232.failed' "
                         "(states: dated -> fired; markov -> on, off; negotiation -> failed, succeeded, pending)")
    return v.strip()


EventRef = Annotated[str, AfterValidator(_check_ref)]


def _cond_tag(v):
    if isinstance(v, str):
        return "ref"
    if isinstance(v, list):
        return "all_list"
    if isinstance(v, AnyOf) or (isinstance(v, dict) and "any" in v):
        return "any_of"
    if isinstance(v, AllOf) or (isinstance(v, dict) and "all" in v):
        return "all_of"
    return None


_COND_ERROR = ("a condition is 'EVENT' or 'EVENT.STATE', a list of conditions (all must hold), "
               "{any: [conditions]} or {all: [conditions]}")


class AnyOf(_Model):
    """Holds when at least one of its conditions holds."""

    any: list["CondItem"] = Field(min_length=1, description="Conditions, at least one of which must hold.")


class AllOf(_Model):
    """Holds when all of its conditions hold."""

    all: list["CondItem"] = Field(min_length=1, description="Conditions that must all hold.")


CondItem = Annotated[
    Union[Annotated[EventRef, Tag("ref")], Annotated[AnyOf, Tag("any_of")], Annotated[AllOf, Tag("all_of")]],
    Discriminator(_cond_tag, custom_error_type="condition", custom_error_message=_COND_ERROR),
]
AnyOf.model_rebuild()
AllOf.model_rebuild()

#: A condition on events (see the ``when`` field of policies).
Condition = Annotated[
    Union[
        Annotated[EventRef, Tag("ref")],
        Annotated[list[CondItem], Tag("all_list"), MinLen(1)],
        Annotated[AnyOf, Tag("any_of")],
        Annotated[AllOf, Tag("all_of")],
    ],
    Discriminator(_cond_tag, custom_error_type="condition", custom_error_message=_COND_ERROR),
]

WHEN_HELP = ("Condition on events under which the policy applies (in each draw and period): "
             "'EVENT.STATE' (e.g. 'section232.failed'), a bare 'EVENT' meaning its main state "
             "(dated: fired; markov: on; negotiation: failed), a list of conditions that must all hold, "
             "or {any: [conditions]}. Default: always (within start/end).")


def condition_refs(cond) -> list[tuple[str, Optional[str], tuple]]:
    """All event references in a condition: ``(event, state or None, path inside the condition)``."""
    out = []

    def walk(c, path):
        if isinstance(c, str):
            ev, _, st = c.partition(".")
            out.append((ev, st or None, path))
        elif isinstance(c, list):
            for k, x in enumerate(c):
                walk(x, path + (k,))
        elif isinstance(c, AnyOf):
            for k, x in enumerate(c.any):
                walk(x, path + ("any", k))
        elif isinstance(c, AllOf):
            for k, x in enumerate(c.all):
                walk(x, path + ("all", k))

    if cond is not None:
        walk(cond, ())
    return out


def evaluate_condition(cond, state):
    """Evaluate a condition; ``state(event, state_name)`` returns a bool or a NumPy bool array.

    ``state_name`` is always explicit (a bare event name is passed with its main state), so the
    engine can evaluate conditions on whole arrays of draws at once.
    """
    import numpy as np

    if cond is None:
        return True
    if isinstance(cond, str):
        ev, _, st = cond.partition(".")
        return state(ev, st or None)
    if isinstance(cond, list):
        return np.logical_and.reduce([evaluate_condition(c, state) for c in cond])
    if isinstance(cond, AnyOf):
        return np.logical_or.reduce([evaluate_condition(c, state) for c in cond.any])
    if isinstance(cond, AllOf):
        return np.logical_and.reduce([evaluate_condition(c, state) for c in cond.all])
    raise TypeError(f"not a condition: {cond!r}")


# ----------------------------------------------------------------------------------------------
# Horizon, parameters, dynamics, outputs
# ----------------------------------------------------------------------------------------------


class Horizon(_Model):
    """The simulated time span."""

    start: Time = Field(description="First period: a quarter like 2026Q1, or an ISO date (rounded down to the start of the period that contains it).")
    periods: Whole = Field(gt=0, le=1200, description="Number of periods simulated (e.g. 40 quarters = 10 years).")
    period: Literal["quarter", "year", "month"] = Field(
        "quarter", description="Period length. Flows stay annual rates (t/yr); volumes per period are rate x period length.")


#: Parameter kinds, their allowed interval and unit.
PARAMETER_RULES: dict[str, tuple[Bounds, str]] = {
    "supply_elasticity": (Bounds(0, None, lo_open=True, what="a supply elasticity"),
                          "supply elasticity eps of origin regions (dimensionless, > 0)"),
    "demand_elasticity": (Bounds(None, 0, hi_open=True, what="a demand elasticity"),
                          "demand elasticity of destination regions (dimensionless, < 0; the model uses eta = -value)"),
    "armington": (Bounds(0, None, lo_open=True, what="an Armington elasticity", not_one=True),
                  "Armington elasticity of substitution sigma of destination regions (> 0, not 1)"),
    "adjustment_speed": (Bounds(0, 1, lo_open=True, what="an adjustment speed"),
                         "demand adjustment speed of destination regions: share of the gap between current and long-run demand closed within one year, in (0, 1] (1 = at once; short-run elasticity = speed x long-run per period)"),
    "backstop": (Bounds(1, None, lo_open=True, what="a backstop price index"),
                 "backstop price index of destination regions: multiple of the baseline consumer price above which substitution, thrifting and recycling set in (> 1)"),
    "backstop_elasticity": (Bounds(None, 0, hi_open=True, what="a backstop elasticity"),
                            "demand elasticity above the backstop price of destination regions (dimensionless, < 0, more elastic than the long-run demand elasticity)"),
    "capex": (Bounds(0, None, lo_open=True, what="a capital cost"),
              "capital cost of capacity of origin regions, USD per (t/yr) of annual capacity (> 0): charged to producer surplus for investment beyond replacement and for capacity projects"),
    "demand_growth": (Bounds(-1, 1, what="annual demand growth"),
                      "annual demand drift mu (fraction per year, 0.05 = 5%/yr)"),
    "demand_volatility": (Bounds(0, 2, what="annual demand volatility"),
                          "annual demand volatility s (standard deviation of log demand per sqrt(year))"),
    "depreciation": (Bounds(0, 1, what="annual depreciation"),
                     "annual capacity depreciation delta (fraction per year)"),
    "investment_response": (Bounds(0, None, what="the investment response"),
                            "investment response kappa (extra investment per year, as a share of capacity, per unit of expected price index above 1)"),
    "lead_time": (Bounds(0, 50, what="a lead time"), "investment lead time L (years)"),
    "expectation_weight": (Bounds(0, 1, lo_open=True, what="an expectation weight"),
                           "adaptive-expectations weight per period, in (0, 1] (1 = expect the last price)"),
    "floor_payback_years": (Bounds(0, 50, lo_open=True, what="a payback period"),
                            "payback period of floor-covered capacity (years): the floor's pull on investment fades over the floor's last years"),
    "max_investment_rate": (Bounds(0, 5, what="a maximum investment rate"),
                            "ceiling on gross investment per year as a share of capacity (fraction per year)"),
}
ParameterKind = Literal[
    "supply_elasticity", "demand_elasticity", "armington", "adjustment_speed", "backstop",
    "backstop_elasticity", "capex", "demand_growth", "demand_volatility",
    "depreciation", "investment_response", "lead_time", "expectation_weight", "floor_payback_years",
    "max_investment_rate",
]
ELASTICITY_KINDS = ("supply_elasticity", "demand_elasticity", "armington", "adjustment_speed", "backstop",
                    "backstop_elasticity", "capex")


class Parameter(_Model):
    """Override of a model parameter for some minerals and regions."""

    name: Name = Field(description="Unique name; the value is listed as the uncertain input parameters.NAME.value.")
    description: str = Field("", description="Free text: source or reasoning.")
    parameter: ParameterKind = Field(description="Which parameter: " + "; ".join(f"{k}: {d}" for k, (_, d) in PARAMETER_RULES.items()) + ".")
    minerals: CodesOrAll = Field("all", description="Mineral codes the value applies to, or 'all' (default).")
    regions: CodesOrAll = Field("all", description="Regions or groups the value applies to (origins for supply_elasticity, destinations for demand and Armington elasticities), or 'all' (default).")
    value: Uncertain = Field(description="The value (unit as stated for `parameter`); with a distribution, one draw per Monte Carlo draw is shared by all listed minerals and regions." + UNCERTAIN_HELP)

    @field_validator("value")
    @classmethod
    def _check_value(cls, v, info: ValidationInfo):
        kind = info.data.get("parameter")
        if kind in PARAMETER_RULES:
            PARAMETER_RULES[kind][0].check(v)
        return v


def _bounded(kind):
    b = PARAMETER_RULES[kind][0]
    return Annotated[_UncertainBase, AfterValidator(b.check), b]


class Dynamics(_Model):
    """Defaults of the dynamic model (docs/model.md sec. 4); `parameters` override them per mineral/region.

    The defaults are modelling assumptions, not data: override them in scenarios that study dynamics.
    """

    demand_growth: _bounded("demand_growth") = Field(
        0.0, description="Annual demand drift mu (fraction per year). Default assumption 0: no trend, so policy effects are not mixed with growth." + UNCERTAIN_HELP)
    demand_volatility: _bounded("demand_volatility") = Field(
        0.10, description="Annual demand volatility s (sd of log demand per sqrt(year)). Default assumption 0.10, of the order of year-to-year swings in consumption of minor metals." + UNCERTAIN_HELP)
    depreciation: _bounded("depreciation") = Field(
        0.05, description="Annual capacity depreciation delta (fraction per year). Default assumption 0.05 (a 20-year asset life)." + UNCERTAIN_HELP)
    investment_response: _bounded("investment_response") = Field(
        0.5, description="Investment response kappa: extra gross investment per year, as a share of capacity, per unit of expected producer price index above 1 (I = K (delta + kappa (pe - 1))+). Default assumption 0.5." + UNCERTAIN_HELP)
    lead_time: _bounded("lead_time") = Field(
        3.0, description="Lead time L between investment and new capacity (years). Default assumption 3 years (processing plants; new mines take longer)." + UNCERTAIN_HELP)
    expectation_weight: _bounded("expectation_weight") = Field(
        0.25, description="Adaptive-expectations weight per period in (0, 1]: pe[t+1] = pe[t] + w (p[t] - pe[t]). Default assumption 0.25 per quarter (about one year of memory)." + UNCERTAIN_HELP)
    floor_payback_years: _bounded("floor_payback_years") = Field(
        5.0, description="Payback period of capacity covered by a producer price floor (years): investment in the covered segment expects at least the floor while the floor has more than this to run, and its expectation fades linearly to the market's as the floor's remaining life falls to 0. Default assumption 5 years." + UNCERTAIN_HELP)
    max_investment_rate: _bounded("max_investment_rate") = Field(
        0.30, description="Ceiling on gross investment per year as a share of capacity: I = K min(delta + kappa (pe - 1), max_investment_rate)+. Default assumption 0.30 (capacity grows at most ~25%/yr net of 5% depreciation, the pace of the fastest processing build-outs); without it, iso-elastic demand with a tiny elasticity can make expected prices, and so capacity, explode. An addition to docs/model.md sec. 4." + UNCERTAIN_HELP)


class Trade(_Model):
    """Options of the trade model (docs/model.md sec. 1)."""

    latent_link_weight: Annotated[float, BeforeValidator(_reject_bool)] = Field(
        0.001, ge=0, le=1,
        description="Latent links: a producing origin with no baseline flow to a consuming destination may still "
                    "serve it, with the Armington weight of a flow of this share of the destination's baseline "
                    "consumption (>= 0; 0 disables latent links). The calibrated baseline then holds the data plus "
                    "those flows, which differ from the data by at most this share. Default assumption 0.001.")
    baseline_restrictions_until: Optional[Time] = Field(
        None, description="Last date on which the dataset's baseline export taxes and quotas (restrictions.csv, "
                          "docs/model.md sec. 1.3) are in force; its whole period is included. Default: the whole "
                          "horizon. E.g. 2014-12-31 when quotas were abolished on 1 January 2015.")


class PathsOutputs(_Model):
    """The part of the per-draw paths written to ``paths.parquet``."""

    outputs: Union[Literal["all"], Annotated[list[str], BeforeValidator(_as_list), MinLen(1)]] = Field(
        "all", description="Per-period outputs written (names of `simsrc schema --outputs`, or share_<ORIGIN>), "
                           "or 'all'. `converged` is always written.")
    regions: Union[Literal["all"], CodeList] = Field("all", description="Regions (or groups) written, or 'all'.")
    minerals: Union[Literal["all"], Annotated[list[str], BeforeValidator(_as_list), MinLen(1)]] = Field(
        "all", description="Minerals written (of the scenario's), or 'all'.")


class Outputs(_Model):
    """What is reported besides the standard outputs."""

    paths: Union[Literal["all", "none"], PathsOutputs] = Field(
        "all", description="What goes into paths.parquet (every draw x period x region: the largest file of a run): "
                           "'all' (default for run and compare), 'none' (default for batch members; summaries and "
                           "per-draw outputs are always complete), or a selection {outputs, regions, minerals}. "
                           "E.g. --set outputs.paths=none, or --set 'outputs.paths={outputs: [consumer_price], regions: [USA]}'.")

    watched_origins: Optional[Annotated[list[Code], BeforeValidator(_as_list), AfterValidator(_no_duplicates)]] = Field(
        None, description="Origins (regions or groups) whose share of each region's consumption is reported ([] for none). Default: [CHN] when the dataset has a region CHN, none otherwise.")
    discount_rate: float = Field(0.03, ge=0, lt=1, description="Annual discount rate for net present values of welfare (fraction per year). Default 0.03.")


# ----------------------------------------------------------------------------------------------
# Policies
# ----------------------------------------------------------------------------------------------

_MINERALS_HELP = "Mineral codes the policy applies to, or 'all' (default: every mineral of the scenario)."
_START_HELP = "First day in force (quarter or ISO date); default: the horizon start. A start before the horizon means in force from the first period."
_END_HELP = "Last day in force, inclusive: the policy applies in the whole period containing it (quarter or ISO date); default: the horizon end."
_UNIT_HELP = "Price unit of `level`, CURRENCY/MASS such as USD/kg or USD/t (required); must be convertible to the dataset's price unit of each mineral."


class _Policy(_Model):
    type: str
    name: Name = Field(description="Unique name of the policy; used by `remove` in child scenarios, in results and in uncertain-input names (policies.NAME.FIELD).")
    description: str = Field("", description="Free text: what the policy represents and where its figures come from.")
    when: Optional[Condition] = Field(None, description=WHEN_HELP)


class _Timed(_Policy):
    start: Optional[Time] = Field(None, description=_START_HELP)
    end: Optional[Time] = Field(None, description=_END_HELP)


class Tariff(_Timed):
    """Ad valorem tariff on imports of some importers from some exporters."""

    type: Literal["tariff"] = Field(description="Policy type.")
    minerals: CodesOrAll = Field("all", description=_MINERALS_HELP)
    importers: CodeList = Field(description="Regions or groups that levy the tariff (revenue goes to them).")
    exporters: CodesOrAll = Field(description="Regions or groups whose exports are taxed, or 'all'. Domestic sales (importer = exporter) are never taxed.")
    rate: uncertain(0, 5, what="a tariff rate (a fraction, 0.25 = 25%)") = Field(
        description="Ad valorem rate as a fraction of the origin price (0.25 = 25%)." + UNCERTAIN_HELP)
    mode: Literal["add", "set"] = Field("add", description="'add': on top of the baseline rate (as Section 232 duties are); 'set': replaces the baseline rate (a free-trade agreement is 'set' with rate 0).")


class PriceFloor(_Timed):
    """Producer price floor (deficiency payment / contract for difference) on part of a region's capacity."""

    type: Literal["price_floor"] = Field(description="Policy type.")
    minerals: CodesOrAll = Field("all", description=_MINERALS_HELP)
    region: Code = Field(description="Region whose producers are covered (one region).")
    level: float = Field(gt=0, description="Floor price, in `unit` (e.g. 110 with unit USD/kg).")
    unit: str = Field(description=_UNIT_HELP)
    covered_share: Share = Field(description="Share of the region's capacity covered by the floor, in [0, 1]; that segment supplies at p + (floor - p_ref)+ and the government pays (floor - p_ref)+ per covered tonne." + UNCERTAIN_HELP)
    upside_share: Share = Field(0.0, description="Share of the upside (p_ref - floor)+ on covered output that the government takes, in [0, 1]. Default 0." + UNCERTAIN_HELP)
    reference: str = Field("market", description="The benchmark price p_ref the payment is measured against: 'market' (default), the quantity-weighted average export (FOB) price of the market, or a region code, that origin's export price (e.g. CHN). Settled on the previous period's benchmark, as published benchmarks are; the first period uses the baseline price. Never the covered producer's own price, which the floor itself depresses.")


class MinimumImportPrice(_Timed):
    """Minimum import price (price-floor club): members levy a variable duty on non-member supply."""

    type: Literal["minimum_import_price"] = Field(description="Policy type.")
    minerals: CodesOrAll = Field("all", description=_MINERALS_HELP)
    members: CodeList = Field(description="Regions or groups applying the minimum price; members trade freely among themselves.")
    level: float = Field(gt=0, description="Minimum delivered price of non-member supply, in `unit`.")
    unit: str = Field(description=_UNIT_HELP)
    collection: Literal["levy", "undertaking"] = Field("levy", description="'levy': the variable duty's revenue goes to the importer; 'undertaking': exporters raise their price and keep the rent.")


_TRANSSHIPMENT_HELP = (
    "Route through third countries for the exports the restriction blocks (optional). Direct exports "
    "are capped at cap_share of the baseline flows from the origin to the destinations; the rest can go "
    "through third countries at the extra ad valorem cost `cost`, up to `capacity`. So while transshipment "
    "capacity remains, the restriction's price wedge never exceeds `cost`. Quota rents on direct exports go "
    "to the exporter (licence holders); transshipment costs are lost to the world; when the route is full, "
    "its scarcity rent goes to the intermediaries. Without this block there is no route: a ban removes the "
    "origin's variety from the destinations unless `leakage` is given. Not together with a non-zero leakage.")


def _capacity_unlimited(v):
    """``unlimited`` (the default) is held as None."""
    if isinstance(v, str):
        if v.strip().lower() == "unlimited":
            return None
        import difflib
        hint = "; did you mean unlimited?" if difflib.get_close_matches(v.strip().lower(), ["unlimited"], 1, 0.6) else ""
        raise ValueError(f"capacity must be 'unlimited', a share in [0, 1] or a distribution; got {v!r}{hint}")
    return v


_CapacityShare = uncertain(0, 1, what="a transshipment capacity (a share of the baseline flows to the restricted destinations)")


class Transshipment(_Model):
    """Routing of restricted exports through third countries, at an extra cost and up to a capacity."""

    cost: uncertain(0, 5, what="a transshipment cost (a fraction of the export price, 0.15 = 15%)") = Field(
        description="Extra ad valorem cost of routing the restricted exports through third countries, as a "
                    "fraction of the origin's export price (>= 0; typically 0.1 to 0.4), required. It pays for "
                    "freight, relabelling, intermediaries' margins and the risk of seizure. It is lost to the world (no one "
                    "receives it), and it bounds the restriction's price wedge while capacity remains." + UNCERTAIN_HELP)
    capacity: Annotated[
        Optional[_CapacityShare],
        BeforeValidator(_capacity_unlimited),
        WithJsonSchema({"anyOf": [
            {"type": "string", "const": "unlimited"},
            {"type": "number", "minimum": 0, "maximum": 1},
            _DIST_PLACEHOLDER,
        ]}),
    ] = Field(None, json_schema_extra={"default": "unlimited"}, description="How much can be routed through third countries, as a share in [0, 1] of the "
                                "baseline flows from the origin to the restricted destinations, or 'unlimited' "
                                "(default). When the route is full, the wedge can exceed `cost` and the scarcity "
                                "rent goes to the intermediaries." + UNCERTAIN_HELP)


def _is_zero(v) -> bool:
    if isinstance(v, _DistBase):
        a, b = v.support()
        return a == b == 0.0
    return float(v) == 0.0


class ExportRestriction(_Timed):
    """Export cap or ban from one origin to a set of destinations, optionally with a transshipment route."""

    type: Literal["export_restriction"] = Field(description="Policy type.")
    minerals: CodesOrAll = Field("all", description=_MINERALS_HELP)
    origin: Code = Field(description="Restricting exporter (one region).")
    destinations: CodesOrAll = Field("all", description="Regions or groups whose imports from the origin are capped, or 'all' (every other region; default).")
    cap_share: Share = Field(description="Allowed direct exports as a share of baseline flows to the destinations, in [0, 1] (0 = ban). The quota rent on them goes to the exporter." + UNCERTAIN_HELP)
    leakage: Share = Field(0.0, description="Shorthand for a free route of limited size: the share of the baseline flow above the cap that still arrives through third countries, in [0, 1]. Default 0 (no route). The special case transshipment: {cost: 0, capacity: leakage x (1 - cap_share)}, so the allowed share is cap_share + leakage (1 - cap_share). Not together with transshipment (use transshipment to give the route a cost)." + UNCERTAIN_HELP)
    transshipment: Optional[Transshipment] = Field(None, description=_TRANSSHIPMENT_HELP)
    per_destination: bool = Field(False, description="Apply the cap (and the route) to each destination separately, as licences granted buyer by buyer are, instead of to the destinations' total exports. With a total cap, banning one destination frees quota for the others; with caps per destination it does not. Default false.")

    @field_validator("transshipment")
    @classmethod
    def _not_with_leakage(cls, v, info: ValidationInfo):
        lk = info.data.get("leakage")
        if v is not None and lk is not None and not _is_zero(lk):
            raise ValueError("give either leakage (a free route, the version-1 shorthand) or transshipment (a route "
                             "with a cost and a capacity), not both; leakage l is the same as transshipment: "
                             "{cost: 0, capacity: l x (1 - cap_share)}")
        return v


class ExportTax(_Timed):
    """Ad valorem export tax (export duty) charged by one origin on its exports to some destinations."""

    type: Literal["export_tax"] = Field(description="Policy type.")
    minerals: CodesOrAll = Field("all", description=_MINERALS_HELP)
    origin: Code = Field(description="Taxing exporter (one region); the revenue goes to its government.")
    destinations: CodesOrAll = Field("all", description="Regions or groups whose imports from the origin are taxed, or 'all' (every other region; default). Domestic sales are never taxed.")
    rate: uncertain(0, 5, what="an export tax rate (a fraction, 0.2 = 20%)") = Field(
        description="Ad valorem rate as a fraction of the origin's (domestic) price (0.2 = 20%), such as China's 15-25% "
                    "export duties on rare earths in 2007-2015. Revenue, rate x origin price x exports, goes to the "
                    "origin's government." + UNCERTAIN_HELP)


class Stockpile(_Timed):
    """Strategic stockpile: releases while the consumer price is above a trigger, optional refill."""

    type: Literal["stockpile"] = Field(description="Policy type.")
    minerals: CodesOrAll = Field("all", description=_MINERALS_HELP + " Each mineral gets its own stock.")
    region: Code = Field(description="Region holding the stock (one region).")
    initial_months: Optional[float] = Field(None, ge=0, le=12000, description="Initial stock in months of the region's baseline consumption. Give this or initial_t.")
    initial_t: Optional[float] = Field(None, ge=0, le=MAX_TONNES, description="Initial stock in tonnes (one mineral only). Give this or initial_months.")
    capacity_months: Optional[float] = Field(None, gt=0, le=12000, description="Maximum stock in months of baseline consumption (optional; default: no limit).")
    capacity_t: Optional[float] = Field(None, gt=0, le=MAX_TONNES, description="Maximum stock in tonnes (one mineral only; optional).")
    release_rate: float = Field(gt=0, le=100, description="Maximum release rate as a share of the region's baseline annual consumption per year (0.5 = up to half of baseline consumption, i.e. 6 months' worth per year).")
    trigger: Optional[float] = Field(None, gt=0, description="Release while the region's consumer price index (1 = baseline) is above this, e.g. 1.5. Give this or trigger_price.")
    trigger_price: Optional[float] = Field(None, gt=0, description="Release while the region's consumer price is above this price, in `unit`. Alternative to trigger.")
    unit: Optional[str] = Field(None, description="Price unit of trigger_price (CURRENCY/MASS, e.g. USD/kg).")
    refill_rate: float = Field(0.0, ge=0, le=100, description="Maximum purchase rate for refilling, as a share of baseline annual consumption per year. Default 0 (no refill).")
    refill_below: Optional[float] = Field(None, gt=0, description="Refill while the consumer price index is below this (must be below the release trigger). Required when refill_rate > 0.")

    @model_validator(mode="after")
    def _check(self):
        if (self.initial_months is None) == (self.initial_t is None):
            raise ValueError("give exactly one of initial_months (months of baseline consumption) or initial_t (tonnes)")
        if self.capacity_months is not None and self.capacity_t is not None:
            raise ValueError("give at most one of capacity_months or capacity_t")
        if (self.trigger is None) == (self.trigger_price is None):
            raise ValueError("give exactly one of trigger (price index, e.g. 1.5) or trigger_price (with unit)")
        if self.trigger_price is not None and not self.unit:
            raise ValueError("trigger_price needs a unit (e.g. unit: USD/kg)")
        if self.refill_rate > 0 and self.refill_below is None:
            raise ValueError("refill_rate > 0 needs refill_below (price index below which the stock refills)")
        if self.refill_below is not None and self.trigger is not None and self.refill_below >= self.trigger:
            raise ValueError(f"refill_below ({self.refill_below:g}) must be below the release trigger ({self.trigger:g})")
        return self


class Offtake(_Timed):
    """Government purchases (offtake, stockpiling) of a fixed quantity: extra demand."""

    type: Literal["offtake"] = Field(description="Policy type.")
    region: Code = Field(description="Purchasing region (one region).")
    mineral: Code = Field(description="Mineral purchased (one mineral code).")
    quantity_t: float = Field(ge=0, le=MAX_TONNES, description="Quantity purchased, t/yr.")
    price: Optional[float] = Field(None, gt=0, description="Purchase price in `unit`; the fiscal cost is (price - market price) x quantity. Default: the market price, so no cost beyond the floor payments, which already pay the floor on covered output.")
    unit: Optional[str] = Field(None, description="Price unit of `price` (CURRENCY/MASS); required with price.")

    @model_validator(mode="after")
    def _check(self):
        if self.price is not None and not self.unit:
            raise ValueError("price needs a unit (e.g. unit: USD/kg)")
        return self


class EquityStake(_Timed):
    """A government's equity stake in a region's floor-covered producer."""

    type: Literal["equity_stake"] = Field(description="Policy type.")
    minerals: CodesOrAll = Field("all", description=_MINERALS_HELP)
    region: Code = Field(description="Region of the producer (one region); the stake is in the segment covered by the region's price floor for the mineral, so a price_floor for the region and mineral is needed.")
    share: Share = Field(description="Government's share of the covered producer, in [0, 1] (e.g. the US Department of Defense's about 15% of MP Materials, as converted, July 2025). That share of the producer's surplus, net of its investment cost, and so of its floor receipts, accrues to the government: a transfer within the region, reported as equity_income." + UNCERTAIN_HELP)


class CapacityProject(_Policy):
    """A scheduled capacity addition (a mine, a refinery, a magnet plant)."""

    type: Literal["capacity_project"] = Field(description="Policy type.")
    region: Code = Field(description="Region where the capacity is built (one region).")
    mineral: Code = Field(description="Mineral produced (one mineral code).")
    capacity_t: float = Field(gt=0, le=MAX_TONNES, description="Capacity added, t/yr.")
    date: Time = Field(description="Scheduled start of production (quarter or ISO date), inside the horizon.")
    probability: Probability = Field(1.0, description="Probability that the project is built at all, in [0, 1]. Default 1." + UNCERTAIN_HELP)
    delay_quarters: uncertain(0, 4000, what="a delay") = Field(0.0, description="Delay after `date`, in quarters (>= 0). Default 0." + UNCERTAIN_HELP)
    covered_share: Optional[Share] = Field(None, description="Share of the new capacity covered by the region's price floor for this mineral, in [0, 1] (optional; needs a price_floor policy for the region and mineral)." + UNCERTAIN_HELP)


class Outage(_Timed):
    """Loss of a share of a region's capacity: dated (start/end, probability) or random (hazard)."""

    type: Literal["outage"] = Field(description="Policy type.")
    minerals: CodesOrAll = Field("all", description=_MINERALS_HELP)
    region: Code = Field(description="Region losing capacity (one region).")
    share: Share = Field(description="Share of the region's capacity lost while the outage lasts, in [0, 1]." + UNCERTAIN_HELP)
    probability: Optional[Probability] = Field(None, description="Dated outage: probability that it happens from start to end, in [0, 1] (default 1). Not with hazard." + UNCERTAIN_HELP)
    hazard: Optional[Probability] = Field(None, description="Random outage: probability per period that one starts (within start/end if given), in [0, 1]." + UNCERTAIN_HELP)
    duration_quarters: Optional[uncertain(0, 4000, lo_open=True, what="a duration")] = Field(
        None, description="Random outage: duration of each outage in quarters (> 0); required with hazard." + UNCERTAIN_HELP)

    @model_validator(mode="after")
    def _check(self):
        if self.hazard is not None:
            if self.duration_quarters is None:
                raise ValueError("an outage with a hazard needs duration_quarters")
            if self.probability is not None:
                raise ValueError("give either probability (dated outage, with start/end) or hazard (random outage), not both")
        else:
            if self.start is None:
                raise ValueError("a dated outage needs a start (or give hazard and duration_quarters for a random one)")
            if self.duration_quarters is not None:
                raise ValueError("duration_quarters goes with hazard; a dated outage lasts from start to end")
        return self


Policy = Annotated[
    Union[Tariff, PriceFloor, MinimumImportPrice, ExportRestriction, ExportTax, Stockpile, Offtake,
          EquityStake, CapacityProject, Outage],
    Field(discriminator="type"),
]
POLICY_TYPES = {c.model_fields["type"].annotation.__args__[0]: c for c in Policy.__origin__.__args__}

# ----------------------------------------------------------------------------------------------
# Events
# ----------------------------------------------------------------------------------------------


class _Event(_Model):
    type: str
    name: Name = Field(description="Unique name of the event; policies refer to it in `when` ('NAME.STATE').")
    description: str = Field("", description="Free text: what the event represents and its source.")


class DatedEvent(_Event):
    """Happens at a date with a probability. State: NAME.fired (true from the date on, in draws where it happens)."""

    type: Literal["dated"] = Field(description="Event type.")
    date: Time = Field(description="Date of the event (quarter or ISO date), inside the horizon.")
    probability: Probability = Field(1.0, description="Probability that it happens, in [0, 1]. Default 1." + UNCERTAIN_HELP)


def _on_off(v):
    # YAML 1.1 reads unquoted on/off as booleans
    if v is True:
        return "on"
    if v is False:
        return "off"
    return v


class MarkovEvent(_Event):
    """Two-state regime switching every period. States: NAME.on, NAME.off (bare NAME = on)."""

    type: Literal["markov"] = Field(description="Event type.")
    p_on: Probability = Field(description="Probability per quarter of switching off -> on, in [0, 1]." + UNCERTAIN_HELP)
    p_off: Probability = Field(description="Probability per quarter of switching on -> off, in [0, 1]." + UNCERTAIN_HELP)
    initial: Annotated[Literal["on", "off", "stationary"], BeforeValidator(_on_off)] = Field(
        "off", description="State at start: 'on', 'off' (default) or 'stationary' (drawn from the stationary distribution p_on / (p_on + p_off)).")
    start: Optional[Time] = Field(None, description="When the regime starts switching (quarter or ISO date); default the horizon start. Before it the regime is off; `initial` applies from `start`.")


class Negotiation(_Event):
    """Negotiation that succeeds or fails at its deadline. States: NAME.failed, NAME.succeeded (both false before the deadline), NAME.pending (bare NAME = failed)."""

    type: Literal["negotiation"] = Field(description="Event type.")
    opened: Time = Field(description="Date the negotiation opened (quarter or ISO date); may precede the horizon.")
    deadline_days: Optional[Whole] = Field(None, gt=0, le=36500, description="Deadline in days after `opened` (e.g. 180), at most 36500 (100 years). Give this or deadline.")
    deadline: Optional[Time] = Field(None, description="Deadline date (quarter or ISO date). Give this or deadline_days.")
    success_probability: Probability = Field(description="Probability that the negotiation succeeds by the deadline, in [0, 1]." + UNCERTAIN_HELP)
    partners: Optional[CodeList] = Field(None, description="Regions or groups negotiating (informational).")

    @model_validator(mode="after")
    def _check(self):
        if (self.deadline_days is None) == (self.deadline is None):
            raise ValueError("give exactly one of deadline_days (e.g. 180) or deadline (a date)")
        if self.deadline is not None and parse_time(self.deadline) < parse_time(self.opened):
            raise ValueError(f"deadline {self.deadline} is before opened {self.opened}")
        return self

    def deadline_date(self) -> _dt.date:
        """The deadline as a date."""
        if self.deadline is not None:
            return parse_time(self.deadline)
        return parse_time(self.opened) + _dt.timedelta(days=int(self.deadline_days))


Event = Annotated[Union[DatedEvent, MarkovEvent, Negotiation], Field(discriminator="type")]
EVENT_TYPES = {c.model_fields["type"].annotation.__args__[0]: c for c in Event.__origin__.__args__}

# ----------------------------------------------------------------------------------------------
# Scenario
# ----------------------------------------------------------------------------------------------


class Scenario(_Model):
    """A simsrc scenario: horizon, data, parameters, policies and events.

    Load files with :func:`simsrc.scenario.load_scenario`, which merges `extends` chains and
    checks the result against the dataset.
    """

    name: Annotated[str, BeforeValidator(_text), AfterValidator(_check_scenario_name)] = Field(
        description=f"Scenario name, used in results folder names and reports: at most {SCENARIO_NAME_MAX} letters, digits, '_', '-' and '.', starting with a letter or digit.")
    description: str = Field("", description="What the scenario represents.")
    extends: Optional[str] = Field(None, description="Path of a parent scenario, relative to this file. This file's mappings deep-merge over the parent's; the lists policies, events and parameters merge by element name (same name replaces the parent's element, new names append). Empty in a loaded (resolved) scenario.")
    remove: list[str] = Field([], description="Names of inherited policies, events or parameters to drop (only with extends). Empty in a loaded scenario.")
    horizon: Horizon = Field(description="Simulated time span.")
    draws: Whole = Field(1000, gt=0, le=MAX_DRAWS, description=f"Number of Monte Carlo draws, at most {MAX_DRAWS:,}. Default 1000.")
    seed: Whole = Field(0, ge=0, le=MAX_SEED, description="Seed of all random streams (each stream is keyed by the seed, the mineral, the element name and the draw). Default 0.")
    dataset: str = Field("usgs2024", description="Baseline dataset: a built-in name (default usgs2024) or a path to a dataset folder, relative to the file that sets it.")
    minerals: CodesOrAll = Field("all", description="Mineral codes simulated, or 'all' (default: every mineral of the dataset). Policies on other minerals are ignored.")
    groups: dict[Name, CodeList] = Field({}, description="Extra named region groups: name -> list of regions or groups (of the dataset or this mapping). Usable wherever regions are.")
    elasticity_ranges: Literal["fixed", "uniform", "triangular", "pert"] = Field(
        "pert", description="How the dataset's (low, central, high) elasticities are drawn when no parameter overrides them: 'fixed' (central), 'uniform' (low-high), 'triangular' or 'pert' (mode = central). Default pert.")
    parameters: list[Parameter] = Field([], description="Parameter overrides (elasticities, dynamics) for some minerals/regions; later entries win where they overlap.")
    dynamics: Dynamics = Field(default_factory=Dynamics, description="Defaults of the dynamic model (assumptions; see each field).")
    trade: Trade = Field(default_factory=Trade, description="Options of the trade model: latent links (see its fields).")
    policies: list[Policy] = Field([], description="Policy instruments, each discriminated by `type`: " + ", ".join(POLICY_TYPES) + ".")
    events: list[Event] = Field([], description="Random events that policies can depend on (`when`), discriminated by `type`: " + ", ".join(EVENT_TYPES) + ".")
    outputs: Outputs = Field(default_factory=Outputs, description="Reporting options.")
    counterfactual: Optional[str] = Field(None, description="Path of a scenario to compare against (paired differences on the same draws), relative to the file that sets it.")

    _source: Any = PrivateAttr(None)
    _source_files: tuple = PrivateAttr(())
    _sets: tuple = PrivateAttr(())
    _data: Any = PrivateAttr(None)

    # -- accessors -----------------------------------------------------------------------------
    @property
    def source(self):
        """Path of the scenario file this was loaded from (None if built in code)."""
        return self._source

    @property
    def source_files(self) -> tuple:
        """Every file of the extends chain, child first."""
        return self._source_files

    @property
    def data(self):
        """The loaded baseline :class:`simsrc.data.Dataset` (set by load_scenario)."""
        return self._data

    def policy(self, name: str):
        """The policy called ``name``."""
        for p in self.policies:
            if p.name == name:
                return p
        raise KeyError(name)

    def event(self, name: str):
        """The event called ``name``."""
        for e in self.events:
            if e.name == name:
                return e
        raise KeyError(name)

    def period_index(self, value) -> int:
        """Index of the horizon period containing a quarter or date (see timeline.period_index)."""
        return period_index(value, self.horizon)

    def active_range(self, policy) -> tuple[int, int] | None:
        """(first, last) periods in which a timed policy is in force, ignoring `when`."""
        return active_range(getattr(policy, "start", None), getattr(policy, "end", None), self.horizon)

    def mineral_codes(self) -> list[str]:
        """Minerals simulated (needs the dataset: after load_scenario, or with 'minerals' listed)."""
        if self.minerals != "all":
            return list(self.minerals)
        if self._data is None:
            raise ValueError("minerals is 'all' and no dataset is loaded; use load_scenario")
        return list(self._data.minerals)

    def to_dict(self) -> dict:
        """The resolved scenario as plain JSON-compatible data (for manifests); re-validates to an equal Scenario."""
        return self.model_dump(mode="json", exclude_none=True)


def scenario_json_schema() -> dict:
    """JSON Schema of scenario files (what `simsrc schema` prints)."""
    from pydantic import TypeAdapter

    schema = Scenario.model_json_schema()
    dist = TypeAdapter(Distribution).json_schema(ref_template="#/$defs/{model}")
    defs = schema.setdefault("$defs", {})
    defs.update(dist.pop("$defs", {}))
    dist["description"] = ("A distribution of an uncertain number, discriminated by `dist`; "
                           "drawn once per Monte Carlo draw. Its mean is the central value.")
    defs["Distribution"] = dist
    schema["$defs"] = dict(sorted(defs.items()))

    def fix(node):
        if isinstance(node, dict):
            if node == _DIST_PLACEHOLDER:
                return {"$ref": "#/$defs/Distribution"}
            return {k: fix(v) for k, v in node.items()}
        if isinstance(node, list):
            return [fix(v) for v in node]
        return node

    schema = fix(schema)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "simsrc scenario"
    return schema
