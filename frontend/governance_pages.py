"""Governance pages: public disclosures (with a server-drawn chart) and hearings, a product's
reviews, and the staff dashboard with household alerts and case notes.

Labels go through gettext (`_()` in the templates, `N_()` tables here); stored bilingual text
through `T(value)` / `by_locale` (core/text.py).
"""

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from api.deps import SessionDep, actor_of
from api.models import User
from catalog.models import Cooperative, Product
from catalog.permissions import manages_coop
from core.actor import Actor
from core.errors import DomainError, Unauthorized
from frontend.csrf import CsrfDep
from frontend.flash import take_flash
from frontend.i18n import N_, by_locale, translator
from frontend.problems import problem_message
from frontend.rendering import WebUserDep, page_router, render
from governance import dashboard, disclosures, feedback, hearings, monitoring
from governance.errors import GovernanceForbidden, GovernanceNotFound
from governance.models import Disclosure, HearingStatus

router = page_router()

PART_LABELS = {
    "households": N_("Households"),
    "collective_fund": N_("Collective fund"),
    "training_fund": N_("Training fund"),
    "enterprise": N_("Social enterprise"),
    "fees": N_("Payment fees"),
}
COUNT_FIGURES = disclosures.COUNT_FIGURES
PART_COLOURS = {
    "households": "#2f7d32",
    "collective_fund": "#1565c0",
    "training_fund": "#ef6c00",
    "enterprise": "#6a1b9a",
    "fees": "#757575",
}


def _helpers(request: Request) -> dict[str, Any]:
    gettext = translator(request).gettext

    def coop_name(coop: Cooperative | None) -> str:
        if coop is None:
            return ""
        return by_locale(request, coop.name_zh, coop.name_en)

    return {
        "coop_name": coop_name,
        "part_label": lambda key: gettext(PART_LABELS[key]) if key in PART_LABELS else key,
    }


def _page(request: Request, template: str, context: dict[str, Any]) -> HTMLResponse:
    return render(request, template, {**_helpers(request), **context})


def chart(report: dict[str, Any]) -> dict[str, Any]:
    """Bars of the split, as numbers for an inline SVG 360 units wide (a phone's width, so its
    13-unit labels stay about 12 px): each part's label above its bar, the amount after it."""
    # A part withheld for privacy (None: one household's income) is not drawn.
    parts = {key: value for key, value in report["sales"]["parts"].items() if value is not None}
    largest = max([abs(v) for v in parts.values()] + [1])
    bars = []
    for index, (key, amount) in enumerate(parts.items()):
        bars.append(
            {
                "key": key,
                "amount": amount,
                "y": 4 + index * 46,
                "width": max(0, round(220 * abs(amount) / largest)),
                "colour": PART_COLOURS.get(key, "#444"),
            }
        )
    return {"bars": bars, "height": 8 + len(bars) * 46}


# --- Disclosures -----------------------------------------------------------------------------


@router.get("/disclosures", response_class=HTMLResponse)
def disclosure_index(
    request: Request,
    user: WebUserDep,
    session: SessionDep,
    coop: Annotated[int | None, Query()] = None,
) -> Response:
    found = disclosures.list_disclosures(session, coop_id=coop)
    coops = {c.id: c for c in (session.get(Cooperative, d.coop_id) for d in found) if c}
    return _page(
        request,
        "governance/disclosures.html",
        {
            "items": found,
            "coops": coops,
            "coop_filter": session.get(Cooperative, coop) if coop else None,
            "hearings": hearings.list_hearings(session, coop_id=coop)[:10],
        },
    )


@router.get("/disclosures/coops/{coop_id}/latest")
def latest_disclosure(coop_id: int, session: SessionDep, user: WebUserDep) -> Response:
    latest = disclosures.latest_for_coop(session, coop_id)
    if latest is None:
        return RedirectResponse(f"/disclosures?coop={coop_id}", status_code=303)
    return RedirectResponse(f"/disclosures/{latest.id}", status_code=303)


@router.get("/disclosures/{disclosure_id}", response_class=HTMLResponse)
def disclosure_page(
    disclosure_id: int, request: Request, user: WebUserDep, session: SessionDep
) -> Response:
    disclosure: Disclosure = disclosures.get_disclosure(session, disclosure_id)
    report = disclosure.content
    return _page(
        request,
        "governance/disclosure.html",
        {
            "d": disclosure,
            "r": report,
            "coop": session.get(Cooperative, disclosure.coop_id),
            "chart": chart(report),
            "rows": disclosures.report_rows(report),
            "msg": take_flash(request).notice,
        },
    )


@router.get("/disclosures/{disclosure_id}/verify", response_class=HTMLResponse)
def disclosure_verify_page(
    disclosure_id: int, request: Request, user: WebUserDep, session: SessionDep
) -> Response:
    """The public check in the reader's language: what was recomputed and whether it matches."""
    disclosure: Disclosure = disclosures.get_disclosure(session, disclosure_id)
    result = disclosures.verify_disclosure(session, disclosure)
    published = {(s, f): v for s, f, v in disclosures.report_rows(disclosure.content)}
    figures = [
        {
            "name": f"{section}.{figure}",
            "now": value,
            "published": published.get((section, figure)),
            "money": f"{section}.{figure}" not in COUNT_FIGURES,
        }
        for section, figure, value in result["recomputed"]["figures"]
    ]
    return _page(
        request,
        "governance/disclosure_verify.html",
        {
            "d": disclosure,
            "v": result,
            "coop": session.get(Cooperative, disclosure.coop_id),
            "figures": figures,
        },
    )


# --- Hearings --------------------------------------------------------------------------------


@router.get("/hearings", response_class=HTMLResponse)
def hearing_index(
    request: Request,
    user: WebUserDep,
    session: SessionDep,
    coop: Annotated[int | None, Query()] = None,
) -> Response:
    found = hearings.list_hearings(session, coop_id=coop)
    return _page(
        request,
        "governance/hearings.html",
        {
            "items": [hearings.hearing_read(session, h) for h in found],
            "coops": {h.coop_id: session.get(Cooperative, h.coop_id) for h in found},
        },
    )


def _may_take_part(session: Session, actor: Actor, hearing_id: int) -> bool:
    hearing = hearings.get_hearing(session, hearing_id)
    try:
        hearings._member_household(session, actor, hearing)
    except DomainError:
        return False
    return True


@router.get("/hearings/{hearing_id}", response_class=HTMLResponse)
def hearing_page(
    hearing_id: int,
    request: Request,
    user: WebUserDep,
    session: SessionDep,
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    hearing = hearings.get_hearing(session, hearing_id)
    return _page(
        request,
        "governance/hearing.html",
        {
            "h": hearings.hearing_read(session, hearing),
            "coop": session.get(Cooperative, hearing.coop_id),
            "member": _may_take_part(session, actor_of(user), hearing_id),
            "commenting": hearing.status == HearingStatus.comment,
            "voting": hearing.status == HearingStatus.voting,
            "done": done,
        },
    )


def _signed_in(user: User | None) -> User:
    if user is None:
        raise Unauthorized("Sign in with your farmer account to take part.")
    return user


@router.post("/hearings/{hearing_id}/comment")
def hearing_comment(
    hearing_id: int,
    _csrf: CsrfDep,
    user: WebUserDep,
    session: SessionDep,
    body: Annotated[str, Form(max_length=2000)],
) -> Response:
    hearings.comment(session, actor=actor_of(_signed_in(user)), hearing_id=hearing_id, body=body)
    return RedirectResponse(f"/hearings/{hearing_id}?done=comment", status_code=303)


@router.post("/hearings/{hearing_id}/vote")
def hearing_vote(
    hearing_id: int,
    _csrf: CsrfDep,
    user: WebUserDep,
    session: SessionDep,
    choice: Annotated[str, Form(max_length=10)],
) -> Response:
    hearings.vote(session, actor=actor_of(_signed_in(user)), hearing_id=hearing_id, choice=choice)
    return RedirectResponse(f"/hearings/{hearing_id}?done=vote", status_code=303)


# --- Reviews ---------------------------------------------------------------------------------


def _reviews(
    request: Request,
    session: Session,
    user: User | None,
    product_id: int,
    *,
    problem: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    product = session.get(Product, product_id)
    may_hide = product is not None and manages_coop(actor_of(user), product.coop_id)
    return render(
        request,
        "governance/reviews.html",
        {
            **_helpers(request),
            "ratings": feedback.product_ratings(session, product_id),
            "product_id": product_id,
            "may_hide": may_hide,
            "problem": problem,
        },
        status_code=status_code,
    )


@router.get("/products/{product_id}/reviews", response_class=HTMLResponse)
def product_reviews(
    product_id: int, request: Request, user: WebUserDep, session: SessionDep
) -> Response:
    return _reviews(request, session, user, product_id)


@router.post("/products/{product_id}/reviews/{rating_id}/hide", response_class=HTMLResponse)
def hide_review(
    product_id: int,
    rating_id: int,
    request: Request,
    _csrf: CsrfDep,
    user: WebUserDep,
    session: SessionDep,
    reason: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """The cooperative's manager or staff hide a comment (the API's rules), saying why."""
    if user is None:
        raise Unauthorized("Sign in first.")
    try:
        feedback.hide_comment(session, actor=actor_of(user), rating_id=rating_id, reason=reason)
    except DomainError as error:
        if isinstance(error, GovernanceForbidden):
            raise
        session.rollback()
        return _reviews(
            request,
            session,
            user,
            product_id,
            problem=problem_message(request, error),
            status_code=error.status_code,
        )
    return RedirectResponse(f"/products/{product_id}/reviews", status_code=303)


# --- Staff -----------------------------------------------------------------------------------


def _staff(user: User | None) -> Actor:
    if user is None:
        raise Unauthorized("Sign in as staff.")
    actor = actor_of(user)
    if not actor.reads_all:
        raise GovernanceForbidden("Only staff may open this page.")
    return actor


@router.get("/staff", response_class=HTMLResponse)
def staff_dashboard(request: Request, user: WebUserDep, session: SessionDep) -> Response:
    tiles = dashboard.staff_tiles(session, actor=_staff(user))
    return _page(request, "governance/staff.html", {"tiles": tiles})


@router.get("/staff/alerts", response_class=HTMLResponse)
def staff_alerts(
    request: Request,
    user: WebUserDep,
    session: SessionDep,
    status: Annotated[str, Query(pattern="^(open|closed|)$")] = "open",
) -> Response:
    actor = _staff(user)
    found = monitoring.list_alerts(session, actor=actor, status=status or None)
    return _page(
        request,
        "governance/alerts.html",
        {
            "alerts": [monitoring.alert_read(session, a, full=False) for a in found],
            "status": status,
            "ran": None,
        },
    )


@router.post("/staff/alerts/run", response_class=HTMLResponse)
def staff_run_monitoring(
    request: Request, _csrf: CsrfDep, user: WebUserDep, session: SessionDep
) -> Response:
    """Recompute every household's income against the line now (the API's monitoring run)."""
    actor = _staff(user)
    today = datetime.now(ZoneInfo(request.app.state.settings.timezone)).date()
    result = monitoring.run_monitor(session, as_of=today)
    found = monitoring.list_alerts(session, actor=actor, status="open")
    return _page(
        request,
        "governance/alerts.html",
        {
            "alerts": [monitoring.alert_read(session, a, full=False) for a in found],
            "status": "open",
            "ran": result,
        },
    )


@router.get("/staff/alerts/{alert_id}", response_class=HTMLResponse)
def staff_alert(alert_id: int, request: Request, user: WebUserDep, session: SessionDep) -> Response:
    actor = _staff(user)
    alert = monitoring.get_alert(session, actor=actor, alert_id=alert_id)
    return _page(request, "governance/alert.html", {"a": monitoring.alert_read(session, alert)})


@router.post("/staff/alerts/{alert_id}/notes")
def staff_alert_note(
    alert_id: int,
    _csrf: CsrfDep,
    user: WebUserDep,
    session: SessionDep,
    body: Annotated[str, Form(max_length=5000)],
) -> Response:
    monitoring.add_note(session, actor=_staff(user), alert_id=alert_id, body=body)
    return RedirectResponse(f"/staff/alerts/{alert_id}", status_code=303)


@router.post("/staff/alerts/{alert_id}/close")
def staff_alert_close(
    alert_id: int,
    _csrf: CsrfDep,
    user: WebUserDep,
    session: SessionDep,
    outcome: Annotated[str, Form(max_length=1000)],
) -> Response:
    monitoring.close_alert(session, actor=_staff(user), alert_id=alert_id, outcome=outcome)
    return RedirectResponse(f"/staff/alerts/{alert_id}", status_code=303)


def install_governance_pages(app: FastAPI) -> None:
    app.include_router(router)


__all__ = ["GovernanceNotFound", "chart", "install_governance_pages", "router"]
