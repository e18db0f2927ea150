"""Codes shown as words in the reader's language: one mapping per kind, through gettext.

Templates call ``word("unit", line.unit)``; a code without a word is shown as it is (so a new code
is visible rather than hidden). Ledger memos are written in English by the services with the
numbers inside; ``memo_words`` recognises the known shapes and says them in the reader's language.
"""

import re
from collections.abc import Callable

from frontend.i18n import N_, Translator

WORDS: dict[str, dict[str, str]] = {
    "unit": {
        "kg": N_("kg"),
        "jin": N_("jin (500 g)"),
        "box": N_("box"),
        "bottle": N_("bottle"),
        "piece": N_("piece"),
    },
    "product_status": {
        "draft": N_("Draft"),
        "active": N_("On sale"),
        "archived": N_("Withdrawn"),
    },
    "household_status": {"active": N_("Member"), "left": N_("Left the cooperative")},
    "payout_status": {
        "open": N_("In progress"),
        "done": N_("Done"),
        "pending": N_("To pay"),
        "paid": N_("Paid"),
        "failed": N_("Failed"),
    },
    "payout_method": {
        "bank": N_("Bank account"),
        "alipay": N_("Alipay"),
        "wechat": N_("WeChat Pay"),
        "cash": N_("Cash"),
    },
    "programme_status": {
        "draft": N_("Draft"),
        "open": N_("Taking applications"),
        "closed": N_("Applications closed"),
        "finished": N_("Finished"),
        "cancelled": N_("Cancelled"),
    },
    "role": {
        "buyer": N_("Buyer"),
        "farmer": N_("Farmer"),
        "manager": N_("Cooperative manager"),
        "staff": N_("Staff"),
        "admin": N_("Administrator"),
        "auditor": N_("Auditor"),
        "social_worker": N_("Social worker"),
    },
    "hearing_status": {
        "comment": N_("Open for comments"),
        "voting": N_("Voting"),
        "adopted": N_("Adopted"),
        "rejected": N_("Rejected"),
    },
    "alert_status": {"open": N_("Open"), "closed": N_("Closed")},
}

# The services' memo shapes (orders/postings.py, orders/settlement.py, ledger/payouts.py,
# training/financing.py) and how to say them; the first that matches is used.
MEMOS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"^Settlement of order (?P<order>\d+) reversed in proportion for refund \d+$"),
        N_("Share taken back: refund of order %(order)s"),
    ),
    (re.compile(r"^Settlement of order (?P<order>\d+)$"), N_("Your share of order %(order)s")),
    (re.compile(r"^Payment \d+ for order (?P<order>\d+)$"), N_("Payment for order %(order)s")),
    (re.compile(r"^Refund \d+ of order (?P<order>\d+)$"), N_("Refund of order %(order)s")),
    (
        re.compile(r"^Processing fee of payment \d+ for order (?P<order>\d+)$"),
        N_("Payment processing fee, order %(order)s"),
    ),
    (
        re.compile(r"^Payout batch \d+ \((?P<period>[\d-]+)\): held for household$"),
        N_("Payout for %(period)s: set aside"),
    ),
    (
        re.compile(r"^Payout batch \d+ \((?P<period>[\d-]+)\): paid to household$"),
        N_("Payout for %(period)s: paid"),
    ),
    (re.compile(r"^Payout failed: .*$"), N_("Payout failed: returned to the balance")),
    (
        re.compile(r"^Training seat for \S+ in programme (?P<programme>\d+)$"),
        N_("Training seat, programme %(programme)s"),
    ),
]


def word_lookup(translate: Translator) -> Callable[[str, str | None], str]:
    def word(kind: str, code: str | None) -> str:
        if code is None:
            return ""
        known = WORDS[kind].get(code)
        return translate.gettext(known) if known else code

    return word


def memo_words(translate: Translator) -> Callable[[str | None], str]:
    def memo(text: str | None) -> str:
        if not text:
            return ""
        for pattern, message in MEMOS:
            found = pattern.fullmatch(text)
            if found:
                return translate.gettext(message, **found.groupdict())
        return text

    return memo
