"""Case work: what people do with cases and calls in the pages and the API.

Lists with filters (cases, calls), a case's timeline (its calls with their IVR path and
recordings, notes, status changes), and the changes people make (open, reclassify, assign,
note, move along the workflow, resolve with a code). Each change is one transaction with
its audit entry (`record_audit`) and, for status moves, a row of `case_status_changes`.
Other services (teams, work orders) extend cases by adding their own methods beside these;
the read models are the plain views of `casestore.views` and `casestore.casework_views`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from casestore.accounts import Actor, record_audit
from casestore.casework_views import (
    CallFilter,
    CallSummary,
    CaseFilter,
    CaseSummary,
    CaseTimeline,
    RecordingView,
    StatusChangeView,
    TimelineCall,
)
from casestore.dialect import writing
from casestore.errors import InvalidInput, NotFound, StoreUnavailable
from casestore.models import (
    CALLS,
    CASE_NOTES,
    CASE_STATUS_CHANGES,
    CASES,
    CUSTOMERS,
    IVR_STEPS,
    RECORDINGS,
)
from casestore.repository import (
    _case_view,
    _customer_view,
    _Transaction,
    allocate_case_numbers,
    ensure_customers,
    normalize_phone,
    year_of,
)
from casestore.sla import PRIORITIES, SlaPolicy
from casestore.views import CallView, CaseView, IvrStepView, NoteView
from casestore.workflow import ACTIVE_STATUSES, CaseStatus, check_case_transition
from hotline.encryption import FieldCipher

HISTORY = CASE_STATUS_CHANGES
_ACTIVE = [s.value for s in ACTIVE_STATUSES]


def _summary(row: Row[Any], now: float) -> CaseSummary:
    m = row._mapping
    case = _case_view(row)
    return CaseSummary(case, m["customer_phone"], m["customer_name"], m["customer_tier"],
                       case.status in _ACTIVE and case.due_at < now)


def _call_summary(row: Row[Any]) -> CallSummary:
    m = dict(row._mapping)
    number = m.pop("case_number")
    return CallSummary(CallView(**m), number)


class CaseWork:
    def __init__(
        self, engine: AsyncEngine, sla: SlaPolicy, clock: Callable[[], float] = time.time,
        cipher: FieldCipher | None = None,
    ) -> None:
        self.engine = engine
        self.sla = sla
        self.clock = clock
        self.cipher = cipher  # personal fields encrypted at rest (docs/security.md)

    # -- lists ---------------------------------------------------------------------------

    async def cases(self, f: CaseFilter) -> list[CaseSummary]:
        """Cases matching every given filter, the most urgent first (overdue, then due)."""
        now = self.clock()
        stmt = (
            select(
                CASES, CUSTOMERS.c.phone.label("customer_phone"), CUSTOMERS.c.name.label("customer_name"),
                CUSTOMERS.c.tier.label("customer_tier"),
            )
            .select_from(CASES.outerjoin(CUSTOMERS, CUSTOMERS.c.id == CASES.c.customer_id))
        )
        where: list[ColumnElement[bool]] = []
        if f.status:
            where.append(CASES.c.status.in_(f.status))
        if f.category:
            where.append(CASES.c.category == f.category)
        if f.priority:
            where.append(CASES.c.priority == f.priority)
        if f.overdue:
            where += [CASES.c.status.in_(_ACTIVE), CASES.c.due_at < now]
        if f.unassigned:
            where.append(CASES.c.assigned_agent.is_(None))
        elif f.assignee:
            where.append(CASES.c.assigned_agent == f.assignee)
        if f.phone:
            digits = normalize_phone(f.phone).lstrip("+")
            if digits:
                where.append(CUSTOMERS.c.phone.contains(digits, autoescape=True))
        if f.number:
            where.append(CASES.c.number.contains(f.number.strip().upper(), autoescape=True))
        if f.text:
            noted = select(CASE_NOTES.c.case_id).where(CASE_NOTES.c.body.icontains(f.text, autoescape=True))
            where.append(or_(
                CASES.c.subject.icontains(f.text, autoescape=True),
                CASES.c.number.icontains(f.text, autoescape=True),
                CASES.c.id.in_(noted),
            ))
        if f.active_only:
            where.append(CASES.c.status.in_(_ACTIVE))
        stmt = stmt.where(and_(true(), *where)).order_by(CASES.c.due_at, CASES.c.id).limit(f.limit)
        async with self._read() as conn:
            rows = (await conn.execute(stmt)).all()
        return [_summary(r, now) for r in rows]

    async def attention(self, limit: int = 200) -> tuple[list[CaseSummary], list[CaseSummary]]:
        """Across the hotline: active cases past their SLA, and active cases nobody owns."""
        overdue = await self.cases(CaseFilter(overdue=True, limit=limit))
        unassigned = await self.cases(CaseFilter(unassigned=True, active_only=True, limit=limit))
        return overdue, unassigned

    async def calls(self, f: CallFilter) -> list[CallSummary]:
        """Calls matching every given filter, the latest first."""
        stmt = select(CALLS, CASES.c.number.label("case_number")).select_from(
            CALLS.outerjoin(CASES, CASES.c.id == CALLS.c.case_id)
        )
        where: list[ColumnElement[bool]] = []
        if f.phone:
            digits = normalize_phone(f.phone).lstrip("+")
            if digits:
                where.append(CALLS.c.caller.contains(digits, autoescape=True))
        if f.since is not None:
            where.append(CALLS.c.started_at >= f.since)
        if f.until is not None:
            where.append(CALLS.c.started_at < f.until)
        if f.queue:
            where.append(CALLS.c.queue == f.queue)
        if f.agent:
            where.append(CALLS.c.agent_id == f.agent)
        if f.outcome:
            where.append(CALLS.c.outcome == f.outcome)
        stmt = stmt.where(and_(true(), *where)).order_by(CALLS.c.started_at.desc(), CALLS.c.id).limit(f.limit)
        async with self._read() as conn:
            rows = (await conn.execute(stmt)).all()
        return [_call_summary(r) for r in rows]

    # -- one case, one call ----------------------------------------------------------------

    async def timeline(self, number: str) -> CaseTimeline:
        async with self._read() as conn:
            row = (await conn.execute(select(CASES).where(CASES.c.number == number))).one_or_none()
            if row is None:
                raise NotFound(f"no case {number}")
            customer = None
            if row.customer_id is not None:
                c = (await conn.execute(select(CUSTOMERS).where(CUSTOMERS.c.id == row.customer_id))).one()
                customer = _customer_view(c._mapping, self.cipher)
            notes = (await conn.execute(
                select(CASE_NOTES.c.author, CASE_NOTES.c.at, CASE_NOTES.c.body)
                .where(CASE_NOTES.c.case_id == row.id).order_by(CASE_NOTES.c.at, CASE_NOTES.c.id)
            )).all()
            changes = (await conn.execute(
                select(HISTORY.c.at, HISTORY.c.actor, HISTORY.c.from_status, HISTORY.c.to_status,
                       HISTORY.c.resolution_code)
                .where(HISTORY.c.case_id == row.id).order_by(HISTORY.c.at, HISTORY.c.id)
            )).all()
            call_rows = (await conn.execute(
                select(CALLS).where(CALLS.c.case_id == row.id).order_by(CALLS.c.started_at)
            )).all()
            calls = [await _timeline_call(conn, CallView(**r._mapping)) for r in call_rows]
        return CaseTimeline(
            case=_case_view(row, [NoteView(*n) for n in notes]), customer=customer, calls=tuple(calls),
            changes=tuple(StatusChangeView(*c) for c in changes),
        )

    async def call(self, call_id: str) -> tuple[TimelineCall, str | None]:
        """A call with its IVR path and recordings, and the number of its case."""
        async with self._read() as conn:
            row = (await conn.execute(select(CALLS).where(CALLS.c.id == call_id))).one_or_none()
            if row is None:
                raise NotFound(f"no call {call_id}")
            view = CallView(**row._mapping)
            number = None
            if view.case_id is not None:
                number = (await conn.execute(
                    select(CASES.c.number).where(CASES.c.id == view.case_id)
                )).scalar_one_or_none()
            return await _timeline_call(conn, view), number

    async def case_of_call(self, call_id: str) -> CaseView | None:
        async with self._read() as conn:
            row = (await conn.execute(select(CASES).where(or_(
                CASES.c.origin_call_id == call_id,
                CASES.c.id == select(CALLS.c.case_id).where(CALLS.c.id == call_id).scalar_subquery(),
            )).order_by(CASES.c.id).limit(1))).one_or_none()
        return None if row is None else _case_view(row)

    async def recording(self, recording_id: int) -> RecordingView:
        async with self._read() as conn:
            row = (await conn.execute(select(RECORDINGS).where(RECORDINGS.c.id == recording_id))).one_or_none()
        if row is None:
            raise NotFound(f"no recording {recording_id}")
        return _recording_view(row)

    # -- changes ---------------------------------------------------------------------------

    async def open_case(
        self, actor: Actor, *, category: str, priority: str, subject: str | None = None,
        call_id: str | None = None, customer_phone: str | None = None, assigned_agent: str | None = None,
    ) -> CaseView:
        """A new case, linked to `call_id` (whose caller becomes the customer) when given."""
        _check_priority(priority)
        if not category:
            raise InvalidInput("a case needs a category")
        at = self.clock()
        async with self._write() as conn:
            if call_id is not None:
                caller = (await conn.execute(select(CALLS.c.caller).where(CALLS.c.id == call_id))).one_or_none()
                if caller is None:
                    raise NotFound(f"no call {call_id}")
                customer_phone = customer_phone or caller[0]
            customer_id = None
            if customer_phone and normalize_phone(customer_phone):
                customer_id = (await ensure_customers(conn, [(customer_phone, at)]))[customer_phone]
            (number,) = await allocate_case_numbers(conn, year_of(at), 1)
            values = {
                "number": number, "category": category, "priority": priority, "status": "open",
                "subject": subject, "opened_at": at, "due_at": self.sla.due_at(category, priority, at),
                "updated_at": at, "assigned_agent": assigned_agent, "customer_id": customer_id,
            }
            row = (await conn.execute(CASES.insert().values(**values).returning(*CASES.c))).one()
            if call_id is not None:
                await conn.execute(update(CALLS).where(CALLS.c.id == call_id).values(case_id=row.id))
            await record_audit(conn, actor, "case.open", f"case:{number}", at=at,
                               after={**_audit_fields(row), "call_id": call_id})
        return _case_view(row)

    async def update_case(
        self, actor: Actor, number: str, *, category: str | None = None, priority: str | None = None,
        subject: str | None = None,
    ) -> CaseView:
        """Change category, priority (the SLA due time follows, from the opening time), subject."""
        if priority is not None:
            _check_priority(priority)
        if category is not None and not category:
            raise InvalidInput("a case needs a category")
        async with self._write() as conn:
            row = await _case_row(conn, number)
            cat, prio = category or row.category, priority or row.priority
            values: dict[str, Any] = {"category": cat, "priority": prio, "updated_at": self.clock(),
                                      "due_at": self.sla.due_at(cat, prio, row.opened_at)}
            if subject is not None:
                values["subject"] = subject
            new = await _update(conn, row, values)
            await record_audit(conn, actor, "case.update", f"case:{number}", at=values["updated_at"],
                               before=_audit_fields(row), after=_audit_fields(new))
        return _case_view(new)

    async def assign(self, actor: Actor, number: str, agent_id: str | None) -> CaseView:
        """Give the case to an agent (None: nobody)."""
        at = self.clock()
        async with self._write() as conn:
            row = await _case_row(conn, number)
            new = await _update(conn, row, {"assigned_agent": agent_id, "updated_at": at})
            await record_audit(conn, actor, "case.assign", f"case:{number}", at=at,
                               before={"assigned_agent": row.assigned_agent}, after={"assigned_agent": agent_id})
        return _case_view(new)

    async def add_note(self, actor: Actor, number: str, body: str) -> NoteView:
        if not body.strip():
            raise InvalidInput("an empty note")
        at = self.clock()
        async with self._write() as conn:
            row = await _case_row(conn, number)
            await conn.execute(CASE_NOTES.insert().values(case_id=row.id, author=actor.login, at=at, body=body))
            await conn.execute(update(CASES).where(CASES.c.id == row.id).values(updated_at=at))
            await record_audit(conn, actor, "case.note", f"case:{number}", at=at,
                               after={"length": len(body)})
        return NoteView(actor.login, at, body)

    async def change_status(
        self, actor: Actor, number: str, status: str, *, resolution_code: str | None = None,
    ) -> CaseView:
        """Move the case along the workflow (casestore.workflow); resolving needs a code,
        reopening clears it. IllegalCaseTransition when the workflow forbids the move."""
        at = self.clock()
        async with self._write() as conn:
            row = await _case_row(conn, number)
            target = check_case_transition(number, row.status, status)
            if target is CaseStatus.RESOLVED and not resolution_code:
                raise InvalidInput("resolving a case needs a resolution code")
            values: dict[str, Any] = {"status": target.value, "updated_at": at}
            if target is CaseStatus.RESOLVED:
                values.update(resolved_at=at, resolution_code=resolution_code)
            elif target is CaseStatus.CLOSED:
                values["closed_at"] = at
            elif target is CaseStatus.OPEN:  # reopen
                values.update(resolved_at=None, closed_at=None, resolution_code=None)
            new = await _update(conn, row, values, same_status=True)
            code = resolution_code if target is CaseStatus.RESOLVED else None
            await conn.execute(HISTORY.insert().values(
                case_id=row.id, at=at, actor=actor.login, from_status=row.status, to_status=target.value,
                resolution_code=code,
            ))
            await record_audit(conn, actor, "case.status", f"case:{number}", at=at,
                               before={"status": row.status, "resolution_code": row.resolution_code},
                               after={"status": target.value, "resolution_code": new.resolution_code})
        return _case_view(new)

    # -- plumbing ------------------------------------------------------------------------

    def _write(self) -> _Transaction:
        return _Transaction(writing(self.engine))

    def _read(self) -> _Transaction:
        return _Transaction(self.engine)


def _check_priority(priority: str) -> None:
    if priority not in PRIORITIES:
        raise InvalidInput(f"priority {priority!r} is not one of {PRIORITIES}")


def _audit_fields(row: Row[Any]) -> dict[str, Any]:
    m = row._mapping
    return {k: m[k] for k in ("category", "priority", "status", "due_at", "assigned_agent")}


async def _case_row(conn: AsyncConnection, number: str) -> Row[Any]:
    row = (await conn.execute(select(CASES).where(CASES.c.number == number))).one_or_none()
    if row is None:
        raise NotFound(f"no case {number}")
    return row


async def _update(conn: AsyncConnection, row: Row[Any], values: dict[str, Any], *, same_status: bool = False) -> Row[Any]:
    stmt = update(CASES).where(CASES.c.id == row.id)
    if same_status:
        stmt = stmt.where(CASES.c.status == row.status)
    new = (await conn.execute(stmt.values(**values).returning(*CASES.c))).one_or_none()
    if new is None:  # changed by someone else between our read and write
        raise StoreUnavailable(f"case {row.number} changed concurrently; retry")
    return new


def _recording_view(row: Row[Any]) -> RecordingView:
    m = row._mapping
    return RecordingView(m["id"], m["call_id"], m["uri"], m["format"], m["duration"], m["size"], m["created_at"])


async def _timeline_call(conn: AsyncConnection, call: CallView) -> TimelineCall:
    steps = (await conn.execute(
        select(IVR_STEPS.c.at, IVR_STEPS.c.node, IVR_STEPS.c.kind, IVR_STEPS.c.input, IVR_STEPS.c.confidence)
        .where(IVR_STEPS.c.call_id == call.id).order_by(IVR_STEPS.c.at, IVR_STEPS.c.id)
    )).all()
    recordings = (await conn.execute(
        select(RECORDINGS).where(RECORDINGS.c.call_id == call.id).order_by(RECORDINGS.c.created_at)
    )).all()
    return TimelineCall(call, tuple(IvrStepView(*s) for s in steps), tuple(_recording_view(r) for r in recordings))

