"""Cross-checks of a schema-valid scenario against its dataset.

Schema validation (pydantic) checks each value on its own: types, ranges, the supports of
distributions, elasticity signs. The checks here need the dataset or the whole scenario:
region, group and mineral codes exist; dates fall inside the horizon; price units convert to the
dataset's price unit and price levels are plausible; `when` conditions name known events and
states. Every problem is reported through a callback with the key path of the offending value.
"""

from __future__ import annotations

import math
import re

from ..errors import did_you_mean, unknown_name_message
from ..units import MASS_IN_TONNES, UnitError, convert_price
from .model import (
    CapacityProject, DatedEvent, EquityStake, EVENT_STATES, ExportRestriction, ExportTax, MarkovEvent, MinimumImportPrice,
    Negotiation, Offtake, Outage, PriceFloor, Stockpile, Tariff, _Timed, condition_refs,
)
from .timeline import horizon_bounds, parse_time, period_label

#: A price level (floor, minimum import price, offtake or trigger price) more than this factor
#: above or below the mineral's baseline price is taken as a unit mistake (USD/t for USD/kg is
#: a factor 1000); genuine policy prices sit within a few times the market price.
PLAUSIBLE_PRICE_FACTOR = 100.0

_REF = re.compile(r"[A-Za-z][A-Za-z0-9_\-]*(\.[A-Za-z_]+)?")


def expand_groups(codes, regions, groups) -> list[str]:
    """Expand region codes and group names (nested groups allowed) into regions, in ``regions`` order."""
    out: set[str] = set()
    seen: set[str] = set()
    stack = list([codes] if isinstance(codes, str) else codes)
    while stack:  # iterative: group chains of any length, cycles visited once
        c = stack.pop()
        if c in groups:
            if c not in seen:
                seen.add(c)
                stack.extend(groups[c])
        else:
            out.add(c)
    return [r for r in regions if r in out]


#: Deepest nesting of scenario groups (a group of groups of ...).
MAX_GROUP_DEPTH = 16


class Checker:
    """Runs every cross-check; ``report(path, message)`` receives each problem.

    ``index`` maps each list section (policies, events, parameters) to the indices, in the
    merged data, of the elements of ``scenario`` (elements that failed schema validation are
    left out of ``scenario`` but keep their original indices in messages).
    """

    def __init__(self, scenario, dataset, report, raw, index=None, check_dates=True):
        self.sc, self.ds, self.report, self.raw = scenario, dataset, report, raw
        self.index = index or {}
        self.check_dates = check_dates
        self.regions = list(dataset.regions)
        self.groups = {g: tuple(v) for g, v in dataset.groups.items()}
        self.user_groups = {}

    # -- helpers -------------------------------------------------------------------------------
    def _idx(self, section, k):
        m = self.index.get(section)
        return m[k] if m is not None else k

    def _raw_at(self, path):
        cur = self.raw
        for p in path:
            try:
                cur = cur[p]
            except (KeyError, IndexError, TypeError):
                return None
        return cur

    def _item(self, path, i):
        """Path of the i-th code of a code list (the path itself if the user wrote one code)."""
        return path + (i,) if isinstance(self._raw_at(path), list) else path

    def _known_text(self):
        return (f"known regions: {', '.join(self.regions)}"
                + (f"; groups: {', '.join(sorted(self.groups))}" if self.groups else ""))

    def region_or_group(self, path, codes, allow_all=False):
        if codes == "all":
            return
        for i, c in enumerate(codes):
            if c in self.regions or c in self.groups:
                continue
            self.report(self._item(path, i), f"unknown region {c!r}; {self._known_text()}"
                        f"{did_you_mean(c, self.regions + list(self.groups))}")

    def one_region(self, path, code):
        if code in self.regions:
            return True
        if code in self.groups:
            self.report(path, f"{code!r} is a group; this field needs one region; known regions: {', '.join(self.regions)}")
        else:
            self.report(path, unknown_name_message("region", code, self.regions).replace("; known:", "; known regions:"))
        return False

    def minerals(self, path, codes):
        """Check mineral codes; return the known ones ('all' -> the scenario's minerals)."""
        if codes == "all":
            return self.scenario_minerals()
        ok = []
        for i, m in enumerate(codes):
            if m in self.ds.minerals:
                ok.append(m)
            else:
                self.report(self._item(path, i), unknown_name_message("mineral", m, self.ds.minerals))
        return ok

    def scenario_minerals(self):
        if self.sc.minerals == "all":
            return list(self.ds.minerals)
        return [m for m in self.sc.minerals if m in self.ds.minerals]

    def horizon_text(self):
        h = self.sc.horizon
        a, b = horizon_bounds(h)
        return f"{period_label(h, 0)} to {period_label(h, h.periods - 1)} ({a.isoformat()} to {b.isoformat()} exclusive)"

    def in_horizon(self, path, value, what):
        if not self.check_dates or value is None:
            return
        a, b = horizon_bounds(self.sc.horizon)
        d = parse_time(value)
        if not (a <= d < b):
            self.report(path, f"{what} {value} is outside the horizon {self.horizon_text()}")

    def timed(self, path, p):
        if not self.check_dates:
            return
        a, b = horizon_bounds(self.sc.horizon)
        s = parse_time(p.start) if p.start else None
        e = parse_time(p.end) if p.end else None
        if s and e and e < s:
            self.report(path + ("end",), f"end {p.end} is before start {p.start}")
            return
        if s and s >= b:
            self.report(path + ("start",), f"start {p.start} is after the horizon {self.horizon_text()}; the policy would never apply")
        if e and e < a:
            self.report(path + ("end",), f"end {p.end} is before the horizon {self.horizon_text()}; the policy would never apply")

    def price(self, path_level, path_unit, level, unit, minerals, what):
        """Unit convertible to each mineral's price unit, level within PLAUSIBLE_PRICE_FACTOR of its price."""
        for m in minerals:
            md = self.ds.minerals[m]
            cur = md.price_unit.split("/")[0].strip()
            allowed = ", ".join(f"{cur}/{u}" for u in MASS_IN_TONNES)
            try:
                conv = convert_price(level, unit, md.price_unit)
            except UnitError as exc:
                reason = str(exc).split("; allowed")[0]
                self.report(path_unit, f"unit {unit!r} cannot be converted to the price unit of {m} ({md.price_unit}): "
                            f"{reason}; allowed: {allowed}")
                return
            ratio = conv / md.price
            if ratio > PLAUSIBLE_PRICE_FACTOR or ratio < 1.0 / PLAUSIBLE_PRICE_FACTOR:
                best = min(MASS_IN_TONNES, key=lambda u: abs(math.log(convert_price(level, f"{cur}/{u}", md.price_unit) / md.price)))
                hint = f"; did you mean {level:g} {cur}/{best}?" if f"{cur}/{best}" != unit else ""
                same = "" if unit.replace(" ", "") == md.price_unit.replace(" ", "") else f" = {conv:g} {md.price_unit}"
                self.report(path_level, f"{what} {level:g} {unit}{same} is {ratio:.3g} times the baseline "
                            f"price of {m} ({md.price:g} {md.price_unit}, {md.price_date}); more than "
                            f"{PLAUSIBLE_PRICE_FACTOR:g}x away from it looks like a unit mistake{hint}")

    # -- the checks ----------------------------------------------------------------------------
    def run(self):
        sc = self.sc
        self.check_groups()
        if sc.minerals != "all":
            self.minerals(("minerals",), sc.minerals)
        # event name -> type, from the raw data, so that an event that failed schema validation
        # does not also make every reference to it an error
        events = {}
        for el in self._raw_at(("events",)) or []:
            if isinstance(el, dict) and isinstance(el.get("name"), str):
                events[el["name"]] = el.get("type")
        for k, e in enumerate(sc.events):
            self.check_event(("events", self._idx("events", k)), e)
        for k, p in enumerate(sc.parameters):
            path = ("parameters", self._idx("parameters", k))
            if p.minerals != "all":
                self.minerals(path + ("minerals",), p.minerals)
            self.region_or_group(path + ("regions",), p.regions)
        floors = [p for p in sc.policies if isinstance(p, PriceFloor)]
        for k, p in enumerate(sc.policies):
            path = ("policies", self._idx("policies", k))
            self.check_policy(path, p, floors)
            for ev, st, sub in condition_refs(p.when):
                self.check_ref(path + ("when",) + sub, ev, st, events)
        self.check_engine_limits()
        if sc.outputs.watched_origins is not None:
            self.region_or_group(("outputs", "watched_origins"), sc.outputs.watched_origins)
        self.check_paths(sc.outputs.paths)
        for sec in ("policies", "events", "parameters"):
            raw = self._raw_at((sec,))
            if isinstance(raw, list) and sec in self.index:
                for i in sorted(set(range(len(raw))) - set(self.index[sec])):
                    if isinstance(raw[i], dict):
                        self.check_raw_element((sec, i), raw[i], events)

    def _production(self, mineral, region) -> float:
        md = self.ds.minerals[mineral]
        regs = list(md.regions)
        return float(md.production[regs.index(region)]) if region in regs else 0.0

    def check_engine_limits(self):
        """What the engine cannot represent, per simulated mineral (the same rules as
        :func:`simsrc.policies.compile_market`, checked here so `validate` refuses it with its
        line): one producer floor and one stockpile per region and mineral; floors, offtake and
        capacity projects only in regions that produce the mineral in the dataset."""
        scope = self.scenario_minerals()
        first: dict = {}
        for k, p in enumerate(self.sc.policies):
            path = ("policies", self._idx("policies", k))
            if not isinstance(p, (PriceFloor, Stockpile, Offtake, CapacityProject)) or p.region not in self.regions:
                continue
            if isinstance(p, (Offtake, CapacityProject)):
                mins = [p.mineral] if p.mineral in scope else []
            else:
                mins = scope if p.minerals == "all" else [m for m in p.minerals if m in scope]
            for m in mins:
                if isinstance(p, (PriceFloor, Stockpile)):
                    kind = "producer price floor" if isinstance(p, PriceFloor) else "stockpile"
                    key = (kind, p.region, m)
                    if key in first:
                        j, other = first[key]
                        self.report(path + ("region",), f"a second {kind} for {p.region} and {m} (already "
                                    f"policies[{j}] {other!r}); one {kind} per region and mineral is supported")
                        break
                    first[key] = (self._idx("policies", k), p.name)
                if not isinstance(p, Stockpile) and self._production(m, p.region) <= 0:
                    what = {PriceFloor: "a producer price floor has nothing to cover",
                            Offtake: "an offtake agreement has nothing to buy",
                            CapacityProject: "new capacity there would have no demand in the Armington model "
                                             "(put the project in a producing region)"}[type(p)]
                    producers = [r for r in self.regions if self._production(m, r) > 0]
                    self.report(path + ("region",), f"{p.region} has no baseline production of {m} in the dataset, so "
                                f"{what}; regions producing {m}: {', '.join(producers) or 'none'}")
                    break

    _RAW_CODE_FIELDS = {
        "importers": "group", "exporters": "group", "members": "group", "destinations": "group",
        "partners": "group", "regions": "group", "region": "region", "origin": "region",
        "minerals": "mineral", "mineral": "mineral",
    }

    def check_paths(self, sel):
        """``outputs.paths``: known outputs, regions and the scenario's minerals, no duplicates."""
        if isinstance(sel, str):
            return
        from ..outputs import ROW
        base = ("outputs", "paths")
        from ..policies import default_watched
        known = list(ROW) + [f"share_{w}" for w in default_watched(self.sc.outputs.watched_origins, self.regions)]
        if sel.outputs != "all":
            for i, o in enumerate(sel.outputs):
                if o not in known:
                    self.report(self._item(base + ("outputs",), i), unknown_name_message("output", o, known))
        if sel.regions != "all":
            self.region_or_group(base + ("regions",), sel.regions)
        if sel.minerals != "all":
            mine = self.scenario_minerals()
            for i, m in enumerate(sel.minerals):
                if m not in mine:
                    self.report(self._item(base + ("minerals",), i),
                                f"{m!r} is not a mineral of this scenario; its minerals: {', '.join(mine)}"
                                f"{did_you_mean(m, mine)}")
        for key in ("outputs", "regions", "minerals"):
            vals = getattr(sel, key)
            if vals != "all":
                seen = set()
                for i, v in enumerate(vals):
                    if v in seen:
                        self.report(self._item(base + (key,), i), f"{v!r} is listed twice")
                    seen.add(v)

    def check_raw_element(self, path, el, events):
        """Code and `when` checks on an element that failed schema validation (so that all its
        problems are reported at once); only fields that hold text or lists of text are checked."""
        for key, kind in self._RAW_CODE_FIELDS.items():
            v = el.get(key)
            if v == "all" or v is None:
                continue
            codes = [v] if isinstance(v, str) else v
            if not (isinstance(codes, list) and all(isinstance(c, str) for c in codes)):
                continue
            if kind == "group":
                self.region_or_group(path + (key,), codes)
            elif kind == "region":
                self.one_region(path + (key,), codes[0])
            else:
                self.minerals(path + (key,), codes)
        when = el.get("when")
        if isinstance(when, str) or (isinstance(when, list) and all(isinstance(c, str) for c in when)):
            for ev, st, sub in condition_refs(when):
                if _REF.fullmatch(ev + ("." + st if st else "")):  # malformed ones are schema errors
                    self.check_ref(path + ("when",) + sub, ev, st, events)

    def check_groups(self):
        names = dict(self.sc.groups)
        for g in names:
            if g in self.regions:
                self.report(("groups", g), f"group name {g!r} is a region code; choose another name")
            elif g in self.groups:
                self.report(("groups", g), f"group {g!r} is already defined by the dataset ({' '.join(self.groups[g])}); choose another name")
        self.user_groups = {g: v for g, v in names.items() if g not in self.regions and g not in self.groups}
        self.groups.update({g: tuple(v) for g, v in self.user_groups.items()})
        for g, members in self.user_groups.items():
            self.region_or_group(("groups", g), members)
        # cycles among scenario groups and their nesting depth: one iterative depth-first walk,
        # linear in groups and members whatever their number or the length of a chain
        ug = self.user_groups
        color: dict = {}   # 1 while on the walk's path, 2 when done
        depth: dict = {}
        cycles, deep = [], []
        for root in ug:
            if root in color:
                continue
            color[root] = 1
            path, stack = [root], [(root, iter(ug[root]))]
            while stack:
                node, it = stack[-1]
                for m in it:
                    if m not in ug:
                        continue
                    c = color.get(m, 0)
                    if c == 0:
                        color[m] = 1
                        path.append(m)
                        stack.append((m, iter(ug[m])))
                        break
                    if c == 1 and len(cycles) < 10:
                        cycles.append(path[path.index(m):] + [m])
                else:
                    stack.pop()
                    path.pop()
                    color[node] = 2
                    depth[node] = 1 + max((depth.get(m, 0) for m in ug[node] if m in ug), default=0)
                    if depth[node] > MAX_GROUP_DEPTH and len(deep) < 1 and not any(node in cyc for cyc in cycles):
                        deep.append(node)
        for cyc in cycles:
            self.report(("groups", cyc[0]), f"group {cyc[0]!r} contains itself: {' -> '.join(cyc)}")
        for g in deep:
            self.report(("groups", g), f"group {g!r} nests groups {depth[g]} levels deep; at most {MAX_GROUP_DEPTH} "
                        "are allowed: flatten it")

    def check_ref(self, path, ev, st, events):
        if ev not in events:
            if not events:
                self.report(path, f"unknown event {ev!r}: this scenario defines no events (add one under `events`)")
            else:
                self.report(path, unknown_name_message("event", ev, events))
            return
        states = EVENT_STATES.get(events[ev])
        if states is not None and st is not None and st not in states:
            self.report(path, f"event {ev!r} ({events[ev]}) has no state {st!r}; its states: "
                        f"{', '.join(states)}{did_you_mean(st, states)}")

    def check_event(self, path, e):
        if isinstance(e, DatedEvent):
            self.in_horizon(path + ("date",), e.date, "date")
        elif isinstance(e, MarkovEvent):
            self.in_horizon(path + ("start",), e.start, "start")
        elif isinstance(e, Negotiation):
            key = "deadline" if e.deadline is not None else "deadline_days"
            if self.check_dates:
                a, b = horizon_bounds(self.sc.horizon)
                d = e.deadline_date()
                if not (a <= d < b):
                    self.report(path + (key,), f"deadline {d.isoformat()} is outside the horizon {self.horizon_text()}")
            if e.partners:
                self.region_or_group(path + ("partners",), e.partners)

    def check_policy(self, path, p, floors):
        if isinstance(p, _Timed):
            self.timed(path, p)
        mins = []
        if hasattr(p, "minerals"):
            mins = self.minerals(path + ("minerals",), p.minerals)
        if isinstance(p, Tariff):
            self.region_or_group(path + ("importers",), p.importers)
            self.region_or_group(path + ("exporters",), p.exporters)
        elif isinstance(p, PriceFloor):
            self.one_region(path + ("region",), p.region)
            if p.reference != "market":
                self.one_region(path + ("reference",), p.reference)
            self.price(path + ("level",), path + ("unit",), p.level, p.unit, mins, "floor")
        elif isinstance(p, MinimumImportPrice):
            self.region_or_group(path + ("members",), p.members)
            self.price(path + ("level",), path + ("unit",), p.level, p.unit, mins, "minimum import price")
        elif isinstance(p, (ExportRestriction, ExportTax)):
            ok = self.one_region(path + ("origin",), p.origin)
            self.region_or_group(path + ("destinations",), p.destinations)
            if ok and p.destinations != "all":
                dest = expand_groups(p.destinations, self.regions, self.groups)
                if dest and set(dest) <= {p.origin}:
                    self.report(path + ("destinations",), f"no destination other than the origin {p.origin}")
        elif isinstance(p, EquityStake):
            if self.one_region(path + ("region",), p.region) and not any(
                    f.region == p.region and (f.minerals == "all" or p.minerals == "all" or set(p.minerals) & set(f.minerals))
                    for f in floors):
                self.report(path + ("region",), f"an equity stake is in the producer covered by a price floor, and no "
                            f"price_floor covers {p.region}; add one (its covered_share says which capacity is covered)")
        elif isinstance(p, Stockpile):
            self.one_region(path + ("region",), p.region)
            for key in ("initial_t", "capacity_t"):
                if getattr(p, key) is not None and (p.minerals == "all" or len(p.minerals) != 1):
                    self.report(path + (key,), f"{key} is in tonnes, so the stockpile needs exactly one mineral in `minerals`; "
                                "for several minerals use initial_months/capacity_months")
            if p.trigger_price is not None:
                self.price(path + ("trigger_price",), path + ("unit",), p.trigger_price, p.unit, mins, "trigger price")
        elif isinstance(p, Offtake):
            self.one_region(path + ("region",), p.region)
            ms = self.minerals(path + ("mineral",), [p.mineral])
            if p.price is not None:
                self.price(path + ("price",), path + ("unit",), p.price, p.unit, ms, "offtake price")
        elif isinstance(p, CapacityProject):
            ok = self.one_region(path + ("region",), p.region)
            ms = self.minerals(path + ("mineral",), [p.mineral])
            self.in_horizon(path + ("date",), p.date, "date")
            if ok and ms and p.covered_share is not None:
                if not any(f.region == p.region and (f.minerals == "all" or p.mineral in f.minerals) for f in floors):
                    self.report(path + ("covered_share",), f"covered_share needs a price_floor policy for region {p.region} "
                                f"and mineral {p.mineral}; none is defined")
        elif isinstance(p, Outage):
            self.one_region(path + ("region",), p.region)
