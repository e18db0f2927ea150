"""A payout paid or failed tells the household: inbox and e-mail for its accounts, SMS to its phone."""

from sqlmodel import Session, select

from api.models import Role
from api.wiring import connect_domains
from catalog.models import Cooperative
from catalog.payout_details import confirm_payout_line, fail_payout_line
from catalog.schemas import HouseholdUpdate
from catalog.service import update_household
from core.actor import Actor
from ledger.payout_models import PayoutLine
from notify.content import Context, render
from notify.models import Notification
from tests.payouts.conftest import HouseholdFactory, earn
from tests.payouts.test_payout_batches import PAID_ON, make_batch


def _rows(session: Session, kind: str) -> list[Notification]:
    return list(session.scalars(select(Notification).where(Notification.kind == kind)))


def test_paid_and_failed_payouts_tell_each_household_once(
    session: Session, coop: Cooperative, household: HouseholdFactory, make_user
) -> None:
    connect_domains()
    with_account = household(phone="13911112222")
    phone_only = household(phone="13933334444")
    farmer = make_user(Role.farmer, household_id=with_account.id, coop_id=coop.id)
    earn(session, with_account, 8_000)
    earn(session, phone_only, 3_000)
    lines: dict[int | None, PayoutLine] = {
        line.household_id: line for line in make_batch(session, coop).lines
    }
    for _ in range(2):  # a replayed confirmation tells no one twice
        confirm_payout_line(
            session,
            line_id=lines[with_account.id].id,
            bank_reference="B-1",
            paid_on=PAID_ON,
            decided_by="staff",
        )
    fail_payout_line(
        session, line_id=lines[phone_only.id].id, reason="account closed", decided_by="staff"
    )
    session.commit()

    paid = _rows(session, "payout_paid")
    assert sorted((r.channel, r.address) for r in paid) == [
        ("email", farmer.email),
        ("inbox", ""),
        ("sms", "13911112222"),
    ]
    assert {r.user_id for r in paid if r.channel == "inbox"} == {farmer.id}
    failed = _rows(session, "payout_failed")
    assert [(r.channel, r.address, r.user_id) for r in failed] == [("sms", "13933334444", None)]
    assert '"amount": 3000' in failed[0].payload


def test_changed_payout_details_are_told_to_the_household_at_once(
    session: Session, coop: Cooperative, household: HouseholdFactory
) -> None:
    connect_domains()
    member = household(phone="13955556666", payout_method="alipay", payout_account="old@pay.cn")
    manager = Actor(user_id=1, role="manager", coop_id=coop.id, household_id=None)
    update_household(
        session,
        actor=manager,
        household_id=member.id or 0,
        data=HouseholdUpdate(village="新村"),  # not about money: nobody is told
    )
    assert _rows(session, "payout_details_changed") == []
    update_household(
        session,
        actor=manager,
        household_id=member.id or 0,
        data=HouseholdUpdate(payout_account="13900001234"),
    )
    session.commit()
    [sms] = _rows(session, "payout_details_changed")
    assert (sms.channel, sms.address) == ("sms", "13955556666")
    message = render(sms.kind, sms.payload, "en", Context("https://h.example", "Asia/Shanghai"))
    assert "1234" in message.lines[0]
    assert "old@pay.cn" not in sms.payload
