"""A confirmation step before an irreversible action, without JavaScript.

The action's form posts as usual; without `confirmed=yes` the handler answers with this page,
which says what will happen to the money and posts the same fields again with `confirmed=yes`.
So nothing irreversible happens in one tap, and the check is on the server, not in a script.
"""

from collections.abc import Mapping
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse

from frontend.rendering import render

ConfirmedForm = Annotated[str, Form(max_length=3)]


def confirmed(value: str) -> bool:
    return value == "yes"


def confirm_page(
    request: Request,
    *,
    title: str,
    consequences: list[str],
    action: str,
    fields: Mapping[str, str | None],
    button: str,
    back: str,
    danger: bool = True,
) -> HTMLResponse:
    """The page asking to confirm `action` (POSTed again with `fields` and confirmed=yes)."""
    return render(
        request,
        "confirm.html",
        {
            "title": title,
            "consequences": consequences,
            "action": action,
            "fields": {k: v for k, v in fields.items() if v is not None},
            "button": button,
            "back": back,
            "danger": danger,
        },
    )
