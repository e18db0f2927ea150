"""Server-rendered pages: mounts static files, the page routers and the HTML error page."""

import logging
import os
from os import PathLike

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import Scope

from api.deps import SESSION_COOKIE
from api.models import User
from api.service import user_for_web_session
from frontend import order_pages, pages, training_pages
from frontend.account_pages import install_account_pages
from frontend.catalog_pages import install_catalog_pages
from frontend.community_pages import install_community_pages
from frontend.coop_admin_pages import install_coop_admin_pages
from frontend.csrf import CsrfRefused
from frontend.disclosure_pages import install_disclosure_pages
from frontend.forms import install_refusals
from frontend.governance_pages import install_governance_pages
from frontend.guards import install_guards
from frontend.hearing_pages import install_hearing_pages
from frontend.household_pages import install_household_pages
from frontend.i18n import N_, SUPPORTED_LOCALES, translations_for
from frontend.impact_pages import install_impact_pages
from frontend.job_pages import install_job_pages
from frontend.ledger_pages import install_ledger_pages
from frontend.notify_pages import install_notify_pages
from frontend.order_checkout_pages import install_order_checkout_pages
from frontend.order_fulfilment_pages import install_order_fulfilment_pages
from frontend.order_staff_pages import install_order_staff_pages
from frontend.payout_pages import install_payout_pages
from frontend.plan_pages import install_plan_pages
from frontend.problems import error_page_detail
from frontend.product_photo_pages import install_product_photo_pages
from frontend.reconciliation_pages import install_reconciliation_pages
from frontend.refund_request_pages import install_refund_request_pages
from frontend.rendering import STATIC_DIR, STATIC_PREFIX, reload_templates, render

logger = logging.getLogger("hezuo.frontend")

# Headings and explanations of error pages, by status (translated when rendered).
ERROR_TEXTS: dict[int, tuple[str, str]] = {
    400: (N_("Bad request"), N_("The request could not be understood.")),
    401: (N_("Please sign in"), N_("This page is only for signed-in users.")),
    403: (N_("Not allowed"), N_("Your account may not open this page or do this.")),
    404: (N_("Page not found"), N_("There is no page at this address. Check the link.")),
    405: (N_("Not allowed here"), N_("This address does not accept this kind of request.")),
    409: (N_("Conflict"), N_("This clashes with something that changed meanwhile.")),
    422: (N_("Please check what you entered"), N_("Some of what was sent is not valid.")),
    429: (N_("Too many tries"), N_("Please wait a little, then try again.")),
    500: (N_("Something went wrong"), N_("An error on our side stopped this page.")),
    503: (N_("Not available right now"), N_("The service is not ready. Try again soon.")),
}
ERROR_TITLES = {CsrfRefused.title: N_("Form expired")}
GENERIC_ERROR = (N_("Error"), N_("This request could not be completed."))


class CachedStaticFiles(StaticFiles):
    """Static files with cache headers: a year (immutable) for ``?v=<hash>`` URLs, else an hour."""

    def file_response(
        self,
        full_path: str | PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        versioned = b"v=" in scope.get("query_string", b"")
        response.headers["Cache-Control"] = (
            "public, max-age=31536000, immutable" if versioned else "public, max-age=3600"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def _user_after_the_request(request: Request) -> User | None:
    """The signed-in user for an error page, read in a session of its own.

    By the time an error page is rendered the request's session has been closed (and a rolled
    back one has expired the user it loaded), so the user is read again; close() keeps the
    loaded attributes on the detached object.
    """
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        with request.app.state.session_factory() as session:
            return user_for_web_session(session, token)
    except SQLAlchemyError:
        logger.warning("could not look up the signed-in user for an error page", exc_info=True)
        return None


def render_error_page(request: Request, status: int, title: str, detail: str) -> Response:
    """The HTML error page for browser requests (API clients keep getting problem+json)."""
    request.state.web_user = _user_after_the_request(request)
    heading, explanation = ERROR_TEXTS.get(status, GENERIC_ERROR)
    heading = ERROR_TITLES.get(title, heading)
    detail = error_page_detail(request, detail)
    context = {"status": status, "heading": heading, "explanation": explanation, "detail": detail}
    return render(request, "error.html", context, status_code=status)


def install_frontend(app: FastAPI) -> None:
    reload_templates(app.state.settings.env == "development")
    for locale in SUPPORTED_LOCALES:  # compiled at start, not by a worker's first requests
        translations_for(locale)
    app.mount(STATIC_PREFIX, CachedStaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(pages.locale_router)
    app.include_router(pages.router)
    install_catalog_pages(app)
    install_order_checkout_pages(app)
    order_pages.install_order_pages(app)
    install_order_fulfilment_pages(app)
    install_order_staff_pages(app)
    install_refund_request_pages(app)
    install_ledger_pages(app)
    install_payout_pages(app)
    install_reconciliation_pages(app)
    training_pages.install_training_pages(app)
    install_governance_pages(app)
    install_disclosure_pages(app)
    install_hearing_pages(app)
    install_household_pages(app)
    install_job_pages(app)
    install_notify_pages(app)
    install_coop_admin_pages(app)
    install_plan_pages(app)
    install_product_photo_pages(app)
    install_community_pages(app)
    install_impact_pages(app)
    install_account_pages(app)
    install_guards(app)
    install_refusals(app)
    app.state.render_error_page = render_error_page
