"""Demo data for the embedded development set-up (idempotent; only when HEZUO_ENV=development)."""

from dataclasses import dataclass

from sqlmodel import Session

from api import service
from api.models import Role


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


def load_demo(session: Session, *, env: str) -> list[str]:
    """Create what is missing; returns a line per thing created."""
    if env != "development":
        raise DemoRefused(f"demo data is loaded only when HEZUO_ENV=development (it is {env!r})")
    created: list[str] = []
    for demo in DEMO_USERS:
        if service.get_user_by_email(session, demo.email) is None:
            service.create_user(session, email=demo.email, password=demo.password, role=demo.role)
            created.append(f"user {demo.email} ({demo.role.value})")
    return created
