"""HTTP benchmark: whole requests through Hezuo against a bare app on the same tables.

`make bench` (after the ledger benchmark) runs `python -m bench.http`, which:

1. re-creates a PostgreSQL database (HEZUO_BENCH_DATABASE_URL's server, database
   ``<name>_http``), migrates it, loads the demo through `hezuo demo load`, copies the demo's
   products up to 50 active ones, gives one lot a stock no run can exhaust (the "hot lot"),
   and opens a buyer's browser session and a staff API token;
2. counts the SQL statements one request of each scenario sends, in-process, for both apps;
3. starts Hezuo (`uvicorn api.app:create_app --factory`) and the bare baseline
   (`uvicorn bench.bare_app:app`, see bench/bare_app.py), each with 2 workers, and drives each
   scenario with wrk (2 threads, 16 connections) — the apps interleaved, several rounds, the
   order flipped every round — collecting req/s, p50 and p99 from wrk's own histogram;
4. prints the table (medians over rounds; the ratio is Hezuo ÷ bare) and writes
   bench/results/http.json.

wrk comes from Debian's package (`make bench` installs it when missing). Both servers run
without access logs, on loopback; the machine should be otherwise idle.
"""

import argparse
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, event, text

from api.security import token_digest
from bench.ledger import (
    DEFAULT_URL,
    migrate,
    recreate_database,
    server_version,
    sqlalchemy_url,
    with_database,
)

RESULTS = Path(__file__).resolve().parent / "results" / "http.json"
SECRET = "bench-secret-key-that-is-long-enough-0123456789abcdef"
STAFF = ("staff@hezuo.demo", "staff-demo-2026")
BUYER_EMAIL = "buyer@hezuo.demo"
SHIPPING = {
    "recipient": "王小明",
    "phone": "13800000000",
    "province": "上海市",
    "city": "上海市",
    "district": "松江区",
    "street": "文汇路 1 号",
}
# Every unique key gets a run tag, so rounds never replay each other's requests.
WRK_SCRIPT = """
local counter = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function request()
  counter = counter + 1
  if body ~= nil then
    wrk.headers["Idempotency-Key"] = run .. "-" .. tid .. "-" .. counter
  end
  return wrk.format(method, path, nil, body)
end
function done(summary, latency, requests)
  io.write(string.format('RESULT {"requests": %d, "seconds": %f, "non2xx": %d, ' ..
    '"errors": %d, "p50_us": %d, "p99_us": %d}\\n', summary.requests,
    summary.duration / 1e6, summary.errors.status, summary.errors.connect +
    summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass
class Scenario:
    name: str
    method: str
    path: str
    body: dict[str, Any] | None = None
    headers: dict[str, str] | None = None


@dataclass
class Run:
    req_per_s: float
    p50_ms: float
    p99_ms: float
    non2xx: int
    errors: int


@dataclass
class Row:
    scenario: str
    hezuo_req_s: float
    bare_req_s: float
    ratio: float
    hezuo_p50_ms: float
    hezuo_p99_ms: float
    bare_p50_ms: float
    bare_p99_ms: float
    hezuo_statements: int
    bare_statements: int
    hezuo_non2xx: int
    bare_non2xx: int


# --- the database ------------------------------------------------------------------------------


def prepare(url: str) -> dict[str, Any]:
    """A migrated database with the demo, 50 products, a hot lot, a buyer session, staff token."""
    recreate_database(url)
    migrate(url)
    hezuo = Path(sys.executable).with_name("hezuo")
    env = {**os.environ, "HEZUO_ENV": "development", "HEZUO_DATABASE_URL": url}
    env["HEZUO_SECRET_KEY"] = SECRET
    subprocess.run([str(hezuo), "demo", "load"], env=env, check=True, capture_output=True)
    engine = create_engine(sqlalchemy_url(url))
    buyer_token = secrets.token_urlsafe(32)
    with engine.begin() as conn:
        _copy_products(conn)
        hot = conn.execute(
            text(
                "SELECT l.id, l.product_id FROM lots l JOIN products p ON p.id = l.product_id"
                " WHERE p.status = 'active' ORDER BY l.id LIMIT 1"
            )
        ).one()
        conn.execute(text("UPDATE lots SET quantity = 1000000000 WHERE id = :id"), {"id": hot.id})
        buyer_id = conn.execute(
            text("SELECT id FROM users WHERE email = :e"), {"e": BUYER_EMAIL}
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO web_sessions (token_hash, user_id, created_at, expires_at)"
                " VALUES (:h, :u, :now, :until)"
            ),
            {
                "h": token_digest(buyer_token),
                "u": buyer_id,
                "now": datetime.now(UTC),
                "until": datetime.now(UTC) + timedelta(days=1),
            },
        )
        order_id = conn.execute(
            text("SELECT min(id) FROM orders WHERE buyer_user_id = :u"), {"u": buyer_id}
        ).scalar_one()
    engine.dispose()
    return {
        "hot_product": hot.product_id,
        "buyer_token": buyer_token,
        "buyer_order": order_id,
    }


def _copy_products(conn: Any) -> None:
    """Copies of the demo's active products (and a lot each) until 50 are active."""
    active = conn.execute(text("SELECT count(*) FROM products WHERE status = 'active'")).scalar()
    for copy in range(1, 50):
        if active >= 50:
            return
        conn.execute(
            text(
                "INSERT INTO products (coop_id, household_id, brand_id, name_zh, name_en,"
                " description_zh, description_en, category, unit, price_amount, currency,"
                " status, search_text, created_at, updated_at)"
                " SELECT coop_id, household_id, brand_id, name_zh || ' ' || :n, name_en,"
                " description_zh, description_en, category, unit, price_amount, currency,"
                " status, search_text, created_at, updated_at FROM products"
                " WHERE status = 'active' AND name_zh NOT LIKE '% %' ORDER BY id LIMIT :room"
            ),
            {"n": str(copy), "room": 50 - active},
        )
        active = conn.execute(
            text("SELECT count(*) FROM products WHERE status = 'active'")
        ).scalar()
    conn.execute(
        text(
            "INSERT INTO lots (product_id, code, harvested_on, quantity, reserved, sold, notes,"
            " created_at) SELECT p.id, 'BENCH-' || p.id, current_date, 100, 0, 0, '', now()"
            " FROM products p WHERE NOT EXISTS (SELECT 1 FROM lots l WHERE l.product_id = p.id)"
        )
    )


def scenarios(ids: dict[str, Any], staff_token: str) -> list[Scenario]:
    order = {
        "lines": [{"product_id": ids["hot_product"], "quantity": 1}],
        "shipping": SHIPPING,
        "payment_method": "bank_transfer",
        "email": "guest@example.com",
    }
    entry = {
        "kind": "adjustment",
        "effective_date": datetime.now(UTC).date().isoformat(),
        "memo": "bench",
        "postings": [
            _posting("assets:clearing:manual", "debit", 10000),
            _posting("liabilities:members:1:payable", "credit", 7000),
            _posting("equity:coops:1:collective-fund", "credit", 1000),
            _posting("equity:coops:1:training-fund", "credit", 1000),
            _posting("income:enterprise:service-fees", "credit", 1000),
        ],
    }
    return [
        Scenario("GET /api/v1/products (50)", "GET", "/api/v1/products?limit=50"),
        Scenario("GET /products/{id} (page)", "GET", f"/products/{ids['hot_product']}"),
        Scenario("GET /products (storefront)", "GET", "/products"),
        Scenario(
            "GET /orders/{id} (buyer page)",
            "GET",
            f"/orders/{ids['buyer_order']}",
            headers={"Cookie": f"hezuo_session={ids['buyer_token']}"},
        ),
        Scenario("POST /api/v1/orders (guest, hot lot)", "POST", "/api/v1/orders", order),
        Scenario(
            "POST /api/v1/ledger/entries (5 postings)",
            "POST",
            "/api/v1/ledger/entries",
            entry,
            headers={"Authorization": f"Bearer {staff_token}"},
        ),
    ]


def _posting(account: str, side: str, amount: int) -> dict[str, Any]:
    return {"account": account, "side": side, "amount": amount, "currency": "CNY"}


# --- statements per request ----------------------------------------------------------------------


def count_statements(url: str, plan: list[Scenario]) -> tuple[dict[str, int], dict[str, int]]:
    """One request of each scenario in-process per app; the statements its database saw."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.settings import Settings

    settings = Settings(env="test", database_url=url, secret_key=SECRET)
    app = create_app(settings)
    sent = {"count": 0}

    @event.listens_for(app.state.engine, "before_cursor_execute")
    def _count(*_args: Any) -> None:
        sent["count"] += 1

    os.environ["HEZUO_BENCH_BARE_URL"] = url
    from bench import bare_app

    hezuo: dict[str, int] = {}
    bare: dict[str, int] = {}
    with TestClient(app) as hezuo_client, TestClient(bare_app.app) as bare_client:
        for scenario in plan:
            hezuo[scenario.name] = _one_request(hezuo_client, scenario, lambda: sent["count"])
            bare[scenario.name] = _one_request(
                bare_client, scenario, lambda: bare_app.STATEMENTS["count"]
            )
    app.state.engine.dispose()
    return hezuo, bare


def _one_request(client: Any, scenario: Scenario, counter: Callable[[], int]) -> int:
    headers = {**(scenario.headers or {}), "Idempotency-Key": uuid.uuid4().hex}
    client.cookies.clear()
    before = counter()
    response = client.request(scenario.method, scenario.path, json=scenario.body, headers=headers)
    if response.status_code >= 400:
        raise SystemExit(f"{scenario.name}: {response.status_code} {response.text[:300]}")
    return counter() - before


# --- servers and load ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def server(target: list[str], env: dict[str, str]) -> Iterator[tuple[str, int]]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        *target,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "2",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, env={**os.environ, **env})
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(base, process)
        yield base, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_for(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server at {base} exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the server at {base} did not answer /healthz within 60 s")


def staff_token(base: str) -> str:
    response = httpx.post(
        f"{base}/api/v1/auth/token", data={"username": STAFF[0], "password": STAFF[1]}
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def wrk(base: str, scenario: Scenario, *, seconds: int, threads: int, connections: int) -> Run:
    body = json.dumps(scenario.body, ensure_ascii=False) if scenario.body is not None else None
    headers = {**(scenario.headers or {})}
    if body is not None:
        headers["Content-Type"] = "application/json"
    lua = (
        f"method = {json.dumps(scenario.method)}\npath = {json.dumps(scenario.path)}\n"
        f"body = {_lua_string(body)}\nrun = {json.dumps(uuid.uuid4().hex[:12])}\n"
        + "".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}\n" for k, v in headers.items())
        + WRK_SCRIPT
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua)
    try:
        output = subprocess.run(
            [
                "wrk",
                f"-t{threads}",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "10s",
                "-s",
                script.name,
                base,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    return Run(
        req_per_s=result["requests"] / result["seconds"],
        p50_ms=result["p50_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        non2xx=result["non2xx"],
        errors=result["errors"],
    )


def _lua_string(value: str | None) -> str:
    if value is None:
        return "nil"
    return "[==[" + value + "]==]"


# --- the run ------------------------------------------------------------------------------------


def summarise(
    plan: list[Scenario],
    runs: dict[tuple[str, str], list[Run]],
    statements: tuple[dict[str, int], dict[str, int]],
) -> list[Row]:
    rows = []
    for scenario in plan:
        ours, bare = runs[("hezuo", scenario.name)], runs[("bare", scenario.name)]
        ours_rate = statistics.median(r.req_per_s for r in ours)
        bare_rate = statistics.median(r.req_per_s for r in bare)
        rows.append(
            Row(
                scenario=scenario.name,
                hezuo_req_s=round(ours_rate, 1),
                bare_req_s=round(bare_rate, 1),
                ratio=round(ours_rate / bare_rate, 3) if bare_rate else 0.0,
                hezuo_p50_ms=round(statistics.median(r.p50_ms for r in ours), 2),
                hezuo_p99_ms=round(statistics.median(r.p99_ms for r in ours), 2),
                bare_p50_ms=round(statistics.median(r.p50_ms for r in bare), 2),
                bare_p99_ms=round(statistics.median(r.p99_ms for r in bare), 2),
                hezuo_statements=statements[0][scenario.name],
                bare_statements=statements[1][scenario.name],
                hezuo_non2xx=sum(r.non2xx + r.errors for r in ours),
                bare_non2xx=sum(r.non2xx + r.errors for r in bare),
            )
        )
    return rows


def print_table(rows: Sequence[Row]) -> None:
    print(
        f"{'scenario':40} {'hezuo/s':>9} {'bare/s':>9} {'ratio':>6} {'p50':>7} {'p99':>7}"
        f" {'bare p50':>8} {'bare p99':>8} {'SQL':>7} {'non-2xx':>8}"
    )
    for row in rows:
        print(
            f"{row.scenario:40} {row.hezuo_req_s:9.0f} {row.bare_req_s:9.0f} {row.ratio:6.2f}"
            f" {row.hezuo_p50_ms:7.1f} {row.hezuo_p99_ms:7.1f} {row.bare_p50_ms:8.1f}"
            f" {row.bare_p99_ms:8.1f} {row.hezuo_statements:>3}/{row.bare_statements:<3}"
            f" {row.hezuo_non2xx:>4}/{row.bare_non2xx:<3}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.http", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--url", default=os.environ.get("HEZUO_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--seconds", type=int, default=10, help="per wrk run (default 10)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="TEXT",
        help="run only the scenarios whose name contains TEXT (repeatable), e.g. --only page",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="FILE",
        help="record Hezuo's workers with py-spy during its runs; the top functions to FILE",
    )
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install wrk (make bench does)", file=sys.stderr)
        return 2
    url = with_database(args.url, f"{_name(args.url)}_http")
    ids = prepare(url)
    env = {
        "HEZUO_ENV": "production",
        "HEZUO_DATABASE_URL": url,
        "HEZUO_SECRET_KEY": SECRET,
        # The benchmark's guest orders all come from one address and one e-mail.
        "HEZUO_MAX_UNPAID_ORDERS_PER_CLIENT": "1000000000",
        "HEZUO_MAX_UNPAID_ORDERS_PER_CONTACT": "1000000000",
        "HEZUO_BENCH_BARE_URL": url,
    }
    os.environ.update(env)
    with server(["api.app:create_app", "--factory"], env) as (hezuo_base, hezuo_server):
        token = staff_token(hezuo_base)
        plan = [s for s in scenarios(ids, token) if _chosen(s, args.only)]
        statements = count_statements(url, plan)
        with server(["bench.bare_app:app"], env) as (bare_base, _bare_server):
            runs = _load(plan, {"hezuo": hezuo_base, "bare": bare_base}, args, hezuo_server)
    rows = summarise(plan, runs, statements)
    print_table(rows)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "postgresql": server_version(url),
                "cpus": os.cpu_count(),
                "wrk": {"threads": args.threads, "connections": args.connections},
                "seconds": args.seconds,
                "rounds": args.rounds,
                "workers_per_app": 2,
                "scenarios": [asdict(row) for row in rows],
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    )
    print(f"written to {args.output}")
    if not args.keep:
        recreate_database(url, drop_only=True)
    return 0


def _load(
    plan: list[Scenario], bases: dict[str, str], args: argparse.Namespace, hezuo_pid: int
) -> dict[tuple[str, str], list[Run]]:
    runs: dict[tuple[str, str], list[Run]] = {}
    for round_number in range(args.rounds):
        order = ["hezuo", "bare"] if round_number % 2 == 0 else ["bare", "hezuo"]
        for scenario in plan:
            for app_name in order:
                if round_number == 0:  # each worker builds its routes and caches on first use
                    wrk(bases[app_name], scenario, seconds=1, threads=1, connections=4)
                profiling = args.profile is not None and app_name == "hezuo"
                with _profiled(hezuo_pid, args, scenario) if profiling else _nothing():
                    run = wrk(
                        bases[app_name],
                        scenario,
                        seconds=args.seconds,
                        threads=args.threads,
                        connections=args.connections,
                    )
                runs.setdefault((app_name, scenario.name), []).append(run)
                print(
                    f"round {round_number + 1} {app_name:5} {scenario.name:40}"
                    f" {run.req_per_s:8.0f}/s p99 {run.p99_ms:6.1f} ms",
                    flush=True,
                )
    return runs


@contextmanager
def _nothing() -> Iterator[None]:
    yield


# --- profiles (py-spy) ----------------------------------------------------------------------------


def _workers(parent: int) -> list[int]:
    """The uvicorn worker processes of a server (children of its supervisor)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
            found.append(int(entry.name))
    return sorted(found)


@contextmanager
def _profiled(parent: int, args: argparse.Namespace, scenario: Scenario) -> Iterator[None]:
    """py-spy records every worker while the block runs; the top functions are appended to
    args.profile (self time and inclusive time, from py-spy's raw collapsed stacks)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    outputs, recorders = [], []
    for pid in _workers(parent):
        output = tempfile.NamedTemporaryFile(suffix=".txt", delete=False).name
        outputs.append(output)
        recorders.append(
            subprocess.Popen(
                [
                    spy,
                    "record",
                    "--pid",
                    str(pid),
                    "--duration",
                    str(args.seconds),
                    "--rate",
                    "200",
                    "--format",
                    "raw",
                    "--nonblocking",
                    "--output",
                    output,
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    try:
        yield
    finally:
        for recorder in recorders:
            recorder.wait(timeout=args.seconds + 30)
        stacks = [Path(o).read_text() for o in outputs if Path(o).exists()]
        for output in outputs:
            Path(output).unlink(missing_ok=True)
        with args.profile.open("a") as report:
            report.write(top_functions(scenario.name, "\n".join(stacks)))


def top_functions(title: str, collapsed: str, count: int = 25) -> str:
    """The functions with the most samples, self and inclusive, from collapsed stacks."""
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for line in collapsed.splitlines():
        stack, _, samples = line.rpartition(" ")
        if not stack or not samples.isdigit():
            continue
        weight = int(samples)
        frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        total += weight
        own[frames[-1]] = own.get(frames[-1], 0) + weight
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + weight
    lines = [f"== {title}: {total} samples", "-- self time"]
    for name, hits in sorted(own.items(), key=lambda kv: -kv[1])[:count]:
        lines.append(f"{100 * hits / max(total, 1):6.1f}%  {name}")
    lines.append("-- inclusive (own code and libraries, not the event loop)")
    for name, hits in sorted(inclusive.items(), key=lambda kv: -kv[1])[: count * 2]:
        lines.append(f"{100 * hits / max(total, 1):6.1f}%  {name}")
    return "\n".join(lines) + "\n\n"


def _chosen(scenario: Scenario, only: list[str]) -> bool:
    return not only or any(part.lower() in scenario.name.lower() for part in only)


def _name(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).database or "hezuo_bench"


if __name__ == "__main__":
    sys.exit(main())
