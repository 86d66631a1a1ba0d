"""World adding-up in every library scenario (docs/model.md sec. 5.6): in the first period of
each shipped scenario and mineral, what buyers pay at delivered prices minus what origins
receive, computed from prices and quantities alone, equals the sum of every wedge income the
engine reports (tariffs, levies, export taxes, quota rents, intermediaries' rents and
transshipment costs), to 1e-9 relative."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simsrc.equilibrium import solve_scenario
from simsrc.scenario import load_scenario
from simsrc.units import convert_price

LIB = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.mark.parametrize("path", sorted(LIB.glob("*.yaml")), ids=lambda p: p.name)
def test_wedge_income_adds_up_in_the_first_period_of_every_library_scenario(path):
    scn = load_scenario(path)
    for code, res in solve_scenario(scn).items():
        assert res.converged, code
        X = res.flows
        # prices are in the dataset's unit: convert to USD/t like every value the engine reports
        to_usd_t = convert_price(1.0, scn.data.minerals[code].price_unit, "USD/t")
        deliv = np.where(X > 0, res.delivered_price, 0.0) * to_usd_t
        orig = res.price[:, None] * to_usd_t
        gap = ((deliv - orig) * X)[X > 0].sum()
        wedges = (res.tariff_revenue.sum() + res.levy_revenue.sum() + res.export_tax_revenue.sum()
                  + res.quota_rent.sum() + res.intermediary_rent.sum() + res.transship_cost.sum())
        receipts = float(np.nansum(np.where(X > 0, orig * X, 0.0)))
        assert gap > 0 or wedges == 0
        scale_ = max(abs(gap), receipts, 1.0)
        assert abs(gap - wedges) <= 1e-9 * scale_, (path.name, code, gap, wedges)
