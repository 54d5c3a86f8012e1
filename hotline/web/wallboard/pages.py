"""The supervisors' wallboard page: the board (refreshed on live events and every 10 s), the
supervisor actions as forms (same functions as the API, audited) and the emergency switch."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from acd.errors import AcdError
from hotline.roles import STAFF
from hotline.web.accounts.service import actor_of
from hotline.web.base.bodies import read_form
from hotline.web.base.errors import ApiError
from hotline.web.base.keys import EMERGENCY_KEY, PRINCIPAL, WEB_KEY
from hotline.web.base.pages import NavItem, redirect
from hotline.web.base.room import WebRoom
from hotline.web.emergency.service import as_dict, known_scopes, switch
from hotline.web.menus.service import MENUS_KEY
from hotline.web.telephony import service as telephony
from hotline.web.telephony.schemas import MonitorIn
from hotline.web.wallboard.charts import sl_chart, volume_chart
from hotline.web.wallboard.routes import WALLBOARD_KEY, change_call, force_agent
from hotline.web.wallboard.schemas import ForceIn
from hotline.web.wallboard.service import ALERT_EVENT

BOARD_EVENTS = ", ".join(
    f"sse:{kind}" for kind in (
        "agent_state", "call_queued", "call_offered", "call_answered", "call_ended", "call_abandoned",
        ALERT_EVENT,
    )
)


async def _board_context(request: web.Request) -> dict[str, Any]:
    room = request.app[WEB_KEY]
    lang = room.pages.language(request)
    board = await request.app[WALLBOARD_KEY].view()
    return {
        "board": board,
        "sl_chart": sl_chart(board.series, board.sl_target, room.strings.text(lang, "wallboard.chart.sl")),
        "volume_chart": volume_chart(board.series, room.strings.text(lang, "wallboard.chart.volume")),
    }


async def _render(request: web.Request, *, status: int = 200, error: str = "") -> web.Response:
    room = request.app[WEB_KEY]
    return room.pages.render(
        request, "wallboard/page.html", status=status, error=error, board_events=BOARD_EVENTS,
        emergency=as_dict(request.app[EMERGENCY_KEY].current()),
        scopes=sorted(known_scopes(request.app[MENUS_KEY])), **await _board_context(request),
    )


async def wallboard_page(request: web.Request) -> web.StreamResponse:
    return await _render(request)


async def board_partial(request: web.Request) -> web.StreamResponse:
    room = request.app[WEB_KEY]
    return room.pages.render(request, "wallboard/_board.html", **await _board_context(request))


def _field(form: Any, name: str, limit: int = 64) -> str:
    value = form.get(name, "")
    return value.strip()[:limit] if isinstance(value, str) else ""


async def _acting(request: web.Request, action: Any) -> web.StreamResponse:
    try:
        await action
    except (AcdError, ApiError) as exc:
        return await _render(request, status=400 if not isinstance(exc, ApiError) else exc.status,
                             error=exc.message if isinstance(exc, ApiError) else str(exc))
    return redirect("/wallboard")


async def force_form(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    action = _field(form, "action")
    if action not in ("pause", "logout"):
        return await _render(request, status=400, error=f"unknown action {action!r}")
    body = ForceIn(action=action, reason=_field(form, "reason"))  # type: ignore[arg-type]
    return await _acting(request, force_agent(
        request, actor_of(request[PRINCIPAL]), request.match_info["agent_id"], body))


async def priority_form(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    raw = _field(form, "priority", 8)
    if not raw.isdigit() or int(raw) > 100:
        room = request.app[WEB_KEY]
        message = room.strings.text(room.pages.language(request), "wallboard.bad_priority")
        return await _render(request, status=400, error=message)
    return await _acting(request, change_call(
        request, actor_of(request[PRINCIPAL]), request.match_info["call_id"], priority=int(raw)))


async def move_form(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    return await _acting(request, change_call(
        request, actor_of(request[PRINCIPAL]), request.match_info["call_id"], queue=_field(form, "queue")))


async def monitor_form(request: web.Request) -> web.StreamResponse:
    """Listen / whisper / barge / stop on an agent's call (hotline/web/telephony, audited)."""
    form = await read_form(request)
    mode, phone = _field(form, "mode"), _field(form, "phone") or None
    call_id, who = request.match_info["call_id"], request[PRINCIPAL]
    if mode == "stop":
        return await _acting(request, telephony.unmonitor(request, who, call_id, phone))
    try:
        body = MonitorIn(mode=mode, phone=phone)  # type: ignore[arg-type]
    except ValueError:
        return await _render(request, status=400, error=f"unknown mode {mode!r} or phone")
    return await _acting(request, telephony.monitor(request, who, call_id, body))


async def emergency_form(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    active = _field(form, "active") == "true"
    scope = _field(form, "scope")
    message = _field(form, "message", 500)
    lang = request.app[WEB_KEY].pages.language(request)
    return await _acting(request, switch(
        request.app, request[PRINCIPAL], active, {lang: message} if message else {},
        [scope] if scope else []))


def add_pages(room: WebRoom) -> None:
    room.pages.nav(NavItem("wallboard.nav", "/wallboard", STAFF, order=10))
    room.pages.route("GET", "/wallboard", wallboard_page, roles=STAFF)
    room.pages.route("GET", "/wallboard/board", board_partial, roles=STAFF)
    room.pages.route("POST", "/wallboard/agents/{agent_id}/force", force_form, roles=STAFF)
    room.pages.route("POST", "/wallboard/calls/{call_id}/priority", priority_form, roles=STAFF)
    room.pages.route("POST", "/wallboard/calls/{call_id}/move", move_form, roles=STAFF)
    room.pages.route("POST", "/wallboard/emergency", emergency_form, roles=STAFF)
    room.pages.route("POST", "/wallboard/calls/{call_id}/monitor", monitor_form, roles=STAFF)
