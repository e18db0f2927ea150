# mypy: disable-error-code="arg-type,union-attr"
"""Staff's applicant list: flagged households first, then income per person below the line."""

from datetime import timedelta

from tests.catalog import factories
from tests.training.conftest import STAFF, TODAY, settle_share
from training import enrolments
from training.config import TrainingConfig
from training.priority import priority_list
from training.schemas import EnrolmentCreate


def test_applicants_ordered_by_need(world):
    session = world.session
    coop = world.coop_a
    rich = factories.create_household(session, coop=coop, name="富", household_size=1)
    poor = factories.create_household(session, coop=coop, name="贫", household_size=4)
    middle = factories.create_household(session, coop=coop, name="中", household_size=2)
    flagged = factories.create_household(session, coop=coop, name="监测", household_size=1)
    recent = TODAY - timedelta(days=30)
    settle_share(session, rich.id, 900_000, on=recent)  # 9,000 yuan a person a year
    settle_share(session, poor.id, 400_000, on=recent)  # 1,000
    settle_share(session, middle.id, 600_000, on=recent)  # 3,000
    settle_share(session, flagged.id, 2_000_000, on=recent)  # 20,000, but flagged
    settle_share(session, poor.id, 5_000_000, on=TODAY - timedelta(days=400))  # too long ago
    programme = world.programme()
    for household in (rich, middle, flagged, poor):
        enrolments.apply(
            session,
            actor=STAFF,
            programme_id=programme.id,
            data=EnrolmentCreate(household_id=household.id),
        )
    session.commit()
    config = TrainingConfig(need_line_per_capita=600_000)
    ranked = priority_list(
        session, actor=STAFF, programme_id=programme.id, config=config, flagged={flagged.id}
    )
    assert [r.household_id for r in ranked] == [flagged.id, poor.id, middle.id, rich.id]
    assert [r.below_line for r in ranked] == [False, True, True, False]
    assert ranked[1].income_per_capita_annual.amount == 100_000
    # Without monitoring flags (the default until governance provides them).
    plain = priority_list(session, actor=STAFF, programme_id=programme.id, config=config)
    assert [r.household_id for r in plain] == [poor.id, middle.id, rich.id, flagged.id]
    # A flag source may be a function of the session and the applicants.
    called = priority_list(
        session,
        actor=STAFF,
        programme_id=programme.id,
        config=config,
        flagged=lambda _session, ids: {i for i in ids if i == rich.id},
    )
    assert called[0].household_id == rich.id


def test_priority_route_is_for_staff(client, world, as_role):
    programme = world.programme()
    client.post(
        f"/api/v1/training/programmes/{programme.id}/enrolments",
        json={},
        headers=as_role("farmer_a"),
    )
    ok = client.get(
        f"/api/v1/training/programmes/{programme.id}/priority", headers=as_role("staff")
    )
    assert ok.status_code == 200
    assert ok.json()["items"][0]["member_code"] == world.household_a.member_code
    for role in ("manager_a", "farmer_a", "buyer"):
        refused = client.get(
            f"/api/v1/training/programmes/{programme.id}/priority", headers=as_role(role)
        )
        assert refused.status_code == 403
