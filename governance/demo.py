"""A published disclosure for the demo cooperative, through `governance.disclosures.publish`.

The demo's sales are settled today, so the month disclosed is the current one: its report is read
from the ledger like any other (sales split by part, households paid, funds in and out, training
financed), the ledger is sealed and the disclosure cites the seal. The month is still open, so a
sale settled later this month makes `verify` report the difference, as it would for any
disclosure published before its month ends.

Idempotent: nothing is published when the cooperative already has a disclosure (of any month), or
when the month has no sales to show.
"""

from datetime import date

from sqlmodel import Session, col, select

from catalog.demo import COOP_CODE
from catalog.models import Cooperative
from governance import disclosures


def load_governance_demo(
    session: Session, *, currency: str, published_by: str, today: date | None = None
) -> list[str]:
    coop = session.scalars(select(Cooperative).where(col(Cooperative.code) == COOP_CODE)).first()
    if coop is None or coop.id is None:
        return []
    if disclosures.list_disclosures(session, coop_id=coop.id):
        return []
    period = (today or date.today()).strftime("%Y-%m")
    report = disclosures.build_report(session, coop_id=coop.id, period=period, currency=currency)
    if report["sales"]["total"] <= 0:
        return []
    disclosure = disclosures.publish(
        session,
        coop_id=coop.id,
        period=period,
        currency=currency,
        published_by=published_by,
        today=today,
    )
    return [
        f"disclosure {period} of {coop.name_zh} (sales {report['sales']['total']} {currency}, "
        f"sealed through entry {disclosure.sealed_through_entry})"
    ]
