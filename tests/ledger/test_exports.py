"""Exports: Beancount names and amounts, bean-check on ≥ 1,000 random entries, CSV and XLSX."""

import csv
import io
import random
import subprocess
import sys
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from beancount.core import account as beancount_account
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from ledger.exports import (
    CSV_COLUMNS,
    account_key_from_beancount,
    beancount_account_name,
    format_amount,
    to_beancount,
    to_csv,
    to_xlsx,
)
from ledger.models import AccountLimit, AccountType, Side

BEAN_CHECK = Path(sys.executable).parent / "bean-check"
ROOT_WORD = {
    AccountType.asset: "assets",
    AccountType.liability: "liabilities",
    AccountType.equity: "equity",
    AccountType.income: "income",
    AccountType.expense: "expenses",
}

# --- account names and amounts (pure) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "account_type", "name"),
    [
        ("liabilities:members:42:payable", "liability", "Liabilities:Members:42:Payable"),
        ("equity:coops:7:collective-fund", "equity", "Equity:Coops:7:Collective-fund"),
        ("assets:clearing:stripe", "asset", "Assets:Clearing:Stripe"),
        ("income:enterprise:service-fees", "income", "Income:Enterprise:Service-fees"),
        ("expenses:payments:processing-fees", "expense", "Expenses:Payments:Processing-fees"),
        ("assets:bank_CN", "asset", "Assets:XX62616E6B5F434E"),
        ("bank", "asset", "Assets:XXX:Bank"),
        ("assets", "asset", "Assets:XXX:Assets"),
    ],
)
def test_beancount_names(key, account_type, name):
    assert beancount_account_name(key, account_type) == name
    assert beancount_account.is_valid(name)
    assert account_key_from_beancount(name) == (key, AccountType(account_type))


component = st.one_of(
    st.from_regex(r"[a-z0-9][a-z0-9-]{0,8}", fullmatch=True),
    st.text(min_size=0, max_size=6),  # anything at all: capitals, underscores, unicode, empty
    st.sampled_from(["x", "xx", "xxx", "XXX", "XX", "X", "-", "42", "Xx"]),
)


@given(
    parts=st.lists(component, min_size=1, max_size=5),
    account_type=st.sampled_from(list(AccountType)),
    keep_root=st.booleans(),
)
def test_names_are_valid_beancount_and_the_mapping_inverts(parts, account_type, keep_root):
    key = ":".join([ROOT_WORD[account_type], *parts] if keep_root else parts)
    name = beancount_account_name(key, account_type)
    assert beancount_account.is_valid(name), name
    assert account_key_from_beancount(name) == (key, account_type)


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (12345, "CNY", "123.45"),
        (-5, "CNY", "-0.05"),
        (0, "CNY", "0.00"),
        (1000, "JPY", "1000"),
        (1001, "KWD", "1.001"),
        (10**12 + 1, "CNY", "10000000000.01"),
    ],
)
def test_amounts_use_the_currency_scale(minor, currency, text):
    assert format_amount(minor, currency) == text


# --- exports of a real journal, posted through the service -----------------------------------

START = date(2026, 9, 1)


def _accounts() -> list[tuple[str, AccountType, str, AccountLimit]]:
    plain = AccountLimit.none
    accounts = [
        ("assets:clearing:stripe", AccountType.asset, "CNY", plain),
        ("assets:clearing:manual", AccountType.asset, "CNY", plain),
        ("assets:bank", AccountType.asset, "CNY", plain),
        ("liabilities:buyers:deposits", AccountType.liability, "CNY", plain),
        ("income:enterprise:service-fees", AccountType.income, "CNY", plain),
        ("expenses:payments:processing-fees", AccountType.expense, "CNY", plain),
        ("assets:bank:jp", AccountType.asset, "JPY", plain),
        ("income:enterprise:japan", AccountType.income, "JPY", plain),
        ("equity:opening_balances", AccountType.equity, "JPY", plain),
    ]
    for coop in (1, 2):
        for fund in ("collective-fund", "training-fund"):
            accounts.append((f"equity:coops:{coop}:{fund}", AccountType.equity, "CNY", plain))
    for household in range(1, 16):
        accounts.append(
            (
                f"liabilities:members:{household}:payable",
                AccountType.liability,
                "CNY",
                AccountLimit.non_negative,
            )
        )
    return accounts


def post_random_journal(session, *, entries: int, seed: int) -> dict[str, list[int]]:
    """Post `entries` random balanced entries (2–6 postings, CNY or JPY, 60 days), a few
    reversed; return per account key [debits, credits] in minor units, as posted."""
    from ledger.service import EntrySpec, PostingSpec, open_account, post, reverse

    rng = random.Random(seed)
    by_currency: dict[str, list[str]] = defaultdict(list)
    limited = set()
    for key, account_type, currency, limit in _accounts():
        open_account(session, key=key, type=account_type, currency=currency, limit=limit)
        by_currency[currency].append(key)
        if limit is AccountLimit.non_negative:
            limited.add(key)
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    posted: dict[int, list[PostingSpec]] = {}
    for n in range(entries):
        currency = "CNY" if rng.random() < 0.85 else "JPY"
        keys = rng.sample(by_currency[currency], rng.randint(2, min(6, len(by_currency[currency]))))
        # a member payable is only ever credited here, so its limit (never below 0) holds
        debit_keys = [k for k in keys if k not in limited][:1] or None
        if debit_keys is None:
            keys.append(next(k for k in by_currency[currency] if k not in limited))
            debit_keys = [keys[-1]]
        credit_keys = [k for k in keys if k != debit_keys[0]]
        credits = [rng.randint(1, 500_000) for _ in credit_keys]
        postings = [PostingSpec(debit_keys[0], Side.debit, sum(credits), currency)]
        postings += [
            PostingSpec(k, Side.credit, a, currency)
            for k, a in zip(credit_keys, credits, strict=True)
        ]
        spec = EntrySpec(
            kind=rng.choice(["sale", "payment", "fee", "adjustment"]),
            effective_date=START + timedelta(days=rng.randrange(60)),
            postings=tuple(postings),
            idempotency_key=f"export-test-{seed}-{n}",
            memo=rng.choice(
                ["", 'a "quoted" memo', "line one\nline two", "合作社 sale", "back\\slash"]
            ),
            reference=rng.choice([None, f"order:{n}"]),
        )
        entry = post(session, spec).entry
        assert entry.id is not None
        posted[entry.id] = postings
        for p in postings:
            totals[p.account][0 if p.side is Side.debit else 1] += p.amount
    for entry_id in rng.sample(sorted(posted), 10):
        reverse(session, entry_id, memo="test reversal")
        for p in posted[entry_id]:  # the mirror: each debit becomes a credit and back
            totals[p.account][1 if p.side is Side.debit else 0] += p.amount
    session.commit()
    return totals


def bean_check(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "ledger.beancount"
    path.write_text(text, encoding="utf-8")
    return subprocess.run(
        [str(BEAN_CHECK), str(path)], capture_output=True, text=True, check=False, timeout=300
    )


@pytest.fixture
def journal(session):
    return post_random_journal(session, entries=1_000, seed=20261129)


def test_beancount_export_of_1000_random_entries_passes_bean_check(session, journal, tmp_path):
    text = to_beancount(session)
    assert text.count(' * "') >= 1_010  # 1,000 entries + 10 reversals
    assert "balance Liabilities:Members:" in text
    result = bean_check(tmp_path, text)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_bean_check_fails_on_a_tampered_export(session, journal, tmp_path):
    """Proof that the check can fail: one posting amount edited, or one assertion edited."""
    lines = to_beancount(session).splitlines()
    posting = next(i for i, line in enumerate(lines) if line.startswith("  Assets:Bank  "))
    account, amount, currency = lines[posting].split()
    unbalanced = lines.copy()
    unbalanced[posting] = f"  {account}  {Decimal(amount) + Decimal('0.01')} {currency}"
    result = bean_check(tmp_path, "\n".join(unbalanced) + "\n")
    assert result.returncode == 1
    assert "Transaction does not balance" in result.stdout + result.stderr

    assertion = next(i for i, line in enumerate(lines) if " balance Assets:Bank " in line)
    day, _, account, amount, currency = lines[assertion].split()
    wrong = lines.copy()
    wrong[assertion] = f"{day} balance {account}  {Decimal(amount) + 1} {currency}"
    result = bean_check(tmp_path, "\n".join(wrong) + "\n")
    assert result.returncode == 1
    assert "Balance failed for 'Assets:Bank'" in result.stdout + result.stderr


def test_beancount_as_of_leaves_out_later_entries(session, journal, tmp_path):
    cutoff = START + timedelta(days=29)
    text = to_beancount(session, as_of=cutoff)
    dated = [line.split()[0] for line in text.splitlines() if ' * "' in line]
    assert dated
    assert max(dated) <= cutoff.isoformat()
    assert len(dated) < 1_010
    assert bean_check(tmp_path, text).returncode == 0


def test_csv_reads_back_to_the_posted_totals(session, journal):
    from ledger.service import balance

    rows = list(csv.DictReader(io.StringIO(to_csv(session))))
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        amount = int(row["amount"])
        assert amount > 0
        assert Decimal(row["amount_decimal"]) == Decimal(amount).scaleb(
            -2 if row["currency"] == "CNY" else 0
        )
        totals[row["account"]][0 if row["side"] == "debit" else 1] += amount
    assert totals == journal
    for key, (debits, credits) in totals.items():
        assert (balance(session, key).debits, balance(session, key).credits) == (debits, credits)
    # every entry balances per currency in the file
    per_entry: dict[tuple[str, str], int] = defaultdict(int)
    for row in rows:
        sign = 1 if row["side"] == "debit" else -1
        per_entry[row["entry_id"], row["currency"]] += sign * int(row["amount"])
    assert set(per_entry.values()) == {0}


def test_xlsx_reads_back_to_the_posted_totals(session, journal):
    from ledger.service import balance

    workbook = load_workbook(io.BytesIO(to_xlsx(session)), read_only=True)
    postings = list(workbook["Postings"].iter_rows(values_only=True))
    assert postings[0] == CSV_COLUMNS
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in postings[1:]:
        record = dict(zip(CSV_COLUMNS, row, strict=True))
        totals[record["account"]][0 if record["side"] == "debit" else 1] += record["amount"]
    assert totals == journal
    trial = list(workbook["Trial balance"].iter_rows(values_only=True))
    assert trial[0] == ("account", "type", "currency", "debits", "credits", "balance")
    installed = {"assets:bank", "expenses:bank:fees"}  # the chart from migration 0012
    assert {row[0] for row in trial[1:]} == {a[0] for a in _accounts()} | installed
    assert len(trial) - 1 == len({a[0] for a in _accounts()} | installed)
    for key, _type, currency, debits, credits, amount in trial[1:]:
        assert balance(session, key).amount == amount
        assert [debits, credits] == journal.get(key, [0, 0])
        assert currency in {"CNY", "JPY"}


# --- GET /api/v1/ledger/export ---------------------------------------------------------------

EXPORT_URL = "/api/v1/ledger/export"


def small_journal(session) -> None:
    from ledger.service import EntrySpec, PostingSpec, open_account, post

    open_account(session, key="assets:bank", type=AccountType.asset, currency="CNY")
    open_account(
        session, key="income:enterprise:service-fees", type=AccountType.income, currency="CNY"
    )
    for n, day in enumerate((date(2026, 11, 1), date(2026, 11, 2))):
        post(
            session,
            EntrySpec(
                kind="adjustment",
                effective_date=day,
                postings=(
                    PostingSpec("assets:bank", Side.debit, 1250 + n, "CNY"),
                    PostingSpec("income:enterprise:service-fees", Side.credit, 1250 + n, "CNY"),
                ),
                idempotency_key=f"route-test-{n}",
            ),
        )
    session.commit()


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_export_route_gives_each_format_to_staff_and_admin(
    role, session, client, make_user, login, tmp_path
):
    small_journal(session)
    headers = login(make_user(role))

    response = client.get(EXPORT_URL, params={"format": "beancount"}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert 'filename="hezuo-ledger.beancount"' in response.headers["content-disposition"]
    assert "  Assets:Bank  12.51 CNY" in response.text
    assert bean_check(tmp_path, response.text).returncode == 0

    response = client.get(EXPORT_URL, params={"format": "csv"}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert sorted(int(r["amount"]) for r in rows if r["side"] == "debit") == [1250, 1251]

    response = client.get(
        EXPORT_URL, params={"format": "xlsx", "as_of": "2026-11-01"}, headers=headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert 'filename="hezuo-ledger-2026-11-01.xlsx"' in response.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(response.content))["Postings"]
    assert [row[9] for row in sheet.iter_rows(min_row=2, values_only=True)] == [1250, 1250]


@pytest.mark.parametrize("role", ["buyer", "farmer", "manager"])
def test_export_route_refuses_other_roles(role, client, make_user, login):
    response = client.get(EXPORT_URL, params={"format": "csv"}, headers=login(make_user(role)))
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")


def test_export_route_needs_a_sign_in(client):
    response = client.get(EXPORT_URL, params={"format": "csv"})
    assert response.status_code == 401


@pytest.mark.parametrize("params", [{}, {"format": "pdf"}, {"format": "csv", "as_of": "soon"}])
def test_export_route_refuses_a_bad_format_or_date(params, client, make_user, login):
    response = client.get(EXPORT_URL, params=params, headers=login(make_user("staff")))
    assert response.status_code == 422
