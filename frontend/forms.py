"""The pages' unit of work: a refused form answers with its page again, and nothing is stored.

A form handler that is refused (a domain error, a value that does not parse) does not roll back
by hand. It calls ``refuse`` with a function that renders the answer:

    try:
        service.do_it(session, ...)
    except DomainError as error:
        refuse(lambda: _form(request, session, values, problem_message(request, error), 422))

``refuse`` raises; the request's session (``api.database.get_session``, where the request's
transaction ends) rolls back everything the request changed, then renders the answer in a fresh
transaction, and the handler installed here sends it. A test (tests/test_architecture.py) fails
when a page or router calls ``session.rollback()`` itself.
"""

from collections.abc import Callable
from typing import NoReturn

from fastapi import FastAPI, Request
from fastapi.responses import Response

from api.database import RefusedWithAnswer


def refuse(answer: Callable[[], Response]) -> NoReturn:
    """Roll back the request's changes, then answer with ``answer()`` (see the module doc)."""
    raise RefusedWithAnswer(answer)


async def _send_answer(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RefusedWithAnswer)
    if exc.response is None:  # raised outside a request's session: nothing was stored either
        return exc.answer()
    return exc.response


def install_refusals(app: FastAPI) -> None:
    app.add_exception_handler(RefusedWithAnswer, _send_answer)
