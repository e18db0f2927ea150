"""render() for other pages: what templates get, and the guard against a second session."""

import pytest
from fastapi import APIRouter, Request
from fastapi.testclient import TestClient

from api.app import create_app
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
