"""Scenario -> dense arrays for the kernels: parameters, policy layers, events, shocks.

Two steps, following DESIGN.md's flow:

1. :func:`compile_market` turns a loaded scenario and one mineral into a :class:`MarketSpec`:
   the calibration and every policy as a *layer* with its regions, units converted to price
   indices, and the names of its uncertain numbers. Nothing random happens here.
2. :func:`draw_inputs` materialises the arrays of a chunk of draws ``[start, stop)``: uncertain
   inputs through their inverse CDFs, event state paths, layer activity, demand shocks,
   project timing and outages. Every random number comes from :mod:`simsrc.sampling`, a
   stream per element keyed by (seed, mineral or shared, element name, draw), so the arrays of
   a draw are the same whatever the chunk, and adding a policy never changes another
   element's stream.

Uncertain scenario inputs (``policies.NAME.FIELD``, ``events.NAME.FIELD``, ``dynamics.FIELD``,
``parameters.NAME.value``, ``elasticities.MINERAL.KIND``) and events use shared streams (one
value per draw for every mineral: a negotiation fails in all markets of a draw or in none);
demand shocks, project delays and outage hazards are per mineral.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .calibrate import Calibration, calibrate
from .errors import SimsrcError
from .kernels.dynamics import TARIFF_ADD, TARIFF_SET
from .kernels.events import INITIAL_OFF, INITIAL_ON, INITIAL_STATIONARY, dated_paths, markov_paths, negotiation_paths
from .sampling import SHARED, ndtri, uniforms
from .scenario import (
    CapacityProject, DatedEvent, EquityStake, ExportRestriction, ExportTax, MarkovEvent, MinimumImportPrice, Negotiation, Offtake,
    Outage, PriceFloor, Stockpile, Tariff, active_range, evaluate_condition, expand_groups, period_index,
    uncertain_inputs,
)
from .scenario.distributions import _DistBase
from .scenario.model import ELASTICITY_KINDS
from .scenario.timeline import parse_time
from .units import convert_price


def _is_num_or_dist(v) -> bool:
    """True for a number or a distribution (not None or the word 'unlimited')."""
    return isinstance(v, (int, float, _DistBase)) and not isinstance(v, bool)

#: Months per period for each period length of the horizon.
PERIOD_MONTHS = {"quarter": 3, "year": 12, "month": 1}

#: Dynamics parameters (scenario names), in the kernel's order.
DYNAMICS_KINDS = ("demand_growth", "demand_volatility", "depreciation", "investment_response",
                  "lead_time", "expectation_weight", "floor_payback_years", "max_investment_rate")


class CompileError(SimsrcError):
    """A scenario element the engine cannot represent (named, with the reason).

    ``items`` lists each problem as ``policies.NAME: reason``."""

    def __init__(self, message: str, items=()):
        super().__init__(message)
        self.items = list(items)


@dataclass
class Layer:
    """One policy's contribution to one mineral market.

    ``values`` maps the layer's numeric fields to either a float or the name of an uncertain
    input (drawn per draw); ``regions`` and masks are in the calibration's region order.
    """

    kind: str
    name: str
    policy: object
    window: tuple | None
    values: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)


@dataclass
class MarketSpec:
    """Everything deterministic about one mineral market of a scenario."""

    mineral: str
    cal: Calibration
    regions: tuple
    periods: int
    period_years: float
    layers: list
    params: dict  # kind -> list of (region mask (R,), value or input name), in order of application
    watched: np.ndarray  # (NW, R) uint8
    watched_names: list


def _value(obj, fld: str, prefix: str):
    """A layer value: the number, or the uncertain input's name when it is a distribution."""
    v = getattr(obj, fld)
    if isinstance(v, _DistBase):
        return f"{prefix}.{fld}"
    return None if v is None else float(v)


def _regions(codes, spec_regions, groups):
    if codes == "all":
        return list(spec_regions)
    return expand_groups(codes, list(spec_regions), groups)


def _mask(codes, regions, groups) -> np.ndarray:
    sel = set(_regions(codes, regions, groups))
    return np.array([1 if r in sel else 0 for r in regions], dtype=np.uint8)


def default_watched(watched, regions) -> list:
    """Watched origins: the scenario's, or by default CHN when the dataset has it (none otherwise)."""
    if watched is not None:
        return list(watched)
    return ["CHN"] if "CHN" in regions else []


def _applies(policy, mineral: str) -> bool:
    ms = getattr(policy, "minerals", None)
    if ms is not None:
        return ms == "all" or mineral in ms
    m = getattr(policy, "mineral", None)
    return m == mineral


def scenario_groups(scn) -> dict:
    """Dataset groups merged with the scenario's own groups."""
    groups = {k: list(v) for k, v in scn.data.groups.items()}
    groups.update({k: list(v) for k, v in scn.groups.items()})
    return groups


def period_years(scn) -> float:
    return PERIOD_MONTHS[scn.horizon.period] / 12.0


def _baseline_layers(cal, scn) -> list[Layer]:
    """The dataset's baseline export taxes and quotas (docs/model.md sec. 1.3) as standing layers,
    in force from the first period until ``trade.baseline_restrictions_until`` (default: the
    whole horizon). A scenario's own export taxes add to them; its restrictions on the same
    flows compound with (or, on identical flows, are merged with) the quotas."""
    etax, quotas = cal.baseline_policies()
    if not cal.restrictions:
        return []
    window = active_range(None, scn.trade.baseline_restrictions_until, scn.horizon)
    out = []
    R = cal.n_regions
    for i in range(R):
        rates = sorted({float(v) for v in etax[i] if v > 0})
        for rate in rates:
            dest = (np.abs(etax[i] - rate) < 1e-15).astype(np.uint8)
            out.append(Layer("etax", f"dataset_export_tax_{cal.regions[i]}_{rate:g}", None, window,
                             {"rate": rate}, {"origin": i, "dest": dest}))
    for name, o, dest, share in quotas:
        out.append(Layer("cap", name, None, window, {"share": share, "cost": 0.0, "tshare": None, "leak": 0.0},
                         {"origin": o, "dest": dest}))
    return out


def compile_market(scn, mineral: str) -> MarketSpec:
    """Compile the policies and parameters of a loaded scenario for one mineral.

    Raises
    ------
    CompileError
        For an element the model cannot represent, e.g. a capacity project in a region with
        no baseline production of the mineral (the Armington model has no variety for it) or
        two producer floors for one region and mineral.
    """
    ds = scn.data
    md = ds.minerals[mineral]
    cal = calibrate(md, latent_link_weight=scn.trade.latent_link_weight)
    regions = cal.regions
    R = len(regions)
    groups = scenario_groups(scn)
    hz = scn.horizon
    layers: list[Layer] = _baseline_layers(cal, scn)
    problems = []
    floors_seen, stock_seen = {}, {}
    for pol in scn.policies:
        if not _applies(pol, mineral):
            continue
        pre = f"policies.{pol.name}"
        window = active_range(getattr(pol, "start", None), getattr(pol, "end", None), hz)
        if isinstance(pol, Tariff):
            imp = _mask(pol.importers, regions, groups)
            exp = _mask(pol.exporters, regions, groups)
            mask = np.outer(exp, imp).astype(np.float64)
            np.fill_diagonal(mask, 0.0)
            layers.append(Layer("tariff", pol.name, pol, window, {"rate": _value(pol, "rate", pre)},
                                {"mask": mask, "mode": TARIFF_ADD if pol.mode == "add" else TARIFF_SET}))
        elif isinstance(pol, ExportRestriction):
            o = regions.index(pol.origin)
            dest = _mask(pol.destinations, regions, groups)
            dest[o] = 0
            ts = pol.transshipment
            if ts is not None:
                # a route at an (uncertain) cost with a capacity share or unlimited (inf)
                route = {"cost": _value(ts, "cost", pre + ".transshipment"),
                         "tshare": _value(ts, "capacity", pre + ".transshipment") if _is_num_or_dist(ts.capacity) else np.inf,
                         "leak": None}
            else:
                # version 1's leakage l: a free route of capacity l (1 - share) of baseline
                # flows, so the allowed share is share + l (1 - share) (docs/model.md sec. 8)
                route = {"cost": 0.0, "tshare": None, "leak": _value(pol, "leakage", pre)}
            values = {"share": _value(pol, "cap_share", pre), **route}
            if pol.per_destination:
                # one restriction per destination it ships to (latent links included), sharing
                # the policy's (uncertain) numbers
                for j in np.nonzero(dest * (cal.X0[o] > 0))[0]:
                    one = np.zeros_like(dest)
                    one[j] = 1
                    layers.append(Layer("cap", f"{pol.name}[{regions[j]}]", pol, window, dict(values),
                                        {"origin": o, "dest": one}))
            else:
                layers.append(Layer("cap", pol.name, pol, window, values, {"origin": o, "dest": dest}))
        elif isinstance(pol, ExportTax):
            o = regions.index(pol.origin)
            dest = _mask(pol.destinations, regions, groups)
            dest[o] = 0
            layers.append(Layer("etax", pol.name, pol, window, {"rate": _value(pol, "rate", pre)},
                                {"origin": o, "dest": dest}))
        elif isinstance(pol, PriceFloor):
            r = regions.index(pol.region)
            if r in floors_seen:
                problems.append(f"{pre}: a second producer price floor for {pol.region} and {mineral} "
                                f"(already {floors_seen[r]}); one floor per region and mineral is supported")
                continue
            floors_seen[r] = pol.name
            if cal.Q0[r] <= 0:
                problems.append(f"{pre}: {pol.region} has no baseline production of {mineral}, so a producer "
                                "floor has nothing to cover; add a capacity_project only where a variety exists")
                continue
            level = convert_price(pol.level, pol.unit, cal.price_unit) / cal.price
            ref = -1 if pol.reference == "market" else regions.index(pol.reference)
            end = period_index(pol.end, hz) if getattr(pol, "end", None) is not None else 10**9
            layers.append(Layer("floor", pol.name, pol, window,
                                {"phi": _value(pol, "covered_share", pre), "alpha": _value(pol, "upside_share", pre)},
                                {"region": r, "level": level, "ref": ref, "end": end}))
        elif isinstance(pol, EquityStake):
            r = regions.index(pol.region)
            layers.append(Layer("equity", pol.name, pol, window, {"share": _value(pol, "share", pre)},
                                {"region": r}))
        elif isinstance(pol, MinimumImportPrice):
            level = convert_price(pol.level, pol.unit, cal.price_unit) / cal.price
            layers.append(Layer("mip", pol.name, pol, window, {},
                                {"members": _mask(pol.members, regions, groups), "level": level,
                                 "undertaking": 1 if pol.collection == "undertaking" else 0}))
        elif isinstance(pol, Stockpile):
            r = regions.index(pol.region)
            if r in stock_seen:
                problems.append(f"{pre}: a second stockpile for {pol.region} and {mineral} (already {stock_seen[r]})")
                continue
            stock_seen[r] = pol.name
            c0 = cal.C0[r]
            init = pol.initial_t if pol.initial_t is not None else (pol.initial_months or 0.0) / 12.0 * c0
            capt = pol.capacity_t if pol.capacity_t is not None else (
                pol.capacity_months / 12.0 * c0 if pol.capacity_months is not None else np.inf)
            if pol.trigger is not None:
                trig = pol.trigger
            else:
                trig = convert_price(pol.trigger_price, pol.unit, cal.price_unit) / cal.unit_value0[r]
            layers.append(Layer("stockpile", pol.name, pol, window, {}, {
                "region": r, "init": init, "cap": capt, "release": pol.release_rate * c0, "trigger": trig,
                "refill": pol.refill_rate * c0,
                "below": pol.refill_below if pol.refill_below is not None else 0.0}))
        elif isinstance(pol, Offtake):
            r = regions.index(pol.region)
            if cal.Q0[r] <= 0:
                problems.append(f"{pre}: {pol.region} has no baseline production of {mineral} to buy")
                continue
            price = 0.0 if pol.price is None else convert_price(pol.price, pol.unit, cal.price_unit) / cal.price
            layers.append(Layer("offtake", pol.name, pol, window, {},
                                {"region": r, "qty": pol.quantity_t, "price": price}))
        elif isinstance(pol, CapacityProject):
            r = regions.index(pol.region)
            if cal.Q0[r] <= 0:
                problems.append(f"{pre}: {pol.region} has no baseline production of {mineral}; the Armington model "
                                "gives a region without a baseline variety no demand, so new capacity there "
                                "cannot sell. Put the project in a producing region or add a small baseline "
                                "flow to the dataset")
                continue
            cov = 0.0 if pol.covered_share is None else _value(pol, "covered_share", pre)
            layers.append(Layer("project", pol.name, pol, None,
                                {"prob": _value(pol, "probability", pre), "delay": _value(pol, "delay_quarters", pre),
                                 "cov": cov},
                                {"region": r, "cap": pol.capacity_t, "period": period_index(pol.date, hz)}))
        elif isinstance(pol, Outage):
            r = regions.index(pol.region)
            layers.append(Layer("outage", pol.name, pol, window,
                                {"share": _value(pol, "share", pre),
                                 "prob": _value(pol, "probability", pre) if pol.probability is not None else 1.0,
                                 "hazard": _value(pol, "hazard", pre) if pol.hazard is not None else None,
                                 "duration": _value(pol, "duration_quarters", pre) if pol.duration_quarters is not None else None},
                                {"region": r}))
        else:  # pragma: no cover - every schema type is handled above
            problems.append(f"{pre}: policy type {pol.type!r} is not supported by the engine")
    if problems:
        raise CompileError("cannot run scenario " + repr(scn.name) + ":\n  - " + "\n  - ".join(problems), problems)

    # parameters: defaults from dynamics and the dataset, then overrides in order
    params: dict = {}
    all_mask = np.ones(R, dtype=np.uint8)
    for kind in DYNAMICS_KINDS:
        params[kind] = [(all_mask, _value(scn.dynamics, kind, "dynamics"))]
    names = {u.name for u in uncertain_inputs(scn)}
    for kind in ELASTICITY_KINDS:
        nm = f"elasticities.{mineral}.{kind}"
        # every kind is in the dataset (the loader fills the defaults of missing columns)
        params[kind] = [(all_mask, nm if nm in names else float(md.elasticities[kind][0]))]
    for par in scn.parameters:
        if par.minerals != "all" and mineral not in par.minerals:
            continue
        params[par.parameter].append((_mask(par.regions, regions, groups), _value(par, "value", f"parameters.{par.name}")))

    watched_names = default_watched(scn.outputs.watched_origins, regions)
    watched = np.array([_mask([w], regions, groups) for w in watched_names], dtype=np.uint8).reshape(len(watched_names), R)
    return MarketSpec(mineral=mineral, cal=cal, regions=regions, periods=hz.periods,
                      period_years=period_years(scn), layers=layers, params=params,
                      watched=watched, watched_names=watched_names)


# ----------------------------------------------------------------------------------------------
# Per-chunk materialisation
# ----------------------------------------------------------------------------------------------


def _uniforms(seed, key, element, start, stop, width, shock_draw=None):
    """The stream's uniforms of draws [start, stop), or, with ``shock_draw``, that one draw's
    numbers for every row (common random numbers across a sensitivity design's rows)."""
    if shock_draw is None:
        return uniforms(seed, key, element, start, stop, width)
    return np.repeat(uniforms(seed, key, element, shock_draw, shock_draw + 1, width), stop - start, axis=0)


def sample_inputs(scn, start: int, stop: int, *, central: bool = False, overrides: dict | None = None) -> dict:
    """Values of every uncertain input for draws ``[start, stop)``.

    Parameters
    ----------
    central : bool
        Use each distribution's central value (mean) instead of draws (``simsrc solve``).
    overrides : dict name -> ndarray (stop - start,), optional
        Values fixed by the caller (sensitivity analysis designs).
    """
    n = stop - start
    out = {}
    for ui in uncertain_inputs(scn):
        if overrides and ui.name in overrides:
            out[ui.name] = np.asarray(overrides[ui.name], dtype=float)[:n]
        elif central:
            out[ui.name] = np.full(n, ui.central())
        else:
            u = uniforms(scn.seed, SHARED, f"input:{ui.name}", start, stop, 1)[:, 0]
            out[ui.name] = np.asarray(ui.ppf(u), dtype=float)
    return out


def _draw_values(v, inputs: dict, n: int) -> np.ndarray:
    if v is None:
        return np.zeros(n)
    if isinstance(v, str):
        return inputs[v]
    return np.full(n, float(v))


def event_states(scn, start: int, stop: int, inputs: dict, *, central: bool = False,
                 shock_draw: int | None = None) -> dict:
    """State paths ``(event, state) -> ndarray (n, T) bool`` of every event for draws [start, stop).

    With ``central=True`` (deterministic solve) an event's random outcome is its most likely
    one: dated events fire and negotiations fail when their probability exceeds 0.5, and a
    Markov regime stays in its initial state (on if 'stationary' with P(on) > 0.5).
    """
    n, T = stop - start, scn.horizon.periods
    hz = scn.horizon
    states = {}
    for ev in scn.events:
        pre = f"events.{ev.name}"
        if isinstance(ev, DatedEvent):
            prob = _draw_values(_value(ev, "probability", pre), inputs, n)
            u = np.full(n, 0.5) if central else _uniforms(scn.seed, SHARED, pre, start, stop, 1, shock_draw)[:, 0]
            states[(ev.name, "fired")] = dated_paths(u, prob, period_index(ev.date, hz), T).astype(bool)
        elif isinstance(ev, MarkovEvent):
            p_on = _draw_values(_value(ev, "p_on", pre), inputs, n)
            p_off = _draw_values(_value(ev, "p_off", pre), inputs, n)
            init = {"on": INITIAL_ON, "off": INITIAL_OFF, "stationary": INITIAL_STATIONARY}[ev.initial]
            st = 0 if ev.start is None else period_index(ev.start, hz)
            if central:
                u = np.ones((n, T + 1))  # no switching
                u[:, 0] = 0.5
            else:
                u = _uniforms(scn.seed, SHARED, pre, start, stop, T + 1, shock_draw)
            on = markov_paths(u, p_on, p_off, init, st, T).astype(bool)
            states[(ev.name, "on")] = on
            active = np.zeros((n, T), dtype=bool)
            active[:, max(st, 0):] = True
            states[(ev.name, "off")] = active & ~on
        elif isinstance(ev, Negotiation):
            prob = _draw_values(_value(ev, "success_probability", pre), inputs, n)
            if ev.deadline is not None:
                dl = period_index(ev.deadline, hz)
            else:
                import datetime as _dt
                dl = period_index(parse_time(ev.opened) + _dt.timedelta(days=ev.deadline_days), hz)
            u = np.full(n, 0.5) if central else _uniforms(scn.seed, SHARED, pre, start, stop, 1, shock_draw)[:, 0]
            ok, failed = negotiation_paths(u, prob, dl, T)
            states[(ev.name, "succeeded")] = ok.astype(bool)
            states[(ev.name, "failed")] = failed.astype(bool)
            states[(ev.name, "pending")] = ~(ok.astype(bool) | failed.astype(bool))
    return states


_MAIN_STATE = {"dated": "fired", "markov": "on", "negotiation": "failed"}


def activity(layer: Layer, scn, states: dict, n: int, T: int) -> np.ndarray:
    """0/1 activity of a layer per draw and period: its time window and its condition."""
    act = np.zeros((n, T), dtype=bool)
    if layer.window is not None:
        a, b = layer.window
        act[:, a:b + 1] = True
    cond = getattr(layer.policy, "when", None)  # the dataset's standing layers have no policy
    if cond is not None:
        types = {e.name: e.type for e in scn.events}

        def state(ev, st):
            return states[(ev, st or _MAIN_STATE[types[ev]])]

        act &= np.broadcast_to(evaluate_condition(cond, state), (n, T))
    return act.astype(np.uint8)


def _param_arrays(spec: MarketSpec, inputs: dict, n: int) -> dict:
    R = len(spec.regions)
    out = {}
    for kind, entries in spec.params.items():
        arr = np.zeros((n, R))
        for mask, v in entries:
            vals = _draw_values(v, inputs, n)
            arr[:, mask.astype(bool)] = vals[:, None]
        out[kind] = arr
    return out


def draw_inputs(scn, spec: MarketSpec, start: int, stop: int, *, central: bool = False,
                overrides: dict | None = None, inputs: dict | None = None, states: dict | None = None,
                shock_draw: int | None = None) -> dict:
    """Kernel arguments of :func:`simsrc.kernels.dynamics.simulate` for draws [start, stop).

    Returns a dict keyed by the kernel's argument names (without the outputs). With
    ``shock_draw`` every row takes that draw's random numbers (demand shocks, events, projects,
    outages): common random numbers across the rows of a sensitivity design.
    """
    n, T, R = stop - start, spec.periods, len(spec.regions)
    cal = spec.cal
    dt = spec.period_years
    if inputs is None:
        inputs = sample_inputs(scn, start, stop, central=central, overrides=overrides)
    if states is None:
        states = event_states(scn, start, stop, inputs, central=central, shock_draw=shock_draw)
    par = _param_arrays(spec, inputs, n)
    lead = np.maximum(0, np.rint(par["lead_time"] / dt)).astype(np.int64)
    if central:
        Z = np.zeros((n, T, R))
    else:
        Z = ndtri(_uniforms(scn.seed, spec.mineral, "demand_shocks", start, stop, T * R, shock_draw)).reshape(n, T, R)

    by = {k: [l for l in spec.layers if l.kind == k] for k in
          ("tariff", "cap", "etax", "floor", "mip", "stockpile", "offtake", "project", "outage", "equity")}

    def act_stack(layers):
        if not layers:
            return np.zeros((n, T, 0), dtype=np.uint8)
        return np.stack([activity(l, scn, states, n, T) for l in layers], axis=2)

    tl = by["tariff"]
    cl = by["cap"]
    el = by["etax"]
    cap_share = np.stack([_draw_values(l.values["share"], inputs, n) for l in cl], axis=1) if cl else np.zeros((n, 0))
    cap_cost = np.zeros((n, len(cl)))
    cap_tshare = np.zeros((n, len(cl)))
    for q, l in enumerate(cl):
        cap_cost[:, q] = _draw_values(l.values["cost"], inputs, n)
        if l.values["leak"] is not None:
            cap_tshare[:, q] = _draw_values(l.values["leak"], inputs, n) * (1.0 - cap_share[:, q])
        elif isinstance(l.values["tshare"], float) and np.isinf(l.values["tshare"]):
            cap_tshare[:, q] = np.inf
        else:
            cap_tshare[:, q] = _draw_values(l.values["tshare"], inputs, n)
    ml = by["mip"]
    ol = by["offtake"]
    args = dict(
        X0=cal.X0, T0=cal.T0, tariff0=cal.tariff0, w=cal.w,
        u0=np.where(np.isnan(cal.u0), 1.0, cal.u0),
        K0v=np.where(np.isinf(cal.K0), cal.Q0, cal.K0),
        unlimited=np.isnan(cal.u0).astype(np.uint8),
        uv0=cal.unit_value0, P0=cal.price, P0_usd=cal.price_usd_per_t,
        sigma=par["armington"], eta=-par["demand_elasticity"], eps=par["supply_elasticity"],
        adj=par["adjustment_speed"], B=np.where(np.isnan(par["backstop"]), np.inf, par["backstop"]),
        # drawn independently, the two elasticities may cross: above the backstop demand is at
        # least as elastic as below it (docs/model.md sec. 1.4)
        etab=np.maximum(-par["backstop_elasticity"], -par["demand_elasticity"]),
        mu=par["demand_growth"], vol=par["demand_volatility"], delta=par["depreciation"],
        kappa=par["investment_response"], imax=par["max_investment_rate"], lead=lead,
        ew=par["expectation_weight"], Z=Z, dt=dt,
        tar_mask=np.array([l.data["mask"] for l in tl]).reshape(len(tl), R, R),
        tar_mode=np.array([l.data["mode"] for l in tl], dtype=np.int64),
        tar_rate=np.stack([_draw_values(l.values["rate"], inputs, n) for l in tl], axis=1) if tl else np.zeros((n, 0)),
        tar_act=act_stack(tl),
        cap_origin=np.array([l.data["origin"] for l in cl], dtype=np.int64),
        cap_dest=np.array([l.data["dest"] for l in cl], dtype=np.uint8).reshape(len(cl), R),
        cap_share=cap_share, cap_cost=cap_cost, cap_tshare=cap_tshare,
        cap_act=act_stack(cl),
        etx_origin=np.array([l.data["origin"] for l in el], dtype=np.int64),
        etx_dest=np.array([l.data["dest"] for l in el], dtype=np.uint8).reshape(len(el), R),
        etx_rate=np.stack([_draw_values(l.values["rate"], inputs, n) for l in el], axis=1) if el else np.zeros((n, 0)),
        etx_act=act_stack(el),
        mip_members=np.array([l.data["members"] for l in ml], dtype=np.uint8).reshape(len(ml), R),
        mip_level=np.array([l.data["level"] for l in ml], dtype=np.float64),
        mip_und=np.array([l.data["undertaking"] for l in ml], dtype=np.uint8),
        mip_act=act_stack(ml),
        off_region=np.array([l.data["region"] for l in ol], dtype=np.int64),
        off_qty=np.array([l.data["qty"] for l in ol], dtype=np.float64),
        off_price=np.array([l.data["price"] for l in ol], dtype=np.float64),
        off_act=act_stack(ol),
    )
    # floors (at most one per region)
    flo_level = np.zeros(R)
    flo_phi = np.zeros((n, R))
    flo_alpha = np.zeros((n, R))
    flo_act = np.zeros((n, T, R), dtype=np.uint8)
    flo_ref = np.full(R, -1, dtype=np.int64)
    flo_end = np.full(R, 10**9, dtype=np.int64)
    for l in by["floor"]:
        r = l.data["region"]
        flo_level[r] = l.data["level"]
        flo_ref[r] = l.data["ref"]
        flo_end[r] = l.data["end"]
        flo_phi[:, r] = _draw_values(l.values["phi"], inputs, n)
        flo_alpha[:, r] = _draw_values(l.values["alpha"], inputs, n)
        flo_act[:, :, r] = activity(l, scn, states, n, T)
    # government equity stakes in floor-covered producers (stakes in one region add up)
    eq_share = np.zeros((n, R))
    eq_act = np.zeros((n, T, R), dtype=np.uint8)
    for l in by["equity"]:
        r = l.data["region"]
        eq_share[:, r] += _draw_values(l.values["share"], inputs, n)
        eq_act[:, :, r] |= activity(l, scn, states, n, T)
    args.update(eq_share=np.minimum(eq_share, 1.0), eq_act=eq_act)
    args.update(flo_level=flo_level, flo_phi=flo_phi, flo_alpha=flo_alpha, flo_act=flo_act,
                flo_ref=flo_ref, flo_end=flo_end, payback=par["floor_payback_years"])
    # stockpiles (at most one per region)
    stk = {k: np.zeros(R) for k in ("init", "cap", "release", "trigger", "refill", "below")}
    stk["trigger"][:] = np.inf
    stk_act = np.zeros((n, T, R), dtype=np.uint8)
    for l in by["stockpile"]:
        r = l.data["region"]
        for k in stk:
            stk[k][r] = l.data[k]
        stk_act[:, :, r] = activity(l, scn, states, n, T)
    args.update(stk_init=stk["init"], stk_cap=stk["cap"], stk_rel=stk["release"], stk_trig=stk["trigger"],
                stk_refill=stk["refill"], stk_below=stk["below"], stk_act=stk_act)
    # capacity projects: built with a probability, after a random delay
    pl = by["project"]
    prj_period = np.full((n, len(pl)), -1, dtype=np.int64)
    prj_cov = np.zeros((n, len(pl)))
    months = PERIOD_MONTHS[scn.horizon.period]
    for q, l in enumerate(pl):
        prob = _draw_values(l.values["prob"], inputs, n)
        delay_q = _draw_values(l.values["delay"], inputs, n)
        if central:
            built = prob >= 0.5
        else:
            built = _uniforms(scn.seed, spec.mineral, f"project:{l.name}", start, stop, 1, shock_draw)[:, 0] < prob
        per = l.data["period"] + np.rint(delay_q * 3.0 / months).astype(np.int64)
        prj_period[:, q] = np.where(built & (per < T), np.maximum(per, 0), -1)
        prj_cov[:, q] = _draw_values(l.values["cov"], inputs, n)
    args.update(prj_region=np.array([l.data["region"] for l in pl], dtype=np.int64),
                prj_cap=np.array([l.data["cap"] for l in pl], dtype=np.float64),
                prj_period=prj_period, prj_cov=prj_cov)
    # outages -> share of capacity available per draw, period and region
    mult = np.ones((n, T, R))
    for l in by["outage"]:
        r = l.data["region"]
        share = _draw_values(l.values["share"], inputs, n)
        window = activity(l, scn, states, n, T).astype(bool)
        if l.values["hazard"] is None:
            prob = _draw_values(l.values["prob"], inputs, n)
            if central:
                happens = prob >= 0.5
            else:
                happens = _uniforms(scn.seed, spec.mineral, f"outage:{l.name}", start, stop, 1, shock_draw)[:, 0] < prob
            on = window & happens[:, None]
        else:
            hz_ = _draw_values(l.values["hazard"], inputs, n)
            dur = np.maximum(1, np.rint(_draw_values(l.values["duration"], inputs, n) * 3.0 / months)).astype(np.int64)
            if central:
                starts = np.zeros((n, T), dtype=bool)
            else:
                starts = (_uniforms(scn.seed, spec.mineral, f"outage:{l.name}", start, stop, T, shock_draw) < hz_[:, None]) & window
            c = np.concatenate([np.zeros((n, 1), dtype=np.int64), np.cumsum(starts, axis=1)], axis=1)
            tt = np.arange(T)[None, :]
            lo = np.maximum(tt + 1 - dur[:, None], 0)
            on = (c[:, 1:] - np.take_along_axis(c, lo, axis=1)) > 0
        mult[:, :, r] *= np.where(on, 1.0 - share[:, None], 1.0)
    args["outage_mult"] = mult
    # capital cost of capacity (USD per t/yr): the dataset's (drawn) value, 0 where it has none
    args["capex"] = np.where(np.isfinite(par["capex"]), par["capex"], 0.0)
    args["watched"] = spec.watched
    return args
