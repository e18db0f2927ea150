"""The staff dashboard's figures: what is waiting for someone, each with a count and where to act."""

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from core.actor import Actor
from core.text import Bilingual
from governance.models import Alert, AlertStatus, Hearing, HearingStatus
from governance.monitoring import require_reader
from ledger.payout_models import LineState, PayoutLine, PayoutLineStatus, StatementLine
from orders.models import Order, OrderStatus
from orders.payment_methods import MANUAL_KEYS
from orders.refund_request_models import RefundRequest, RefundRequestStatus
from training.models import Enrolment, EnrolmentStatus


@dataclass(frozen=True)
class Tile:
    key: str
    label_zh: str
    label_en: str
    count: int
    link: str

    @property
    def label(self) -> Bilingual:
        return Bilingual(self.label_zh, self.label_en)


def _count(session: Session, query: object) -> int:
    return int(session.scalar(query) or 0)  # type: ignore[call-overload]


def staff_tiles(session: Session, *, actor: Actor) -> list[Tile]:
    require_reader(actor)
    return [
        Tile(
            "alerts",
            "风险预警",
            "Households at risk (open alerts)",
            _count(
                session,
                select(func.count(col(Alert.id))).where(
                    col(Alert.status) == AlertStatus.open.value
                ),
            ),
            "/staff/alerts",
        ),
        Tile(
            "pending_payments",
            "待确认付款",
            "Manual payments to confirm",
            _count(
                session,
                select(func.count(col(Order.id))).where(
                    col(Order.status) == OrderStatus.pending_payment.value,
                    col(Order.payment_method).in_(MANUAL_KEYS),
                ),
            ),
            "/staff/payments",
        ),
        Tile(
            "unreconciled",
            "未对账差异",
            "Unreconciled statement lines",
            _count(
                session,
                select(func.count(col(StatementLine.id))).where(
                    col(StatementLine.state) == LineState.unmatched.value
                ),
            ),
            "/staff/reconciliation",
        ),
        Tile(
            "payouts_due",
            "待确认打款",
            "Payouts sent, waiting for the bank",
            _count(
                session,
                select(func.count(col(PayoutLine.id))).where(
                    col(PayoutLine.status) == PayoutLineStatus.pending.value
                ),
            ),
            "/staff/payouts",
        ),
        Tile(
            "refund_requests",
            "待处理退款申请",
            "Refund requests waiting",
            _count(
                session,
                select(func.count(col(RefundRequest.id))).where(
                    col(RefundRequest.status) == RefundRequestStatus.open.value
                ),
            ),
            "/staff/refund-requests",
        ),
        Tile(
            "enrolments_waiting",
            "待审核培训报名",
            "Training applications waiting",
            _count(
                session,
                select(func.count(col(Enrolment.id))).where(
                    col(Enrolment.status) == EnrolmentStatus.applied.value
                ),
            ),
            "/staff/training",
        ),
        Tile(
            "hearings",
            "进行中的听证",
            "Hearings in progress",
            _count(
                session,
                select(func.count(col(Hearing.id))).where(
                    col(Hearing.status).in_(
                        (HearingStatus.comment.value, HearingStatus.voting.value)
                    )
                ),
            ),
            "/hearings",
        ),
    ]
