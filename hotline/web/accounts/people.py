"""The admins' people page: who can sign in, add a person, disable or enable one. Changes go
through the same services as the API (audited, same rules)."""

from __future__ import annotations

from aiohttp import web

from casestore.errors import InvalidInput, NotFound
from hotline.roles import Role
from hotline.web.accounts.service import actor_of, check_agent
from hotline.web.base.bodies import read_form
from hotline.web.base.errors import ApiError
from hotline.web.base.keys import ACD_KEY, PRINCIPAL, WEB_KEY
from hotline.web.base.pages import NavItem, redirect
from hotline.web.base.room import WebRoom

ADMIN = frozenset({Role.ADMIN})
ROLES = ("agent", "supervisor", "admin")


def _text(form: object, name: str, limit: int) -> str:
    value = form.get(name, "") if hasattr(form, "get") else ""
    return value.strip()[:limit] if isinstance(value, str) else ""


async def _render(request: web.Request, *, status: int = 200, error: str = "", form: dict[str, str] | None = None) -> web.Response:
    room = request.app[WEB_KEY]
    users = await room.accounts.repo.users()
    return room.pages.render(
        request, "accounts/people.html", status=status, users=users, roles=ROLES, error=error,
        form=form or {"login": "", "name": "", "role": "agent", "agent_id": ""},
    )


async def people_page(request: web.Request) -> web.StreamResponse:
    return await _render(request)


async def add_person(request: web.Request) -> web.StreamResponse:
    room = request.app[WEB_KEY]
    form = await read_form(request)
    values = {
        "login": _text(form, "login", 64), "name": _text(form, "name", 128),
        "role": _text(form, "role", 16), "agent_id": _text(form, "agent_id", 64),
    }
    password = form.get("password", "")
    try:
        if values["role"] not in ROLES or not values["login"] or not values["name"]:
            raise ApiError(400, "invalid_input", room.strings.text(room.pages.language(request), "accounts.people.missing"))
        check_agent(request.app[ACD_KEY].agents, values["agent_id"] or None)
        await room.accounts.add_user(
            actor_of(request[PRINCIPAL]), login=values["login"], name=values["name"], role=values["role"],
            password=password if isinstance(password, str) else "", agent_id=values["agent_id"] or None,
        )
    except ApiError as exc:
        return await _render(request, status=400, error=exc.message, form=values)
    except (InvalidInput, NotFound) as exc:
        return await _render(request, status=400, error=str(exc), form=values)
    return redirect("/people")


async def set_disabled(request: web.Request) -> web.StreamResponse:
    room = request.app[WEB_KEY]
    form = await read_form(request)
    disabled = form.get("disabled") == "true"
    try:
        await room.accounts.repo.update_user(
            actor_of(request[PRINCIPAL]), request.match_info["login"], {"disabled": disabled}
        )
    except (InvalidInput, NotFound) as exc:
        return await _render(request, status=400, error=str(exc))
    return redirect("/people")


def add_pages(room: WebRoom) -> None:
    room.pages.nav(NavItem("accounts.people.nav", "/people", ADMIN, order=800))
    room.pages.route("GET", "/people", people_page, roles=ADMIN)
    room.pages.route("POST", "/people", add_person, roles=ADMIN)
    room.pages.route("POST", "/people/{login}/disabled", set_disabled, roles=ADMIN)
