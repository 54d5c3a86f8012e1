"""Who is asking: the three roles and the principal of a request (a signed-in person or the
owner of an API token). What each role may see is decided in `hotline.privacy` and by the
routes, which declare their roles next to their schemas."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    AGENT = "agent"


ALL_ROLES = frozenset(Role)
PUBLIC_ROLES: frozenset[Role] = frozenset()  # routes open without sign-in
STAFF = frozenset({Role.ADMIN, Role.SUPERVISOR})


@dataclass(frozen=True)
class Principal:
    role: Role
    agent_id: str = ""  # for agents: the ACD agent they are
    user_id: int | None = None
    login: str = ""
    name: str = ""
    language: str | None = None
    via: str = "session"  # "session" (browser cookie) or "token" (API token)

    @property
    def sees_personal_data(self) -> bool:
        """Only admins see phone numbers and names unmasked in lists."""
        return self.role is Role.ADMIN

    @property
    def actor(self) -> str:
        """The name written into the audit log and the logs."""
        return self.login or self.role.value
