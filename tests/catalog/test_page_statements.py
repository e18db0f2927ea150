"""The public catalog pages read what they show in a fixed number of statements (issue 19): one
query per page section, never one per lot, certification or product."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

from sqlalchemy import event

from catalog.models import Brand, Certification
from tests.catalog import factories
from tests.frontend.helpers import HTML


@contextmanager
def counted(app: Any) -> Iterator[list[str]]:
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement != "BEGIN":  # SQLite's transaction start, sent by the engine itself
            sent.append(statement)

    event.listen(app.state.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(app.state.engine, "before_cursor_execute", record)


def _branded(session, world) -> Brand:
    brand = Brand(coop_id=world.coop_a.id, name_zh="松江牌", name_en="Songjiang")
    session.add(brand)
    session.flush()
    today = date.today()
    session.add_all(
        [
            Certification(brand_id=brand.id, kind="organic", number="ORG-NOW", valid_from=today),
            Certification(
                brand_id=brand.id,
                kind="green_food",
                number="GF-OLD",
                valid_from=today - timedelta(days=400),
                valid_until=today - timedelta(days=1),
            ),
        ]
    )
    world.active.brand_id = brand.id
    session.add(world.active)
    for n in range(3):  # more lots must not mean more statements
        factories.create_lot(session, product=world.active, quantity=5, code=f"SJ-LOT-10{n}")
    session.commit()
    return brand


def test_product_page_reads_product_owner_lots_photos_certifications_ratings_once(
    app, client, world, session
):
    _branded(session, world)
    client.get(f"/products/{world.active.id}", headers=HTML)  # warm
    with counted(app) as sent:
        page = client.get(f"/products/{world.active.id}", headers=HTML)
    assert page.status_code == 200
    assert "松江牌" in page.text
    assert "SJ合作社" in page.text
    assert "ORG-NOW" in page.text  # in force today
    assert "GF-OLD" not in page.text  # expired yesterday
    assert "SJ-LOT-102" in page.text
    assert len(sent) <= 5, sent
    assert sum("certifications" in s.split("FROM", 1)[-1][:40] for s in sent) == 1


def test_product_page_stock_counts_only_unexpired_lots(app, client, world, session):
    factories.create_lot(
        session,
        product=world.active,
        quantity=7,
        code="SJ-LOT-OLD",
        expires_on=date.today() - timedelta(days=1),
    )
    session.commit()
    api = client.get(f"/api/v1/products/{world.active.id}").json()
    assert api["stock"] == 10  # the lot of 10; the expired lot of 7 is not for sale
    assert {lot["code"] for lot in api["lots"]} == {"SJ-LOT-0001", "SJ-LOT-OLD"}


def test_a_draft_stays_hidden_from_the_public_in_the_one_statement_read(client, world):
    assert client.get(f"/products/{world.draft.id}", headers=HTML).status_code == 404
    assert client.get("/products/999999", headers=HTML).status_code == 404
