"""The API docs load Swagger UI from the app itself, never from a CDN (they work offline)."""

import re


def test_docs_use_the_apps_own_swagger_ui_files(client):
    page = client.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources, "the page loads Swagger UI's script and style"
    assert all(s.startswith("/docs/assets/") for s in sources), sources
    assert "cdn" not in page.text.lower()
    for asset in sources:
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert len(served.content) > 500
    assert "'/openapi.json'" in page.text or '"/openapi.json"' in page.text
    assert client.get("/redoc").status_code == 404  # ReDoc exists only from a CDN
