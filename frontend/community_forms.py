"""What the community pages share: today in the reader's zone, and a refusal's message in the
reader's language (governance raises its errors in English)."""

from datetime import date

from fastapi import Request
from pydantic import ValidationError

from core.errors import DomainError
from core.time import to_reader_zone
from frontend.i18n import N_, translator
from ledger.base import utcnow

MESSAGES = {
    "already-done": N_("Your household has already answered or rated this: once only."),
    "hearing-wrong-phase": N_("This consultation is not open for that now."),
    "not-a-member": N_("Only member households of this cooperative answer its consultations."),
    "governance-invalid": N_("Some details are not right."),
    "governance-forbidden": N_("You may not do this."),
}


def today_of(request: Request) -> date:
    return to_reader_zone(utcnow(), request.app.state.settings.timezone).date()


def message(request: Request, error: DomainError | ValidationError) -> str:
    """A translated summary of a refusal, then its specifics (in English, as the API says them)."""
    gettext = translator(request).gettext
    if isinstance(error, ValidationError):
        return gettext(MESSAGES["governance-invalid"])
    summary = MESSAGES.get(error.type_slug, MESSAGES["governance-invalid"])
    return f"{gettext(summary)} ({error.detail})"
