"""Monthly disclosures: a cooperative's month read from the ledger, published once, checkable by anyone.

The report is a pure function of the ledger (and of the few facts it cites: which households
belong to the cooperative, which enrolments are theirs, which Stripe fee belongs to which order),
so `verify_disclosure` recomputes it and compares hashes. What it counts:

- sales: settlement entries (kind `sale`, settlement reversals of kind `refund`, and reversals of
  either) dated in the month that credit the cooperative's accounts; split into the households'
  part (their payables), the collective and training funds, and the enterprise's service fee (in
  an order spanning several cooperatives, the fee is divided in proportion with `allocate`);
  payment processing fees of the month (Stripe fee entries) are attributed to the cooperative in
  proportion to its lines in the order they were charged on.
- households: how many were credited a share, and the quantiles of their shares; never names, and
  no quantiles at all when fewer than three households were paid (each would be a person).
- payouts: money taken from the households' payables by payout entries in the month.
- funds: opening balance, money in, money out (each outflow listed), closing balance.
- training: seats financed in the month for the cooperative's households, and completions.

Publishing seals the ledger first and stores the seal block it was computed at; the row itself is
immutable (database triggers refuse UPDATE and DELETE).
"""

import csv
import hashlib
import io
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from catalog.models import Cooperative, Household
from governance.errors import AlreadyPublished, GovernanceInvalid, GovernanceNotFound
from governance.models import Disclosure
from ledger import service as ledger
from ledger.allocation import allocate
from ledger.models import Account, ClosedPeriod, JournalEntry, Posting, SealBlock
from ledger.payout_models import StripeTransaction
from ledger.share_rules import ENTERPRISE_INCOME, collective_fund_key, training_fund_key
from ledger.specs import canonical_json
from orders.models import OrderLine, Payment
from training.models import Enrolment

PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
SALE_KINDS = ("sale", "refund")
PROCESSING_FEES = "expenses:payments:processing-fees"
MIN_HOUSEHOLDS_FOR_QUANTILES = 3
PART_NAMES = ("households", "collective_fund", "training_fund", "enterprise", "fees")


@dataclass(frozen=True)
class Month:
    period: str
    first: date
    last: date


def month_of(period: str) -> Month:
    match = PERIOD.match(period or "")
    if match is None:
        raise GovernanceInvalid(
            f"{period!r} is not a month; write it as YYYY-MM, e.g. 2026-11.", loc=["period"]
        )
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= year <= 9998:  # year 0000 (or 9999's following month) is no date at all
        raise GovernanceInvalid(f"{period!r} is not a month of a real year.", loc=["period"])
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return Month(period, first, following - timedelta(days=1))


def _check_currency(currency: str) -> None:
    if not CURRENCY.match(currency or ""):
        raise GovernanceInvalid(
            f"{currency!r} is not an ISO 4217 currency code (e.g. CNY).", loc=["currency"]
        )


def _coop(session: Session, coop_id: int) -> Cooperative:
    coop = session.get(Cooperative, coop_id)
    if coop is None:
        raise GovernanceNotFound(f"No cooperative {coop_id}.")
    return coop


def _household_accounts(session: Session, coop_id: int) -> dict[str, int]:
    ids = session.scalars(select(col(Household.id)).where(col(Household.coop_id) == coop_id)).all()
    return {f"liabilities:members:{h}:payable": int(h) for h in ids if h is not None}


# --- The report ------------------------------------------------------------------------------


def build_report(session: Session, *, coop_id: int, period: str, currency: str) -> dict[str, Any]:
    """The month's report as plain data (deterministic: the same ledger gives the same dict)."""
    month = month_of(period)
    _check_currency(currency)
    _coop(session, coop_id)
    households = _household_accounts(session, coop_id)
    funds = {collective_fund_key(coop_id), training_fund_key(coop_id)}
    sales, shares, used = _sales(session, month, currency, households, funds, coop_id)
    sales["fees"] = _fees(session, month, currency, coop_id)
    paid = sorted(amount for amount in shares.values() if amount > 0)
    payouts = _payouts(session, month, currency, households)
    return {
        "coop_id": coop_id,
        "period": period,
        "currency": currency,
        "from": month.first.isoformat(),
        "to": month.last.isoformat(),
        "sales": {
            "total": sum(sales[p] for p in PART_NAMES if p != "fees"),
            "parts": {p: sales[p] for p in PART_NAMES},
        },
        "households": {
            "paid": len(paid),
            "total": sum(paid),
            "quantiles": _quantiles(paid),
            "suppressed": 0 < len(paid) < MIN_HOUSEHOLDS_FOR_QUANTILES,
        },
        "payouts": payouts,
        "funds": {
            "collective_fund": _fund(session, month, currency, collective_fund_key(coop_id)),
            "training_fund": _fund(session, month, currency, training_fund_key(coop_id)),
        },
        "training": _training(session, month, coop_id),
        "entries": {"count": len(used), "last_entry_id": max(used) if used else None},
    }


def _sale_entry_ids(session: Session, month: Month, keys: set[str]) -> list[int]:
    original = aliased(JournalEntry)
    counted = or_(
        col(JournalEntry.kind).in_(SALE_KINDS),
        (col(JournalEntry.kind) == "reversal") & col(original.kind).in_(SALE_KINDS),
    )
    ids = session.scalars(
        select(col(Posting.entry_id))
        .join(Account, col(Account.id) == col(Posting.account_id))
        .join(JournalEntry, col(JournalEntry.id) == col(Posting.entry_id))
        .outerjoin(original, col(original.id) == col(JournalEntry.reverses_id))
        .where(
            col(Account.key).in_(sorted(keys)),
            col(Posting.effective_date) >= month.first,
            col(Posting.effective_date) <= month.last,
            counted,
        )
        .distinct()
    ).all()
    return sorted(int(i) for i in ids)


def _sales(
    session: Session,
    month: Month,
    currency: str,
    households: dict[str, int],
    funds: set[str],
    coop_id: int,
) -> tuple[dict[str, int], dict[int, int], list[int]]:
    entry_ids = _sale_entry_ids(session, month, set(households) | funds)
    per_entry: dict[int, list[tuple[str, int]]] = defaultdict(list)
    if entry_ids:
        for entry_id, key, amount in session.execute(
            select(col(Posting.entry_id), col(Account.key), col(Posting.amount))
            .join(Account, col(Account.id) == col(Posting.account_id))
            .where(col(Posting.entry_id).in_(entry_ids), col(Posting.currency) == currency)
            .order_by(col(Posting.id))
        ):
            per_entry[int(entry_id)].append((str(key), -int(amount)))  # credits count as +
    parts = dict.fromkeys(PART_NAMES, 0)
    shares: dict[int, int] = defaultdict(int)
    collective, training = collective_fund_key(coop_id), training_fund_key(coop_id)
    for entry_id in entry_ids:
        ours = others = enterprise = 0
        for key, amount in per_entry[entry_id]:
            if key in households:
                shares[households[key]] += amount
                parts["households"] += amount
                ours += amount
            elif key == collective:
                parts["collective_fund"] += amount
                ours += amount
            elif key == training:
                parts["training_fund"] += amount
                ours += amount
            elif key == ENTERPRISE_INCOME:
                enterprise += amount
            elif key.startswith(("liabilities:members:", "equity:coops:")):
                others += amount
        parts["enterprise"] += _proportion(enterprise, ours, others)
    return parts, dict(shares), entry_ids


def _proportion(amount: int, ours: int, others: int) -> int:
    """Our part of `amount` when it was shared with other cooperatives (largest remainder)."""
    if amount == 0 or others == 0:
        return amount if ours else 0
    weights = [abs(ours), abs(others)]
    if sum(weights) == 0:
        return 0
    sign = 1 if amount > 0 else -1
    return sign * allocate(abs(amount), weights)[0]


def _fees(session: Session, month: Month, currency: str, coop_id: int) -> int:
    """Processing fees of the month on payments of orders with this cooperative's lines.

    A fee entry names its order by its reference (`order:{id}`, posted by the payment flow) or,
    for fees the Stripe sync posted, through the Stripe transaction's payment intent.
    """
    in_month = (
        col(Account.key) == PROCESSING_FEES,
        col(Posting.currency) == currency,
        col(Posting.effective_date) >= month.first,
        col(Posting.effective_date) <= month.last,
    )
    fees: dict[int, tuple[int, int]] = {}  # posting id → (amount, order id)
    for posting_id, amount, reference in session.execute(
        select(col(Posting.id), col(Posting.amount), col(JournalEntry.reference))
        .join(Account, col(Account.id) == col(Posting.account_id))
        .join(JournalEntry, col(JournalEntry.id) == col(Posting.entry_id))
        .where(*in_month, col(JournalEntry.reference).like("order:%"))
    ):
        tail = str(reference).split(":", 1)[1]
        if tail.isdigit():
            fees[int(posting_id)] = (int(amount), int(tail))
    for posting_id, amount, order_id in session.execute(
        select(col(Posting.id), col(Posting.amount), col(Payment.order_id))
        .join(Account, col(Account.id) == col(Posting.account_id))
        .join(StripeTransaction, col(StripeTransaction.posted_entry_id) == col(Posting.entry_id))
        .join(Payment, col(Payment.payment_intent_id) == col(StripeTransaction.payment_intent_id))
        .where(*in_month)
    ):
        fees.setdefault(int(posting_id), (int(amount), int(order_id)))
    total = 0
    for posting_id in sorted(fees):
        amount, order_id = fees[posting_id]
        lines = session.execute(
            select(col(OrderLine.coop_id), col(OrderLine.line_total)).where(
                col(OrderLine.order_id) == order_id
            )
        ).all()
        ours = sum(int(t) for c, t in lines if c == coop_id)
        others = sum(int(t) for c, t in lines if c != coop_id)
        total += _proportion(amount, ours, others)
    return total


def _quantiles(paid: list[int]) -> dict[str, int] | None:
    """Nearest-rank quantiles of the households' shares; None below the privacy threshold."""
    if len(paid) < MIN_HOUSEHOLDS_FOR_QUANTILES:
        return None

    def rank(q: int) -> int:
        index = max(0, -(-q * len(paid) // 100) - 1)  # ceil(q/100 · n) − 1
        return paid[index]

    return {"min": paid[0], "p25": rank(25), "median": rank(50), "p75": rank(75), "max": paid[-1]}


def _payouts(
    session: Session, month: Month, currency: str, households: dict[str, int]
) -> dict[str, int]:
    if not households:
        return {"households": 0, "total": 0}
    rows = session.execute(
        select(col(Account.key), func.sum(col(Posting.amount)))
        .join(Account, col(Account.id) == col(Posting.account_id))
        .join(JournalEntry, col(JournalEntry.id) == col(Posting.entry_id))
        .where(
            col(Account.key).in_(sorted(households)),
            col(JournalEntry.kind) == "payout",
            col(Posting.currency) == currency,
            col(Posting.effective_date) >= month.first,
            col(Posting.effective_date) <= month.last,
        )
        .group_by(col(Account.key))
    ).all()
    paid = [int(total) for _key, total in rows if int(total or 0) > 0]
    return {"households": len(paid), "total": sum(paid)}


def _fund(session: Session, month: Month, currency: str, key: str) -> dict[str, Any]:
    account = session.scalars(select(Account).where(col(Account.key) == key)).first()
    if account is None or account.currency != currency:
        return {"opening": 0, "inflow": 0, "outflow": 0, "closing": 0, "outflows": []}
    opening = -int(
        session.scalar(
            select(func.coalesce(func.sum(col(Posting.amount)), 0)).where(
                col(Posting.account_id) == account.id,
                col(Posting.effective_date) < month.first,
            )
        )
        or 0
    )
    rows = [
        (p.amount, e.id, e.effective_date, e.kind, e.memo)
        for p, e in session.execute(
            select(Posting, JournalEntry)
            .join(JournalEntry, col(JournalEntry.id) == col(Posting.entry_id))
            .where(
                col(Posting.account_id) == account.id,
                col(Posting.effective_date) >= month.first,
                col(Posting.effective_date) <= month.last,
            )
            .order_by(col(Posting.id))
        ).tuples()
    ]
    inflow = sum(-a for a, *_ in rows if a < 0)
    outflow = sum(a for a, *_ in rows if a > 0)
    outflows = [
        {"entry_id": e or 0, "date": d.isoformat(), "kind": k, "memo": m, "amount": a}
        for a, e, d, k, m in rows
        if a > 0
    ]
    return {
        "opening": opening,
        "inflow": inflow,
        "outflow": outflow,
        "closing": opening + inflow - outflow,
        "outflows": outflows,
    }


def _training(session: Session, month: Month, coop_id: int) -> dict[str, int]:
    financed = session.execute(
        select(col(Enrolment.id), col(Enrolment.seat_cost))
        .join(JournalEntry, col(JournalEntry.id) == col(Enrolment.financing_entry_id))
        .where(
            col(Enrolment.coop_id) == coop_id,
            col(JournalEntry.effective_date) >= month.first,
            col(JournalEntry.effective_date) <= month.last,
        )
    ).all()
    start = datetime.combine(month.first, time.min, tzinfo=UTC)
    end = datetime.combine(month.last + timedelta(days=1), time.min, tzinfo=UTC)
    completed = session.scalar(
        select(func.count(col(Enrolment.id))).where(
            col(Enrolment.coop_id) == coop_id,
            col(Enrolment.completed_at) >= start,
            col(Enrolment.completed_at) < end,
        )
    )
    return {
        "seats_financed": len(financed),
        "seat_cost_total": sum(int(cost or 0) for _id, cost in financed),
        "completed": int(completed or 0),
    }


def content_hash(report: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(report).encode()).hexdigest()


# --- Publishing and reading -----------------------------------------------------------------


def _period_closed(session: Session, period: str) -> bool:
    found = session.scalars(
        select(col(ClosedPeriod.period)).where(col(ClosedPeriod.period) >= period).limit(1)
    ).first()
    return found is not None


def publish(
    session: Session,
    *,
    coop_id: int,
    period: str,
    currency: str,
    published_by: str,
    today: date | None = None,
) -> Disclosure:
    """Seal the ledger, build the month's report and store it for good (409 if already there)."""
    month = month_of(period)
    _check_currency(currency)
    _coop(session, coop_id)
    if month.first > (today or date.today()):
        raise GovernanceInvalid(
            f"{period} has not begun; a month can be disclosed from its first day on.",
            loc=["period"],
        )
    existing = session.scalars(
        select(Disclosure).where(
            col(Disclosure.coop_id) == coop_id,
            col(Disclosure.period) == period,
            col(Disclosure.currency) == currency,
        )
    ).first()
    if existing is not None:
        raise AlreadyPublished(
            f"Cooperative {coop_id}'s {period} disclosure was already published "
            f"(disclosure {existing.id}); a published disclosure never changes."
        )
    ledger.seal_pending(session)
    block = session.scalars(select(SealBlock).order_by(col(SealBlock.id).desc()).limit(1)).first()
    report = build_report(session, coop_id=coop_id, period=period, currency=currency)
    disclosure = Disclosure(
        coop_id=coop_id,
        period=period,
        currency=currency,
        content=report,
        content_hash=content_hash(report),
        seal_block_id=block.id if block else None,
        seal_hash=block.hash if block else None,
        sealed_through_entry=block.last_entry_id if block else None,
        period_closed=_period_closed(session, period),
        published_by=published_by,
    )
    session.add(disclosure)
    session.flush()
    return disclosure


def get_disclosure(session: Session, disclosure_id: int) -> Disclosure:
    disclosure = session.get(Disclosure, disclosure_id)
    if disclosure is None:
        raise GovernanceNotFound(f"No disclosure {disclosure_id}.")
    return disclosure


def list_disclosures(session: Session, *, coop_id: int | None = None) -> list[Disclosure]:
    query = select(Disclosure).order_by(
        col(Disclosure.period).desc(), col(Disclosure.coop_id), col(Disclosure.id)
    )
    if coop_id is not None:
        query = query.where(col(Disclosure.coop_id) == coop_id)
    return list(session.scalars(query).all())


def latest_for_coop(session: Session, coop_id: int) -> Disclosure | None:
    found = list_disclosures(session, coop_id=coop_id)
    return found[0] if found else None


def _differences(published: Any, recomputed: Any, path: str = "") -> list[dict[str, Any]]:
    if isinstance(published, dict) and isinstance(recomputed, dict):
        found: list[dict[str, Any]] = []
        for key in sorted(set(published) | set(recomputed)):
            found += _differences(
                published.get(key), recomputed.get(key), f"{path}.{key}" if path else key
            )
        return found
    if published != recomputed:
        return [{"field": path, "published": published, "recomputed": recomputed}]
    return []


def verify_disclosure(session: Session, disclosure: Disclosure) -> dict[str, Any]:
    """Recompute the report from today's ledger and compare; check the stored row and its seal.

    `matches` is true when the recomputed report has the published hash; `differences` names
    each figure that changed (e.g. an entry posted into the month after publishing, possible
    only while the period was open). `stored_hash_ok` checks the row against its own hash;
    `seal` says whether the cited block is still in the chain with the same hash.
    """
    recomputed = build_report(
        session, coop_id=disclosure.coop_id, period=disclosure.period, currency=disclosure.currency
    )
    recomputed_hash = content_hash(recomputed)
    stored_ok = content_hash(disclosure.content) == disclosure.content_hash
    seal_ok = True
    if disclosure.seal_block_id is not None:
        block = session.get(SealBlock, disclosure.seal_block_id)
        seal_ok = block is not None and block.hash == disclosure.seal_hash
    chain = ledger.verify(session)
    matches = recomputed_hash == disclosure.content_hash
    return {
        "disclosure_id": disclosure.id,
        "ok": matches and stored_ok and seal_ok and bool(chain["ok"]),
        "matches": matches,
        "published_hash": disclosure.content_hash,
        "recomputed_hash": recomputed_hash,
        "stored_hash_ok": stored_ok,
        "period_closed": _period_closed(session, disclosure.period),
        "seal": {
            "block_id": disclosure.seal_block_id,
            "hash": disclosure.seal_hash,
            "ok": seal_ok,
            "ledger_chain_ok": bool(chain["ok"]),
        },
        "differences": _differences(disclosure.content, recomputed),
    }


def disclosure_read(disclosure: Disclosure, coop: Cooperative | None = None) -> dict[str, Any]:
    return {
        "id": disclosure.id,
        "coop_id": disclosure.coop_id,
        "coop": (
            {"code": coop.code, "name": {"zh": coop.name_zh, "en": coop.name_en}}
            if coop is not None
            else None
        ),
        "period": disclosure.period,
        "currency": disclosure.currency,
        "content": disclosure.content,
        "content_hash": disclosure.content_hash,
        "seal": {
            "block_id": disclosure.seal_block_id,
            "hash": disclosure.seal_hash,
            "sealed_through_entry": disclosure.sealed_through_entry,
        },
        "period_closed": disclosure.period_closed,
        "published_at": disclosure.published_at.isoformat(),
        "verify_url": f"/api/v1/disclosures/{disclosure.id}/verify",
    }


def report_rows(report: dict[str, Any]) -> list[tuple[str, str, int | str]]:
    """The report flattened to (section, figure, value) rows, for CSV and tables."""
    rows: list[tuple[str, str, int | str]] = [
        ("sales", "total", report["sales"]["total"]),
        *(("sales", part, report["sales"]["parts"][part]) for part in PART_NAMES),
        ("households", "paid", report["households"]["paid"]),
        ("households", "total", report["households"]["total"]),
    ]
    for name, value in (report["households"]["quantiles"] or {}).items():
        rows.append(("households", name, value))
    rows += [
        ("payouts", "households", report["payouts"]["households"]),
        ("payouts", "total", report["payouts"]["total"]),
    ]
    for fund in ("collective_fund", "training_fund"):
        for figure in ("opening", "inflow", "outflow", "closing"):
            rows.append((fund, figure, report["funds"][fund][figure]))
    for figure, value in report["training"].items():
        rows.append(("training", figure, value))
    return rows


def report_csv(disclosure: Disclosure) -> bytes:
    """UTF-8 with a BOM (spreadsheets open it right): period, currency, section, figure, value."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["coop_id", "period", "currency", "section", "figure", "value"])
    for section, figure, value in report_rows(disclosure.content):
        writer.writerow(
            [disclosure.coop_id, disclosure.period, disclosure.currency, section, figure, value]
        )
    for fund in ("collective_fund", "training_fund"):
        for item in disclosure.content["funds"][fund]["outflows"]:
            writer.writerow(
                [
                    disclosure.coop_id,
                    disclosure.period,
                    disclosure.currency,
                    f"{fund}_outflow",
                    f"{item['date']} {item['kind']} {item['memo']}",
                    item["amount"],
                ]
            )
    return ("\ufeff" + buffer.getvalue()).encode()
