"""Identity request and response shapes (see docs/api.md, "Users")."""

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from api.models import Role


class TokenRead(BaseModel):
    access_token: str
    token_type: str = "bearer"


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    role: Role
    coop_id: int | None = None
    household_id: int | None = None


class RegisterCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    password: str = Field(min_length=10, max_length=128)  # and not common: api/passwords.py


class UserCreate(RegisterCreate):
    role: Role
    coop_id: int | None = None
    household_id: int | None = None


class UserPage(BaseModel):
    items: list[UserRead]
    next_cursor: str | None = None
