"""Monthly disclosures: a cooperative's month read from the ledger, published once, checkable by anyone.

The report is a pure function of the ledger (and of the few facts it cites: which households
belong to the cooperative, which enrolments are theirs, which Stripe fee belongs to which order),
so `governance.disclosure_verify.verify_disclosure` recomputes it and compares hashes. What it counts:

- sales: the month's postings of settlements (kind `sale`), their proportional reversals for
  refunds (kind `refund`) and reversals of either that are attributed to the cooperative (each
  posting carries the cooperative of its order line, written when it is posted: nothing is
  apportioned afterwards); split into the households' part (their payables), the collective and
  training funds and the enterprise's service fee; fees are the processing fees attributed to the
  cooperative's lines (fee entries spread each fee over the order's lines by their totals) net of
  what its parts paid back of them.
- households: how many were credited a share, and the quantiles of their shares; never names, no
  quantiles (nor extremes) when fewer than `min_group` (HEZUO_DISCLOSURE_MIN_GROUP) households
  were paid, and no figure equal to one household's income in such a group (None instead).
- payouts: payout lines the bank confirmed in the month (a hold or a failed line is not a payout).
- funds: opening balance, money in, money out (each outflow listed), closing balance.
- training: seats financed in the month for the cooperative's households, and completions.

Publishing seals the ledger first and stores the seal block it was computed at; the row itself is
immutable (database triggers refuse UPDATE and DELETE). A final disclosure needs the month closed
(no entry can be dated in it any more, so it verifies for good); a month still open may be
published as provisional, and its verification then explains which entries, posted after
publication, changed which figure.
"""

import hashlib
import io
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from catalog.models import Cooperative
from core.spreadsheets import csv_writer
from governance import beneficiary_feedback
from governance.errors import AlreadyPublished, GovernanceInvalid, GovernanceNotFound
from governance.models import Disclosure
from ledger import reports
from ledger import service as ledger
from ledger.models import Account, JournalEntry, Posting, SealBlock
from ledger.share_rules import SHARE_PARTS, account_key, coop_funds
from ledger.specs import canonical_json
from training.models import Enrolment

PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
SALE_KINDS = ("sale", "refund")
PROCESSING_FEES = "expenses:payments:processing-fees"
DEFAULT_MIN_GROUP = 5  # HEZUO_DISCLOSURE_MIN_GROUP
# The share parts (ledger.share_rules.SHARE_PARTS) as disclosed: the producers' part as
# "households"; then what the parts paid back of processing fees.
DISCLOSED_AS = {part.key: "households" for part in SHARE_PARTS if part.per_household}
PART_NAMES = (*(DISCLOSED_AS.get(part.key, part.key) for part in SHARE_PARTS), "fees")
# Figures of a report that count people or seats; every other figure is an amount of money.
COUNT_FIGURES = frozenset(
    {"households.paid", "payouts.households", "training.seats_financed", "training.completed"}
)


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


# --- The report ------------------------------------------------------------------------------


def build_report(
    session: Session,
    *,
    coop_id: int,
    period: str,
    currency: str,
    min_group: int = DEFAULT_MIN_GROUP,
) -> dict[str, Any]:
    """The month's report as plain data (deterministic: the same ledger gives the same dict).

    Privacy: quantiles (and so the extremes) only when at least `min_group` households were
    paid; in a smaller group, no figure equal to one household's income (a single household's
    total, its part of the sales, its payout) is published: those are None.
    """
    month = month_of(period)
    _check_currency(currency)
    _coop(session, coop_id)
    sales, shares, used = _sales(session, month, currency, coop_id)
    sales["fees"] = _fees(session, month, currency, coop_id)
    paid = sorted(amount for amount in shares.values() if amount > 0)
    payouts = _payouts(session, month, currency, coop_id)
    small = 0 < len(paid) < min_group
    total = sum(sales[p] for p in PART_NAMES if p != "fees")
    parts: dict[str, int | None] = {p: sales[p] for p in PART_NAMES}
    households_total: int | None = sum(paid)
    if small and len(paid) == 1:
        parts["households"] = households_total = None
    if payouts["households"] == 1:  # one household's payout is its income
        payouts["total"] = None
    report: dict[str, Any] = {
        "coop_id": coop_id,
        "period": period,
        "currency": currency,
        "from": month.first.isoformat(),
        "to": month.last.isoformat(),
        "sales": {"total": total, "parts": parts},
        "households": {
            "paid": len(paid),
            "total": households_total,
            "quantiles": _quantiles(paid) if len(paid) >= min_group else None,
            "suppressed": small,
            "min_group": min_group,
        },
        "payouts": payouts,
        "funds": {
            fund.key: _fund(session, month, currency, account_key(fund, coop_id=coop_id))
            for fund in coop_funds()
        },
        "training": _training(session, month, coop_id),
        "entries": {"count": len(used), "last_entry_id": max(used) if used else None},
    }
    # Beneficiary feedback, aggregated; only in months that have some (earlier reports, built
    # before there was feedback, keep their hash).
    feedback = beneficiary_feedback.aggregate(
        session, coop_id=coop_id, first=month.first, last=month.last, min_group=min_group
    )
    if feedback["groups"] or feedback["suppressed"]:
        report["feedback"] = feedback
    return report


def _sales(
    session: Session, month: Month, currency: str, coop_id: int
) -> tuple[dict[str, int], dict[int, int], list[int]]:
    """The month's sales of the cooperative: its own postings (attributed at the source), by part.

    Fees here are what the cooperative's parts paid back of processing fees (pro rata rules);
    the fee expense itself is `_fees`.
    """
    parts = dict.fromkeys(PART_NAMES, 0)
    shares: dict[int, int] = defaultdict(int)
    for share in reports.sale_shares(
        session, currency=currency, since=month.first, until=month.last, coop_id=coop_id
    ):
        key = reports.part_of(share.account, coop_id)
        part = DISCLOSED_AS.get(key, key)
        if part in parts:
            parts[part] += share.amount
        if part == "households" and share.household_id is not None:
            shares[share.household_id] += share.amount
    return parts, dict(shares), _entries_of(session, month, currency, coop_id)


def _entries_of(session: Session, month: Month, currency: str, coop_id: int) -> list[int]:
    """The entries whose postings of the month are attributed to the cooperative."""
    ids = session.scalars(
        select(col(Posting.entry_id))
        .where(
            col(Posting.coop_id) == coop_id,
            col(Posting.currency) == currency,
            col(Posting.effective_date) >= month.first,
            col(Posting.effective_date) <= month.last,
        )
        .distinct()
    ).all()
    return sorted(int(i) for i in ids)


def _fees(session: Session, month: Month, currency: str, coop_id: int) -> int:
    """Processing fees of the month net of what the parts paid back, attributed to the cooperative.

    Fee entries spread the fee over the order's lines at the source (by line totals), so this is a
    sum of the cooperative's own postings on the fee account.
    """
    total = session.scalar(
        select(func.coalesce(func.sum(col(Posting.amount)), 0))
        .join(Account, col(Account.id) == col(Posting.account_id))
        .where(
            col(Account.key) == PROCESSING_FEES,
            col(Posting.coop_id) == coop_id,
            col(Posting.currency) == currency,
            col(Posting.effective_date) >= month.first,
            col(Posting.effective_date) <= month.last,
        )
    )
    return int(total or 0)


def _quantiles(paid: list[int]) -> dict[str, int]:
    """Nearest-rank quantiles of the households' shares (the caller checks the group size)."""

    def rank(q: int) -> int:
        index = max(0, -(-q * len(paid) // 100) - 1)  # ceil(q/100 · n) − 1
        return paid[index]

    return {"min": paid[0], "p25": rank(25), "median": rank(50), "p75": rank(75), "max": paid[-1]}


def _payouts(session: Session, month: Month, currency: str, coop_id: int) -> dict[str, int | None]:
    """Payout lines the bank confirmed in the month (a failed line is not a payout)."""
    figures = reports.payout_figures(
        session, coop_id=coop_id, currency=currency, since=month.first, until=month.last
    )
    return {"households": figures.households_paid, "total": figures.paid}


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
    return ledger.is_closed(session, period)


def publish(
    session: Session,
    *,
    coop_id: int,
    period: str,
    currency: str,
    published_by: str,
    today: date | None = None,
    provisional: bool = False,
    min_group: int = DEFAULT_MIN_GROUP,
) -> Disclosure:
    """Seal the ledger, build the month's report and store it for good (409 if already there).

    Final (the default) only for a closed month; an open month only as `provisional`.
    """
    month = month_of(period)
    _check_currency(currency)
    _coop(session, coop_id)
    if month.first > (today or date.today()):
        raise GovernanceInvalid(
            f"{period} has not begun; a month can be disclosed from its first day on.",
            loc=["period"],
        )
    closed = _period_closed(session, period)
    if not closed and not provisional:
        raise GovernanceInvalid(
            f"{period} is still open: entries can still be dated in it, so its figures may "
            "change. Close the month first for a final disclosure, or publish it as provisional "
            '("provisional": true).',
            loc=["provisional"],
        )
    if closed and provisional:
        raise GovernanceInvalid(
            f"{period} is closed: its figures can no longer change, so publish it as final "
            '("provisional": false).',
            loc=["provisional"],
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
    report = build_report(
        session, coop_id=coop_id, period=period, currency=currency, min_group=min_group
    )
    disclosure = Disclosure(
        coop_id=coop_id,
        period=period,
        currency=currency,
        content=report,
        content_hash=content_hash(report),
        seal_block_id=block.id if block else None,
        seal_hash=block.hash if block else None,
        sealed_through_entry=block.last_entry_id if block else None,
        period_closed=closed,
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
        "provisional": not disclosure.period_closed,
        "published_at": disclosure.published_at.isoformat(),
        "verify_url": f"/api/v1/disclosures/{disclosure.id}/verify",
        "verify_page": f"/disclosures/{disclosure.id}/verify",
    }


def report_rows(report: dict[str, Any]) -> list[tuple[str, str, int | str | None]]:
    """The report flattened to (section, figure, value) rows, for CSV and tables (None: withheld
    to protect a household's privacy)."""
    rows: list[tuple[str, str, int | str | None]] = [
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
    for fund in report["funds"]:  # the cooperative's funds as published
        for figure in ("opening", "inflow", "outflow", "closing"):
            rows.append((fund, figure, report["funds"][fund][figure]))
    for figure, value in report["training"].items():
        rows.append(("training", figure, value))
    return rows


def report_csv(disclosure: Disclosure) -> bytes:
    """UTF-8 with a BOM (spreadsheets open it right): period, currency, section, figure, value."""
    buffer = io.StringIO()
    writer = csv_writer(buffer, lineterminator="\n")
    writer.writerow(["coop_id", "period", "currency", "section", "figure", "value"])
    status = "provisional" if not disclosure.period_closed else "final"
    writer.writerow(
        [disclosure.coop_id, disclosure.period, disclosure.currency, "disclosure", "status", status]
    )
    for section, figure, value in report_rows(disclosure.content):
        writer.writerow(
            [disclosure.coop_id, disclosure.period, disclosure.currency, section, figure, value]
        )
    for fund, figures in disclosure.content["funds"].items():
        for item in figures["outflows"]:
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
