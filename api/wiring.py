"""Cross-domain steps that no domain may call itself (the import rules forbid it), joined here."""

from sqlmodel import Session

from orders import settlement
from training import deductions


def _deduct_tuition(session: Session, settlement_entry_id: int) -> None:
    deductions.deduct_after_settlement(session, entry_id=settlement_entry_id)


def _give_back_tuition(session: Session, take_back: settlement.TakeBack) -> None:
    """Before a refund reverses settled shares: the tuition deducted from them goes back first."""
    deductions.give_back_for_refund(
        session,
        settlement_entry_id=take_back.settlement_entry_id,
        refund_ref=f"order-refund:{take_back.refund_id}",
        taken=take_back.taken,
    )


def connect_domains() -> None:
    """Idempotent: safe to call from the app factory, the CLI and tests."""
    settlement.on_settled(_deduct_tuition)
    settlement.on_unsettling(_give_back_tuition)
