"""The page guards, the one sign-in redirect, refuse() and translated domain errors, on probe
routes added to the app: who is refused how, and that a refused form stores nothing."""

from collections.abc import Callable

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.deps import SessionDep
from api.models import Role, User
from catalog.errors import DuplicateCode
from frontend.forms import refuse
from frontend.guards import FarmerPageDep, SignedInDep, StaffPageDep
from frontend.problems import problem_message
from frontend.rendering import page_router
from tests.conftest import TEST_PASSWORD
from tests.frontend.helpers import HTML, sign_in


def _probe_routes(app: FastAPI) -> None:
    router = page_router()

    @router.get("/probe/staff")
    def staff_only(_staff: StaffPageDep) -> Response:
        return PlainTextResponse("staff page")

    @router.get("/probe/farmer")
    def farmer_only(farmer: FarmerPageDep) -> Response:
        return PlainTextResponse(f"household {farmer.household_id}")

    @router.post("/probe/language")
    def change_then_refuse(request: Request, user: SignedInDep, session: SessionDep) -> Response:
        user.language = "en"  # changed, flushed, then refused: must not be stored
        session.add(user)
        session.flush()
        try:
            raise DuplicateCode("household", "H-7", "member_code")
        except DuplicateCode as error:
            message = problem_message(request, error)
            refuse(lambda: PlainTextResponse(f"again: {message}", status_code=409))
        return PlainTextResponse("unreachable")

    @router.get("/probe/error")
    def domain_error() -> Response:
        raise DuplicateCode("household", "H-7", "member_code")

    @router.get("/probe/number")
    def number(n: int) -> Response:
        return PlainTextResponse(str(n))

    app.include_router(router)


@pytest.fixture
def probed(app: FastAPI, client: TestClient) -> TestClient:
    _probe_routes(app)
    return client


@pytest.fixture
def signed_in(probed: TestClient, make_user: Callable[..., User]) -> Callable[..., User]:
    def as_role(role: Role, **fields: object) -> User:
        user = make_user(role, **fields)
        assert sign_in(probed, user.email, TEST_PASSWORD).status_code == 303
        return user

    return as_role


def test_a_visitor_is_sent_to_sign_in_and_comes_back(probed: TestClient) -> None:
    page = probed.get("/probe/staff?x=1", headers=HTML, follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/probe/staff%3Fx%3D1"


def test_a_form_post_comes_back_to_the_page_it_was_on(probed: TestClient) -> None:
    refer = {**HTML, "Referer": "http://testserver/me?tab=2"}
    sent = probed.post("/probe/language", headers=refer, follow_redirects=False)
    assert sent.status_code == 303
    assert sent.headers["location"] == "/login?next=/me%3Ftab%3D2"
    elsewhere = {**HTML, "Referer": "https://evil.example/me"}
    sent = probed.post("/probe/language", headers=elsewhere, follow_redirects=False)
    assert sent.headers["location"] == "/login?next=/probe"


@pytest.mark.parametrize("role", [Role.buyer, Role.farmer, Role.manager, Role.social_worker])
def test_another_role_gets_the_403_page_in_its_language(probed, signed_in, role) -> None:
    signed_in(role)
    page = probed.get("/probe/staff", headers=HTML, follow_redirects=False)
    assert page.status_code == 403
    assert "您的账户无权打开此页面" in page.text
    english = probed.get("/probe/staff", headers={**HTML, "Accept-Language": "en"})
    assert english.status_code == 403
    assert "This page is for staff and administrators." in english.text


@pytest.mark.parametrize("role", [Role.staff, Role.admin, Role.auditor])
def test_staff_and_the_reading_auditor_pass(probed, signed_in, role) -> None:
    signed_in(role)
    assert probed.get("/probe/staff", headers=HTML).text == "staff page"


def test_the_farmer_guard_wants_a_household(probed, signed_in) -> None:
    signed_in(Role.farmer)  # no household linked
    assert probed.get("/probe/farmer", headers=HTML).status_code == 403


def test_a_refused_form_stores_nothing(probed, signed_in, session: Session) -> None:
    user = signed_in(Role.buyer)
    before = user.language
    assert before != "en"
    answer = probed.post("/probe/language", headers=HTML, follow_redirects=False)
    assert answer.status_code == 409
    assert answer.text == "again: 编号 H-7 已被使用。"  # the msgid in the reader's language
    session.expire_all()
    assert session.get(User, user.id).language == before


def test_an_error_page_tells_the_domain_error_in_the_readers_language(probed) -> None:
    chinese = probed.get("/probe/error", headers=HTML)
    assert chinese.status_code == 409
    assert "编号 H-7 已被使用" in chinese.text
    assert "already exists" not in chinese.text
    english = probed.get("/probe/error", headers={**HTML, "Accept-Language": "en"})
    assert "A household with the code &#39;H-7&#39; already exists." in english.text
    api = probed.get("/probe/error")  # no text/html: the API's problem+json, unchanged
    assert api.json()["detail"] == "A household with the code 'H-7' already exists."


def test_validation_errors_reach_the_page_in_the_readers_language(probed) -> None:
    chinese = probed.get("/probe/number?n=abc", headers=HTML)
    assert chinese.status_code == 422
    assert "query.n: 请填写整数。" in chinese.text
    assert "valid integer" not in chinese.text
    english = probed.get("/probe/number?n=abc", headers={**HTML, "Accept-Language": "en"})
    assert "valid integer" in english.text  # English readers keep the detail
