"""User management (admin only)."""

from fastapi import APIRouter, status

from api import service
from api.deps import AdminDep, PageDep, SessionDep, encode_cursor
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
