"""Versioned share rules per cooperative: staff add versions; an order snapshots the one in force."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func
from sqlmodel import Session, col, select

from catalog.models import Cooperative
from ledger.share_rules import ShareParts, check_producers_floor
from orders.config import FEE_BEARERS, OrderPolicy
from orders.errors import OrderInvalid
from orders.models import ShareRule


@dataclass(frozen=True)
class RuleInForce:
    rule_id: int | None  # None: the configured default
    parts: ShareParts
    fee_bearer: str


def set_share_rule(
    session: Session,
    *,
    coop_id: int,
    effective_from: date,
    parts: ShareParts,
    fee_bearer: str,
    created_by: str,
    policy: OrderPolicy,
) -> ShareRule:
    if session.get(Cooperative, coop_id) is None:
        raise OrderInvalid(f"No cooperative {coop_id}.", loc=["path", "coop_id"])
    if fee_bearer not in FEE_BEARERS:
        raise OrderInvalid(
            "fee_bearer must be 'enterprise' or 'pro_rata'.", loc=["body", "fee_bearer"]
        )
    check_producers_floor(parts, floor=policy.producers_floor_bp)
    latest = session.scalar(
        select(func.max(ShareRule.version)).where(col(ShareRule.coop_id) == coop_id)
    )
    rule = ShareRule(
        coop_id=coop_id,
        version=(latest or 0) + 1,
        effective_from=effective_from,
        **parts.as_columns(),
        fee_bearer=fee_bearer,
        created_by=created_by,
    )
    session.add(rule)
    session.flush()
    return rule


def list_share_rules(session: Session, *, coop_id: int) -> list[ShareRule]:
    if session.get(Cooperative, coop_id) is None:
        raise OrderInvalid(f"No cooperative {coop_id}.", loc=["path", "coop_id"])
    return list(
        session.scalars(
            select(ShareRule)
            .where(col(ShareRule.coop_id) == coop_id)
            .order_by(col(ShareRule.version).desc())
        )
    )


def rule_in_force(session: Session, *, coop_id: int, on: date, policy: OrderPolicy) -> RuleInForce:
    """The latest version effective on `on`, else the configured default."""
    rule = session.scalars(
        select(ShareRule)
        .where(col(ShareRule.coop_id) == coop_id, col(ShareRule.effective_from) <= on)
        .order_by(col(ShareRule.effective_from).desc(), col(ShareRule.version).desc())
        .limit(1)
    ).first()
    if rule is None:
        return RuleInForce(
            rule_id=None, parts=policy.default_share_rule, fee_bearer=policy.default_fee_bearer
        )
    return RuleInForce(
        rule_id=rule.id,
        parts=ShareParts.of_row(rule),
        fee_bearer=rule.fee_bearer,
    )
