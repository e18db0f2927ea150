"""The kinds of message, who may switch them off, and on which channels they go by default."""

from enum import StrEnum

from notify.models import Channel


class Kind(StrEnum):
    order_placed = "order_placed"
    order_paid = "order_paid"
    order_shipped = "order_shipped"
    order_delivered = "order_delivered"
    share_credited = "share_credited"
    refund_decided = "refund_decided"
    payout_paid = "payout_paid"
    payout_failed = "payout_failed"
    payout_details_changed = "payout_details_changed"
    enrolment_accepted = "enrolment_accepted"
    hearing_opened = "hearing_opened"
    refund_requested = "refund_requested"  # to staff
    alert_raised = "alert_raised"  # to staff
    password_reset_code = "password_reset_code"  # an SMS code to the number asked for
    plan_review_proposed = "plan_review_proposed"  # to the household's social workers


# Messages only staff get.
STAFF_ONLY = frozenset({Kind.refund_requested, Kind.alert_raised})
# Messages only social workers get.
SOCIAL_WORKER_ONLY = frozenset({Kind.plan_review_proposed})
# Messages nobody switches off or chooses channels for (a code asked for a moment ago).
NOT_CHOOSABLE = frozenset({Kind.password_reset_code})
# Messages about the reader's own money: the inbox copy can never be switched off.
MONEY = frozenset(
    {
        Kind.order_placed,
        Kind.order_paid,
        Kind.share_credited,
        Kind.refund_decided,
        Kind.payout_paid,
        Kind.payout_failed,
        Kind.payout_details_changed,
    }
)
# Updates a reader may stop by e-mail with one click (the link in each such e-mail).
UNSUBSCRIBABLE = frozenset(Kind) - MONEY
# SMS costs money and reaches farmers without e-mail: by default only for money they receive.
SMS_BY_DEFAULT = frozenset(
    {Kind.share_credited, Kind.payout_paid, Kind.payout_failed, Kind.payout_details_changed}
)


def default_enabled(kind: str, channel: Channel) -> bool:
    if channel == Channel.sms:
        return kind in SMS_BY_DEFAULT
    return True


def can_switch_off(kind: str, channel: Channel) -> bool:
    return not (kind in MONEY and channel == Channel.inbox)
