# Writes tests/hostile/cases/*.yaml (run from that folder: python ../make_cases.py). The committed
# files are the corpus; this script only documents how the repetitive ones were written.
H = "horizon: {start: 2026Q1, periods: 2}\ndataset: '@TINY@'\nminerals: [gallium]\ndraws: 2\n"
def case(fname, body, msgs, at=None, expect=1, commands="validate run", category="", full=False, results=None):
    hdr = [f"# category: {category}", f"# expect: {expect}", f"# commands: {commands}"]
    if results:
        hdr.append(f"# results: {results}")
    if at is not None:
        hdr.append(f"# at: {at}")
    for m in msgs:
        hdr.append(f"# message: {m}")
    text = "\n".join(hdr) + "\n" + (body if full else "name: hostile\n" + H + body)
    open(fname + ".yaml", "w").write(text)

# ---------------- names (security)
names = {
 "name_dotdot": "../../x", "name_absolute": "/tmp/simsrc-evil", "name_slash": "a/b", "name_nul": "\"a\\0b\"",
 "name_newline": "\"a\\nb\"", "name_300_chars": "n" * 300, "name_empty": "\"\"", "name_leading_dot": ".hidden",
 "name_space": "\"my scenario\"", "name_unicode": "naïve", "name_backslash": "'a\\b'", "name_only_dots": "'..'",
 "name_tab": "\"a\\tb\"", "name_glob": "'*'", "name_tilde": "'~/x'", "name_65_chars": "a" * 65,
}
for f, v in names.items():
    case(f, f"name: {v}\n" + H, ["name:", "letters, digits"], at="name:", category="names", full=True)
case("name_number", "name: 123\n" + H, ["name:", "number"], at="name:", category="names", full=True)
case("name_bool", "name: yes\n" + H, ["name:", "boolean"], at="name:", category="names", full=True)
case("name_list", "name: [a, b]\n" + H, ["name:"], at="name:", category="names", full=True)
case("name_missing", H, ["name", "missing"], category="names", full=True)

# ---------------- YAML reader
case("yaml_alias_bomb", "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
     "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
     "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]\ni: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h,*h]\n",
     ["aliases", "100,000"], category="yaml")
case("yaml_alias_bomb_mappings", "a: &a {k1: x, k2: x, k3: x, k4: x, k5: x, k6: x, k7: x, k8: x}\n"
     + "".join(f"{c}: &{c} {{{', '.join(f'k{i}: *{p}' for i in range(8))}}}\n" for p, c in zip("abcdefgh", "bcdefghi")),
     ["aliases"], category="yaml")
case("yaml_alias_in_description", "description: &d [*d]\n", ["recursive alias"], at="description:", category="yaml")
case("yaml_recursive_alias", "groups: &g {x: *g}\n", ["recursive alias"], at="groups:", category="yaml")
case("yaml_deep_lists", "x: " + "[" * 3000 + "]" * 3000 + "\n", ["nesting deeper than"], at="x:", category="yaml")
case("yaml_deep_mappings", "x: " + "{a: " * 200 + "1" + "}" * 200 + "\n", ["nesting deeper than"], at="x:", category="yaml")
case("yaml_deep_when", "events:\n  - {name: ev, type: dated, date: 2026Q2}\npolicies:\n  - name: p\n    type: tariff\n    importers: [USA]\n"
     "    exporters: [CHN]\n    rate: 0.1\n    when: " + "{any: [" * 60 + "ev" + "]}" * 60 + "\n", ["nesting deeper than"], at="when:", category="yaml")
case("yaml_impossible_date_unquoted", "events:\n  - {name: ev, type: dated, date: 2026-02-30}\n", ["invalid date", "2026-02-30"], at="date:", category="yaml")
case("yaml_impossible_date_quoted", "events:\n  - {name: ev, type: dated, date: '2026-02-30'}\n", ["invalid date", "2026-02-30"], at="date:", category="yaml")
case("yaml_impossible_date_horizon", "name: hostile\nhorizon: {start: 2026-13-01, periods: 2}\ndataset: '@TINY@'\n", ["invalid date"], at="horizon:", category="yaml", full=True)
case("yaml_int_key", "groups:\n  1: [USA]\n", ["key '1'", "number", "quote it"], at="1:", category="yaml")
case("yaml_bool_key", "groups:\n  yes: [USA]\n", ["key 'yes'", "true/false", "quote it"], at="yes:", category="yaml")
case("yaml_null_key", "groups:\n  ~: [USA]\n", ["null", "quote it"], at="~:", category="yaml")
case("yaml_list_key", "groups:\n  ? [a, b]\n  : [USA]\n", ["unhashable key"], at="? [a, b]", category="yaml")
case("yaml_duplicate_key", "draws: 3\n", ["duplicate key 'draws'"], at="draws: 3", category="yaml")
case("yaml_syntax_error", "policies: [\n  {name: x\n", ["YAML syntax error"], category="yaml")
case("yaml_tab_indent", "policies:\n\t- name: x\n", ["YAML"], category="yaml")
case("yaml_empty", "", ["file is empty"], category="yaml", full=True)
case("yaml_only_comment", "# nothing\n", ["file is empty"], category="yaml", full=True)
case("yaml_top_list", "- a\n- b\n", ["top level", "mapping"], category="yaml", full=True)
case("yaml_top_scalar", "just text\n", ["top level", "mapping"], category="yaml", full=True)
case("yaml_python_tag", "x: !!python/object/apply:os.system ['true']\n", ["YAML"], at="x:", category="yaml")
case("yaml_multiple_documents", "---\na: 1\n---\nb: 2\n", ["YAML"], category="yaml")

# ---------------- extends
case("extends_cycle", "extends: scenario.yaml\n", ["extends cycle"], at="extends:", category="extends")
case("extends_missing", "extends: nowhere.yaml\n", ["parent scenario file not found"], at="extends:", category="extends")
case("extends_directory", "extends: ..\n", ["parent scenario file not found"], at="extends:", category="extends")
case("extends_number", "extends: 5\n", ["extends must be the path"], at="extends:", category="extends")
case("extends_parent_bad_name", "extends: parent.yaml\n# --- file: parent.yaml\nname: ../../escape\n" + H,
     ["parent.yaml", "invalid scenario name"], category="extends", full=True)
case("extends_parent_alias_bomb", "extends: parent.yaml\n# --- file: parent.yaml\na: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
     "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n",
     ["parent.yaml", "aliases"], category="extends")

# ---------------- bounds (values used as dates, counts, sizes)
case("draws_true", "draws: true\n", ["draws", "whole number", "boolean"], at="draws: true", category="bounds")
case("draws_zero", "draws: 0\n", ["draws", "> 0"], at="draws: 0", category="bounds")
case("draws_negative", "draws: -5\n", ["draws", "> 0"], at="draws: -5", category="bounds")
case("draws_fraction", "draws: 2.5\n", ["draws", "whole number"], at="draws: 2.5", category="bounds")
case("draws_huge", "draws: 100000000000000000000\n", ["draws", "<= 10000000"], at="draws: 1000", category="bounds")
case("draws_text", "draws: many\n", ["draws", "whole number"], at="draws: many", category="bounds")
case("seed_huge", "seed: 100000000000000000000000000\n", ["seed", "<="], at="seed:", category="bounds")
case("seed_negative", "seed: -1\n", ["seed", ">= 0"], at="seed:", category="bounds")
case("seed_bool", "seed: on\n", ["seed", "boolean"], at="seed:", category="bounds")
case("periods_huge", "name: hostile\nhorizon: {start: 2026Q1, periods: 100000}\ndataset: '@TINY@'\n", ["periods", "<= 1200"], at="horizon:", category="bounds", full=True)
case("periods_bool", "name: hostile\nhorizon: {start: 2026Q1, periods: true}\ndataset: '@TINY@'\n", ["periods", "boolean"], at="horizon:", category="bounds", full=True)
case("year_zero", "name: hostile\nhorizon: {start: 0000Q1, periods: 2}\ndataset: '@TINY@'\n", ["year 0", "1800 to 2500"], at="horizon:", category="bounds", full=True)
case("year_9999_end", "name: hostile\nhorizon: {start: 9999Q4, periods: 8}\ndataset: '@TINY@'\n", ["year 9999", "1800 to 2500"], at="horizon:", category="bounds", full=True)
case("year_date_object_old", "events:\n  - {name: ev, type: dated, date: 0001-01-01}\n", ["year 1", "1800 to 2500"], at="date:", category="bounds")
case("deadline_days_huge", "events:\n  - {name: n, type: negotiation, opened: 2026Q1, deadline_days: 1000000000000, success_probability: 0.5}\n",
     ["deadline_days", "<= 36500"], at="deadline_days", category="bounds")
case("deadline_days_bool", "events:\n  - {name: n, type: negotiation, opened: 2026Q1, deadline_days: true, success_probability: 0.5}\n",
     ["deadline_days", "boolean"], at="deadline_days", category="bounds")
case("project_capacity_huge", "policies:\n  - {name: p, type: capacity_project, region: CHN, mineral: gallium, capacity_t: 1.0e+300, date: 2026Q2}\n",
     ["capacity_t", "<= 1e+12"], at="capacity_t", category="bounds")
case("offtake_quantity_huge", "policies:\n  - {name: o, type: offtake, region: CHN, mineral: gallium, quantity_t: 1.0e+30}\n",
     ["quantity_t", "<= 1e+12"], at="quantity_t", category="bounds")
case("stockpile_months_huge", "policies:\n  - {name: s, type: stockpile, region: USA, minerals: [gallium], initial_months: 1.0e+9, release_rate: 0.1, trigger: 1.5}\n",
     ["initial_months", "<= 12000"], at="initial_months", category="bounds")
case("delay_huge", "policies:\n  - {name: p, type: capacity_project, region: CHN, mineral: gallium, capacity_t: 10, date: 2026Q2, delay_quarters: 1.0e+9}\n",
     ["delay", "4000"], at="delay_quarters", category="bounds")
case("rate_nan", "policies:\n  - {name: t, type: tariff, importers: [USA], exporters: [CHN], rate: .nan}\n", ["rate"], at="rate:", category="bounds")
case("rate_inf", "policies:\n  - {name: t, type: tariff, importers: [USA], exporters: [CHN], rate: .inf}\n", ["rate"], at="rate:", category="bounds")
case("probability_above_one", "events:\n  - {name: ev, type: dated, date: 2026Q2, probability: 1.5}\n", ["probability", "[0, 1]"], at="probability", category="bounds")
case("distribution_low_above_high", "events:\n  - {name: ev, type: dated, date: 2026Q2, probability: {dist: uniform, low: 0.8, high: 0.2}}\n", ["probability"], at="probability", category="bounds")
case("discount_rate_one", "outputs: {discount_rate: 1.0}\n", ["discount_rate", "< 1"], at="outputs:", category="bounds")

# ---------------- duplicates in lists of codes
case("minerals_duplicate", "name: hostile\nhorizon: {start: 2026Q1, periods: 2}\ndataset: '@TINY@'\nminerals: [gallium, gallium]\n", ["minerals", "'gallium' is listed more than once"], at="minerals:", category="duplicates", full=True)
case("watched_duplicate", "outputs: {watched_origins: [CHN, CHN]}\n", ["watched_origins", "'CHN' is listed more than once"], at="outputs:", category="duplicates")
case("importers_duplicate", "policies:\n  - {name: t, type: tariff, importers: [USA, USA], exporters: [CHN], rate: 0.1}\n", ["importers", "more than once"], at="importers", category="duplicates")
case("group_members_duplicate", "groups: {club: [USA, EU, USA]}\n", ["groups.club", "more than once"], at="groups:", category="duplicates")
case("policy_names_duplicate", "policies:\n  - {name: t, type: tariff, importers: [USA], exporters: [CHN], rate: 0.1}\n  - {name: t, type: tariff, importers: [EU], exporters: [CHN], rate: 0.1}\n",
     ["duplicate policy name 't'"], category="duplicates")
case("event_names_duplicate", "events:\n  - {name: e, type: dated, date: 2026Q2}\n  - {name: e, type: dated, date: 2026Q3}\n", ["duplicate event name 'e'"], category="duplicates")

# ---------------- what run refuses, validate refuses first
case("two_stockpiles", "policies:\n  - {name: s1, type: stockpile, region: USA, minerals: [gallium], initial_months: 1, release_rate: 0.1, trigger: 1.5}\n"
     "  - {name: s2, type: stockpile, region: USA, minerals: all, initial_months: 1, release_rate: 0.1, trigger: 1.5}\n",
     ["policies[1].region", "a second stockpile for USA and gallium"], at="name: s2", category="engine")
case("two_floors", "policies:\n  - {name: f1, type: price_floor, region: CHN, minerals: [gallium], level: 600, unit: USD/kg, covered_share: 0.5}\n"
     "  - {name: f2, type: price_floor, region: CHN, minerals: [gallium], level: 700, unit: USD/kg, covered_share: 0.5}\n",
     ["policies[1].region", "a second producer price floor"], at="name: f2", category="engine")
case("floor_no_production", "policies:\n  - {name: f, type: price_floor, region: USA, minerals: [gallium], level: 600, unit: USD/kg, covered_share: 0.5}\n",
     ["policies[0].region", "USA has no baseline production of gallium"], at="name: f", category="engine")
case("offtake_no_production", "policies:\n  - {name: o, type: offtake, region: USA, mineral: gallium, quantity_t: 10}\n",
     ["policies[0].region", "no baseline production"], at="name: o", category="engine")
case("project_no_production", "policies:\n  - {name: p, type: capacity_project, region: USA, mineral: gallium, capacity_t: 10, date: 2026Q2}\n",
     ["policies[0].region", "no baseline production"], at="name: p", category="engine")

# ---------------- codes, keys and references
case("unknown_region", "policies:\n  - {name: t, type: tariff, importers: [USAA], exporters: [CHN], rate: 0.1}\n", ["unknown region 'USAA'", "did you mean USA"], at="name: t", category="codes")
case("unknown_mineral", "name: hostile\nhorizon: {start: 2026Q1, periods: 2}\ndataset: '@TINY@'\nminerals: [galium]\n", ["unknown mineral 'galium'", "did you mean gallium"], at="minerals:", category="codes", full=True)
case("unknown_key", "drawz: 5\n", ["unknown key 'drawz'", "did you mean draws"], at="drawz:", category="codes")
case("unknown_event", "policies:\n  - {name: t, type: tariff, importers: [USA], exporters: [CHN], rate: 0.1, when: nothing.fired}\n", ["unknown event 'nothing'"], at="name: t", category="codes")
case("watched_unknown", "outputs: {watched_origins: [ZZZ]}\n", ["unknown region 'ZZZ'"], at="outputs:", category="codes")
case("group_cycle", "groups: {a: [b], b: [a]}\n", ["contains itself"], at="groups:", category="codes")
case("dataset_missing", "name: hostile\nhorizon: {start: 2026Q1, periods: 2}\ndataset: /nonexistent/simsrc-data\n", ["dataset", "not found"], at="dataset:", category="codes", full=True)
case("counterfactual_missing", "counterfactual: nowhere.yaml\n", ["counterfactual scenario file not found"], at="counterfactual:", category="codes")
case("remove_without_extends", "remove: [x]\n", ["remove", "needs extends"], at="remove:", category="codes")
case("horizon_list", "name: hostile\nhorizon: [1, 2]\ndataset: '@TINY@'\n", ["horizon", "mapping"], at="horizon:", category="codes", full=True)
case("type_unknown", "policies:\n  - {name: t, type: tarif, importers: [USA], exporters: [CHN], rate: 0.1}\n", ["unknown type 'tarif'", "did you mean tariff"], at="name: t", category="codes")

# ---------------- accepted (the defaults work)
case("ok_minimal", "", [], expect=0, category="accepted")
case("ok_empty_watched", "outputs: {watched_origins: []}\n", [], expect=0, category="accepted")
case("ok_name_with_dots", "name: my.scenario-v2_final\n" + H, [], expect=0, category="accepted", full=True)
case("stockpile_release_rate_huge", "policies:\n  - {name: s, type: stockpile, region: USA, minerals: [gallium], initial_months: 1, release_rate: 1.0e+300, trigger: 1.5}\n",
     ["release_rate", "<= 100"], at="release_rate", category="bounds")

# ---------------- shapes and values (added after probing)
T = "  - {name: t, type: tariff, importers: [USA], exporters: [CHN], rate: 0.1, when: %s}\n"
case("shape_policies_mapping", "policies: {a: 1}\n", ["policies", "expected a list"], at="policies:", category="shapes")
case("shape_policies_numbers", "policies: [1, 2]\n", ["policies[0]", "expected a mapping"], at="policies:", category="shapes")
case("shape_policy_null", "policies: [null]\n", ["policies[0]", "expected a mapping"], at="policies:", category="shapes")
case("shape_events_text", "events: x\n", ["events", "expected a list"], at="events:", category="shapes")
case("shape_groups_list", "groups: [a]\n", ["groups", "expected a mapping"], at="groups:", category="shapes")
case("shape_outputs_null", "outputs: null\n", ["outputs", "expected a mapping"], at="outputs:", category="shapes")
case("shape_minerals_empty", "name: hostile\nhorizon: {start: 2026Q1, periods: 2}\ndataset: '@TINY@'\nminerals: []\n", ["minerals", "must not be empty"], at="minerals:", category="shapes", full=True)
case("shape_minerals_null_item", "name: hostile\nhorizon: {start: 2026Q1, periods: 2}\ndataset: '@TINY@'\nminerals: [null]\n", ["minerals[0]", "expected text"], at="minerals:", category="shapes", full=True)
case("shape_type_null", "policies:\n  - {name: t, type: null}\n", ["policies[0].type", "unknown type"], at="name: t", category="shapes")
case("when_empty_text", "policies:\n" + T % "''", ["policies[0].when", "invalid condition"], at="name: t", category="shapes")
case("when_any_empty", "policies:\n" + T % "{any: []}", ["policies[0].when.any", "must not be empty"], at="name: t", category="shapes")
case("lead_time_distribution_huge", "dynamics: {lead_time: {dist: uniform, low: 0, high: 1.0e+9}}\n", ["dynamics.lead_time", "[0, 50]"], at="dynamics:", category="bounds")
case("seed_fraction", "seed: 1.5\n", ["seed", "whole number"], at="seed:", category="bounds")
case("latent_weight_above_one", "trade: {latent_link_weight: 2}\n", ["trade.latent_link_weight", "<= 1"], at="trade:", category="bounds")
case("restrictions_until_1700", "trade: {baseline_restrictions_until: 1700Q1}\n", ["year 1700", "1800 to 2500"], at="trade:", category="bounds")
case("watched_all", "outputs: {watched_origins: all}\n", ["watched_origins", "unknown region 'all'"], at="outputs:", category="codes")
case("deadline_before_opened", "events:\n  - {name: n, type: negotiation, opened: 2026Q2, deadline: 2026Q1, success_probability: 0.5}\n", ["deadline 2026Q1 is before opened"], at="name: n", category="bounds")
case("lognormal_unbounded_support", "parameters:\n  - {name: x, parameter: supply_elasticity, value: {dist: lognormal, median: 1, sigma: 1000}}\n", ["parameters[0].value"], at="name: x", category="bounds")
case("fixed_nan", "parameters:\n  - {name: x, parameter: supply_elasticity, value: {dist: fixed, value: .nan}}\n", ["parameters[0].value.value", "expected a number"], at="name: x", category="bounds")
case("nonfinite_all_capacity_lost", "policies:\n" + "".join(f"  - {{name: o{r}, type: outage, region: {r}, share: 1, start: 2026Q1}}\n" for r in ("CHN", "JPN", "KOR")),
     ["every solve of gallium failed", "no converged draws"], commands="run", category="nonfinite", results="kept")
case("nonfinite_ban_every_origin", "policies:\n" + "".join(f"  - {{name: b{r}, type: export_restriction, origin: {r}, destinations: all, cap_share: 0}}\n" for r in ("CHN", "JPN", "KOR")),
     ["every solve of gallium failed"], commands="run", category="nonfinite", results="kept")

# ---------------- group chains (recursion)
case("groups_chain_deep", "groups:\n" + "".join(f"  g{i}: [g{i + 1}]\n" for i in range(40)) + "  g40: [USA]\n"
     "policies:\n  - {name: t, type: tariff, importers: [g0], exporters: [CHN], rate: 0.1}\n",
     ["nests groups", "at most 16"], category="codes")
case("groups_dag_wide", "groups:\n" + "".join(f"  g{i}: [g{i + 1}, h{i + 1}]\n  h{i}: [g{i + 1}, h{i + 1}]\n" for i in range(40))
     + "  g40: [USA]\n  h40: [USA]\n", ["nests groups", "at most 16"], category="codes")
case("groups_self", "groups: {d: [d]}\n", ["group 'd' contains itself: d -> d"], at="groups:", category="codes")
