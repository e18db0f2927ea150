"""Training providers (each with a ledger payable) and programmes with their sessions."""

from datetime import date

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from catalog.models import Cooperative
from catalog.schemas import LocalizedName, LocalizedText, MoneyRead
from core.actor import Actor
from ledger import service as ledger
from ledger.models import AccountType
from training.access import actor_label, require_reader, require_staff
from training.errors import TrainingInvalid, TrainingNotFound
from training.financing import funding_account_key
from training.models import (
    Eligibility,
    FundingSource,
    Programme,
    ProgrammeCoop,
    ProgrammeSession,
    ProgrammeStatus,
    TrainingProvider,
)
from training.schemas import (
    Funding,
    ProgrammeCreate,
    ProgrammeRead,
    ProgrammeUpdate,
    ProviderCreate,
    ProviderRead,
    SessionRead,
)

PUBLIC_STATUSES = frozenset(
    {ProgrammeStatus.open, ProgrammeStatus.closed, ProgrammeStatus.finished}
)


def provider_payable_key(provider_id: int) -> str:
    return f"liabilities:training:providers:{provider_id}"


# Providers


def create_provider(session: Session, *, actor: Actor, data: ProviderCreate) -> TrainingProvider:
    """A provider and, in the same transaction, its ledger payable."""
    require_staff(actor)
    provider = TrainingProvider(name=data.name, contact=data.contact, currency=data.currency)
    session.add(provider)
    session.flush()
    assert provider.id is not None
    ledger.open_account(
        session,
        key=provider_payable_key(provider.id),
        type=AccountType.liability,
        currency=data.currency,
        name=f"Training provider {data.name}",
        party=f"provider:{provider.id}",
    )
    return provider


def get_provider(session: Session, provider_id: int) -> TrainingProvider:
    provider = session.get(TrainingProvider, provider_id)
    if provider is None:
        raise TrainingNotFound("training provider", provider_id)
    return provider


def list_providers(session: Session, *, actor: Actor) -> list[TrainingProvider]:
    require_reader(actor)
    return list(session.scalars(select(TrainingProvider).order_by(col(TrainingProvider.id))))


def provider_read(session: Session, provider: TrainingProvider) -> ProviderRead:
    assert provider.id is not None
    key = provider_payable_key(provider.id)
    owed = ledger.balance(session, key)
    return ProviderRead(
        id=provider.id,
        name=provider.name,
        contact=provider.contact,
        currency=provider.currency,
        payable_account=key,
        balance=MoneyRead(amount=owed.amount, currency=owed.currency),
    )


# Programmes


def _check_coops(session: Session, coop_ids: list[int], field: str) -> None:
    for coop_id in coop_ids:
        if session.get(Cooperative, coop_id) is None:
            raise TrainingInvalid(f"There is no cooperative {coop_id}.", field=field)


def _validate_create(session: Session, data: ProgrammeCreate, provider: TrainingProvider) -> None:
    if data.seat_cost.currency != provider.currency:
        raise TrainingInvalid(
            f"The seat cost is in {data.seat_cost.currency} but provider {provider.id} is paid "
            f"in {provider.currency}.",
            field="seat_cost",
        )
    if data.funding.source == FundingSource.enterprise and data.funding.coop_id is not None:
        raise TrainingInvalid(
            "An enterprise-funded programme names no cooperative fund.", field="funding"
        )
    if data.funding.coop_id is not None:
        _check_coops(session, [data.funding.coop_id], "funding")
    if data.eligibility == Eligibility.coops and not data.eligible_coop_ids:
        raise TrainingInvalid(
            "Name at least one cooperative whose members may apply.", field="eligible_coop_ids"
        )
    if data.eligibility == Eligibility.open and data.eligible_coop_ids:
        raise TrainingInvalid(
            "An open programme lists no cooperatives; use eligibility 'coops'.",
            field="eligible_coop_ids",
        )
    _check_coops(session, data.eligible_coop_ids, "eligible_coop_ids")
    if data.min_attendance > len(data.sessions):
        raise TrainingInvalid(
            f"min_attendance ({data.min_attendance}) is more than the {len(data.sessions)} "
            "session(s) listed.",
            field="min_attendance",
        )


def create_programme(session: Session, *, actor: Actor, data: ProgrammeCreate) -> Programme:
    require_staff(actor)
    provider = session.get(TrainingProvider, data.provider_id)
    if provider is None:
        raise TrainingInvalid(
            f"There is no training provider {data.provider_id}.", field="provider_id"
        )
    _validate_create(session, data, provider)
    programme = Programme(
        provider_id=data.provider_id,
        title_zh=data.title.zh,
        title_en=data.title.en,
        description_zh=data.description.zh,
        description_en=data.description.en,
        skill_area=data.skill_area.value,
        capacity=data.capacity,
        seat_cost=data.seat_cost.amount,
        currency=data.seat_cost.currency,
        funding_source=data.funding.source.value,
        funding_coop_id=data.funding.coop_id,
        eligibility=data.eligibility.value,
        deduction_cap_bps=data.deduction_cap_bps,
        min_attendance=data.min_attendance,
        status=data.status.value,
        created_by=actor_label(actor),
    )
    session.add(programme)
    session.flush()
    assert programme.id is not None
    for item in sorted(data.sessions, key=lambda s: s.date):
        session.add(
            ProgrammeSession(
                programme_id=programme.id, held_on=item.date, place=item.place, trainer=item.trainer
            )
        )
    for coop_id in sorted(set(data.eligible_coop_ids)):
        session.add(ProgrammeCoop(programme_id=programme.id, coop_id=coop_id))
    session.flush()
    return programme


def update_programme(
    session: Session, *, actor: Actor, programme_id: int, data: ProgrammeUpdate
) -> Programme:
    require_staff(actor)
    programme = get_programme(session, programme_id)
    changes = data.model_dump(exclude_unset=True)
    if "title" in changes and data.title is not None:
        programme.title_zh, programme.title_en = data.title.zh, data.title.en
    if "description" in changes and data.description is not None:
        programme.description_zh = data.description.zh
        programme.description_en = data.description.en
    if data.capacity is not None:
        if data.capacity < programme.seats_taken:
            raise TrainingInvalid(
                f"{programme.seats_taken} seats are already taken; the capacity cannot be "
                f"lowered to {data.capacity}.",
                field="capacity",
            )
        programme.capacity = data.capacity
    if data.status is not None:
        programme.status = data.status.value
    if "deduction_cap_bps" in changes:
        programme.deduction_cap_bps = data.deduction_cap_bps
    session.add(programme)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise TrainingInvalid(
            "Seats were taken meanwhile; the capacity cannot go below them.", field="capacity"
        ) from None
    return programme


def get_programme(session: Session, programme_id: int) -> Programme:
    programme = session.get(Programme, programme_id)
    if programme is None:
        raise TrainingNotFound("programme", programme_id)
    return programme


def visible_programme(session: Session, *, actor: Actor, programme_id: int) -> Programme:
    """A programme as the actor may see it: drafts and cancelled ones only to staff."""
    programme = get_programme(session, programme_id)
    if not actor.reads_all and programme.status not in PUBLIC_STATUSES:
        raise TrainingNotFound("programme", programme_id)
    return programme


def list_programmes(
    session: Session,
    *,
    actor: Actor,
    status: ProgrammeStatus | None,
    after_id: int | None,
    limit: int,
) -> list[Programme]:
    query = select(Programme).order_by(col(Programme.id)).limit(limit)
    if not actor.reads_all:
        query = query.where(col(Programme.status).in_([s.value for s in PUBLIC_STATUSES]))
    if status is not None:
        query = query.where(col(Programme.status) == status.value)
    if after_id is not None:
        query = query.where(col(Programme.id) > after_id)
    return list(session.scalars(query))


def sessions_of(session: Session, programme_id: int) -> list[ProgrammeSession]:
    return list(
        session.scalars(
            select(ProgrammeSession)
            .where(col(ProgrammeSession.programme_id) == programme_id)
            .order_by(col(ProgrammeSession.held_on), col(ProgrammeSession.id))
        )
    )


def eligible_coops(session: Session, programme_id: int) -> list[int]:
    return list(
        session.scalars(
            select(col(ProgrammeCoop.coop_id))
            .where(col(ProgrammeCoop.programme_id) == programme_id)
            .order_by(col(ProgrammeCoop.coop_id))
        )
    )


def programme_dates(session: Session, programme_id: int) -> tuple[date | None, date | None]:
    first, last = session.execute(
        select(
            func.min(col(ProgrammeSession.held_on)), func.max(col(ProgrammeSession.held_on))
        ).where(col(ProgrammeSession.programme_id) == programme_id)
    ).one()
    return first, last


def programme_read(session: Session, programme: Programme, *, actor: Actor) -> ProgrammeRead:
    assert programme.id is not None
    provider = get_provider(session, programme.provider_id)
    sessions = sessions_of(session, programme.id)
    funding_account = (
        funding_account_key(programme, member_coop_id=None)
        if programme.funding_source == FundingSource.enterprise or programme.funding_coop_id
        else None
    )
    return ProgrammeRead(
        id=programme.id,
        provider=provider_read(session, provider) if actor.reads_all else None,
        provider_name=provider.name,
        title=LocalizedName(zh=programme.title_zh, en=programme.title_en),
        description=LocalizedText(zh=programme.description_zh, en=programme.description_en),
        skill_area=programme.skill_area,
        sessions=[
            SessionRead(id=s.id or 0, date=s.held_on, place=s.place, trainer=s.trainer)
            for s in sessions
        ],
        capacity=programme.capacity,
        seats_taken=programme.seats_taken,
        seats_left=programme.capacity - programme.seats_taken,
        seat_cost=MoneyRead(amount=programme.seat_cost, currency=programme.currency),
        funding=Funding(
            source=FundingSource(programme.funding_source), coop_id=programme.funding_coop_id
        ),
        funding_account=funding_account,
        eligibility=Eligibility(programme.eligibility),
        eligible_coop_ids=eligible_coops(session, programme.id),
        deduction_cap_bps=programme.deduction_cap_bps,
        min_attendance=programme.min_attendance,
        status=ProgrammeStatus(programme.status),
        starts_on=sessions[0].held_on if sessions else None,
        ends_on=sessions[-1].held_on if sessions else None,
    )
