"""The staff page that publishes a disclosure: final for a closed month, provisional for an open
one, a confirmation step saying what becomes public, translated refusals, staff only."""

from datetime import date

import pytest
from sqlmodel import col, select

from governance.models import Disclosure
from ledger.service import close_period
from tests.conftest import TEST_PASSWORD
from tests.frontend.helpers import HTML, csrf_token, sign_in
from tests.governance.conftest import post_sale
from training.income import add_months

PATH = "/staff/disclosures/new"
THIS_MONTH = date.today().strftime("%Y-%m")
LAST_MONTH_DAY = add_months(date.today().replace(day=1), -1).replace(day=15)
LAST_MONTH = LAST_MONTH_DAY.strftime("%Y-%m")
ZH = {**HTML, "Accept-Language": "zh-CN"}


def _staff(client, world, role: str = "staff") -> str:
    response = sign_in(client, world.user(role).email, TEST_PASSWORD)
    assert response.status_code == 303, response.text
    return csrf_token(client, PATH)


def _post(client, token: str, **fields: str):
    return client.post(
        PATH, data={"csrf_token": token, **fields}, headers=ZH, follow_redirects=False
    )


def _published(session) -> list[Disclosure]:
    session.rollback()  # a fresh read: the app committed in its own session
    return list(session.scalars(select(Disclosure).order_by(col(Disclosure.id))).all())


def test_the_dashboard_links_the_page_and_the_form_offers_the_cooperatives(client, world):
    _staff(client, world)
    dashboard = client.get("/staff", headers=ZH).text
    assert f'href="{PATH}"' in dashboard
    form = client.get(PATH, headers=ZH)
    assert form.status_code == 200
    assert f'<option value="{world.coop_a.id}"' in form.text
    assert f'value="{LAST_MONTH}"' in form.text  # last month is proposed
    assert 'name="kind" value="provisional" checked' in form.text  # no month is closed yet


def test_a_final_disclosure_of_a_closed_month_is_confirmed_then_published(client, world, session):
    post_sale(session, coop_id=world.coop_a.id, on=LAST_MONTH_DAY, shares={world.h1.id: 7000})
    close_period(session, LAST_MONTH, closed_by="test")
    session.commit()
    token = _staff(client, world)
    fields = {"coop_id": str(world.coop_a.id), "period": LAST_MONTH, "kind": "final"}

    ask = _post(client, token, **fields)
    assert ask.status_code == 200
    assert 'id="confirm"' in ask.text
    assert "任何人" in ask.text  # says the figures become public to anyone
    assert "最终版" in ask.text
    assert "不公布（保护隐私）" in ask.text  # one household's income stays withheld
    assert 'name="confirmed" value="yes"' in ask.text
    assert _published(session) == []  # nothing is published before the confirmation

    done = _post(client, token, **fields, confirmed="yes")
    assert done.status_code == 303
    (disclosure,) = _published(session)
    assert done.headers["location"] == f"/disclosures/{disclosure.id}"
    assert disclosure.period_closed is True
    assert disclosure.content["sales"]["total"] == 7000
    page = client.get(done.headers["location"], headers=ZH)
    assert "已公布" in page.text  # the notice
    assert "临时版" not in page.text

    again = _post(client, token, **fields, confirmed="yes")
    assert again.status_code == 409
    assert "已经公布" in again.text
    assert len(_published(session)) == 1


def test_a_final_disclosure_of_an_open_month_is_refused_in_chinese_with_the_form_kept(
    client, world, session
):
    token = _staff(client, world)
    refused = _post(
        client,
        token,
        coop_id=str(world.coop_b.id),
        period=THIS_MONTH,
        kind="final",
        confirmed="yes",
    )
    assert refused.status_code == 422
    assert "仍未结账" in refused.text
    assert f'value="{THIS_MONTH}"' in refused.text  # what was typed is still there
    assert f'<option value="{world.coop_b.id}" selected' in refused.text
    assert 'name="kind" value="final" checked' in refused.text
    assert _published(session) == []


def test_an_open_month_is_published_provisional_and_labelled_so(client, world, session):
    post_sale(session, coop_id=world.coop_a.id, on=date.today(), shares={world.h1.id: 5000})
    session.commit()
    token = _staff(client, world)
    fields = {"coop_id": str(world.coop_a.id), "period": THIS_MONTH, "kind": "provisional"}
    ask = _post(client, token, **fields)
    assert ask.status_code == 200
    assert "临时版" in ask.text
    done = _post(client, token, **fields, confirmed="yes")
    assert done.status_code == 303
    (disclosure,) = _published(session)
    assert disclosure.period_closed is False
    assert "临时版" in client.get(done.headers["location"], headers=ZH).text
    csv = client.get(f"/api/v1/disclosures/{disclosure.id}/csv").content.decode("utf-8-sig")
    assert "status,provisional" in csv


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"period": LAST_MONTH, "kind": "provisional"}, "已结账"),  # closed: final only
        ({"period": "2026-13", "kind": "final"}, "YYYY-MM"),
        (
            {"period": add_months(date.today(), 2).strftime("%Y-%m"), "kind": "provisional"},
            "尚未开始",
        ),
        ({"period": LAST_MONTH, "kind": "maybe"}, "最终版或临时版"),
        ({"period": LAST_MONTH, "kind": "final", "coop_id": "999999"}, "合作社"),
    ],
)
def test_other_refusals_are_translated_and_publish_nothing(
    client, world, session, fields, expected
):
    close_period(session, LAST_MONTH, closed_by="test")
    session.commit()
    token = _staff(client, world)
    refused = _post(
        client, token, **{"coop_id": str(world.coop_a.id), **fields, "confirmed": "yes"}
    )
    assert refused.status_code == 422, refused.text[:300]
    assert expected in refused.text
    assert _published(session) == []


@pytest.mark.parametrize("role", ["buyer", "farmer", "manager_a"])
def test_only_staff_may_open_or_post_the_page(client, world, session, role):
    close_period(session, LAST_MONTH, closed_by="test")
    session.commit()
    response = sign_in(client, world.user(role).email, TEST_PASSWORD)
    assert response.status_code == 303
    assert client.get(PATH, headers=ZH).status_code == 403
    token = csrf_token(client, "/")
    posted = _post(
        client,
        token,
        coop_id=str(world.coop_a.id),
        period=LAST_MONTH,
        kind="final",
        confirmed="yes",
    )
    assert posted.status_code == 403
    assert _published(session) == []


def test_a_visitor_is_sent_to_sign_in(client, world):
    response = client.get(PATH, headers=ZH, follow_redirects=False)
    assert response.status_code in (302, 303)
    assert "/login" in response.headers["location"]
