"""Case pages: the list with filters and search, a case with its timeline and actions, the
supervisors' view of overdue and unassigned cases. They read the same masked views as the
API and post to it."""

from __future__ import annotations

from aiohttp import web
from pydantic import ValidationError

from hotline.roles import ALL_ROLES, STAFF
from hotline.web.base.keys import ACD_KEY, PRINCIPAL, STORE_KEY, WEB_KEY
from hotline.web.base.pages import NavItem
from hotline.web.base.room import WebRoom
from hotline.web.cases.schemas import CaseQuery
from hotline.web.cases.service import Viewer, case_detail, case_filter, summary_out
from hotline.web.cases.settings import DESK_KEY

STATUSES = ("open", "in_progress", "resolved", "closed")
PRIORITIES = ("urgent", "major", "complex", "common", "general")


def _query(request: web.Request) -> CaseQuery:
    raw: dict[str, object] = {k: v for k, v in request.query.items() if v}
    try:
        return CaseQuery.model_validate(raw)
    except ValidationError:
        return CaseQuery()


async def cases_page(request: web.Request) -> web.StreamResponse:
    who = request[PRINCIPAL]
    work = request.app[STORE_KEY].casework
    query = _query(request)
    viewer, now = Viewer.of(who), work.clock()
    rows = [summary_out(viewer, r, now) for r in await work.cases(case_filter(query, who))]
    return request.app[WEB_KEY].pages.render(
        request, "cases/list.html", cases=rows, q=query, statuses=STATUSES, priorities=PRIORITIES,
        categories=request.app[DESK_KEY].categories, now=now,
    )


async def attention_page(request: web.Request) -> web.StreamResponse:
    work = request.app[STORE_KEY].casework
    viewer, now = Viewer.of(request[PRINCIPAL]), work.clock()
    overdue, unassigned = await work.attention()
    return request.app[WEB_KEY].pages.render(
        request, "cases/attention.html", overdue=[summary_out(viewer, r, now) for r in overdue],
        unassigned=[summary_out(viewer, r, now) for r in unassigned], now=now,
    )


async def case_page(request: web.Request) -> web.StreamResponse:
    work = request.app[STORE_KEY].casework
    timeline = await work.timeline(request.match_info["number"])
    now = work.clock()
    return request.app[WEB_KEY].pages.render(
        request, "cases/case.html", c=case_detail(Viewer.of(request[PRINCIPAL]), timeline, now), now=now,
        agents=sorted(request.app[ACD_KEY].agents), desk=request.app[DESK_KEY],
        categories=request.app[DESK_KEY].categories, priorities=PRIORITIES,
    )


def add_pages(room: WebRoom) -> None:
    room.pages.nav(NavItem("cases.nav", "/cases", ALL_ROLES, order=20))
    room.pages.nav(NavItem("cases.attention.nav", "/cases/attention", STAFF, order=21))
    room.pages.route("GET", "/cases", cases_page, roles=ALL_ROLES)
    room.pages.route("GET", "/cases/attention", attention_page, roles=STAFF)
    room.pages.route("GET", "/cases/{number}", case_page, roles=ALL_ROLES)
