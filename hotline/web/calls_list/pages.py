"""The calls list page (search by number, time, queue, agent, outcome) and a call's page."""

from __future__ import annotations

import calendar
import time

from aiohttp import web

from hotline.roles import ALL_ROLES, Role
from hotline.web.base.keys import ACD_KEY, PRINCIPAL, STORE_KEY, WEB_KEY
from hotline.web.base.pages import NavItem
from hotline.web.base.room import WebRoom
from hotline.web.cases.schemas import CallQuery
from hotline.web.cases.service import Viewer, call_detail, call_filter, call_out


def _day(value: str) -> float | None:
    try:
        return float(calendar.timegm(time.strptime(value, "%Y-%m-%d")))
    except ValueError:
        return None


async def calls_page(request: web.Request) -> web.StreamResponse:
    who = request[PRINCIPAL]
    q = request.query
    since, until = _day(q.get("since", "")), _day(q.get("until", ""))
    query = CallQuery(phone=q.get("phone") or None, queue=q.get("queue") or None, agent=q.get("agent") or None,
                      outcome=q.get("outcome") or None, since=since,
                      until=until + 86400 if until is not None else None)
    rows = await request.app[STORE_KEY].casework.calls(call_filter(query, who))
    viewer = Viewer.of(who)
    return request.app[WEB_KEY].pages.render(
        request, "calls_list/list.html", calls=[call_out(viewer, r.call, r.case_number) for r in rows],
        form=dict(q), queues=sorted(request.app[ACD_KEY].queues),
    )


async def call_page(request: web.Request) -> web.StreamResponse:
    who = request[PRINCIPAL]
    detail, number = await request.app[STORE_KEY].casework.call(request.match_info["call_id"])
    if who.role is Role.AGENT and detail.call.agent_id != who.agent_id:
        return request.app[WEB_KEY].pages.render(request, "base/forbidden.html", status=403)
    return request.app[WEB_KEY].pages.render(
        request, "calls_list/call.html", k=call_detail(Viewer.of(who), detail, number),
    )


def add_pages(room: WebRoom) -> None:
    room.pages.nav(NavItem("calls_list.nav", "/calls", ALL_ROLES, order=30))
    room.pages.route("GET", "/calls", calls_page, roles=ALL_ROLES)
    room.pages.route("GET", "/calls/{call_id}", call_page, roles=ALL_ROLES)
