"""Attribution at the source: an order spanning two cooperatives whose rules give the enterprise
different shares. Each cooperative's figures are sums of its own postings, never apportioned."""

from datetime import date

from sqlmodel import col, select

from ledger.models import Account, JournalEntry, Posting
from ledger.share_rules import ENTERPRISE_INCOME
from tests.catalog import factories
from training.income import add_months, settled_income

THIS_MONTH = date.today().strftime("%Y-%m")


def _rule(client, as_role, coop_id: int, parts: tuple[int, int, int, int]) -> None:
    producers, collective, training, enterprise = parts
    answer = client.put(
        f"/api/v1/coops/{coop_id}/share-rule",
        json={
            "effective_from": "2026-01-01",
            "parts": {
                "producers": producers,
                "collective_fund": collective,
                "training_fund": training,
                "enterprise": enterprise,
            },
            "fee_bearer": "enterprise",
        },
        headers=as_role("staff"),
    )
    assert answer.status_code == 201, answer.text


def _settled_guest_order(client, as_role, place, lines) -> dict:
    order = place("guest", lines).json()
    token = order["access_token"]
    paid = client.post(
        f"/api/v1/orders/{order['id']}/payments/manual",
        json={"amount": order["total"]["amount"], "currency": "CNY", "reference": "ICBC 1"},
        headers=as_role("staff"),
    )
    assert paid.status_code == 201, paid.text
    for coop_id in sorted({product.coop_id for product, _quantity in lines}):
        shipped = client.post(
            f"/api/v1/orders/{order['id']}/ship",
            json={"carrier": "SF", "tracking_number": "SF1", "coop_id": coop_id},
            headers=as_role("staff"),
        )
        assert shipped.status_code == 200, shipped.text
    delivered = client.post(f"/api/v1/orders/{order['id']}/deliver?token={token}")
    assert delivered.json()["status"] == "settled", delivered.text
    return {**order, "token": token}


def test_two_cooperatives_with_different_enterprise_shares_each_get_their_own_figures(
    world, client, as_role, place, session
):
    _rule(client, as_role, world.coop_a.id, (7000, 1000, 1000, 1000))
    _rule(client, as_role, world.coop_b.id, (7000, 1000, 500, 1500))
    jam = factories.create_product(
        session, coop=world.coop_a, household=world.h1, price={"amount": 5000, "currency": "CNY"}
    )
    tea = factories.create_product(
        session, coop=world.coop_b, household=world.h3, price={"amount": 8000, "currency": "CNY"}
    )
    factories.create_lot(session, product=jam, quantity=5, contributions=[(world.h1, 5)])
    factories.create_lot(session, product=tea, quantity=5, contributions=[(world.h3, 5)])
    session.commit()
    order = _settled_guest_order(client, as_role, place, [(jam, 1), (tea, 1)])

    receipt = client.get(f"/api/v1/orders/{order['id']}/receipt?token={order['token']}").json()
    assert {p["party"]: p["amount"] for p in receipt["split"]}["enterprise"] == 1700

    expected = {world.coop_a.id: (5000, 500, 3500), world.coop_b.id: (8000, 1200, 5600)}
    for coop_id, (sales, enterprise, households) in expected.items():
        report = client.get(f"/api/v1/reports/coops/{coop_id}", headers=as_role("staff")).json()
        assert (report["sales"], report["parts"]["enterprise"]) == (sales, enterprise)
        assert report["parts"]["producers"] == households
        disclosure = client.get(
            "/api/v1/disclosures/preview",
            params={"coop_id": coop_id, "period": THIS_MONTH},
            headers=as_role("staff"),
        ).json()
        assert disclosure["sales"]["total"] == sales
        assert disclosure["sales"]["parts"]["enterprise"] == enterprise
        # one household in each: its income is never disclosed (the staff report shows it)
        assert disclosure["sales"]["parts"]["households"] is None

    # the income linkage (training outcomes) reads the same attributed postings, by household
    session.rollback()
    today = date.today()
    income = settled_income(
        session, [world.h1.id, world.h3.id], start=today.replace(day=1), end=add_months(today, 1)
    )
    assert income == {world.h1.id: 3500, world.h3.id: 5600}

    enterprise_report = client.get("/api/v1/reports/enterprise", headers=as_role("staff")).json()
    assert enterprise_report["service_fees"] == 1700
    assert enterprise_report["service_fees_by_coop"] == [
        {"coop_id": world.coop_a.id, "amount": 500},
        {"coop_id": world.coop_b.id, "amount": 1200},
    ]

    # the settlement credits the enterprise once per cooperative, each posting attributed
    session.rollback()
    credits = session.execute(
        select(col(Posting.coop_id), col(Posting.order_line_id), col(Posting.amount))
        .join(Account, col(Account.id) == col(Posting.account_id))
        .where(col(Account.key) == ENTERPRISE_INCOME)
        .order_by(col(Posting.coop_id))
    ).all()
    assert [(c, -a) for c, _line, a in credits] == [(world.coop_a.id, 500), (world.coop_b.id, 1200)]
    assert all(line is not None for _c, line, _a in credits)


def test_migration_0011_attributes_existing_postings_from_the_order_lines(
    world, client, as_role, place, session, database_url
):
    """Down to 0012 (the columns go) and up again: the backfill derives what it can."""
    from alembic import command

    from api.migrations import alembic_config

    single = _settled_guest_order(client, as_role, place, [(world.honey, 2)])
    shared = _settled_guest_order(client, as_role, place, [(world.honey, 1), (world.mushrooms, 1)])
    batch = client.post(
        "/api/v1/payouts/batches",
        json={"coop_id": world.coop_a.id, "period": "2026-11", "minimum": 1},
        headers=as_role("staff"),
    ).json()
    confirmed = client.post(
        f"/api/v1/payouts/batches/{batch['id']}/confirm",
        json={"bank_reference": "ICBC 9", "paid_on": date.today().isoformat()},
        headers=as_role("staff"),
    )
    assert confirmed.status_code == 200, confirmed.text
    session.rollback()

    def snapshot() -> dict[int, tuple]:
        rows = session.execute(
            select(  # type: ignore[call-overload]
                col(Posting.id),
                col(Account.key),
                col(JournalEntry.reference),
                col(Posting.coop_id),
                col(Posting.household_id),
                col(Posting.order_line_id),
            )
            .join(Account, col(Account.id) == col(Posting.account_id))
            .join(JournalEntry, col(JournalEntry.id) == col(Posting.entry_id))
        ).all()
        session.rollback()
        return {row[0]: tuple(row[1:]) for row in rows}

    posted = snapshot()
    session.close()
    session.get_bind().dispose()
    config = alembic_config(database_url)
    command.downgrade(config, "0010")  # the revision before 0011
    command.upgrade(config, "head")
    migrated = snapshot()
    assert migrated.keys() == posted.keys()
    for posting_id, (key, reference, coop, household, line) in posted.items():
        after = migrated[posting_id]
        if reference == f"order:{single['id']}" or not reference.startswith("order:"):
            # one cooperative's order, payouts: everything derived as the posting code wrote it
            assert after == (key, reference, coop, household, line), key
        elif key.startswith(("liabilities:members:", "equity:coops:")):
            # a shared order: the accounts that name their owner
            assert after[2:4] == (coop, household), key
        else:
            # merged across cooperatives before attribution existed: left unattributed
            assert reference == f"order:{shared['id']}"
            assert after[2] is None
