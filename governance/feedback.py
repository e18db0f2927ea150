"""Buyers' feedback: one rating (1–5, optional comment) per delivered order line, shown on product
and lot pages; a cooperative's manager (or staff) may hide an abusive comment, with a reason that
is recorded (the stars still count)."""

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from catalog.models import Lot, Product
from catalog.permissions import manages_coop
from core.actor import Actor
from governance.errors import (
    AlreadyDone,
    GovernanceConflict,
    GovernanceForbidden,
    GovernanceInvalid,
    GovernanceNotFound,
)
from governance.models import Rating, RatingLot
from ledger.base import utcnow
from orders.models import LotReservation, Order, OrderLine, ReservationState


def rate_line(
    session: Session,
    *,
    actor: Actor,
    order_id: int,
    line_id: int,
    stars: int,
    comment: str = "",
) -> Rating:
    order = session.get(Order, order_id)
    if order is None:
        raise GovernanceNotFound(f"No order {order_id}.")
    if actor.user_id is None or order.buyer_user_id != actor.user_id:
        raise GovernanceForbidden("Only the buyer who placed this order may rate its lines.")
    line = session.get(OrderLine, line_id)
    if line is None or line.order_id != order_id:
        raise GovernanceNotFound(f"Order {order_id} has no line {line_id}.")
    if order.delivered_at is None:
        raise GovernanceConflict(
            f"Order {order_id} has not been delivered yet; rate it once it has arrived."
        )
    if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
        raise GovernanceInvalid("stars is a whole number from 1 to 5.", loc=["body", "stars"])
    rating = Rating(
        order_line_id=line_id,
        order_id=order_id,
        product_id=line.product_id,
        coop_id=line.coop_id,
        buyer_user_id=actor.user_id,
        stars=stars,
        comment=comment.strip(),
    )
    try:
        with session.begin_nested():
            session.add(rating)
            session.flush()
    except IntegrityError:
        raise AlreadyDone(f"Line {line_id} of order {order_id} was already rated.") from None
    lots = {
        r.lot_id
        for r in session.scalars(
            select(LotReservation).where(
                col(LotReservation.line_id) == line_id,
                col(LotReservation.state) == ReservationState.sold.value,
            )
        ).all()
    }
    for lot_id in sorted(lots):
        session.add(RatingLot(rating_id=rating.id or 0, lot_id=lot_id))
    session.flush()
    return rating


def rateable_line_ids(session: Session, order: Order, user_id: int | None) -> list[int]:
    """The order's lines its own buyer may still rate: delivered, and not rated yet."""
    if user_id is None or order.buyer_user_id != user_id or order.delivered_at is None:
        return []
    rated = set(
        session.scalars(select(col(Rating.order_line_id)).where(col(Rating.order_id) == order.id))
    )
    lines = session.scalars(
        select(OrderLine).where(col(OrderLine.order_id) == order.id).order_by(col(OrderLine.id))
    )
    return [line.id for line in lines if line.id is not None and line.id not in rated]


def hide_comment(session: Session, *, actor: Actor, rating_id: int, reason: str) -> Rating:
    rating = session.get(Rating, rating_id)
    if rating is None:
        raise GovernanceNotFound(f"No rating {rating_id}.")
    if not manages_coop(actor, rating.coop_id):
        raise GovernanceForbidden(
            f"Only cooperative {rating.coop_id}'s manager or staff may hide its comments."
        )
    if not reason.strip():
        raise GovernanceInvalid("Say why the comment is hidden.", loc=["body", "reason"])
    if rating.hidden:
        raise GovernanceConflict(f"Rating {rating_id}'s comment is already hidden.")
    rating.hidden = True
    rating.hidden_reason = reason.strip()
    rating.hidden_by = f"user:{actor.user_id}" if actor.user_id is not None else actor.role
    rating.hidden_at = utcnow()
    session.add(rating)
    session.flush()
    return rating


def rating_read(rating: Rating) -> dict[str, Any]:
    """Public: no buyer identity; a hidden comment shows only that (and why) it was hidden."""
    return {
        "id": rating.id,
        "product_id": rating.product_id,
        "stars": rating.stars,
        "comment": None if rating.hidden else (rating.comment or None),
        "hidden": rating.hidden,
        "hidden_reason": rating.hidden_reason if rating.hidden else None,
        "created_at": rating.created_at.isoformat(),
    }


def _summary(ratings: list[Rating]) -> dict[str, Any]:
    count = len(ratings)
    total = sum(r.stars for r in ratings)
    return {
        "count": count,
        # Tenths of a star, rounded half up, as an integer and as text ("4.3").
        "average_tenths": (total * 20 + count) // (2 * count) if count else None,
        "items": [rating_read(r) for r in ratings],
        "next_cursor": None,
    }


def product_ratings(session: Session, product_id: int) -> dict[str, Any]:
    if session.get(Product, product_id) is None:
        raise GovernanceNotFound(f"No product {product_id}.")
    ratings = session.scalars(
        select(Rating).where(col(Rating.product_id) == product_id).order_by(col(Rating.id).desc())
    ).all()
    return {"product_id": product_id, **_summary(list(ratings))}


def lot_ratings(session: Session, code: str) -> dict[str, Any]:
    lot = session.scalars(select(Lot).where(col(Lot.code) == code)).first()
    if lot is None:
        raise GovernanceNotFound(f"No lot {code!r}.")
    ratings = session.scalars(
        select(Rating)
        .join(RatingLot, col(RatingLot.rating_id) == col(Rating.id))
        .where(col(RatingLot.lot_id) == lot.id)
        .order_by(col(Rating.id).desc())
    ).all()
    return {"lot_code": code, **_summary(list(ratings))}
