"""Who is asking: the signed-in person as every domain sees them (the edges build it from a user)."""

from dataclasses import dataclass

STAFF = frozenset({"staff", "admin"})
# Staff and the auditor read everything; the auditor changes nothing (the edges refuse its writes).
READERS = STAFF | {"auditor"}


@dataclass(frozen=True)
class Actor:
    """The signed-in person (or an anonymous visitor) as the domains see them."""

    user_id: int | None
    role: str  # "anonymous", "buyer", "farmer", "manager", "staff", "admin", "auditor", ...
    coop_id: int | None = None
    household_id: int | None = None

    @classmethod
    def anonymous(cls) -> "Actor":
        return cls(user_id=None, role="anonymous")

    @property
    def is_staff(self) -> bool:
        """Staff's reach: staff, admins, and the auditor (who only ever reads).

        The auditor passes the domains' staff checks because it never reaches a write: the edges
        (api/deps.optional_user, frontend/rendering.load_web_user) refuse an auditor's unsafe
        request before any route runs (tests/auditing proves it for every route).
        """
        return self.role in READERS

    @property
    def is_auditor(self) -> bool:
        return self.role == "auditor"

    @property
    def signed_in(self) -> bool:
        return self.user_id is not None
