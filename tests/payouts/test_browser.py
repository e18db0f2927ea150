"""Browser journey (Chromium): staff import a bank file, see the two differences, match them by
hand, and download a household statement."""

from datetime import date, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, expect
from sqlmodel import Session

from api.demo import DEMO_USERS
from catalog.payout_details import confirm_payout_line, create_coop_batch
from tests.catalog import factories
from tests.e2e.conftest import (  # noqa: F401  (fixtures)
    browser_type_launch_args,
    e2e_settings,
    live_server,
)
from tests.payouts.conftest import earn, open_chart

STAFF = next(u for u in DEMO_USERS if u.role == "staff")
# A month the demo leaves open: it closes last month (and so every month before it) for its
# final disclosure; next month is always open.
_NEXT = (date.today().replace(day=28) + timedelta(days=7)).replace(day=1)
PERIOD = _NEXT.strftime("%Y-%m")


def day(n: int) -> date:
    return _NEXT.replace(day=n)


def arrange(session: Session) -> dict[str, Any]:
    """Two paid payouts in November; the bank shows one 6 days late without its reference.

    In a cooperative of its own: the demo's households hold shares of the demo's settled orders.
    """
    open_chart(session)
    coop = factories.create_coop(session, code="HX", village="红星村")
    first = factories.create_household(session, coop=coop, name="赵六")
    second = factories.create_household(session, coop=coop, name="孙七")
    earn(session, first, 30_000, on=day(5))
    earn(session, second, 12_345, on=day(5))
    batch = create_coop_batch(
        session,
        coop_id=first.coop_id,
        period=PERIOD,
        currency="CNY",
        minimum=100,
        effective_date=day(20),
        created_by="staff",
    )
    for line in batch.lines:
        assert line.id is not None
        confirm_payout_line(
            session,
            line_id=line.id,
            bank_reference=f"PAY-{line.id}",
            paid_on=day(21),
            decided_by="staff",
        )
    session.commit()
    one, other = batch.lines
    return {"household": first, "matched": one, "late": other}


@pytest.mark.e2e
def test_staff_reconcile_by_hand_and_export_statements(
    browser: Browser,
    live_server: str,  # noqa: F811
    session: Session,
    tmp_path: Any,
) -> None:
    world = arrange(session)
    matched, late = world["matched"], world["late"]
    statement = tmp_path / "nov.csv"
    statement.write_text(
        "date,amount,reference\n"
        f"{day(21).isoformat()},-{matched.amount / 100:.2f},PAY-{matched.id}\n"
        f"{day(27).isoformat()},-{late.amount / 100:.2f},转账\n",
        encoding="gbk",
    )
    context = browser.new_context(base_url=live_server, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    page.goto(f"/login?next=/staff/reconciliation?period={PERIOD}")
    page.locator("#email").fill(STAFF.email)
    page.locator("#password").fill(STAFF.password)
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text(PERIOD)

    page.locator("#file").set_input_files(str(statement))
    page.locator("button[name=action][value=preview]").first.click()
    expect(page.locator("table")).to_contain_text("转账")
    page.locator("#import-preview").click()  # the upload is kept: no second file choice
    expect(page.locator("#unexplained")).to_have_text("2")
    rows = page.locator("#open-items tbody tr.unexplained")
    expect(rows).to_have_count(2)

    for index in range(2):
        rows.nth(index).locator("input[type=checkbox]").check()
    page.locator("#reason").fill("bank dropped the reference; paid 6 days late")
    page.locator("button[value=match]").click()
    expect(page.locator("#unexplained")).to_have_text("0")
    expect(page.locator("#difference")).to_contain_text("0.00")

    page.goto("/staff/reports")
    household = world["household"]
    with page.expect_download() as download:
        page.locator(
            f"a[href='/api/v1/reports/households/{household.id}/statement?format=csv']"
        ).click()
    content = download.value.path().read_text(encoding="utf-8-sig")
    assert content.splitlines()[0].startswith("date,entry,kind")
    assert ",30000," in content
    context.close()
