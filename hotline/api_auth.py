"""Roles and bearer tokens of the REST API, and what each role may see."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    AGENT = "agent"


@dataclass(frozen=True)
class Principal:
    role: Role
    agent_id: str = ""  # for agents: who they are

    @property
    def sees_personal_data(self) -> bool:
        """Only admins see phone numbers and names unmasked in lists."""
        return self.role is Role.ADMIN


@dataclass(frozen=True)
class ApiSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    tokens: Mapping[str, Principal] | None = None

    @classmethod
    def from_section(cls, raw: Mapping[str, Any]) -> ApiSettings:
        tokens: dict[str, Principal] = {}
        for token, spec in (raw.get("tokens") or {}).items():
            if isinstance(spec, str):
                tokens[str(token)] = Principal(Role(spec))
            else:
                tokens[str(token)] = Principal(Role(spec["role"]), str(spec.get("agent", "")))
        return cls(
            host=str(raw.get("host", "127.0.0.1")),
            port=int(raw.get("port", 8080)),
            tokens=tokens,
        )

    def principal(self, token: str) -> Principal | None:
        for known, principal in (self.tokens or {}).items():
            if hmac.compare_digest(known.encode(), token.encode()):
                return principal
        return None
