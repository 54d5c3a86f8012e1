"""Transfers, third parties and supervisors in the ACD's replay and snapshots.

`replay_transfer_event` runs the operation a transfer event starts (`acd.replay` calls it
for the kinds it does not know itself). `calls_data` / `restore_calls` carry each call's
third parties and supervisors through a snapshot (`acd.snapshot`), and re-arm the ring
timeout of a party still ringing as the live one was armed (from when it was rung).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from acd.call import Call
from acd.errors import AcdError
from acd.events import (
    CallMonitored,
    CallMonitorEnded,
    CallTransferred,
    Event,
    PartyAdded,
    PartyAnswered,
    PartyJoined,
    PartyLeft,
)
from acd.transfer import AGENT, NUMBER, QUEUE, RINGING, Party

if TYPE_CHECKING:
    from acd.engine import Acd


def replay_transfer_event(acd: Acd, event: Event) -> bool:
    """Re-run the operation `event` is the first event of; False when it is not one of ours."""
    if isinstance(event, CallTransferred):
        if event.mode == "blind":
            target = {event.target_kind: event.target}
            acd.transfer(event.call_id, agent=target.get(AGENT), queue=target.get(QUEUE),
                         number=target.get(NUMBER), priority=event.priority)
        elif event.mode == "attended":
            acd.complete_transfer(event.call_id)
        else:
            acd.leave(event.call_id, event.agent_id)
    elif isinstance(event, PartyAdded):
        if event.target_kind == AGENT and event.queue:
            acd.add_party(event.call_id, queue=event.queue, role=event.role)
        elif event.target_kind == AGENT:
            acd.add_party(event.call_id, agent=event.target, role=event.role)
        else:
            acd.add_party(event.call_id, number=event.target, role=event.role)
    elif isinstance(event, PartyAnswered):
        acd.party_answered(event.call_id, event.party)
    elif isinstance(event, PartyJoined):
        acd.merge(event.call_id)
    elif isinstance(event, PartyLeft):
        if event.reason == "call_ended":
            raise AcdError("party_left for call_ended only follows another event")
        acd.remove_party(event.call_id, event.party, event.reason)  # `leave` of a party is the same
    elif isinstance(event, CallMonitored):
        acd.monitor(event.call_id, event.supervisor, event.mode)
    elif isinstance(event, CallMonitorEnded):
        if event.reason in ("call_ended", "transferred"):
            raise AcdError(f"call_monitor_ended for {event.reason} only follows another event")
        acd.unmonitor(event.call_id, event.supervisor, event.reason)
    else:
        return False
    return True


def call_data(call: Call) -> dict[str, Any]:
    """A call's third parties and supervisors as JSON-ready data (empty when it has none)."""
    data: dict[str, Any] = {}
    if call.parties:
        data["parties"] = [p.to_dict() for p in call.parties.values()]
    if call.monitors:
        data["monitors"] = {sup: [mode, since] for sup, (mode, since) in call.monitors.items()}
    return data


def restore_call(call: Call, item: Mapping[str, Any]) -> None:
    """Give a restored call back its parties and supervisors (timers: `arm_parties`)."""
    parties = item.get("parties")
    if parties:
        call.parties = {}
        for p in parties:
            party = Party(str(p["id"]), str(p["kind"]), str(p["target"]), str(p["role"]), str(p["state"]),
                          float(p["since"]), float(p["answered_at"]), str(p.get("queue", "")),
                          None if p.get("ring_for") is None else float(p["ring_for"]))
            call.parties[party.id] = party
    monitors = item.get("monitors")
    if monitors:
        call.monitors = {str(sup): (str(mode), float(since)) for sup, (mode, since) in monitors.items()}


def arm_parties(acd: Acd, call: Call) -> None:
    """Ring timeouts of the call's agent parties still ringing, due when the live ones are."""
    default = acd.queues[call.queue].ring_timeout
    for party in (call.parties or {}).values():
        timeout = party.ring_for if party.ring_for is not None else default  # as it was armed
        if party.state == RINGING and party.kind == AGENT and timeout is not None:
            acd._arm_party(call, party, timeout, due=party.since + timeout)
