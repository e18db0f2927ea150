"""Issue 15, Low: off-platform income dated in the year 0940 is refused (before: accepted)."""

import pytest
from sqlmodel import func, select

from governance.models import OffPlatformIncome


@pytest.mark.parametrize("received_on", ["0940-06-01", "0001-01-01", "1999-12-31"])
def test_income_dated_in_an_implausible_year_is_refused(
    client, world, as_role, session, received_on: str
) -> None:
    answer = client.post(
        f"/api/v1/households/{world.h1.id}/off-platform-income",
        json={
            "amount": 40_000,
            "currency": "CNY",
            "received_on": received_on,
            "source": "seasonal work",
        },
        headers=as_role("staff"),
    )
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["errors"][0]["loc"] == ["body", "received_on"]
    session.rollback()
    assert session.exec(select(func.count()).select_from(OffPlatformIncome)).one() == 0


def test_income_of_a_plausible_past_day_is_still_recorded(client, world, as_role) -> None:
    answer = client.post(
        f"/api/v1/households/{world.h1.id}/off-platform-income",
        json={
            "amount": 40_000,
            "currency": "CNY",
            "received_on": "2026-10-01",
            "source": "seasonal work",
        },
        headers=as_role("staff"),
    )
    assert answer.status_code == 201, answer.text
