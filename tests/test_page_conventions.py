"""The edges' conventions (docs/architecture.md, "How to add a page"), checked on the source.

1. No page or router handler rolls back by hand: a refused form calls ``frontend.forms.refuse``
   and the request's session (api/database.get_session) rolls back, so a handler cannot forget it.
2. The sign-in redirect is built in one place (frontend/redirects.py); pages get it from the
   guards (frontend/guards.py), templates from ``sign_in_url``.
3. No page answers an anonymous visitor with its own 401 (``Unauthorized``): the guards send
   them to sign in.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SIGN_IN_BUILDER = "frontend/redirects.py"
# Modules still written the old way, each with a one-line reason; no new entries. (The order
# pages, issue 13, are converted: empty.)
NOT_YET_CONVERTED: set[str] = set()


def _edge_sources(root: Path) -> list[Path]:
    files = sorted((root / "frontend").glob("*.py")) + sorted((root / "api").rglob("*.py"))
    return [path for path in files if path.relative_to(root).as_posix() not in NOT_YET_CONVERTED]


def _relative(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def _handler_sources(root: Path) -> list[Path]:
    """Page modules and API routers (where request handlers live)."""
    files = sorted((root / "frontend").glob("*.py")) + sorted(
        (root / "api" / "routers").glob("*.py")
    )
    return [path for path in files if _relative(root, path) not in NOT_YET_CONVERTED]


def rollback_calls(root: Path) -> list[str]:
    """api/database.get_session, where the request's transaction ends, is the one rollback."""
    found = []
    for path in _handler_sources(root):
        relative = _relative(root, path)
        for node in ast.walk(ast.parse(path.read_text(), relative)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "rollback"
            ):
                found.append(f"{relative}:{node.lineno}: rolls back by hand (use refuse())")
    return found


def sign_in_builders(root: Path) -> list[str]:
    found = []
    for path in _edge_sources(root):
        relative = _relative(root, path)
        if relative == SIGN_IN_BUILDER:
            continue
        for node in ast.walk(ast.parse(path.read_text(), relative)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if "/login?next" in node.value:
                    found.append(f"{relative}:{node.lineno}: builds its own sign-in redirect")
    for template in sorted((root / "frontend" / "templates").rglob("*.html")):
        relative = _relative(root, template)
        if relative not in NOT_YET_CONVERTED and "/login?next" in template.read_text():
            found.append(f"{relative}: builds its own sign-in link (use sign_in_url)")
    return found


def own_401_pages(root: Path) -> list[str]:
    found = []
    for path in sorted((root / "frontend").glob("*.py")):
        relative = _relative(root, path)
        if relative in NOT_YET_CONVERTED:
            continue
        for node in ast.walk(ast.parse(path.read_text(), relative)):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                name = node.exc.func
                if isinstance(name, ast.Name) and name.id == "Unauthorized":
                    found.append(f"{relative}:{node.lineno}: a 401 page (use a guard)")
    return found


def test_no_handler_rolls_back_by_hand():
    assert rollback_calls(ROOT) == []


def test_the_sign_in_redirect_is_built_once():
    assert sign_in_builders(ROOT) == []


def test_no_page_answers_a_visitor_with_its_own_401():
    assert own_401_pages(ROOT) == []


def test_the_exceptions_are_still_there():
    """Remove an entry from NOT_YET_CONVERTED once its module is converted (or gone)."""
    for relative in NOT_YET_CONVERTED:
        path = ROOT / relative
        if path.exists():
            text = path.read_text()
            assert "rollback()" in text or "/login?next" in text or "sign_in_redirect" in text


# --- Probes: a page that breaks the conventions is caught -----------------------------------------


def _tree(tmp_path: Path, relative: str, source: str) -> Path:
    for folder in ("frontend/templates", "api"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / relative).write_text(source)
    return tmp_path


@pytest.mark.parametrize(
    ("relative", "source", "check", "expected"),
    [
        (
            "frontend/probe_pages.py",
            "def submit(session):\n    session.rollback()\n",
            rollback_calls,
            ["frontend/probe_pages.py:2: rolls back by hand (use refuse())"],
        ),
        (
            "api/routers/probe.py",
            "def create(session):\n    try:\n        pass\n    except Exception:\n"
            "        session.rollback()\n",
            rollback_calls,
            ["api/routers/probe.py:5: rolls back by hand (use refuse())"],
        ),
        (
            "frontend/probe_pages.py",
            "def page(request):\n"
            "    return RedirectResponse(f'/login?next={request.url.path}', 303)\n",
            sign_in_builders,
            ["frontend/probe_pages.py:2: builds its own sign-in redirect"],
        ),
        (
            "frontend/templates/probe.html",
            '<a href="/login?next={{ current_path }}">in</a>\n',
            sign_in_builders,
            ["frontend/templates/probe.html: builds its own sign-in link (use sign_in_url)"],
        ),
        (
            "frontend/probe_pages.py",
            "def page(user):\n    if user is None:\n        raise Unauthorized('Sign in')\n",
            own_401_pages,
            ["frontend/probe_pages.py:3: a 401 page (use a guard)"],
        ),
        (
            "api/database.py",
            "def get_session(session):\n    session.rollback()\n",
            rollback_calls,
            [],
        ),
    ],
)
def test_probes_are_caught(tmp_path, relative, source, check, expected):
    assert check(_tree(tmp_path, relative, source)) == expected
