"""Schemathesis over the whole OpenAPI document, in process (ASGI), as an admin and as a buyer:
no answer is a 5xx, and every answer matches what the document says (status, type, schema).

The budget is bounded (HEZUO_FUZZ_EXAMPLES examples per operation, default 6, in valid and in invalid input, and
HEZUO_FUZZ_SECONDS per role, default 150); the figures are printed for the report.
"""

import itertools
import os
import time
from dataclasses import dataclass, field

import hypothesis
import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode, checks
from schemathesis.core.failures import Failure, FailureGroup

from api.demo import load_demo

EXAMPLES = int(os.environ.get("HEZUO_FUZZ_EXAMPLES", "6"))
SECONDS = float(os.environ.get("HEZUO_FUZZ_SECONDS", "150"))
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]
# Valid input, then input the document says is invalid (wrong types, out of range, missing...).
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
# Answers that are not JSON by design (files, the webhook's signature check is covered elsewhere).
SKIPPED_PATHS = ("/api/v1/payments/stripe/webhook",)


@dataclass
class Tally:
    requests: int = 0
    server_errors: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)


@pytest.fixture
def demo_app(app, session, settings):
    load_demo(session, settings=settings.model_copy(update={"env": "development"}))
    session.commit()
    return app


def _token(client: TestClient, email: str, password: str) -> dict[str, str]:
    answer = client.post("/api/v1/auth/token", data={"username": email, "password": password})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _fuzz(app, headers: dict[str, str]) -> Tally:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    tally = Tally()
    deadline = time.monotonic() + SECONDS
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation, mode in itertools.product(operations, MODES):
        if operation.path in SKIPPED_PATHS or time.monotonic() > deadline:
            continue

        @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
        @hypothesis.settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            tally.requests += 1
            try:
                response = case.call(headers=headers)
            except Exception as error:  # the app raised: the client got a 500
                tally.server_errors.append(f"{case.method} {case.formatted_path}: {error!r}")
                return
            where = f"{case.method} {case.formatted_path} → {response.status_code}"
            if response.status_code >= 500:
                tally.server_errors.append(f"{where}: {response.text[:200]}")
                return
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except Failure as failure:
                tally.violations.append(f"{where}: {failure.title}")
            except FailureGroup as group:
                titles = ", ".join(sorted({f.title for f in group.exceptions}))
                tally.violations.append(f"{where}: {titles}")

        try:
            run()
        except hypothesis.errors.Unsatisfiable:
            pass  # no invalid input exists for this operation (e.g. no parameters at all)
    return tally


@pytest.mark.parametrize(
    ("email", "password"),
    [("admin@hezuo.demo", "admin-demo-2026"), ("buyer@hezuo.demo", "buyer-demo-2026")],
)
def test_no_server_error_and_no_schema_violation(demo_app, email, password):
    with TestClient(demo_app, raise_server_exceptions=False) as client:
        headers = _token(client, email, password)
    tally = _fuzz(demo_app, headers)
    print(  # noqa: T201  (the figures for the report)
        f"schemathesis as {email}: {tally.requests} requests, "
        f"{len(tally.server_errors)} server errors, {len(tally.violations)} violations"
    )
    for line in (tally.server_errors + tally.violations)[:80]:
        print("  ", line)  # noqa: T201
    assert tally.requests > 0
    assert tally.server_errors == []
    assert tally.violations == []
