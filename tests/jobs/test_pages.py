"""The staff jobs page: last run, result, next run, failures; "run now" for staff only."""

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlmodel import col

from api.jobs.models import JobRun
from ledger.base import utcnow
from tests.conftest import TEST_PASSWORD
from tests.frontend.helpers import HTML, csrf_token, sign_in


def _signed_in(client, make_user, role: str) -> None:
    user = make_user(role)
    assert sign_in(client, user.email, TEST_PASSWORD).status_code == 303


def _runs(session, job: str) -> list[JobRun]:
    session.rollback()
    return list(session.scalars(select(JobRun).where(col(JobRun.job) == job)))


def test_staff_see_every_job_and_run_one_now(client, make_user, session):
    session.add(
        JobRun(
            job="ledger-seal",
            tick=utcnow() - timedelta(hours=2),
            run_trigger="schedule",
            status="failed",
            attempts=3,
            worker="host:1",
            error="OperationalError: server closed the connection",
            started_at=utcnow() - timedelta(hours=2),
            finished_at=utcnow() - timedelta(hours=2),
        )
    )
    session.commit()
    _signed_in(client, make_user, "staff")

    page = client.get("/staff/jobs", headers=HTML)
    assert page.status_code == 200
    for name in ("orders-expire", "orders-auto-deliver", "ledger-seal", "governance-monitor"):
        assert f'id="job-{name}"' in page.text
    seal = page.text.split('id="job-ledger-seal"')[1].split("</section>")[0]
    assert "server closed the connection" in seal
    assert '<dd class="failures">1</dd>' in seal
    assert "Failed" in seal or "失败" in seal
    assert "UTC" not in page.text

    token = csrf_token(client, "/staff/jobs")
    done = client.post(
        "/staff/jobs/orders-expire/run",
        data={"csrf_token": token},
        headers=HTML,
        follow_redirects=False,
    )
    assert done.status_code == 303
    [run] = _runs(session, "orders-expire")
    assert (run.run_trigger, run.status, run.result) == (
        "manual",
        "succeeded",
        "expired 0 order(s)",
    )
    assert run.requested_by.startswith("staff-")
    after = client.get(done.headers["location"], headers=HTML)
    assert (
        "expired 0 order(s)" in after.text.split('id="job-orders-expire"')[1].split("</section>")[0]
    )


@pytest.mark.parametrize("role", ["buyer", "farmer", "manager"])
def test_other_roles_are_refused(client, make_user, session, role):
    _signed_in(client, make_user, role)
    assert client.get("/staff/jobs", headers=HTML).status_code == 403
    token = csrf_token(client, "/me")
    refused = client.post("/staff/jobs/orders-expire/run", data={"csrf_token": token}, headers=HTML)
    assert refused.status_code == 403
    assert _runs(session, "orders-expire") == []


def test_visitors_are_sent_to_sign_in_and_forms_need_their_token(client, make_user, session):
    page = client.get("/staff/jobs", headers=HTML, follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login")
    _signed_in(client, make_user, "admin")
    forged = client.post("/staff/jobs/orders-expire/run", data={}, headers=HTML)
    assert forged.status_code == 403
    assert _runs(session, "orders-expire") == []
    token = csrf_token(client, "/staff/jobs")
    missing = client.post("/staff/jobs/orders-vanish/run", data={"csrf_token": token}, headers=HTML)
    assert missing.status_code == 404
