"""Bank and wallet statements: read the files banks give (ledger/bank/parsing.py, presets.py),
store each line once (store.py), and match lines to postings (rules.py, matching.py).

The Hezuo CSV layout (a header row, then one line per movement, any column order):

    date,amount,currency,reference,counterparty,description
    2026-11-30,-1234.50,CNY,PAY-2026-11-SJ,Songjiang members,Payout batch 3

`amount` is signed as the bank account moves (money in > 0, out < 0) in major units; thousands
separators (`1,234.50`), full-width digits (`１２３４．５０`) and a leading ¥/￥ are accepted.
Dates: `2026-11-30`, `2026/11/30`, `20261130` or `2026年11月30日`, a time after them ignored.
Banks' own exports (ICBC, CCB, ABC, BOC, CMB, rural credit cooperatives, Alipay, WeChat Pay) are
recognised by their header row, in CSV (UTF-8 or GBK), XLSX or XLS; other layouts are mapped once by staff and saved as a preset.
"""

from ledger.bank.cells import decode, parse_amount, parse_date
from ledger.bank.matching import (
    CLEARING_ACCOUNT,
    CodeResolver,
    DepositSet,
    auto_match,
    booking_accounts,
    confirm_deposit_set,
    deposit_sets,
    list_matches,
    match_items,
    match_manually,
    post_line_adjustment,
    proposals_for,
    proposals_for_file,
    unmatch,
)
from ledger.bank.parsing import first_lines, guess_header, parse_statement, read_rows
from ledger.bank.presets import BUILTIN_PRESETS, Preset
from ledger.bank.reading import (
    account_currency,
    bank_account,
    ledger_items,
    matched_ids,
    open_items,
    statement_lines,
)
from ledger.bank.rules import Proposal
from ledger.bank.store import (
    PREVIEW_TTL,
    PresetConflict,
    PreviewExpired,
    all_presets,
    already_stored,
    get_preview,
    import_preview,
    import_statement,
    keep_preview,
    parse_mapping,
    preset_name,
    read_file,
    save_preset,
)
from ledger.bank.values import (
    DEFAULT_DRIFT_DAYS,
    FIELDS,
    MAX_FILE_BYTES,
    ImportResult,
    LedgerItem,
    MatchConflict,
    NotABankAccount,
    ParsedFile,
    ParsedLine,
    SkippedRow,
    StatementInvalid,
    UnknownFormat,
)

__all__ = [
    "BUILTIN_PRESETS",
    "CLEARING_ACCOUNT",
    "DEFAULT_DRIFT_DAYS",
    "FIELDS",
    "MAX_FILE_BYTES",
    "PREVIEW_TTL",
    "CodeResolver",
    "DepositSet",
    "ImportResult",
    "LedgerItem",
    "MatchConflict",
    "NotABankAccount",
    "ParsedFile",
    "ParsedLine",
    "Preset",
    "PresetConflict",
    "Proposal",
    "PreviewExpired",
    "SkippedRow",
    "StatementInvalid",
    "UnknownFormat",
    "account_currency",
    "all_presets",
    "already_stored",
    "auto_match",
    "bank_account",
    "booking_accounts",
    "confirm_deposit_set",
    "decode",
    "deposit_sets",
    "first_lines",
    "get_preview",
    "guess_header",
    "import_preview",
    "import_statement",
    "keep_preview",
    "ledger_items",
    "list_matches",
    "match_items",
    "match_manually",
    "matched_ids",
    "open_items",
    "parse_amount",
    "parse_date",
    "parse_mapping",
    "parse_statement",
    "post_line_adjustment",
    "preset_name",
    "proposals_for",
    "proposals_for_file",
    "read_file",
    "read_rows",
    "save_preset",
    "statement_lines",
    "unmatch",
]
