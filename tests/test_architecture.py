"""The import rules of docs/architecture.md, checked on every module's syntax tree.

1. Every top-level package is declared with the project packages it may import (LAYERS): the
   kernel (core) imports no other package; domains import core and the domains below them;
   only the edges (api, frontend) import the edges, and only the composition root imports frontend.
2. A domain imports another domain only through that domain's facade modules (FACADES).
3. No `_private` name (or `_private` module) is imported across top-level packages.
4. No router (api/routers/*, frontend/*pages.py) imports another router: what two routers share
   belongs in a plain module (api/deps.py, frontend/rendering.py, a domain). The imports that
   predate this rule are listed in KNOWN_ROUTER_IMPORTS, each to be moved out; no new ones.
5. No web framework (fastapi, starlette, jinja2) inside a domain or the kernel.
"""

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KERNEL = "core"
DOMAINS = ("ledger", "notify", "catalog", "orders", "training", "governance")
EDGES = ("api", "frontend")
COMPOSITION_ROOT = {"api/app.py", "api/cli.py"}

# Which project packages each top-level package may import (besides itself).
LAYERS: dict[str, set[str]] = {
    "core": set(),
    "ledger": {"core"},
    # Notifications: domains record into its outbox; it knows people only by opaque keys.
    "notify": {"core", "ledger"},
    "catalog": {"core", "ledger", "notify"},
    "orders": {"core", "ledger", "catalog", "notify"},
    "training": {"core", "ledger", "catalog", "notify"},
    "governance": {"core", "ledger", "catalog", "orders", "training", "notify"},
    "api": {"core", *DOMAINS},
    "frontend": {"core", "api", *DOMAINS},
}
PACKAGES = set(LAYERS)

# The modules of a domain that other domains may import (its public face). Everything else in
# the domain (ledger.posting, ledger.bank, catalog.products, orders.checkout, ...) is internal.
FACADES: dict[str, set[str]] = {
    "ledger": {
        "ledger",
        "ledger.service",  # posting, balances, accounts: the entry point for money movements
        "ledger.errors",
        "ledger.models",
        "ledger.payout_models",
        "ledger.base",  # UTCDateTime column type, utcnow
        "ledger.share_rules",  # account keys of the share parts
        "ledger.allocation",
        "ledger.specs",
        "ledger.payouts",
        "ledger.reports",
    },
    "catalog": {
        "catalog",
        "catalog.models",
        "catalog.schemas",  # LocalizedName/LocalizedText, Currency, MoneyRead
        "catalog.errors",
        "catalog.permissions",  # manages_coop
        "catalog.bank_accounts",  # where a cooperative receiving transfers directly is paid
        "catalog.stock",
        "catalog.demo",
    },
    "orders": {
        "orders",
        "orders.models",
        "orders.refund_request_models",
        "orders.config",
        "orders.share_rules",
        "orders.payment_methods",  # the payment methods' registry
    },
    "training": {"training", "training.models", "training.income"},
    # Recording a notification (outbox, kinds) and finding an earlier one (models).
    "notify": {"notify", "notify.outbox", "notify.kinds", "notify.models"},
    "governance": {"governance"},
}
WEB_FRAMEWORKS = {"fastapi", "starlette", "jinja2"}

# Router-to-router imports that predate the rule (to move into plain modules; never add one).
KNOWN_ROUTER_IMPORTS = {
    ("api/routers/governance.py", "api.routers.orders"),  # PolicyDep
    ("api/routers/refund_requests.py", "api.routers.orders"),  # GatewayDep, Token
    ("frontend/refund_request_pages.py", "api.routers.orders"),  # gateway_or_none
    ("frontend/refund_request_pages.py", "frontend.order_pages"),  # viewable_order
    ("frontend/pages.py", "frontend.catalog_pages"),  # featured_products
    ("frontend/catalog_manage_pages.py", "frontend.catalog_pages"),  # _page, product_context
    # split out of catalog_manage_pages.py (the same helpers), to move with them into a plain module
    ("frontend/product_photo_pages.py", "frontend.catalog_pages"),
    ("frontend/catalog_pages.py", "frontend.catalog_manage_pages"),  # installs its routes
}


@dataclass(frozen=True)
class Import:
    path: str  # relative to the root, e.g. "orders/checkout.py"
    module: str  # the module imported, e.g. "ledger.posting"
    name: str | None  # the name taken from it (None for `import module`)

    @property
    def package(self) -> str:
        return self.module.split(".")[0]


def is_router(relative: str) -> bool:
    return relative.startswith("api/routers/") or (
        relative.startswith("frontend/") and relative.endswith("pages.py")
    )


def module_of(relative: str) -> str:
    return relative.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def imports_of(root: Path, path: Path) -> list[Import]:
    """Every absolute import in a file (also inside functions); `from pkg import submodule`
    counts as importing the submodule."""
    relative = path.relative_to(root).as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=relative)
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(relative, alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = root / Path(*node.module.split("."), alias.name)
                if submodule.with_suffix(".py").is_file() or (submodule / "__init__.py").is_file():
                    found.append(Import(relative, f"{node.module}.{alias.name}", None))
                else:
                    found.append(Import(relative, node.module, alias.name))
    return found


def problems_in(root: Path, package: str) -> list[str]:
    problems: list[str] = []
    for path in sorted((root / package).rglob("*.py")):
        for imp in imports_of(root, path):
            problems += check(imp, package)
    return problems


def check(imp: Import, package: str) -> list[str]:
    where = f"{imp.path}: {imp.module}" + (f".{imp.name}" if imp.name else "")
    other = imp.package
    found: list[str] = []
    if other in WEB_FRAMEWORKS and package in (KERNEL, *DOMAINS):
        found.append(f"{where}: web framework inside {package}")
    if other not in PACKAGES or other == package:
        return found
    allowed = LAYERS[package] | ({"frontend"} if imp.path in COMPOSITION_ROOT else set())
    if other not in allowed:
        found.append(f"{where}: {package} may not import {other}")
    if package in DOMAINS and other in DOMAINS and imp.module not in FACADES[other]:
        found.append(f"{where}: not a facade of {other}")
    private = [
        part for part in imp.module.split(".") if part.startswith("_") and part != "__init__"
    ]
    if private or (imp.name or "").startswith("_"):
        found.append(f"{where}: private name across packages")
    return found


def router_problems(root: Path) -> list[str]:
    problems: list[str] = []
    for package in EDGES:
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            if not is_router(relative):
                continue
            for imp in imports_of(root, path):
                target = imp.module.replace(".", "/") + ".py"
                if is_router(target) and (relative, imp.module) not in KNOWN_ROUTER_IMPORTS:
                    problems.append(f"{relative}: {imp.module}: a router imports a router")
    return problems


def test_every_top_level_package_is_declared():
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    assert packages == PACKAGES
    assert set(FACADES) == set(DOMAINS)


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_package_imports_follow_the_rules(package):
    assert problems_in(ROOT, package) == []


def test_no_router_imports_another_router():
    assert router_problems(ROOT) == []


def test_known_router_imports_still_exist():
    """A debt paid off is removed from the list, so the list never hides a new import."""
    present = {
        (imp.path, imp.module)
        for package in EDGES
        for path in (ROOT / package).rglob("*.py")
        for imp in imports_of(ROOT, path)
    }
    assert KNOWN_ROUTER_IMPORTS <= present


def test_facade_modules_exist():
    for modules in FACADES.values():
        for module in modules:
            path = ROOT / Path(*module.split("."))
            assert path.with_suffix(".py").is_file() or (path / "__init__.py").is_file(), module


# --- Probes: the leaks the rules exist for are refused -------------------------------------------


def _probe(tmp_path: Path, relative: str, source: str) -> list[str]:
    for package in PACKAGES:
        (tmp_path / package).mkdir(exist_ok=True)
        (tmp_path / package / "__init__.py").touch()
    (tmp_path / "api" / "routers").mkdir(exist_ok=True)
    for module in ("ledger/posting.py", "api/routers/orders.py", "frontend/order_pages.py"):
        (tmp_path / module).touch()
    file = tmp_path / relative
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(source)
    package = relative.split("/")[0]
    return problems_in(tmp_path, package) + router_problems(tmp_path)


@pytest.mark.parametrize(
    ("relative", "source", "expected"),
    [
        (
            "orders/probe.py",
            "from ledger.posting import _post\n",
            [
                "orders/probe.py: ledger.posting._post: not a facade of ledger",
                "orders/probe.py: ledger.posting._post: private name across packages",
            ],
        ),
        (
            "orders/probe.py",
            "from ledger import posting\n",
            ["orders/probe.py: ledger.posting: not a facade of ledger"],
        ),
        (
            "governance/probe.py",
            "def f():\n    import fastapi\n",
            ["governance/probe.py: fastapi: web framework inside governance"],
        ),
        (
            "catalog/probe.py",
            "from starlette.requests import Request\n",
            ["catalog/probe.py: starlette.requests.Request: web framework inside catalog"],
        ),
        (
            "core/probe.py",
            "from jinja2 import Environment\nfrom ledger.service import post\n",
            [
                "core/probe.py: jinja2.Environment: web framework inside core",
                "core/probe.py: ledger.service.post: core may not import ledger",
            ],
        ),
        (
            "api/routers/probe.py",
            "from api.routers.orders import PolicyDep\n",
            ["api/routers/probe.py: api.routers.orders: a router imports a router"],
        ),
        (
            "frontend/probe_pages.py",
            "from frontend.order_pages import viewable_order\n",
            ["frontend/probe_pages.py: frontend.order_pages: a router imports a router"],
        ),
        (
            "frontend/probe.py",
            "from ledger.service import _helper\n",
            ["frontend/probe.py: ledger.service._helper: private name across packages"],
        ),
        (
            "ledger/probe.py",
            "from orders.models import Order\n",
            ["ledger/probe.py: orders.models.Order: ledger may not import orders"],
        ),
        (
            "orders/probe.py",
            "from api.models import User\n",
            ["orders/probe.py: api.models.User: orders may not import api"],
        ),
        ("orders/probe.py", "from ledger.service import post\n", []),
        ("frontend/probe.py", "from frontend.rendering import render\n", []),
    ],
)
def test_probes_are_refused(tmp_path, relative, source, expected):
    assert _probe(tmp_path, relative, source) == expected


def test_the_checker_reads_this_repository():
    found = imports_of(ROOT, ROOT / "ledger" / "errors.py")
    assert Import("ledger/errors.py", "core.errors", "Invalid") in found
    checkout = imports_of(ROOT, ROOT / "orders" / "checkout.py")
    assert Import("orders/checkout.py", "ledger.base", "utcnow") in checkout
