"""The case service of the web room: who may see and do what with cases and calls, the
masked views sent to each role, and the live `case_changed` event after every change.

Masking (docs/configuration.md, roles): admins see personal data; supervisors see callers,
names, ID numbers and the IVR's inputs masked; an agent sees them in the clear only on their
own current call (the screen pop), masked everywhere else. Free text (subjects, notes) is
masked for everyone but admins (`mask_text`). Recordings: admins and supervisors hear them.

Agents may change a case assigned to them or opened from one of their calls; assigning is
for staff. Other services (teams, work orders) add their own routes beside these and call
`CaseService` for the case itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from casestore.casework import CaseWork
from casestore.casework_views import (
    CallFilter,
    CaseFilter,
    CaseSummary,
    CaseTimeline,
    TimelineCall,
)
from casestore.errors import IllegalCaseTransition
from casestore.views import CallView, CaseView, CustomerView
from casestore.workflow import CASE_TRANSITIONS, CaseStatus
from hotline.privacy import mask_id, mask_name, mask_phone, mask_text
from hotline.roles import STAFF, Principal, Role
from hotline.web.accounts.service import actor_of
from hotline.web.base.errors import ApiError
from hotline.web.base.keys import ACD_KEY, STORE_KEY, WEB_KEY
from hotline.web.cases.schemas import (
    CallDetail,
    CallOut,
    CallQuery,
    CaseDetail,
    CaseOut,
    CaseQuery,
    CustomerOut,
    IvrStepOut,
    NoteOut,
    RecordingLink,
    StatusChangeOut,
)
from hotline.web.cases.settings import DESK_KEY, DeskSettings


@dataclass(frozen=True)
class Viewer:
    """What one principal sees: `clear` means personal data unmasked."""

    who: Principal
    clear: bool = False

    @classmethod
    def of(cls, who: Principal, *, own_call: bool = False) -> Viewer:
        return cls(who, who.sees_personal_data or (own_call and who.role is Role.AGENT))

    @property
    def hears_recordings(self) -> bool:
        return self.who.role in STAFF

    def phone(self, value: str | None) -> str:
        return (value if self.clear else mask_phone(value)) if value else ""

    def name(self, value: str | None) -> str:
        return (value if self.clear else mask_name(value)) if value else ""

    def ident(self, value: str | None) -> str:
        return (value if self.clear else mask_id(value)) if value else ""

    def text(self, value: str | None) -> str:
        return (value if self.who.sees_personal_data else mask_text(value)) if value else ""


def customer_out(v: Viewer, c: CustomerView) -> CustomerOut:
    return CustomerOut(phone=v.phone(c.phone), name=v.name(c.name), tier=c.tier or "",
                       language=c.language or "", id_number=v.ident(c.id_number))


def case_out(v: Viewer, case: CaseView, now: float, *, phone: str | None = None, tier: str | None = None,
             cls: type[CaseOut] = CaseOut, **extra: object) -> CaseOut:
    active = case.status in (CaseStatus.OPEN, CaseStatus.IN_PROGRESS)
    return cls(
        number=case.number, category=case.category, priority=case.priority, status=case.status,
        subject=v.text(case.subject), opened_at=case.opened_at, due_at=case.due_at,
        updated_at=case.updated_at, resolved_at=case.resolved_at, closed_at=case.closed_at,
        resolution_code=case.resolution_code, assigned_agent=case.assigned_agent,
        origin_call_id=case.origin_call_id, overdue=active and case.due_at < now,
        due_in=case.due_at - now, customer_phone=v.phone(phone), customer_tier=tier or "", **extra,
    )


def summary_out(v: Viewer, s: CaseSummary, now: float) -> CaseOut:
    return case_out(v, s.case, now, phone=s.customer_phone, tier=s.customer_tier)


def call_out(v: Viewer, c: CallView, case_number: str | None) -> CallOut:
    return CallOut(**_call_fields(v, c), case_number=case_number)


def _call_fields(v: Viewer, c: CallView) -> dict[str, object]:
    return dict(
        id=c.id, caller=v.phone(c.caller), queue=c.queue or "", agent_id=c.agent_id or "",
        language=c.language or "", tier=c.tier or "", started_at=c.started_at, answered_at=c.answered_at,
        ended_at=c.ended_at, wait_seconds=c.wait_seconds, talk_seconds=c.talk_seconds,
        outcome=c.outcome or "", disposition=c.disposition or "", direction=c.direction,
    )


def call_detail(v: Viewer, t: TimelineCall, case_number: str | None) -> CallDetail:
    return CallDetail(
        **_call_fields(v, t.call), case_number=case_number,
        ivr_path=[IvrStepOut(at=s.at, node=s.node, kind=s.kind,
                             input=v.ident(s.input) if s.kind in ("dtmf", "speech") else s.input)
                  for s in t.ivr_path],
        collected={node: v.ident(value) for node, value in t.collected().items()},
        recordings=[RecordingLink(id=r.id, format=r.format, duration=r.duration,
                                 url=f"/api/recordings/{r.id}/audio" if v.hears_recordings else "")
                    for r in t.recordings],
    )


def case_detail(v: Viewer, t: CaseTimeline, now: float) -> CaseDetail:
    phone = t.customer.phone if t.customer else None
    return case_out(  # type: ignore[return-value]
        v, t.case, now, phone=phone, tier=t.customer.tier if t.customer else None, cls=CaseDetail,
        customer=customer_out(v, t.customer) if t.customer else None,
        notes=[NoteOut(author=n.author, at=n.at, body=v.text(n.body)) for n in t.case.notes],
        calls=[call_detail(v, c, t.case.number) for c in t.calls],
        changes=[StatusChangeOut(at=c.at, actor=c.actor, from_status=c.from_status, to_status=c.to_status,
                                 resolution_code=c.resolution_code) for c in t.changes],
        transitions=sorted(s.value for s in CASE_TRANSITIONS[CaseStatus(t.case.status)]),
    )


def case_filter(q: CaseQuery, who: Principal) -> CaseFilter:
    unassigned = q.assignee == "none"
    return CaseFilter(
        status=tuple(q.status.split(",")) if q.status else (), category=q.category or None, priority=q.priority, overdue=q.overdue,
        assignee=None if unassigned else (q.assignee or None), unassigned=unassigned,
        phone=q.phone or None, number=q.number or None, text=q.q or None, limit=q.limit,
    )


def call_filter(q: CallQuery, who: Principal) -> CallFilter:
    agent = who.agent_id if who.role is Role.AGENT else (q.agent or None)  # agents: their own calls
    return CallFilter(phone=q.phone or None, since=q.since, until=q.until, queue=q.queue or None,
                      agent=agent, outcome=q.outcome or None, limit=q.limit)


class CaseService:
    """Case changes for one request: checks, the store's unit of work, the live event."""

    def __init__(self, request: web.Request, who: Principal) -> None:
        self.request = request
        self.who = who
        self.work: CaseWork = request.app[STORE_KEY].casework
        self.desk: DeskSettings = request.app[DESK_KEY]
        self.viewer = Viewer.of(who)

    @property
    def now(self) -> float:
        return self.work.clock()

    async def may_change(self, number: str) -> CaseTimeline:
        timeline = await self.work.timeline(number)
        if self.who.role is Role.AGENT:
            case = timeline.case
            own = case.assigned_agent == self.who.agent_id or any(
                c.call.agent_id == self.who.agent_id for c in timeline.calls
            )
            if not own:
                raise ApiError(403, "forbidden", "agents may change only their cases and the cases of their calls")
        return timeline

    def check_category(self, category: str | None) -> None:
        if category is not None and category not in self.desk.categories:
            raise ApiError(400, "unknown_category", f"category {category!r} is not one of {list(self.desk.categories)}")

    async def open(self, category: str, priority: str, subject: str, call_id: str | None) -> CaseView:
        self.check_category(category)
        if call_id is not None and self.who.role is Role.AGENT:
            detail, _ = await self.work.call(call_id)
            if detail.call.agent_id != self.who.agent_id:
                raise ApiError(403, "forbidden", "agents may open cases only for their own calls")
        case = await self.work.open_case(
            actor_of(self.who), category=category, priority=priority, subject=subject or None, call_id=call_id,
            assigned_agent=self.who.agent_id or None if self.who.role is Role.AGENT else None,
        )
        return self._changed(case)

    async def update(self, number: str, category: str | None, priority: str | None, subject: str | None) -> CaseView:
        self.check_category(category)
        await self.may_change(number)
        return self._changed(await self.work.update_case(
            actor_of(self.who), number, category=category, priority=priority, subject=subject,
        ))

    async def assign(self, number: str, agent_id: str | None) -> CaseView:
        if agent_id is not None and agent_id not in self.request.app[ACD_KEY].agents:
            raise ApiError(400, "unknown_agent", f"no agent {agent_id!r}")
        return self._changed(await self.work.assign(actor_of(self.who), number, agent_id))

    async def note(self, number: str, body: str) -> None:
        timeline = await self.may_change(number)
        await self.work.add_note(actor_of(self.who), number, body)
        self._changed(timeline.case)

    async def status(self, number: str, status: str, resolution_code: str | None) -> CaseView:
        await self.may_change(number)
        if status == CaseStatus.RESOLVED:
            if not resolution_code:
                raise ApiError(400, "resolution_code_needed", "resolving a case needs a resolution code")
            if resolution_code not in self.desk.resolution_codes:
                raise ApiError(400, "unknown_resolution_code",
                               f"resolution code {resolution_code!r} is not one of {list(self.desk.resolution_codes)}")
        try:
            case = await self.work.change_status(actor_of(self.who), number, status, resolution_code=resolution_code)
        except IllegalCaseTransition as exc:
            raise ApiError(409, "illegal_transition", str(exc), wanted=status) from exc
        return self._changed(case)

    def _changed(self, case: CaseView) -> CaseView:
        self.request.app[WEB_KEY].live.case_changed(case.number, case.status, case.assigned_agent)
        return case
