"""Price units: parsing ``CURRENCY/MASS`` strings and converting between them."""

from __future__ import annotations

#: Tonnes per mass unit. Pound: the international avoirdupois pound, 0.45359237 kg.
MASS_IN_TONNES = {
    "t": 1.0,
    "tonne": 1.0,
    "kg": 1e-3,
    "g": 1e-6,
    "lb": 0.45359237e-3,
    "kt": 1e3,
}

#: Currencies the datasets may use. Conversion between currencies needs an exchange rate,
#: which simsrc does not carry, so only identical currencies are convertible.
CURRENCIES = ("USD",)


class UnitError(ValueError):
    """A unit string that cannot be parsed or converted."""


def parse_price_unit(unit: str) -> tuple[str, float]:
    """Parse ``"USD/kg"`` into ``("USD", tonnes per mass unit)``.

    Parameters
    ----------
    unit : str
        A price unit ``CURRENCY/MASS``, e.g. ``USD/t``, ``USD/kg``, ``USD/lb``.

    Returns
    -------
    (currency, tonnes) : tuple of str and float
    """
    parts = str(unit).strip().split("/")
    allowed = f"allowed: CURRENCY/MASS with currency in {list(CURRENCIES)} and mass in {list(MASS_IN_TONNES)}"
    if len(parts) != 2:
        raise UnitError(f"price unit {unit!r} is not of the form CURRENCY/MASS; {allowed}")
    cur, mass = parts[0].strip().upper(), parts[1].strip()
    if cur not in CURRENCIES:
        raise UnitError(f"unknown currency {parts[0]!r} in price unit {unit!r}; {allowed}")
    if mass not in MASS_IN_TONNES:
        raise UnitError(f"unknown mass unit {mass!r} in price unit {unit!r}; {allowed}")
    return cur, MASS_IN_TONNES[mass]


def convert_price(value: float, from_unit: str, to_unit: str) -> float:
    """Convert a price between units, e.g. 110 USD/kg -> 110000 USD/t.

    Raises
    ------
    UnitError
        When either unit is unknown or the currencies differ.
    """
    c1, t1 = parse_price_unit(from_unit)
    c2, t2 = parse_price_unit(to_unit)
    if c1 != c2:
        raise UnitError(f"cannot convert {from_unit!r} to {to_unit!r}: currencies differ and simsrc carries no exchange rates")
    # value currency per (t1 tonnes) -> per tonne -> per (t2 tonnes)
    return float(value) / t1 * t2
