"""Demo data for the embedded development set-up (idempotent; only when HEZUO_ENV=development)."""

from dataclasses import dataclass

from sqlmodel import Session

from api import service
from api.deps import actor_of
from api.media import media_store
from api.models import Role
from api.policies import order_policy
from api.settings import Settings
from api.wiring import connect_domains
from catalog.demo import load_catalog_demo
from core.actor import Actor
from governance.demo import last_month_day, load_governance_demo
from orders import demo as orders_demo
from training import demo as training_demo


@dataclass(frozen=True)
class DemoUser:
    email: str
    password: str
    role: Role


# The README lists these logins; they exist only in development databases.
DEMO_USERS = (
    DemoUser("admin@hezuo.demo", "admin-demo-2026", Role.admin),
    DemoUser("staff@hezuo.demo", "staff-demo-2026", Role.staff),
    DemoUser("manager@songjiang.demo", "manager-demo-2026", Role.manager),
    DemoUser("farmer@songjiang.demo", "farmer-demo-2026", Role.farmer),
    DemoUser("buyer@hezuo.demo", "buyer-demo-2026", Role.buyer),
)


class DemoRefused(Exception):
    pass


def load_demo(session: Session, *, settings: Settings) -> list[str]:
    """Create what is missing; returns a line per thing created (none when all is there).

    After the users and the catalog: orders in every state (one settled, one partly refunded
    after settlement, one shipped, one paid, one awaiting its bank transfer), training paid by the
    training fund those settlements filled, and last month's disclosure (closed, final); each through
    its domain's services, in that order (each step needs the money of the one before).
    """
    if settings.env != "development":
        raise DemoRefused(
            f"demo data is loaded only when HEZUO_ENV=development (it is {settings.env!r})"
        )
    created: list[str] = []
    for demo in DEMO_USERS:
        if service.get_user_by_email(session, demo.email) is None:
            service.create_user(session, email=demo.email, password=demo.password, role=demo.role)
            created.append(f"user {demo.email} ({demo.role.value})")
    catalog = load_catalog_demo(
        session, media_dir=media_store(settings), currency=settings.currency
    )
    created.extend(catalog.created)
    _link_demo_users(session, coop_id=catalog.coop_id, household_id=catalog.farmer_household_id)
    connect_domains()  # settlement runs training's tuition deductions, as in the app
    staff, manager, farmer, buyer = (
        _actor(session, email)
        for email in (
            "staff@hezuo.demo",
            "manager@songjiang.demo",
            "farmer@songjiang.demo",
            "buyer@hezuo.demo",
        )
    )
    created.extend(
        orders_demo.load_orders_demo(
            session,
            actors=orders_demo.DemoActors(buyer=buyer, manager=manager, staff=staff),
            policy=order_policy(settings),
            settled_on=last_month_day(),
        )
    )
    created.extend(
        training_demo.load_training_demo(
            session,
            actors=training_demo.DemoActors(farmer=farmer, manager=manager, staff=staff),
            currency=settings.currency,
        )
    )
    created.extend(
        load_governance_demo(
            session,
            currency=settings.currency,
            published_by=f"user:{staff.user_id}",
            min_group=settings.disclosure_min_group,
        )
    )
    return created


def _actor(session: Session, email: str) -> Actor:
    user = service.get_user_by_email(session, email)
    assert user is not None, email
    return actor_of(user)


def _link_demo_users(session: Session, *, coop_id: int, household_id: int) -> None:
    """The demo manager runs the Songjiang cooperative; the demo farmer is household SJ-0001."""
    links = {
        "manager@songjiang.demo": {"coop_id": coop_id},
        "farmer@songjiang.demo": {"coop_id": coop_id, "household_id": household_id},
    }
    for email, fields in links.items():
        user = service.get_user_by_email(session, email)
        if user is not None:
            for name, value in fields.items():
                setattr(user, name, value)
            session.add(user)
    session.flush()
