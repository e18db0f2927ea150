"""Ledger errors: each names the rule a person broke, in words they understand.

The base kinds (`DomainError`, `NotFound`, `Conflict`, `Invalid`, ...) live in `core/errors.py`.
"""

from core.errors import Conflict, Invalid, NotFound
from core.text import N_


class UnbalancedEntry(Invalid):
    title = "Entry does not balance"
    type_slug = "ledger-unbalanced"


class UnknownAccount(Invalid):
    title = "Unknown ledger account"
    type_slug = "ledger-unknown-account"


class AccountClosed(Invalid):
    title = "Ledger account closed"
    type_slug = "ledger-account-closed"


class CurrencyMismatch(Invalid):
    title = "Currency does not match the account"
    type_slug = "ledger-currency-mismatch"


class InvalidPosting(Invalid):
    title = "Invalid posting"
    type_slug = "ledger-invalid-posting"


class LimitExceeded(Conflict):
    title = "Account limit exceeded"
    type_slug = "ledger-limit-exceeded"
    msgid = N_("An account would go below zero.")


class PeriodClosed(Conflict):
    title = "Accounting period closed"
    type_slug = "ledger-period-closed"
    msgid = N_("This month is closed.")


class PeriodInvalid(Invalid):
    title = "Not a period that can be closed"
    type_slug = "ledger-period-invalid"
    msgid = N_("Write the month as YYYY-MM, in a year from 2000 to 2100.")


class PeriodNotEnded(Invalid):
    title = "Period has not ended"
    type_slug = "ledger-period-not-ended"
    msgid = N_("Only a month that has ended can be closed.")


class PeriodNotClosed(Conflict):
    title = "Period is not closed"
    type_slug = "ledger-period-not-closed"
    msgid = N_("This month is not closed.")


class PeriodClosedLater(Conflict):
    title = "A later period is closed"
    type_slug = "ledger-period-closed-later"
    msgid = N_("A later month is closed: reopen that one first.")


class IdempotencyConflict(Conflict):
    title = "Idempotency key reused with different content"
    type_slug = "ledger-idempotency-conflict"


class AlreadyReversed(Conflict):
    title = "Entry already reversed"
    type_slug = "ledger-already-reversed"


class EntryOwnedByFlow(Conflict):
    title = "Entry belongs to an order, payout or enrolment"
    type_slug = "ledger-entry-owned"
    msgid = N_(
        "This entry belongs to an order, a payout or an enrolment: correct it there (an order's payment, with a refund)."
    )


class AccountConflict(Conflict):
    title = "Account exists with different settings"
    type_slug = "ledger-account-conflict"


class AccountNotFound(NotFound):
    title = "Ledger account not found"
    type_slug = "ledger-account-not-found"


class EntryNotFound(NotFound):
    title = "Journal entry not found"
    type_slug = "ledger-entry-not-found"
