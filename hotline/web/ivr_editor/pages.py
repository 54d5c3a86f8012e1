"""The IVR editor pages (admins): the menus and their versions (`/ivr`), and one menu's editor
(`/ivr/{name}`): the YAML with highlighting (editor.js) checked and drawn on every change,
publish, history with diffs and rollback, the test-call panel. Forms call the same service
functions as the API (hotline/web/ivr_editor/service.py)."""

from __future__ import annotations

import datetime as dt
import json
import time
import zoneinfo
from collections import defaultdict
from importlib import resources
from typing import Any

from aiohttp import web
from pydantic import TypeAdapter, ValidationError

from casestore.menus import NoSuchMenu, StoredMenu
from hotline.durability import STORED_MENUS_KEY
from hotline.roles import Role
from hotline.web.base.bodies import read_form
from hotline.web.base.errors import ApiError
from hotline.web.base.keys import PRINCIPAL, STORE_KEY, WEB_KEY
from hotline.web.base.pages import NavItem, redirect
from hotline.web.base.room import WebRoom
from hotline.web.ivr_editor import service
from hotline.web.ivr_editor.routes import trial_call
from hotline.web.ivr_editor.schemas import CallerAction, TryIn
from hotline.web.menus.service import MAX_MENU_BYTES, MENUS_KEY, activate_version
from ivr.source import SourceError, load_source

ADMIN = frozenset({Role.ADMIN})
SCRIPT = resources.files("hotline.web.ivr_editor") / "editor.js"
ACTIONS = TypeAdapter(list[CallerAction])
KEYPAD = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#")


def _when(at: float) -> str:
    return dt.datetime.fromtimestamp(at).strftime("%Y-%m-%d %H:%M:%S")


def _version_rows(stored: list[StoredMenu], active: int | None) -> list[dict[str, Any]]:
    return [{"version": v.version, "author": v.author, "message": v.message, "when": _when(v.created_at),
             "source": v.source, "active": v.version == active} for v in reversed(stored)]


def _render(request: web.Request, template: str, *, status: int = 200, **context: Any) -> web.Response:
    return request.app[WEB_KEY].pages.render(request, template, status=status, **context)


def _text_field(form: Any, name: str, limit: int = 200) -> str:
    value = form.get(name, "")
    if not isinstance(value, str):
        return ""
    return value[:limit]


def _draft_text(form: Any) -> str:
    text = form.get("text", "")
    if not isinstance(text, str):
        raise ApiError(400, "bad_form", "the draft is a text field")
    if len(text.encode()) > MAX_MENU_BYTES:
        raise ApiError(413, "too_large", f"a menu is at most {MAX_MENU_BYTES} bytes", limit=MAX_MENU_BYTES)
    return text.replace("\r\n", "\n")


async def menus_page(request: web.Request) -> web.StreamResponse:
    menus = request.app[STORED_MENUS_KEY]
    stored = await menus.store.versions()
    active = await menus.store.active()
    by_name: dict[str, list[StoredMenu]] = defaultdict(list)
    for v in stored:
        by_name[v.name].append(v)
    rows = [{"name": name, "active": active.get(name), "versions": _version_rows(vs, active.get(name))}
            for name, vs in sorted(by_name.items())]
    return _render(request, "ivr_editor/list.html", menus=rows)


def _hours_zone(text: str) -> str:
    """The time zone of the draft's first hours node (what the test call's time is in)."""
    try:
        data = load_source(text, service.DRAFT_SOURCE).data
    except SourceError:
        return "UTC"
    nodes = data.get("nodes") if isinstance(data, dict) else None
    for node in (nodes or {}).values() if isinstance(nodes, dict) else ():
        if isinstance(node, dict) and node.get("kind") == "hours" and isinstance(node.get("timezone"), str):
            return str(node["timezone"])
    return "UTC"


def _now_in(zone: str) -> str:
    try:
        tz: dt.tzinfo = zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = dt.UTC
    return dt.datetime.fromtimestamp(time.time(), tz).strftime("%Y-%m-%dT%H:%M")


async def _try_context(request: web.Request, text: str, form: dict[str, str], actions: list[CallerAction]) -> dict[str, Any]:
    """Run the test call of the panel (its script so far) on the draft; the panel's context."""
    report: dict[str, Any] | None = None
    error = ""
    try:
        body = TryIn(text=text, actions=actions, at=form.get("at") or None, timezone=form.get("timezone") or None,
                     language=form.get("language") or None, emergency=form.get("emergency") if form.get(
                         "emergency_on") else None, pause=True)
        report = await service.trial(request.app, text, trial_call(body))
    except ApiError as exc:
        error = exc.message
    except ValidationError as exc:
        error = "; ".join(str(e["msg"]) for e in exc.errors(include_url=False))
    return {"report": report, "error": error, "form": form, "keypad": KEYPAD,
            "script": json.dumps([a.model_dump() for a in actions], ensure_ascii=False), "actions": actions}


async def editor_page(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    try:
        active, stored = await service.versions(request.app, name)
        wanted = request.query.get("version", "")
        number = int(wanted) if wanted.isdigit() and len(wanted) < 10 else (active or stored[-1].version)
        loaded = await service.version_text(request.app, name, number)
    except NoSuchMenu:
        return _render(request, "ivr_editor/missing.html", status=404, name=name)
    text = loaded.text
    draft = await service.inspect(request.app, text)
    zone = _hours_zone(text)
    form = {"at": _now_in(zone), "timezone": zone, "language": "", "emergency": "", "emergency_on": ""}
    registry = request.app[MENUS_KEY]
    languages = list(draft.result.menu.languages) if draft.result.menu else []
    older = [v.version for v in stored if v.version != number]
    activity = [
        {"when": _when(e.at), "actor": e.actor, "action": e.action,
         "before": (e.before or {}).get("version"), "after": (e.after or {}).get("version")}
        for e in await request.app[STORE_KEY].accounts.audit(limit=15, target=f"menu:{name}")
    ]
    return _render(
        request, "ivr_editor/editor.html", name=name, text=text, loaded=number, active=active,
        versions=_version_rows(stored, active), draft=draft, issues=service.issues_view(draft.result),
        languages=languages, try_=await _try_context(request, text, form, []),
        diff_from=older[-1] if older else number, diff_to=number,
        published=request.query.get("published", ""), activated=request.query.get("activated", ""),
        running=registry.active(name) is not None, activity=activity,
    )


async def draft_partial(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    draft = await service.inspect(request.app, _draft_text(form))
    return _render(request, "ivr_editor/_report.html", draft=draft, issues=service.issues_view(draft.result))


async def publish_form(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    text = _draft_text(form)
    message = _text_field(form, "message", 1000).strip()
    result, stored = await service.publish(request.app, request[PRINCIPAL], text, message)
    if not result.ok or result.menu is None:
        return _render(request, "ivr_editor/_publish.html", status=422, ok=False,
                       issues=service.issues_view(result))
    target = f"/ivr/{result.menu.name}?published={result.menu.version if stored else ''}"
    if request.headers.get("HX-Request") == "true":
        return web.Response(status=200, headers={"HX-Redirect": target})
    return redirect(target)


async def activate_form(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    form = await read_form(request)
    raw = _text_field(form, "version", 10)
    if not raw.isdigit():
        raise ApiError(400, "bad_version", "pick a version")
    await activate_version(request.app, request[PRINCIPAL], name, int(raw))
    return redirect(f"/ivr/{name}?activated={int(raw)}")


async def diff_partial(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    a, b = request.query.get("from", ""), request.query.get("to", "")
    if not (a.isdigit() and b.isdigit() and len(a) < 10 and len(b) < 10):
        raise ApiError(400, "bad_version", "pick two versions")
    d = await service.diff(request.app, name, int(a), int(b))
    return _render(request, "ivr_editor/_diff.html", diff=d)


def _next_actions(form: Any) -> list[CallerAction]:
    """The panel's script so far plus the button pressed (`add`): a key, the typed keys, the
    typed phrase, silence, hang up; `reset` starts again."""
    raw = _text_field(form, "script", 20_000) or "[]"
    try:
        actions = ACTIONS.validate_json(raw)
    except ValidationError as exc:
        raise ApiError(400, "bad_script", "the test call's script is not valid") from exc
    add = _text_field(form, "add", 40)
    if add == "reset":
        return []
    if add.startswith("dtmf:"):
        actions.append(CallerAction(kind="dtmf", value=add.removeprefix("dtmf:")))
    elif add == "keys" and _text_field(form, "keys", 32).strip():
        actions.append(CallerAction(kind="dtmf", value=_text_field(form, "keys", 32).strip()))
    elif add == "say" and _text_field(form, "phrase").strip():
        actions.append(CallerAction(kind="say", value=_text_field(form, "phrase").strip()))
    elif add in ("silence", "hangup"):
        actions.append(CallerAction(kind=add))  # type: ignore[arg-type]
    return actions[:64]


async def try_partial(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    text = _draft_text(form)
    fields = {k: _text_field(form, k, 500 if k == "emergency" else 64)
              for k in ("at", "timezone", "language", "emergency", "emergency_on")}
    context = await _try_context(request, text, fields, _next_actions(form))
    languages = [str(x) for x in _text_field(form, "languages", 200).split(",") if x]
    return _render(request, "ivr_editor/_try.html", try_=context, languages=languages)


async def script(request: web.Request) -> web.StreamResponse:
    return web.Response(body=SCRIPT.read_bytes(), content_type="text/javascript",
                        headers={"Cache-Control": "no-cache"})


def add_pages(room: WebRoom) -> None:
    room.pages.nav(NavItem("ivr_editor.nav", "/ivr", ADMIN, order=40))
    room.pages.route("GET", "/ivr", menus_page, roles=ADMIN)
    room.pages.route("GET", "/ivr/editor.js", script, roles=ADMIN)
    room.pages.route("POST", "/ivr/draft", draft_partial, roles=ADMIN)
    room.pages.route("POST", "/ivr/try", try_partial, roles=ADMIN)
    room.pages.route("GET", "/ivr/{name}", editor_page, roles=ADMIN)
    room.pages.route("POST", "/ivr/{name}/publish", publish_form, roles=ADMIN)
    room.pages.route("POST", "/ivr/{name}/activate", activate_form, roles=ADMIN)
    room.pages.route("GET", "/ivr/{name}/diff", diff_partial, roles=ADMIN)
