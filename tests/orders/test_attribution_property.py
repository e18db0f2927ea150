"""Property: over random orders spanning cooperatives, random share rules (both fee bearers),
processing fees, partial refunds after settlement and payouts (paid, failed, failed then paid),
the cooperatives' figures add up to the whole ledger's, to the fen, and each cooperative's sales
are exactly what its lines kept.

Each example makes its own cooperatives, households and products through the real services and
runs the order through the API, so examples never share a payable. The example count is modest
(the whole property runs in seconds on SQLite).
"""

import uuid
from collections import defaultdict
from datetime import date
from itertools import count

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import col, select

from governance.disclosures import build_report
from ledger import reports
from ledger.models import Account, Posting
from ledger.payout_models import PayoutBatch, PayoutLine
from orders.models import OrderLine, Payment
from orders.postings import PROCESSING_FEES, post_processing_fee
from tests.catalog import factories

EXAMPLES = 8
THIS_MONTH = date.today().strftime("%Y-%m")
_codes = count(1)


@st.composite
def coop_plans(draw: st.DrawFn) -> dict:
    producers = draw(st.integers(6000, 9500))
    collective = draw(st.integers(0, 10_000 - producers))
    training = draw(st.integers(0, 10_000 - producers - collective))
    return {
        "parts": (producers, collective, training, 10_000 - producers - collective - training),
        "fee_bearer": draw(st.sampled_from(["enterprise", "pro_rata"])),
        "households": draw(st.integers(1, 3)),
        "lines": draw(
            st.lists(st.tuples(st.integers(1, 20_000), st.integers(1, 3)), min_size=1, max_size=2)
        ),
    }


orders = st.fixed_dictionaries(
    {
        "coops": st.lists(coop_plans(), min_size=2, max_size=3),
        "fee": st.integers(0, 600),
        "refund_per_mille": st.one_of(st.none(), st.integers(1, 999)),
        "payouts": st.lists(st.sampled_from(["paid", "failed", "failed_then_paid"]), min_size=3),
    }
)


def _make_coop(client, as_role, session, plan: dict) -> tuple[int, list]:
    letters = "".join(chr(ord("A") + int(d)) for d in str(next(_codes)))
    coop = factories.create_coop(session, code=f"PX{letters}")
    households = [
        factories.create_household(session, coop=coop, name=f"户{i}")
        for i in range(plan["households"])
    ]
    products = []
    for price, quantity in plan["lines"]:
        product = factories.create_product(
            session, coop=coop, household=households[0], price={"amount": price, "currency": "CNY"}
        )
        factories.create_lot(
            session,
            product=product,
            quantity=sum(range(1, len(households) + 1)) * 3,
            contributions=[(h, (i + 1) * 3) for i, h in enumerate(households)],
        )
        products.append((product, quantity))
    session.commit()
    producers, collective, training, enterprise = plan["parts"]
    rule = client.put(
        f"/api/v1/coops/{coop.id}/share-rule",
        json={
            "effective_from": "2026-01-01",
            "parts": {
                "producers": producers,
                "collective_fund": collective,
                "training_fund": training,
                "enterprise": enterprise,
            },
            "fee_bearer": plan["fee_bearer"],
        },
        headers=as_role("staff"),
    )
    assert rule.status_code == 201, rule.text
    assert coop.id is not None
    return coop.id, products


def _settle(client, as_role, place, session, lines, coop_ids, fee: int) -> dict:
    order = place("buyer", lines).json()
    staff = as_role("staff")
    paid = client.post(
        f"/api/v1/orders/{order['id']}/payments/manual",
        json={"amount": order["total"]["amount"], "currency": "CNY", "reference": "T"},
        headers=staff,
    )
    assert paid.status_code == 201, paid.text
    if fee:
        session.rollback()
        payment = session.scalars(select(Payment).where(col(Payment.order_id) == order["id"])).one()
        post_processing_fee(
            session,
            payment_id=payment.id or 0,
            order_id=order["id"],
            provider=payment.provider,
            amount=fee,
            currency="CNY",
            created_by="test",
            on=date.today(),
        )
        session.commit()
    for coop_id in coop_ids:
        shipped = client.post(
            f"/api/v1/orders/{order['id']}/ship",
            json={"carrier": "SF", "tracking_number": "1", "coop_id": coop_id},
            headers=staff,
        )
        assert shipped.status_code == 200, shipped.text
    delivered = client.post(f"/api/v1/orders/{order['id']}/deliver", headers=as_role("buyer"))
    assert delivered.json()["status"] == "settled", delivered.text
    return order


def _pay_out(client, as_role, session, coop_ids, actions) -> None:
    staff = as_role("staff")
    todo = iter(actions * 3)
    for coop_id in coop_ids:
        batch = client.post(
            "/api/v1/payouts/batches",
            json={"coop_id": coop_id, "period": "2026-01", "minimum": 1},
            headers=staff,
        )
        assert batch.status_code == 201, batch.text
        for line in batch.json()["lines"]:
            action = next(todo)
            if action == "paid":
                answer = client.post(
                    f"/api/v1/payouts/lines/{line['id']}/confirm",
                    json={"bank_reference": "B1", "paid_on": date.today().isoformat()},
                    headers=staff,
                )
            else:
                answer = client.post(
                    f"/api/v1/payouts/lines/{line['id']}/fail",
                    json={"reason": "account closed"},
                    headers=staff,
                )
            assert answer.status_code == 200, answer.text
        if "failed_then_paid" in actions:
            again = client.post(
                "/api/v1/payouts/batches",
                json={"coop_id": coop_id, "period": "2026-02", "minimum": 1},
                headers=staff,
            )
            assert again.status_code == 201, again.text
            confirmed = client.post(
                f"/api/v1/payouts/batches/{again.json()['id']}/confirm",
                json={"bank_reference": "B2", "paid_on": date.today().isoformat()},
                headers=staff,
            )
            assert confirmed.status_code == 200, confirmed.text


def _whole(session, account_like: str) -> int:
    """Every posting on the matching accounts, attributed or not (credits negative)."""
    total = session.scalar(
        select(func.coalesce(func.sum(col(Posting.amount)), 0))
        .join(Account, col(Account.id) == col(Posting.account_id))
        .where(col(Account.key).like(account_like))
    )
    return int(total or 0)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=orders)
def test_cooperatives_figures_add_up_to_the_whole(world, client, as_role, place, session, plan):
    made = [_make_coop(client, as_role, session, coop) for coop in plan["coops"]]
    coop_ids = [coop_id for coop_id, _ in made]
    lines = [line for _, products in made for line in products]
    order = _settle(client, as_role, place, session, lines, coop_ids, plan["fee"])
    if plan["refund_per_mille"] is not None:
        amount = max(1, order["total"]["amount"] * plan["refund_per_mille"] // 1000)
        refunded = client.post(
            f"/api/v1/orders/{order['id']}/refunds",
            json={"amount": amount, "currency": "CNY", "reason": "part broken"},
            headers={**as_role("staff"), "Idempotency-Key": uuid.uuid4().hex},
        )
        assert refunded.status_code == 201, refunded.text
    _pay_out(client, as_role, session, coop_ids, plan["payouts"])
    session.rollback()

    # each cooperative's sales are exactly what its lines kept; its parts sum to its sales
    kept: dict[int, int] = defaultdict(int)
    for line in session.scalars(select(OrderLine).where(col(OrderLine.order_id) == order["id"])):
        kept[line.coop_id] += line.line_total - line.refunded_amount
    for coop_id in coop_ids:
        report = reports.coop_report(session, coop_id=coop_id, currency="CNY")
        assert report.sales == kept[coop_id]
        parts = report.producers + report.collective_fund + report.training_fund
        assert parts + report.enterprise + report.other == report.sales
        disclosure = build_report(session, coop_id=coop_id, period=THIS_MONTH, currency="CNY")
        assert disclosure["sales"]["parts"]["enterprise"] == report.enterprise
        assert disclosure["sales"]["parts"]["households"] in (report.producers, None)

        # payouts: paid lines only, a failed-then-paid household once
        batch_ids = select(col(PayoutBatch.id)).where(col(PayoutBatch.coop_id) == coop_id)
        paid_lines = session.scalars(
            select(PayoutLine).where(
                col(PayoutLine.batch_id).in_(batch_ids), col(PayoutLine.status) == "paid"
            )
        ).all()
        failed_lines = session.scalars(
            select(PayoutLine).where(
                col(PayoutLine.batch_id).in_(batch_ids), col(PayoutLine.status) == "failed"
            )
        ).all()
        assert report.payouts == sum(line.amount for line in paid_lines)
        assert report.households_paid == len({line.household_id for line in paid_lines})
        assert report.payouts_failed == sum(line.amount for line in failed_lines)
        assert disclosure["payouts"]["households"] == report.households_paid
        # one household's payout is withheld from the public disclosure
        withheld = report.households_paid == 1
        assert disclosure["payouts"]["total"] == (None if withheld else report.payouts)

    # across every cooperative so far: the parts add up to the whole ledger, to the fen
    every = reports.sale_shares(session, currency="CNY")
    assert all(share.coop_id is not None for share in every)
    enterprise = reports.enterprise_report(session, currency="CNY")
    assert None not in enterprise.service_fees_by_coop
    assert sum(enterprise.service_fees_by_coop.values()) == enterprise.service_fees
    assert enterprise.service_fees == -_whole(session, "income:enterprise%")
    attributed_fees = session.scalar(
        select(func.coalesce(func.sum(col(Posting.amount)), 0))
        .join(Account, col(Account.id) == col(Posting.account_id))
        .where(col(Account.key) == PROCESSING_FEES, col(Posting.coop_id).is_not(None))
    )
    assert int(attributed_fees or 0) == _whole(session, PROCESSING_FEES)
    all_coops = {share.coop_id for share in every}
    total_paid = sum(
        reports.payout_figures(session, coop_id=coop_id, currency="CNY").paid
        for coop_id in all_coops
        if coop_id is not None
    )
    paid_everywhere = session.scalar(
        select(func.coalesce(func.sum(col(PayoutLine.amount)), 0)).where(
            col(PayoutLine.status) == "paid"
        )
    )
    assert total_paid == int(paid_everywhere or 0)
