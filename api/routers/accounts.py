"""Members' accounts over HTTP: a manager creates a member's account by phone and prints a one-time
sign-in card; a card sets the first password; a forgotten password is reset by an SMS code
(rules in api/accounts.py)."""

from datetime import datetime

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict, Field

from api import accounts
from api.accounts import card_url
from api.deps import CurrentUserDep, SessionDep, SettingsDep, actor_of, client_address
from api.policies import reset_policy
from api.schemas import TokenRead
from api.security import create_access_token
from api.settings import Settings

router = APIRouter(prefix="/api/v1", tags=["accounts"])
RESET_ANSWER = (
    "If this number belongs to an account, a code is on its way by SMS. It works for a few minutes."
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MemberAccountCreate(Strict):
    phone: str = Field(min_length=11, max_length=20)


class MemberAccountRead(BaseModel):
    user_id: int
    household_id: int
    phone: str


class SignInCardRead(BaseModel):
    url: str  # built from HEZUO_PUBLIC_URL: what the printed QR code holds
    expires_at: datetime


class CardRedeem(Strict):
    token: str = Field(min_length=10, max_length=100)
    password: str = Field(min_length=1, max_length=1024)


class ResetRequest(Strict):
    phone: str = Field(min_length=11, max_length=20)


class ResetAnswer(BaseModel):
    detail: str


class ResetConfirm(Strict):
    phone: str = Field(min_length=11, max_length=20)
    code: str = Field(min_length=1, max_length=12)
    password: str = Field(min_length=1, max_length=1024)


def _token_for(user_id: int | None, settings: Settings) -> TokenRead:
    assert user_id is not None
    return TokenRead(
        access_token=create_access_token(
            user_id, settings.secret_key, settings.access_token_minutes
        )
    )


@router.post(
    "/households/{household_id}/member-account",
    status_code=status.HTTP_201_CREATED,
    response_model=MemberAccountRead,
    responses={
        409: {"description": "The household already has an account, or the number is taken"}
    },
)
def create_member_account(
    household_id: int, body: MemberAccountCreate, user: CurrentUserDep, session: SessionDep
) -> MemberAccountRead:
    """The household's farmer account, known by a mainland mobile number (manager or staff)."""
    member = accounts.create_member_account(
        session, actor=actor_of(user), household_id=household_id, phone_text=body.phone
    )
    assert member.id is not None
    return MemberAccountRead(
        user_id=member.id,
        household_id=household_id,
        phone=accounts.phone_of(session, member.id) or "",
    )


@router.post(
    "/households/{household_id}/sign-in-cards",
    status_code=status.HTTP_201_CREATED,
    response_model=SignInCardRead,
)
def issue_sign_in_card(
    household_id: int, user: CurrentUserDep, session: SessionDep, settings: SettingsDep
) -> SignInCardRead:
    """A one-time sign-in card for the household's member; older unused cards stop working."""
    card, token = accounts.issue_card(
        session,
        actor=actor_of(user),
        household_id=household_id,
        minutes=settings.sign_in_card_minutes,
    )
    return SignInCardRead(url=card_url(settings.public_url, token), expires_at=card.expires_at)


@router.post(
    "/auth/sign-in-card",
    response_model=TokenRead,
    responses={410: {"description": "The card was used, replaced or is out of date"}},
)
def redeem_sign_in_card(body: CardRedeem, session: SessionDep, settings: SettingsDep) -> TokenRead:
    """Spend a card: set the member's first password and sign in."""
    member = accounts.redeem_card(session, token=body.token, password=body.password)
    return _token_for(member.id, settings)


@router.post(
    "/auth/password-reset",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ResetAnswer,
    responses={429: {"description": "Too many requests for this number or address"}},
)
def request_password_reset(
    request: Request, body: ResetRequest, session: SessionDep, settings: SettingsDep
) -> ResetAnswer:
    """Send a reset code by SMS; the same answer whether or not the number has an account."""
    accounts.request_reset(
        session,
        phone_text=body.phone,
        client_address=client_address(request),
        policy=reset_policy(settings),
        language=settings.default_locale,
    )
    return ResetAnswer(detail=RESET_ANSWER)


@router.post(
    "/auth/password-reset/confirm",
    response_model=TokenRead,
    responses={
        422: {"description": "Wrong or expired code, or a weak password"},
        429: {"description": "Too many codes tried"},
    },
)
def confirm_password_reset(
    request: Request, body: ResetConfirm, session: SessionDep, settings: SettingsDep
) -> TokenRead:
    member = accounts.confirm_reset(
        session,
        phone_text=body.phone,
        code=body.code,
        password=body.password,
        client_address=client_address(request),
        policy=reset_policy(settings),
    )
    return _token_for(member.id, settings)
