"""The apps stand in layers and no import runs upward (issue 9, item 7): a lower app names no
higher one, so the next app can be added on top without the bottom knowing it. An app that
needs a lower one to show or do something of its own registers it there (core.desk,
audit.subjects) in its AppConfig.ready.

The order is what the code needs, lowest first: core (the kit); audit (history and the
access log: regions and accounts write their history through audit.services, and audit's
models point at regions and users only by name); regions; accounts; jobs; elders (the
domain); devdata (demo and benchmark data, written through the domain's services).

Tests and migrations are left out: a core test may build elders to exercise a core mechanism.
"""

import ast
from pathlib import Path

import pytest
from django.conf import settings

LAYERS = [
    "core",
    "audit",
    "regions",
    "accounts",
    "jobs",
    "elders",
    "catalogue",
    "assessments",
    "needs",
    "providers",
    "merchants",
    "orders",
    "settlements",
    "timebank",
    "pairing",
    "alerts",
    "visits",
    "routing",
    "devdata",
]
ROOT = Path(settings.BASE_DIR)

# Outside an app's services, selectors, tests and migrations, another app's models are read
# or written only here; each line says why. A new entry is a decision: prefer the other app's
# services and selectors.
MODELS_ELSEWHERE = {
    # Visits (docs/visits.md): the set-based writers compile rules over the register in SQL.
    ("visits/duties.py", "elders"): "INSERT … SELECT over the register: every active elder's tier, set-based",
    ("visits/rules.py", "elders"): "the choices the rule conditions compare (ability level, disability grade)",
    ("visits/rules.py", "assessments"): "the latest assessment's facts (dementia, coma) as a subquery of the rules",
    ("visits/rules.py", "regions"): "the regions that have rules of their own",
    ("visits/views.py", "regions"): "Level for the rate's level picker",
    # The time bank (issue 13, docs/timebank.md).
    ("timebank/members.py", "orders"): "the average rating of each volunteer's orders, grouped, for the star levels",
    ("timebank/selectors.py", "orders"): "Status for the open orders a volunteer may take (read through order_scope)",
    ("timebank/views.py", "accounts"): "the proxy's login named by its username on the proxy form",
    ("timebank/figures.py", "regions"): "the subtree's region ids the figures' live part filters on (a subquery, no row read)",
    ("devdata/demo_timebank.py", "elders"): "the demo elders who become members, in bulk",
    ("devdata/demo_timebank.py", "providers"): "the demo volunteers who become members; volunteer2's login linked",
    ("devdata/demo_timebank.py", "orders"): "the delivered time-coin orders whose coins the demo credits",
    ("devdata/demo_timebank.py", "timebank"): "733 members and their accounts in bulk (the postings go through the ledger)",
    (
        "devdata/demo_providers.py",
        "catalogue",
    ): "the skills and certificate kinds the demo's staff hold (no catalogue service yet)",
    # Management commands: the demo's and the city's users and regions are made directly
    # (regions through regions.services.region_create).
    ("devdata/management/commands/seed_demo.py", "accounts"): "the demo users",
    ("devdata/management/commands/seed_demo.py", "regions"): "finds the demo regions",
    ("devdata/management/commands/seed_demo.py", "orders"): "the delivered demo visits still without their shares",
    ("devdata/management/commands/generate_city.py", "regions"): "the city's regions, in bulk",
    ("devdata/management/commands/generate_city.py", "audit"): "one history record for the generation",
    ("devdata/management/commands/generate_city.py", "elders"): "2,000,000 elders by COPY (docs/generate_city.md)",
    ("devdata/synthetic.py", "elders"): "the holder instance the services' setters fill, row after row",
    ("devdata/management/commands/seed_demo.py", "elders"): "finds the demo's elders (made by elder_bulk_create)",
    ("elders/management/commands/import_elders.py", "accounts"): "the user the CLI acts as",
    ("elders/management/commands/import_elders.py", "regions"): "the region of a --as user",
    ("accounts/management/commands/create_admin.py", "regions"): "the root region of a new install",
    ("devdata/demo_merchants.py", "elders"): "the demo elders' home coordinates, in bulk",
    ("devdata/demo_merchants.py", "merchants"): "finds the demo's merchants (made by merchant_create)",
    ("devdata/synthetic_merchants.py", "merchants"): "20,000 merchants in bulk (docs/generate_city.md)",
    # Region.Level and Region rows for the region pickers and the importer's lookups: regions
    # have no selector for them yet.
    ("elders/views.py", "regions"): "Level for the region pickers",
    ("elders/importer/check.py", "regions"): "the regions an import may name, read once a run",
    ("devdata/demo_assessments.py", "elders"): "finds the demo's elders to assess",
    ("devdata/demo_assessments.py", "assessments"): "skips elders already assessed",
    ("devdata/demo_orders.py", "orders"): "the demo's plans, agreements, family links and preferences, once",
    ("devdata/order_drafts.py", "orders"): "a year of demo orders in bulk, with their history (docs/generate_city.md)",
    ("devdata/order_drafts.py", "audit"): "the demo orders' history, each move at its own time",
    ("devdata/city_orders.py", "orders"): "1,000,000 orders by COPY (docs/generate_city.md)",
    ("devdata/demo_safety.py", "elders"): "finds the demo's at-risk and device-holding elders (issue 12)",
    ("devdata/demo_safety.py", "pairing"): "skips communities already paired; the watchers the visits and alerts name",
    ("devdata/demo_safety.py", "providers"): "the community's approved volunteers to pair",
    ("devdata/demo_safety.py", "alerts"): "a year of devices, alerts and their timelines in bulk (docs/pairing.md)",
    ("devdata/demo_safety.py", "visits"): "a year of visits in bulk, the fall as a major event (docs/pairing.md)",
    ("devdata/city_orders.py", "elders"): "the city's elders the orders are for, read as arrays",
    ("devdata/city_orders.py", "providers"): "the city's caregivers the orders go to, by district",
    ("devdata/city_orders.py", "catalogue"): "the items the orders are of (no user to read the catalogue as)",
    ("devdata/city_orders.py", "regions"): "the city's region paths, to find each grid's district",
    ("assessments/models.py", "elders"): "AbilityLevel, the level codes the GB/T instrument must use",
    ("assessments/views.py", "regions"): "the region filter of the lists, read through get_scoped_or_404",
    ("assessments/api.py", "regions"): "the region filter of the lists, read through get_scoped_or_404",
    # Dispatch (docs/orders-dispatch.md): who may serve an order is not restrict() but the
    # organisations serving the order's elder, and the ranking's hard criteria are one SQL query
    # over caregivers, their skills, certificates and leave (not one query per caregiver).
    ("orders/dispatch.py", "providers"): "the ranking's one query over caregivers, skills, certificates, leave",
    ("orders/dispatch.py", "catalogue"): "the time-bank scheme, payment-mode labels, the kinds a requirement accepts",
    ("orders/dispatch_targets.py", "providers"): "the organisations, staff and volunteers serving an order's elder",
    ("orders/dispatch_targets.py", "regions"): "the community node above the elder's grid",
    # Day routes (docs/routing.md): the model building reads a day's work in a few set-based
    # queries (orders, caregivers with skills, certificates and leave, dues, grid workers), and the
    # independent check of a plan reads the same facts back without the building code.
    ("routing/build.py", "accounts"): "the grid workers of a region (role grid) and their profiles",
    ("routing/build.py", "orders"): "the organisation's orders of the day, the elders' preferences and last caregivers",
    ("routing/build.py", "providers"): "caregivers, skills, certificates and leave of the day in one read each",
    ("routing/build.py", "visits"): "a region's open dues of the day",
    ("routing/check.py", "providers"): "certificates and leave, read back to check a saved plan independently",
    ("devdata/demo_routing.py", "providers"): "the demo station and its caregivers who get routing profiles",
    ("devdata/demo_routing.py", "merchants"): "the demo canteen the station's meal round loads at",
    ("devdata/demo_routing.py", "routing"): "the station's base and profiles, once",
    ("orders/board.py", "audit"): "the reason an order was rejected back, from its last status record",
    ("orders/api_dispatch.py", "providers"): "Caregiver for the absences' permission guard (providers.change_caregiver)",
    ("orders/views_dispatch.py", "providers"): "Caregiver for the absences' permission guard, Absence.Reason choices",
}


def _python_files(app: str):
    for path in sorted((ROOT / app).rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if "tests" in parts or "migrations" in parts:
            continue
        yield path


def _imports(path: Path):
    """(line, module) for every import in the file, those inside functions too."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def test_every_app_of_the_project_has_a_layer():
    apps = {name for name in settings.INSTALLED_APPS if "." not in name and (ROOT / name).is_dir()}
    assert apps == set(LAYERS)


@pytest.mark.parametrize("app", LAYERS)
def test_no_app_imports_one_above_it(app):
    above = set(LAYERS[LAYERS.index(app) + 1 :])
    upward = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in _python_files(app)
        for line, module in _imports(path)
        if module.split(".")[0] in above
    ]
    assert upward == []


@pytest.mark.parametrize("app", LAYERS)
def test_apps_use_each_others_models_only_from_services_and_selectors(app):
    found = set()
    for path in _python_files(app):
        name = path.relative_to(ROOT).as_posix()
        if path.stem in ("services", "selectors", "apps"):
            continue
        for _line, module in _imports(path):
            parts = module.split(".")
            if len(parts) >= 2 and parts[1] == "models" and parts[0] in LAYERS and parts[0] != app:
                found.add((name, parts[0]))
    unlisted = sorted(found - set(MODELS_ELSEWHERE))
    assert unlisted == [], "use the other app's services or selectors, or add a line to MODELS_ELSEWHERE saying why"


def test_the_list_of_exceptions_holds_no_line_that_is_no_longer_needed():
    found = set()
    for app in LAYERS:
        for path in _python_files(app):
            for _line, module in _imports(path):
                parts = module.split(".")
                if len(parts) >= 2 and parts[1] == "models" and parts[0] != app:
                    found.add((path.relative_to(ROOT).as_posix(), parts[0]))
    assert sorted(set(MODELS_ELSEWHERE) - found) == []


def test_every_app_with_tests_is_collected_by_make_test():
    """pyproject's testpaths once listed only some apps: catalogue, needs, providers and merchants
    were never run by `make test` or CI. Every folder holding tests must be in it."""
    import tomllib

    testpaths = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["testpaths"])
    with_tests = {p.parent.parent.name for p in ROOT.glob("*/tests/test_*.py")} | {
        p.parent.name for p in ROOT.glob("e2e/test_*.py")
    }
    assert with_tests - testpaths == set()
