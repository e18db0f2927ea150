"""A household repaying its training seat by deduction: delivering an order settles it, and the
settlement's own transaction deducts the capped share (wired by the composition root)."""

from datetime import date, timedelta

from core.actor import Actor
from ledger.service import balance
from ledger.share_rules import member_payable_key, training_fund_key
from tests.training.conftest import fund_coop
from training import enrolments, service
from training.schemas import EnrolmentCreate, ProgrammeCreate, ProviderCreate

STAFF = Actor(user_id=0, role="staff")


def seat_repaid_by_deduction(session, world, *, seat: int, cap_bps: int) -> tuple[int, int]:
    """h1 accepted into a coop-fund programme, repaying its seat by deduction; (enrolment, provider)."""
    fund_coop(session, world.coop_a.id, 100_000)
    provider = service.create_provider(session, actor=STAFF, data=ProviderCreate(name="农广校"))
    start = date.today() + timedelta(days=30)
    programme = service.create_programme(
        session,
        actor=STAFF,
        data=ProgrammeCreate.model_validate(
            {
                "provider_id": provider.id,
                "title": {"zh": "养蜂培训", "en": "Bee-keeping"},
                "skill_area": "beekeeping",
                "sessions": [{"date": start.isoformat(), "place": "村委会"}],
                "capacity": 5,
                "seat_cost": {"amount": seat, "currency": "CNY"},
                "funding": {"source": "coop_fund"},
                "deduction_cap_bps": cap_bps,
                "status": "open",
            }
        ),
    )
    enrolment = enrolments.apply(
        session,
        actor=STAFF,
        programme_id=programme.id,
        data=EnrolmentCreate(household_id=world.h1.id, repayment="deduction"),
    )
    enrolments.accept(session, actor=STAFF, enrolment_id=enrolment.id)
    session.commit()
    assert enrolment.id is not None
    assert provider.id is not None
    return enrolment.id, provider.id


def test_delivery_settles_and_deducts_tuition_in_the_same_transaction(
    world, client, as_role, place, session
):
    seat_repaid_by_deduction(session, world, seat=500, cap_bps=1000)
    fund = training_fund_key(world.coop_a.id)
    payable = member_payable_key(world.h1.id)
    fund_before = balance(session, fund).amount
    session.rollback()

    order = place("buyer", [(world.honey, 1)]).json()  # 6800, lot from h1 (6) and h2 (4)
    staff = as_role("staff")
    assert (
        client.post(
            f"/api/v1/orders/{order['id']}/payments/manual",
            json={"amount": 6800, "currency": "CNY", "reference": "T1"},
            headers=staff,
        ).status_code
        == 201
    )
    ship = {"carrier": "SF", "tracking_number": "SF1"}
    assert (
        client.post(
            f"/api/v1/orders/{order['id']}/ship", json=ship, headers=as_role("manager_a")
        ).status_code
        == 200
    )
    delivered = client.post(f"/api/v1/orders/{order['id']}/deliver", headers=as_role("buyer"))
    assert delivered.status_code == 200, delivered.text

    session.expire_all()
    receipt = client.get(f"/api/v1/orders/{order['id']}/receipt", headers=as_role("buyer")).json()
    h1_share = sum(
        part["amount"]
        for part in receipt["split"]
        if part["party"] == f"household:{world.h1.member_code}"
    )
    assert h1_share > 0
    deduction = min(h1_share * 1000 // 10_000, 500)
    assert balance(session, payable).amount == h1_share - deduction
    # The fund got back what the member repaid (training fund part of the sale comes on top).
    training_part = sum(
        part["amount"] for part in receipt["split"] if part["party"].startswith("fund:training")
    )
    assert balance(session, fund).amount == fund_before + training_part + deduction
