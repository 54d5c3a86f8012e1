"""The accounts API: sign in and out, people (admins), API tokens, the audit log, first run."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel

from casestore.accounts import UserView
from hotline.roles import ALL_ROLES, PUBLIC_ROLES, Role
from hotline.web.accounts.schemas import (
    AuditList,
    AuditOut,
    AuditQuery,
    CreatedToken,
    Done,
    FirstAdmin,
    NewPassword,
    NewTokenIn,
    NewUser,
    SessionOut,
    SignIn,
    TokenList,
    TokenOut,
    UserChange,
    UserList,
    UserOut,
)
from hotline.web.accounts.service import actor_of, check_agent
from hotline.web.base.api import ApiCall, ApiRegistry
from hotline.web.base.errors import ApiError
from hotline.web.base.keys import ACD_KEY, SESSION, WEB_KEY
from hotline.web.base.security import SESSION_COOKIE, clear_session_cookie, set_session_cookie

routes = ApiRegistry()
ADMIN = frozenset({Role.ADMIN})


def _json(model: BaseModel, status: int = 200) -> web.Response:
    return web.json_response(model.model_dump(mode="json"), status=status)


async def signed_in(request: web.Request, user: UserView) -> web.Response:
    """Start a session for `user` and answer its SessionOut with the cookie set."""
    room = request.app[WEB_KEY]
    cookie, session = await room.accounts.start_session(user)
    response = _json(
        SessionOut(
            user=UserOut.of(user), csrf_token=session.csrf_token, expires_at=session.expires_at,
            idle_timeout=room.settings.session_idle_timeout,
        )
    )
    set_session_cookie(response, request, room.settings, cookie)
    return response


@routes.post(
    "/api/session", roles=PUBLIC_ROLES, body=SignIn, response=SessionOut, tag="accounts",
    summary="Sign in (starts a browser session)", errors=(401, 403, 429),
)
async def sign_in(call: ApiCall[SignIn, None]) -> web.StreamResponse:
    """Checks the password (throttled after repeated failures) and sets the session cookie.
    Needs the `hotline_csrf` cookie's value in `X-CSRF-Token` (from any page or GET)."""
    room = call.request.app[WEB_KEY]
    user = await room.accounts.authenticate(
        call.body.login, call.body.password, call.request.remote or "?"
    )
    return await signed_in(call.request, user)


@routes.get(
    "/api/session", roles=ALL_ROLES, response=SessionOut, tag="accounts",
    summary="Who is signed in",
)
async def whoami(call: ApiCall[None, None]) -> SessionOut:
    room = call.request.app[WEB_KEY]
    who = call.principal
    user = await room.accounts.repo.user(who.login)
    if user is None:
        raise ApiError(401, "unauthorized", "the user is gone")
    session = call.request.get(SESSION)
    return SessionOut(
        user=UserOut.of(user), csrf_token=session.csrf_token if session else "",
        expires_at=session.expires_at if session else 0.0,
        idle_timeout=room.settings.session_idle_timeout,
    )


@routes.delete(
    "/api/session", roles=ALL_ROLES, response=Done, tag="accounts", summary="Sign out",
)
async def sign_out(call: ApiCall[None, None]) -> web.StreamResponse:
    cookie = call.request.cookies.get(SESSION_COOKIE)
    if cookie:
        await call.request.app[WEB_KEY].accounts.end_session(cookie)
    response = _json(Done())
    clear_session_cookie(response)
    return response


@routes.get("/api/users", roles=ADMIN, response=UserList, tag="accounts", summary="List people")
async def list_users(call: ApiCall[None, None]) -> UserList:
    users = await call.request.app[WEB_KEY].accounts.repo.users()
    return UserList(users=[UserOut.of(u) for u in users])


@routes.post(
    "/api/users", roles=ADMIN, body=NewUser, response=UserOut, status=201, tag="accounts",
    summary="Add a person", errors=(400,),
)
async def add_user(call: ApiCall[NewUser, None]) -> UserOut:
    body = call.body
    check_agent(call.request.app[ACD_KEY].agents, body.agent_id)
    user = await call.request.app[WEB_KEY].accounts.add_user(
        actor_of(call.who), login=body.login, name=body.name, role=body.role,
        password=body.password, agent_id=body.agent_id, language=body.language,
    )
    return UserOut.of(user)


@routes.patch(
    "/api/users/{login}", roles=ADMIN, body=UserChange, response=UserOut, tag="accounts",
    summary="Change a person (name, role, agent, disabled, language)", errors=(404,),
)
async def change_user(call: ApiCall[UserChange, None]) -> UserOut:
    """Disabling ends the person's sessions and stops their tokens."""
    check_agent(call.request.app[ACD_KEY].agents, call.body.agent_id)
    user = await call.request.app[WEB_KEY].accounts.repo.update_user(
        actor_of(call.who), call.params["login"], call.body.changes()
    )
    return UserOut.of(user)


@routes.post(
    "/api/users/{login}/password", roles=ALL_ROLES, body=NewPassword, response=Done,
    tag="accounts", summary="Set a password (admins: anyone's; others: their own)", errors=(404,),
)
async def set_password(call: ApiCall[NewPassword, None]) -> Done:
    """A new password ends the person's sessions. People changing their own password give the
    current one too."""
    who = call.principal
    accounts = call.request.app[WEB_KEY].accounts
    login = call.params["login"]
    if who.role is not Role.ADMIN or login == who.login:
        if login != who.login:
            raise ApiError(403, "forbidden", "you may only change your own password")
        current = call.body.current_password or ""
        await accounts.authenticate(login, current, call.request.remote or "?")
    await accounts.set_password(actor_of(who), login, call.body.password)
    return Done()


@routes.get(
    "/api/tokens", roles=ALL_ROLES, response=TokenList, tag="accounts",
    summary="API tokens (yours; admins see everyone's)",
)
async def list_tokens(call: ApiCall[None, None]) -> TokenList:
    who = call.principal
    repo = call.request.app[WEB_KEY].accounts.repo
    tokens = await repo.tokens(None if who.role is Role.ADMIN else who.user_id)
    return TokenList(tokens=[TokenOut.of(t) for t in tokens])


@routes.post(
    "/api/tokens", roles=ALL_ROLES, body=NewTokenIn, response=CreatedToken, status=201,
    tag="accounts", summary="Create an API token (shown once)", errors=(404,),
)
async def create_token(call: ApiCall[NewTokenIn, None]) -> CreatedToken:
    who = call.principal
    accounts = call.request.app[WEB_KEY].accounts
    login = call.body.login or who.login
    if login != who.login and who.role is not Role.ADMIN:
        raise ApiError(403, "forbidden", "only admins create tokens for others")
    user = await accounts.repo.user(login)
    if user is None:
        raise ApiError(404, "not_found", f"no user {login!r}")
    created = await accounts.create_token(actor_of(who), user, call.body.name, call.body.days)
    return CreatedToken(token=created.secret, info=TokenOut.of(created.view))


@routes.delete(
    "/api/tokens/{token_id}", roles=ALL_ROLES, response=TokenOut, tag="accounts",
    summary="Revoke an API token (yours; admins: any)", errors=(404,),
)
async def revoke_token(call: ApiCall[None, None]) -> TokenOut:
    who = call.principal
    repo = call.request.app[WEB_KEY].accounts.repo
    owner = None if who.role is Role.ADMIN else who.user_id
    token = await repo.revoke_token(actor_of(who), call.params["token_id"], owner=owner)
    return TokenOut.of(token)


@routes.get(
    "/api/audit", roles=ADMIN, query=AuditQuery, response=AuditList, tag="accounts",
    summary="The audit log: every change, who, when, before and after",
)
async def audit_log(call: ApiCall[None, AuditQuery]) -> AuditList:
    q = call.query
    entries = await call.request.app[WEB_KEY].accounts.repo.audit(
        limit=q.limit, before_id=q.before_id, action=q.action, actor=q.actor
    )
    return AuditList(entries=[AuditOut.of(e) for e in entries])


@routes.post(
    "/api/setup", roles=PUBLIC_ROLES, body=FirstAdmin, response=SessionOut, tag="accounts",
    summary="First run: create the first admin with the one-time setup token", errors=(403,),
)
async def first_admin(call: ApiCall[FirstAdmin, None]) -> web.StreamResponse:
    """Only while no admin exists, with the token `hotline serve` printed on its console."""
    body = call.body
    room = call.request.app[WEB_KEY]
    user = await room.accounts.finish_setup(body.token, login=body.login, name=body.name, password=body.password)
    return await signed_in(call.request, user)


