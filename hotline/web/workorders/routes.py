"""The work-order API: teams (admins), routing and reassignment (staff, audited), a case's
status change with the customer told (its assignee or staff), what the customer was told,
follow-up call tasks (agents take them), message templates (admins)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hotline.roles import ALL_ROLES, STAFF, Principal, Role
from hotline.service_process.process import ServiceProcess
from hotline.service_process.wiring import SERVICE_KEY
from hotline.web.accounts.service import actor_of
from hotline.web.base.api import ApiCall, ApiRegistry
from hotline.web.base.errors import ApiError
from hotline.web.base.keys import STORE_KEY, WEB_KEY
from hotline.web.workorders.schemas import (
    MemberIn,
    MemberOut,
    MessageOut,
    OutcomeIn,
    ReassignIn,
    RoutingOut,
    StatusIn,
    StatusOut,
    TaskOut,
    TasksOut,
    TeamIn,
    TeamOut,
    TeamsOut,
    TemplateIn,
    TemplateOut,
    WorkOrderOut,
)

routes = ApiRegistry()
ADMIN = frozenset({Role.ADMIN})
CASE = "{number}"


def process_of(app: web.Application) -> ServiceProcess:
    return app[SERVICE_KEY]


async def check_case_access(process: ServiceProcess, who: Principal, number: str) -> None:
    """Staff reach every case; an agent only the cases assigned to them."""
    if who.role is not Role.AGENT:
        return
    case = await process.cases.get_case(number)
    if not who.agent_id or case.assigned_agent != who.agent_id:
        raise ApiError(403, "forbidden", "this case is not assigned to you", case=number)


def task_id_of(call: ApiCall[Any, Any]) -> int:
    raw = call.request.match_info["task_id"]
    if not raw.isdigit() or len(raw) > 12:
        raise ApiError(404, "not_found", f"no task {raw}")
    return int(raw)


@routes.get("/api/teams", roles=STAFF, response=TeamsOut, tag="workorders", summary="Teams, members, open workload")
async def list_teams(call: ApiCall[None, None]) -> TeamsOut:
    return TeamsOut(teams=[TeamOut.of(t) for t in await process_of(call.request.app).routing.teams()])


@routes.post("/api/teams", roles=ADMIN, body=TeamIn, response=TeamOut, tag="workorders", summary="Add a team",
             invalid_code="bad_team")
async def add_team(call: ApiCall[TeamIn, None]) -> TeamOut:
    team = await process_of(call.request.app).routing.add_team(actor_of(call.principal), call.body.name, call.body.title)
    return TeamOut.of(team)


@routes.post("/api/teams/{team}/members/{login}", roles=ADMIN, body=MemberIn, response=MemberOut,
             tag="workorders", summary="Add or change a team member (skills, lead, e-mail notices)",
             errors=(404,), invalid_code="bad_member")
async def set_member(call: ApiCall[MemberIn, None]) -> MemberOut:
    m = call.request.match_info
    member = await process_of(call.request.app).routing.set_member(
        actor_of(call.principal), m["team"], m["login"], skills=call.body.skills, lead=call.body.lead,
        notify_email=call.body.notify_email,
    )
    return MemberOut.of(member)


@routes.get(f"/api/workorders/{CASE}", roles=ALL_ROLES, response=WorkOrderOut, tag="workorders",
            summary="A case's work order: team, assignee, messages to the customer, score", errors=(404,))
async def get_work_order(call: ApiCall[None, None]) -> WorkOrderOut:
    number = call.request.match_info["number"]
    process = process_of(call.request.app)
    await check_case_access(process, call.principal, number)
    case = await process.cases.get_case(number)
    routing = await process.routing.routing(number)
    score = await process.outreach.score(number)
    return WorkOrderOut(
        case=number, status=case.status, routing=None if routing is None else RoutingOut.of(routing),
        messages=[MessageOut.of(m, call.principal) for m in await process.outreach.messages(number)],
        score=None if score is None else score[0], score_channel=None if score is None else score[1],
    )


@routes.post(f"/api/workorders/{CASE}/route", roles=STAFF, response=RoutingOut, tag="workorders",
             summary="Apply the routing rules to a case now", errors=(404, 409))
async def route_case(call: ApiCall[None, None]) -> RoutingOut:
    number = call.request.match_info["number"]
    view = await process_of(call.request.app).route(number)
    if view is None:
        raise ApiError(409, "no_rule", "no routing rule names a team for this case", case=number)
    return RoutingOut.of(view)


@routes.post(f"/api/workorders/{CASE}/reassign", roles=STAFF, body=ReassignIn, response=RoutingOut,
             tag="workorders", summary="Reassign a case to a team member (audited)", errors=(404,),
             invalid_code="bad_reassign")
async def reassign_case(call: ApiCall[ReassignIn, None]) -> RoutingOut:
    number = call.request.match_info["number"]
    view = await process_of(call.request.app).reassign(actor_of(call.principal), number, call.body.login, call.body.team)
    call.request.app[WEB_KEY].live.case_changed(number, (await call.request.app[STORE_KEY].cases.get_case(number)).status,
                                        view.assignee_agent_id)
    return RoutingOut.of(view)


@routes.post(f"/api/workorders/{CASE}/status", roles=ALL_ROLES, body=StatusIn, response=StatusOut,
             tag="workorders", summary="Move a case (resolve...); the customer is told as the rules say",
             errors=(404, 409), invalid_code="bad_status")
async def change_status(call: ApiCall[StatusIn, None]) -> StatusOut:
    number = call.request.match_info["number"]
    process = process_of(call.request.app)
    await check_case_access(process, call.principal, number)
    case = await process.cases.set_status(number, call.body.status)
    await call.request.app[WEB_KEY].accounts.repo.record(
        actor_of(call.principal), "case.status", f"case:{number}", after={"status": case.status},
    )
    call.request.app[WEB_KEY].live.case_changed(number, case.status, case.assigned_agent)
    outcome = await process.status_changed(number, case.status)
    return StatusOut(case=number, status=case.status, customer=outcome.result)


@routes.get("/api/follow-ups", roles=ALL_ROLES, response=TasksOut, tag="workorders",
            summary="Follow-up call tasks due now (agents: open ones and their own)")
async def list_follow_ups(call: ApiCall[None, None]) -> TasksOut:
    process = process_of(call.request.app)
    who = call.principal
    tasks = await process.outreach.follow_ups(
        due_by=process.clock(), taken_by=who.user_id if who.role is Role.AGENT else None,
    )
    return TasksOut(tasks=[TaskOut.of(t, who) for t in tasks])


@routes.post("/api/follow-ups/{task_id}/take", roles=frozenset({Role.AGENT}), response=TaskOut,
             tag="workorders", summary="Take a follow-up call task", errors=(404,))
async def take_follow_up(call: ApiCall[None, None]) -> TaskOut:
    task = await process_of(call.request.app).take_follow_up(
        actor_of(call.principal), task_id_of(call), call.principal.agent_id)
    return TaskOut.of(task, call.principal)


@routes.post("/api/follow-ups/{task_id}/outcome", roles=frozenset({Role.AGENT}), body=OutcomeIn,
             response=TaskOut, tag="workorders", summary="Record the outcome of a follow-up call", errors=(404,),
             invalid_code="bad_outcome")
async def finish_follow_up(call: ApiCall[OutcomeIn, None]) -> TaskOut:
    task = await process_of(call.request.app).outreach.finish_follow_up(
        actor_of(call.principal), task_id_of(call), call.body.outcome)
    return TaskOut.of(task, call.principal)


@routes.post("/api/message-templates", roles=ADMIN, body=TemplateIn, response=TemplateOut, tag="workorders",
             summary="Save a new version of a customer message template", invalid_code="bad_template")
async def save_template(call: ApiCall[TemplateIn, None]) -> TemplateOut:
    b = call.body
    version = await process_of(call.request.app).outreach.save_template(
        actor_of(call.principal), b.event, b.channel, b.language, b.body)
    return TemplateOut(event=b.event, channel=b.channel, language=b.language, version=version, body=b.body)
