"""Manual payments accept an Idempotency-Key: same key and body → the original payment; else 409."""

from sqlmodel import col, func, select

from ledger.models import JournalEntry
from ledger.service import trial_balance
from orders.models import WebhookEvent


def _pay(client, headers, order_id, body, key=None):
    extra = {"Idempotency-Key": key} if key is not None else {}
    return client.post(
        f"/api/v1/orders/{order_id}/payments/manual", json=body, headers={**headers, **extra}
    )


def _payment_entries(session, order_id):
    session.rollback()
    return session.scalars(
        select(JournalEntry).where(
            col(JournalEntry.reference) == f"order:{order_id}", col(JournalEntry.kind) == "payment"
        )
    ).all()


def test_a_retried_payment_is_recorded_once(world, client, as_role, place, session):
    order = place("guest", [(world.honey, 1)]).json()
    body = {"amount": 6800, "currency": "CNY", "reference": "ICBC 0042"}
    first = _pay(client, as_role("staff"), order["id"], body, key="bank-0042")
    assert first.status_code == 201, first.text
    again = _pay(client, as_role("staff"), order["id"], body, key="bank-0042")
    assert again.status_code == 200, again.text  # the order is paid now, yet the retry is fine
    assert again.json()["id"] == first.json()["id"]
    state = client.get(f"/api/v1/orders/{order['id']}?token={order['access_token']}").json()
    assert state["paid"] == {"amount": 6800, "currency": "CNY"}
    assert len(_payment_entries(session, order["id"])) == 1
    assert session.scalar(select(func.count()).select_from(WebhookEvent)) == 0  # not an inbox row
    for total in trial_balance(session).totals:
        assert total.debits == total.credits


def test_the_same_key_with_another_body_is_409_and_nothing_changes(
    world, client, as_role, place, session
):
    order = place("buyer", [(world.honey, 2)]).json()
    first = _pay(
        client, as_role("manager_a"), order["id"], {"amount": 5000, "currency": "CNY"}, key="k1"
    )
    assert first.status_code == 201
    other = _pay(
        client, as_role("manager_a"), order["id"], {"amount": 6000, "currency": "CNY"}, key="k1"
    )
    assert other.status_code == 409
    assert other.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    state = client.get(f"/api/v1/orders/{order['id']}", headers=as_role("buyer")).json()
    assert state["paid"]["amount"] == 5000
    assert state["payment_status"] == "partially_paid"
    # a new key is a new payment
    rest = _pay(
        client, as_role("manager_a"), order["id"], {"amount": 8600, "currency": "CNY"}, key="k2"
    )
    assert rest.status_code == 201
    assert len(_payment_entries(session, order["id"])) == 2


def test_keys_are_per_order_and_optional(world, client, as_role, place):
    a = place("buyer", [(world.honey, 1)]).json()
    b = place("buyer", [(world.honey, 1)]).json()
    body = {"amount": 6800, "currency": "CNY"}
    assert _pay(client, as_role("staff"), a["id"], body, key="same").status_code == 201
    assert _pay(client, as_role("staff"), b["id"], body, key="same").status_code == 201
    c = place("buyer", [(world.mushrooms, 1)]).json()
    no_key = _pay(client, as_role("staff"), c["id"], {"amount": 4500, "currency": "CNY"})
    assert no_key.status_code == 201


def test_a_bad_key_is_422_and_a_refused_actor_learns_nothing(world, client, as_role, place):
    order = place("buyer", [(world.honey, 1)]).json()
    body = {"amount": 6800, "currency": "CNY"}
    bad = _pay(client, as_role("staff"), order["id"], body, key="x" * 256)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert _pay(client, as_role("staff"), order["id"], body, key="ok").status_code == 201
    # the other cooperative's manager replaying the key is refused, not answered
    replay = _pay(client, as_role("manager_b"), order["id"], body, key="ok")
    assert replay.status_code == 403


def test_two_requests_racing_with_one_key_record_one_payment(world, live_server, as_role, place):
    import threading

    import httpx

    order = place("guest", [(world.honey, 1)]).json()
    headers = {**as_role("staff"), "Idempotency-Key": "bank-race"}
    body = {"amount": 6800, "currency": "CNY", "reference": "ICBC 0099"}
    start = threading.Barrier(4)
    answers: list[httpx.Response] = []

    def pay() -> None:
        start.wait()
        answers.append(
            httpx.post(
                f"{live_server}/api/v1/orders/{order['id']}/payments/manual",
                json=body,
                headers=headers,
                timeout=30,
            )
        )

    threads = [threading.Thread(target=pay) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status_code for r in answers) == [200, 200, 200, 201], [r.text for r in answers]
    assert len({r.json()["id"] for r in answers}) == 1


def test_a_duplicate_that_loses_the_insert_answers_with_the_original(
    world, place, session, engine, monkeypatch
):
    """Two requests both read "no payment under this key" before either inserts: the second
    insert hits the unique (order, key) index and answers with the first payment, not a 500."""
    from api.database import create_session_factory
    from core.actor import Actor
    from orders import payments
    from orders.models import Payment

    order = place("guest", [(world.honey, 1)]).json()
    staff = world.user("staff")
    actor = Actor(user_id=staff.id, role=staff.role)
    factory = create_session_factory(engine)
    pay = {"order_id": order["id"], "amount": 3000, "currency": "CNY", "reference": "ICBC 1"}
    with factory() as first_session:
        first, created = payments.record_manual_payment(
            first_session, **pay, actor=actor, idempotency_key="race"
        )
        first_session.commit()
        assert created
        first_id = first.id

    real_replay = payments._manual_replay
    calls: list[int] = []

    def stale_first_read(*args, **kwargs):
        calls.append(1)
        return None if len(calls) == 1 else real_replay(*args, **kwargs)

    monkeypatch.setattr(payments, "_manual_replay", stale_first_read)
    with factory() as second_session:
        second, created = payments.record_manual_payment(
            second_session, **pay, actor=actor, idempotency_key="race"
        )
        assert (second.id, created) == (first_id, False)
        assert len(calls) == 2  # the stale read, then the re-read after the unique violation
        second_session.commit()
    session.rollback()
    keyed = session.scalars(
        select(Payment).where(
            col(Payment.order_id) == order["id"], col(Payment.idempotency_key) == "race"
        )
    ).all()
    assert [p.id for p in keyed] == [first_id]
    assert len(_payment_entries(session, order["id"])) == 1
