"""Governance pages, who may open them, and a privacy crawl of every public page and API answer."""

import re
from collections import deque
from datetime import date
from urllib.parse import urldefrag, urlsplit

import pytest

from catalog.models import Household
from governance.community_models import Consultation
from governance.disclosures import PART_NAMES
from governance.monitoring import run_monitor
from tests.conftest import TEST_PASSWORD
from tests.frontend.helpers import HTML, csrf_token, sign_in
from tests.governance.conftest import SHIPPING, post_sale
from training.income import add_months

THIS_MONTH = date.today().strftime("%Y-%m")
CASE_NOTE = "家访记录：户主腿伤无法劳动 CASE-NOTE-SECRET"
PAYOUT_ACCOUNT = "6222020200001234567"
ANSWER_SECRET = "CONSULTATION-ANSWER-SECRET 我家欠债"
GROUP_NOTE = "GROUP-NOTE-SECRET 李家蜂群生病"
OFF_PLATFORM_SOURCE = "县城打零工 OFF-PLATFORM-SECRET"


def _publish(client, as_role, coop_id, period=THIS_MONTH) -> dict:
    response = client.post(
        "/api/v1/disclosures",
        json={"coop_id": coop_id, "period": period, "provisional": period == THIS_MONTH},
        headers=as_role("staff"),
    )
    assert response.status_code == 201, response.text
    return response.json()


def _web_login(client, user) -> None:
    response = sign_in(client, user.email, TEST_PASSWORD)
    assert response.status_code == 303, response.text


def test_the_disclosure_page_draws_the_split_and_links_downloads_and_verify(
    client, world, as_role, settle_order
):
    settle_order()
    disclosure = _publish(client, as_role, world.coop_a.id)
    page = client.get(f"/disclosures/{disclosure['id']}", headers=HTML)
    assert page.status_code == 200
    assert "<svg" in page.text
    assert page.text.count("<rect") == len(PART_NAMES)  # one bar per part, fees included
    assert "¥68.00" in page.text
    for link in ("/verify", f"/api/v1/disclosures/{disclosure['id']}/csv"):
        assert link in page.text
    index = client.get("/disclosures", headers=HTML)
    assert f"/disclosures/{disclosure['id']}" in index.text
    latest = client.get(f"/disclosures/coops/{world.coop_a.id}/latest", follow_redirects=False)
    assert latest.status_code == 303
    assert latest.headers["location"] == f"/disclosures/{disclosure['id']}"
    none_yet = client.get(f"/disclosures/coops/{world.coop_b.id}/latest", follow_redirects=False)
    assert none_yet.headers["location"] == f"/disclosures?coop={world.coop_b.id}"


def test_the_public_verify_page_says_in_chinese_what_was_recomputed_and_that_it_matches(
    client, world, as_role, session
):
    from ledger.service import close_period

    period, day = _last_month()
    post_sale(session, coop_id=world.coop_a.id, on=day, shares={world.h1.id: 7000}, collective=500)
    close_period(session, period, closed_by="test")
    session.commit()
    disclosure = _publish(client, as_role, world.coop_a.id, period)
    page = client.get(f"/disclosures/{disclosure['id']}", headers=HTML)
    assert f'href="/disclosures/{disclosure["id"]}/verify"' in page.text
    assert "临时版" not in page.text  # final: the month is closed

    verify = client.get(f"/disclosures/{disclosure['id']}/verify", headers=HTML)
    assert verify.status_code == 200
    assert verify.headers["content-type"].startswith("text/html")
    assert "核验一致" in verify.text
    assert "重新计算了什么" in verify.text
    assert "¥75.00" in verify.text  # the sales, recomputed and published
    assert "不公布（保护隐私）" in verify.text  # one household's income is never shown
    assert "¥70.00" not in verify.text
    assert f'href="/api/v1/disclosures/{disclosure["id"]}/verify"' in verify.text
    english = client.get(
        f"/disclosures/{disclosure['id']}/verify", headers={**HTML, "Accept-Language": "en"}
    )
    assert "It matches" in english.text
    assert client.get("/disclosures/999999/verify", headers=HTML).status_code == 404


def test_a_provisional_disclosure_is_labelled_on_every_page_and_its_verify_page_explains(
    client, world, as_role, session
):
    day = date.today()
    post_sale(session, coop_id=world.coop_a.id, on=day, shares={world.h1.id: 7000})
    disclosure = _publish(client, as_role, world.coop_a.id)  # this month: provisional
    assert disclosure["provisional"] is True
    later = post_sale(session, coop_id=world.coop_a.id, on=day, shares={world.h2.id: 3000})
    for url in ("/disclosures", f"/disclosures/{disclosure['id']}"):
        assert "临时版" in client.get(url, headers=HTML).text, url
    verify = client.get(f"/disclosures/{disclosure['id']}/verify", headers=HTML).text
    assert "临时版" in verify
    assert "发布后已有变动" in verify
    assert "账本没有被篡改" in verify
    assert f"#{later}" in verify
    assert '"ok": false' not in verify


def _last_month() -> tuple[str, date]:
    first = date.today().replace(day=1)
    last_day = add_months(first, -1)
    return last_day.strftime("%Y-%m"), last_day.replace(day=15)


@pytest.mark.parametrize(
    ("role", "expected"),
    [(None, 303), ("buyer", 403), ("farmer", 403), ("manager_a", 403), ("staff", 200)],
)
def test_the_staff_pages_are_for_staff_only(client, world, session, role, expected):
    post_sale(
        session,
        coop_id=world.coop_a.id,
        on=add_months(date.today(), -18),
        shares={world.h2.id: 9000},
    )
    run_monitor(session)
    session.commit()
    if role:
        _web_login(client, world.user(role))
    for path in ("/staff", "/staff/alerts", "/staff/alerts/1"):
        page = client.get(path, headers=HTML, follow_redirects=False)
        assert page.status_code == expected, (path, page.text[:300])
        if expected == 303:
            assert page.headers["location"] == f"/login?next={path}"
    if expected == 200:
        dashboard = client.get("/staff", headers=HTML).text
        assert 'href="/staff/alerts"' in dashboard
        assert 'href="/staff/payments"' in dashboard
        # every tile leads to the page where the work is done, and each of those pages opens
        for link in re.findall(r'<li class="tile[^"]*"><a href="([^"]+)"', dashboard):
            assert client.get(link, headers=HTML).status_code == 200, link
        assert 'href="/staff/refund-requests"' in dashboard


def test_staff_write_a_case_note_and_close_an_alert_from_the_page(client, world, session):
    post_sale(
        session,
        coop_id=world.coop_a.id,
        on=add_months(date.today(), -18),
        shares={world.h2.id: 9000},
    )
    run_monitor(session)
    session.commit()
    _web_login(client, world.user("staff"))
    token = csrf_token(client, "/staff/alerts/1")
    noted = client.post(
        "/staff/alerts/1/notes",
        data={"body": "Called the household.", "csrf_token": token},
        headers=HTML,
        follow_redirects=False,
    )
    assert noted.status_code == 303
    refused = client.post(
        "/staff/alerts/1/close", data={"outcome": "x"}, headers=HTML, follow_redirects=False
    )
    assert refused.status_code == 403  # no CSRF token
    closed = client.post(
        "/staff/alerts/1/close",
        data={"outcome": "Recovered", "csrf_token": token},
        headers=HTML,
        follow_redirects=False,
    )
    assert closed.status_code == 303
    page = client.get("/staff/alerts/1", headers=HTML).text
    assert "Called the household." in page
    assert "Recovered" in page


def test_a_member_comments_and_votes_from_the_hearing_page(client, world, as_role):
    hearing = client.post(
        "/api/v1/hearings",
        json={
            "coop_id": world.coop_a.id,
            "parts": {
                "producers": 7500,
                "collective_fund": 1000,
                "training_fund": 1000,
                "enterprise": 500,
            },
            "reason": "Lower the enterprise fee.",
            "effective_from": date.today().isoformat(),
            "comment_until": date.today().isoformat(),
            "vote_until": date.today().isoformat(),
        },
        headers=as_role("staff"),
    ).json()
    _web_login(client, world.user("farmer"))
    url = f"/hearings/{hearing['id']}"
    assert 'name="body"' in client.get(url, headers=HTML).text
    token = csrf_token(client, url)
    said = client.post(f"{url}/comment", data={"body": "支持", "csrf_token": token}, headers=HTML)
    assert said.status_code == 200
    assert world.h1.member_code in said.text
    client.post(f"/api/v1/hearings/{hearing['id']}/start-vote", headers=as_role("staff"))
    voted = client.post(f"{url}/vote", data={"choice": "yes", "csrf_token": token}, headers=HTML)
    assert voted.status_code == 200
    twice = client.post(f"{url}/vote", data={"choice": "no", "csrf_token": token}, headers=HTML)
    assert twice.status_code == 409


# --- The privacy crawl -----------------------------------------------------------------------

SKIP = ("/login", "/logout", "/locale", "/static/", "/docs", "/openapi.json", "/register")
HREF = re.compile(r'(?:href|src|action)="([^"]+)"')


def _seed_everything(client, world, as_role, session, settle_order) -> dict:
    """A seeded instance: sales, payouts details, a disclosure, a hearing, ratings, alerts, notes."""
    for household in (world.h2, world.h3):
        stored = session.get(Household, household.id)
        stored.payout_method = "bank"
        stored.payout_account = PAYOUT_ACCOUNT
        session.add(stored)
    session.commit()
    order = settle_order(quantity=3)
    post_sale(
        session,
        coop_id=world.coop_a.id,
        on=add_months(date.today(), -18),
        shares={world.h2.id: 90_000},
    )
    client.post(
        f"/api/v1/households/{world.h2.id}/off-platform-income",
        json={
            "amount": 1000,
            "received_on": date.today().isoformat(),
            "source": OFF_PLATFORM_SOURCE,
        },
        headers=as_role("staff"),
    )
    client.post("/api/v1/governance/monitoring/run", json={}, headers=as_role("staff"))
    alerts = client.get("/api/v1/governance/alerts", headers=as_role("staff")).json()["items"]
    assert alerts
    client.post(
        f"/api/v1/governance/alerts/{alerts[0]['id']}/notes",
        json={"body": CASE_NOTE},
        headers=as_role("staff"),
    )
    disclosure = _publish(client, as_role, world.coop_a.id)
    hearing = client.post(
        "/api/v1/hearings",
        json={
            "coop_id": world.coop_a.id,
            "parts": {
                "producers": 7500,
                "collective_fund": 1000,
                "training_fund": 1000,
                "enterprise": 500,
            },
            "reason": "Lower the enterprise fee.",
            "effective_from": date.today().isoformat(),
            "comment_until": date.today().isoformat(),
            "vote_until": date.today().isoformat(),
        },
        headers=as_role("staff"),
    ).json()
    for role in ("farmer", "farmer2", "farmer3"):
        client.post(
            f"/api/v1/hearings/{hearing['id']}/comments",
            json={"body": f"comment from {role}"},
            headers=as_role(role),
        )
    client.post(
        f"/api/v1/orders/{order['id']}/lines/{order['lines'][0]['id']}/rating",
        json={"stars": 5, "comment": "Very good"},
        headers=as_role("buyer"),
    )
    consultation = _seed_community(client, world, as_role, session)
    return {
        "disclosure": disclosure,
        "hearing": hearing,
        "order": order,
        "consultation": consultation,
    }


def _seed_community(client, world, as_role, session) -> int:
    """A closed consultation with a household's free answer, and a group session's notes."""
    made = client.post(
        f"/api/v1/coops/{world.coop_a.id}/consultations",
        json={
            "question": "建议？",
            "opens_on": date.today().isoformat(),
            "closes_on": "2099-01-01",
        },
        headers=as_role("manager_a"),
    ).json()
    answer = {"text": ANSWER_SECRET}
    url = f"/api/v1/consultations/{made['id']}/answers"
    assert client.post(url, json=answer, headers=as_role("farmer2")).status_code == 201
    row = session.get(Consultation, made["id"])
    row.opens_on, row.closes_on = date(2026, 1, 1), date(2026, 1, 31)
    session.add(row)
    session.commit()
    group = client.post(
        f"/api/v1/coops/{world.coop_a.id}/groups",
        json={"name": "蜂蜜小组", "household_ids": [world.h2.id]},
        headers=as_role("manager_a"),
    ).json()
    held = {"held_on": date.today().isoformat(), "topic": "会", "notes": GROUP_NOTE}
    sessions = client.post(
        f"/api/v1/groups/{group['id']}/sessions", json=held, headers=as_role("manager_a")
    )
    assert sessions.status_code == 201
    return int(made["id"])


def test_no_public_page_or_api_answer_reveals_private_household_data(
    client, world, as_role, session, settle_order
):
    seeded = _seed_everything(client, world, as_role, session, settle_order)
    secrets = {
        "household name without consent": ["李秘密", "张隐私", "赵不公开"],
        "phone": ["1391111000", SHIPPING["phone"]],
        "payout account": [PAYOUT_ACCOUNT],
        "case note": [CASE_NOTE, "CASE-NOTE-SECRET"],
        "off-platform income": ["OFF-PLATFORM-SECRET"],
        "shipping recipient": [SHIPPING["recipient"]],
        "consultation answer": [ANSWER_SECRET, "CONSULTATION-ANSWER-SECRET"],
        "group notes": [GROUP_NOTE, "GROUP-NOTE-SECRET"],
    }
    client.cookies.clear()  # anonymous from here on
    d_id, h_id = seeded["disclosure"]["id"], seeded["hearing"]["id"]
    start = [
        "/",
        "/products",
        f"/products/{world.honey.id}",
        f"/products/{world.honey.id}/reviews",
        f"/coops/{world.coop_a.id}",
        f"/coops/{world.coop_b.id}",
        f"/l/{world.honey_lot.code}",
        "/disclosures",
        f"/disclosures/{d_id}",
        "/hearings",
        f"/hearings/{h_id}",
        "/api/v1/products",
        f"/api/v1/products/{world.honey.id}",
        f"/api/v1/lots/{world.honey_lot.code}",
        f"/api/v1/products/{world.honey.id}/ratings",
        f"/api/v1/lots/{world.honey_lot.code}/ratings",
        "/api/v1/disclosures",
        f"/api/v1/disclosures/{d_id}",
        f"/api/v1/disclosures/{d_id}/verify",
        f"/api/v1/disclosures/{d_id}/csv",
        "/api/v1/hearings",
        f"/api/v1/hearings/{h_id}",
        "/api/v1/training/programmes",
        f"/coops/{world.coop_a.id}/consultations",
        f"/coops/{world.coop_a.id}/impact",
        f"/consultations/{seeded['consultation']}",
        f"/api/v1/coops/{world.coop_a.id}/consultations",
        f"/api/v1/consultations/{seeded['consultation']}",
        f"/api/v1/coops/{world.coop_a.id}/impact",
    ]
    seen: set[str] = set()
    queue = deque(start)
    ok_pages = 0
    while queue and len(seen) < 300:
        path = queue.popleft()
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path, headers=HTML if not path.startswith("/api/") else {})
        body = response.content.decode("utf-8", errors="replace")
        for what, values in secrets.items():
            for value in values:
                assert value not in body, f"{what} {value!r} leaked on {path}"
        if response.status_code == 200:
            ok_pages += 1
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        for link in HREF.findall(body):
            link = urldefrag(link.replace("&amp;", "&"))[0]
            parts = urlsplit(link)
            if parts.netloc or not link.startswith("/") or link.startswith(SKIP):
                continue
            queue.append(link)
    assert ok_pages >= len(start) - 1
    assert f"/disclosures/{d_id}" in seen
    # the hearing's comments are public, under member codes
    hearing_page = client.get(f"/hearings/{h_id}", headers=HTML).text
    assert world.h2.member_code in hearing_page


@pytest.mark.parametrize("role", ["buyer", "farmer", "manager_a"])
def test_only_staff_run_the_monitoring_from_the_page(client, world, session, role):
    from sqlmodel import func, select

    from governance.models import Alert

    _web_login(client, world.user(role))
    token = csrf_token(client, "/")
    refused = client.post("/staff/alerts/run", data={"csrf_token": token}, headers=HTML)
    assert refused.status_code == 403
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Alert)) == 0


def test_staff_run_the_monitoring_from_the_alerts_page(client, world, session):
    post_sale(
        session,
        coop_id=world.coop_a.id,
        on=add_months(date.today(), -18),
        shares={world.h2.id: 9000},
    )
    session.commit()
    _web_login(client, world.user("staff"))
    page = client.get("/staff/alerts", headers=HTML).text
    assert 'action="/staff/alerts/run"' in page
    assert "/staff/alerts/1" not in page  # nothing checked yet
    token = csrf_token(client, "/staff/alerts")
    ran = client.post("/staff/alerts/run", data={"csrf_token": token}, headers=HTML)
    assert ran.status_code == 200
    assert 'id="monitoring-result"' in ran.text
    assert 'href="/staff/alerts/1"' in ran.text
    again = client.post("/staff/alerts/run", data={"csrf_token": token}, headers=HTML)
    assert again.text.count('href="/staff/alerts/') == ran.text.count('href="/staff/alerts/')


def test_the_staff_dashboard_maps_every_staff_page_and_each_opens(client, world, session):
    _web_login(client, world.user("staff"))
    dashboard = client.get("/staff", headers=HTML).text
    work = dashboard[dashboard.index('class="work-map"') :]
    links = re.findall(r'<a href="(/[^"]+)"', work)
    for expected in ("/staff/ledger", "/staff/reports", "/staff/coops", "/staff/payouts"):
        assert expected in links
    for link in links:
        assert client.get(link, headers=HTML).status_code == 200, link
    assert "工作台" in dashboard
