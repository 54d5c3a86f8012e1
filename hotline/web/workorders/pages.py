"""Pages of work orders: "Work" — staff see every open work order and reassign it; an agent
sees their own, resolves them, and takes follow-up calls ("My tasks"). `/work/{number}/partial`
is the work-order partial (team, assignee, messages to the customer, score) a case page can
include (`hx-get`, refreshed on `sse:work_order` / `sse:case_changed`)."""

from __future__ import annotations

from aiohttp import web

from casestore.accounts import Actor
from hotline.roles import ALL_ROLES, STAFF, Principal, Role
from hotline.service_process.wiring import SERVICE_KEY
from hotline.web.accounts.service import actor_of
from hotline.web.base.bodies import read_form
from hotline.web.base.errors import ApiError
from hotline.web.base.keys import PRINCIPAL, WEB_KEY
from hotline.web.base.pages import NavItem, redirect
from hotline.web.base.room import WebRoom
from hotline.web.workorders.routes import check_case_access
from hotline.web.workorders.schemas import MessageOut, TaskOut

NOTICES = frozenset({"sent", "failed", "opted_out", "no_contact", "not_needed", "reassigned", "taken", "calling", "recorded", "pick"})
OUTCOMES = ("reached", "no_answer", "busy", "wrong_number", "declined")


def add_pages(room: WebRoom) -> None:
    room.pages.nav(NavItem("workorders.nav", "/work", STAFF, order=30))  # agents: linked from their desktop
    room.pages.route("GET", "/work", work_page, roles=ALL_ROLES)
    room.pages.route("GET", "/work/{number}/partial", work_order_partial, roles=ALL_ROLES)
    room.pages.route("POST", "/work/{number}/reassign", reassign_submit, roles=STAFF)
    room.pages.route("POST", "/work/{number}/resolve", resolve_submit, roles=ALL_ROLES)
    room.pages.route("POST", "/work/tasks/{task_id}/take", take_submit, roles=frozenset({Role.AGENT}))
    room.pages.route("POST", "/work/tasks/{task_id}/outcome", outcome_submit, roles=frozenset({Role.AGENT}))


async def work_page(request: web.Request) -> web.StreamResponse:
    process = request.app[SERVICE_KEY]
    who: Principal = request[PRINCIPAL]
    agent = who.role is Role.AGENT
    orders = await process.routing.work_orders(who.user_id if agent else None)
    teams = {t.name: [m.login for m in t.members] for t in await process.routing.teams()} if not agent else {}
    tasks = []
    if agent:
        found = await process.outreach.follow_ups(due_by=process.clock(), taken_by=who.user_id)
        tasks = [TaskOut.of(t, who) for t in found]
    return request.app[WEB_KEY].pages.render(
        request, "workorders/work.html", orders=orders, teams=teams, tasks=tasks, agent=agent, outcomes=OUTCOMES,
        notice=notice if (notice := request.query.get("notice", "")) in NOTICES else "",
    )


async def work_order_partial(request: web.Request) -> web.StreamResponse:
    number = request.match_info["number"]
    process = request.app[SERVICE_KEY]
    who: Principal = request[PRINCIPAL]
    try:
        await check_case_access(process, who, number)
    except ApiError:
        return request.app[WEB_KEY].pages.render(request, "base/forbidden.html", status=403)
    case = await process.cases.get_case(number)
    return request.app[WEB_KEY].pages.render(
        request, "workorders/_work_order.html", case=case, routing=await process.routing.routing(number),
        messages=[MessageOut.of(m, who) for m in await process.outreach.messages(number)],
        score=await process.outreach.score(number),
    )


async def reassign_submit(request: web.Request) -> web.StreamResponse:
    number = request.match_info["number"]
    form = await read_form(request)
    login = form.get("login", "")
    if not isinstance(login, str) or not login:
        return redirect("/work?notice=pick")
    view = await request.app[SERVICE_KEY].reassign(actor_of(request[PRINCIPAL]), number, login[:64])
    request.app[WEB_KEY].live.case_changed(number, "reassigned", view.assignee_agent_id)
    return redirect("/work?notice=reassigned")


async def resolve_submit(request: web.Request) -> web.StreamResponse:
    number = request.match_info["number"]
    process = request.app[SERVICE_KEY]
    who = request[PRINCIPAL]
    await read_form(request)
    try:
        await check_case_access(process, who, number)
    except ApiError:
        return request.app[WEB_KEY].pages.render(request, "base/forbidden.html", status=403)
    case = await process.cases.set_status(number, "resolved")
    await request.app[WEB_KEY].accounts.repo.record(actor_of(who), "case.status", f"case:{number}",
                                                    after={"status": case.status})
    request.app[WEB_KEY].live.case_changed(number, case.status, case.assigned_agent)
    outcome = await process.status_changed(number, case.status)
    return redirect(f"/work?notice={outcome.result}")


def _task_id(request: web.Request) -> int:
    raw = request.match_info["task_id"]
    if not raw.isdigit() or len(raw) > 12:
        raise web.HTTPNotFound()
    return int(raw)


def _actor(request: web.Request) -> Actor:
    return actor_of(request[PRINCIPAL])


async def take_submit(request: web.Request) -> web.StreamResponse:
    await read_form(request)
    process, task_id = request.app[SERVICE_KEY], _task_id(request)
    await process.take_follow_up(_actor(request), task_id, request[PRINCIPAL].agent_id)
    calls = process.follow_up_calls
    return redirect("/work?notice=calling" if calls is not None and calls.calling(task_id) else "/work?notice=taken")


async def outcome_submit(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    outcome = form.get("outcome", "")
    if outcome not in OUTCOMES:
        return redirect("/work?notice=pick")
    await request.app[SERVICE_KEY].outreach.finish_follow_up(_actor(request), _task_id(request), str(outcome))
    return redirect("/work?notice=recorded")
