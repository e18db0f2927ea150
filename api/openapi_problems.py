"""Every operation of the OpenAPI document lists the errors it can answer, as problem+json.

Routes document their own refusals where they have something to say (`responses=`); this adds the
ones every route shares (bad input, not signed in, not allowed, too large, too many, database
unavailable...) and gives every 4xx and 5xx answer the one Problem schema (RFC 9457) the error
handlers really send, so a client, or schemathesis, can check every answer against the document.
"""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from api.problems import ProblemResponse

SHARED_ERRORS = {
    "400": "Bad request",
    "401": "Not signed in, or the credentials are wrong",
    "403": "Signed in, but this role or owner may not do it",
    "404": "No such thing here",
    "409": "Not possible in the present state",
    "413": "The request body is too large",
    "422": "The request is not valid; `errors` names the fields",
    "429": "Too many requests; wait Retry-After seconds",
    "503": "The database or a provider is unavailable; retry after Retry-After seconds",
}


class ProblemError(BaseModel):
    loc: list[str | int]
    msg: str


class Problem(BaseModel):
    """An RFC 9457 problem: what went wrong, in words a person understands."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[ProblemError] | None = None


def _problem_content() -> dict[str, Any]:
    return {ProblemResponse.media_type: {"schema": {"$ref": "#/components/schemas/Problem"}}}


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(problem_schema.pop("$defs", {}))
    components["Problem"] = problem_schema
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            for code, description in SHARED_ERRORS.items():
                responses.setdefault(code, {"description": description})
            for code, response in responses.items():
                if code[0] in "45":
                    response["content"] = _problem_content()
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema


def install_problem_docs(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_problems(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    summary=app.summary,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
