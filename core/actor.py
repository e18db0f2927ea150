"""Who is asking: the signed-in person as every domain sees them (the edges build it from a user)."""

from dataclasses import dataclass

STAFF = frozenset({"staff", "admin"})
# Who reads everything staff read: staff and the auditor. Only STAFF may also change things.
READERS = STAFF | {"auditor"}
AUDITOR = "auditor"


@dataclass(frozen=True)
class Actor:
    """The signed-in person (or an anonymous visitor) as the domains see them.

    Two explicit capabilities instead of one "staff" flag: `reads_all` (staff and the auditor
    read across cooperatives) and `is_staff` (staff's reach for changes: never the auditor).
    A domain asks `reads_all` before showing and `is_staff` before changing, so an auditor's
    write is refused by the domain itself, not only by the edge guard (api/auditing.py).
    """

    user_id: int | None
    role: str  # "anonymous", "buyer", "farmer", "manager", "staff", "admin", "auditor", ...
    coop_id: int | None = None
    household_id: int | None = None

    @classmethod
    def anonymous(cls) -> "Actor":
        return cls(user_id=None, role="anonymous")

    @property
    def is_staff(self) -> bool:
        """Staff and admins: may change things across cooperatives. Never the auditor."""
        return self.role in STAFF

    @property
    def reads_all(self) -> bool:
        """Reads everything staff read: staff, admins and the auditor."""
        return self.role in READERS

    @property
    def may_write(self) -> bool:
        """False only for the auditor, who reads everything and writes nothing."""
        return self.role != AUDITOR

    @property
    def is_auditor(self) -> bool:
        return self.role == AUDITOR

    @property
    def signed_in(self) -> bool:
        return self.user_id is not None
