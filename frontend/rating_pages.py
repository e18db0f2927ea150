"""A buyer rates what they bought, from the order page once it has arrived (the API's rules:
only the order's own buyer, a delivered order, each line once, 1 to 5 stars)."""

from typing import Annotated

from fastapi import FastAPI, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.deps import SessionDep, SettingsDep, actor_of
from frontend.csrf import CsrfDep
from frontend.i18n import N_, translator
from frontend.order_pages import order_page_with_problem
from frontend.problems import problem_message
from frontend.rendering import WebUserDep, page_router, sign_in_redirect
from governance import feedback
from governance.errors import GovernanceForbidden
from ledger.errors import DomainError

router = page_router()
MSG_STARS = N_("Choose from 1 to 5 stars.")


@router.post("/orders/{order_id}/lines/{line_id}/rating")
def rate_submit(
    order_id: int,
    line_id: int,
    request: Request,
    _csrf: CsrfDep,
    user: WebUserDep,
    session: SessionDep,
    settings: SettingsDep,
    stars: Annotated[str, Form(max_length=2)] = "",
    comment: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    if user is None:
        return sign_in_redirect(request, f"/orders/{order_id}")
    if user.role != "buyer":
        raise GovernanceForbidden("Only buyers rate what they bought.")
    try:
        if not stars.isdigit() or not 1 <= int(stars) <= 5:
            problem = translator(request).gettext(MSG_STARS)
            return order_page_with_problem(request, session, settings, order_id, problem, 422)
        feedback.rate_line(
            session,
            actor=actor_of(user),
            order_id=order_id,
            line_id=line_id,
            stars=int(stars),
            comment=comment,
        )
    except DomainError as error:
        if isinstance(error, GovernanceForbidden):
            raise
        session.rollback()
        return order_page_with_problem(
            request, session, settings, order_id, problem_message(request, error), error.status_code
        )
    return RedirectResponse(f"/orders/{order_id}#rate", status_code=303)


def install_rating_pages(app: FastAPI) -> None:
    app.include_router(router)
