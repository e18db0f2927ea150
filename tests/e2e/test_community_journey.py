"""Issue 20's "Done when" journey in a phone-sized browser (360 px): a social worker opens a plan
with a household after an alert and links a training; the farmer signs in with a phone number,
sees the plan and agrees; staff complete the training and the next settlement moves the plan's
income figure; the household rates the training; the month's disclosure (a small minimum group
for the test) shows the aggregated feedback; an auditor reads the ledger and is refused every
write, with nothing stored."""

import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect
from sqlalchemy import func
from sqlmodel import Session, col, select

from api import service as users
from api.database import create_db_engine, create_session_factory
from api.demo import DEMO_USERS
from api.models import Role, User
from api.phone_login import set_phone
from api.settings import Settings
from catalog.models import Household
from core.actor import Actor
from governance import disclosures, plans
from governance.community_models import BeneficiaryFeedback
from governance.models import Alert
from ledger import service as ledger
from ledger.models import AccountType, JournalEntry, Side
from ledger.share_rules import BUYER_DEPOSITS, member_payable_key, training_fund_key
from orders.postings import ensure_account
from training import service as training
from training.models import Enrolment
from training.schemas import EnrolmentCreate, ProgrammeCreate, ProviderCreate

PHONE: ViewportSize = {"width": 360, "height": 740}
FARMER = next(user for user in DEMO_USERS if user.role == "farmer")
STAFF_USER = next(user for user in DEMO_USERS if user.role == "staff")
MOBILE = "13912340001"
PASSWORD = "journey-password-2026"
GOAL = "养蜂增收，孩子读完高中"


@pytest.fixture
def e2e_settings(database_url: str, tmp_path: Path) -> Settings:
    """As tests/e2e/conftest.py, with a minimum disclosure group of two households."""
    return Settings(
        env="test",
        database_url=database_url,
        secret_key="e2e-secret-key-that-is-long-enough-0123456789",
        media_dir=tmp_path / "media",
        disclosure_min_group=2,
    )


def _user(session: Session, email: str) -> User:
    user = session.scalars(select(User).where(col(User.email) == email)).one()
    return user


def _fund(session: Session, coop_id: int) -> None:
    fund = training_fund_key(coop_id)
    for key, kind in ((BUYER_DEPOSITS, AccountType.liability), (fund, AccountType.equity)):
        ledger.open_account(session, key=key, type=kind, currency="CNY", name=key)
    ledger.post(
        session,
        ledger.EntrySpec(
            kind="sale",
            effective_date=date.today(),
            postings=(
                ledger.PostingSpec(BUYER_DEPOSITS, Side.debit, 100_000, "CNY"),
                ledger.PostingSpec(fund, Side.credit, 100_000, "CNY"),
            ),
            idempotency_key=f"e2e-fund:{uuid.uuid4().hex}",
        ),
    )


def _programme(session: Session, staff: Actor) -> int:
    provider = training.create_provider(session, actor=staff, data=ProviderCreate(name="县农技站"))
    programme = training.create_programme(
        session,
        actor=staff,
        data=ProgrammeCreate.model_validate(
            {
                "provider_id": provider.id,
                "title": {"zh": "养蜂技术培训", "en": "Bee-keeping"},
                "skill_area": "beekeeping",
                "sessions": [{"date": date.today().isoformat(), "place": "松江村委会"}],
                "capacity": 5,
                "seat_cost": {"amount": 30_000, "currency": "CNY"},
                "funding": {"source": "coop_fund"},
                "status": "open",
            }
        ),
    )
    assert programme.id is not None
    return programme.id


def _neighbour_rated(session: Session, household: Household, programme_id: int) -> None:
    """Another household of the cooperative completed the same training and rated it 5."""
    assert household.id is not None
    enrolment = Enrolment(
        programme_id=programme_id,
        household_id=household.id,
        coop_id=household.coop_id,
        status="completed",
        currency="CNY",
    )
    session.add(enrolment)
    session.flush()
    session.add(
        BeneficiaryFeedback(
            household_id=household.id,
            coop_id=household.coop_id,
            enrolment_id=enrolment.id,
            programme_id=programme_id,
            subject=f"enrolment:{enrolment.id}",
            period="once",
            stars=5,
        )
    )


def _seed(settings: Settings) -> dict[str, Any]:
    """The demo, plus: the farmer's mobile number, a social worker assigned to its household, an
    alert on that household, an open bee-keeping programme the farmer applied to, a neighbour who
    completed and rated it, an auditor."""
    engine = create_db_engine(settings.database_url)
    with create_session_factory(engine).begin() as session:
        farmer = _user(session, FARMER.email)
        staff_user = _user(session, STAFF_USER.email)
        household = session.get(Household, farmer.household_id)
        assert household is not None
        assert household.id is not None
        set_phone(session, user_id=farmer.id or 0, phone_text=MOBILE)
        worker = users.create_user(
            session, email="sw@hezuo.demo", password=PASSWORD, role=Role.social_worker
        )
        users.create_user(session, email="audit@hezuo.demo", password=PASSWORD, role=Role.auditor)
        staff = Actor(user_id=staff_user.id, role="staff")
        plans.assign(
            session,
            actor=staff,
            household_id=household.id,
            worker_id=worker.id or 0,
            worker_role="social_worker",
        )
        session.add(
            Alert(
                household_id=household.id,
                coop_id=household.coop_id,
                reason="below_line",
                detail="Income per person below the line.",
                as_of=date.today(),
            )
        )
        _fund(session, household.coop_id)
        programme_id = _programme(session, staff)
        farmer_actor = Actor(
            user_id=farmer.id, role="farmer", coop_id=farmer.coop_id, household_id=household.id
        )
        training.apply(
            session, actor=farmer_actor, programme_id=programme_id, data=EnrolmentCreate()
        )
        neighbour = session.scalars(
            select(Household)
            .where(col(Household.coop_id) == household.coop_id, col(Household.id) != household.id)
            .order_by(col(Household.id))
        ).first()
        assert neighbour is not None
        _neighbour_rated(session, neighbour, programme_id)
        seeded = {
            "household": household.id,
            "coop": household.coop_id,
            "programme": programme_id,
        }
    engine.dispose()
    return seeded


def _settle(settings: Settings, household_id: int, coop_id: int) -> None:
    """The next settlement: a sale crediting the household ¥1,200 today."""
    engine = create_db_engine(settings.database_url)
    with create_session_factory(engine).begin() as session:
        payable = member_payable_key(household_id)
        ensure_account(session, payable, "CNY")
        ledger.post(
            session,
            ledger.EntrySpec(
                kind="sale",
                effective_date=date.today(),
                postings=(
                    ledger.PostingSpec(BUYER_DEPOSITS, Side.debit, 120_000, "CNY", coop_id=coop_id),
                    ledger.PostingSpec(
                        payable,
                        Side.credit,
                        120_000,
                        "CNY",
                        coop_id=coop_id,
                        household_id=household_id,
                    ),
                ),
                idempotency_key=f"e2e-settle:{uuid.uuid4().hex}",
            ),
        )
    engine.dispose()


def _publish(settings: Settings, coop_id: int) -> int:
    engine = create_db_engine(settings.database_url)
    with create_session_factory(engine).begin() as session:
        disclosure = disclosures.publish(
            session,
            coop_id=coop_id,
            period=f"{date.today():%Y-%m}",
            currency="CNY",
            published_by="user:staff",
            provisional=True,
            min_group=settings.disclosure_min_group,
        )
        assert disclosure.id is not None
        disclosure_id = disclosure.id
    engine.dispose()
    return disclosure_id


def _entries(settings: Settings) -> int:
    engine = create_db_engine(settings.database_url)
    with create_session_factory(engine)() as session:
        count = session.scalar(select(func.count()).select_from(JournalEntry)) or 0
    engine.dispose()
    return count


def _sign_in(page: Page, name: str, password: str, next_path: str) -> None:
    page.goto(f"/login?next={next_path}")
    page.locator("#email").fill(name)
    page.locator("#password").fill(password)
    page.locator("form[action='/login'] button[type=submit]").click()


def _fits(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def _income(page: Page) -> str:
    return page.locator("p", has_text="人均").locator("strong").first.inner_text()


@pytest.mark.e2e
def test_plan_training_settlement_feedback_disclosure_and_auditor(  # noqa: PLR0915 - one story
    browser: Browser, live_server: str, e2e_settings: Settings
) -> None:
    seeded = _seed(e2e_settings)
    hid, pid = seeded["household"], seeded["programme"]

    # A social worker opens a plan with the household and links the training.
    worker = browser.new_context(base_url=live_server, locale="zh-CN", viewport=PHONE)
    page = worker.new_page()
    _sign_in(page, "sw@hezuo.demo", PASSWORD, "/social-work")
    expect(page).to_have_url(f"{live_server}/social-work")
    page.locator(f"a[href='/social-work/households/{hid}']").first.click()
    page.locator("#kind").select_option("income")
    page.locator("#description").fill(GOAL)
    page.locator("#target").fill("6000")
    page.locator("#programme_id").select_option(str(pid))
    page.locator("#review_on").fill((date.today() + timedelta(days=60)).isoformat())
    _fits(page)
    page.locator(f"form[action='/social-work/households/{hid}'] button[type=submit]").click()
    expect(page.locator("ul.goals")).to_contain_text(GOAL)
    worker.close()

    # The farmer signs in with the phone number, reads the plan and agrees.
    farmer = browser.new_context(base_url=live_server, locale="zh-CN", viewport=PHONE)
    page = farmer.new_page()
    _sign_in(page, "139 1234 0001", FARMER.password, "/plan")
    expect(page).to_have_url(f"{live_server}/plan")
    expect(page.locator("ul.goals")).to_contain_text(GOAL)
    before = _income(page)
    page.locator("form[action='/plan/agree'] button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("农户已同意这份计划。")
    _fits(page)

    # Staff accept, mark attendance and complete the training.
    staff = browser.new_context(base_url=live_server, locale="zh-CN", viewport=PHONE)
    spage = staff.new_page()
    _sign_in(spage, STAFF_USER.email, STAFF_USER.password, f"/staff/training/{pid}")
    spage.locator("button.accept").first.click()
    spage.locator("button.attend").first.click()
    expect(spage.locator("section.enrolment .status", has_text="学习中")).to_have_count(1)
    spage.locator("form.complete input[name=certificate_number]").fill("YF-2026-0001")
    spage.locator("form.complete button[type=submit]").click()
    expect(spage.locator("section.enrolment", has_text="YF-2026-0001")).to_have_count(1)
    staff.close()

    # The next settlement moves the plan's income figure.
    _settle(e2e_settings, hid, seeded["coop"])
    page.goto("/plan")
    after = _income(page)
    assert after != before, (before, after)

    # The household rates the training (anonymous to the provider).
    page.goto("/me/feedback")
    page.locator("input[name=subject][value^='enrolment:']").check()
    page.locator("input[name=stars][value='4']").check()
    page.locator("#comment").fill("讲得很实用")
    _fits(page)
    page.locator("form[action='/me/feedback'] button[type=submit]").click()
    expect(page.locator("p.notice")).to_contain_text("谢谢")
    farmer.close()

    # The month's disclosure shows the aggregated feedback (two households: the minimum here).
    disclosure_id = _publish(e2e_settings, seeded["coop"])
    public = browser.new_context(base_url=live_server, locale="zh-CN", viewport=PHONE)
    page = public.new_page()
    page.goto(f"/disclosures/{disclosure_id}")
    expect(page.locator("main")).to_contain_text("受助农户的评价")
    expect(page.locator("main")).to_contain_text("养蜂技术培训 · 2 户 · 平均 4.5 分")
    expect(page.locator("main")).not_to_contain_text("讲得很实用")  # no comment is published
    _fits(page)
    public.close()

    # An auditor reads the ledger and is refused every write; nothing is stored.
    auditor = browser.new_context(base_url=live_server, locale="zh-CN", viewport=PHONE)
    page = auditor.new_page()
    _sign_in(page, "audit@hezuo.demo", PASSWORD, "/staff/ledger")
    expect(page).to_have_url(f"{live_server}/staff/ledger")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    entries = _entries(e2e_settings)
    for path in (
        "/staff/ledger/seals",
        f"/social-work/households/{hid}",
        f"/manage/coops/{seeded['coop']}/consultations",
        "/me/feedback",
        "/plan/agree",
    ):
        answer = page.request.post(path, form={"csrf_token": token or ""}, max_redirects=0)
        assert answer.status == 403, (path, answer.status)
    assert _entries(e2e_settings) == entries
    auditor.close()
