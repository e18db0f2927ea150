"""The ledger's public face: every function other domains, routers and the CLI call.

The work is split by sub-area (accounts, posting, balances, entries, periods, sealing,
transactions); this module re-exports the names of the fixed interface (docs/architecture.md,
"The ledger's interface").
"""

from ledger.accounts import (
    close_account,
    find_account,
    get_account,
    list_accounts,
    open_account,
)
from ledger.balances import (
    Balance,
    CurrencyTotal,
    StatementLine,
    StatementPage,
    TrialBalance,
    TrialBalanceLine,
    balance,
    balance_by_prefix,
    balances_of,
    statement,
    trial_balance,
)
from ledger.entries import EntryView, PostingLine, get_entry
from ledger.models import Account, AccountLimit, AccountType, JournalEntry, Posting, Side
from ledger.periods import (
    EARLIEST_YEAR,
    close_period,
    closed_through,
    is_closed,
    plausible_year,
    reopen_period,
)
from ledger.posting import PostResult, post
from ledger.reversals import reverse, reverse_by_hand
from ledger.sealing import seal_pending, verify
from ledger.specs import EntrySpec, PostingSpec
from ledger.transactions import is_retryable, run_in_transaction

__all__ = [
    "Account",
    "AccountLimit",
    "AccountType",
    "Balance",
    "CurrencyTotal",
    "EntrySpec",
    "EntryView",
    "JournalEntry",
    "PostResult",
    "Posting",
    "PostingLine",
    "PostingSpec",
    "Side",
    "StatementLine",
    "StatementPage",
    "TrialBalance",
    "TrialBalanceLine",
    "balance",
    "balance_by_prefix",
    "balances_of",
    "close_account",
    "EARLIEST_YEAR",
    "close_period",
    "closed_through",
    "is_closed",
    "plausible_year",
    "reopen_period",
    "reverse_by_hand",
    "find_account",
    "get_account",
    "get_entry",
    "is_retryable",
    "list_accounts",
    "open_account",
    "post",
    "reverse",
    "run_in_transaction",
    "seal_pending",
    "statement",
    "trial_balance",
    "verify",
]
