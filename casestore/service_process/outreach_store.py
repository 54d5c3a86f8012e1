"""Telling and asking the customer, in the store: contact preferences (opt-out), templates an
admin edits (versioned), every message with its delivery status, survey invitations used once
(answers land in `survey_answers` with their channel), follow-up call tasks."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from casestore.accounts import Actor, record_audit
from casestore.dialect import insert, writing
from casestore.errors import InvalidInput, NotFound
from casestore.models import CASES, CUSTOMERS, SURVEY_ANSWERS
from casestore.repository import _Transaction
from casestore.service_process.follow_up_store import finish_taken_task
from casestore.service_process.models import (
    CONTACT_PREFERENCES,
    FOLLOW_UP_TASKS,
    MESSAGE_TEMPLATES,
    SERVICE_MESSAGES,
    SURVEY_INVITATIONS,
)
from casestore.service_process.survey_links import BadSurveyLink

SURVEY_QUESTION = "service"


def survey_call_id(case_number: str) -> str:
    """The `survey_answers.call_id` of a case's after-service survey."""
    return f"case:{case_number}"


@dataclass(frozen=True, slots=True)
class Contact:
    case_id: int
    case_number: str
    category: str
    phone: str | None
    email: str | None
    channel: str | None
    language: str | None
    opted_out: bool


@dataclass(frozen=True, slots=True)
class MessageView:
    id: int
    event: str
    channel: str
    recipient: str
    language: str
    body: str
    status: str
    provider_id: str | None
    error: str | None
    created_at: float
    due_by: float
    sent_at: float | None


@dataclass(frozen=True, slots=True)
class TaskView:
    id: int
    case_number: str
    due_at: float
    status: str
    taken_by: int | None
    outcome: str | None
    phone: str | None


class OutreachRepository:
    def __init__(self, engine: AsyncEngine, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock

    async def set_contact(
        self, actor: Actor, phone: str, *, email: str | None = None, channel: str | None = None,
        opted_out: bool = False,
    ) -> None:
        now = self.clock()
        async with _Transaction(writing(self.engine)) as conn:
            cid = (await conn.execute(select(CUSTOMERS.c.id).where(CUSTOMERS.c.phone == phone))).scalar()
            if cid is None:
                raise NotFound("no such customer")
            values = {"email": email, "channel": channel, "opted_out": opted_out, "updated_at": now}
            stmt = insert(conn.dialect.name, CONTACT_PREFERENCES).values(customer_id=cid, **values)
            stmt = stmt.on_conflict_do_update(index_elements=[CONTACT_PREFERENCES.c.customer_id], set_=values)
            await conn.execute(stmt)
            await record_audit(conn, actor, "customer.contact", f"customer:{cid}", at=now,
                               after={"channel": channel, "opted_out": opted_out, "email": bool(email)})

    async def contact(self, number: str) -> Contact:
        async with _Transaction(writing(self.engine)) as conn:
            row = (
                await conn.execute(
                    select(
                        CASES.c.id, CASES.c.number, CASES.c.category, CUSTOMERS.c.phone, CONTACT_PREFERENCES.c.email,
                        CONTACT_PREFERENCES.c.channel, CUSTOMERS.c.language, CONTACT_PREFERENCES.c.opted_out,
                    )
                    .select_from(
                        CASES.outerjoin(CUSTOMERS, CUSTOMERS.c.id == CASES.c.customer_id)
                        .outerjoin(CONTACT_PREFERENCES, CONTACT_PREFERENCES.c.customer_id == CUSTOMERS.c.id)
                    )
                    .where(CASES.c.number == number)
                )
            ).first()
        if row is None:
            raise NotFound(f"no case {number}")
        return Contact(row[0], row[1], row[2], row[3], row[4], row[5], row[6], bool(row[7]))

    # --- templates --------------------------------------------------------------------

    async def save_template(self, actor: Actor, event: str, channel: str, language: str, body: str) -> int:
        """A new version of the template; returns its version number."""
        now = self.clock()
        t = MESSAGE_TEMPLATES.c
        async with _Transaction(writing(self.engine)) as conn:
            last = (
                await conn.execute(
                    select(func.max(t.version)).where(t.event == event, t.channel == channel, t.language == language)
                )
            ).scalar()
            version = int(last or 0) + 1
            await conn.execute(MESSAGE_TEMPLATES.insert().values(
                event=event, channel=channel, language=language, version=version, body=body,
                author=actor.login, created_at=now,
            ))
            await record_audit(conn, actor, "template.save", f"template:{event}/{channel}/{language}", at=now,
                               after={"version": version, "body": body})
        return version

    async def template(self, event: str, channel: str, language: str) -> tuple[int, str] | None:
        """The newest version of the template, or None."""
        t = MESSAGE_TEMPLATES.c
        async with _Transaction(writing(self.engine)) as conn:
            row = (
                await conn.execute(
                    select(t.version, t.body).where(t.event == event, t.channel == channel, t.language == language)
                    .order_by(t.version.desc()).limit(1)
                )
            ).first()
        return None if row is None else (int(row[0]), str(row[1]))

    # --- messages ---------------------------------------------------------------------

    async def add_message(
        self, case_id: int, *, event: str, channel: str, recipient: str, language: str, body: str, due_by: float,
    ) -> int:
        async with _Transaction(writing(self.engine)) as conn:
            result = await conn.execute(SERVICE_MESSAGES.insert().values(
                case_id=case_id, event=event, channel=channel, recipient=recipient, language=language, body=body,
                status="queued", created_at=self.clock(), due_by=due_by,
            ).returning(SERVICE_MESSAGES.c.id))
            return int(result.scalar_one())

    async def mark_message(
        self, message_id: int, status: str, *, provider_id: str | None = None, error: str | None = None,
    ) -> None:
        values: dict[str, object] = {"status": status, "error": error}
        if provider_id is not None:
            values["provider_id"] = provider_id
        if status == "sent":
            values["sent_at"] = self.clock()
        async with _Transaction(writing(self.engine)) as conn:
            await conn.execute(update(SERVICE_MESSAGES).where(SERVICE_MESSAGES.c.id == message_id).values(**values))

    async def failed_due(self, now: float, limit: int = 100) -> list[MessageView]:
        """Failed messages whose due time has not passed yet (sent again by the round)."""
        m = SERVICE_MESSAGES.c
        async with _Transaction(writing(self.engine)) as conn:
            rows = (
                await conn.execute(
                    select(m.id, m.event, m.channel, m.recipient, m.language, m.body, m.status, m.provider_id,
                           m.error, m.created_at, m.due_by, m.sent_at)
                    .where(m.status == "failed", m.due_by > now).order_by(m.id).limit(limit)
                )
            ).all()
        return [MessageView(*r) for r in rows]  # type: ignore[call-arg]

    async def case_number_of_message(self, message_id: int) -> str:
        m = SERVICE_MESSAGES.c
        async with _Transaction(self.engine) as conn:
            return str((await conn.execute(
                select(CASES.c.number).select_from(SERVICE_MESSAGES.join(CASES, CASES.c.id == m.case_id))
                .where(m.id == message_id)
            )).scalar_one())

    async def delivery_status(self, provider_id: str, status: str) -> bool:
        """A provider's status callback (Twilio MessageStatus); False for an unknown message."""
        async with _Transaction(writing(self.engine)) as conn:
            result = await conn.execute(
                update(SERVICE_MESSAGES).where(SERVICE_MESSAGES.c.provider_id == provider_id).values(status=status)
            )
        return bool(result.rowcount)

    async def messages(self, number: str) -> list[MessageView]:
        m = SERVICE_MESSAGES.c
        async with _Transaction(writing(self.engine)) as conn:
            rows = (
                await conn.execute(
                    select(m.id, m.event, m.channel, m.recipient, m.language, m.body, m.status, m.provider_id,
                           m.error, m.created_at, m.due_by, m.sent_at)
                    .select_from(SERVICE_MESSAGES.join(CASES, CASES.c.id == m.case_id))
                    .where(CASES.c.number == number).order_by(m.id)
                )
            ).all()
        return [MessageView(*r) for r in rows]  # type: ignore[call-arg]

    # --- surveys ----------------------------------------------------------------------

    async def add_invitation(
        self, case_id: int, nonce: str, *, channel: str, recipient: str | None, expires_at: float,
    ) -> None:
        async with _Transaction(writing(self.engine)) as conn:
            await conn.execute(SURVEY_INVITATIONS.insert().values(
                nonce=nonce, case_id=case_id, channel=channel, recipient=recipient, created_at=self.clock(),
                expires_at=expires_at,
            ))

    async def invitation_case(self, nonce: str) -> str:
        """The case number of an unused, unexpired invitation (else BadSurveyLink)."""
        s = SURVEY_INVITATIONS.c
        async with _Transaction(writing(self.engine)) as conn:
            row = (
                await conn.execute(
                    select(CASES.c.number, s.used_at, s.expires_at)
                    .select_from(SURVEY_INVITATIONS.join(CASES, CASES.c.id == s.case_id)).where(s.nonce == nonce)
                )
            ).first()
        if row is None:
            raise BadSurveyLink("unknown")
        if row.used_at is not None:
            raise BadSurveyLink("used")
        if self.clock() >= row.expires_at:
            raise BadSurveyLink("expired")
        return str(row.number)

    async def answer(self, nonce: str, score: int, channel: str) -> str:
        """Use the invitation once and record the score; returns the case number."""
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise InvalidInput(f"survey score must be an integer 1-5, not {score!r}")
        now = self.clock()
        s = SURVEY_INVITATIONS.c
        async with _Transaction(writing(self.engine)) as conn:
            used = await conn.execute(
                update(SURVEY_INVITATIONS)
                .where(s.nonce == nonce, s.used_at.is_(None), s.expires_at > now).values(used_at=now)
            )
            if not used.rowcount:
                raise BadSurveyLink("used")
            number = (
                await conn.execute(
                    select(CASES.c.number).select_from(SURVEY_INVITATIONS.join(CASES, CASES.c.id == s.case_id))
                    .where(s.nonce == nonce)
                )
            ).scalar_one()
            stmt = insert(conn.dialect.name, SURVEY_ANSWERS).values(
                call_id=survey_call_id(number), question=SURVEY_QUESTION, score=score, at=now, channel=channel,
            )
            stmt = stmt.on_conflict_do_update(
                index_elements=[SURVEY_ANSWERS.c.call_id, SURVEY_ANSWERS.c.question],
                set_={"score": score, "at": now, "channel": channel},
            )
            await conn.execute(stmt)
        return str(number)

    async def open_sms_invitation(self, phone: str) -> str | None:
        """The newest unused, unexpired SMS invitation sent to this number (for a reply)."""
        s = SURVEY_INVITATIONS.c
        async with _Transaction(writing(self.engine)) as conn:
            return (
                await conn.execute(
                    select(s.nonce).where(
                        s.recipient == phone, s.channel == "sms", s.used_at.is_(None), s.expires_at > self.clock()
                    ).order_by(s.created_at.desc()).limit(1)
                )
            ).scalar()

    async def score(self, number: str) -> tuple[int, str] | None:
        """The case's after-service score and its channel."""
        a = SURVEY_ANSWERS.c
        async with _Transaction(writing(self.engine)) as conn:
            row = (
                await conn.execute(
                    select(a.score, a.channel).where(a.call_id == survey_call_id(number), a.question == SURVEY_QUESTION)
                )
            ).first()
        return None if row is None else (int(row[0]), str(row[1]))

    # --- follow-up calls --------------------------------------------------------------

    async def add_follow_up(self, case_id: int, due_at: float) -> int:
        async with _Transaction(writing(self.engine)) as conn:
            result = await conn.execute(FOLLOW_UP_TASKS.insert().values(
                case_id=case_id, due_at=due_at, status="open", created_at=self.clock(),
            ).returning(FOLLOW_UP_TASKS.c.id))
            return int(result.scalar_one())

    async def follow_ups(self, *, due_by: float | None = None, taken_by: int | None = None) -> list[TaskView]:
        f = FOLLOW_UP_TASKS.c
        stmt = (
            select(f.id, CASES.c.number, f.due_at, f.status, f.taken_by, f.outcome, CUSTOMERS.c.phone)
            .select_from(
                FOLLOW_UP_TASKS.join(CASES, CASES.c.id == f.case_id)
                .outerjoin(CUSTOMERS, CUSTOMERS.c.id == CASES.c.customer_id)
            )
            .where(f.status != "done").order_by(f.due_at, f.id)
        )
        if due_by is not None:
            stmt = stmt.where(f.due_at <= due_by)
        if taken_by is not None:
            stmt = stmt.where((f.taken_by == taken_by) | (f.status == "open"))
        async with _Transaction(writing(self.engine)) as conn:
            return [TaskView(*r) for r in (await conn.execute(stmt)).all()]

    async def take_follow_up(self, actor: Actor, task_id: int) -> TaskView:
        now = self.clock()
        f = FOLLOW_UP_TASKS.c
        async with _Transaction(writing(self.engine)) as conn:
            taken = await conn.execute(
                update(FOLLOW_UP_TASKS).where(f.id == task_id, f.status == "open").values(status="taken", taken_by=actor.user_id)
            )
            if not taken.rowcount:
                raise InvalidInput(f"task {task_id} is not open")
            await record_audit(conn, actor, "follow_up.take", f"task:{task_id}", at=now)
        return await self._task(task_id)

    async def finish_follow_up(self, actor: Actor, task_id: int, outcome: str) -> TaskView:
        now = self.clock()
        async with _Transaction(writing(self.engine)) as conn:
            await finish_taken_task(conn, actor, task_id, outcome, now)
            await record_audit(conn, actor, "follow_up.done", f"task:{task_id}", at=now, after={"outcome": outcome})
        return await self._task(task_id)

    async def _task(self, task_id: int) -> TaskView:
        f = FOLLOW_UP_TASKS.c
        async with _Transaction(writing(self.engine)) as conn:
            row = (
                await conn.execute(
                    select(f.id, CASES.c.number, f.due_at, f.status, f.taken_by, f.outcome, CUSTOMERS.c.phone)
                    .select_from(
                        FOLLOW_UP_TASKS.join(CASES, CASES.c.id == f.case_id)
                        .outerjoin(CUSTOMERS, CUSTOMERS.c.id == CASES.c.customer_id)
                    )
                    .where(f.id == task_id)
                )
            ).first()
        if row is None:
            raise NotFound(f"no task {task_id}")
        return TaskView(*row)
