"""The call writer: persists the core's events (and IVR steps, recordings) in batches.

`on_event` is an `Acd.subscribe` subscriber. It only appends to a buffer and returns;
a background task flushes the buffer in one transaction when `batch_size` items are
waiting or every `flush_interval` seconds. Every write is an idempotent upsert keyed by
the call id (cases by their originating call, IVR steps by call/time/node/kind/seq), so a
replayed or duplicated event stream leaves exactly one row per call.

On `start()`, calls left open by a process that died (no end time) are closed with
outcome `interrupted`, and open agent sessions and pauses are closed at the start time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, case, func, or_, select, update
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from acd.events import (
    AgentStateChanged,
    CallAbandoned,
    CallAnswered,
    CallArrived,
    CallAssigned,
    CallDispositioned,
    CallEnded,
    CallOverflowed,
    CallQueued,
    CallTransferred,
    Event,
    SegmentEnded,
)
from casestore.batch import Batch, RecordingRecord, agent_statement
from casestore.bulk import StagedUpsert, fetch_arrays, staged_upsert, upsert_records, upsert_rows
from casestore.dialect import insert, writing
from casestore.errors import StoreUnavailable
from casestore.ivr_feed import CallStartRecord, IvrStepRecord, ivr_items
from casestore.models import (
    AGENT_PAUSES,
    AGENT_SESSIONS,
    CALL_SEGMENTS,
    CALLS,
    CASES,
    IVR_STEPS,
    RECORDINGS,
)
from casestore.repository import allocate_case_numbers, ensure_customers, year_of
from casestore.settings import StoreSettings
from casestore.sla import SlaPolicy
from hotline.privacy import mask_text
from ivr.events import IvrEvent
from recordings.store import RecordingInfo

log = logging.getLogger(__name__)

IVR = IVR_STEPS
SESSIONS = AGENT_SESSIONS
PAUSES = AGENT_PAUSES

CALL_COLUMNS = [c.name for c in CALLS.c if c.name not in ("id", "direction")]  # direction: its default
FIRST_WINS = frozenset({"started_at", "queued_at", "source", "caller", "dialed", "language", "tier",
                        "answered_at", "wait_seconds"})  # a transferred call is answered again
OUTBOUND_PREFIX = "followup-"  # call ids of follow-up calls: their row exists, with its case
MAX_ITEMS_PER_FLUSH = 5_000  # bounds the CPU the loop spends building one transaction
# A call's end in the IVR, applied unless the call was waiting in the ACD by then (a survey
# after the agent, a callback offer while waiting: the ACD's outcome stands).
IVR_END = (
    update(CALLS)
    .where(
        CALLS.c.id == bindparam("e_id"),
        or_(CALLS.c.queued_at.is_(None), CALLS.c.queued_at > bindparam("e_at")),
    )
    .values(ended_at=bindparam("e_at"), outcome=bindparam("e_outcome"))
)


@dataclass
class WriterStats:
    events: int = 0
    batches: int = 0
    rows_flushed: int = 0
    calls_completed: int = 0
    flush_seconds: float = 0.0
    max_flush_seconds: float = 0.0
    max_backlog: int = 0
    retries: int = 0
    rejected: int = 0


EVENT_KINDS: tuple[type[Event], ...] = (
    CallArrived, CallQueued, CallAssigned, CallAnswered, CallAbandoned, CallEnded,
    CallDispositioned, CallOverflowed, AgentStateChanged, CallTransferred, SegmentEnded,
)

_KINDS = frozenset(EVENT_KINDS)  # the exact classes: one set lookup for the common case
_SESSION_STATES = frozenset({"logged_out", "paused"})  # what casestore.batch records of agents


class CallWriter:
    def __init__(
        self,
        engine: AsyncEngine,
        settings: StoreSettings,
        sla: SlaPolicy,
        *,
        clock: Callable[[], float] = time.time,
        batch_size: int | None = None,
        flush_interval: float | None = None,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        self.engine = writing(engine)
        self.on_error = on_error
        self.settings = settings
        self.sla = sla
        self.clock = clock
        self.batch_size = batch_size or settings.batch_size
        self.flush_interval = flush_interval or settings.flush_interval
        self.stats = WriterStats()
        self.rejected: list[Any] = []
        self._buffer: list[Any] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._flush_lock = asyncio.Lock()
        self._stopping = False
        self._idle = asyncio.Event()
        self._idle.set()
        self._upsert_calls = self._calls_statement()
        self._pg_upsert_calls = _pg_calls_upsert()

    # -- input (synchronous, never touches the database) ----------------------------------

    def on_event(self, event: Event) -> None:
        """Subscriber for `Acd.subscribe`: enqueue and return (what leaves a row: `wants`)."""
        if self.wants(event):
            self._enqueue(event)

    def on_wanted_event(self, event: Event) -> None:
        """`on_event` for a subscriber that already asked `wants` (the simulator's recorder)."""
        self._enqueue(event)

    @staticmethod
    def wants(event: Event) -> bool:
        """Whether the store writes anything for `event`: the call events, and of the agent
        state changes those into or out of logged_out and paused (sessions and pauses; the
        steps between available, ringing, on_call and wrap_up leave no row)."""
        cls = type(event)
        if cls is AgentStateChanged:
            assert isinstance(event, AgentStateChanged)
            return event.old in _SESSION_STATES or event.new in _SESSION_STATES
        return cls in _KINDS or isinstance(event, EVENT_KINDS)

    def record_ivr_step(
        self,
        call_id: str,
        node: str,
        kind: str,
        input: str | None = None,
        confidence: float | None = None,
        at: float | None = None,
    ) -> None:
        """Enqueue one IVR step (see IvrStepRecord); the IVR calls this for every node and input."""
        at = self.clock() if at is None else at
        self._enqueue(IvrStepRecord(call_id, node, kind, at, input, confidence))

    def on_ivr_event(self, event: IvrEvent) -> None:
        """Subscriber for the IVR interpreter's events (`run_menu(on_event=...)`), see ivr_feed."""
        for item in ivr_items(event):
            self._enqueue(item)

    def record_call_start(
        self,
        call_id: str,
        *,
        source: str = "",
        caller: str = "",
        dialed: str = "",
        language: str = "",
        at: float | None = None,
    ) -> None:
        """A call reached the hotline (channel adapters call this before the IVR), so a call
        that ends in the IVR, never reaching a queue, still leaves its record."""
        at = self.clock() if at is None else at
        self._enqueue(CallStartRecord(call_id, at, source, caller, dialed, language))

    def record_recording(self, call_id: str, info: RecordingInfo) -> None:
        """Link a stored recording to a call (recordings.RecordingRegistry)."""
        self._enqueue(RecordingRecord(call_id, info))

    def _enqueue(self, item: Any) -> None:
        buffer = self._buffer
        buffer.append(item)
        stats = self.stats
        stats.events += 1
        backlog = len(buffer)
        if backlog == 1:
            self._idle.clear()  # it is only set with the buffer empty (flush, abort)
        if backlog > stats.max_backlog:
            stats.max_backlog = backlog
        if backlog >= self.batch_size:
            self._wake.set()

    @property
    def backlog(self) -> int:
        return len(self._buffer)

    @property
    def flushing(self) -> bool:
        """A flush is under way (waiting on the database, most of the time)."""
        return self._flush_lock.locked()

    @property
    def oldest_at(self) -> float | None:
        """The time (`at`, on the writer's clock) of the oldest item not yet written, if any
        (the write lag is `clock() - oldest_at`; metrics read it at scrape time)."""
        at = getattr(self._buffer[0], "at", None) if self._buffer else None
        return float(at) if isinstance(at, int | float) else None

    # -- lifecycle -----------------------------------------------------------------------

    async def start(
        self,
        *,
        close_orphans: bool = True,
        sources: Iterable[str] | None = None,
        agents: Iterable[str] | None = None,
        keep_calls: Iterable[str] = (),
        keep_agents: Iterable[str] = (),
    ) -> int:
        """Close orphans (optionally only calls of the given sources and sessions of the given
        agents), start flushing. Calls in `keep_calls` and sessions of `keep_agents` stay open
        (the ACD restored them). Returns the number of calls closed as interrupted."""
        closed = (
            await self.close_orphans(
                sources=sources, agents=agents, keep_calls=keep_calls, keep_agents=keep_agents
            )
            if close_orphans
            else 0
        )
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="casestore-writer")
        return closed

    async def stop(self, give_up_after: float = 30.0) -> None:
        """Flush everything buffered and stop the background task. If the database cannot
        take the backlog within `give_up_after` seconds, the backlog is dropped (logged) and
        StoreUnavailable raised, so a shutdown never hangs on a dead database."""
        self._stopping = True
        self._wake.set()
        task, self._task = self._task, None
        if task is None:
            try:
                await self.flush()
            except _Transient as exc:
                raise StoreUnavailable(f"final flush failed: {exc}") from exc
            return
        done, _ = await asyncio.wait({task}, timeout=give_up_after)
        if not done:
            self._task = task
            dropped = await self.abort()
            raise StoreUnavailable(f"database unavailable at shutdown; {dropped} items not written")
        task.result()

    async def abort(self) -> int:
        """Stop without flushing (shutdown while the database is gone); returns the number of
        buffered items dropped, which are logged as an error."""
        if self._task is not None:
            task, self._task = self._task, None
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        dropped = len(self._buffer)
        self._buffer.clear()
        self._idle.set()
        if dropped:
            log.error("case store writer aborted with %d unwritten items", dropped)
        return dropped

    async def __aenter__(self) -> CallWriter:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def drain(self) -> None:
        """Wait until everything enqueued so far is flushed (back-pressure for generators;
        wrap in `asyncio.timeout`)."""
        self._wake.set()
        await self._idle.wait()

    async def close_orphans(
        self,
        *,
        sources: Iterable[str] | None = None,
        agents: Iterable[str] | None = None,
        keep_calls: Iterable[str] = (),
        keep_agents: Iterable[str] = (),
        call_prefix: str | None = None,
    ) -> int:
        """Close calls left open (only those of `sources` when given: a database shared with
        another writer keeps that writer's live calls) and open agent sessions and pauses
        (only those of `agents` when given); `keep_calls` and the sessions of `keep_agents`
        stay open (the ACD restored them)."""
        now = self.clock()
        cond: list[ColumnElement[bool]] = [CALLS.c.ended_at.is_(None)]
        if sources is not None:
            cond.append(CALLS.c.source.in_(list(sources)))
        kept_calls, kept_agents = sorted(set(keep_calls)), sorted(set(keep_agents))
        if kept_calls:
            cond.append(CALLS.c.id.notin_(kept_calls))
        if call_prefix is not None:  # one simulation run's calls (ids carry its run id)
            cond.append(CALLS.c.id.startswith(call_prefix, autoescape=True))
        session_cond = [SESSIONS.c.logout_at.is_(None)]
        pause_cond = [PAUSES.c.ended_at.is_(None)]
        if agents is not None:
            ids = list(agents)
            session_cond.append(SESSIONS.c.agent_id.in_(ids))
            pause_cond.append(PAUSES.c.agent_id.in_(ids))
        if kept_agents:
            session_cond.append(SESSIONS.c.agent_id.notin_(kept_agents))
            pause_cond.append(PAUSES.c.agent_id.notin_(kept_agents))
        try:
            async with self.engine.begin() as conn:
                result = await conn.execute(
                    update(CALLS).where(*cond).values(outcome="interrupted", ended_at=now)
                )
                await conn.execute(update(SESSIONS).where(*session_cond).values(logout_at=now))
                await conn.execute(update(PAUSES).where(*pause_cond).values(ended_at=now))
        except (SQLAlchemyError, OSError) as exc:
            raise StoreUnavailable(f"closing orphaned calls failed: {mask_text(str(exc).splitlines()[0])}") from exc
        closed = int(result.rowcount or 0)
        if closed:
            log.warning("closed %d calls left open by a previous run as interrupted", closed)
        return closed

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            if not self._buffer and not self._stopping:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.flush_interval)
            self._wake.clear()
            if self._stopping and not self._buffer:
                return
            try:
                await self.flush()
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.stats.retries += 1
                log.warning("case store write failed, retrying in %.1fs: %s", backoff, mask_text(str(exc)))
                if self.on_error is not None:
                    self.on_error(exc)
                await asyncio.sleep(backoff)  # back off; the buffer keeps every item
                backoff = min(backoff * 2, 5.0)
            if self._stopping and not self._buffer:
                return

    # -- flushing ------------------------------------------------------------------------

    async def flush(self) -> None:
        """Write everything buffered now (in transactions of at most MAX_ITEMS_PER_FLUSH items)."""
        async with self._flush_lock:
            while self._buffer:
                items = self._buffer[:MAX_ITEMS_PER_FLUSH]
                del self._buffer[:MAX_ITEMS_PER_FLUSH]
                started = time.perf_counter()
                try:
                    await self._write_items(items)
                except _Rejected:
                    await self._write_one_by_one(items)
                except BaseException:
                    self._buffer[:0] = items  # nothing lost: put them back in front
                    raise
                elapsed = time.perf_counter() - started
                self.stats.batches += 1
                self.stats.flush_seconds += elapsed
                self.stats.max_flush_seconds = max(self.stats.max_flush_seconds, elapsed)
            self._idle.set()

    async def _write_one_by_one(self, items: list[Any]) -> None:
        """A batch the database refused: write items singly, set aside the ones it refuses."""
        for i, item in enumerate(items):
            try:
                await self._write_items([item])
            except _Transient:
                self._buffer[:0] = items[i:]
                raise
            except _Rejected as exc:
                self.stats.rejected += 1
                self.rejected.append(item)
                log.error("case store refused %s: %s", type(item).__name__, exc)

    async def _write_items(self, items: list[Any]) -> None:
        batch = Batch.build(items)
        try:
            async with self.engine.begin() as conn:
                await self._write_batch(conn, batch)
        except (OperationalError, InterfaceError, OSError, ConnectionError) as exc:
            raise _Transient(mask_text(str(exc).splitlines()[0])) from exc
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise _Transient(mask_text(str(exc).splitlines()[0])) from exc
            raise _Rejected(mask_text(str(exc).splitlines()[0])) from exc
        except SQLAlchemyError as exc:
            raise _Rejected(mask_text(str(exc).splitlines()[0])) from exc
        self.stats.rows_flushed += len(batch.calls)
        self.stats.calls_completed += batch.completed

    async def _write_batch(self, conn: AsyncConnection, batch: Batch) -> None:
        if batch.arrivals:
            case_ids = await self._open_cases(conn, batch)
            for call_id, case_id in case_ids.items():
                batch.calls[call_id]["case_id"] = case_id
        if batch.calls and conn.dialect.name == "postgresql":  # copied in, upserted at once
            staged = self._pg_upsert_calls
            others = staged.columns[1:]
            await upsert_records(conn, staged, [
                (cid, *[fields.get(name) for name in others]) for cid, fields in batch.calls.items()
            ])
        elif batch.calls:
            rows = [
                {"id": cid, **{c: fields.get(c) for c in CALL_COLUMNS}}
                for cid, fields in sorted(batch.calls.items())
            ]
            await conn.execute(self._upsert_calls, rows)
        if batch.ivr_ends:
            await conn.execute(IVR_END, batch.ivr_ends)
        if batch.ivr:
            stmt = insert(conn.dialect.name, IVR).on_conflict_do_nothing(
                index_elements=[IVR.c.call_id, IVR.c.at, IVR.c.node, IVR.c.kind, IVR.c.seq]
            )
            await conn.execute(stmt, batch.ivr)
        if batch.segments and conn.dialect.name == "postgresql":
            await upsert_rows(conn, _PG_INSERT_SEGMENTS, batch.segments)
        elif batch.segments:
            stmt = insert(conn.dialect.name, CALL_SEGMENTS).on_conflict_do_nothing(
                index_elements=[CALL_SEGMENTS.c.call_id, CALL_SEGMENTS.c.party, CALL_SEGMENTS.c.started_at]
            )
            await conn.execute(stmt, batch.segments)
        if batch.recordings:
            stmt = insert(conn.dialect.name, RECORDINGS).on_conflict_do_nothing(
                index_elements=[RECORDINGS.c.uri]
            )
            await conn.execute(stmt, batch.recordings)
        dialect = conn.dialect.name
        for kind, rows in batch.agent_runs():
            await conn.execute(agent_statement(kind, dialect), rows)

    async def _open_cases(self, conn: AsyncConnection, batch: Batch) -> dict[str, int]:
        """One case per arriving call (skipping calls that already have one, and outbound
        follow-up calls, whose row names the case they follow up)."""
        ids = sorted(batch.arrivals)
        existing = await _cases_of(conn, ids)
        linked = [cid for cid in ids if cid.startswith(OUTBOUND_PREFIX) and cid not in existing]
        if linked:
            existing.update(await _linked_cases(conn, linked))
        missing = [cid for cid in ids if cid not in existing]
        if not missing:
            return existing
        phones = [(batch.arrivals[c].caller, batch.arrivals[c].at) for c in missing if batch.arrivals[c].caller]
        customers = await ensure_customers(conn, phones)
        by_year: dict[int, list[str]] = defaultdict(list)
        for cid in missing:
            by_year[year_of(batch.arrivals[cid].at)].append(cid)
        rows = []
        for year, cids in sorted(by_year.items()):
            numbers = await allocate_case_numbers(conn, year, len(cids))
            for cid, number in zip(cids, numbers, strict=True):
                ev = batch.arrivals[cid]
                defaults = self.settings.case_defaults(ev.queue)
                rows.append({
                    "number": number, "category": defaults.category, "priority": defaults.priority,
                    "status": "open", "subject": None, "opened_at": ev.at,
                    "due_at": self.sla.due_at(defaults.category, defaults.priority, ev.at),
                    "updated_at": ev.at, "resolved_at": None, "closed_at": None,
                    "assigned_agent": None, "customer_id": customers.get(ev.caller),
                    "origin_call_id": cid,
                })
        if conn.dialect.name == "postgresql":  # the new ids come back with the insert
            created = await upsert_rows(conn, _PG_INSERT_CASES, rows)
            existing.update({call_id: case_id for call_id, case_id in created})
            missing = [cid for cid in missing if cid not in existing]  # opened meanwhile elsewhere
            if not missing:
                return existing
        else:
            stmt = insert(conn.dialect.name, CASES).on_conflict_do_nothing(index_elements=[CASES.c.origin_call_id])
            await conn.execute(stmt, rows)
        existing.update(await _cases_of(conn, missing))
        return existing

    def _calls_statement(self) -> Any:
        stmt = insert(self.engine.dialect.name, CALLS)
        set_: dict[str, Any] = {}
        # A call closed as `interrupted` by a restart that arrives again (the adapter found it
        # still up) is resumed: its end and outcome are cleared until it really ends.
        resumed = and_(stmt.excluded.started_at.is_not(None), CALLS.c.outcome == "interrupted")
        for name in CALL_COLUMNS:
            new, old = stmt.excluded[name], CALLS.c[name]
            if name in FIRST_WINS:
                set_[name] = func.coalesce(old, new)
            elif name in ("outcome", "ended_at"):
                set_[name] = case((resumed, new), else_=func.coalesce(new, old))
            else:
                set_[name] = func.coalesce(new, old)
        return stmt.on_conflict_do_update(index_elements=[CALLS.c.id], set_=set_)


def _pg_calls_upsert() -> StagedUpsert:
    """The calls upsert of `_calls_statement` as one statement over the staged rows."""
    resumed = "(excluded.started_at IS NOT NULL AND t.outcome = 'interrupted')"
    assignments = {}
    for name in CALL_COLUMNS:
        new, old = f'excluded."{name}"', f't."{name}"'
        if name in FIRST_WINS:
            assignments[name] = f"coalesce({old}, {new})"
        elif name in ("outcome", "ended_at"):
            assignments[name] = f"CASE WHEN {resumed} THEN {new} ELSE coalesce({new}, {old}) END"
        else:
            assignments[name] = f"coalesce({new}, {old})"
    staged = staged_upsert(CALLS, "id", assignments, skip=("direction",))
    assert staged.columns[0] == "id"  # the records are (id, *the others)
    return staged


_PG_INSERT_CASES = staged_upsert(CASES, "origin_call_id", None, returning="origin_call_id, id")
# One index lookup per call id whatever the table's statistics say (`= ANY($1)` is planned as a
# scan of the whole table while the statistics of a fresh one are missing).
_PG_CASES_OF = (
    "SELECT k, id FROM (SELECT u.k, (SELECT c.id FROM cases c WHERE c.origin_call_id = u.k) AS id"
    " FROM unnest($1::text[]) AS u(k)) AS found WHERE id IS NOT NULL"
)
_PG_INSERT_SEGMENTS = staged_upsert(CALL_SEGMENTS, ("call_id", "party", "started_at"), None)


async def _linked_cases(conn: AsyncConnection, call_ids: list[str]) -> dict[str, int]:
    """The cases outbound calls' rows were opened with (casestore/service_process/follow_up_store.py)."""
    rows = await conn.execute(
        select(CALLS.c.id, CALLS.c.case_id).where(CALLS.c.id.in_(call_ids), CALLS.c.case_id.is_not(None))
    )
    return {cid: int(case_id) for cid, case_id in rows.all()}


async def _cases_of(conn: AsyncConnection, call_ids: list[str]) -> dict[str, int]:
    if conn.dialect.name == "postgresql":  # one array parameter, not thousands of IN parameters
        return dict(await fetch_arrays(conn, _PG_CASES_OF, [call_ids]))
    found: dict[str, int] = {}
    for i in range(0, len(call_ids), 5000):
        chunk = call_ids[i : i + 5000]
        result = await conn.execute(
            select(CASES.c.origin_call_id, CASES.c.id).where(CASES.c.origin_call_id.in_(chunk))
        )
        found.update({cid: case_id for cid, case_id in result.all()})
    return found


class _Transient(Exception):
    """The database is unreachable or busy: keep the batch and retry later."""


class _Rejected(Exception):
    """The database refused the batch's content."""
