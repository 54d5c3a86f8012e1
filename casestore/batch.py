"""A writer batch: buffered items reduced to the rows of one transaction.

Events of one call merge into one row (later fields win, except first-seen times); agent
state changes become session/pause statements, in order. A call's end in the IVR is kept
apart (`ivr_ends`): the writer applies it only where the call was not waiting in the ACD.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, update

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


AgentOp = Callable[[str], Any]


class Batch:
    """Buffered items reduced to the rows of one transaction."""

    __slots__ = ("agent_ops", "arrivals", "calls", "completed", "ivr", "ivr_ends", "recordings")

    def __init__(self) -> None:
        self.calls: dict[str, dict[str, Any]] = {}
        self.arrivals: dict[str, CallArrived] = {}
        self.ivr: list[dict[str, Any]] = []
        self.ivr_ends: list[dict[str, Any]] = []
        self.recordings: list[dict[str, Any]] = []
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
            elif isinstance(item, CallAnswered):
                row.update(agent_id=item.agent_id, answered_at=item.at, wait_seconds=item.wait)
            elif isinstance(item, CallAbandoned):
                outcome = "callback" if item.reason.startswith("callback") else "abandoned"
                row.update(ended_at=item.at, wait_seconds=item.wait, outcome=outcome)
                batch.completed += 1
            elif isinstance(item, CallEnded):
                outcome = "callback_failed" if item.disposition == "callback_failed" else "answered"
                row.update(agent_id=item.agent_id, ended_at=item.at, talk_seconds=item.talk, outcome=outcome)
                if item.disposition:
                    row["disposition"] = item.disposition
                batch.completed += 1
            elif isinstance(item, CallDispositioned):
                row["disposition"] = item.code
            elif isinstance(item, CallOverflowed):
                row["queue"] = item.to_queue
        return batch

    def _agent(self, ev: AgentStateChanged) -> None:
        agent, at = ev.agent_id, ev.at
        if ev.old == "logged_out":
            def login(dialect: str) -> Any:
                return insert(dialect, SESSIONS).values(agent_id=agent, login_at=at).on_conflict_do_nothing()
            self.agent_ops.append(login)
        if ev.new == "logged_out":
            def logout(_: str) -> Any:
                return update(SESSIONS).where(
                    and_(SESSIONS.c.agent_id == agent, SESSIONS.c.logout_at.is_(None),
                         SESSIONS.c.login_at <= at)
                ).values(logout_at=at)
            self.agent_ops.append(logout)
        if ev.old == "paused":
            def unpause(_: str) -> Any:
                return update(PAUSES).where(
                    and_(PAUSES.c.agent_id == agent, PAUSES.c.ended_at.is_(None), PAUSES.c.started_at <= at)
                ).values(ended_at=at)
            self.agent_ops.append(unpause)
        if ev.new == "paused":
            reason = ev.reason
            def pause(dialect: str) -> Any:
                return insert(dialect, PAUSES).values(
                    agent_id=agent, started_at=at, reason=reason
                ).on_conflict_do_nothing()
            self.agent_ops.append(pause)
