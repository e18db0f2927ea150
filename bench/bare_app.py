"""The bare baseline for the HTTP benchmark: FastAPI + a psycopg pool on Hezuo's own tables.

Each route answers the same request as Hezuo's route of the same path with the least SQL a
correct implementation needs (one statement per request: reads join what the page shows,
writes are one data-modifying CTE that keeps the same rules — no oversell, balanced postings,
unique idempotency keys), and renders a comparable page with Jinja2. It keeps no caches.
It is a yardstick, not a second implementation: no permissions beyond the session look-up,
no validation beyond what the database enforces, the default share rule for every line.

Run by `python -m bench.http` as `uvicorn bench.bare_app:app --workers 2`; the database URL
comes from HEZUO_BENCH_BARE_URL (a plain postgresql:// URL).
"""

import hashlib
import json
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment
from psycopg_pool import AsyncConnectionPool

STATEMENTS = {"count": 0}  # statements sent, read by the benchmark's in-process count
PAGE = Environment(autoescape=True).from_string(
    """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>{{ title }}</title>
<link rel="stylesheet" href="/static/css/site.css"></head><body><main><h1>{{ title }}</h1>
{% for row in rows %}<section><h2>{{ row.name }}</h2><p>{{ row.detail }}</p>
<p>¥{{ '%.2f' % (row.amount / 100) }}</p></section>{% endfor %}</main></body></html>"""
)

PRODUCTS_SQL = """
SELECT coalesce(json_agg(row_to_json(p) ORDER BY p.id), '[]')::text FROM (
  SELECT p.id, p.coop_id, p.household_id, p.brand_id,
         json_build_object('zh', p.name_zh, 'en', p.name_en) AS name,
         json_build_object('zh', p.description_zh, 'en', p.description_en) AS description,
         p.category, p.unit, json_build_object('amount', p.price_amount, 'currency', p.currency)
         AS price, p.status,
         (SELECT coalesce(sum(l.quantity - l.reserved - l.sold), 0) FROM lots l
           WHERE l.product_id = p.id) AS available
    FROM products p WHERE p.status = 'active' ORDER BY p.id LIMIT %(limit)s) p
"""
PRODUCT_SQL = """
SELECT p.name_zh, p.description_zh, p.price_amount,
       (SELECT coalesce(json_agg(json_build_object('code', l.code, 'available',
               l.quantity - l.reserved - l.sold)), '[]') FROM lots l WHERE l.product_id = p.id),
       (SELECT coalesce(json_agg(c.kind || ' ' || c.number), '[]') FROM certifications c
         WHERE c.brand_id = p.brand_id)
  FROM products p WHERE p.id = %(id)s AND p.status = 'active'
"""
STOREFRONT_SQL = """
SELECT p.name_zh, c.name_zh, p.price_amount FROM products p JOIN coops c ON c.id = p.coop_id
 WHERE p.status = 'active' ORDER BY p.id LIMIT 50
"""
ORDER_PAGE_SQL = """
SELECT o.reference_code, o.status, l.product_name_zh, l.quantity, l.line_total
  FROM web_sessions s JOIN orders o ON o.buyer_user_id = s.user_id
  JOIN order_lines l ON l.order_id = o.id
 WHERE s.token_hash = %(token_hash)s AND s.expires_at > now() AND o.id = %(id)s
 ORDER BY l.id
"""
# One statement: reserve on the earliest lot with room (re-checked under the row lock, so no
# oversell), then the order, its line, the reservation and the first event.
ORDER_SQL = """
WITH p AS (
  SELECT id, coop_id, name_zh, name_en, unit, price_amount, currency FROM products
   WHERE id = %(product_id)s AND status = 'active'),
lot AS (
  UPDATE lots SET reserved = reserved + %(quantity)s
   WHERE id = (SELECT l.id FROM lots l WHERE l.product_id = %(product_id)s
                 AND l.quantity - l.reserved - l.sold >= %(quantity)s
               ORDER BY l.harvested_on, l.id LIMIT 1)
     AND quantity - reserved - sold >= %(quantity)s
  RETURNING id),
o AS (
  INSERT INTO orders (status, guest_email, access_nonce, recipient, phone, province, city,
      district, street, note, payment_method, reference_code, currency, total_amount,
      idempotency_scope, idempotency_key, request_hash, reserved_until, flagged, flag_reason,
      created_at)
  SELECT 'pending_payment', %(email)s, %(nonce)s, %(recipient)s, %(phone)s, %(province)s,
      %(city)s, %(district)s, %(street)s, '', 'bank_transfer', %(reference)s, p.currency,
      p.price_amount * %(quantity)s, 'guest', %(key)s, %(hash)s,
      now() + interval '72 hours', false, '', now()
    FROM p, lot
  RETURNING id, total_amount),
line AS (
  INSERT INTO order_lines (order_id, product_id, coop_id, product_name_zh, product_name_en,
      unit, quantity, unit_price, line_total, rule_producers, rule_collective_fund,
      rule_training_fund, rule_enterprise, rule_fee_bearer, refunded_amount,
      refunded_settled_amount)
  SELECT o.id, p.id, p.coop_id, p.name_zh, p.name_en, p.unit, %(quantity)s, p.price_amount,
      o.total_amount, 7000, 1000, 1000, 1000, 'enterprise', 0, 0
    FROM o, p
  RETURNING id),
reservation AS (
  INSERT INTO order_lot_reservations (line_id, lot_id, quantity, state)
  SELECT line.id, lot.id, %(quantity)s, 'reserved' FROM line, lot),
event AS (
  INSERT INTO order_events (order_id, from_status, to_status, actor, note, at)
  SELECT o.id, NULL, 'pending_payment', 'guest', '', now() FROM o)
SELECT o.id, o.total_amount FROM o
"""
# One statement: the entry and its postings, accounts found by key (a missing key inserts no
# posting, and the deferred balance trigger then refuses the unbalanced entry).
ENTRY_SQL = """
WITH e AS (
  INSERT INTO ledger_entries (kind, effective_date, memo, reference, metadata, idempotency_key,
      content_hash, created_by, created_at)
  VALUES (%(kind)s, current_date, %(memo)s, NULL, '{}', %(key)s, %(hash)s, 'bench', now())
  RETURNING id, effective_date),
lines AS (
  SELECT * FROM jsonb_to_recordset(%(postings)s::jsonb) AS x(account text, amount bigint,
      currency text))
INSERT INTO ledger_postings (entry_id, account_id, effective_date, amount, currency)
SELECT e.id, a.id, e.effective_date, lines.amount, lines.currency
  FROM e, lines JOIN ledger_accounts a ON a.key = lines.account
RETURNING entry_id
"""


def _url() -> str:
    return os.environ.get("HEZUO_BENCH_BARE_URL", "postgresql://root@127.0.0.1:5432/hezuo_bench")


pool = AsyncConnectionPool(_url(), min_size=8, max_size=8, open=False)


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    await pool.open()
    yield
    await pool.close()


app = FastAPI(lifespan=lifespan, openapi_url=None)


async def one(sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    STATEMENTS["count"] += 1
    async with pool.connection() as conn:
        cursor = await conn.execute(sql, params)
        return await cursor.fetchall() if cursor.description else []


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/api/v1/products")
async def products(limit: int = 50) -> Response:
    rows = await one(PRODUCTS_SQL, {"limit": limit})
    return Response(
        '{"items":' + rows[0][0] + ',"next_cursor":null}', media_type="application/json"
    )


@app.get("/products/{product_id}", response_class=HTMLResponse)
async def product_page(product_id: int) -> HTMLResponse:
    rows = await one(PRODUCT_SQL, {"id": product_id})
    if not rows:
        return HTMLResponse("not found", status_code=404)
    name, description, price, lots, certifications = rows[0]
    detail = f"{description} {', '.join(c for c in certifications)} {len(lots)}"
    page = PAGE.render(title=name, rows=[{"name": name, "detail": detail, "amount": price}])
    return HTMLResponse(page)


@app.get("/products", response_class=HTMLResponse)
async def storefront() -> HTMLResponse:
    rows = await one(STOREFRONT_SQL, {})
    items = [{"name": r[0], "detail": r[1], "amount": r[2]} for r in rows]
    return HTMLResponse(PAGE.render(title="产品", rows=items))


@app.get("/orders/{order_id}", response_class=HTMLResponse)
async def order_page(order_id: int, request: Request) -> HTMLResponse:
    token = request.cookies.get("hezuo_session", "")
    token_hash = hashlib.sha256(token.encode()).hexdigest()
    rows = await one(ORDER_PAGE_SQL, {"token_hash": token_hash, "id": order_id})
    if not rows:
        return HTMLResponse("not found", status_code=404)
    items = [{"name": r[2], "detail": f"{r[1]} × {r[3]}", "amount": r[4]} for r in rows]
    return HTMLResponse(PAGE.render(title=rows[0][0], rows=items))


@app.post("/api/v1/orders", status_code=201)
async def place_order(request: Request) -> JSONResponse:
    raw = await request.body()
    body = json.loads(raw)
    line, shipping = body["lines"][0], body["shipping"]
    params = {
        "product_id": line["product_id"],
        "quantity": line["quantity"],
        "email": body.get("email"),
        "nonce": secrets.token_hex(16),
        "reference": "B" + secrets.token_hex(6).upper(),
        "key": request.headers["idempotency-key"],
        "hash": hashlib.sha256(raw).hexdigest(),
        **{field: shipping[field] for field in ("recipient", "phone", "province", "city")},
        **{field: shipping[field] for field in ("district", "street")},
    }
    rows = await one(ORDER_SQL, params)
    if not rows:
        return JSONResponse({"title": "out of stock"}, status_code=409)
    return JSONResponse({"id": rows[0][0], "total": rows[0][1]}, status_code=201)


@app.post("/api/v1/ledger/entries", status_code=201)
async def post_entry(request: Request) -> JSONResponse:
    raw = await request.body()
    body = json.loads(raw)
    postings = [
        {
            "account": p["account"],
            "amount": p["amount"] if p["side"] == "debit" else -p["amount"],
            "currency": p["currency"],
        }
        for p in body["postings"]
    ]
    rows = await one(
        ENTRY_SQL,
        {
            "kind": body["kind"],
            "memo": body.get("memo", ""),
            "key": request.headers["idempotency-key"],
            "hash": hashlib.sha256(raw).hexdigest(),
            "postings": json.dumps(postings),
        },
    )
    return JSONResponse({"id": rows[0][0]}, status_code=201)
