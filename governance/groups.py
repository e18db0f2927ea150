"""Group work: groups of a cooperative's households (a honey producers' group, a women's
e-commerce group) with sessions, attendance and notes, optionally tied to a training programme.

Who: the cooperative's manager and staff create groups, add members and assign social workers;
they and the social workers assigned to a group record its sessions and read its notes. Members
(farmers), buyers, other cooperatives and the public see none of it: session notes speak about
households.
"""

from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from catalog.models import Household, HouseholdStatus
from catalog.permissions import manages_coop, reads_coop
from core.actor import Actor
from governance.community_models import (
    CommunityGroup,
    GroupAttendance,
    GroupMember,
    GroupSession,
    GroupWorker,
)
from governance.errors import (
    AlreadyDone,
    GovernanceForbidden,
    GovernanceInvalid,
    GovernanceNotFound,
)
from training.models import Programme

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GroupCreate(Strict):
    name: Annotated[Text, Field(max_length=120)]
    purpose: Annotated[str, Field(max_length=500)] = ""
    programme_id: int | None = None
    household_ids: Annotated[list[int], Field(max_length=500)] = []
    social_worker_ids: Annotated[list[int], Field(max_length=20)] = []


class MemberAdd(Strict):
    household_id: int


class WorkerAdd(Strict):
    user_id: int


class SessionCreate(Strict):
    held_on: date
    topic: Annotated[Text, Field(max_length=200)]
    notes: Annotated[str, Field(max_length=2000)] = ""
    attended: Annotated[list[int], Field(max_length=500)] = []


# --- who ------------------------------------------------------------------------------------


def get_group(session: Session, group_id: int) -> CommunityGroup:
    group = session.get(CommunityGroup, group_id)
    if group is None:
        raise GovernanceNotFound(f"No group {group_id}.")
    return group


def worker_ids(session: Session, group_id: int) -> set[int]:
    query = select(GroupWorker.user_id).where(col(GroupWorker.group_id) == group_id)
    return set(session.scalars(query))


def may_run(session: Session, actor: Actor, group: CommunityGroup) -> bool:
    """Manager of the group's cooperative, staff (auditors read as staff), assigned workers."""
    assert group.id is not None
    return manages_coop(actor, group.coop_id) or (
        actor.role == "social_worker"
        and actor.user_id is not None
        and actor.user_id in worker_ids(session, group.id)
    )


def _require_runner(session: Session, actor: Actor, group: CommunityGroup) -> None:
    if not may_run(session, actor, group):
        raise GovernanceForbidden(
            "Only the cooperative's manager, staff and the group's social workers work with a group."
        )


def _require_organiser(actor: Actor, coop_id: int) -> None:
    if not manages_coop(actor, coop_id):
        raise GovernanceForbidden(
            f"Only cooperative {coop_id}'s manager or staff create groups and choose who is in them."
        )


def visible_group(session: Session, actor: Actor, group_id: int) -> CommunityGroup:
    group = get_group(session, group_id)
    if not actor.reads_all:  # staff and the auditor read every group
        _require_runner(session, actor, group)
    return group


# --- changes --------------------------------------------------------------------------------


def _check_households(session: Session, coop_id: int, ids: list[int], field: str) -> None:
    for index, household_id in enumerate(ids):
        household = session.get(Household, household_id)
        if (
            household is None
            or household.coop_id != coop_id
            or household.status != HouseholdStatus.active
        ):
            raise GovernanceInvalid(
                f"Household {household_id} is not an active member of cooperative {coop_id}.",
                loc=["body", field, index],
            )


def _check_workers(ids: list[int], roles: dict[int, str | None]) -> None:
    for index, user_id in enumerate(ids):
        if roles.get(user_id) != "social_worker":
            raise GovernanceInvalid(
                f"User {user_id} is not a social worker.",
                loc=["body", "social_worker_ids", index],
            )


def create_group(
    session: Session,
    *,
    actor: Actor,
    coop_id: int,
    data: GroupCreate,
    worker_roles: dict[int, str | None],
) -> CommunityGroup:
    """`worker_roles`: the role of each named social worker's user (None if there is none)."""
    _require_organiser(actor, coop_id)
    if data.programme_id is not None and session.get(Programme, data.programme_id) is None:
        raise GovernanceInvalid(
            f"No training programme {data.programme_id}.", loc=["body", "programme_id"]
        )
    households = sorted(set(data.household_ids))
    workers = sorted(set(data.social_worker_ids))
    _check_households(session, coop_id, households, "household_ids")
    _check_workers(workers, worker_roles)
    assert actor.user_id is not None
    group = CommunityGroup(
        coop_id=coop_id,
        name=data.name,
        purpose=data.purpose.strip(),
        programme_id=data.programme_id,
        created_by=actor.user_id,
    )
    session.add(group)
    session.flush()
    assert group.id is not None
    session.add_all(GroupMember(group_id=group.id, household_id=h) for h in households)
    session.add_all(GroupWorker(group_id=group.id, user_id=w) for w in workers)
    session.flush()
    return group


def _insert_once(session: Session, row: GroupMember | GroupWorker, what: str) -> None:
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise AlreadyDone(what) from None


def add_member(session: Session, *, actor: Actor, group_id: int, household_id: int) -> None:
    group = get_group(session, group_id)
    _require_organiser(actor, group.coop_id)
    _check_households(session, group.coop_id, [household_id], "household_id")
    row = GroupMember(group_id=group_id, household_id=household_id)
    _insert_once(session, row, f"Household {household_id} is already in group {group_id}.")


def add_worker(
    session: Session, *, actor: Actor, group_id: int, user_id: int, role: str | None
) -> None:
    group = get_group(session, group_id)
    _require_organiser(actor, group.coop_id)
    _check_workers([user_id], {user_id: role})
    row = GroupWorker(group_id=group_id, user_id=user_id)
    _insert_once(session, row, f"User {user_id} already works with group {group_id}.")


def member_ids(session: Session, group_id: int) -> list[int]:
    query = (
        select(GroupMember.household_id)
        .where(col(GroupMember.group_id) == group_id)
        .order_by(col(GroupMember.household_id))
    )
    return list(session.scalars(query))


def record_session(
    session: Session, *, actor: Actor, group_id: int, data: SessionCreate, today: date
) -> GroupSession:
    group = get_group(session, group_id)
    _require_runner(session, actor, group)
    if data.held_on > today:
        raise GovernanceInvalid(
            "A session is recorded once it has been held: its date cannot be in the future.",
            loc=["body", "held_on"],
        )
    members = set(member_ids(session, group_id))
    for index, household_id in enumerate(data.attended):
        if household_id not in members:
            raise GovernanceInvalid(
                f"Household {household_id} is not a member of this group.",
                loc=["body", "attended", index],
            )
    assert actor.user_id is not None
    row = GroupSession(
        group_id=group_id,
        held_on=data.held_on,
        topic=data.topic,
        notes=data.notes.strip(),
        recorded_by=actor.user_id,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    session.add_all(
        GroupAttendance(session_id=row.id, household_id=h) for h in sorted(set(data.attended))
    )
    session.flush()
    return row


# --- reading --------------------------------------------------------------------------------


def groups_of_coop(session: Session, *, actor: Actor, coop_id: int) -> list[CommunityGroup]:
    """All of a cooperative's groups for its manager and staff; a social worker's own ones."""
    query = (
        select(CommunityGroup)
        .where(col(CommunityGroup.coop_id) == coop_id)
        .order_by(col(CommunityGroup.id))
    )
    if reads_coop(actor, coop_id):  # staff and the auditor read all
        return list(session.scalars(query))
    if actor.role == "social_worker" and actor.user_id is not None:
        return list(
            session.scalars(
                query.join(GroupWorker, col(GroupWorker.group_id) == col(CommunityGroup.id)).where(
                    col(GroupWorker.user_id) == actor.user_id
                )
            )
        )
    raise GovernanceForbidden(
        f"Only cooperative {coop_id}'s manager, staff and social workers see its groups."
    )


def groups_of_worker(session: Session, user_id: int) -> list[CommunityGroup]:
    query = (
        select(CommunityGroup)
        .join(GroupWorker, col(GroupWorker.group_id) == col(CommunityGroup.id))
        .where(col(GroupWorker.user_id) == user_id)
        .order_by(col(CommunityGroup.id))
    )
    return list(session.scalars(query))


def sessions_of(session: Session, group_id: int) -> list[GroupSession]:
    query = (
        select(GroupSession)
        .where(col(GroupSession.group_id) == group_id)
        .order_by(col(GroupSession.held_on).desc(), col(GroupSession.id).desc())
    )
    return list(session.scalars(query))


def attendance_of(session: Session, session_ids: list[int]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {i: [] for i in session_ids}
    if not session_ids:
        return found
    rows = session.scalars(
        select(GroupAttendance).where(col(GroupAttendance.session_id).in_(session_ids))
    )
    for row in rows:
        found[row.session_id].append(row.household_id)
    return found


def group_read(session: Session, group: CommunityGroup) -> dict[str, Any]:
    """The group with members, workers, sessions and attendance (for those who may run it)."""
    assert group.id is not None
    sessions = sessions_of(session, group.id)
    attendance = attendance_of(session, [s.id for s in sessions if s.id is not None])
    return {
        "id": group.id,
        "coop_id": group.coop_id,
        "name": group.name,
        "purpose": group.purpose,
        "programme_id": group.programme_id,
        "household_ids": member_ids(session, group.id),
        "social_worker_ids": sorted(worker_ids(session, group.id)),
        "sessions": [
            {
                "id": s.id,
                "held_on": s.held_on.isoformat(),
                "topic": s.topic,
                "notes": s.notes,
                "attended": sorted(attendance.get(s.id or 0, [])),
            }
            for s in sessions
        ],
    }
