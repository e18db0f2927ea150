"""What the community pages share: today in the reader's zone, and a refusal's message in the
reader's language (the error's message id, as on every page)."""

from datetime import date

from fastapi import Request
from pydantic import ValidationError

from core.errors import DomainError, Forbidden
from core.time import to_reader_zone
from frontend.problems import problem_message, validation_summary
from ledger.base import utcnow


def today_of(request: Request) -> date:
    return to_reader_zone(utcnow(), request.app.state.settings.timezone).date()


def message(request: Request, error: DomainError | ValidationError) -> str:
    """A refusal in the reader's language (frontend/problems.py: the error's message id)."""
    if isinstance(error, ValidationError):
        return validation_summary(request, error.errors())
    return problem_message(request, error)


def refusal(request: Request, error: DomainError | ValidationError) -> tuple[str, int]:
    """(message, status) of a refused form; a Forbidden error goes on to the 403 page."""
    if isinstance(error, Forbidden):
        raise error
    status = error.status_code if isinstance(error, DomainError) else 422
    return message(request, error), status
