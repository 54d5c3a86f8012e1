"""Case repository: cases and their workflow, notes, customers, screen-pop, surveys, overdue.

Each public method is one unit of work (one transaction). Times come in as arguments
(epoch seconds); `now` defaults to the injected clock function.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from casestore.bulk import staged_upsert, upsert_rows
from casestore.dialect import insert, writing
from casestore.errors import InvalidInput, NotFound, StoreUnavailable
from casestore.models import (
    CALLS,
    CASE_COUNTERS,
    CASE_NOTES,
    CASES,
    CUSTOMERS,
    IVR_STEPS,
    SURVEY_ANSWERS,
)
from casestore.sla import PRIORITIES, SlaPolicy
from casestore.views import CallView, CaseView, CustomerView, IvrStepView, NoteView, ScreenPop
from casestore.workflow import ACTIVE_STATUSES, CaseStatus, check_case_transition
from hotline.encryption import EncryptionError, FieldCipher, field_key_id
from hotline.phone import normalize_number
from hotline.privacy import mask_text

log = logging.getLogger("hotline.casestore")

NOTES = CASE_NOTES
COUNTERS = CASE_COUNTERS
IVR = IVR_STEPS
SURVEYS = SURVEY_ANSWERS

_CASE_COLUMNS = [c for c in CASES.c]


def case_number(year: int, value: int) -> str:
    return f"HL-{year}-{value:06d}"


def year_of(at: float) -> int:
    return time.gmtime(at).tm_year


async def allocate_case_numbers(conn: AsyncConnection, year: int, count: int) -> list[str]:
    """Hand out `count` consecutive case numbers of `year`, atomically (row lock / write lock)."""
    stmt = insert(conn.dialect.name, COUNTERS).values(year=year, value=count)
    stmt = stmt.on_conflict_do_update(
        index_elements=[COUNTERS.c.year], set_={"value": COUNTERS.c.value + count}
    ).returning(COUNTERS.c.value)
    last = (await conn.execute(stmt)).scalar_one()
    return [case_number(year, n) for n in range(last - count + 1, last + 1)]


def _case_view(row: Row[Any], notes: Sequence[NoteView] = (), calls: Sequence[str] = ()) -> CaseView:
    m = row._mapping
    return CaseView(
        id=m["id"], number=m["number"], category=m["category"], priority=m["priority"],
        status=m["status"], opened_at=m["opened_at"], due_at=m["due_at"],
        updated_at=m["updated_at"], resolved_at=m["resolved_at"], closed_at=m["closed_at"],
        assigned_agent=m["assigned_agent"], customer_id=m["customer_id"], subject=m["subject"],
        origin_call_id=m["origin_call_id"], resolution_code=m["resolution_code"], notes=tuple(notes), call_ids=tuple(calls),
    )


def _customer_view(m: Any, cipher: FieldCipher | None) -> CustomerView:
    return CustomerView(
        id=m["id"], phone=m["phone"], name=_clear(cipher, NAME_FIELD, m["name"], m["id"]),
        tier=m["tier"], language=m["language"], id_number=_clear(cipher, ID_FIELD, m["id_number"], m["id"]),
    )


def _clear(cipher: FieldCipher | None, field: str, value: str | None, customer_id: int) -> str | None:
    """A stored field in clear; one that cannot be decrypted (its key is not configured) is
    logged and read as unknown, so the call that looked the customer up goes on."""
    if value is None or field_key_id(value) is None:
        return value
    try:
        if cipher is None:
            raise EncryptionError("it is encrypted and no keys are configured (encryption: section)")
        return cipher.decrypt(field, value)
    except EncryptionError as exc:
        log.error("customer %s: cannot read %s: %s", customer_id, field, exc)
        return None


# personal fields encrypted at rest when an `encryption:` section is configured
NAME_FIELD = "customers.name"
ID_FIELD = "customers.id_number"


class CaseRepository:
    def __init__(
        self, engine: AsyncEngine, sla: SlaPolicy, clock: Callable[[], float] = time.time,
        cipher: FieldCipher | None = None,
    ) -> None:
        self.engine = engine
        self.sla = sla
        self.clock = clock
        self.cipher = cipher

    # -- customers -----------------------------------------------------------------------

    async def upsert_customer(
        self,
        phone: str,
        *,
        name: str | None = None,
        tier: str | None = None,
        language: str | None = None,
        id_number: str | None = None,
        at: float | None = None,
    ) -> CustomerView:
        phone = normalize_phone(phone)
        if not phone:
            raise InvalidInput("a customer needs a phone number")
        at = self.clock() if at is None else at
        if self.cipher is not None:
            name, id_number = self.cipher.encrypt(NAME_FIELD, name), self.cipher.encrypt(ID_FIELD, id_number)
        values = {"name": name, "tier": tier, "language": language, "id_number": id_number}
        given = {k: v for k, v in values.items() if v is not None}
        stmt = insert(self.engine, CUSTOMERS).values(phone=phone, created_at=at, last_seen_at=at, **given)
        stmt = stmt.on_conflict_do_update(
            index_elements=[CUSTOMERS.c.phone], set_={"last_seen_at": at, **given}
        ).returning(*CUSTOMERS.c)
        async with self._write() as conn:
            row = (await conn.execute(stmt)).one()
        return _customer_view(row._mapping, self.cipher)

    async def screen_pop(self, phone: str, limit: int = 5) -> ScreenPop | None:
        """The caller's customer record and most recent cases, in one query (one round trip)."""
        stmt = (
            select(CUSTOMERS, *[c.label(f"case_{c.name}") for c in _CASE_COLUMNS])
            .select_from(CUSTOMERS.outerjoin(CASES, CASES.c.customer_id == CUSTOMERS.c.id))
            .where(CUSTOMERS.c.phone == normalize_phone(phone))
            .order_by(CASES.c.opened_at.desc())
            .limit(limit)
        )
        async with self._read() as conn:
            rows = (await conn.execute(stmt)).all()
        if not rows:
            return None
        customer = _customer_view(rows[0]._mapping, self.cipher)
        cases = []
        for row in rows:
            m = row._mapping
            if m["case_id"] is None:
                continue
            cases.append(
                CaseView(**{c.name: m[f"case_{c.name}"] for c in _CASE_COLUMNS})
            )
        return ScreenPop(customer, tuple(cases))

    # -- cases ---------------------------------------------------------------------------

    async def open_case(
        self,
        category: str,
        priority: str,
        *,
        customer_phone: str | None = None,
        subject: str | None = None,
        origin_call_id: str | None = None,
        assigned_agent: str | None = None,
        at: float | None = None,
    ) -> CaseView:
        if priority not in PRIORITIES:
            raise InvalidInput(f"priority {priority!r} is not one of {PRIORITIES}")
        if not category:
            raise InvalidInput("a case needs a category")
        at = self.clock() if at is None else at
        async with self._write() as conn:
            customer_id = None
            if customer_phone and normalize_phone(customer_phone):
                customer_id = await _ensure_customer(conn, customer_phone, at)
            (number,) = await allocate_case_numbers(conn, year_of(at), 1)
            values = {
                "number": number, "category": category, "priority": priority,
                "status": CaseStatus.OPEN.value, "subject": subject, "opened_at": at,
                "due_at": self.sla.due_at(category, priority, at), "updated_at": at,
                "assigned_agent": assigned_agent, "customer_id": customer_id,
                "origin_call_id": origin_call_id,
            }
            row = (await conn.execute(CASES.insert().values(**values).returning(*CASES.c))).one()
            if origin_call_id:
                await conn.execute(
                    update(CALLS).where(CALLS.c.id == origin_call_id).values(case_id=row.id)
                )
        return _case_view(row)

    async def get_case(self, number: str) -> CaseView:
        async with self._read() as conn:
            row = (await conn.execute(select(CASES).where(CASES.c.number == number))).one_or_none()
            if row is None:
                raise NotFound(f"no case {number}")
            notes = (
                await conn.execute(
                    select(NOTES.c.author, NOTES.c.at, NOTES.c.body)
                    .where(NOTES.c.case_id == row.id)
                    .order_by(NOTES.c.at, NOTES.c.id)
                )
            ).all()
            calls = (
                await conn.execute(
                    select(CALLS.c.id).where(CALLS.c.case_id == row.id).order_by(CALLS.c.started_at)
                )
            ).scalars().all()
        return _case_view(row, [NoteView(n.author, n.at, n.body) for n in notes], calls)

    async def set_status(self, number: str, status: str, *, at: float | None = None) -> CaseView:
        """Move a case along the workflow; IllegalCaseTransition if the workflow forbids it."""
        at = self.clock() if at is None else at
        async with self._write() as conn:
            row = (await conn.execute(select(CASES).where(CASES.c.number == number))).one_or_none()
            if row is None:
                raise NotFound(f"no case {number}")
            target = check_case_transition(number, row.status, status)
            values: dict[str, Any] = {"status": target.value, "updated_at": at}
            if target is CaseStatus.RESOLVED:
                values["resolved_at"] = at
            elif target is CaseStatus.CLOSED:
                values["closed_at"] = at
            elif target is CaseStatus.OPEN:  # reopen
                values.update(resolved_at=None, closed_at=None)
            new = (
                await conn.execute(
                    update(CASES)
                    .where(CASES.c.id == row.id, CASES.c.status == row.status)
                    .values(**values)
                    .returning(*CASES.c)
                )
            ).one_or_none()
            if new is None:  # changed by someone else between our read and write (PostgreSQL)
                raise StoreUnavailable(f"case {number} changed concurrently; retry")
        return _case_view(new)

    async def reclassify(
        self, number: str, *, category: str | None = None, priority: str | None = None,
        at: float | None = None,
    ) -> CaseView:
        """Change category and/or priority; the SLA due time is recomputed from the opening time."""
        if priority is not None and priority not in PRIORITIES:
            raise InvalidInput(f"priority {priority!r} is not one of {PRIORITIES}")
        at = self.clock() if at is None else at
        async with self._write() as conn:
            row = (await conn.execute(select(CASES).where(CASES.c.number == number))).one_or_none()
            if row is None:
                raise NotFound(f"no case {number}")
            cat, prio = category or row.category, priority or row.priority
            new = (
                await conn.execute(
                    update(CASES)
                    .where(CASES.c.id == row.id)
                    .values(
                        category=cat, priority=prio, updated_at=at,
                        due_at=self.sla.due_at(cat, prio, row.opened_at),
                    )
                    .returning(*CASES.c)
                )
            ).one()
        return _case_view(new)

    async def assign(self, number: str, agent_id: str, *, at: float | None = None) -> CaseView:
        at = self.clock() if at is None else at
        async with self._write() as conn:
            row = (
                await conn.execute(
                    update(CASES)
                    .where(CASES.c.number == number)
                    .values(assigned_agent=agent_id, updated_at=at)
                    .returning(*CASES.c)
                )
            ).one_or_none()
        if row is None:
            raise NotFound(f"no case {number}")
        return _case_view(row)

    async def add_note(self, number: str, author: str, body: str, *, at: float | None = None) -> NoteView:
        if not body.strip():
            raise InvalidInput("an empty note")
        at = self.clock() if at is None else at
        async with self._write() as conn:
            case_id = (
                await conn.execute(select(CASES.c.id).where(CASES.c.number == number))
            ).scalar_one_or_none()
            if case_id is None:
                raise NotFound(f"no case {number}")
            await conn.execute(NOTES.insert().values(case_id=case_id, author=author, at=at, body=body))
            await conn.execute(update(CASES).where(CASES.c.id == case_id).values(updated_at=at))
        return NoteView(author, at, body)

    async def link_call(self, number: str, call_id: str) -> None:
        async with self._write() as conn:
            case_id = (
                await conn.execute(select(CASES.c.id).where(CASES.c.number == number))
            ).scalar_one_or_none()
            if case_id is None:
                raise NotFound(f"no case {number}")
            result = await conn.execute(update(CALLS).where(CALLS.c.id == call_id).values(case_id=case_id))
            if result.rowcount == 0:
                raise NotFound(f"no call {call_id}")

    async def overdue(self, now: float | None = None, limit: int = 1000) -> list[CaseView]:
        """Active cases (open / in progress) past their SLA due time, most overdue first."""
        now = self.clock() if now is None else now
        stmt = (
            select(CASES)
            .where(CASES.c.status.in_([s.value for s in ACTIVE_STATUSES]), CASES.c.due_at < now)
            .order_by(CASES.c.due_at)
            .limit(limit)
        )
        async with self._read() as conn:
            rows = (await conn.execute(stmt)).all()
        return [_case_view(r) for r in rows]

    # -- calls, surveys ------------------------------------------------------------------

    async def get_call(self, call_id: str) -> CallView:
        async with self._read() as conn:
            row = (await conn.execute(select(CALLS).where(CALLS.c.id == call_id))).one_or_none()
        if row is None:
            raise NotFound(f"no call {call_id}")
        return CallView(**row._mapping)

    async def ivr_path(self, call_id: str) -> list[IvrStepView]:
        stmt = (
            select(IVR.c.at, IVR.c.node, IVR.c.kind, IVR.c.input, IVR.c.confidence)
            .where(IVR.c.call_id == call_id)
            .order_by(IVR.c.at, IVR.c.id)
        )
        async with self._read() as conn:
            rows = (await conn.execute(stmt)).all()
        return [IvrStepView(*r) for r in rows]

    async def record_survey(
        self, call_id: str, question: str, score: int, *, at: float | None = None
    ) -> None:
        """A 1-5 answer to one survey question about a call (answering again replaces it)."""
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise InvalidInput(f"survey score must be an integer 1-5, not {score!r}")
        at = self.clock() if at is None else at
        stmt = insert(self.engine, SURVEYS).values(call_id=call_id, question=question, score=score, at=at)
        stmt = stmt.on_conflict_do_update(
            index_elements=[SURVEYS.c.call_id, SURVEYS.c.question], set_={"score": score, "at": at}
        )
        async with self._write() as conn:
            await conn.execute(stmt)

    async def survey(self, call_id: str) -> dict[str, int]:
        async with self._read() as conn:
            rows = (
                await conn.execute(
                    select(SURVEYS.c.question, SURVEYS.c.score).where(SURVEYS.c.call_id == call_id)
                )
            ).all()
        return {q: s for q, s in rows}

    async def count(self, table: str) -> int:
        tables = {
            "calls": CALLS, "cases": CASES, "customers": CUSTOMERS, "ivr_steps": IVR,
            "case_notes": NOTES,
        }
        async with self._read() as conn:
            return int((await conn.execute(select(func.count()).select_from(tables[table]))).scalar_one())

    # -- plumbing ------------------------------------------------------------------------

    def _write(self) -> _Transaction:
        return _Transaction(writing(self.engine))

    def _read(self) -> _Transaction:
        return _Transaction(self.engine)


def _later(dialect: str, new: Any, old: Any) -> Any:
    return func.max(new, old) if dialect == "sqlite" else func.greatest(new, old)


async def _ensure_customer(conn: AsyncConnection, phone: str, at: float) -> int:
    ids = await ensure_customers(conn, [(phone, at)])
    return ids[phone]


_PG_UPSERT_CUSTOMERS = staged_upsert(
    CUSTOMERS, "phone", {"last_seen_at": "greatest(excluded.last_seen_at, t.last_seen_at)"},
    returning="phone, id", columns=["phone", "created_at", "last_seen_at"],
)


def normalize_phone(phone: str) -> str:
    """The lookup key of a phone number: E.164 (`hotline.phone`), so '010-1234-5678',
    '+82 10-1234-5678' and 'sip:+821012345678@host' are one customer."""
    return normalize_number(phone)


async def ensure_customers(conn: AsyncConnection, phones: Iterable[tuple[str, float]]) -> dict[str, int]:
    """Customer ids for many phone numbers (keyed as given), creating the missing customers
    and moving `last_seen_at` forward: one upsert and one select."""
    latest: dict[str, float] = {}
    keys: dict[str, str] = {}
    for raw, at in phones:
        phone = keys[raw] = normalize_phone(raw)
        if phone:
            latest[phone] = max(at, latest.get(phone, at))
    if not latest:
        return {}
    rows = [{"phone": p, "created_at": at, "last_seen_at": at} for p, at in sorted(latest.items())]
    dialect = conn.dialect.name
    if dialect == "postgresql":  # one statement: the ids come back with the upsert
        upserted: dict[str, int] = dict(await upsert_rows(conn, _PG_UPSERT_CUSTOMERS, rows))
        return {raw: upserted[phone] for raw, phone in keys.items() if phone in upserted}
    stmt = insert(dialect, CUSTOMERS)
    stmt = stmt.on_conflict_do_update(
        index_elements=[CUSTOMERS.c.phone],
        set_={"last_seen_at": _later(dialect, stmt.excluded.last_seen_at, CUSTOMERS.c.last_seen_at)},
    )
    await conn.execute(stmt, rows)
    ids: dict[str, int] = {}
    phones_list = list(latest)
    for i in range(0, len(phones_list), 5000):
        result = await conn.execute(
            select(CUSTOMERS.c.phone, CUSTOMERS.c.id).where(CUSTOMERS.c.phone.in_(phones_list[i : i + 5000]))
        )
        ids.update({phone: cid for phone, cid in result.all()})
    return {raw: ids[phone] for raw, phone in keys.items() if phone in ids}


class _Transaction:
    """`async with` a transaction; database errors become InvalidInput (refused content) or
    StoreUnavailable, with phone-like numbers masked in the message."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._cm = engine.begin()

    async def __aenter__(self) -> AsyncConnection:
        try:
            return await self._cm.__aenter__()
        except (SQLAlchemyError, OSError) as exc:
            raise StoreUnavailable(_message("database unavailable", exc)) from exc

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            await self._cm.__aexit__(exc_type, exc, tb)
        except IntegrityError as err:
            raise InvalidInput(_message("refused by the database", err)) from err
        except (SQLAlchemyError, OSError) as err:
            raise StoreUnavailable(_message("database error", err)) from err
        if isinstance(exc, IntegrityError):
            raise InvalidInput(_message("refused by the database", exc)) from exc
        if isinstance(exc, SQLAlchemyError | OSError):
            raise StoreUnavailable(_message("database error", exc)) from exc


def _message(prefix: str, exc: BaseException) -> str:
    """The first line of a driver error (the statement and parameters follow it), masked."""
    lines = str(exc).splitlines()
    return f"{prefix}: {mask_text(lines[0] if lines else type(exc).__name__)}"
