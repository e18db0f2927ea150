"""Who is asking: the signed-in person as every domain sees them (the edges build it from a user)."""

from dataclasses import dataclass

STAFF = frozenset({"staff", "admin"})


@dataclass(frozen=True)
class Actor:
    """The signed-in person (or an anonymous visitor) as the domains see them."""

    user_id: int | None
    role: str  # "anonymous", "buyer", "farmer", "manager", "staff", "admin"
    coop_id: int | None = None
    household_id: int | None = None

    @classmethod
    def anonymous(cls) -> "Actor":
        return cls(user_id=None, role="anonymous")

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF

    @property
    def signed_in(self) -> bool:
        return self.user_id is not None
