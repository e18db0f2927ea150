"""Disclosures: built from the ledger, published once, immutable, verifiable by anyone."""

from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import col, select

from core.errors import DomainError
from governance.disclosures import month_of
from ledger.service import close_period
from ledger.share_rules import SHARE_PARTS
from tests.governance.conftest import post_sale

THIS_MONTH = date.today().strftime("%Y-%m")


def _last_month() -> tuple[str, date]:
    first = month_of(THIS_MONTH).first
    previous = date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 10)
    return previous.strftime("%Y-%m"), previous


def _publish(client, as_role, coop_id, period, role="staff", provisional=None):
    """This month (still open) as provisional, another month as final, unless told."""
    provisional = period == THIS_MONTH if provisional is None else provisional
    return client.post(
        "/api/v1/disclosures",
        json={"coop_id": coop_id, "period": period, "currency": "CNY", "provisional": provisional},
        headers=as_role(role),
    )


def test_a_settled_order_is_disclosed_split_by_part_and_verifies(
    client, world, as_role, settle_order
):
    order = settle_order(quantity=2)  # 2 × 6800 by the default rule 70/10/10/10
    published = _publish(client, as_role, world.coop_a.id, THIS_MONTH)
    assert published.status_code == 201, published.text
    body = published.json()
    report = body["content"]
    parts = report["sales"]["parts"]
    assert report["sales"]["total"] == order["total"]["amount"] == 13600
    assert parts == {
        **{part.key: 0 for part in SHARE_PARTS if part.may_omit},  # parts added later
        "households": 9520,
        "collective_fund": 1360,
        "training_fund": 1360,
        "enterprise": 1360,
        "fees": 0,
    }
    # three households share 9520 by 20:20:10 → 3808, 3808, 1904
    assert report["households"]["paid"] == 3
    # fewer households than HEZUO_DISCLOSURE_MIN_GROUP (5): their sum, no quantiles or extremes
    assert report["households"]["total"] == 9520
    assert report["households"]["quantiles"] is None
    assert body["provisional"] is True
    assert report["funds"]["collective_fund"]["closing"] == 1360
    assert body["seal"]["block_id"] is not None
    assert len(body["seal"]["hash"]) == 64
    assert body["period_closed"] is False

    verified = client.get(f"/api/v1/disclosures/{body['id']}/verify")
    assert verified.status_code == 200
    assert verified.json()["ok"] is True
    assert verified.json()["matches"] is True
    assert verified.json()["differences"] == []

    # the other cooperative sold nothing this month
    other = _publish(client, as_role, world.coop_b.id, THIS_MONTH).json()["content"]
    assert other["sales"]["total"] == 0
    assert other["households"] == {
        "paid": 0,
        "total": 0,
        "quantiles": None,
        "suppressed": False,
        "min_group": 5,
    }


def test_after_the_period_is_closed_a_back_dated_adjustment_is_refused_and_it_still_verifies(
    client, world, as_role, session
):
    period, day = _last_month()
    post_sale(
        session,
        coop_id=world.coop_a.id,
        on=day,
        shares={world.h1.id: 7000},
        collective=1000,
        training=1000,
        enterprise=1000,
    )
    close_period(session, period, closed_by="test")
    session.commit()
    published = _publish(client, as_role, world.coop_a.id, period)
    assert published.status_code == 201, published.text
    assert published.json()["period_closed"] is True
    # fewer than three households paid: no quantiles (each would be one household's income)
    assert published.json()["content"]["households"]["quantiles"] is None
    assert published.json()["content"]["households"]["suppressed"] is True

    with pytest.raises((DomainError, IntegrityError, DBAPIError)):
        post_sale(session, coop_id=world.coop_a.id, on=day, shares={world.h2.id: 500})
    session.rollback()
    refused = client.post(
        "/api/v1/ledger/entries",
        json={
            "kind": "adjustment",
            "effective_date": day.isoformat(),
            "memo": "back-dated",
            "postings": [
                {
                    "account": f"liabilities:members:{world.h2.id}:payable",
                    "side": "credit",
                    "amount": 500,
                    "currency": "CNY",
                },
                {
                    "account": "liabilities:buyers:deposits",
                    "side": "debit",
                    "amount": 500,
                    "currency": "CNY",
                },
            ],
        },
        headers={**as_role("staff"), "Idempotency-Key": "back-dated-1"},
    )
    assert refused.status_code in (409, 422), refused.text

    verified = client.get(f"/api/v1/disclosures/{published.json()['id']}/verify").json()
    assert verified["ok"] is True
    assert verified["matches"] is True
    assert verified["period_closed"] is True


def test_an_entry_posted_into_an_open_month_after_publishing_is_explained_by_verify(
    client, world, as_role, session
):
    period, day = _last_month()
    post_sale(session, coop_id=world.coop_a.id, on=day, shares={world.h1.id: 7000}, collective=500)
    # an open month: final is refused, provisional is labelled so
    refused = _publish(client, as_role, world.coop_a.id, period, provisional=False)
    assert refused.status_code == 422, refused.text
    assert "provisional" in refused.json()["detail"]
    disclosure = _publish(client, as_role, world.coop_a.id, period, provisional=True).json()
    assert (disclosure["period_closed"], disclosure["provisional"]) == (False, True)
    later = post_sale(session, coop_id=world.coop_a.id, on=day, shares={world.h2.id: 3000})

    verified = client.get(f"/api/v1/disclosures/{disclosure['id']}/verify").json()
    assert verified["ok"] is False
    assert verified["matches"] is False
    assert verified["status"] == "changed_after_publication"
    assert verified["stored_hash_ok"] is True  # the published row itself is intact
    changed = {d["field"]: (d["published"], d["recomputed"]) for d in verified["differences"]}
    assert changed["sales.total"] == (7500, 10500)
    # one household's income is never published; with two it is their sum
    assert changed["sales.parts.households"] == (None, 10000)
    assert changed["households.paid"] == (1, 2)
    assert [e["entry_id"] for e in verified["entries_after_publication"]] == [later]
    words = verified["explanation"]
    assert "provisional" in words
    assert "sales.total: published 7500, now 10500" in words
    assert f"entry {later} (sale" in words
    # the published figures themselves never change
    again = client.get(f"/api/v1/disclosures/{disclosure['id']}").json()
    assert again["content"]["sales"]["total"] == 7500
    csv_text = client.get(f"/api/v1/disclosures/{disclosure['id']}/csv").content.decode("utf-8-sig")
    assert f"{world.coop_a.id},{period},CNY,disclosure,status,provisional" in csv_text


def test_a_closed_month_is_published_final_and_not_as_provisional(client, world, as_role, session):
    period, day = _last_month()
    post_sale(session, coop_id=world.coop_a.id, on=day, shares={world.h1.id: 7000})
    close_period(session, period, closed_by="test")
    session.commit()
    refused = _publish(client, as_role, world.coop_a.id, period, provisional=True)
    assert refused.status_code == 422, refused.text
    final = _publish(client, as_role, world.coop_a.id, period)
    assert final.status_code == 201, final.text
    assert (final.json()["period_closed"], final.json()["provisional"]) == (True, False)
    verified = client.get(f"/api/v1/disclosures/{final.json()['id']}/verify").json()
    assert (verified["ok"], verified["status"]) == (True, "matches")
    assert "exactly the published ones" in verified["explanation"]
    csv_text = client.get(f"/api/v1/disclosures/{final.json()['id']}/csv").content.decode(
        "utf-8-sig"
    )
    assert ",disclosure,status,final" in csv_text


def test_household_income_is_disclosed_only_for_groups_of_the_minimum_size(
    client, world, as_role, session
):
    from governance.disclosures import build_report

    period, day = _last_month()
    post_sale(session, coop_id=world.coop_a.id, on=day, shares={world.h1.id: 7000}, training=100)
    alone = build_report(session, coop_id=world.coop_a.id, period=period, currency="CNY")
    # one household: no figure equals its income (its total, its part of the sales)
    assert alone["households"]["paid"] == 1
    assert alone["households"]["total"] is None
    assert alone["sales"]["parts"]["households"] is None
    assert alone["households"]["quantiles"] is None
    assert 7000 not in _numbers(alone)
    post_sale(
        session, coop_id=world.coop_a.id, on=day, shares={world.h2.id: 3000, world.h3.id: 900}
    )
    three = build_report(session, coop_id=world.coop_a.id, period=period, currency="CNY")
    # three households below the default minimum of five: a sum, but no quantiles or extremes
    assert three["households"]["total"] == 10900
    assert three["households"]["quantiles"] is None
    assert three["households"]["suppressed"] is True
    assert not {7000, 3000, 900} & _numbers(three)
    # with a minimum of three, the same month shows them
    shown = build_report(
        session, coop_id=world.coop_a.id, period=period, currency="CNY", min_group=3
    )
    assert shown["households"]["quantiles"]["min"] == 900
    assert shown["households"]["quantiles"]["max"] == 7000
    assert shown["households"]["min_group"] == 3


def _numbers(report: dict) -> set[int]:
    found: set[int] = set()

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, int) and not isinstance(value, bool):
            found.add(value)

    walk({k: v for k, v in report.items() if k not in ("coop_id", "entries")})
    return found


def test_a_published_disclosure_cannot_be_changed_or_deleted_in_the_database(
    client, world, as_role, session
):
    disclosure = _publish(client, as_role, world.coop_a.id, THIS_MONTH).json()
    for statement in (
        "UPDATE governance_disclosures SET content_hash = 'x' WHERE id = :id",
        "DELETE FROM governance_disclosures WHERE id = :id",
    ):
        with pytest.raises(DBAPIError):
            session.execute(text(statement), {"id": disclosure["id"]})
        session.rollback()
    assert client.get(f"/api/v1/disclosures/{disclosure['id']}/verify").json()["ok"] is True


def test_publishing_twice_bad_months_and_unknown_coops_are_refused(client, world, as_role):
    assert _publish(client, as_role, world.coop_a.id, THIS_MONTH).status_code == 201
    again = _publish(client, as_role, world.coop_a.id, THIS_MONTH)
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert _publish(client, as_role, world.coop_a.id, "2026-13").status_code == 422
    assert _publish(client, as_role, world.coop_a.id, "2999-01").status_code == 422
    assert _publish(client, as_role, 99999, THIS_MONTH).status_code == 404
    assert client.get("/api/v1/disclosures/99999").status_code == 404


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 401),
        ("buyer", 403),
        ("farmer", 403),
        ("manager_a", 403),
        ("staff", 201),
        ("admin", 201),
    ],
)
def test_only_staff_publish_and_preview(client, world, as_role, role, expected):
    assert _publish(client, as_role, world.coop_a.id, THIS_MONTH, role).status_code == expected
    preview = client.get(
        f"/api/v1/disclosures/preview?coop_id={world.coop_a.id}&period={THIS_MONTH}",
        headers=as_role(role),
    )
    assert preview.status_code == (200 if expected == 201 else expected)


def test_anyone_lists_reads_verifies_and_downloads(client, world, as_role, settle_order):
    settle_order()
    disclosure = _publish(client, as_role, world.coop_a.id, THIS_MONTH).json()
    listed = client.get(f"/api/v1/disclosures?coop_id={world.coop_a.id}").json()
    assert [d["id"] for d in listed["items"]] == [disclosure["id"]]
    assert listed["next_cursor"] is None
    csv = client.get(f"/api/v1/disclosures/{disclosure['id']}/csv")
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    text_body = csv.content.decode("utf-8-sig")
    assert "sales,total,6800" in text_body
    assert "households,paid,3" in text_body


def test_processing_fees_on_the_cooperative_s_orders_are_disclosed(
    client, world, as_role, settle_order, session
):
    from orders.models import Payment
    from orders.postings import post_processing_fee

    order = settle_order()
    payment = session.scalars(select(Payment).where(col(Payment.order_id) == order["id"])).one()
    # posted by the payment code, which attributes the fee to the order's lines
    post_processing_fee(
        session,
        payment_id=payment.id or 0,
        order_id=order["id"],
        provider=payment.provider,
        amount=204,
        currency="CNY",
        created_by="test",
        on=date.today(),
    )
    session.commit()
    report = _publish(client, as_role, world.coop_a.id, THIS_MONTH).json()["content"]
    assert report["sales"]["parts"]["fees"] == 204
    other = _publish(client, as_role, world.coop_b.id, THIS_MONTH).json()["content"]
    assert other["sales"]["parts"]["fees"] == 0
