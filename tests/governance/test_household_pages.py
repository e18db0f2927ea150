"""A household's page: its cooperative's manager (or staff) edits status, phone and consent; staff
record off-platform income after confirming; everyone else is refused."""

from datetime import date, timedelta

import pytest

from catalog.models import Household
from governance.models import OffPlatformIncome
from tests.conftest import TEST_PASSWORD
from tests.frontend.helpers import HTML, csrf_token, sign_in


def _login(client, user, household_id: int) -> str:
    assert sign_in(client, user.email, TEST_PASSWORD).status_code == 303
    return csrf_token(client, "/me")


def _household(session, household_id: int) -> Household:
    session.rollback()
    found = session.get(Household, household_id)
    assert found is not None
    session.refresh(found)
    return found


def _income(session) -> list[OffPlatformIncome]:
    session.rollback()
    return list(session.query(OffPlatformIncome).all())


def test_the_manager_edits_status_phone_and_consent(client, world, session):
    url = f"/manage/households/{world.h2.id}"
    token = _login(client, world.user("manager_a"), world.h2.id)
    page = client.get(url, headers=HTML)
    assert page.status_code == 200
    assert "修改农户信息" in page.text
    assert "平台外收入" not in page.text  # off-platform income is staff's
    saved = client.post(
        url,
        data={
            "csrf_token": token,
            "status": "left",
            "phone": "139 1111 0099",
            "public_name_consent": "yes",
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert saved.status_code == 303
    household = _household(session, world.h2.id)
    assert household.status == "left"
    assert household.phone == "139 1111 0099"
    assert household.public_name_consent is True
    assert "农户信息已保存" in client.get(saved.headers["location"], headers=HTML).text

    refused = client.post(
        url,
        data={"csrf_token": token, "status": "active", "phone": "call me maybe"},
        headers=HTML,
    )
    assert refused.status_code == 422
    assert 'value="call me maybe"' in refused.text  # what was typed stays
    assert "请输入电话号码" in refused.text
    assert "String should" not in refused.text
    assert _household(session, world.h2.id).phone == "139 1111 0099"


@pytest.mark.parametrize("role", ["manager_b", "farmer", "buyer"])
def test_others_may_not_open_or_edit_a_household(client, world, session, role):
    url = f"/manage/households/{world.h2.id}"
    token = _login(client, world.user(role), world.h2.id)
    assert client.get(url, headers=HTML).status_code in (403, 404)
    refused = client.post(
        url, data={"csrf_token": token, "status": "left", "phone": ""}, headers=HTML
    )
    assert refused.status_code in (403, 404)
    assert _household(session, world.h2.id).status == "active"


def test_a_visitor_is_sent_to_sign_in(client, world):
    response = client.get(f"/manage/households/{world.h2.id}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


def test_staff_record_off_platform_income_in_yuan_after_confirming(client, world, session):
    url = f"/manage/households/{world.h3.id}"
    token = _login(client, world.user("staff"), world.h3.id)
    assert "平台外收入" in client.get(url, headers=HTML).text
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    form = {
        "csrf_token": token,
        "amount": "1,280.50",
        "received_on": yesterday,
        "source": "县城打零工",
        "note": "",
    }
    asked = client.post(f"{url}/income", data=form, headers=HTML)
    assert asked.status_code == 200
    assert 'name="confirmed" value="yes"' in asked.text
    assert "¥1,280.50" in asked.text
    assert _income(session) == []
    recorded = client.post(
        f"{url}/income", data={**form, "confirmed": "yes"}, headers=HTML, follow_redirects=False
    )
    assert recorded.status_code == 303
    (income,) = _income(session)
    assert income.amount == 128050  # fen, from yuan typed with a comma
    assert income.household_id == world.h3.id
    page = client.get(recorded.headers["location"], headers=HTML).text
    assert "收入已记录" in page
    assert "县城打零工" in page

    future = (date.today() + timedelta(days=3)).isoformat()
    wrong = client.post(
        f"{url}/income",
        data={**form, "amount": "八百", "received_on": future, "source": "卖鸡蛋"},
        headers=HTML,
    )
    assert wrong.status_code == 422
    assert 'value="八百"' in wrong.text
    assert 'value="卖鸡蛋"' in wrong.text
    assert "请输入大于 0 的金额" in wrong.text
    assert "日期不能晚于今天" in wrong.text
    assert len(_income(session)) == 1


def test_a_manager_may_not_record_income(client, world, session):
    token = _login(client, world.user("manager_a"), world.h3.id)
    refused = client.post(
        f"/manage/households/{world.h3.id}/income",
        data={
            "csrf_token": token,
            "amount": "800",
            "received_on": date.today().isoformat(),
            "source": "x",
            "confirmed": "yes",
        },
        headers=HTML,
    )
    assert refused.status_code == 403
    assert _income(session) == []


def test_an_auditor_reads_the_household_page_but_writes_nothing(client, world, session, make_user):
    from api.models import Role

    auditor = make_user(Role.auditor)
    assert sign_in(client, auditor.email, TEST_PASSWORD).status_code == 303
    url = f"/manage/households/{world.h2.id}"
    page = client.get(url, headers=HTML)
    assert page.status_code == 200
    assert f'action="{url}"' not in page.text  # no edit form
    assert f'action="{url}/income"' not in page.text
    token = csrf_token(client, "/me")
    refused = client.post(
        url, data={"csrf_token": token, "status": "left", "phone": ""}, headers=HTML
    )
    assert refused.status_code == 403
    assert _household(session, world.h2.id).status == "active"
