"""Scenarios: the pydantic schema of scenario files, loading with actionable errors, helpers.

Public API
----------
load_scenario(path, dataset=None) -> Scenario
    Read a YAML scenario, merge its extends chain, validate it and cross-check it against its
    dataset; raises :class:`simsrc.errors.InputError` listing every problem.
Scenario
    The resolved scenario (pydantic model); ``.to_dict()`` for manifests, ``.data`` the dataset.
uncertain_inputs(scenario) -> list[UncertainInput]
    Every uncertain number with a stable dotted name and its distribution.
period_index(value, horizon) -> int
    Period of the horizon containing a quarter (``2026Q3``) or date (``2026-07-13``).
scenario_json_schema() -> dict
    JSON Schema of scenario files (``simsrc schema``).
"""

from .distributions import (
    DIST_TYPES, Distribution, Fixed, LogNormal, Pert, Triangular, TruncNormal, Uniform, as_distribution,
)
from .loader import NAMED_LISTS, load_scenario, validate_data
from .model import (
    EVENT_STATES, EVENT_TYPES, PARAMETER_RULES, POLICY_TYPES, AllOf, AnyOf, CapacityProject,
    DatedEvent, Dynamics, EquityStake, ExportRestriction, ExportTax, Horizon, MarkovEvent, MinimumImportPrice,
    Negotiation, Offtake, Outage, Outputs, Parameter, PriceFloor, Scenario, Stockpile, Tariff, Trade,
    Transshipment, condition_refs, evaluate_condition, scenario_json_schema,
)
from .checks import PLAUSIBLE_PRICE_FACTOR, expand_groups
from .timeline import (
    active_range, horizon_bounds, normalize_time, parse_time, period_index, period_label,
    period_position, period_start,
)
from .uncertain import UncertainInput, dataset_distribution, uncertain_inputs

__all__ = [
    "load_scenario", "validate_data", "Scenario", "scenario_json_schema", "uncertain_inputs",
    "UncertainInput", "dataset_distribution", "period_index", "period_position", "period_label",
    "period_start", "horizon_bounds", "active_range", "parse_time", "normalize_time",
    "condition_refs", "evaluate_condition", "expand_groups", "PLAUSIBLE_PRICE_FACTOR",
    "Distribution", "DIST_TYPES", "Fixed", "Uniform", "Triangular", "Pert", "TruncNormal",
    "LogNormal", "as_distribution", "Horizon", "Parameter", "Dynamics", "Trade", "Outputs", "Tariff",
    "PriceFloor", "MinimumImportPrice", "ExportRestriction", "Transshipment", "ExportTax", "EquityStake", "Stockpile", "Offtake",
    "CapacityProject", "Outage", "DatedEvent", "MarkovEvent", "Negotiation", "AnyOf", "AllOf",
    "POLICY_TYPES", "EVENT_TYPES", "EVENT_STATES", "PARAMETER_RULES", "NAMED_LISTS",
]
