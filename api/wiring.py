"""Cross-domain steps that no domain may call itself (the import rules forbid it), joined here."""

from sqlmodel import Session

from orders import settlement
from training import deductions


def _deduct_tuition(session: Session, settlement_entry_id: int) -> None:
    deductions.deduct_after_settlement(session, entry_id=settlement_entry_id)


def connect_domains() -> None:
    """Idempotent: safe to call from the app factory, the CLI and tests."""
    settlement.on_settled(_deduct_tuition)
