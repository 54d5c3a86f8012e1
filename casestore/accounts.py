"""Accounts in the case store: users, their API tokens, browser sessions, and the audit log.

Each public method is one unit of work. Every change also writes its audit entry in the
same transaction (`record_audit`), so a change and its record are kept or lost together;
other repositories call `record_audit(conn, ...)` inside their own transactions the same way.
Password hashes and token secrets come in already hashed: this module never sees a secret.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from casestore.dialect import writing
from casestore.errors import InvalidInput, NotFound
from casestore.models import API_TOKENS, AUDIT_LOG, USERS, WEB_SESSIONS
from casestore.repository import _Transaction

ROLES = ("admin", "supervisor", "agent")
USER_FIELDS = ("name", "role", "agent_id", "disabled", "language")


@dataclass(frozen=True)
class Actor:
    """Who makes a change: a signed-in user, or a named system actor (`cli`, `setup`)."""

    login: str
    user_id: int | None = None


@dataclass(frozen=True)
class UserView:
    id: int
    login: str
    name: str
    role: str
    agent_id: str | None
    disabled: bool
    language: str | None
    created_at: float
    updated_at: float
    has_password: bool

    def public(self) -> dict[str, Any]:
        """The fields an audit entry records (never the password hash)."""
        return {f: getattr(self, f) for f in ("login", *USER_FIELDS)}


@dataclass(frozen=True)
class TokenView:
    id: int
    user_id: int
    name: str
    public_id: str
    created_at: float
    expires_at: float
    last_used_at: float | None
    revoked_at: float | None


@dataclass(frozen=True)
class SessionView:
    id_hash: str
    user_id: int
    csrf_token: str
    created_at: float
    last_seen_at: float
    expires_at: float


@dataclass(frozen=True)
class AuditView:
    id: int
    at: float
    actor: str
    actor_user_id: int | None
    action: str
    target: str
    before: Any
    after: Any


def _user(row: Row[Any]) -> UserView:
    return _user_from(row._mapping)


def _user_from(m: Mapping[Any, Any]) -> UserView:
    return UserView(
        id=m["id"], login=m["login"], name=m["name"], role=m["role"], agent_id=m["agent_id"],
        disabled=bool(m["disabled"]), language=m["language"], created_at=m["created_at"],
        updated_at=m["updated_at"], has_password=m["password_hash"] is not None,
    )


def _token(row: Row[Any]) -> TokenView:
    m = row._mapping
    return TokenView(**{k: m[k] for k in TokenView.__dataclass_fields__})


def _session(row: Row[Any]) -> SessionView:
    m = row._mapping
    return SessionView(**{k: m[k] for k in SessionView.__dataclass_fields__})


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


async def record_audit(
    conn: AsyncConnection,
    actor: Actor,
    action: str,
    target: str,
    *,
    at: float,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    """Write one audit entry inside the caller's transaction."""
    await conn.execute(
        AUDIT_LOG.insert().values(
            at=at, actor=actor.login[:64], actor_user_id=actor.user_id, action=action[:64],
            target=target[:128], before=_json(before), after=_json(after),
        )
    )


class AccountRepository:
    def __init__(self, engine: AsyncEngine, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock

    def _write(self) -> _Transaction:
        return _Transaction(writing(self.engine))

    def _read(self) -> _Transaction:
        return _Transaction(self.engine)

    # -- users ---------------------------------------------------------------------------

    async def add_user(
        self,
        actor: Actor,
        *,
        login: str,
        name: str,
        role: str,
        password_hash: str | None,
        agent_id: str | None = None,
        language: str | None = None,
    ) -> UserView:
        if role not in ROLES:
            raise InvalidInput(f"role must be one of {', '.join(ROLES)}")
        if (role == "agent") != bool(agent_id):
            raise InvalidInput("an agent user is bound to one ACD agent id; other roles to none")
        now = self.clock()
        async with self._write() as conn:
            taken = await conn.execute(select(USERS.c.id).where(USERS.c.login == login))
            if taken.first() is not None:
                raise InvalidInput(f"login {login!r} is taken")
            if agent_id:
                bound = await conn.execute(select(USERS.c.login).where(USERS.c.agent_id == agent_id))
                other = bound.scalar()
                if other is not None:
                    raise InvalidInput(f"agent {agent_id} is already bound to user {other!r}")
            row = (
                await conn.execute(
                    USERS.insert()
                    .values(
                        login=login, name=name, role=role, agent_id=agent_id or None,
                        password_hash=password_hash, disabled=False, language=language,
                        created_at=now, updated_at=now,
                    )
                    .returning(*USERS.c)
                )
            ).one()
            user = _user(row)
            await record_audit(conn, actor, "user.add", f"user:{login}", at=now, after=user.public())
        return user

    async def user(self, login: str) -> UserView | None:
        async with self._read() as conn:
            row = (await conn.execute(select(USERS).where(USERS.c.login == login))).first()
        return None if row is None else _user(row)

    async def user_by_id(self, user_id: int) -> UserView | None:
        async with self._read() as conn:
            row = (await conn.execute(select(USERS).where(USERS.c.id == user_id))).first()
        return None if row is None else _user(row)

    async def credentials(self, login: str) -> tuple[UserView, str | None] | None:
        """The user and their password hash, for signing in."""
        async with self._read() as conn:
            row = (await conn.execute(select(USERS).where(USERS.c.login == login))).first()
        return None if row is None else (_user(row), row._mapping["password_hash"])

    async def users(self) -> list[UserView]:
        async with self._read() as conn:
            rows = (await conn.execute(select(USERS).order_by(USERS.c.login))).all()
        return [_user(r) for r in rows]

    async def count_admins(self) -> int:
        async with self._read() as conn:
            stmt = select(func.count()).where(USERS.c.role == "admin", USERS.c.disabled.is_(False))
            return int((await conn.execute(stmt)).scalar_one())

    async def update_user(self, actor: Actor, login: str, changes: Mapping[str, Any]) -> UserView:
        """Change name, role, agent binding, disabled flag or language. Disabling a user ends
        their sessions and stops their tokens (checked on use)."""
        unknown = set(changes) - set(USER_FIELDS)
        if unknown:
            raise InvalidInput(f"cannot change {sorted(unknown)}")
        now = self.clock()
        async with self._write() as conn:
            row = (await conn.execute(select(USERS).where(USERS.c.login == login))).first()
            if row is None:
                raise NotFound(f"no user {login!r}")
            before = _user(row)
            merged = {**before.public(), **changes}
            if merged["role"] not in ROLES:
                raise InvalidInput(f"role must be one of {', '.join(ROLES)}")
            if (merged["role"] == "agent") != bool(merged["agent_id"]):
                raise InvalidInput("an agent user is bound to one ACD agent id; other roles to none")
            if before.role == "admin" and (merged["role"] != "admin" or merged["disabled"]):
                await self._keep_an_admin(conn, before.id)
            values = {**dict(changes), "updated_at": now}
            if "agent_id" in values:
                values["agent_id"] = values["agent_id"] or None
            after_row = (
                await conn.execute(
                    update(USERS).where(USERS.c.id == before.id).values(**values).returning(*USERS.c)
                )
            ).one()
            after = _user(after_row)
            if after.disabled:
                await conn.execute(delete(WEB_SESSIONS).where(WEB_SESSIONS.c.user_id == before.id))
            changed = {k for k in USER_FIELDS if before.public()[k] != after.public()[k]}
            await record_audit(
                conn, actor, "user.update", f"user:{login}", at=now,
                before={k: before.public()[k] for k in sorted(changed)},
                after={k: after.public()[k] for k in sorted(changed)},
            )
        return after

    async def _keep_an_admin(self, conn: AsyncConnection, leaving: int) -> None:
        stmt = select(func.count()).where(
            USERS.c.role == "admin", USERS.c.disabled.is_(False), USERS.c.id != leaving
        )
        if int((await conn.execute(stmt)).scalar_one()) == 0:
            raise InvalidInput("the last enabled admin cannot be disabled or demoted")

    async def set_password(self, actor: Actor, login: str, password_hash: str) -> None:
        """A new password ends the user's other sessions."""
        now = self.clock()
        async with self._write() as conn:
            user_id = (await conn.execute(select(USERS.c.id).where(USERS.c.login == login))).scalar()
            if user_id is None:
                raise NotFound(f"no user {login!r}")
            await conn.execute(
                update(USERS).where(USERS.c.id == user_id).values(password_hash=password_hash, updated_at=now)
            )
            await conn.execute(delete(WEB_SESSIONS).where(WEB_SESSIONS.c.user_id == user_id))
            await record_audit(
                conn, actor, "user.password", f"user:{login}", at=now, after={"password": "changed"}
            )

    # -- browser sessions ----------------------------------------------------------------

    async def create_session(
        self, user_id: int, id_hash: str, csrf_token: str, expires_at: float
    ) -> SessionView:
        now = self.clock()
        async with self._write() as conn:
            await conn.execute(delete(WEB_SESSIONS).where(WEB_SESSIONS.c.expires_at < now))
            row = (
                await conn.execute(
                    WEB_SESSIONS.insert()
                    .values(
                        id_hash=id_hash, user_id=user_id, csrf_token=csrf_token, created_at=now,
                        last_seen_at=now, expires_at=expires_at,
                    )
                    .returning(*WEB_SESSIONS.c)
                )
            ).one()
        return _session(row)

    async def session(self, id_hash: str) -> tuple[SessionView, UserView] | None:
        stmt = (
            select(WEB_SESSIONS, USERS)
            .select_from(WEB_SESSIONS.join(USERS, USERS.c.id == WEB_SESSIONS.c.user_id))
            .where(WEB_SESSIONS.c.id_hash == id_hash)
        )
        async with self._read() as conn:
            row = (await conn.execute(stmt)).first()
        if row is None:
            return None
        return _session(row), _user(row)

    async def touch_session(self, id_hash: str, at: float) -> None:
        async with self._write() as conn:
            await conn.execute(
                update(WEB_SESSIONS).where(WEB_SESSIONS.c.id_hash == id_hash).values(last_seen_at=at)
            )

    async def end_session(self, id_hash: str) -> None:
        async with self._write() as conn:
            await conn.execute(delete(WEB_SESSIONS).where(WEB_SESSIONS.c.id_hash == id_hash))

    # -- API tokens ----------------------------------------------------------------------

    async def add_token(
        self, actor: Actor, user_id: int, *, name: str, public_id: str, secret_hash: str, expires_at: float
    ) -> TokenView:
        now = self.clock()
        async with self._write() as conn:
            login = (await conn.execute(select(USERS.c.login).where(USERS.c.id == user_id))).scalar()
            if login is None:
                raise NotFound(f"no user with id {user_id}")
            row = (
                await conn.execute(
                    API_TOKENS.insert()
                    .values(
                        user_id=user_id, name=name, public_id=public_id, secret_hash=secret_hash,
                        created_at=now, expires_at=expires_at,
                    )
                    .returning(*API_TOKENS.c)
                )
            ).one()
            token = _token(row)
            await record_audit(
                conn, actor, "token.add", f"user:{login}", at=now,
                after={"token": public_id, "name": name, "expires_at": expires_at},
            )
        return token

    async def token(self, public_id: str) -> tuple[TokenView, str, UserView] | None:
        """A token by its public id, with its secret's hash and its owner."""
        stmt = (
            select(*API_TOKENS.c, *[c.label(f"owner_{c.name}") for c in USERS.c])
            .select_from(API_TOKENS.join(USERS, USERS.c.id == API_TOKENS.c.user_id))
            .where(API_TOKENS.c.public_id == public_id)
        )
        async with self._read() as conn:
            row = (await conn.execute(stmt)).first()
        if row is None:
            return None
        m = row._mapping
        user = _user_from({c.name: m[f"owner_{c.name}"] for c in USERS.c})
        return _token(row), m["secret_hash"], user

    async def tokens(self, user_id: int | None = None) -> list[TokenView]:
        stmt = select(API_TOKENS).order_by(API_TOKENS.c.id)
        if user_id is not None:
            stmt = stmt.where(API_TOKENS.c.user_id == user_id)
        async with self._read() as conn:
            return [_token(r) for r in (await conn.execute(stmt)).all()]

    async def touch_token(self, token_id: int, at: float) -> None:
        async with self._write() as conn:
            await conn.execute(update(API_TOKENS).where(API_TOKENS.c.id == token_id).values(last_used_at=at))

    async def revoke_token(self, actor: Actor, public_id: str, *, owner: int | None = None) -> TokenView:
        """Revoke a token (only the owner's when `owner` is given)."""
        now = self.clock()
        async with self._write() as conn:
            stmt = select(API_TOKENS).where(API_TOKENS.c.public_id == public_id)
            if owner is not None:
                stmt = stmt.where(API_TOKENS.c.user_id == owner)
            row = (await conn.execute(stmt)).first()
            if row is None:
                raise NotFound(f"no token {public_id!r}")
            before = _token(row)
            if before.revoked_at is not None:
                return before
            after_row = (
                await conn.execute(
                    update(API_TOKENS).where(API_TOKENS.c.id == before.id).values(revoked_at=now)
                    .returning(*API_TOKENS.c)
                )
            ).one()
            await record_audit(
                conn, actor, "token.revoke", f"token:{public_id}", at=now,
                before={"revoked_at": None}, after={"revoked_at": now},
            )
        return _token(after_row)

    # -- audit ---------------------------------------------------------------------------

    async def audit(
        self, *, limit: int = 100, before_id: int | None = None, action: str | None = None,
        actor: str | None = None, target: str | None = None,
    ) -> list[AuditView]:
        """Newest first; page with `before_id` (the smallest id of the previous page)."""
        stmt = select(AUDIT_LOG).order_by(AUDIT_LOG.c.id.desc()).limit(limit)
        if before_id is not None:
            stmt = stmt.where(AUDIT_LOG.c.id < before_id)
        if action:
            stmt = stmt.where(AUDIT_LOG.c.action == action)
        if actor:
            stmt = stmt.where(AUDIT_LOG.c.actor == actor)
        if target:
            stmt = stmt.where(AUDIT_LOG.c.target == target)
        async with self._read() as conn:
            rows = (await conn.execute(stmt)).all()
        return [
            AuditView(
                id=m["id"], at=m["at"], actor=m["actor"], actor_user_id=m["actor_user_id"],
                action=m["action"], target=m["target"],
                before=None if m["before"] is None else json.loads(m["before"]),
                after=None if m["after"] is None else json.loads(m["after"]),
            )
            for m in (r._mapping for r in rows)
        ]

    async def record(
        self, actor: Actor, action: str, target: str, *, before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
    ) -> None:
        """An audit entry of its own, for changes outside the store (ACD state, menus in
        memory), written right after the change succeeded."""
        async with self._write() as conn:
            await record_audit(conn, actor, action, target, at=self.clock(), before=before, after=after)
