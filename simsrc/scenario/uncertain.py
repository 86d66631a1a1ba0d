"""Listing the uncertain inputs of a scenario, with stable dotted names.

Sampling and sensitivity analysis are built on :func:`uncertain_inputs`: each entry names one
scalar drawn once per Monte Carlo draw, with its distribution. Names depend only on element
names and field names, never on the order or presence of other elements:

- ``dynamics.FIELD``                      (e.g. ``dynamics.lead_time``)
- ``parameters.NAME.value``               (e.g. ``parameters.eps_chn.value``)
- ``policies.NAME.FIELD``                 (e.g. ``policies.ga_ge_sb_ban_us.leakage``)
- ``policies.NAME.BLOCK.FIELD``           fields of a nested block (e.g.
  ``policies.no46_us_ban.transshipment.cost``, ``policies.no46_us_ban.transshipment.capacity``)
- ``events.NAME.FIELD``                   (e.g. ``events.section232.success_probability``)
- ``elasticities.MINERAL.KIND``           dataset elasticities drawn from their (low, central,
  high) range as ``elasticity_ranges`` says, unless a parameter overrides that elasticity for
  the mineral in all regions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import get_args

from pydantic import BaseModel

from .distributions import Fixed, Pert, Triangular, Uniform, _DistBase, as_distribution
from .model import ELASTICITY_KINDS, UNCERTAIN, Scenario

__all__ = ["UncertainInput", "uncertain_inputs", "is_uncertain_field"]


@dataclass(frozen=True)
class UncertainInput:
    """One uncertain scalar input.

    Attributes
    ----------
    name : str
        Stable dotted name (see module docstring).
    distribution : Distribution
        Its distribution (:class:`Fixed` for plain numbers when listed).
    path : tuple
        Key path in the resolved scenario (``("policies", 3, "leakage")``,
        ``("policies", 3, "transshipment", "cost")``); empty for dataset elasticities.
    description : str
        What the number is (the field's description, first sentence).
    """

    name: str
    distribution: _DistBase
    path: tuple
    description: str = ""

    def central(self) -> float:
        """Mean of the distribution."""
        return self.distribution.central()

    def ppf(self, u):
        """Inverse CDF (vectorised)."""
        return self.distribution.ppf(u)

    @property
    def is_fixed(self) -> bool:
        return isinstance(self.distribution, Fixed)


def _has_marker(obj) -> bool:
    if obj is UNCERTAIN:
        return True
    meta = getattr(obj, "__metadata__", None)
    if meta and any(m is UNCERTAIN for m in meta):
        return True
    return any(_has_marker(a) for a in get_args(obj))


def is_uncertain_field(model: type[BaseModel], field: str) -> bool:
    """True if the field accepts a number or a distribution."""
    f = model.model_fields[field]
    return any(m is UNCERTAIN for m in f.metadata) or _has_marker(f.annotation)


def _first_sentence(text: str) -> str:
    return (text or "").split(". ")[0].split(" Accepts a number")[0].rstrip(".")


def _walk(obj: BaseModel, name: str, path: tuple, out: list, include_fixed: bool):
    for field, info in type(obj).model_fields.items():
        v = getattr(obj, field)
        if v is None:
            continue
        if isinstance(v, _DistBase) or (include_fixed and isinstance(v, (int, float)) and not isinstance(v, bool)
                                         and is_uncertain_field(type(obj), field)):
            d = as_distribution(v)
            if include_fixed or not isinstance(d, Fixed):
                out.append(UncertainInput(f"{name}.{field}", d, path + (field,), _first_sentence(info.description)))
        elif isinstance(v, BaseModel):
            # a nested block (e.g. an export restriction's transshipment): NAME.BLOCK.FIELD
            _walk(v, f"{name}.{field}", path + (field,), out, include_fixed)


def uncertain_inputs(scenario: Scenario, *, include_fixed: bool = False, include_dataset: bool = True) -> list[UncertainInput]:
    """Every uncertain number of a resolved scenario, with its stable name and distribution.

    Parameters
    ----------
    scenario : Scenario
        A scenario from :func:`load_scenario` (the dataset is needed for dataset elasticities).
    include_fixed : bool
        Also list fields that could be uncertain but hold a plain number (as :class:`Fixed`).
    include_dataset : bool
        List the dataset's elasticities (``elasticities.MINERAL.KIND``) not overridden by a
        parameter for all regions.

    Returns
    -------
    list of UncertainInput
        In order: dynamics, parameters, policies, events, dataset elasticities.
    """
    out: list[UncertainInput] = []
    _walk(scenario.dynamics, "dynamics", ("dynamics",), out, include_fixed)
    for sec in ("parameters", "policies", "events"):
        for k, el in enumerate(getattr(scenario, sec)):
            _walk(el, f"{sec}.{el.name}", (sec, k), out, include_fixed)
    if include_dataset and scenario.data is not None:
        ds = scenario.data
        for m in scenario.mineral_codes():
            md = ds.minerals[m]
            for kind in ELASTICITY_KINDS:
                if any(p.parameter == kind and p.regions == "all" and (p.minerals == "all" or m in p.minerals)
                       for p in scenario.parameters):
                    continue
                c, lo, hi = md.elasticities[kind]
                if not all(math.isfinite(x) for x in (c, lo, hi)):
                    continue  # not a number to draw (e.g. no backstop: inf); the engine takes the value as is
                d = dataset_distribution(scenario.elasticity_ranges, c, lo, hi)
                if include_fixed or not isinstance(d, Fixed):
                    out.append(UncertainInput(f"elasticities.{m}.{kind}", d, (),
                                              f"dataset {kind} of {m} ({scenario.elasticity_ranges} over low {lo:g}, central {c:g}, high {hi:g})"))
    return out


def dataset_distribution(kind: str, central: float, low: float, high: float) -> _DistBase:
    """Distribution of a dataset elasticity under ``elasticity_ranges = kind``.

    ``fixed`` gives the central value; ``uniform`` spans [low, high]; ``triangular`` and ``pert``
    put their mode at the central value. A degenerate range (low == high) gives the central value.
    """
    if kind == "fixed" or not low < high:
        return Fixed(dist="fixed", value=central)
    if kind == "uniform":
        return Uniform(dist="uniform", low=low, high=high)
    cls = Pert if kind == "pert" else Triangular
    return cls(dist=kind, low=low, mode=min(max(central, low), high), high=high)
