"""Distributions of uncertain scenario inputs.

Every numeric scenario field that may be uncertain accepts either a plain number or one of
these distribution objects (discriminated by ``dist``). Each distribution validates its own
arguments and offers:

- :meth:`central` -- the **mean** of the distribution (for PERT and triangular too, not the
  mode), the value used by deterministic (single-draw) runs and as the nominal point of
  sensitivity analyses;
- :meth:`ppf` -- the inverse CDF, vectorised over a NumPy array of uniform numbers in [0, 1],
  so a sampler maps its own uniform draws (Monte Carlo, Latin hypercube, Sobol') to values;
- :meth:`support` -- the closed interval that contains every value the distribution can take
  (used by the scenario checks: a probability must have its support in [0, 1]);
- :meth:`sample` -- ``ppf(rng.random(size))``, a convenience for tests and notebooks.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Annotated, Literal, Optional, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy import stats

__all__ = [
    "Fixed", "Uniform", "Triangular", "TruncNormal", "LogNormal", "Pert", "Distribution",
    "DIST_TYPES", "as_distribution",
]


class _DistBase(BaseModel, ABC):
    """Common interface of the distributions (abstract: every distribution defines these)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @abstractmethod
    def central(self) -> float:
        """Mean of the distribution."""

    @abstractmethod
    def ppf(self, u) -> np.ndarray:
        """Inverse CDF at ``u`` (array of probabilities in [0, 1]); returns an array."""

    @abstractmethod
    def support(self) -> tuple[float, float]:
        """Closed interval (low, high) containing every possible value (may be infinite)."""

    def sample(self, rng: np.random.Generator, size=None) -> np.ndarray:
        """Draw ``size`` values with ``rng`` (inverse-CDF sampling)."""
        return self.ppf(rng.random(size))

    def describe(self) -> str:
        """Short text such as ``pert(0.2, 0.5, 0.9)``."""
        args = ", ".join(f"{k}={v:g}" for k, v in self.model_dump(exclude={"dist"}, exclude_none=True).items())
        return f"{self.dist}({args})"


def _u(u) -> np.ndarray:
    return np.clip(np.asarray(u, dtype=float), 0.0, 1.0)


class Fixed(_DistBase):
    """A constant, written as a distribution (same as writing the number)."""

    dist: Literal["fixed"] = Field(description="Distribution kind: a constant.")
    value: float = Field(description="The value (same unit as the field).")

    def central(self) -> float:
        return float(self.value)

    def ppf(self, u) -> np.ndarray:
        return np.full(np.shape(u), float(self.value))

    def support(self) -> tuple[float, float]:
        return (float(self.value), float(self.value))


def _check_order(low, mode, high, names=("low", "mode", "high")):
    if not low < high:
        raise ValueError(f"need {names[0]} < {names[-1]}; got {names[0]}={low:g}, {names[-1]}={high:g} "
                         "(for a constant, write the number)")
    if mode is not None and not (low <= mode <= high):
        raise ValueError(f"need {names[0]} <= {names[1]} <= {names[2]}; got {low:g}, {mode:g}, {high:g}")


class Uniform(_DistBase):
    """Uniform on [low, high]; mean (low + high) / 2."""

    dist: Literal["uniform"] = Field(description="Distribution kind: uniform between low and high.")
    low: float = Field(description="Lower bound (same unit as the field).")
    high: float = Field(description="Upper bound (same unit as the field); must exceed low.")

    @model_validator(mode="after")
    def _check(self):
        _check_order(self.low, None, self.high)
        return self

    def central(self) -> float:
        return 0.5 * (self.low + self.high)

    def ppf(self, u) -> np.ndarray:
        return self.low + _u(u) * (self.high - self.low)

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)


class Triangular(_DistBase):
    """Triangular on [low, high] with peak at mode; mean (low + mode + high) / 3."""

    dist: Literal["triangular"] = Field(description="Distribution kind: triangular.")
    low: float = Field(description="Lower bound (same unit as the field).")
    mode: float = Field(description="Most likely value; low <= mode <= high.")
    high: float = Field(description="Upper bound; must exceed low.")

    @model_validator(mode="after")
    def _check(self):
        _check_order(self.low, self.mode, self.high)
        return self

    def central(self) -> float:
        return (self.low + self.mode + self.high) / 3.0

    def ppf(self, u) -> np.ndarray:
        w = self.high - self.low
        return stats.triang.ppf(_u(u), (self.mode - self.low) / w, loc=self.low, scale=w)

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)


class Pert(_DistBase):
    """Beta-PERT on [low, high] with mode and shape ``lamb``; mean (low + lamb*mode + high) / (lamb + 2)."""

    dist: Literal["pert"] = Field(description="Distribution kind: (modified) beta-PERT.")
    low: float = Field(description="Lower bound (same unit as the field).")
    mode: float = Field(description="Most likely value; low <= mode <= high.")
    high: float = Field(description="Upper bound; must exceed low.")
    lamb: float = Field(4.0, gt=0, description="Shape: weight of the mode (4 = classic PERT; larger = more peaked).")

    @model_validator(mode="after")
    def _check(self):
        _check_order(self.low, self.mode, self.high)
        return self

    def _ab(self):
        w = self.high - self.low
        return 1.0 + self.lamb * (self.mode - self.low) / w, 1.0 + self.lamb * (self.high - self.mode) / w

    def central(self) -> float:
        return (self.low + self.lamb * self.mode + self.high) / (self.lamb + 2.0)

    def ppf(self, u) -> np.ndarray:
        a, b = self._ab()
        return self.low + (self.high - self.low) * stats.beta.ppf(_u(u), a, b)

    def support(self) -> tuple[float, float]:
        return (self.low, self.high)


class TruncNormal(_DistBase):
    """Normal with mean and sd, optionally truncated to [low, high]; central() is the truncated mean."""

    dist: Literal["truncnormal"] = Field(description="Distribution kind: normal, truncated to [low, high].")
    mean: float = Field(description="Mean of the untruncated normal (same unit as the field).")
    sd: float = Field(gt=0, description="Standard deviation of the untruncated normal; > 0.")
    low: Optional[float] = Field(None, description="Lower truncation bound; omitted = no lower bound.")
    high: Optional[float] = Field(None, description="Upper truncation bound; omitted = no upper bound.")

    @model_validator(mode="after")
    def _check(self):
        lo, hi = self.support()
        if not lo < hi:
            raise ValueError(f"need low < high; got low={lo:g}, high={hi:g}")
        a, b = (lo - self.mean) / self.sd, (hi - self.mean) / self.sd
        if stats.norm.cdf(b) - stats.norm.cdf(a) < 1e-12:
            raise ValueError(f"[low, high] = [{lo:g}, {hi:g}] holds no probability mass of normal(mean={self.mean:g}, sd={self.sd:g})")
        return self

    def _frozen(self):
        lo, hi = self.support()
        return stats.truncnorm((lo - self.mean) / self.sd, (hi - self.mean) / self.sd, loc=self.mean, scale=self.sd)

    def central(self) -> float:
        return float(self._frozen().mean())

    def ppf(self, u) -> np.ndarray:
        return self._frozen().ppf(_u(u))

    def support(self) -> tuple[float, float]:
        return (-math.inf if self.low is None else self.low, math.inf if self.high is None else self.high)


class LogNormal(_DistBase):
    """Lognormal with median and log-sd sigma, optionally truncated to [low, high]; central() is the mean."""

    dist: Literal["lognormal"] = Field(description="Distribution kind: lognormal (log of the value is normal).")
    median: float = Field(gt=0, description="Median (= exp of the log-mean), same unit as the field; > 0.")
    sigma: float = Field(gt=0, description="Standard deviation of the log of the value; > 0.")
    low: Optional[float] = Field(None, ge=0, description="Lower truncation bound (>= 0); omitted = 0.")
    high: Optional[float] = Field(None, description="Upper truncation bound; omitted = no upper bound.")

    @model_validator(mode="after")
    def _check(self):
        lo, hi = self.support()
        if not lo < hi:
            raise ValueError(f"need low < high; got low={lo:g}, high={hi:g}")
        flo, fhi = self._cdf_bounds()
        if fhi - flo < 1e-12:
            raise ValueError(f"[low, high] = [{lo:g}, {hi:g}] holds no probability mass of lognormal(median={self.median:g}, sigma={self.sigma:g})")
        return self

    def _cdf_bounds(self):
        lo, hi = self.support()
        mu = math.log(self.median)
        flo = 0.0 if lo <= 0 else float(stats.norm.cdf((math.log(lo) - mu) / self.sigma))
        fhi = 1.0 if math.isinf(hi) else float(stats.norm.cdf((math.log(hi) - mu) / self.sigma))
        return flo, fhi

    def central(self) -> float:
        mu, s = math.log(self.median), self.sigma
        lo, hi = self.support()
        za = -math.inf if lo <= 0 else (math.log(lo) - mu) / s
        zb = math.inf if math.isinf(hi) else (math.log(hi) - mu) / s
        num = stats.norm.cdf(zb - s) - stats.norm.cdf(za - s)
        den = stats.norm.cdf(zb) - stats.norm.cdf(za)
        return float(math.exp(mu + s * s / 2.0) * num / den)

    def ppf(self, u) -> np.ndarray:
        flo, fhi = self._cdf_bounds()
        q = flo + _u(u) * (fhi - flo)
        x = np.exp(math.log(self.median) + self.sigma * stats.norm.ppf(q))
        lo, hi = self.support()
        return np.clip(x, lo, hi)

    def support(self) -> tuple[float, float]:
        return (0.0 if self.low is None else self.low, math.inf if self.high is None else self.high)


#: Distribution kinds by their ``dist`` tag.
DIST_TYPES = {c.model_fields["dist"].annotation.__args__[0]: c
              for c in (Fixed, Uniform, Triangular, TruncNormal, LogNormal, Pert)}

Distribution = Annotated[
    Union[Fixed, Uniform, Triangular, TruncNormal, LogNormal, Pert],
    Field(discriminator="dist"),
]


def as_distribution(value) -> _DistBase:
    """Return a distribution for a number or a distribution (a number becomes :class:`Fixed`)."""
    if isinstance(value, _DistBase):
        return value
    return Fixed(dist="fixed", value=float(value))
