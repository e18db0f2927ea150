"""Personal JSON is never cached (Cache-Control: no-store), public catalog reads may be; QR codes
are built from HEZUO_PUBLIC_URL, never from the request's Host header."""

import uuid

from catalog import provenance
from tests.orders.conftest import order_body


def test_personal_answers_are_no_store_and_public_reads_are_not(world, client, as_role):
    me = client.get("/api/v1/me", headers=as_role("buyer"))
    assert me.headers["cache-control"] == "no-store"
    placed = client.post(
        "/api/v1/orders",
        json=order_body([(world.honey, 1)], email="guest@example.com"),
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert placed.status_code == 201
    assert placed.headers["cache-control"] == "no-store"  # holds the guest's access token
    order = placed.json()
    guest_read = client.get(
        f"/api/v1/orders/{order['id']}", params={"token": order["access_token"]}
    )
    assert guest_read.status_code == 200
    assert guest_read.headers["cache-control"] == "no-store"
    refused = client.get(f"/api/v1/orders/{order['id']}", headers=as_role("other_buyer"))
    assert refused.headers["cache-control"] == "no-store"
    public = client.get(f"/api/v1/products/{world.honey.id}")
    assert public.status_code == 200
    assert "no-store" not in public.headers.get("cache-control", "")


def test_qr_codes_ignore_the_host_header(world, client, settings, monkeypatch):
    encoded: list[str] = []
    real_svg, real_png = provenance.qr_svg, provenance.qr_png

    def record_svg(url: str) -> bytes:
        encoded.append(url)
        return real_svg(url)

    def record_png(url: str) -> bytes:
        encoded.append(url)
        return real_png(url)

    monkeypatch.setattr(provenance, "qr_svg", record_svg)
    monkeypatch.setattr(provenance, "qr_png", record_png)
    code = world.honey_lot.code
    for path in (f"/l/{code}/qr.svg", f"/l/{code}/qr.png"):
        answer = client.get(path, headers={"Host": "evil.example"})
        assert answer.status_code == 200
    assert encoded == [f"{settings.public_url}/l/{code}"] * 2
