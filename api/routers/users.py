"""User management (admin only)."""

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from api import service
from api.deps import AdminDep, PageDep, SessionDep, encode_cursor
from api.phone_login import set_phone
from api.schemas import UserCreate, UserPage, UserRead

router = APIRouter(prefix="/api/v1/users", tags=["users"])


@router.get("", response_model=UserPage)
def list_users(_admin: AdminDep, session: SessionDep, page: PageDep) -> UserPage:
    users = service.list_users(session, after_id=page.after_int(), limit=page.limit + 1)
    items = [UserRead.model_validate(u) for u in users[: page.limit]]
    next_cursor = encode_cursor(items[-1].id) if len(users) > page.limit else None
    return UserPage(items=items, next_cursor=next_cursor)


@router.post("", response_model=UserRead, status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, _admin: AdminDep, session: SessionDep) -> UserRead:
    user = service.create_user(
        session,
        email=body.email,
        password=body.password,
        role=body.role,
        coop_id=body.coop_id,
        household_id=body.household_id,
    )
    return UserRead.model_validate(user)


class PhoneSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: str = Field(min_length=11, max_length=20)


class PhoneRead(BaseModel):
    user_id: int
    phone: str


@router.put("/{user_id}/phone", response_model=PhoneRead)
def set_user_phone(
    user_id: int, body: PhoneSet, _admin: AdminDep, session: SessionDep
) -> PhoneRead:
    """The user's mainland mobile number, for signing in with it instead of the e-mail address."""
    return PhoneRead(
        user_id=user_id, phone=set_phone(session, user_id=user_id, phone_text=body.phone)
    )
