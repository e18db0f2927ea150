"""Training HTTP routes: providers, programmes, enrolments, attendance, deductions and outcomes.

Thin: parse, name the actor, call a training service, return. Who may do what is decided in the
services (training/access.py), from the same `Actor` the catalog uses.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import Response

from api import policies
from api.deps import (
    CurrentUserDep,
    OptionalUserDep,
    PageDep,
    SessionDep,
    StaffDep,
    actor_of,
    encode_cursor,
)
from catalog.schemas import MoneyRead
from training import service
from training.config import TrainingConfig
from training.deductions import deductions_of
from training.errors import TrainingForbidden
from training.models import Enrolment, EnrolmentStatus, ProgrammeStatus
from training.schemas import (
    AttendanceIn,
    CompleteIn,
    DeductionRead,
    DropIn,
    EnrolmentCreate,
    EnrolmentPage,
    EnrolmentRead,
    OutcomeReport,
    PriorityRead,
    ProgrammeCreate,
    ProgrammePage,
    ProgrammeRead,
    ProgrammeUpdate,
    ProviderCreate,
    ProviderRead,
)

router = APIRouter(prefix="/api/v1/training", tags=["training"])


def training_config(request: Request) -> TrainingConfig:
    config = getattr(request.app.state, "training_config", None)
    if config is None:
        config = request.app.state.training_config = policies.training_config(
            request.app.state.settings
        )
    return config


ConfigDep = Annotated[TrainingConfig, Depends(training_config)]


# Providers


@router.post("/providers", status_code=status.HTTP_201_CREATED, response_model=ProviderRead)
def create_provider(data: ProviderCreate, session: SessionDep, user: StaffDep) -> ProviderRead:
    provider = service.create_provider(session, actor=actor_of(user), data=data)
    return service.provider_read(session, provider)


@router.get("/providers")
def list_providers(session: SessionDep, user: StaffDep) -> dict[str, object]:
    providers = service.list_providers(session, actor=actor_of(user))
    return {"items": [service.provider_read(session, p) for p in providers], "next_cursor": None}


# Programmes


@router.post("/programmes", status_code=status.HTTP_201_CREATED, response_model=ProgrammeRead)
def create_programme(data: ProgrammeCreate, session: SessionDep, user: StaffDep) -> ProgrammeRead:
    actor = actor_of(user)
    programme = service.create_programme(session, actor=actor, data=data)
    return service.programme_read(session, programme, actor=actor)


@router.get("/programmes", response_model=ProgrammePage)
def list_programmes(
    session: SessionDep,
    user: OptionalUserDep,
    page: PageDep,
    status: ProgrammeStatus | None = None,
) -> ProgrammePage:
    actor = actor_of(user)
    found = service.list_programmes(
        session, actor=actor, status=status, after_id=page.after_int(), limit=page.limit + 1
    )
    more = len(found) > page.limit
    found = found[: page.limit]
    return ProgrammePage(
        items=[service.programme_read(session, p, actor=actor) for p in found],
        next_cursor=encode_cursor(found[-1].id or 0) if more and found else None,
    )


@router.get("/programmes/{programme_id}", response_model=ProgrammeRead)
def get_programme(programme_id: int, session: SessionDep, user: OptionalUserDep) -> ProgrammeRead:
    actor = actor_of(user)
    programme = service.visible_programme(session, actor=actor, programme_id=programme_id)
    return service.programme_read(session, programme, actor=actor)


@router.patch("/programmes/{programme_id}", response_model=ProgrammeRead)
def update_programme(
    programme_id: int, data: ProgrammeUpdate, session: SessionDep, user: StaffDep
) -> ProgrammeRead:
    actor = actor_of(user)
    programme = service.update_programme(session, actor=actor, programme_id=programme_id, data=data)
    return service.programme_read(session, programme, actor=actor)


# Enrolments


def _read(session: SessionDep, enrolment: Enrolment) -> EnrolmentRead:
    return service.enrolment_read(session, enrolment)


@router.post(
    "/programmes/{programme_id}/enrolments",
    status_code=status.HTTP_201_CREATED,
    response_model=EnrolmentRead,
)
def apply(
    programme_id: int, data: EnrolmentCreate, session: SessionDep, user: CurrentUserDep
) -> EnrolmentRead:
    enrolment = service.apply(session, actor=actor_of(user), programme_id=programme_id, data=data)
    return _read(session, enrolment)


@router.get("/programmes/{programme_id}/enrolments", response_model=EnrolmentPage)
def list_enrolments(
    programme_id: int,
    session: SessionDep,
    user: CurrentUserDep,
    page: PageDep,
    status: EnrolmentStatus | None = None,
) -> EnrolmentPage:
    found = service.list_for_programme(
        session,
        actor=actor_of(user),
        programme_id=programme_id,
        status=status,
        after_id=page.after_int(),
        limit=page.limit + 1,
    )
    more = len(found) > page.limit
    found = found[: page.limit]
    return EnrolmentPage(
        items=[_read(session, e) for e in found],
        next_cursor=encode_cursor(found[-1].id or 0) if more and found else None,
    )


@router.get("/programmes/{programme_id}/priority")
def priority(
    programme_id: int, session: SessionDep, user: StaffDep, config: ConfigDep
) -> dict[str, list[PriorityRead] | None]:
    items = service.priority_list(
        session, actor=actor_of(user), programme_id=programme_id, config=config
    )
    return {"items": items, "next_cursor": None}


@router.get("/me/enrolments", response_model=EnrolmentPage)
def my_enrolments(session: SessionDep, user: CurrentUserDep, page: PageDep) -> EnrolmentPage:
    if user.household_id is None:
        raise TrainingForbidden("Your account is not linked to a member household.")
    return household_enrolments(user.household_id, session, user, page)


@router.get("/households/{household_id}/enrolments", response_model=EnrolmentPage)
def household_enrolments(
    household_id: int, session: SessionDep, user: CurrentUserDep, page: PageDep
) -> EnrolmentPage:
    found = service.list_for_household(
        session,
        actor=actor_of(user),
        household_id=household_id,
        after_id=page.after_int(),
        limit=page.limit + 1,
    )
    more = len(found) > page.limit
    found = found[: page.limit]
    return EnrolmentPage(
        items=[_read(session, e) for e in found],
        next_cursor=encode_cursor(found[-1].id or 0) if more and found else None,
    )


@router.get("/enrolments/{enrolment_id}", response_model=EnrolmentRead)
def get_enrolment(enrolment_id: int, session: SessionDep, user: CurrentUserDep) -> EnrolmentRead:
    enrolment = service.get_visible(session, actor=actor_of(user), enrolment_id=enrolment_id)
    return _read(session, enrolment)


@router.post("/enrolments/{enrolment_id}/accept", response_model=EnrolmentRead)
def accept(enrolment_id: int, session: SessionDep, user: StaffDep) -> EnrolmentRead:
    enrolment = service.accept(session, actor=actor_of(user), enrolment_id=enrolment_id)
    return _read(session, enrolment)


@router.post("/enrolments/{enrolment_id}/attendance", response_model=EnrolmentRead)
def attendance(
    enrolment_id: int, data: AttendanceIn, session: SessionDep, user: StaffDep
) -> EnrolmentRead:
    enrolment = service.mark_attendance(
        session,
        actor=actor_of(user),
        enrolment_id=enrolment_id,
        session_id=data.session_id,
        present=data.present,
    )
    return _read(session, enrolment)


@router.post("/enrolments/{enrolment_id}/complete", response_model=EnrolmentRead)
def complete(
    enrolment_id: int, data: CompleteIn, session: SessionDep, user: StaffDep
) -> EnrolmentRead:
    enrolment = service.complete(
        session,
        actor=actor_of(user),
        enrolment_id=enrolment_id,
        certificate_number=data.certificate_number,
    )
    return _read(session, enrolment)


@router.post("/enrolments/{enrolment_id}/drop", response_model=EnrolmentRead)
def drop(
    enrolment_id: int, data: DropIn, session: SessionDep, user: CurrentUserDep
) -> EnrolmentRead:
    actor = actor_of(user)
    service.get_visible(session, actor=actor, enrolment_id=enrolment_id)
    enrolment = service.drop(session, actor=actor, enrolment_id=enrolment_id, reason=data.reason)
    return _read(session, enrolment)


@router.get("/enrolments/{enrolment_id}/deductions")
def enrolment_deductions(
    enrolment_id: int, session: SessionDep, user: CurrentUserDep
) -> dict[str, list[DeductionRead] | None]:
    service.get_visible(session, actor=actor_of(user), enrolment_id=enrolment_id)
    items = [
        DeductionRead(
            enrolment_id=d.enrolment_id,
            settlement_ref=d.settlement_ref,
            share=MoneyRead(amount=d.share_amount, currency=d.currency),
            amount=MoneyRead(amount=d.amount, currency=d.currency),
            entry_id=d.entry_id,
        )
        for d in deductions_of(session, enrolment_id)
    ]
    return {"items": items, "next_cursor": None}


# Deductions from settled shares (the settlement calls the service itself; these are for staff)


@router.post("/deductions/settlements/{entry_id}")
def deduct_settlement(entry_id: int, session: SessionDep, user: StaffDep) -> dict[str, int]:
    postings = service.deduct_after_settlement(session, entry_id=entry_id)
    return {"postings": len(postings)}


@router.post("/deductions/run")
def deduct_pending(session: SessionDep, user: StaffDep) -> dict[str, int]:
    return {"deductions": service.deduct_pending(session)}


# Outcomes


@router.get("/programmes/{programme_id}/outcomes", response_model=OutcomeReport)
def outcomes(
    programme_id: int, session: SessionDep, user: OptionalUserDep, config: ConfigDep
) -> OutcomeReport:
    return service.programme_report(
        session, actor=actor_of(user), programme_id=programme_id, config=config
    )


@router.get(
    "/programmes/{programme_id}/outcomes.csv",
    response_class=Response,
    responses={200: {"description": "A CSV file", "content": {"text/csv; charset=utf-8": {}}}},
)
def outcomes_csv(
    programme_id: int,
    session: SessionDep,
    user: OptionalUserDep,
    config: ConfigDep,
    download: Annotated[bool, Query()] = True,
) -> Response:
    report = service.programme_report(
        session, actor=actor_of(user), programme_id=programme_id, config=config
    )
    headers = (
        {"Content-Disposition": f'attachment; filename="programme-{programme_id}-outcomes.csv"'}
        if download
        else {}
    )
    return Response(
        content=service.report_csv(report), media_type="text/csv; charset=utf-8", headers=headers
    )
