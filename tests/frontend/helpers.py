"""Shared helpers for page tests: CSRF tokens from forms, HTML requests."""

import re

from fastapi.testclient import TestClient

HTML = {"Accept": "text/html"}
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: TestClient, path: str = "/login") -> str:
    """Open a page with a form (this sets the hezuo_csrf cookie) and read its hidden token."""
    page = client.get(path, headers=HTML)
    match = _TOKEN.search(page.text)
    assert match, f"no csrf_token field on {path}"
    return match.group(1)


def sign_in(client: TestClient, email: str, password: str, **extra: str):
    token = csrf_token(client)
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token, **extra},
        headers=HTML,
        follow_redirects=False,
    )
