"""A published disclosure for the demo cooperative, through `governance.disclosures.publish`.

The demo settles its sales on a day of last month (orders/demo.py), so the month disclosed is last
month: the ledger closes it (no entry can be dated in it any more) and its disclosure is published
final. Its report is read from the ledger like any other (sales split by part, households paid,
funds in and out, training financed), the ledger is sealed and the disclosure cites the seal; it
verifies for good, whatever is settled later.

Idempotent: nothing is published when the cooperative already has a disclosure (of any month), or
when the month has no sales to show.
"""

from datetime import date, timedelta

from sqlmodel import Session, col, select

from catalog.demo import COOP_CODE
from catalog.models import Cooperative
from governance import disclosures
from ledger import service as ledger


def last_month_day(today: date | None = None) -> date:
    """The last day of the month before `today`'s: when the demo's sales are settled."""
    return (today or date.today()).replace(day=1) - timedelta(days=1)


def load_governance_demo(
    session: Session,
    *,
    currency: str,
    published_by: str,
    today: date | None = None,
    min_group: int = disclosures.DEFAULT_MIN_GROUP,
) -> list[str]:
    coop = session.scalars(select(Cooperative).where(col(Cooperative.code) == COOP_CODE)).first()
    if coop is None or coop.id is None:
        return []
    if disclosures.list_disclosures(session, coop_id=coop.id):
        return []
    period = last_month_day(today).strftime("%Y-%m")
    report = disclosures.build_report(
        session, coop_id=coop.id, period=period, currency=currency, min_group=min_group
    )
    if report["sales"]["total"] <= 0:
        return []
    ledger.close_period(session, period, closed_by=published_by)
    disclosure = disclosures.publish(
        session,
        coop_id=coop.id,
        period=period,
        currency=currency,
        published_by=published_by,
        today=today,
        min_group=min_group,
    )
    return [
        f"ledger period {period} closed",
        f"disclosure {period} of {coop.name_zh}, final (sales {report['sales']['total']} "
        f"{currency}, sealed through entry {disclosure.sealed_through_entry})",
    ]
