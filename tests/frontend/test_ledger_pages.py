"""Staff ledger pages: who may open them, what they show, reversing an entry, sealing."""

import re
import uuid
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from api.models import Role
from ledger import service
from ledger.models import AccountType, JournalEntry, SealBlock, Side
from tests.conftest import TEST_PASSWORD
from tests.frontend.helpers import HTML, csrf_token, sign_in

DAY = date(2026, 11, 20)
LATER = date(2026, 11, 25)

PAGES = [
    "/staff/ledger",
    "/staff/ledger?as_of=2026-11-20",
    "/staff/ledger/accounts",
    "/staff/ledger/accounts/assets:bank",
    "/staff/ledger/entries/{entry}",
    "/staff/ledger/seals",
]


def _open_chart(session) -> None:
    for key, account_type in (
        ("assets:bank", AccountType.asset),
        ("income:enterprise:service-fees", AccountType.income),
        ("equity:coops:1:collective-fund", AccountType.equity),
    ):
        service.open_account(session, key=key, type=account_type, currency="CNY")


def _post(session, amount: int, *, on: date = DAY, memo: str = "") -> int:
    """Dr bank / Cr service fees, posted through the service and committed."""
    result = service.post(
        session,
        service.EntrySpec(
            kind="adjustment",
            effective_date=on,
            memo=memo,
            reference="test:ref",
            metadata={"note": "测试"},
            idempotency_key=uuid.uuid4().hex,
            created_by="test",
            postings=(
                service.PostingSpec("assets:bank", Side.debit, amount, "CNY"),
                service.PostingSpec("income:enterprise:service-fees", Side.credit, amount, "CNY"),
            ),
        ),
    )
    session.commit()
    assert result.entry.id is not None
    return result.entry.id


@pytest.fixture
def entry_id(session) -> int:
    _open_chart(session)
    return _post(session, 123450, memo="Opening adjustment")


@pytest.fixture
def staff_client(client, make_user):
    user = make_user(Role.staff)
    assert sign_in(client, user.email, TEST_PASSWORD).status_code == 303
    return client


def _count_entries(session) -> int:
    session.rollback()
    return int(session.scalar(select(func.count()).select_from(JournalEntry)))


# Who may open the pages


@pytest.mark.parametrize("path", PAGES)
def test_a_visitor_is_sent_to_sign_in_and_back(client, entry_id, path):
    path = path.format(entry=entry_id)
    answer = client.get(path, headers=HTML, follow_redirects=False)
    assert answer.status_code == 303
    location = answer.headers["location"]
    assert location.startswith("/login?next=")
    assert parse_qs(urlsplit(location).query)["next"] == [path]


@pytest.mark.parametrize("role", [Role.buyer, Role.farmer, Role.manager])
@pytest.mark.parametrize("path", PAGES)
def test_other_roles_get_the_403_page(client, make_user, entry_id, role, path):
    user = make_user(role)
    sign_in(client, user.email, TEST_PASSWORD)
    answer = client.get(path.format(entry=entry_id), headers=HTML)
    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("text/html")
    assert "无权" in answer.text
    assert "1,234.50" not in answer.text


@pytest.mark.parametrize("role", [Role.staff, Role.admin])
@pytest.mark.parametrize("path", PAGES)
def test_staff_and_admin_open_every_page(client, make_user, entry_id, role, path):
    user = make_user(role)
    sign_in(client, user.email, TEST_PASSWORD)
    answer = client.get(path.format(entry=entry_id), headers=HTML)
    assert answer.status_code == 200
    assert "<script" not in answer.text
    assert len(answer.content) < 30_000


@pytest.mark.parametrize("role", [Role.buyer, Role.farmer, Role.manager])
def test_other_roles_cannot_reverse_or_seal(client, make_user, session, entry_id, role):
    user = make_user(role)
    sign_in(client, user.email, TEST_PASSWORD)
    token = csrf_token(client, "/")
    for path, data in (
        (f"/staff/ledger/entries/{entry_id}/reverse", {"confirm": "yes"}),
        ("/staff/ledger/seals", {}),
    ):
        answer = client.post(path, data={**data, "csrf_token": token}, headers=HTML)
        assert answer.status_code == 403
    assert _count_entries(session) == 1
    assert session.scalar(select(func.count()).select_from(SealBlock)) == 0


def test_a_visitor_posting_is_sent_to_sign_in(client, session, entry_id):
    token = csrf_token(client, "/login")
    answer = client.post(
        f"/staff/ledger/entries/{entry_id}/reverse",
        data={"confirm": "yes", "csrf_token": token},
        headers=HTML,
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=")
    assert _count_entries(session) == 1


# What the pages show


def test_the_trial_balance_shows_an_adjustment_formatted(staff_client, entry_id):
    page = staff_client.get("/staff/ledger", headers=HTML)
    assert page.status_code == 200
    assert "试算平衡表" in page.text
    assert "¥1,234.50" in page.text
    assert "借贷平衡" in page.text
    assert 'href="/staff/ledger/accounts/assets%3Abank"' in page.text
    # the untouched collective fund is summarised, not listed
    assert "equity:coops:1:collective-fund" not in page.text
    # and so is expenses:bank:fees, opened at installation (migration 0012)
    assert "没有过账、未列出的账户：2 个" in page.text
    english = staff_client.get("/staff/ledger", headers={**HTML, "Accept-Language": "en"})
    assert "CN¥1,234.50" in english.text
    assert "Balanced" in english.text


def test_the_trial_balance_as_of_a_date_leaves_later_entries_out(staff_client, session, entry_id):
    _post(session, 100, on=LATER)
    now = staff_client.get("/staff/ledger", headers=HTML).text
    assert "¥1,235.50" in now
    before = staff_client.get("/staff/ledger?as_of=2026-11-24", headers=HTML).text
    assert "¥1,234.50" in before
    assert "¥1,235.50" not in before
    assert "?as_of=2026-11-24" in before  # account links keep the date


def test_a_bad_date_is_named_on_the_page(staff_client, entry_id):
    page = staff_client.get("/staff/ledger?as_of=30/11/2026", headers=HTML)
    assert page.status_code == 422
    assert "YYYY-MM-DD" in page.text
    assert 'aria-invalid="true"' in page.text
    empty = staff_client.get("/staff/ledger?as_of=", headers=HTML)
    assert empty.status_code == 200


def test_the_account_list_filters_by_prefix_and_shows_balances(staff_client, entry_id):
    page = staff_client.get("/staff/ledger/accounts", headers=HTML).text
    assert "assets:bank" in page
    assert "equity:coops:1:collective-fund" in page
    assert "¥1,234.50" in page
    filtered = staff_client.get("/staff/ledger/accounts?prefix=equity", headers=HTML).text
    assert "equity:coops:1:collective-fund" in filtered
    assert "assets:bank" not in filtered
    none = staff_client.get("/staff/ledger/accounts?prefix=liabilities", headers=HTML).text
    assert "没有匹配的账户" in none


def test_the_statement_has_a_running_balance_and_pages(staff_client, session, entry_id):
    import frontend.ledger_pages as ledger_pages

    for amount in (1000, 2000, 3000):
        _post(session, amount, on=LATER)
    page = staff_client.get("/staff/ledger/accounts/assets:bank", headers=HTML).text
    running = re.findall(r'<td class="num">(¥[\d,.]+)</td>\s*</tr>', page)
    assert running == ["¥1,234.50", "¥1,244.50", "¥1,264.50", "¥1,294.50"]
    assert "¥1,294.50</strong>" in page  # balance now

    ledger_pages.STATEMENT_LINES_PER_PAGE = 2
    try:
        first = staff_client.get("/staff/ledger/accounts/assets:bank", headers=HTML).text
        next_href = re.search(r'href="([^"]+)" rel="next"', first)
        assert next_href
        second = staff_client.get(next_href.group(1).replace("&amp;", "&"), headers=HTML).text
    finally:
        ledger_pages.STATEMENT_LINES_PER_PAGE = 50
    assert re.findall(r'<td class="num">(¥[\d,.]+)</td>\s*</tr>', second) == [
        "¥1,264.50",
        "¥1,294.50",
    ]
    assert 'rel="next"' not in second

    as_of = staff_client.get(
        "/staff/ledger/accounts/assets:bank?as_of=2026-11-21", headers=HTML
    ).text
    assert re.findall(r'<td class="num">(¥[\d,.]+)</td>\s*</tr>', as_of) == ["¥1,234.50"]
    assert "¥1,234.50</strong>" in as_of


def test_an_unknown_account_or_entry_is_404(staff_client, entry_id):
    assert staff_client.get("/staff/ledger/accounts/assets:nope", headers=HTML).status_code == 404
    assert staff_client.get("/staff/ledger/entries/999999", headers=HTML).status_code == 404


def test_the_entry_page_shows_postings_and_details(staff_client, entry_id):
    page = staff_client.get(f"/staff/ledger/entries/{entry_id}", headers=HTML).text
    assert f"分录 {entry_id}" in page
    assert "调整" in page  # kind
    assert "2026-11-20" in page
    assert "Opening adjustment" in page
    assert "test:ref" in page
    assert "测试" in page  # metadata, not escaped to \u sequences
    assert "¥1,234.50" in page
    assert 'name="confirm" value="yes" required' in page
    assert 'name="csrf_token"' in page


# Reversing an entry


def test_reversing_through_the_page_posts_the_mirror_once(staff_client, session, entry_id):
    page = f"/staff/ledger/entries/{entry_id}"
    token = csrf_token(staff_client, page)
    answer = staff_client.post(
        f"{page}/reverse",
        data={"csrf_token": token, "confirm": "yes", "memo": "Posted twice"},
        headers=HTML,
        follow_redirects=False,
    )
    assert answer.status_code == 303
    reversal_id = int(answer.headers["location"].rsplit("/", 1)[1])
    session.rollback()
    view = service.get_entry(session, entry_id)
    assert view.reversed_by == reversal_id
    assert service.balance(session, "assets:bank").amount == 0

    reversal = staff_client.get(answer.headers["location"], headers=HTML).text
    assert "Posted twice" in reversal
    assert f'href="/staff/ledger/entries/{entry_id}"' in reversal  # "reverses" link
    original = staff_client.get(page, headers=HTML).text
    assert f'href="/staff/ledger/entries/{reversal_id}"' in original  # "reversed by" link
    assert 'name="confirm"' not in original  # no second button

    again = staff_client.post(
        f"{page}/reverse", data={"csrf_token": token, "confirm": "yes"}, headers=HTML
    )
    assert again.status_code == 409
    assert "已被冲销" in again.text
    assert _count_entries(session) == 2


def test_reversing_needs_the_confirmation_box(staff_client, session, entry_id):
    page = f"/staff/ledger/entries/{entry_id}"
    token = csrf_token(staff_client, page)
    answer = staff_client.post(f"{page}/reverse", data={"csrf_token": token}, headers=HTML)
    assert answer.status_code == 422
    assert "勾选" in answer.text
    assert _count_entries(session) == 1


def test_reversing_without_the_csrf_token_is_refused(staff_client, session, entry_id):
    answer = staff_client.post(
        f"/staff/ledger/entries/{entry_id}/reverse", data={"confirm": "yes"}, headers=HTML
    )
    assert answer.status_code == 403
    assert "表单已过期" in answer.text
    forged = staff_client.post(
        f"/staff/ledger/entries/{entry_id}/reverse",
        data={"confirm": "yes", "csrf_token": "x" * 43},
        headers=HTML,
    )
    assert forged.status_code == 403
    assert _count_entries(session) == 1


# Seals


def test_seal_now_and_verify(staff_client, session, entry_id):
    _post(session, 500)
    page = staff_client.get("/staff/ledger/seals", headers=HTML).text
    assert re.search(r"尚未封存的分录</dt><dd>2<", page)
    token = csrf_token(staff_client, "/staff/ledger/seals")
    answer = staff_client.post(
        "/staff/ledger/seals", data={"csrf_token": token}, follow_redirects=False, headers=HTML
    )
    assert answer.status_code == 303
    session.rollback()
    block = session.scalars(select(SealBlock)).one()
    assert answer.headers["location"] == f"/staff/ledger/seals?sealed={block.id}"
    after = staff_client.get(answer.headers["location"], headers=HTML).text
    assert re.search(r"尚未封存的分录</dt><dd>0<", after)
    assert block.hash[:16] in after

    nothing = staff_client.post(
        "/staff/ledger/seals", data={"csrf_token": token}, follow_redirects=True, headers=HTML
    )
    assert "没有需要封存的分录" in nothing.text

    verified = staff_client.get("/staff/ledger/seals?verify=1", headers=HTML).text
    assert "校验通过" in verified
    entry = staff_client.get(f"/staff/ledger/entries/{entry_id}", headers=HTML).text
    assert f"已封存于区块 {block.id}" in entry


def test_seal_now_without_csrf_is_refused(staff_client, session, entry_id):
    answer = staff_client.post("/staff/ledger/seals", data={}, headers=HTML)
    assert answer.status_code == 403
    session.rollback()
    assert session.scalar(select(func.count()).select_from(SealBlock)) == 0
