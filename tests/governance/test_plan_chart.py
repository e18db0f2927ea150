"""The plan's progress chart: drawn on the server as SVG from real figures (the ledger's settled
income per person by month, trainings completed), readable at 360 px (labels ≥ 11 px), shown on
the household's own plan page and never to another household."""

import re
from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session

from core.time import to_reader_zone
from frontend.plan_chart import LABEL_SIZE, WIDTH, build_chart, monthly_target
from governance.plans import MonthRead
from ledger.base import utcnow
from tests.conftest import TEST_PASSWORD
from tests.frontend.helpers import HTML, sign_in
from tests.governance.conftest import World
from training.models import Enrolment, EnrolmentStatus, Programme, TrainingProvider

TODAY = to_reader_zone(utcnow()).date()


def _months(values: list[int], trainings: dict[int, int] | None = None) -> list[MonthRead]:
    trainings = trainings or {}
    return [
        MonthRead(
            month=date(2026, index + 1, 1),
            income_per_capita=value,
            trainings_completed=trainings.get(index, 0),
        )
        for index, value in enumerate(values)
    ]


def test_bars_are_proportional_to_the_income_and_fit_the_drawing() -> None:
    chart = build_chart(_months([0, 5000, 10000, 2500] + [0] * 8, {2: 1}), monthly_target([24000]))
    assert chart.top_value == 10000  # a round scale just above the largest month
    heights = [bar.height for bar in chart.bars]
    assert heights[0] == 0
    assert heights[2] == 2 * heights[1] == 4 * heights[3]
    assert all(bar.x + bar.width <= WIDTH for bar in chart.bars)
    assert [bar.trainings for bar in chart.bars][2] == 1
    assert chart.target_y is not None  # 2,000 a month: below the 2,500 bar's top
    assert chart.bars[1].y < chart.bars[3].y < chart.target_y < chart.baseline_y
    assert chart.label_size >= 11
    empty = build_chart(_months([0] * 12), None)
    assert empty.top_value == 100
    assert empty.target_y is None


def _completed_training(session: Session, world: World) -> None:
    provider = TrainingProvider(name="县农技站", currency="CNY")
    session.add(provider)
    session.flush()
    programme = Programme(
        provider_id=provider.id or 0,
        title_zh="养蜂技术",
        skill_area="beekeeping",
        capacity=10,
        seat_cost=0,
        currency="CNY",
        funding_source="enterprise",
        status="finished",
    )
    session.add(programme)
    session.flush()
    session.add(
        Enrolment(
            programme_id=programme.id or 0,
            household_id=world.h1.id or 0,
            coop_id=world.coop_a.id or 0,
            status=EnrolmentStatus.completed.value,
            currency="CNY",
            completed_at=utcnow(),
        )
    )
    session.commit()


def test_the_household_sees_its_chart_from_the_ledger_and_trainings(
    app, client: TestClient, world: World, as_role, settle_order, session: Session
) -> None:
    staff = as_role("staff")
    plan = {
        "review_on": (TODAY + timedelta(days=60)).isoformat(),
        "goals": [{"kind": "income", "description": "蜂蜜增收", "target_per_capita": 120000}],
    }
    made = client.post(f"/api/v1/households/{world.h1.id}/plan", json=plan, headers=staff)
    assert made.status_code == 201, made.text
    before = made.json()["months"]
    assert len(before) == 12
    assert before[-1]["month"] == TODAY.replace(day=1).isoformat()
    assert before[-1]["income_per_capita"] == 0
    settle_order()
    _completed_training(session, world)
    after = client.get(f"/api/v1/households/{world.h1.id}/plan", headers=staff).json()
    this_month = after["months"][-1]
    assert this_month["income_per_capita"] > 0  # the settlement, per person
    assert this_month["trainings_completed"] == 1
    assert (
        sum(m["income_per_capita"] for m in after["months"])
        == after["progress"]["income_per_capita"]
        or after["progress"]["income_per_capita"] > 0
    )

    farmer = world.user("farmer")
    with TestClient(app) as browser:
        assert sign_in(browser, farmer.email, TEST_PASSWORD).status_code == 303
        page = browser.get("/plan", headers=HTML)
        assert page.status_code == 200
        svg = re.search(r"<svg viewBox=\"0 0 (\d+) \d+\".*?</svg>", page.text, re.S)
        assert svg is not None
        assert int(svg.group(1)) <= 340
        sizes = [int(s) for s in re.findall(r'font-size="(\d+)"', svg.group(0))]
        assert sizes
        assert min(sizes) >= LABEL_SIZE
        assert svg.group(0).count("<rect") == 12
        assert "▲" in svg.group(0)  # the training completed this month
        assert "stroke-dasharray" in svg.group(0)  # the income target per month

    other = world.user("farmer2")
    with TestClient(app, raise_server_exceptions=False) as neighbour:
        assert sign_in(neighbour, other.email, TEST_PASSWORD).status_code == 303
        theirs = neighbour.get("/plan", headers=HTML)
        assert "<svg viewBox" not in theirs.text  # their own (empty) plan page, not h1's chart
        refused = neighbour.get(f"/social-work/households/{world.h1.id}", headers=HTML)
        assert refused.status_code == 403
