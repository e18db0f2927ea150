"""Browser journey (phone viewport): a farmer applies to a training programme; staff accept it
(the cooperative's training fund drops by the seat cost), mark attendance and completion; the
outcome report lists the enrolment."""

import uuid
from datetime import date

import pytest
from playwright.sync_api import Browser, ViewportSize, expect
from sqlmodel import select

from api.database import create_db_engine, create_session_factory
from api.demo import DEMO_USERS
from api.settings import Settings
from catalog.models import Cooperative
from core.actor import Actor
from ledger import service as ledger
from ledger.models import AccountType, Side
from ledger.share_rules import training_fund_key
from training import service
from training.schemas import ProgrammeCreate, ProviderCreate

FARMER = next(user for user in DEMO_USERS if user.role == "farmer")
STAFF_USER = next(user for user in DEMO_USERS if user.role == "staff")
PHONE: ViewportSize = {"width": 360, "height": 740}
STAFF = Actor(user_id=0, role="staff")


def _seed(settings: Settings) -> tuple[int, int]:
    """A training fund holding ¥1,000 (topped up over what the demo's settled sales put in) and
    an open programme whose seat costs ¥300."""
    engine = create_db_engine(settings.database_url)
    with create_session_factory(engine).begin() as session:
        coop_id = session.scalars(select(Cooperative.id)).first()
        assert coop_id is not None
        fund = training_fund_key(coop_id)
        for key, kind in (
            ("liabilities:buyers:deposits", AccountType.liability),
            (fund, AccountType.equity),
        ):
            ledger.open_account(session, key=key, type=kind, currency="CNY", name=key)
        top_up = 100_000 - ledger.balance(session, fund).amount
        ledger.post(
            session,
            ledger.EntrySpec(
                kind="sale",
                effective_date=date.today(),
                postings=(
                    ledger.PostingSpec("liabilities:buyers:deposits", Side.debit, top_up, "CNY"),
                    ledger.PostingSpec(fund, Side.credit, top_up, "CNY"),
                ),
                idempotency_key=f"e2e-fund:{uuid.uuid4().hex}",
            ),
        )
        provider = service.create_provider(
            session, actor=STAFF, data=ProviderCreate(name="县职业技术学校")
        )
        start = date.today()  # held today: attendance can be marked (not for days to come)
        programme = service.create_programme(
            session,
            actor=STAFF,
            data=ProgrammeCreate.model_validate(
                {
                    "provider_id": provider.id,
                    "title": {"zh": "养蜂技术培训", "en": "Bee-keeping"},
                    "skill_area": "beekeeping",
                    "sessions": [{"date": start.isoformat(), "place": "松江村委会"}],
                    "capacity": 5,
                    "seat_cost": {"amount": 30_000, "currency": "CNY"},
                    "funding": {"source": "coop_fund"},
                    "status": "open",
                }
            ),
        )
        assert programme.id is not None
        programme_id = programme.id
    engine.dispose()
    return programme_id, coop_id


def _sign_in(page, email: str, password: str, next_path: str) -> None:
    page.goto(f"/login?next={next_path}")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("form[action='/login'] button[type=submit]").click()


@pytest.mark.e2e
def test_farmer_applies_staff_accept_attend_complete(
    browser: Browser, live_server: str, e2e_settings: Settings
):
    programme_id, coop_id = _seed(e2e_settings)

    farmer = browser.new_context(base_url=live_server, locale="zh-CN", viewport=PHONE)
    page = farmer.new_page()
    _sign_in(page, FARMER.email, FARMER.password, f"/training/{programme_id}")
    expect(page).to_have_url(f"{live_server}/training/{programme_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("养蜂技术培训")
    apply = page.locator("form.apply button[type=submit]")
    box = apply.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= PHONE["width"]  # no sideways scrolling on a phone
    apply.click()
    expect(page).to_have_url(f"{live_server}/me/training")
    expect(page.locator(".enrolments")).to_contain_text("已报名")
    farmer.close()

    staff = browser.new_context(base_url=live_server, locale="zh-CN")
    page = staff.new_page()
    _sign_in(page, STAFF_USER.email, STAFF_USER.password, f"/staff/training/{programme_id}")
    expect(page).to_have_url(f"{live_server}/staff/training/{programme_id}")
    fund = page.locator(f"dd.fund[data-key='{training_fund_key(coop_id)}']")
    expect(fund).to_have_text("¥1,000.00")
    expect(page.locator(".applicants")).to_contain_text("SJ-0001")
    page.locator("button.accept").first.click()
    expect(fund).to_have_text("¥700.00")  # the seat cost left the fund
    expect(page.locator(".seats")).to_have_text("1 / 5")
    page.locator("button.attend").first.click()
    expect(page.locator("section.enrolment .status")).to_have_text("学习中")
    page.locator("form.complete input[name=certificate_number]").fill("YN-2026-0001")
    page.locator("form.complete button[type=submit]").click()
    expect(page.locator("section.enrolment")).to_contain_text("YN-2026-0001")

    page.goto(f"/training/{programme_id}/outcomes")
    expect(page.locator("table.enrolments")).to_contain_text("SJ-0001")
    expect(page.locator("table.enrolments")).to_contain_text("已结业")
    staff.close()
