"""Accounts as a service: sign-in (throttled), browser sessions, API tokens, the first-admin
setup gate. Secrets are hashed here (Argon2 for passwords, off the event loop; SHA-256 for the
high-entropy session ids and token secrets) and never logged or returned after creation."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from casestore.accounts import AccountRepository, Actor, SessionView, TokenView, UserView
from hotline.passwords import check_password_rule, hash_password, verify_password
from hotline.roles import Principal, Role
from hotline.web.base.errors import ApiError
from hotline.web.base.settings import WebSettings
from hotline.web.base.throttle import LoginThrottle

log = logging.getLogger("hotline.accounts")
TOKEN_PREFIX = "hlt"
TOUCH_EVERY = 15.0  # seconds between writes of a session's last-seen time
DAY = 86400.0


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def check_agent(known: Iterable[str], agent_id: str | None) -> None:
    """An agent user is bound to an agent the ACD has."""
    if agent_id and agent_id not in known:
        raise ApiError(400, "unknown_agent", f"the ACD has no agent {agent_id!r}", agent_id=agent_id)


def principal_of(user: UserView, via: str) -> Principal:
    return Principal(
        role=Role(user.role), agent_id=user.agent_id or "", user_id=user.id, login=user.login,
        name=user.name, language=user.language, via=via,
    )


def actor_of(who: Principal | None, fallback: str = "system") -> Actor:
    if who is None:
        return Actor(fallback)
    return Actor(who.login or who.role.value, who.user_id)


@dataclass(frozen=True)
class NewToken:
    secret: str  # shown once
    view: TokenView


class AccountService:
    def __init__(
        self, repository: Callable[[], AccountRepository], clock: Callable[[], float],
        settings: WebSettings,
    ) -> None:
        self._repository = repository
        self.clock = clock
        self.settings = settings
        t = settings.login_throttle
        self.throttle = LoginThrottle(clock, max_failures=t.max_failures, window=t.window, lockout=t.lockout)
        self._setup_hash: str | None = None

    @property
    def repo(self) -> AccountRepository:
        return self._repository()

    # -- passwords -----------------------------------------------------------------------

    async def hash(self, password: str, login: str = "") -> str:
        try:
            check_password_rule(password, login)
        except ValueError as exc:
            raise ApiError(400, "weak_password", str(exc)) from exc
        return await asyncio.get_running_loop().run_in_executor(None, hash_password, password)

    async def add_user(
        self, actor: Actor, *, login: str, name: str, role: str, password: str,
        agent_id: str | None = None, language: str | None = None,
    ) -> UserView:
        password_hash = await self.hash(password, login)
        return await self.repo.add_user(
            actor, login=login, name=name, role=role, password_hash=password_hash,
            agent_id=agent_id, language=language,
        )

    async def set_password(self, actor: Actor, login: str, password: str) -> None:
        await self.repo.set_password(actor, login, await self.hash(password, login))

    # -- signing in ----------------------------------------------------------------------

    async def authenticate(self, login: str, password: str, address: str) -> UserView:
        wait = self.throttle.retry_after(login, address)
        if wait is not None:
            raise ApiError(
                429, "too_many_attempts", "too many failed sign-ins; try again later",
                headers={"Retry-After": str(int(wait) + 1)}, retry_after=int(wait) + 1,
            )
        found = await self.repo.credentials(login)
        user, password_hash = found if found else (None, None)
        loop = asyncio.get_running_loop()
        ok = await loop.run_in_executor(None, verify_password, password_hash, password)
        if not ok or user is None or user.disabled:
            self.throttle.failed(login, address)
            # an unknown login is not logged: people type their password there by mistake
            who = f"login {user.login!r}" if user is not None else "an unknown login"
            log.warning("sign-in refused for %s from %s", who, address)
            raise ApiError(401, "bad_credentials", "wrong login or password")
        self.throttle.succeeded(login)
        log.info("user %s signed in from %s", user.login, address)
        return user

    async def start_session(self, user: UserView) -> tuple[str, SessionView]:
        """A new session for `user`: the cookie value (shown once) and the stored session."""
        cookie = secrets.token_urlsafe(32)
        session = await self.repo.create_session(
            user.id, sha256(cookie), secrets.token_urlsafe(32),
            self.clock() + self.settings.session_max_age,
        )
        return cookie, session

    async def session(self, cookie: str, *, touch: bool = True) -> tuple[Principal, SessionView] | None:
        """The principal of a live session; an idle or expired one is ended (None).
        `touch=False` checks without counting as activity (open event streams)."""
        found = await self.repo.session(sha256(cookie))
        if found is None:
            return None
        session, user = found
        now = self.clock()
        idle = now - session.last_seen_at > self.settings.session_idle_timeout
        if idle or now >= session.expires_at or user.disabled:
            await self.repo.end_session(session.id_hash)
            return None
        if touch and now - session.last_seen_at >= TOUCH_EVERY:
            await self.repo.touch_session(session.id_hash, now)
        return principal_of(user, "session"), session

    async def end_session(self, cookie: str) -> None:
        await self.repo.end_session(sha256(cookie))

    # -- API tokens ----------------------------------------------------------------------

    async def create_token(self, actor: Actor, user: UserView, name: str, days: int | None) -> NewToken:
        days = self.settings.token_default_days if days is None else days
        if not 1 <= days <= self.settings.token_max_days:
            raise ApiError(
                400, "bad_expiry", f"a token lasts 1 to {self.settings.token_max_days} days",
            )
        public_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        view = await self.repo.add_token(
            actor, user.id, name=name, public_id=public_id, secret_hash=sha256(secret),
            expires_at=self.clock() + days * DAY,
        )
        return NewToken(f"{TOKEN_PREFIX}_{public_id}_{secret}", view)

    async def token(self, presented: str, *, touch: bool = True) -> Principal | None:
        parts = presented.split("_", 2)
        if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
            return None
        found = await self.repo.token(parts[1])
        if found is None:
            return None
        view, secret_hash, user = found
        if not hmac.compare_digest(secret_hash, sha256(parts[2])):
            return None
        now = self.clock()
        if view.revoked_at is not None or now >= view.expires_at or user.disabled:
            return None
        if touch and (view.last_used_at is None or now - view.last_used_at >= TOUCH_EVERY):
            await self.repo.touch_token(view.id, now)
        return principal_of(user, "token")

    # -- first run -----------------------------------------------------------------------

    async def begin_setup(self) -> str | None:
        """On a store without an enabled admin: a one-time setup secret (else None)."""
        if await self.repo.count_admins() > 0:
            self._setup_hash = None
            return None
        secret = secrets.token_urlsafe(24)
        self._setup_hash = sha256(secret)
        return secret

    @property
    def setup_pending(self) -> bool:
        """No admin yet: a setup link was printed on the console."""
        return self._setup_hash is not None

    def setup_open(self, secret: str) -> bool:
        return self._setup_hash is not None and hmac.compare_digest(self._setup_hash, sha256(secret))

    async def finish_setup(self, secret: str, *, login: str, name: str, password: str) -> UserView:
        if not self.setup_open(secret):
            raise ApiError(403, "setup_closed", "this setup link is not valid (used already?)")
        if await self.repo.count_admins() > 0:  # an admin was added meanwhile (CLI)
            self._setup_hash = None
            raise ApiError(403, "setup_closed", "an admin exists already; sign in instead")
        password_hash = await self.hash(password, login)
        if not self.setup_open(secret):  # another request used it meanwhile
            raise ApiError(403, "setup_closed", "this setup link is not valid (used already?)")
        self._setup_hash = None
        try:
            user = await self.repo.add_user(
                Actor("setup"), login=login, name=name, role="admin", password_hash=password_hash,
            )
        except Exception:
            self._setup_hash = sha256(secret)
            raise
        log.warning("first admin %s created through the setup link", login)
        return user
