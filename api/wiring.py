"""Cross-domain steps that no domain may call itself (the import rules forbid it), joined here."""

from collections.abc import Callable, Sequence

from sqlalchemy import ColumnElement
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select

from api.models import STAFF_ROLES, Role, User
from api.policies import delivery_config
from api.settings import Settings
from catalog.models import Household
from notify import delivery, outbox
from orders import settlement
from training import deductions

DEFAULT_LANGUAGE = "zh-CN"


def _deduct_tuition(session: Session, settlement_entry_id: int) -> None:
    deductions.deduct_after_settlement(session, entry_id=settlement_entry_id)


def _give_back_tuition(session: Session, take_back: settlement.TakeBack) -> None:
    """Before a refund reverses settled shares: the tuition deducted from them goes back first."""
    deductions.give_back_for_refund(
        session,
        settlement_entry_id=take_back.settlement_entry_id,
        refund_ref=f"order-refund:{take_back.refund_id}",
        taken=take_back.taken,
    )


def _as_recipient(user: User, phone: str | None = None) -> outbox.Recipient:
    return outbox.Recipient(
        key=f"user:{user.id}",
        user_id=user.id,
        email=user.email,
        phone=phone or None,
        language=user.language or DEFAULT_LANGUAGE,
    )


def _active(session: Session, *conditions: ColumnElement[bool]) -> list[User]:
    query = select(User).where(col(User.is_active), *conditions).order_by(col(User.id))
    return list(session.scalars(query))


def notification_recipients(
    session: Session, audience: outbox.Audience
) -> Sequence[outbox.Recipient]:
    """Who an audience is: users by id, a household's members (and its phone), staff, managers."""
    if audience.kind == "user":
        user = session.get(User, audience.id)
        return [_as_recipient(user)] if user is not None and user.is_active else []
    if audience.kind == "household":
        return _household_recipients(session, audience.id)
    conditions = _AUDIENCE_USERS.get(audience.kind)
    if conditions is None:
        return []
    return [_as_recipient(u) for u in _active(session, *conditions(audience.id))]


# The audiences that are a set of active users, as the conditions that select them.
_AUDIENCE_USERS: dict[str, Callable[[int | None], tuple[ColumnElement[bool], ...]]] = {
    "staff": lambda _id: (col(User.role).in_(STAFF_ROLES),),
    "coop_members": lambda coop_id: (col(User.role) == Role.farmer, col(User.coop_id) == coop_id),
    "managers": lambda coop_id: (col(User.role) == Role.manager, col(User.coop_id) == coop_id),
}


def _household_recipients(session: Session, household_id: int | None) -> list[outbox.Recipient]:
    household = session.get(Household, household_id)
    phone = household.phone if household is not None else ""
    members = _active(session, col(User.household_id) == household_id)
    if not members:  # no account yet: the household is reached by its phone alone
        return (
            [outbox.Recipient(f"phone:{phone}", None, None, phone, DEFAULT_LANGUAGE)]
            if phone
            else []
        )
    # The household's phone gets one SMS, through its first member's account.
    return [_as_recipient(u, phone if i == 0 else None) for i, u in enumerate(members)]


def send_notifications(
    session_factory: sessionmaker[Session], settings: Settings, *, limit: int = 100
) -> delivery.Counts:
    """The delivery job for a scheduler or `hezuo notify send`: due e-mail and SMS rows."""
    return delivery.send_pending(session_factory, delivery_config(settings), limit=limit)


def connect_domains() -> None:
    """Idempotent: safe to call from the app factory, the CLI and tests."""
    settlement.on_settled(_deduct_tuition)
    settlement.on_unsettling(_give_back_tuition)
    outbox.use_directory(notification_recipients)
