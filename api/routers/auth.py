"""Sign-in (OAuth2 password flow), registration and the current user."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import Engine
from sqlmodel import Session

from api import service
from api.deps import CurrentUserDep, SessionDep, SettingsDep, client_address
from api.errors import TooManyRegistrations
from api.login_limits import claim_slots
from api.models import Role
from api.policies import login_limits
from api.schemas import RegisterCreate, TokenRead, UserRead
from api.security import create_access_token

router = APIRouter(prefix="/api/v1", tags=["auth"])
REGISTER_WINDOW_SECONDS = 3600


def engine_of(session: Session) -> Engine:
    return session.get_bind().engine


@router.post(
    "/auth/token",
    response_model=TokenRead,
    responses={
        401: {"description": "Wrong email or password"},
        429: {"description": "Too many failures"},
    },
)
def issue_token(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
) -> TokenRead:
    user = service.sign_in(
        session,
        form.username,
        form.password,
        client_address=client_address(request),
        limits=login_limits(settings),
    )
    assert user.id is not None
    token = create_access_token(user.id, settings.secret_key, settings.access_token_minutes)
    return TokenRead(access_token=token)


@router.post(
    "/auth/register",
    response_model=UserRead,
    status_code=status.HTTP_201_CREATED,
    responses={
        409: {"description": "An account with this e-mail already exists"},
        429: {"description": "Too many registrations from this address"},
    },
)
def register(
    request: Request, body: RegisterCreate, session: SessionDep, settings: SettingsDep
) -> UserRead:
    # The answer must say when an e-mail is taken (API.md: 201 with the account, else 409), so
    # probing addresses is slowed instead: a few registrations per client address an hour.
    key = f"register:{client_address(request) or 'unknown'}"[:400]
    window = REGISTER_WINDOW_SECONDS
    wait = claim_slots(engine_of(session), [(key, settings.register_max_per_client)], window)
    if wait is not None:
        raise TooManyRegistrations(wait)
    user = service.create_user(session, email=body.email, password=body.password, role=Role.buyer)
    return UserRead.model_validate(user)


@router.get("/me", response_model=UserRead)
def me(user: CurrentUserDep) -> UserRead:
    return UserRead.model_validate(user)
