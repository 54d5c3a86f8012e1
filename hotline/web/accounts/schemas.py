"""Request and response schemas of the accounts API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from casestore.accounts import AuditView, TokenView, UserView

LOGIN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$"
RoleName = Literal["admin", "supervisor", "agent"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class SignIn(Strict):
    login: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class UserOut(BaseModel):
    """A person who signs in (never their password or its hash)."""

    id: int
    login: str
    name: str
    role: RoleName
    agent_id: str | None
    disabled: bool
    language: str | None
    created_at: float
    updated_at: float

    @classmethod
    def of(cls, user: UserView) -> UserOut:
        return cls(
            id=user.id, login=user.login, name=user.name, role=user.role,
            agent_id=user.agent_id, disabled=user.disabled, language=user.language,
            created_at=user.created_at, updated_at=user.updated_at,
        )


class SessionOut(BaseModel):
    """The signed-in person and the CSRF token to send with changes."""

    user: UserOut
    csrf_token: str
    expires_at: float
    idle_timeout: float


class UserList(BaseModel):
    """Every person, by login."""

    users: list[UserOut]


class NewUser(Strict):
    login: str = Field(pattern=LOGIN)
    name: str = Field(min_length=1, max_length=128)
    role: RoleName
    password: str = Field(min_length=1, max_length=256)
    agent_id: str | None = Field(None, min_length=1, max_length=64)
    language: Literal["en", "ko"] | None = None


class UserChange(Strict):
    name: str | None = Field(None, min_length=1, max_length=128)
    role: RoleName | None = None
    agent_id: str | None = Field(None, max_length=64)
    disabled: bool | None = None
    language: Literal["en", "ko"] | None = None

    def changes(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.model_fields_set}


class NewPassword(Strict):
    password: str = Field(min_length=1, max_length=256)
    current_password: str | None = Field(None, max_length=256)


class Done(BaseModel):
    """Done."""

    ok: bool = True


class NewTokenIn(Strict):
    name: str = Field(min_length=1, max_length=64)
    days: int | None = Field(None, ge=1, le=3650)
    login: str | None = Field(None, description="admins: create it for this person")


class TokenOut(BaseModel):
    """An API token (its secret is shown only once, when it is created)."""

    id: str = Field(description="the token's public id")
    user_id: int
    name: str
    created_at: float
    expires_at: float
    last_used_at: float | None
    revoked_at: float | None

    @classmethod
    def of(cls, token: TokenView) -> TokenOut:
        return cls(
            id=token.public_id, user_id=token.user_id, name=token.name, created_at=token.created_at,
            expires_at=token.expires_at, last_used_at=token.last_used_at, revoked_at=token.revoked_at,
        )


class CreatedToken(BaseModel):
    """The new token: keep `token`, it is not shown again."""

    token: str
    info: TokenOut


class TokenList(BaseModel):
    """API tokens."""

    tokens: list[TokenOut]


class AuditQuery(Strict):
    model_config = ConfigDict(extra="forbid", strict=False)

    limit: int = Field(100, ge=1, le=1000)
    before_id: int | None = Field(None, ge=1, description="page: the smallest id already seen")
    action: str | None = Field(None, max_length=64)
    actor: str | None = Field(None, max_length=64)


class AuditOut(BaseModel):
    id: int
    at: float
    actor: str
    actor_user_id: int | None
    action: str
    target: str
    before: Any
    after: Any

    @classmethod
    def of(cls, entry: AuditView) -> AuditOut:
        return cls(**entry.__dict__)


class AuditList(BaseModel):
    """Audit entries, newest first."""

    entries: list[AuditOut]


class FirstAdmin(Strict):
    token: str = Field(min_length=1, max_length=128)
    login: str = Field(pattern=LOGIN)
    name: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=1, max_length=256)
