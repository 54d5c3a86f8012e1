"""A writer batch: buffered items reduced to the rows of one transaction.

Events of one call merge into one row (later fields win, except first-seen times); agent
state changes become session/pause statements, in order. A call's end in the IVR is kept
apart (`ivr_ends`): the writer applies it only where the call was not waiting in the ACD.
"""

from __future__ import annotations

from collections.abc import Iterator
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
            if isinstance(item, AgentStateChanged):
                batch._agent(item)
                continue
            if isinstance(item, IvrStepRecord):
                batch.ivr.append({
                    "call_id": item.call_id, "at": item.at, "node": item.node, "kind": item.kind,
                    "input": item.input, "confidence": item.confidence, "seq": item.seq,
                })
                continue
            if isinstance(item, RecordingRecord):
                info = item.info
                batch.recordings.append({
                    "call_id": item.call_id, "uri": info.uri, "format": info.format,
                    "duration": info.duration, "size": info.size, "sha256": info.sha256,
                    "created_at": info.created_at, "retain_until": info.retain_until,
                })
                continue
            row = calls.get(item.call_id)
            if row is None:
                row = calls[item.call_id] = {}
            if isinstance(item, CallStartRecord):
                row.setdefault("started_at", item.at)
                for key in ("source", "caller", "dialed", "language"):
                    if getattr(item, key):
                        row.setdefault(key, getattr(item, key))
            elif isinstance(item, CallEndRecord):
                if item.language:
                    row.setdefault("language", item.language)
                batch.ivr_ends.append({"e_id": item.call_id, "e_at": item.at, "e_outcome": item.outcome})
                batch.completed += 1
            elif isinstance(item, CallArrived):
                batch.arrivals[item.call_id] = item
                for key, value in (
                    ("source", item.source), ("caller", item.caller), ("dialed", item.dialed),
                    ("language", item.language), ("started_at", item.at),
                ):
                    if value:
                        row.setdefault(key, value)
                row.setdefault("queued_at", item.at)  # entered the ACD (started_at may be the IVR's start)
                row.update(queue=item.queue, priority=item.priority, tier=item.tier)
            elif isinstance(item, CallQueued):
                row.setdefault("queued_at", item.at)
                row["queue"] = item.queue
                row["priority"] = item.priority
            elif isinstance(item, CallAssigned):
                row["agent_id"] = item.agent_id
            elif isinstance(item, CallAnswered):  # again after a transfer: the first answer stays
                row["agent_id"] = item.agent_id
                row.setdefault("answered_at", item.at)
                row.setdefault("wait_seconds", item.wait)
            elif isinstance(item, CallAbandoned):
                outcome = "callback" if item.reason.startswith("callback") else "abandoned"
                row.update(ended_at=item.at, wait_seconds=item.wait, outcome=outcome)
                batch.completed += 1
            elif isinstance(item, CallEnded):
                outcome = "callback_failed" if item.disposition == "callback_failed" else "answered"
                row.update(agent_id=item.agent_id, ended_at=item.at, talk_seconds=item.talk, outcome=outcome)
                batch.segments.append({
                    "call_id": item.call_id, "party": item.agent_id, "role": "agent", "queue": item.queue,
                    "started_at": item.at - item.talk, "ended_at": item.at, "talk_seconds": item.talk,
                })
                if item.disposition:
                    row["disposition"] = item.disposition
                batch.completed += 1
            elif isinstance(item, CallDispositioned):
                row["disposition"] = item.code
            elif isinstance(item, CallOverflowed):
                row["queue"] = item.to_queue
            elif isinstance(item, SegmentEnded):
                batch.segments.append({
                    "call_id": item.call_id, "party": item.party, "role": item.role, "queue": item.queue or None,
                    "started_at": item.started, "ended_at": item.at, "talk_seconds": item.talk,
                })
            elif isinstance(item, CallTransferred):
                row["queue"] = item.queue
                if item.target_kind == "number":  # handed to an outside number: the ACD's part is over
                    row.update(ended_at=item.at, outcome="transferred")
                    batch.completed += 1
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
