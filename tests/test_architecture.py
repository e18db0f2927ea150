"""The import direction stays what DESIGN.md says.

Domains (ledger, catalog, orders, training, governance) never import the HTTP edges (api,
frontend); ledger imports no other domain; the domains' own order is
orders/training/governance → catalog → ledger. Among the edges, only the composition root
(api/app.py, and the CLI that starts it) imports frontend; frontend pages may use api's request
plumbing (sessions, signed-in user), as api's own routers do.
"""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOMAINS = ("ledger", "catalog", "orders", "training", "governance")
EDGES = ("api", "frontend")
COMPOSITION_ROOT = {Path("api/app.py"), Path("api/cli.py")}

# Which top-level packages each package may import.
ALLOWED: dict[str, set[str]] = {
    "ledger": set(),
    "catalog": {"ledger"},
    "orders": {"ledger", "catalog"},
    "training": {"ledger", "catalog"},
    "governance": {"ledger", "catalog", "orders", "training"},
    "frontend": {"api", *DOMAINS},
    "api": set(DOMAINS),
}
PROJECT_PACKAGES = set(DOMAINS) | set(EDGES)


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & PROJECT_PACKAGES


def violations(package: str) -> list[str]:
    problems = []
    for path in sorted((ROOT / package).rglob("*.py")):
        relative = path.relative_to(ROOT)
        allowed = ALLOWED[package] | {package}
        if relative in COMPOSITION_ROOT:
            allowed = allowed | {"frontend"}
        for imported in sorted(imported_packages(path) - allowed):
            problems.append(f"{relative} imports {imported}")
    return problems


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_follow_the_design(package):
    assert violations(package) == []


def test_the_checker_catches_a_forbidden_import(tmp_path, monkeypatch):
    fake_root = tmp_path
    (fake_root / "ledger").mkdir()
    (fake_root / "ledger" / "bad.py").write_text("from catalog.models import Product\nimport api\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", fake_root)
    assert violations("ledger") == ["ledger/bad.py imports api", "ledger/bad.py imports catalog"]
