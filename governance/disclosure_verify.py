"""Verifying a published disclosure: recompute its report from today's ledger, compare it with
the published figures, check the stored row and the ledger seal it cites, and say in words what
changed and which entries (posted after publication) changed it.
"""

from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from governance.disclosures import (
    _period_closed,
    build_report,
    content_hash,
    month_of,
    report_rows,
)
from governance.models import Disclosure
from ledger import service as ledger
from ledger.models import Account, JournalEntry, Posting, SealBlock
from ledger.share_rules import account_key, coop_funds


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


def _min_group(disclosure: Disclosure) -> int:
    """The privacy threshold the disclosure was published with (3 before it was a setting)."""
    households = disclosure.content.get("households") or {}
    return int(households.get("min_group") or 3)


def entries_after(session: Session, disclosure: Disclosure) -> list[dict[str, Any]]:
    """Entries posted after the disclosure's seal that move the cooperative's month."""
    month = month_of(disclosure.period)
    funds = [account_key(fund, coop_id=disclosure.coop_id) for fund in coop_funds()]
    ours = or_(col(Posting.coop_id) == disclosure.coop_id, col(Account.key).in_(funds))
    # Ids first: DISTINCT over whole entries fails on PostgreSQL (no equality for json).
    ids = (
        select(col(Posting.entry_id))
        .join(Account, col(Account.id) == col(Posting.account_id))
        .where(
            ours,
            col(Posting.currency) == disclosure.currency,
            col(Posting.effective_date) >= month.first,
            col(Posting.effective_date) <= month.last,
        )
    )
    if disclosure.sealed_through_entry is not None:
        ids = ids.where(col(Posting.entry_id) > disclosure.sealed_through_entry)
    query = (
        select(JournalEntry)
        .where(col(JournalEntry.id).in_(ids.scalar_subquery()))
        .order_by(col(JournalEntry.id))
    )
    return [
        {
            "entry_id": entry.id,
            "kind": entry.kind,
            "date": entry.effective_date.isoformat(),
            "memo": entry.memo,
            "posted_at": entry.created_at.isoformat(),
        }
        for entry in session.scalars(query).all()
    ]


def _explain(
    disclosure: Disclosure,
    matches: bool,
    differences: list[dict[str, Any]],
    later: list[dict[str, Any]],
    intact: bool,
) -> tuple[str, str]:
    """(status, explanation in words) of a verification; the pages say the same in the reader's
    language from the structured fields."""
    if not intact:
        return (
            "tampered",
            "The stored disclosure or the ledger seal it cites no longer has its recorded hash: "
            "the record was altered after publication.",
        )
    if matches:
        return (
            "matches",
            f"The {disclosure.period} figures were recomputed from today's ledger and are "
            "exactly the published ones.",
        )
    changed = "; ".join(
        f"{d['field']}: published {d['published']}, now {d['recomputed']}" for d in differences
    )
    cause = (
        ", ".join(f"entry {e['entry_id']} ({e['kind']}, {e['date']}, {e['memo']!r})" for e in later)
        or "no entry posted after publication"
    )
    if not disclosure.period_closed:
        return (
            "changed_after_publication",
            f"This disclosure is provisional: {disclosure.period} was still open when it was "
            f"published, and entries dated in the month were posted afterwards. Changed "
            f"figures: {changed}. Entries posted after publication: {cause}. The published "
            "figures were right when published; a final disclosure follows once the month is "
            "closed.",
        )
    return (
        "differs",
        f"The month was closed when this disclosure was published, yet the recomputed "
        f"figures differ: {changed}. Entries posted after publication: {cause}. This can "
        "also follow a change in how the report is computed.",
    )


def verify_disclosure(session: Session, disclosure: Disclosure) -> dict[str, Any]:
    """Recompute the report from today's ledger and compare; check the stored row and its seal.

    `matches` is true when the recomputed report has the published hash; `differences` names
    each figure that changed and `entries_after_publication` the entries that moved the month
    since (possible only while the period was open); `status` and `explanation` say it in
    words. `stored_hash_ok` checks the row against its own hash; `seal` says whether the cited
    block is still in the chain with the same hash.
    """
    recomputed = build_report(
        session,
        coop_id=disclosure.coop_id,
        period=disclosure.period,
        currency=disclosure.currency,
        min_group=_min_group(disclosure),
    )
    recomputed_hash = content_hash(recomputed)
    stored_ok = content_hash(disclosure.content) == disclosure.content_hash
    seal_ok = True
    if disclosure.seal_block_id is not None:
        block = session.get(SealBlock, disclosure.seal_block_id)
        seal_ok = block is not None and block.hash == disclosure.seal_hash
    chain = ledger.verify(session)
    matches = recomputed_hash == disclosure.content_hash
    differences = _differences(disclosure.content, recomputed)
    later = entries_after(session, disclosure) if not matches else []
    intact = stored_ok and seal_ok and bool(chain["ok"])
    status, explanation = _explain(disclosure, matches, differences, later, intact)
    return {
        "disclosure_id": disclosure.id,
        "ok": matches and intact,
        "matches": matches,
        "status": status,
        "explanation": explanation,
        "provisional": not disclosure.period_closed,
        "recomputed": {
            "coop_id": disclosure.coop_id,
            "period": disclosure.period,
            "currency": disclosure.currency,
            "figures": [list(row) for row in report_rows(recomputed)],
        },
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
        "differences": differences,
        "entries_after_publication": later,
    }
