"""Recording matches between statement lines and postings: automatically by the rules, by hand,
undone, or by booking an unexpected line (a fee, interest) against another account."""

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, col

from core.errors import Invalid, NotFound
from ledger.bank import reading, rules
from ledger.bank.values import DEFAULT_DRIFT_DAYS, LedgerItem, MatchConflict, ParsedFile
from ledger.base import utcnow
from ledger.models import Account, AccountType, Posting, Side
from ledger.payout_models import LineState, Match, MatchItem, StatementLine
from ledger.service import EntrySpec, PostingSpec, post

CLEARING_ACCOUNT = "assets:clearing:manual"
# Given the open clearing postings, the payment reference code of each (from the orders domain).
CodeResolver = Callable[[Sequence[LedgerItem]], Mapping[int, str]]


def record_match(
    session: Session,
    *,
    account_key: str,
    rule: str,
    line_ids: Sequence[int],
    posting_ids: Sequence[int],
    reason: str = "",
    created_by: str | None = None,
) -> Match:
    match = Match(account_key=account_key, rule=rule, reason=reason, created_by=created_by)
    session.add(match)
    session.flush()
    assert match.id is not None
    for line_id in line_ids:
        session.add(MatchItem(match_id=match.id, statement_line_id=line_id))
        line = session.get(StatementLine, line_id)
        assert line is not None
        line.state = LineState.matched.value
        session.add(line)
    for posting_id in posting_ids:
        session.add(MatchItem(match_id=match.id, posting_id=posting_id))
    session.flush()
    return match


def _posting_on(session: Session, entry_id: int | None, account_key: str) -> int:
    posting_id = session.scalars(
        select(col(Posting.id))
        .join(Account, col(Account.id) == col(Posting.account_id))
        .where(col(Posting.entry_id) == entry_id, col(Account.key) == account_key)
    ).one()
    assert posting_id is not None
    return posting_id


def _book_line(
    session: Session,
    line: StatementLine,
    *,
    counter_account: str,
    memo: str,
    key: str,
    metadata: dict[str, int],
    created_by: str | None,
) -> int:
    """Post the line's money between its account and `counter_account`; the account's posting id."""
    amount = abs(line.amount)
    into_account = Side.debit if line.amount > 0 else Side.credit
    other = Side.credit if into_account == Side.debit else Side.debit
    entry = post(
        session,
        EntrySpec(
            kind="adjustment",
            effective_date=line.booked_on,
            postings=(
                PostingSpec(line.account_key, into_account, amount, line.currency),
                PostingSpec(counter_account, other, amount, line.currency),
            ),
            idempotency_key=key,
            memo=memo,
            reference=line.reference or None,
            metadata=metadata,
            created_by=created_by,
        ),
    ).entry
    return _posting_on(session, entry.id, line.account_key)


def _record_clearing(
    session: Session,
    proposal: rules.Proposal,
    lines: Mapping[int, StatementLine],
    created_by: str | None,
) -> Match:
    """A bank line for a payment staff recorded: move it from clearing to the bank, and match."""
    (line_id,), (clearing_posting,) = proposal.line_keys, proposal.posting_ids
    line = lines[line_id]
    bank_posting = _book_line(
        session,
        line,
        counter_account=CLEARING_ACCOUNT,
        memo=f"Recorded payment reached the bank (statement line {line_id})",
        key=f"bank-clearing:{clearing_posting}:{line_id}",
        metadata={"statement_line": line_id, "clearing_posting": clearing_posting},
        created_by=created_by,
    )
    return record_match(
        session,
        account_key=line.account_key,
        rule=proposal.rule,
        line_ids=[line_id],
        posting_ids=[bank_posting, clearing_posting],
        created_by=created_by,
    )


def _open_for_rules(
    session: Session, account_key: str
) -> tuple[list[StatementLine], list[LedgerItem]]:
    lines, items = reading.open_items(session, account_key)
    explained_lines, explained_postings = reading.explained_ids(session, account_key)
    return (
        [line for line in lines if line.id not in explained_lines],
        [item for item in items if item.posting_id not in explained_postings],
    )


def facts(line: StatementLine) -> rules.BankLine:
    return rules.bank_line(
        line.id or 0,
        line.booked_on,
        line.amount,
        line.reference,
        line.counterparty,
        line.description,
    )


def _check_drift(drift_days: int) -> None:
    if drift_days < 0 or drift_days > 31:
        raise Invalid(
            "The date drift must be 0–31 days.",
            errors=[{"loc": ["body", "drift_days"], "msg": "0–31"}],
        )


def proposals_for(
    session: Session,
    *,
    account_key: str,
    lines: Sequence[rules.BankLine],
    drift_days: int = DEFAULT_DRIFT_DAYS,
    codes: CodeResolver | None = None,
) -> list[rules.Proposal]:
    """What the rules would match these lines to among the account's open postings."""
    _, items = _open_for_rules(session, account_key)
    clearing = reading.open_clearing_items(session, CLEARING_ACCOUNT) if codes else []
    return rules.propose(
        lines,
        items,
        drift_days=drift_days,
        clearing=clearing,
        codes=codes(clearing) if codes and clearing else None,
    )


def proposals_for_file(
    session: Session,
    *,
    account_key: str,
    parsed: ParsedFile,
    codes: CodeResolver | None = None,
    drift_days: int = DEFAULT_DRIFT_DAYS,
) -> dict[int, rules.Proposal]:
    """For a previewed file: each file line number → what the rules would match it to."""
    lines = [
        rules.bank_line(
            x.line_no, x.booked_on, x.amount, x.reference, x.counterparty, x.description
        )
        for x in parsed.lines
    ]
    proposals = proposals_for(
        session, account_key=account_key, lines=lines, drift_days=drift_days, codes=codes
    )
    return {key: proposal for proposal in proposals for key in proposal.line_keys}


def auto_match(
    session: Session,
    *,
    account_key: str,
    drift_days: int = DEFAULT_DRIFT_DAYS,
    created_by: str | None = None,
    codes: CodeResolver | None = None,
) -> list[Match]:
    """Apply the rules (ledger/bank/rules.py) to the open items; returns the new matches."""
    _check_drift(drift_days)
    reading.get_account(session, account_key)
    lines, _ = _open_for_rules(session, account_key)
    by_id = {line.id or 0: line for line in lines}
    proposals = proposals_for(
        session,
        account_key=account_key,
        lines=[facts(line) for line in lines],
        drift_days=drift_days,
        codes=codes if account_key != CLEARING_ACCOUNT else None,
    )
    made = []
    for proposal in proposals:
        if proposal.confirm:
            continue  # a deposit of several payments: staff confirm it (confirm_deposit_set)
        if proposal.clearing:
            made.append(_record_clearing(session, proposal, by_id, created_by))
            continue
        made.append(
            record_match(
                session,
                account_key=account_key,
                rule=proposal.rule,
                line_ids=proposal.line_keys,
                posting_ids=proposal.posting_ids,
                created_by=created_by,
            )
        )
    return made


@dataclass(frozen=True)
class DepositSet:
    """A bank line proposed to be several recorded payments at once, for staff to confirm."""

    line: StatementLine
    payments: list[LedgerItem]
    codes: dict[int, str]  # clearing posting id → the order's reference code


def deposit_sets(
    session: Session,
    *,
    account_key: str,
    codes: CodeResolver,
    drift_days: int = DEFAULT_DRIFT_DAYS,
) -> list[DepositSet]:
    """The account's open lines the rules propose as several recorded payments each."""
    if account_key == CLEARING_ACCOUNT:
        return []
    lines, _ = _open_for_rules(session, account_key)
    by_id = {line.id or 0: line for line in lines}
    clearing = reading.open_clearing_items(session, CLEARING_ACCOUNT)
    items = {item.posting_id: item for item in clearing}
    found = dict(codes(clearing)) if clearing else {}
    return [
        DepositSet(
            by_id[proposal.line_keys[0]],
            [items[i] for i in proposal.posting_ids],
            {i: found.get(i, "") for i in proposal.posting_ids},
        )
        for proposal in proposals_for(
            session,
            account_key=account_key,
            lines=[facts(line) for line in lines],
            drift_days=drift_days,
            codes=codes,
        )
        if proposal.rule == "deposit_set"
    ]


def confirm_deposit_set(
    session: Session,
    *,
    line_id: int,
    posting_ids: Sequence[int],
    reason: str = "",
    created_by: str | None = None,
) -> Match:
    """Staff confirm that one bank line is several recorded payments: the line's money moves from
    clearing to the bank in one entry, and the line, that posting and the payments are matched.

    The payments must be open recorded payments (clearing debits not yet matched), at least two,
    summing to the line to the fen; the line must be open."""
    line = session.get(StatementLine, line_id)
    if line is None:
        raise NotFound(f"There is no statement line {line_id}.")
    lines, _ = _open_for_rules(session, line.account_key)
    if line_id not in {x.id for x in lines}:
        raise MatchConflict(f"Statement line {line_id} is not open (matched or explained).")
    ids = sorted(set(posting_ids))
    if len(ids) < 2:
        raise Invalid(
            "A deposit of several payments needs at least two recorded payments.",
            errors=[{"loc": ["body", "posting_ids"], "msg": "at least two"}],
        )
    open_payments = {
        i.posting_id: i for i in reading.open_clearing_items(session, CLEARING_ACCOUNT)
    }
    for posting_id in ids:
        if posting_id not in open_payments:
            raise MatchConflict(
                f"Posting {posting_id} is not an open recorded payment (unknown, or matched)."
            )
    total = sum(open_payments[i].amount for i in ids)
    if total != line.amount:
        raise MatchConflict(
            f"The payments sum to {total} and the deposit is {line.amount} (minor units); "
            "they must agree to the fen.",
            errors=[{"loc": ["body", "posting_ids"], "msg": f"off by {line.amount - total}"}],
        )
    bank_posting = _book_line(
        session,
        line,
        counter_account=CLEARING_ACCOUNT,
        memo=f"Recorded payments reached the bank as one deposit (statement line {line_id})",
        key=f"bank-clearing-set:{line_id}",
        metadata={"statement_line": line_id, "payments": len(ids)},
        created_by=created_by,
    )
    return record_match(
        session,
        account_key=line.account_key,
        rule="deposit_set",
        line_ids=[line_id],
        posting_ids=[bank_posting, *ids],
        reason=reason.strip()[:500] or "one deposit of several recorded payments, confirmed",
        created_by=created_by,
    )


def require_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason or len(reason) > 500:
        raise Invalid(
            "Give a reason (1–500 characters): it is kept with the match.",
            errors=[{"loc": ["body", "reason"], "msg": "1–500 characters"}],
        )
    return reason


def _open_or_refuse(
    session: Session, account_key: str, line_ids: Sequence[int], posting_ids: Sequence[int]
) -> tuple[int, int]:
    """The sums of these lines and postings, all open, or `MatchConflict` naming the first not."""
    lines, items = reading.open_items(session, account_key)
    open_lines = {line.id: line for line in lines}
    open_postings = {item.posting_id: item for item in items}
    for line_id in line_ids:
        if line_id not in open_lines:
            raise MatchConflict(
                f"Statement line {line_id} is not an open line of {account_key} "
                "(unknown, or already matched)."
            )
    for posting_id in posting_ids:
        if posting_id not in open_postings:
            raise MatchConflict(
                f"Posting {posting_id} is not an open posting of {account_key} "
                "(unknown, or already matched)."
            )
    return (
        sum(open_lines[i].amount for i in set(line_ids)),
        sum(open_postings[i].amount for i in set(posting_ids)),
    )


def match_manually(
    session: Session,
    *,
    account_key: str,
    line_ids: Sequence[int],
    posting_ids: Sequence[int],
    reason: str,
    created_by: str | None = None,
) -> Match:
    """Staff link lines and postings by hand; their sums must agree (else post an adjustment)."""
    reason = require_reason(reason)
    if not line_ids or not posting_ids:
        raise Invalid(
            "A match needs at least one statement line and one ledger posting.",
            errors=[
                {"loc": ["body", "line_ids" if not line_ids else "posting_ids"], "msg": "empty"}
            ],
        )
    line_total, posting_total = _open_or_refuse(session, account_key, line_ids, posting_ids)
    if line_total != posting_total:
        raise MatchConflict(
            f"The lines sum to {line_total} and the postings to {posting_total} (minor units); "
            "a match must agree to the fen. Post an adjustment for the difference first.",
            errors=[
                {"loc": ["body", "posting_ids"], "msg": f"off by {line_total - posting_total}"}
            ],
        )
    return record_match(
        session,
        account_key=account_key,
        rule="manual",
        line_ids=sorted(set(line_ids)),
        posting_ids=sorted(set(posting_ids)),
        reason=reason,
        created_by=created_by,
    )


def unmatch(session: Session, *, match_id: int, reason: str, undone_by: str | None = None) -> Match:
    """Undo a match (kept, with who undid it and why); its lines and postings are open again."""
    reason = require_reason(reason)
    match = session.get(Match, match_id)
    if match is None:
        raise NotFound(f"There is no match {match_id}.")
    if not match.active:
        raise MatchConflict(f"Match {match_id} was already undone.")
    match.active = False
    match.undone_by = undone_by
    match.undone_at = utcnow()
    match.undo_reason = reason
    session.add(match)
    items = session.scalars(select(MatchItem).where(col(MatchItem.match_id) == match_id))
    for item in items:
        item.active = False
        session.add(item)
        if item.statement_line_id is not None:
            line = session.get(StatementLine, item.statement_line_id)
            assert line is not None
            line.state = LineState.unmatched.value
            session.add(line)
    session.flush()
    return match


def post_line_adjustment(
    session: Session,
    *,
    line_id: int,
    counter_account: str,
    memo: str,
    created_by: str | None = None,
) -> Match:
    """Book an unexpected line (a bank fee, interest) against `counter_account`, and match it."""
    memo = require_reason(memo)
    line = session.get(StatementLine, line_id)
    if line is None:
        raise NotFound(f"There is no statement line {line_id}.")
    matched_lines, _ = reading.matched_ids(session, line.account_key)
    if line_id in matched_lines:
        raise MatchConflict(f"Statement line {line_id} is already matched.")
    reading.get_account(session, counter_account)
    posting_id = _book_line(
        session,
        line,
        counter_account=counter_account,
        memo=memo,
        key=f"bank-line-adjustment:{line_id}",
        metadata={"statement_line": line_id},
        created_by=created_by,
    )
    return record_match(
        session,
        account_key=line.account_key,
        rule="adjustment",
        line_ids=[line_id],
        posting_ids=[posting_id],
        reason=memo,
        created_by=created_by,
    )


def booking_accounts(session: Session) -> list[Account]:
    """Accounts a bank line may be booked against from the page: the open expense and income ones."""
    return list(
        session.scalars(
            select(Account)
            .where(
                col(Account.type).in_([AccountType.expense.value, AccountType.income.value]),
                col(Account.is_open).is_(True),
            )
            .order_by(col(Account.type), col(Account.key))
        )
    )


def match_items(session: Session, matches: Sequence[Match]) -> list[tuple[Match, list[MatchItem]]]:
    """Each match with its items, in the order given."""
    items: dict[int, list[MatchItem]] = defaultdict(list)
    ids = [m.id for m in matches if m.id is not None]
    if ids:
        for item in session.scalars(select(MatchItem).where(col(MatchItem.match_id).in_(ids))):
            items[item.match_id].append(item)
    return [(m, items[m.id or 0]) for m in matches]


def list_matches(session: Session, account_key: str) -> list[tuple[Match, list[MatchItem]]]:
    matches = list(
        session.scalars(
            select(Match).where(col(Match.account_key) == account_key).order_by(col(Match.id))
        )
    )
    return match_items(session, matches)
