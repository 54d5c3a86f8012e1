"""The admins' queues-and-agents page: every queue and agent as the ACD runs it, a form per
agent (skills and levels, groups, capacity, disabled), a form per queue (its common settings,
queue_form.py) beside a YAML editor of all its keys (as in the configuration file), history
with diffs and rollback. Same service as the API (checked,
versioned, audited, applied live)."""

from __future__ import annotations

from typing import Any

import yaml
from aiohttp import web

from acd.errors import AcdError
from casestore.acd_config import NoSuchVersion
from hotline.acd_config import InvalidItem, Problem, as_yaml, diff
from hotline.roles import Role
from hotline.web.accounts.service import actor_of
from hotline.web.acd_admin.queue_form import FIELDS, form_values, queue_from_form
from hotline.web.acd_admin.service import ACD_CONFIG_KEY
from hotline.web.acd_admin.skills import parse_skills, skills_text
from hotline.web.base.bodies import read_form
from hotline.web.base.keys import ACD_KEY, PRINCIPAL, WEB_KEY
from hotline.web.base.pages import NavItem, redirect
from hotline.web.base.room import WebRoom

ADMIN = frozenset({Role.ADMIN})
PAGE = "/admin/acd"
POLICIES = ("longest_idle", "least_occupied", "best_skill")


def _field(form: Any, name: str, limit: int = 200) -> str:
    value = form.get(name, "")
    return value.strip()[:limit] if isinstance(value, str) else ""


async def _render(request: web.Request, *, status: int = 200, problems: list[Problem] | None = None,
                  editing: str = "", draft: dict[str, str] | None = None) -> web.Response:
    live = request.app[ACD_CONFIG_KEY]
    acd = request.app[ACD_KEY]
    queues = await live.items("queue")
    agents = await live.items("agent")
    states = {a.id: a.state.value for a in acd.agents.values()}
    waiting = {name: len(acd.waiting_calls(name)) for name in acd.queues}
    return request.app[WEB_KEY].pages.render(
        request, "acd_admin/page.html", status=status, queues=queues, agents=agents, states=states,
        waiting=waiting, problems=problems or [], editing=editing, draft=draft or {}, as_yaml=as_yaml,
        skills_text=skills_text, form_values=form_values, policies=POLICIES,
    )


async def admin_page(request: web.Request) -> web.StreamResponse:
    return await _render(request)


async def _save(request: web.Request, kind: str, item: dict[str, Any], message: str, editing: str,
                draft: dict[str, str]) -> web.StreamResponse:
    try:
        await request.app[ACD_CONFIG_KEY].edit(actor_of(request[PRINCIPAL]), kind, item, message=message)
    except InvalidItem as exc:
        return await _render(request, status=422, problems=exc.problems, editing=editing, draft=draft)
    except AcdError as exc:
        return await _render(request, status=409, problems=[Problem("", str(exc))], editing=editing, draft=draft)
    return redirect(f"{PAGE}#{kind}-{item.get('id' if kind == 'agent' else 'name', '')}")


async def agent_form(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    draft = {k: _field(form, k, 2000) for k in ("id", "name", "skills", "groups", "capacity", "message")}
    item: dict[str, Any] = {"id": draft["id"], "name": draft["name"], "skills": parse_skills(draft["skills"]),
                            "groups": [g.strip() for g in draft["groups"].split(",") if g.strip()],
                            "disabled": _field(form, "disabled") == "on"}
    capacity = draft["capacity"] or "1"
    item["capacity"] = int(capacity) if capacity.isdigit() else capacity
    return await _save(request, "agent", item, draft["message"], f"agent-{draft['id'] or 'new'}", draft)


async def queue_form(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    text = _field(form, "yaml", 20_000)
    draft = {"yaml": text, "message": _field(form, "message", 1000), "name": _field(form, "name")}
    editing = f"queue-{draft['name'] or 'new'}"
    try:
        item = yaml.safe_load(text) if text else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        return await _render(request, status=422, problems=[Problem("", f"{where}not YAML: {exc}")],
                             editing=editing, draft=draft)
    if not isinstance(item, dict):
        return await _render(request, status=422, problems=[Problem("", "a queue is a mapping of its keys")],
                             editing=editing, draft=draft)
    return await _save(request, "queue", item, draft["message"], editing, draft)


async def queue_settings_form(request: web.Request) -> web.StreamResponse:
    """The queue form (queue_form.py): its fields over the queue's running configuration."""
    form = await read_form(request)
    draft = {k: _field(form, k, 2000) for k in ("name", *FIELDS)}
    name = draft["name"]
    current = next((v.data for v in await request.app[ACD_CONFIG_KEY].items("queue") if v.name == name), None)
    if current is None:
        raise web.HTTPNotFound()
    item = queue_from_form(current, name, draft)
    return await _save(request, "queue", item, draft["message"], f"queue-settings-{name}", draft)


async def history_page(request: web.Request) -> web.StreamResponse:
    kind, name = request.match_info["kind"], request.match_info["name"]
    if kind not in ("queue", "agent"):
        raise web.HTTPNotFound()
    store = request.app[ACD_CONFIG_KEY].store
    try:
        versions = await store.versions(kind, name)
    except NoSuchVersion as exc:
        raise web.HTTPNotFound() from exc
    numbers = [v.version for v in versions]
    a = _int(request.query.get("a"), numbers[-2] if len(numbers) > 1 else numbers[-1])
    b = _int(request.query.get("b"), numbers[-1])
    by = {v.version: v for v in versions}
    text = diff(by[a], by[b]) if a in by and b in by else ""
    return request.app[WEB_KEY].pages.render(
        request, "acd_admin/history.html", kind=kind, name=name, versions=list(reversed(versions)), a=a, b=b,
        diff=text,
    )


def _int(raw: str | None, default: int) -> int:
    return int(raw) if raw is not None and raw.isdigit() else default


async def rollback_form(request: web.Request) -> web.StreamResponse:
    kind, name = request.match_info["kind"], request.match_info["name"]
    form = await read_form(request)
    version = _field(form, "version", 8)
    if kind not in ("queue", "agent") or not version.isdigit():
        raise web.HTTPBadRequest()
    try:
        await request.app[ACD_CONFIG_KEY].rollback(actor_of(request[PRINCIPAL]), kind, name, int(version))
    except NoSuchVersion as exc:
        raise web.HTTPNotFound() from exc
    except InvalidItem as exc:
        return await _render(request, status=422, problems=exc.problems, editing=f"{kind}-{name}")
    return redirect(f"{PAGE}/{kind}/{name}/history")


def add_pages(room: WebRoom) -> None:
    room.pages.nav(NavItem("acd_admin.nav", PAGE, ADMIN, order=60))
    room.pages.route("GET", PAGE, admin_page, roles=ADMIN)
    room.pages.route("POST", f"{PAGE}/agents", agent_form, roles=ADMIN)
    room.pages.route("POST", f"{PAGE}/queues", queue_form, roles=ADMIN)
    room.pages.route("POST", f"{PAGE}/queues/settings", queue_settings_form, roles=ADMIN)
    room.pages.route("GET", PAGE + "/{kind}/{name}/history", history_page, roles=ADMIN)
    room.pages.route("POST", PAGE + "/{kind}/{name}/rollback", rollback_form, roles=ADMIN)
