"""One bank deposit that covers several payments staff recorded by hand (a cooperative banks the
cash of three orders at once): the matcher proposes the set, nothing is matched until staff
confirm it on the reconciliation page, and a set that does not add up is refused."""

import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Select, func, select
from sqlmodel import Session, col

from ledger import bank
from ledger.models import Account, Posting
from ledger.payout_models import LineState, StatementLine
from tests.conftest import TEST_PASSWORD
from tests.frontend.helpers import HTML, csrf_token, sign_in

PAGE = "/staff/reconciliation"
ZH = {**HTML, "Accept-Language": "zh-CN"}


@pytest.fixture
def three_recorded(world, client: TestClient, as_role, place) -> list[dict]:
    """Three orders whose money staff recorded by hand (posted to assets:clearing:manual)."""
    orders = []
    for lines in ([(world.honey, 1)], [(world.honey, 2)], [(world.mushrooms, 1)]):
        order = place("buyer", lines).json()
        paid = client.post(
            f"/api/v1/orders/{order['id']}/payments/manual",
            json={"amount": order["total"]["amount"], "currency": "CNY", "reference": "现金"},
            headers=as_role("staff"),
        )
        assert paid.status_code == 201, paid.text
        orders.append(order)
    return orders


def _deposit_file(amount: int, memo: str = "合作社现金存款") -> bytes:
    day = date.today().isoformat()
    return (
        "date,amount,currency,reference,counterparty,description\n"
        f"{day},{amount / 100:.2f},CNY,,松江合作社,{memo}\n"
    ).encode()


def _import(client: TestClient, token: str, raw: bytes, period: str):
    return client.post(
        f"{PAGE}/import",
        data={"csrf_token": token, "account": "assets:bank", "action": "import", "period": period},
        files={"file": ("deposit.csv", raw, "text/csv")},
        headers=ZH,
        follow_redirects=True,
    )


def _line(session: Session) -> StatementLine:
    session.rollback()
    (line,) = bank.statement_lines(session, "assets:bank")
    return line


def test_staff_confirm_one_deposit_of_three_recorded_payments(
    client: TestClient, world, session: Session, three_recorded: list[dict]
) -> None:
    total = sum(order["total"]["amount"] for order in three_recorded)
    period = date.today().strftime("%Y-%m")
    assert sign_in(client, world.user("staff").email, TEST_PASSWORD).status_code == 303
    token = csrf_token(client, f"{PAGE}?period={period}")

    imported = _import(client, token, _deposit_file(total), period)
    assert imported.status_code == 200
    line = _line(session)
    assert line.state == LineState.unmatched.value  # never matched without staff confirming

    page = client.get(PAGE, params={"period": period}, headers=ZH).text
    assert 'id="deposit-sets"' in page
    for order in three_recorded:
        assert order["reference_code"] in page
    section = page[page.index('id="deposit-sets"') :]
    posting_ids = [int(i) for i in re.findall(r'name="posting_ids" value="(\d+)"', section)][:3]
    assert len(posting_ids) == 3

    # two of the three do not add up to the deposit: refused, nothing matched
    wrong = client.post(
        f"{PAGE}/action",
        data={
            "csrf_token": token,
            "action": "confirm_set",
            "account": "assets:bank",
            "period": period,
            "line_ids": str(line.id),
            "posting_ids": [str(i) for i in posting_ids[:2]],
        },
        headers=ZH,
    )
    assert wrong.status_code == 200
    assert "must agree to the fen" in wrong.text
    assert _line(session).state == LineState.unmatched.value

    confirmed = client.post(
        f"{PAGE}/action",
        data={
            "csrf_token": token,
            "action": "confirm_set",
            "account": "assets:bank",
            "period": period,
            "line_ids": str(line.id),
            "posting_ids": [str(i) for i in posting_ids],
        },
        headers=ZH,
    )
    assert confirmed.status_code == 200
    assert "已与 3 笔记录的付款匹配" in confirmed.text
    assert 'id="deposit-sets"' not in confirmed.text
    assert _line(session).state == LineState.matched.value
    assert bank.open_items(session, "assets:bank") == ([], [])
    assert session.scalar(_clearing_balance()) == 0  # the recorded payments reached the bank


def test_the_matcher_proposes_the_set_but_auto_match_leaves_it(
    client: TestClient, as_role, session: Session, three_recorded: list[dict]
) -> None:
    staff = as_role("staff")
    total = sum(order["total"]["amount"] for order in three_recorded)
    files = {"file": ("deposit.csv", _deposit_file(total), "text/csv")}
    preview = client.post(
        "/api/v1/reconciliation/statements", data={"preview": "true"}, files=files, headers=staff
    ).json()
    assert [(p["rule"], len(p["posting_ids"]), p["confirm"]) for p in preview["proposals"]] == [
        ("deposit_set", 3, True)
    ]
    imported = client.post(
        "/api/v1/reconciliation/statements",
        data={"preview_token": preview["token"]},
        headers=staff,
    )
    assert imported.status_code == 201, imported.text
    made = client.post(
        "/api/v1/reconciliation/auto-match", json={"account": "assets:bank"}, headers=staff
    )
    assert made.json() == []
    assert _line(session).state == LineState.unmatched.value


def _clearing_balance() -> Select:
    return (
        select(func.coalesce(func.sum(col(Posting.amount)), 0))
        .join(Account, col(Account.id) == col(Posting.account_id))
        .where(col(Account.key) == bank.CLEARING_ACCOUNT)
    )
