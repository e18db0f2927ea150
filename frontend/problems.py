"""A refused action told in the reader's language.

Domain errors (core/errors.py and each domain's errors) carry a message id (``msgid``, marked with
``core.text.N_``) and its ``params``; pages translate the message id and fill in the parameters.
The API keeps answering with the English ``detail``. Validation (pydantic) errors that reach a page
are translated by their error type the same way (``validation_message``).
"""

from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError

from core.errors import DomainError
from frontend.i18n import N_, SOURCE_LOCALE, translator

# Pydantic's error types as people read them; ``ctx`` supplies the parameters (max_length, gt, ...).
VALIDATION_MESSAGES = {
    "missing": N_("This field is required."),
    "string_too_short": N_("Enter at least %(min_length)s characters."),
    "string_too_long": N_("Enter at most %(max_length)s characters."),
    "too_short": N_("Enter at least %(min_length)s items."),
    "too_long": N_("Enter at most %(max_length)s items."),
    "int_parsing": N_("Enter a whole number."),
    "int_from_float": N_("Enter a whole number."),
    "decimal_parsing": N_("Enter a number."),
    "float_parsing": N_("Enter a number."),
    "greater_than": N_("Enter a number above %(gt)s."),
    "greater_than_equal": N_("Enter a number of at least %(ge)s."),
    "less_than": N_("Enter a number below %(lt)s."),
    "less_than_equal": N_("Enter a number of at most %(le)s."),
    "date_parsing": N_("Enter a date as YYYY-MM-DD."),
    "date_from_datetime_parsing": N_("Enter a date as YYYY-MM-DD."),
    "enum": N_("Choose one of the offered values."),
    "literal_error": N_("Choose one of the offered values."),
    "string_pattern_mismatch": N_("This is not in the expected form."),
}
VALIDATION_FALLBACK = N_("This value is not valid.")


def problem_message(request: Request, error: DomainError) -> str:
    """A refusal in the reader's language: the error's message id, translated, with its params.

    English readers get the error's English ``detail`` (the sentence the API answers with,
    which names the specifics); other readers never see that English sentence.
    """
    translate = translator(request)
    if translate.locale == SOURCE_LOCALE:
        return error.detail
    return _formatted(translate.gettext(error.msgid), error.params)


def field_message(request: Request, error: DomainError, item: Mapping[str, Any]) -> str:
    """The message for one field an error names (``error.errors`` item): its own English ``msg``
    for English readers, the error's translated message for the others."""
    if translator(request).locale == SOURCE_LOCALE:
        return str(item.get("msg"))
    return problem_message(request, error)


def validation_message(request: Request, item: Mapping[str, Any]) -> str:
    """One pydantic error (``ValidationError.errors()`` item) in the reader's language."""
    translate = translator(request)
    msgid = VALIDATION_MESSAGES.get(str(item.get("type")), VALIDATION_FALLBACK)
    context = item.get("ctx") or {}
    return _formatted(translate.gettext(msgid), {k: str(v) for k, v in context.items()})


def validation_summary(request: Request, items: Iterable[Mapping[str, Any]]) -> str:
    """Several pydantic errors as one line, each with the field it is about."""
    return "; ".join(
        f"{'.'.join(str(p) for p in item.get('loc', ()) if p != 'body')}: "
        f"{validation_message(request, item)}"
        for item in items
    )


def error_page_detail(request: Request, detail: str) -> str:
    """The detail an error page shows: the refusal (domain or validation error) that led to it
    in the reader's language, else ``detail`` as given."""
    source = getattr(request.state, "problem_source", None)
    if isinstance(source, DomainError):
        return problem_message(request, source)
    if isinstance(source, RequestValidationError) and translator(request).locale != SOURCE_LOCALE:
        return validation_summary(request, source.errors())
    return detail


def _formatted(text: str, params: Mapping[str, Any]) -> str:
    try:
        return text % params if params else text
    except (KeyError, TypeError, ValueError):  # a parameter the message does not name
        return text
