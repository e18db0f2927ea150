"""render() for other pages: what templates get, and the guard against a second session."""

import pytest
from fastapi import APIRouter, Request
from fastapi.testclient import TestClient

from api.app import create_app
from api.deps import StaffDep
from api.models import Role
from frontend.rendering import page_router, render
from tests.conftest import TEST_PASSWORD
from tests.frontend.helpers import sign_in


@pytest.fixture
def app_with_test_pages(settings):
    app = create_app(settings)
    pages = page_router()

    @pages.get("/_test/money")
    def money(request: Request):
        return render(
            request,
            "error.html",
            {
                "status": 200,
                "heading": "Error",
                "explanation": "Error",
                "detail": render_money(request),
            },
        )

    def render_money(request: Request) -> str:
        from frontend.i18n import translator
        from frontend.rendering import money_formatter

        return money_formatter(translator(request))(99900, "CNY")

    @pages.get("/_test/boom")
    def boom(request: Request):
        raise RuntimeError("secret internals")

    @pages.get("/_test/staff-only")
    def staff_only(request: Request, user: StaffDep):
        return render(request, "home.html")

    bare = APIRouter()

    @bare.get("/_test/bare")
    def bare_page(request: Request):
        return render(request, "home.html")

    app.include_router(pages)
    app.include_router(bare)
    yield app
    app.state.engine.dispose()


def test_a_page_router_route_gets_the_signed_in_user(app_with_test_pages, make_user):
    user = make_user()
    with TestClient(app_with_test_pages) as client:
        sign_in(client, user.email, TEST_PASSWORD)
        page = client.get("/_test/money")
    assert page.status_code == 200
    assert user.email in page.text
    assert "¥999.00" in page.text


def test_render_outside_a_page_router_fails_loudly(app_with_test_pages):
    with (
        TestClient(app_with_test_pages, raise_server_exceptions=True) as client,
        pytest.raises(RuntimeError, match="page_router"),
    ):
        client.get("/_test/bare")


def test_an_unexpected_error_is_a_500_page_without_internals(app_with_test_pages):
    with TestClient(app_with_test_pages, raise_server_exceptions=False) as client:
        page = client.get("/_test/boom", headers={"Accept": "text/html"})
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert "出错了" in page.text
    assert "secret internals" not in page.text
    assert page.headers["x-request-id"] in page.text


def test_a_refused_role_on_a_page_is_a_403_page_that_still_knows_the_user(
    app_with_test_pages, make_user
):
    buyer = make_user(Role.buyer)
    with TestClient(app_with_test_pages) as client:
        signed_out = client.get("/_test/staff-only", headers={"Accept": "text/html"})
        assert signed_out.status_code == 401
        assert 'href="/login?next=/_test/staff-only"' in signed_out.text
        sign_in(client, buyer.email, TEST_PASSWORD)
        refused = client.get("/_test/staff-only", headers={"Accept": "text/html"})
    assert refused.status_code == 403
    assert "无权访问" in refused.text
    assert buyer.email in refused.text  # the header still shows who is signed in
