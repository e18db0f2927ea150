"""Governance HTTP routes: disclosures, household monitoring, share-rule hearings, ratings, dashboard.

Thin: parse, name the actor, call a governance service, return. Public reads need no sign-in
(disclosures, hearings, ratings); monitoring is staff only (the services check it too).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from fastapi.responses import Response

from api.deps import CurrentUserDep, SessionDep, SettingsDep, StaffDep, actor_of
from api.routers.orders import PolicyDep
from catalog.models import Cooperative
from governance import dashboard, disclosure_verify, disclosures, feedback, hearings, monitoring
from governance.errors import GovernanceForbidden
from governance.schemas import (
    AlertClose,
    CommentCreate,
    DisclosureCreate,
    HearingCreate,
    HideComment,
    IncomeCreate,
    MonitoringConfigUpdate,
    MonitorRun,
    NoteCreate,
    RatingCreate,
    VoteCreate,
)

router = APIRouter(prefix="/api/v1", tags=["governance"])
Page = dict[str, Any]


# --- Disclosures (public reads; staff publish) ------------------------------------------------


@router.get("/disclosures")
def list_disclosures(session: SessionDep, coop_id: Annotated[int | None, Query()] = None) -> Page:
    found = disclosures.list_disclosures(session, coop_id=coop_id)
    return {
        "items": [
            disclosures.disclosure_read(d, session.get(Cooperative, d.coop_id)) for d in found
        ],
        "next_cursor": None,
    }


@router.post("/disclosures", status_code=status.HTTP_201_CREATED)
def publish_disclosure(
    data: DisclosureCreate, session: SessionDep, user: StaffDep, settings: SettingsDep
) -> Page:
    """Final for a closed month; an open month only with `"provisional": true` (else 422)."""
    disclosure = disclosures.publish(
        session,
        coop_id=data.coop_id,
        period=data.period,
        currency=data.currency,
        published_by=f"user:{user.id}",
        provisional=data.provisional,
        min_group=settings.disclosure_min_group,
    )
    return disclosures.disclosure_read(disclosure, session.get(Cooperative, disclosure.coop_id))


@router.get("/disclosures/preview")
def preview_disclosure(
    session: SessionDep,
    user: StaffDep,
    coop_id: int,
    period: Annotated[str, Query(max_length=7)],
    currency: Annotated[str, Query(max_length=3)] = "CNY",
    *,
    settings: SettingsDep,
) -> Page:
    return disclosures.build_report(
        session,
        coop_id=coop_id,
        period=period,
        currency=currency,
        min_group=settings.disclosure_min_group,
    )


@router.get("/disclosures/{disclosure_id}")
def get_disclosure(disclosure_id: int, session: SessionDep) -> Page:
    disclosure = disclosures.get_disclosure(session, disclosure_id)
    return disclosures.disclosure_read(disclosure, session.get(Cooperative, disclosure.coop_id))


@router.get("/disclosures/{disclosure_id}/verify")
def verify_disclosure(disclosure_id: int, session: SessionDep) -> Page:
    return disclosure_verify.verify_disclosure(
        session, disclosures.get_disclosure(session, disclosure_id)
    )


@router.get(
    "/disclosures/{disclosure_id}/csv",
    response_class=Response,
    responses={200: {"description": "A CSV file", "content": {"text/csv; charset=utf-8": {}}}},
)
def disclosure_csv(disclosure_id: int, session: SessionDep) -> Response:
    disclosure = disclosures.get_disclosure(session, disclosure_id)
    name = f"disclosure-{disclosure.coop_id}-{disclosure.period}.csv"
    return Response(
        disclosures.report_csv(disclosure),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# --- Household monitoring (staff) ------------------------------------------------------------


def _config_read(config: Any) -> Page:
    return {
        "line_kind": config.line_kind,
        "poverty_line": {"amount": config.poverty_line, "currency": config.currency},
        "multiplier_bp": config.multiplier_bp,
        "relative_bp": config.relative_bp,
        "drop_bp": config.drop_bp,
        "currency": config.currency,
    }


@router.get("/governance/monitoring/config")
def get_monitoring_config(session: SessionDep, user: StaffDep) -> Page:
    return _config_read(monitoring.get_config(session))


@router.put("/governance/monitoring/config")
def put_monitoring_config(
    data: MonitoringConfigUpdate, session: SessionDep, user: StaffDep
) -> Page:
    config = monitoring.set_config(
        session, actor=actor_of(user), values=data.model_dump(exclude_unset=True, exclude_none=True)
    )
    return _config_read(config)


@router.post("/governance/monitoring/run")
def run_monitoring(data: MonitorRun, session: SessionDep, user: StaffDep) -> Page:
    result = monitoring.run_monitor(session, as_of=data.as_of)
    return {
        "as_of": result.as_of.isoformat(),
        "households": result.households,
        "line": result.line,
        "opened": result.opened,
        "refreshed": result.refreshed,
    }


@router.get("/governance/alerts")
def list_alerts(
    session: SessionDep,
    user: StaffDep,
    status_: Annotated[str | None, Query(alias="status", max_length=8)] = None,
) -> Page:
    found = monitoring.list_alerts(session, actor=actor_of(user), status=status_)
    return {
        "items": [monitoring.alert_read(session, a, full=False) for a in found],
        "next_cursor": None,
    }


@router.get("/governance/alerts/{alert_id}")
def get_alert(alert_id: int, session: SessionDep, user: StaffDep) -> Page:
    alert = monitoring.get_alert(session, actor=actor_of(user), alert_id=alert_id)
    return monitoring.alert_read(session, alert)


@router.post("/governance/alerts/{alert_id}/notes", status_code=status.HTTP_201_CREATED)
def add_case_note(alert_id: int, data: NoteCreate, session: SessionDep, user: StaffDep) -> Page:
    note = monitoring.add_note(session, actor=actor_of(user), alert_id=alert_id, body=data.body)
    return monitoring.note_read(note)


@router.post("/governance/alerts/{alert_id}/close")
def close_alert(alert_id: int, data: AlertClose, session: SessionDep, user: StaffDep) -> Page:
    alert = monitoring.close_alert(
        session, actor=actor_of(user), alert_id=alert_id, outcome=data.outcome
    )
    return monitoring.alert_read(session, alert)


@router.post("/households/{household_id}/off-platform-income", status_code=status.HTTP_201_CREATED)
def record_income(
    household_id: int, data: IncomeCreate, session: SessionDep, user: StaffDep
) -> Page:
    income = monitoring.record_income(
        session,
        actor=actor_of(user),
        household_id=household_id,
        amount=data.amount,
        currency=data.currency,
        received_on=data.received_on,
        source=data.source,
        note=data.note,
    )
    return _income_read(income)


@router.get("/households/{household_id}/off-platform-income")
def list_income(household_id: int, session: SessionDep, user: StaffDep) -> Page:
    found = monitoring.list_income(session, actor=actor_of(user), household_id=household_id)
    return {"items": [_income_read(i) for i in found], "next_cursor": None}


def _income_read(income: Any) -> Page:
    return {
        "id": income.id,
        "household_id": income.household_id,
        "amount": income.amount,
        "currency": income.currency,
        "received_on": income.received_on.isoformat(),
        "source": income.source,
        "note": income.note,
        "recorded_by": income.recorded_by,
    }


@router.get("/governance/dashboard")
def staff_dashboard(session: SessionDep, user: StaffDep) -> Page:
    tiles = dashboard.staff_tiles(session, actor=actor_of(user))
    return {
        "items": [
            {
                "key": t.key,
                "label": {"zh": t.label_zh, "en": t.label_en},
                "count": t.count,
                "link": t.link,
            }
            for t in tiles
        ]
    }


# --- Hearings (public reads; organisers and members act) --------------------------------------


@router.get("/hearings")
def list_hearings(session: SessionDep, coop_id: Annotated[int | None, Query()] = None) -> Page:
    found = hearings.list_hearings(session, coop_id=coop_id)
    return {"items": [hearings.hearing_read(session, h) for h in found], "next_cursor": None}


@router.post("/hearings", status_code=status.HTTP_201_CREATED)
def propose_hearing(
    data: HearingCreate, session: SessionDep, user: CurrentUserDep, policy: PolicyDep
) -> Page:
    hearing = hearings.propose(
        session,
        actor=actor_of(user),
        coop_id=data.coop_id,
        parts=data.parts.model_dump(),
        fee_bearer=data.fee_bearer,
        reason=data.reason,
        effective_from=data.effective_from,
        comment_until=data.comment_until,
        vote_until=data.vote_until,
        quorum_bp=data.quorum_bp,
        majority_bp=data.majority_bp,
        policy=policy,
    )
    return hearings.hearing_read(session, hearing)


@router.get("/hearings/{hearing_id}")
def get_hearing(hearing_id: int, session: SessionDep) -> Page:
    return hearings.hearing_read(session, hearings.get_hearing(session, hearing_id))


@router.post("/hearings/{hearing_id}/comments", status_code=status.HTTP_201_CREATED)
def comment_hearing(
    hearing_id: int, data: CommentCreate, session: SessionDep, user: CurrentUserDep
) -> Page:
    hearings.comment(session, actor=actor_of(user), hearing_id=hearing_id, body=data.body)
    return hearings.hearing_read(session, hearings.get_hearing(session, hearing_id))


@router.post("/hearings/{hearing_id}/start-vote")
def start_vote(hearing_id: int, session: SessionDep, user: CurrentUserDep) -> Page:
    hearing = hearings.start_vote(session, actor=actor_of(user), hearing_id=hearing_id)
    return hearings.hearing_read(session, hearing)


@router.post("/hearings/{hearing_id}/votes", status_code=status.HTTP_201_CREATED)
def vote_hearing(
    hearing_id: int, data: VoteCreate, session: SessionDep, user: CurrentUserDep
) -> Page:
    cast = hearings.vote(session, actor=actor_of(user), hearing_id=hearing_id, choice=data.choice)
    return {"hearing_id": hearing_id, "choice": cast.choice, "recorded": True}


@router.post("/hearings/{hearing_id}/close")
def close_hearing(
    hearing_id: int, session: SessionDep, user: CurrentUserDep, policy: PolicyDep
) -> Page:
    hearing = hearings.close(session, actor=actor_of(user), hearing_id=hearing_id, policy=policy)
    return hearings.hearing_read(session, hearing)


# --- Ratings ---------------------------------------------------------------------------------


@router.post("/orders/{order_id}/lines/{line_id}/rating", status_code=status.HTTP_201_CREATED)
def rate_line(
    order_id: int, line_id: int, data: RatingCreate, session: SessionDep, user: CurrentUserDep
) -> Page:
    if user.role != "buyer":
        raise GovernanceForbidden("Only buyers rate what they bought.")
    rating = feedback.rate_line(
        session,
        actor=actor_of(user),
        order_id=order_id,
        line_id=line_id,
        stars=data.stars,
        comment=data.comment,
    )
    return feedback.rating_read(rating)


@router.get("/products/{product_id}/ratings")
def product_ratings(product_id: int, session: SessionDep) -> Page:
    return feedback.product_ratings(session, product_id)


@router.get("/lots/{code}/ratings")
def lot_ratings(code: str, session: SessionDep) -> Page:
    return feedback.lot_ratings(session, code)


@router.post("/ratings/{rating_id}/hide")
def hide_rating(
    rating_id: int, data: HideComment, session: SessionDep, user: CurrentUserDep
) -> Page:
    rating = feedback.hide_comment(
        session, actor=actor_of(user), rating_id=rating_id, reason=data.reason
    )
    return feedback.rating_read(rating)
