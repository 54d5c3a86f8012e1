"""A writer batch: buffered items reduced to the rows of one transaction.

Events of one call merge into one row (later fields win, except first-seen times); agent
state changes become session/pause statements, in order. A call's end in the IVR is kept
apart (`ivr_ends`): the writer applies it only where the call was not waiting in the ACD.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, update

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
    SegmentEnded,
)
from casestore.dialect import insert
from casestore.ivr_feed import CallEndRecord, CallStartRecord, IvrStepRecord
from casestore.models import AGENT_PAUSES, AGENT_SESSIONS
from recordings.store import RecordingInfo

SESSIONS = AGENT_SESSIONS
PAUSES = AGENT_PAUSES


@dataclass(frozen=True, slots=True)
class RecordingRecord:
    call_id: str
    info: RecordingInfo


AgentOp = tuple[str, dict[str, Any]]  # kind (login, logout, pause, unpause), parameters


class Batch:
    """Buffered items reduced to the rows of one transaction."""

    __slots__ = ("agent_ops", "arrivals", "calls", "completed", "ivr", "ivr_ends", "recordings", "segments")

    def __init__(self) -> None:
        self.calls: dict[str, dict[str, Any]] = {}
        self.arrivals: dict[str, CallArrived] = {}
        self.ivr: list[dict[str, Any]] = []
        self.ivr_ends: list[dict[str, Any]] = []
        self.recordings: list[dict[str, Any]] = []
        self.segments: list[dict[str, Any]] = []  # who talked when (casestore.models.CallSegment)
        self.agent_ops: list[AgentOp] = []
        self.completed = 0

    @classmethod
    def build(cls, items: list[Any]) -> Batch:
        batch = cls()
        calls = batch.calls
        for item in items:
            kind = type(item)
            handle = _ROW_HANDLERS.get(kind) or _KNOWN.get(kind) or _handler_of(kind)
            if handle is _no_row:
                _item_handler(kind)(batch, item)
                continue
            row = calls.get(item.call_id)
            if row is None:
                row = calls[item.call_id] = {}
            handle(batch, row, item)
        return batch

    def _agent(self, ev: AgentStateChanged) -> None:
        agent, at = ev.agent_id, ev.at
        ops = self.agent_ops
        if ev.old == "logged_out":
            ops.append(("login", {"agent_id": agent, "login_at": at}))
        if ev.new == "logged_out":
            ops.append(("logout", {"b_agent": agent, "b_at": at}))
        if ev.old == "paused":
            ops.append(("unpause", {"b_agent": agent, "b_at": at}))
        if ev.new == "paused":
            ops.append(("pause", {"agent_id": agent, "started_at": at, "reason": ev.reason}))

    def agent_runs(self) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        """The agent statements in order, consecutive ones of a kind together (one
        `executemany` each): (kind, rows)."""
        run: list[dict[str, Any]] = []
        kind = ""
        for op, params in self.agent_ops:
            if op != kind and run:
                yield kind, run
                run = []
            kind = op
            run.append(params)
        if run:
            yield kind, run


# -- what each kind of item leaves in the batch ----------------------------------------------


def _ivr_step(batch: Batch, item: IvrStepRecord) -> None:
    batch.ivr.append({
        "call_id": item.call_id, "at": item.at, "node": item.node, "kind": item.kind,
        "input": item.input, "confidence": item.confidence, "seq": item.seq,
    })


def _recording(batch: Batch, item: RecordingRecord) -> None:
    info = item.info
    batch.recordings.append({
        "call_id": item.call_id, "uri": info.uri, "format": info.format,
        "duration": info.duration, "size": info.size, "sha256": info.sha256,
        "created_at": info.created_at, "retain_until": info.retain_until,
    })


def _call_start(batch: Batch, row: dict[str, Any], item: CallStartRecord) -> None:
    row.setdefault("started_at", item.at)
    for key in ("source", "caller", "dialed", "language"):
        if getattr(item, key):
            row.setdefault(key, getattr(item, key))


def _call_end(batch: Batch, row: dict[str, Any], item: CallEndRecord) -> None:
    if item.language:
        row.setdefault("language", item.language)
    batch.ivr_ends.append({"e_id": item.call_id, "e_at": item.at, "e_outcome": item.outcome})
    batch.completed += 1


def _arrived(batch: Batch, row: dict[str, Any], item: CallArrived) -> None:
    batch.arrivals[item.call_id] = item
    if item.source:
        row.setdefault("source", item.source)
    if item.caller:
        row.setdefault("caller", item.caller)
    if item.dialed:
        row.setdefault("dialed", item.dialed)
    if item.language:
        row.setdefault("language", item.language)
    if item.at:
        row.setdefault("started_at", item.at)
    row.setdefault("queued_at", item.at)  # entered the ACD (started_at may be the IVR's start)
    row["queue"] = item.queue
    row["priority"] = item.priority
    row["tier"] = item.tier


def _queued(batch: Batch, row: dict[str, Any], item: CallQueued) -> None:
    row.setdefault("queued_at", item.at)
    row["queue"] = item.queue
    row["priority"] = item.priority


def _assigned(batch: Batch, row: dict[str, Any], item: CallAssigned) -> None:
    row["agent_id"] = item.agent_id


def _answered(batch: Batch, row: dict[str, Any], item: CallAnswered) -> None:
    row["agent_id"] = item.agent_id  # again after a transfer: the first answer stays
    row.setdefault("answered_at", item.at)
    row.setdefault("wait_seconds", item.wait)


def _abandoned(batch: Batch, row: dict[str, Any], item: CallAbandoned) -> None:
    row["ended_at"] = item.at
    row["wait_seconds"] = item.wait
    row["outcome"] = "callback" if item.reason.startswith("callback") else "abandoned"
    batch.completed += 1


def _ended(batch: Batch, row: dict[str, Any], item: CallEnded) -> None:
    row["agent_id"] = item.agent_id
    row["ended_at"] = item.at
    row["talk_seconds"] = item.talk
    row["outcome"] = "callback_failed" if item.disposition == "callback_failed" else "answered"
    batch.segments.append({
        "call_id": item.call_id, "party": item.agent_id, "role": "agent", "queue": item.queue,
        "started_at": item.at - item.talk, "ended_at": item.at, "talk_seconds": item.talk,
    })
    if item.disposition:
        row["disposition"] = item.disposition
    batch.completed += 1


def _dispositioned(batch: Batch, row: dict[str, Any], item: CallDispositioned) -> None:
    row["disposition"] = item.code


def _overflowed(batch: Batch, row: dict[str, Any], item: CallOverflowed) -> None:
    row["queue"] = item.to_queue


def _segment(batch: Batch, row: dict[str, Any], item: SegmentEnded) -> None:
    batch.segments.append({
        "call_id": item.call_id, "party": item.party, "role": item.role, "queue": item.queue or None,
        "started_at": item.started, "ended_at": item.at, "talk_seconds": item.talk,
    })


def _transferred(batch: Batch, row: dict[str, Any], item: CallTransferred) -> None:
    row["queue"] = item.queue
    if item.target_kind == "number":  # handed to an outside number: the ACD's part is over
        row.update(ended_at=item.at, outcome="transferred")
        batch.completed += 1


def _row_only(batch: Batch, row: dict[str, Any], item: Any) -> None:
    """Any other item of a call: its row exists (as before this table)."""


def _no_row(batch: Batch, row: dict[str, Any], item: Any) -> None:
    """Marks the kinds of `_ITEM_HANDLERS` (no call row)."""


# Items that leave no call row, and those that merge into their call's row, by class (a
# subclass is handled as its nearest listed base: `_handler_of`).
_ITEM_HANDLERS: dict[type, Callable[[Batch, Any], None]] = {
    AgentStateChanged: Batch._agent, IvrStepRecord: _ivr_step, RecordingRecord: _recording,
}
_ROW_HANDLERS: dict[type, Callable[[Batch, dict[str, Any], Any], None]] = {
    CallStartRecord: _call_start, CallEndRecord: _call_end, CallArrived: _arrived, CallQueued: _queued,
    CallAssigned: _assigned, CallAnswered: _answered, CallAbandoned: _abandoned, CallEnded: _ended,
    CallDispositioned: _dispositioned, CallOverflowed: _overflowed, SegmentEnded: _segment,
    CallTransferred: _transferred,
}
_KNOWN: dict[type, Callable[[Batch, dict[str, Any], Any], None]] = dict.fromkeys(_ITEM_HANDLERS, _no_row)


def _base_in(kind: type, table: Mapping[type, Any]) -> type | None:
    return next((base for base in kind.__mro__ if base in table), None)


def _item_handler(kind: type) -> Callable[[Batch, Any], None]:
    base = _base_in(kind, _ITEM_HANDLERS)
    assert base is not None
    return _ITEM_HANDLERS[base]


def _handler_of(kind: type) -> Callable[[Batch, dict[str, Any], Any], None]:
    """The handler of a class not listed itself (remembered in `_KNOWN`)."""
    if _base_in(kind, _ITEM_HANDLERS) is not None:
        handler: Callable[[Batch, dict[str, Any], Any], None] = _no_row
    else:
        base = _base_in(kind, _ROW_HANDLERS)
        handler = _row_only if base is None else _ROW_HANDLERS[base]
    _KNOWN[kind] = handler
    return handler


def agent_statement(kind: str, dialect: str) -> Any:
    """The statement of an agent op `kind` (see `Batch.agent_runs`), for many rows."""
    if kind == "login":
        return insert(dialect, SESSIONS).on_conflict_do_nothing()
    if kind == "pause":
        return insert(dialect, PAUSES).on_conflict_do_nothing()
    agent: Any = bindparam("b_agent")
    at: Any = bindparam("b_at")
    if kind == "logout":
        return update(SESSIONS).where(
            and_(SESSIONS.c.agent_id == agent, SESSIONS.c.logout_at.is_(None), SESSIONS.c.login_at <= at)
        ).values(logout_at=at)
    return update(PAUSES).where(
        and_(PAUSES.c.agent_id == agent, PAUSES.c.ended_at.is_(None), PAUSES.c.started_at <= at)
    ).values(ended_at=at)
