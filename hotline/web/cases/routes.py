"""The cases API: list with filters and search, one case with its timeline, open, update,
assign, note, move along the workflow (resolve with a code, reopen); the supervisors' view
of overdue and unassigned cases. Every change is audited in its transaction."""

from __future__ import annotations

from hotline.roles import ALL_ROLES, STAFF
from hotline.web.agents.schemas import Done
from hotline.web.base.api import ApiCall, ApiRegistry
from hotline.web.base.keys import STORE_KEY
from hotline.web.cases.schemas import (
    AssignIn,
    Attention,
    CaseDetail,
    CaseIn,
    CaseList,
    CaseOut,
    CaseQuery,
    CaseUpdate,
    NoteIn,
    StatusIn,
)
from hotline.web.cases.service import (
    CaseService,
    Viewer,
    case_detail,
    case_filter,
    case_out,
    summary_out,
)

routes = ApiRegistry()


@routes.get(
    "/api/cases", roles=ALL_ROLES, query=CaseQuery, response=CaseList, tag="cases",
    summary="Cases by status, category, priority, overdue, assignee, phone, number; search",
)
async def list_cases(call: ApiCall[None, CaseQuery]) -> CaseList:
    work = call.request.app[STORE_KEY].casework
    viewer, now = Viewer.of(call.principal), work.clock()
    rows = await work.cases(case_filter(call.query, call.principal))
    return CaseList(cases=[summary_out(viewer, r, now) for r in rows])


@routes.get(
    "/api/cases/attention", roles=STAFF, response=Attention, tag="cases",
    summary="Across the hotline: active cases past their SLA and active cases nobody owns",
)
async def attention(call: ApiCall[None, None]) -> Attention:
    work = call.request.app[STORE_KEY].casework
    viewer, now = Viewer.of(call.principal), work.clock()
    overdue, unassigned = await work.attention()
    return Attention(overdue=[summary_out(viewer, r, now) for r in overdue],
                     unassigned=[summary_out(viewer, r, now) for r in unassigned])


@routes.get(
    "/api/cases/{number}", roles=ALL_ROLES, response=CaseDetail, tag="cases", errors=(404,),
    summary="One case with its timeline: calls (IVR path, recordings), notes, status changes",
)
async def get_case(call: ApiCall[None, None]) -> CaseDetail:
    work = call.request.app[STORE_KEY].casework
    timeline = await work.timeline(call.params["number"])
    return case_detail(Viewer.of(call.principal), timeline, work.clock())


@routes.post(
    "/api/cases", roles=ALL_ROLES, body=CaseIn, response=CaseOut, status=201, tag="cases",
    summary="Open a case (for a call: agents only for their own)", errors=(403, 404),
)
async def open_case(call: ApiCall[CaseIn, None]) -> CaseOut:
    service = CaseService(call.request, call.principal)
    b = call.body
    case = await service.open(b.category, b.priority, b.subject, b.call_id)
    return case_out(service.viewer, case, service.now)


@routes.patch(
    "/api/cases/{number}", roles=ALL_ROLES, body=CaseUpdate, response=CaseOut, tag="cases",
    summary="Change category, priority (the SLA due time follows) or subject", errors=(403, 404),
)
async def update_case(call: ApiCall[CaseUpdate, None]) -> CaseOut:
    service = CaseService(call.request, call.principal)
    b = call.body
    case = await service.update(call.params["number"], b.category, b.priority, b.subject)
    return case_out(service.viewer, case, service.now)


@routes.post(
    "/api/cases/{number}/assign", roles=STAFF, body=AssignIn, response=CaseOut, tag="cases",
    summary="Give the case to an agent (null: nobody)", errors=(404,),
)
async def assign_case(call: ApiCall[AssignIn, None]) -> CaseOut:
    service = CaseService(call.request, call.principal)
    case = await service.assign(call.params["number"], call.body.agent_id)
    return case_out(service.viewer, case, service.now)


@routes.post(
    "/api/cases/{number}/notes", roles=ALL_ROLES, body=NoteIn, response=Done, status=201, tag="cases",
    summary="Add a note", errors=(403, 404),
)
async def add_note(call: ApiCall[NoteIn, None]) -> Done:
    await CaseService(call.request, call.principal).note(call.params["number"], call.body.body)
    return Done()


@routes.post(
    "/api/cases/{number}/status", roles=ALL_ROLES, body=StatusIn, response=CaseOut, tag="cases",
    summary="Move the case along the workflow: in progress, resolve (with a code), close, reopen",
    errors=(403, 404, 409),
)
async def change_status(call: ApiCall[StatusIn, None]) -> CaseOut:
    service = CaseService(call.request, call.principal)
    case = await service.status(call.params["number"], call.body.status, call.body.resolution_code)
    return case_out(service.viewer, case, service.now)
