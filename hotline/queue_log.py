"""Asterisk's `queue_log` written from the ACD's events, so app_queue reporting tools (queue
statistics packages, wallboards that tail the file) read Hotline's queues.

One line per event, as app_queue writes them (Asterisk's documented format):

    <epoch seconds>|<call id>|<queue>|<agent>|<EVENT>|<data1>|<data2>|...

`NONE` stands for a missing call id, queue or agent. The mapping from ACD events:

| ACD event | queue_log line (data fields) |
| --- | --- |
| call_queued | ENTERQUEUE (url = "", caller id) |
| call_arrived routed at once | ENTERQUEUE, then its CONNECT when answered |
| call_answered | CONNECT (holdtime, agent's channel id = the call id, ringtime) |
| call_ended | COMPLETECALLER or COMPLETEAGENT (holdtime, calltime, origposition) |
| call_abandoned (hang-up) | ABANDON (position, origposition, waittime) |
| call_abandoned (max_wait) | EXITWITHTIMEOUT (position, origposition, waittime) |
| call_ring_no_answer | RINGNOANSWER (ringtime in milliseconds) |
| call_transferred (when the core emits it) | TRANSFER (extension, context, holdtime, calltime, origposition) |
| agent paused / unpaused | PAUSE / UNPAUSE (reason), queue NONE |
| agent_logged_in / logged out | AGENTLOGIN (channel) / AGENTLOGOFF (channel, logintime) |

Who hung up first is not in the core's events: the channel says so with `hung_up_by`
(default: the caller). On Asterisk the wiring feeds it from `asterisk/hangup_side.py` (the
connect context's UserEvent when the agent hung up first).
Positions and times are whole numbers as app_queue writes them. Lines go to a `Sink`; the
file sink appends and flushes in a worker thread so the event loop never waits on the disk.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from acd.events import (
    AgentLoggedIn,
    AgentStateChanged,
    CallAbandoned,
    CallAnswered,
    CallArrived,
    CallAssigned,
    CallEnded,
    CallQueued,
    CallRingNoAnswer,
    Event,
)

if TYPE_CHECKING:
    from acd.call import Call
    from acd.engine import Acd

log = logging.getLogger("hotline.queue_log")
NONE = "NONE"


class Sink(Protocol):
    def write(self, line: str) -> None: ...


def line(at: float, call_id: str, queue_name: str, agent: str, event: str, *data: object) -> str:
    """One queue_log line (without the newline); `|` in a field would split it, so it is dropped."""
    fields = [str(int(at)), call_id or NONE, queue_name or NONE, agent or NONE, event]
    fields += [_clean(value) for value in data]
    return "|".join(fields)


def _clean(value: object) -> str:
    if isinstance(value, float):
        value = round(value)
    return str(value).replace("|", "").replace("\n", " ")


class QueueLog:
    """Subscriber of the ACD: events -> queue_log lines into `sink`."""

    KINDS = (
        CallArrived, CallQueued, CallAssigned, CallAnswered, CallEnded, CallAbandoned, CallRingNoAnswer,
        AgentStateChanged, AgentLoggedIn,
    )

    def __init__(self, acd: Acd, sink: Sink, *, agent_name: Callable[[str], str] | None = None) -> None:
        self.acd = acd
        self.sink = sink
        self.agent_name = agent_name or (lambda agent_id: agent_id)
        self._entered: dict[str, tuple[float, int, str]] = {}  # call -> (arrived, origposition, queue)
        self._rang: dict[str, float] = {}  # call -> when the current offer started ringing
        self._answered: dict[str, float] = {}
        self._hung_up_by_agent: set[str] = set()
        self._logged_in: dict[str, float] = {}
        self._calls: dict[str, Call] = {}  # waiting calls entered, for their position at a hang-up
        self._unsubscribe = acd.subscribe(self, self.KINDS)
        self._unsubscribe_transfers = self._subscribe_transfers()

    def close(self) -> None:
        self._unsubscribe()
        self._unsubscribe_transfers()

    def hung_up_by(self, call_id: str, *, agent: bool) -> None:
        """The channel knows who hung up first: COMPLETEAGENT when the agent did."""
        if agent:
            self._hung_up_by_agent.add(call_id)
        else:
            self._hung_up_by_agent.discard(call_id)

    def _subscribe_transfers(self) -> Callable[[], None]:
        from acd.events import EVENT_TYPES

        kind = EVENT_TYPES.get("call_transferred")
        if kind is None:
            return lambda: None
        return self.acd.subscribe(self._transferred, (kind,))

    def _write(self, text: str) -> None:
        try:
            self.sink.write(text)
        except Exception:  # a report file never stops a call
            log.exception("queue_log: cannot write a line")

    def __call__(self, event: Event) -> None:
        agent = self.agent_name
        if isinstance(event, CallArrived):
            self._entered[event.call_id] = (event.at, 0, event.queue)
            call = self.acd.calls.get(event.call_id)
            if call is not None and call.state.value != "queued":  # routed at once: no call_queued
                self._enter(event.at, event.call_id, event.queue, event.caller, 1)
        elif isinstance(event, CallQueued):
            call = self.acd.calls.get(event.call_id)
            self._enter(event.at, event.call_id, event.queue, call.caller if call else "", event.position)
        elif isinstance(event, CallAssigned):
            self._rang[event.call_id] = event.at
        elif isinstance(event, CallRingNoAnswer):
            started = self._rang.pop(event.call_id, event.at)
            self._write(line(event.at, event.call_id, event.queue, agent(event.agent_id), "RINGNOANSWER",
                             round((event.at - started) * 1000)))
        elif isinstance(event, CallAnswered):
            started = self._rang.pop(event.call_id, event.at)
            self._answered[event.call_id] = event.wait
            self._calls.pop(event.call_id, None)
            self._write(line(event.at, event.call_id, event.queue, agent(event.agent_id), "CONNECT",
                             event.wait, event.call_id, event.at - started))
        elif isinstance(event, CallEnded):
            hold = self._answered.pop(event.call_id, 0.0)
            _, origin, _ = self._entered.pop(event.call_id, (0.0, 1, ""))
            kind = "COMPLETEAGENT" if event.call_id in self._hung_up_by_agent else "COMPLETECALLER"
            self._hung_up_by_agent.discard(event.call_id)
            self._write(line(event.at, event.call_id, event.queue, agent(event.agent_id), kind,
                             hold, event.talk, origin))
        elif isinstance(event, CallAbandoned):
            self._rang.pop(event.call_id, None)
            _, origin, _ = self._entered.pop(event.call_id, (0.0, 1, ""))
            kind = "EXITWITHTIMEOUT" if event.reason == "max_wait" else "ABANDON"
            position = self._position_at_hangup(event.call_id, event.queue, origin)
            self._write(line(event.at, event.call_id, event.queue, NONE, kind, position, origin, event.wait))
        elif isinstance(event, AgentLoggedIn):
            self._logged_in[event.agent_id] = event.at
            self._write(line(event.at, NONE, NONE, agent(event.agent_id), "AGENTLOGIN", agent(event.agent_id)))
        elif isinstance(event, AgentStateChanged):
            name = agent(event.agent_id)
            if event.new == "paused":
                self._write(line(event.at, NONE, NONE, name, "PAUSE", event.reason))
            elif event.old == "paused" and event.new != "logged_out":
                self._write(line(event.at, NONE, NONE, name, "UNPAUSE", ""))
            if event.new == "logged_out":
                since = self._logged_in.pop(event.agent_id, event.at)
                self._write(line(event.at, NONE, NONE, name, "AGENTLOGOFF", name, event.at - since))

    def _position_at_hangup(self, call_id: str, queue_name: str, origin: int) -> int:
        call = self._calls.pop(call_id, None)
        if call is None or queue_name not in self.acd.queues:
            return origin
        key = (-call.priority, call.seq)
        return 1 + sum(1 for other in self.acd.waiting_calls(queue_name) if (-other.priority, other.seq) < key)

    def _enter(self, at: float, call_id: str, queue_name: str, caller: str, position: int) -> None:
        call = self.acd.calls.get(call_id)
        if call is not None:
            self._calls[call_id] = call
        arrived, _, _ = self._entered.get(call_id, (at, 0, queue_name))
        self._entered[call_id] = (arrived, position, queue_name)
        self._write(line(at, call_id, queue_name, NONE, "ENTERQUEUE", "", caller))

    def _transferred(self, event: Event) -> None:
        call_id = str(getattr(event, "call_id", ""))
        hold = self._answered.get(call_id, 0.0)
        answered_at = event.at - float(getattr(event, "talk", 0.0))
        _, origin, queue_name = self._entered.get(call_id, (0.0, 1, ""))
        target = str(getattr(event, "target", "") or getattr(event, "to_agent", "") or getattr(event, "to_queue", ""))
        self._write(line(event.at, call_id, str(getattr(event, "queue", queue_name)),
                         self.agent_name(str(getattr(event, "agent_id", ""))), "TRANSFER", target,
                         str(getattr(event, "context", "hotline")), hold, event.at - answered_at, origin))


class FileSink:
    """Appends lines to a file from a worker thread (the caller never waits on the disk)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._queue: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._file = path.open("a", encoding="utf-8")  # opened now: a bad path fails at start-up
        self._thread = threading.Thread(target=self._run, name="queue-log", daemon=True)
        self._thread.start()

    def write(self, text: str) -> None:
        self._queue.put(text)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                break
            try:
                self._file.write(item + "\n")
                if self._queue.empty():
                    self._file.flush()
            except OSError as exc:
                log.error("queue_log %s: cannot write: %s", self.path.name, exc)
        self._file.close()

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued, then close the file."""
        self._queue.put(None)
        self._thread.join(timeout)
