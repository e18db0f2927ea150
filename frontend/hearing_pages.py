"""Running a share-rule hearing from the pages: staff or the cooperative's manager open one (the
proposal, its dates and thresholds), end its comment period to open the vote, and close the vote.

The forms call governance.hearings like the API does, so the rules and permissions are the API's
(staff any cooperative, a manager their own; members comment and vote on the hearing's own page).
Each step cannot be undone, so each asks for confirmation first, saying what it does to the money.
A refused form re-renders with what was typed and the problem in the reader's language.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, NoReturn

from fastapi import FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from api.deps import SessionDep, SettingsDep, actor_of
from api.models import User
from api.policies import order_policy
from catalog import service
from catalog.models import Cooperative, Household
from catalog.permissions import manages_coop
from core.actor import Actor
from core.errors import DomainError, Forbidden, NotFound
from frontend.confirmations import confirm_page, confirmed
from frontend.csrf import CsrfDep
from frontend.forms import refuse
from frontend.guards import ManagerOrStaffPageDep
from frontend.hearing_views import PART_LABELS, hearing_context
from frontend.i18n import N_, by_locale, translator
from frontend.problems import problem_message
from frontend.rendering import page_router, render
from governance import hearings
from governance.errors import AlreadyDone, GovernanceForbidden

router = page_router()

PARTS = ("producers", "collective_fund", "training_fund", "enterprise")
FEE_BEARERS = {
    "enterprise": N_("The social enterprise pays the payment fees"),
    "pro_rata": N_("Every part pays its share of the fees"),
}
DATES = ("comment_until", "vote_until", "effective_from")
TEXT_FIELDS = (*PARTS, "fee_bearer", "reason", *DATES, "quorum", "majority")
ENTER_PERCENT = N_("Enter a percentage from 0 to 100, e.g. 70 or 12.5")
ENTER_DATE = N_("Enter a date")
ENTER_REASON = N_("Say why the split should change")
FIELD_NAMES = {"parts": "producers", "quorum_bp": "quorum", "majority_bp": "majority"}


def _coops_for(session: Session, actor: Actor) -> list[Cooperative]:
    if actor.role == "manager" and actor.coop_id is not None:
        coop = session.get(Cooperative, actor.coop_id)
        return [coop] if coop else []
    return service.list_coops(session, after_id=None, limit=500)


def percent_to_bp(text: str) -> int | None:
    """'70' or '12.5' (or '12,5', full-width digits) percent → basis points; None if not one."""
    cleaned = text.strip().replace("%", "").replace("％", "").replace(",", ".").strip()
    cleaned = cleaned.translate({0xFF10 + d: str(d) for d in range(10)} | {0xFF0E: "."})
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    bp = value * 100
    if not value.is_finite() or bp != bp.to_integral_value() or not 0 <= bp <= 10_000:
        return None
    return int(bp)


@dataclass
class Proposal:
    """What the form typed, parsed: basis points, dates, and per-field msgids of typing errors."""

    values: dict[str, str]
    parts: dict[str, int] = field(default_factory=dict)
    dates: dict[str, date] = field(default_factory=dict)
    quorum_bp: int = 5_000
    majority_bp: int = 5_000
    errors: dict[str, str] = field(default_factory=dict)


def parse_proposal(values: dict[str, str]) -> Proposal:
    found = Proposal(values=values)
    for name in PARTS:
        bp = percent_to_bp(values.get(name, ""))
        if bp is None:
            found.errors[name] = ENTER_PERCENT
        else:
            found.parts[name] = bp
    for name in DATES:
        try:
            found.dates[name] = date.fromisoformat(values.get(name, ""))
        except ValueError:
            found.errors[name] = ENTER_DATE
    for name in ("quorum", "majority"):
        bp = percent_to_bp(values.get(name, ""))
        if bp is None or (name == "majority" and bp > 9_999):
            found.errors[name] = ENTER_PERCENT
        else:
            setattr(found, f"{name}_bp", bp)
    if not values.get("reason", "").strip():
        found.errors["reason"] = ENTER_REASON
    if values.get("fee_bearer") not in FEE_BEARERS:
        found.values["fee_bearer"] = "enterprise"
    return found


def _form_page(
    request: Request,
    session: Session,
    actor: Actor,
    values: dict[str, str],
    *,
    errors: dict[str, str] | None = None,
    problem: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    gettext = translator(request).gettext
    return render(
        request,
        "governance/hearing_new.html",
        {
            "coops": [
                {"id": c.id, "name": by_locale(request, c.name_zh, c.name_en)}
                for c in _coops_for(session, actor)
            ],
            "values": values,
            "errors": errors or {},
            "problem": problem,
            "part_labels": {k: gettext(v) for k, v in PART_LABELS.items()},
            "fee_bearers": {k: gettext(v) for k, v in FEE_BEARERS.items()},
        },
        status_code=status_code,
    )


def _defaults(coop_id: int | None) -> dict[str, str]:
    return {
        "coop_id": str(coop_id or ""),
        "fee_bearer": "enterprise",
        "quorum": "50",
        "majority": "50",
    }


@router.get("/manage/hearings/new", response_class=HTMLResponse)
def new_hearing(
    request: Request,
    user: ManagerOrStaffPageDep,
    session: SessionDep,
    coop_id: Annotated[int | None, Query()] = None,
) -> Response:
    """The form for staff (any cooperative) or a cooperative's manager (their own only)."""
    actor = actor_of(user)
    if actor.role == "manager":
        coop_id = actor.coop_id
    return _form_page(request, session, actor, _defaults(coop_id))


def _consequences(request: Request, proposal: Proposal, coop: Cooperative) -> list[str]:
    gettext = translator(request).gettext
    split = ", ".join(
        f"{gettext(PART_LABELS[name])} {proposal.parts[name] / 100:g} %" for name in PARTS
    )
    return [
        gettext("Every member household of %(coop)s is told that the hearing is open.")
        % {"coop": by_locale(request, coop.name_zh, coop.name_en)},
        gettext("The proposed split of each sale: %(split)s.") % {"split": split},
        gettext(
            "Members comment until %(comment)s and vote until %(vote)s; if the vote adopts it, "
            "the split applies to sales from %(effective)s, never to earlier ones."
        )
        % {
            "comment": proposal.dates["comment_until"].isoformat(),
            "vote": proposal.dates["vote_until"].isoformat(),
            "effective": proposal.dates["effective_from"].isoformat(),
        },
    ]


def _organised_coop(session: Session, actor: Actor, coop_id: str) -> Cooperative | None:
    """The cooperative chosen on the form (None when none is); refused unless this actor runs its
    hearings (staff, or its own manager)."""
    coop = session.get(Cooperative, int(coop_id)) if coop_id.isdigit() else None
    if coop is None or coop.id is None:
        return None
    if not manages_coop(actor, coop.id):
        raise GovernanceForbidden(
            f"Only staff or cooperative {coop.id}'s manager may run its hearings."
        )
    return coop


@router.post("/manage/hearings/new", response_class=HTMLResponse)
async def open_hearing(
    request: Request,
    _csrf: CsrfDep,
    user: ManagerOrStaffPageDep,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    actor = actor_of(user)
    form = await request.form(max_files=0, max_fields=30)
    values = {name: str(form.get(name) or "").strip()[:2000] for name in TEXT_FIELDS}
    coop_id = str(form.get("coop_id") or "").strip()
    values["coop_id"] = coop_id
    gettext = translator(request).gettext
    coop = _organised_coop(session, actor, coop_id)
    proposal = parse_proposal(values)
    errors = {name: gettext(msgid) for name, msgid in proposal.errors.items()}
    if coop is None:
        errors["coop_id"] = gettext("Choose a cooperative")
    if errors:
        return _form_page(request, session, actor, values, errors=errors, status_code=422)
    assert coop is not None
    assert coop.id is not None
    if not confirmed(str(form.get("confirmed") or "")):
        return confirm_page(
            request,
            title=gettext("Open this hearing?"),
            consequences=_consequences(request, proposal, coop),
            action="/manage/hearings/new",
            fields=values,
            button=gettext("Open the hearing"),
            back=f"/manage/hearings/new?coop_id={coop.id}",
            danger=False,
        )
    try:
        hearing = hearings.propose(
            session,
            actor=actor,
            coop_id=coop.id,
            parts=proposal.parts,
            fee_bearer=values["fee_bearer"],
            reason=values["reason"],
            effective_from=proposal.dates["effective_from"],
            comment_until=proposal.dates["comment_until"],
            vote_until=proposal.dates["vote_until"],
            quorum_bp=proposal.quorum_bp,
            majority_bp=proposal.majority_bp,
            policy=order_policy(settings),
        )
    except DomainError as error:
        if isinstance(error, Forbidden | NotFound):
            raise
        marked = _field_errors(error)
        problem = problem_message(request, error)
        status = error.status_code
        refuse(
            lambda: _form_page(
                request,
                session,
                actor,
                values,
                errors=marked,
                problem=problem,
                status_code=status,
            )
        )
    return RedirectResponse(f"/hearings/{hearing.id}?done=opened", status_code=303)


def _field_errors(error: DomainError) -> dict[str, str]:
    """Which fields to mark (the message itself is the form's problem line)."""
    marked: dict[str, str] = {}
    locs = [list(item.get("loc") or []) for item in error.errors or []]
    for loc in locs:
        parts = [str(p) for p in loc if p not in ("body", "parts")]
        name = parts[0] if parts else "producers"
        marked[FIELD_NAMES.get(name, name)] = "!"
    return marked


# Starting and closing the vote


def _hearing_for_organiser(session: Session, user: User, hearing_id: int) -> Actor:
    """Staff, or this hearing's cooperative's manager (the guard has let only those roles in)."""
    actor = actor_of(user)
    hearing = hearings.get_hearing(session, hearing_id)
    if not manages_coop(actor, hearing.coop_id):
        raise GovernanceForbidden(
            f"Only staff or cooperative {hearing.coop_id}'s manager may run its hearings."
        )
    return actor


def _refuse_step(
    request: Request, session: Session, user: User, hearing_id: int, error: DomainError
) -> NoReturn:
    """A refused step: nothing is stored, and the hearing's page says why in the reader's
    language (a refusal of who may, or a hearing that is not there, is its own page)."""
    if isinstance(error, Forbidden | NotFound):
        raise error
    problem = problem_message(request, error)
    status = error.status_code

    def answer() -> Response:
        context = hearing_context(request, session, user, hearing_id)
        context["problem"] = problem
        return render(request, "governance/hearing.html", context, status_code=status)

    refuse(answer)


@router.post("/manage/hearings/{hearing_id}/start-vote", response_class=HTMLResponse)
def start_vote(
    hearing_id: int,
    request: Request,
    _csrf: CsrfDep,
    user: ManagerOrStaffPageDep,
    session: SessionDep,
    confirmed_: Annotated[str, Form(alias="confirmed", max_length=3)] = "",
) -> Response:
    actor = _hearing_for_organiser(session, user, hearing_id)
    gettext = translator(request).gettext
    if not confirmed(confirmed_):
        return confirm_page(
            request,
            title=gettext("End the comments and open the vote?"),
            consequences=[
                gettext("Members can no longer comment on this proposal."),
                gettext("Each member household may vote once: yes, no or abstain."),
                gettext("Nothing changes in how sales are split until the vote is closed."),
            ],
            action=f"/manage/hearings/{hearing_id}/start-vote",
            fields={},
            button=gettext("Open the vote"),
            back=f"/hearings/{hearing_id}",
            danger=False,
        )
    try:
        hearings.start_vote(session, actor=actor, hearing_id=hearing_id)
    except DomainError as error:
        _refuse_step(request, session, user, hearing_id, error)
    return RedirectResponse(f"/hearings/{hearing_id}?done=voting", status_code=303)


def _close_consequences(request: Request, read: dict[str, Any]) -> list[str]:
    gettext = translator(request).gettext
    split = ", ".join(
        f"{gettext(PART_LABELS[name])} {read['parts'][name] / 100:g} %" for name in PARTS
    )
    return [
        gettext("The vote ends: %(n)s households have voted.") % {"n": read["votes_cast"]},
        gettext(
            "If the quorum (%(quorum)s %%) and the majority (over %(majority)s %% of yes and no) "
            "are met, every sale from %(effective)s on is split: %(split)s."
        )
        % {
            "quorum": f"{read['quorum_bp'] / 100:g}",
            "majority": f"{read['majority_bp'] / 100:g}",
            "effective": read["effective_from"],
            "split": split,
        },
        gettext("Otherwise the proposal is rejected and the present split stays."),
    ]


@router.post("/manage/hearings/{hearing_id}/close", response_class=HTMLResponse)
def close_hearing(
    hearing_id: int,
    request: Request,
    _csrf: CsrfDep,
    user: ManagerOrStaffPageDep,
    session: SessionDep,
    settings: SettingsDep,
    confirmed_: Annotated[str, Form(alias="confirmed", max_length=3)] = "",
) -> Response:
    actor = _hearing_for_organiser(session, user, hearing_id)
    gettext = translator(request).gettext
    if not confirmed(confirmed_):
        read = hearings.hearing_read(session, hearings.get_hearing(session, hearing_id))
        return confirm_page(
            request,
            title=gettext("Close the vote and count it?"),
            consequences=_close_consequences(request, read),
            action=f"/manage/hearings/{hearing_id}/close",
            fields={},
            button=gettext("Close and count the vote"),
            back=f"/hearings/{hearing_id}",
        )
    try:
        hearings.close(session, actor=actor, hearing_id=hearing_id, policy=order_policy(settings))
    except DomainError as error:
        _refuse_step(request, session, user, hearing_id, error)
    return RedirectResponse(f"/hearings/{hearing_id}?done=closed", status_code=303)


CHOICES = {"yes": N_("Yes"), "no": N_("No"), "abstain": N_("Abstain")}


@router.post("/manage/hearings/{hearing_id}/votes", response_class=HTMLResponse)
def record_vote(
    hearing_id: int,
    request: Request,
    _csrf: CsrfDep,
    user: ManagerOrStaffPageDep,
    session: SessionDep,
    household_id: Annotated[str, Form(max_length=12)] = "",
    choice: Annotated[str, Form(max_length=10)] = "",
    confirmed_: Annotated[str, Form(alias="confirmed", max_length=3)] = "",
) -> Response:
    """A member's vote cast at a meeting or on paper, entered by the organiser after confirming."""
    actor = _hearing_for_organiser(session, user, hearing_id)
    gettext = translator(request).gettext
    values = {"household_id": household_id, "choice": choice}
    household = session.get(Household, int(household_id)) if household_id.isdigit() else None
    if household is None or choice not in CHOICES:
        problem = gettext(N_("Choose the household and its vote."))
        return _vote_refused(request, session, user, hearing_id, values, problem)
    if not confirmed(confirmed_):
        return confirm_page(
            request,
            title=gettext("Record this vote?"),
            consequences=[
                gettext("Household %(code)s %(name)s votes: %(choice)s.")
                % {
                    "code": household.member_code,
                    "name": household.name,
                    "choice": gettext(CHOICES[choice]),
                },
                gettext(
                    "It counts like a vote cast online, once per household; it cannot be "
                    "changed, and the record shows that you entered it."
                ),
            ],
            action=f"/manage/hearings/{hearing_id}/votes",
            fields=values,
            button=gettext("Record the vote"),
            back=f"/hearings/{hearing_id}#record-vote",
            danger=False,
        )
    try:
        hearings.record_vote(
            session,
            actor=actor,
            hearing_id=hearing_id,
            household_id=household.id or 0,
            choice=choice,
        )
    except AlreadyDone:
        problem = gettext(N_("This household has already voted in this hearing."))
        refuse(lambda: _vote_refused(request, session, user, hearing_id, values, problem, 409))
    except DomainError as error:
        if isinstance(error, Forbidden | NotFound):
            raise
        problem = problem_message(request, error)
        status = error.status_code
        refuse(lambda: _vote_refused(request, session, user, hearing_id, values, problem, status))
    return RedirectResponse(f"/hearings/{hearing_id}?done=vote", status_code=303)


def _vote_refused(
    request: Request,
    session: Session,
    user: User,
    hearing_id: int,
    values: dict[str, str],
    problem: str,
    status_code: int = 422,
) -> HTMLResponse:
    context = hearing_context(request, session, user, hearing_id)
    context.update(vote_values=values, vote_problem=problem)
    return render(request, "governance/hearing.html", context, status_code=status_code)


def install_hearing_pages(app: FastAPI) -> None:
    app.include_router(router)
