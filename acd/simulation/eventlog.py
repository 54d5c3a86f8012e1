"""Events as flat records for a log: every record names its call, agent, queue and priority.

`Event.to_dict()` carries what the event itself knows; an agent's state change does not name
the queue, an answer does not repeat the priority. `EventAnnotator` follows the stream and
fills those in (None where an event concerns no call or no agent).
"""

from __future__ import annotations

from typing import Any

from acd.events import CallAbandoned, CallArrived, CallEnded, CallOverflowed, Event


class EventAnnotator:
    def __init__(self) -> None:
        self._calls: dict[str, tuple[str, int]] = {}

    def __call__(self, event: Event) -> dict[str, Any]:
        data = event.to_dict()
        if isinstance(event, CallArrived):
            self._calls[event.call_id] = (event.queue, event.priority)
        elif isinstance(event, CallOverflowed):
            old = self._calls.get(event.call_id, ("", 0))
            self._calls[event.call_id] = (event.to_queue, old[1])
        call_id = data.get("call_id") or None
        known = self._calls.get(call_id) if call_id else None
        queue: str | None = known[0] if known else None
        priority: int | None = known[1] if known else None
        data["call_id"] = call_id
        data["agent_id"] = data.get("agent_id") or None
        data.setdefault("queue", queue)
        data["priority"] = data.get("priority", priority)
        if isinstance(event, CallEnded | CallAbandoned):
            self._calls.pop(event.call_id, None)
        return data
