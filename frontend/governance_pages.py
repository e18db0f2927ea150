"""Governance pages: public disclosures (with a server-drawn chart) and hearings, a product's
reviews, and the staff dashboard with household alerts and case notes.

Labels go through gettext (`_()` in the templates, `N_()` tables here); stored bilingual text
through `T(value)` / `by_locale` (core/text.py).
"""

from collections.abc import Callable
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
from core.errors import DomainError
from frontend.csrf import CsrfDep
from frontend.flash import take_flash
from frontend.forms import refuse
from frontend.guards import SignedInDep, StaffPageDep
from frontend.hearing_views import hearing_context, runs_hearings
from frontend.i18n import N_, by_locale, translator
from frontend.problems import problem_message
from frontend.rendering import WebUserDep, page_router, render
from governance import dashboard, disclosure_verify, disclosures, feedback, hearings, monitoring
from governance.errors import GovernanceForbidden, GovernanceNotFound
from governance.models import Disclosure
from ledger.share_rules import SHARE_PARTS

router = page_router()

# The disclosure's parts: the share parts (ledger.share_rules.SHARE_PARTS, the producers' part
# disclosed as "households"), then the fees.
PART_LABELS = {
    **{disclosures.DISCLOSED_AS.get(part.key, part.key): part.label for part in SHARE_PARTS},
    "fees": N_("Payment fees"),
}
QUANTILE_LABELS = {
    "min": N_("Lowest"),
    "p25": N_("A quarter earned less than"),
    "median": N_("Half earned less than"),
    "p75": N_("Three quarters earned less than"),
    "max": N_("Highest"),
}
SECTION_LABELS = {
    "sales": N_("Sales"),
    "households": N_("Households"),
    "payouts": N_("Payouts"),
    "training": N_("Training"),
}
FIGURE_LABELS = {
    "total": N_("total"),
    "paid": N_("credited a share"),
    "households": N_("households"),
    "opening": N_("opening"),
    "inflow": N_("in"),
    "outflow": N_("out"),
    "closing": N_("closing"),
    "seats_financed": N_("seats financed"),
    "seat_cost_total": N_("cost of the seats"),
    "completed": N_("completed"),
}
COUNT_FIGURES = disclosures.COUNT_FIGURES
PART_COLOURS = {
    **{disclosures.DISCLOSED_AS.get(part.key, part.key): part.colour for part in SHARE_PARTS},
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
        "figure_label": lambda name: _figure_label(gettext, name),
        "quantile_label": lambda key: (
            gettext(QUANTILE_LABELS[key]) if key in QUANTILE_LABELS else key
        ),
    }


def _figure_label(gettext: Callable[[str], str], name: str) -> str:
    """'households.median' → 'Households · Half earned less than', in the reader's language."""
    section, _dot, figure = name.partition(".")
    section_words = {**PART_LABELS, **SECTION_LABELS}
    figure_words = {**PART_LABELS, **QUANTILE_LABELS, **FIGURE_LABELS}
    first = gettext(section_words[section]) if section in section_words else section
    second = gettext(figure_words[figure]) if figure in figure_words else figure
    return f"{first} · {second}"


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
    result = disclosure_verify.verify_disclosure(session, disclosure)
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
            "may_open": runs_hearings(user),
        },
    )


@router.get("/hearings/{hearing_id}", response_class=HTMLResponse)
def hearing_page(
    hearing_id: int,
    request: Request,
    user: WebUserDep,
    session: SessionDep,
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    return render(
        request,
        "governance/hearing.html",
        hearing_context(request, session, user, hearing_id, done),
    )


@router.post("/hearings/{hearing_id}/comment")
def hearing_comment(
    hearing_id: int,
    _csrf: CsrfDep,
    user: SignedInDep,
    session: SessionDep,
    body: Annotated[str, Form(max_length=2000)],
) -> Response:
    hearings.comment(session, actor=actor_of(user), hearing_id=hearing_id, body=body)
    return RedirectResponse(f"/hearings/{hearing_id}?done=comment", status_code=303)


@router.post("/hearings/{hearing_id}/vote")
def hearing_vote(
    hearing_id: int,
    _csrf: CsrfDep,
    user: SignedInDep,
    session: SessionDep,
    choice: Annotated[str, Form(max_length=10)],
) -> Response:
    hearings.vote(session, actor=actor_of(user), hearing_id=hearing_id, choice=choice)
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
    user: SignedInDep,
    session: SessionDep,
    reason: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """The cooperative's manager or staff hide a comment (the API's rules), saying why."""
    try:
        feedback.hide_comment(session, actor=actor_of(user), rating_id=rating_id, reason=reason)
    except DomainError as error:
        if isinstance(error, GovernanceForbidden):
            raise
        problem, status = problem_message(request, error), error.status_code
        refuse(
            lambda: _reviews(
                request, session, user, product_id, problem=problem, status_code=status
            )
        )
    return RedirectResponse(f"/products/{product_id}/reviews", status_code=303)


# --- Staff -----------------------------------------------------------------------------------


@router.get("/staff", response_class=HTMLResponse)
def staff_dashboard(request: Request, user: StaffPageDep, session: SessionDep) -> Response:
    tiles = dashboard.staff_tiles(session, actor=actor_of(user))
    return _page(request, "governance/staff.html", {"tiles": tiles})


@router.get("/staff/alerts", response_class=HTMLResponse)
def staff_alerts(
    request: Request,
    user: StaffPageDep,
    session: SessionDep,
    status: Annotated[str, Query(pattern="^(open|closed|)$")] = "open",
) -> Response:
    actor = actor_of(user)
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
    request: Request, _csrf: CsrfDep, user: StaffPageDep, session: SessionDep
) -> Response:
    """Recompute every household's income against the line now (the API's monitoring run)."""
    actor = actor_of(user)
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
def staff_alert(
    alert_id: int, request: Request, user: StaffPageDep, session: SessionDep
) -> Response:
    actor = actor_of(user)
    alert = monitoring.get_alert(session, actor=actor, alert_id=alert_id)
    return _page(request, "governance/alert.html", {"a": monitoring.alert_read(session, alert)})


@router.post("/staff/alerts/{alert_id}/notes")
def staff_alert_note(
    alert_id: int,
    _csrf: CsrfDep,
    user: StaffPageDep,
    session: SessionDep,
    body: Annotated[str, Form(max_length=5000)],
) -> Response:
    monitoring.add_note(session, actor=actor_of(user), alert_id=alert_id, body=body)
    return RedirectResponse(f"/staff/alerts/{alert_id}", status_code=303)


@router.post("/staff/alerts/{alert_id}/close")
def staff_alert_close(
    alert_id: int,
    _csrf: CsrfDep,
    user: StaffPageDep,
    session: SessionDep,
    outcome: Annotated[str, Form(max_length=1000)],
) -> Response:
    monitoring.close_alert(session, actor=actor_of(user), alert_id=alert_id, outcome=outcome)
    return RedirectResponse(f"/staff/alerts/{alert_id}", status_code=303)


def install_governance_pages(app: FastAPI) -> None:
    app.include_router(router)


__all__ = ["GovernanceNotFound", "chart", "install_governance_pages", "router"]
