"""A refused action told in the reader's language.

Domain errors carry an English `detail` with the specifics (amounts, names, states), the same text
the API answers with. Pages for buyers, farmers and managers lead it with a short summary of the
problem's type in the reader's language, so a zh-CN reader knows what happened even before the
specifics; English readers get the detail alone.
"""

from fastapi import Request

from core.errors import DomainError
from frontend.i18n import N_, translator

SUMMARIES = {
    # orders
    "order-invalid": N_("Some details of the order are not right."),
    "out-of-stock": N_("Not enough stock left."),
    "illegal-order-transition": N_("The order cannot do this in its present state."),
    "idempotency-key-reused": N_(
        "This form was already sent with other content; reload the page and try again."
    ),
    "cash-not-recorded": N_("The cash collected on delivery has not been recorded yet."),
    "payment-refused": N_("The payment cannot be taken now."),
    "payment-declined": N_("The payment was declined."),
    "payment-provider-error": N_("The payment service did not answer; try again in a moment."),
    "stripe-disabled": N_("Online payment is not available here."),
    "refund-refused": N_("This refund is not possible."),
    "too-many-unpaid-orders": N_(
        "You already have %(limit)s unpaid orders holding stock: pay or cancel one first."
    ),
    "line-quantity-too-large": N_("At most %(limit)s units of one product per order."),
    "illegal-refund-request-transition": N_("The refund request has already been answered."),
    "refund-request-refused": N_("A refund cannot be asked for now."),
    # catalog
    "catalog-invalid": N_("Some details are not right."),
    "import-invalid": N_("Some rows of the file are not right; nothing was imported."),
    "duplicate-code": N_("This code is already used."),
    "bad-image": N_("The photo could not be read."),
    "not-enough-stock": N_("Not enough stock left."),
    "upload-too-large": N_("The file is too large."),
    # training
    "training-invalid": N_("Some details are not right."),
    "training-already-applied": N_("You have already applied."),
    "training-no-seats": N_("No seats are left."),
    "training-fund-too-small": N_("The training fund cannot pay for the seat."),
    "training-illegal-step": N_("Not possible in this enrolment's present state."),
    "training-not-eligible": N_("This programme is not open to you."),
    "training-attendance-missing": N_("Not enough sessions were attended."),
    "training-duplicate-certificate": N_("This certificate number is already used."),
    # governance
    "governance-invalid": N_("Some details are not right."),
    "invalid-share-rule": N_("The parts of the split are not right: together they make 100 %."),
    "producers-below-floor": N_("The producer households' part is below the allowed minimum."),
    "hearing-wrong-phase": N_("The hearing cannot do this in its present stage."),
    "already-done": N_("Your household has already done this."),
    # accounts
    "weak-password": N_(
        "Choose a longer or less common password (at least 10 characters, not a known one)."
    ),
    # ledger (staff pages)
    "ledger-limit-exceeded": N_("An account would go below zero."),
    "ledger-period-invalid": N_("Write the month as YYYY-MM, in a year from 2000 to 2100."),
    "ledger-period-not-ended": N_("Only a month that has ended can be closed."),
    "ledger-period-not-closed": N_("This month is not closed."),
    "ledger-period-closed-later": N_("A later month is closed: reopen that one first."),
    "ledger-period-closed": N_("This month is closed."),
    "ledger-entry-owned": N_(
        "This entry belongs to an order, a payout or an enrolment: correct it there "
        "(an order's payment, with a refund)."
    ),
}


def problem_message(request: Request, error: DomainError) -> str:
    """The summary in the reader's language, then the specifics (English detail)."""
    translate = translator(request)
    summary = SUMMARIES.get(error.type_slug)
    if summary is None or translate.locale == "en":
        return error.detail
    values = getattr(error, "summary_values", None)
    text = translate.gettext(summary) % values if values else translate.gettext(summary)
    return f"{text}（{error.detail}）"
