"""The ACD's live state as plain data (a snapshot), and an ACD restored from one.

A snapshot is taken between operations (never while events are being delivered) and holds
what decides what the ACD does next: every agent (configuration, state, calls, pending
requests, idle order, talk history), every call (queue, priority, tier, skills, escalation
step, times, agent) and the pending timers as due times derived from that state (ring
timeout from the offer, escalation and max wait from the wait in the queue, wrap-up as it
was armed; all re-armed in the order they were armed, held callbacks' timer from their
requests, acd/held.py). `restore` builds a fresh `Acd` in that state on a replay clock; the
events that followed the snapshot are then re-run on it (`Replayed.apply`) exactly as in a
full replay, so snapshot + tail gives the same ACD as the whole stream.

It reads the engine's public state (`agents`, `calls`, `queues`, `waiting_calls`, the
routable pools of `available`) and rebuilds the routing index through the engine's own
bookkeeping helpers, all in `_restore_index` and `_routable_order` below: the only two
places that know how the index is kept.

`RingStarts` records when each ringing call was offered (the engine does not keep it), so
that a restored ring timeout fires when the live one would have.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from typing import Any

from acd.agent import STATE_SLOT, Agent, AgentConfig, AgentState
from acd.call import Call, CallState
from acd.engine import Acd
from acd.events import CallAbandoned, CallAnswered, CallAssigned, CallRingNoAnswer, Event
from acd.held import held_data, restore_held
from acd.live_config import queue_data, queue_from_data
from acd.queue import QueueConfig
from acd.replay import Replayed, _ReplayClock
from acd.transfer_state import arm_parties, call_data, restore_call

FORMAT = 1


class SnapshotError(ValueError):
    """The data is not a snapshot this version can restore."""


class RingStarts:
    """Subscriber: when each call now ringing was offered (for its ring timeout)."""

    KINDS = (CallAssigned, CallAnswered, CallRingNoAnswer, CallAbandoned)

    def __init__(self, initial: Mapping[str, float] | None = None) -> None:
        self.at: dict[str, float] = dict(initial or {})

    def __call__(self, event: Event) -> None:
        if isinstance(event, CallAssigned):
            self.at[event.call_id] = event.at
        else:
            self.at.pop(getattr(event, "call_id", ""), None)


def take(acd: Acd, ring_starts: Mapping[str, float] | None = None) -> dict[str, Any]:
    """The ACD's state as JSON-ready data (see module doc)."""
    now = acd.clock.now()
    starts = ring_starts or {}
    agents = []
    for agent in acd.agents.values():
        last = agent.last_ended
        agents.append(
            {
                "id": agent.id,
                "skills": dict(agent.config.skills),
                "groups": sorted(agent.config.groups),
                "capacity": agent.config.capacity,
                "name": agent.config.name,
                "disabled": agent.config.disabled,
                "state": agent.state.value,
                "state_since": agent.state_since,
                "idle_since": agent.idle_since,
                "pause_reason": agent.pause_reason,
                "call_id": agent.call_id,
                "calls": list(agent.calls),
                "last_ended": [last.id, last.queue] if last is not None else None,
                "logout_pending": agent.logout_pending,
                "pause_pending": agent.pause_pending,
                "seconds": {state.value: agent.seconds[STATE_SLOT[state]] for state in AgentState},
                "talk_log": [list(span) for span in agent.talk_log],
                "ring_outs": agent.ring_outs,
                "wrap_timer": list(agent.wrap_timer) if agent.wrap_timer is not None else None,
            }
        )
    calls = []
    for call in sorted(acd.calls.values(), key=lambda c: c.seq):
        calls.append(
            {
                "id": call.id,
                "queue": call.queue,
                "caller": call.caller,
                "language": call.language,
                "priority": call.priority,
                "tier": call.tier,
                "skills": [list(s) for s in call.skills],
                "source": call.source,
                "dialed": call.dialed,
                "arrived_at": call.arrived_at,
                "enqueued_at": call.enqueued_at,
                "answered_at": call.answered_at,
                "seq": call.seq,
                "state": call.state.value,
                "step": call.step,
                "armed": call.armed,
                "aged": call.aged,
                "held_from": call.held_from if call.state is CallState.QUEUED else "",
                "held_until": call.held_until,
                **({"target": call.target} if call.target else {}),  # acd/targeted.py
                "agent_id": call.agent_id,
                "ring_started": starts.get(call.id, now) if call.state is CallState.RINGING else None,
                "ring_for": call.ring_for if call.state is CallState.RINGING else None,
                **call_data(call),
            }
        )
    routable, occupancy = _routable_order(acd)
    return {
        "format": FORMAT,
        "at": now,
        "next_seq": _next_seq(acd),
        "queues": [queue_data(queue) for queue in acd.queues.values()],
        "agents": agents,
        "calls": calls,
        "routable": routable,
        "occupancy": occupancy,
        "held_callbacks": held_data(acd),
    }


def restore(
    data: Mapping[str, Any],
    queues: Iterable[QueueConfig],
    *,
    pause_on_ring_no_answer: bool = True,
    occupancy_window: float = 3600.0,
    agents: Iterable[AgentConfig] = (),
    into: Acd | None = None,
) -> tuple[Replayed, RingStarts]:
    """An ACD in the snapshot's state on a replay clock at the snapshot's time (re-run the
    tail with `Replayed.apply`, then `attach` it to the live clock), and its ring starts
    (subscribe them to the ACD, before the tail, to keep them up to date). `agents`: configured agents the snapshot does not know yet.

    `into`: a new `Acd` (no call, every agent logged out, as built from the configuration)
    to restore in place instead of a new one; its options are used. The snapshot's queues and
    agents (as edited live, acd/live_config.py) win over its configuration; an older snapshot
    without queues keeps its queues and its agents' configurations."""
    if not isinstance(data, Mapping) or data.get("format") != FORMAT:
        raise SnapshotError(f"not an ACD snapshot of format {FORMAT}")
    if into is not None and (into.calls or any(a.state is not AgentState.LOGGED_OUT for a in into.agents.values())):
        raise SnapshotError("a snapshot is only restored into a new ACD")
    try:
        return _restore(data, list(queues), pause_on_ring_no_answer, occupancy_window, list(agents), into)
    except (KeyError, TypeError, ValueError) as exc:
        raise SnapshotError(f"snapshot cannot be restored: {exc!r}") from exc


def _restore(
    data: Mapping[str, Any],
    queues: list[QueueConfig],
    pause_on_ring_no_answer: bool,
    occupancy_window: float,
    configured: list[AgentConfig],
    into: Acd | None,
) -> tuple[Replayed, RingStarts]:
    at = float(data["at"])
    clock = _ReplayClock(at)
    if into is None:
        acd = Acd(clock, queues, pause_on_ring_no_answer=pause_on_ring_no_answer, occupancy_window=occupancy_window)
    else:
        acd = into
        acd.clock = clock
    for queue in data.get("queues", ()):  # as edited live (acd.live_config): the snapshot's win
        edited = queue_from_data(queue)
        acd._waiting_in.setdefault(edited.name, {})
        acd.queues[edited.name] = edited
    for item in data["agents"]:
        config = AgentConfig(
            item["id"], dict(item["skills"]), frozenset(item["groups"]), int(item["capacity"]), item["name"],
            bool(item.get("disabled", False)),
        )
        if item["id"] not in acd.agents:
            acd.add_agent(config)
        elif "queues" in data:  # a snapshot that keeps live edits: its agents win too
            agent = acd.agents[item["id"]]
            agent.config = config
            agent.capacity = config.capacity
    for config in configured:
        if config.id not in acd.agents:
            acd.add_agent(config)
    starts = RingStarts()
    for item in data["calls"]:
        call = Call(
            item["id"],
            item["queue"],
            arrived_at=item["arrived_at"],
            seq=item["seq"],
            caller=item["caller"],
            language=item["language"],
            priority=item["priority"],
            tier=item["tier"],
            skills=tuple((str(k), int(v)) for k, v in item["skills"]),
            source=item["source"],
            dialed=item["dialed"],
        )
        if call.queue not in acd.queues:
            raise ValueError(f"call {call.id!r} waits in queue {call.queue!r}, not configured")
        call.enqueued_at = item["enqueued_at"]
        call.answered_at = item["answered_at"]
        call.state = CallState(item["state"])
        call.step = item["step"]
        call.agent_id = item["agent_id"]
        restore_call(call, item)
        call.aged = int(item.get("aged", 0))  # snapshots from before aging and ring policies
        call.held_from = str(item.get("held_from", ""))
        call.held_until = float(item.get("held_until", 0.0))
        call.target = str(item.get("target", ""))
        acd.calls[call.id] = call
        if call.state is CallState.RINGING:
            starts.at[call.id] = item["ring_started"]
    for item in data["agents"]:
        agent = acd.agents[item["id"]]
        agent.state = AgentState(item["state"])
        agent.state_since = item["state_since"]
        agent.idle_since = item["idle_since"]
        agent.pause_reason = item["pause_reason"]
        agent.call_id = item["call_id"]
        agent.calls = {call_id: acd.calls[call_id] for call_id in item["calls"]}
        if item["last_ended"] is not None:
            last_id, last_queue = item["last_ended"]
            ended = Call(last_id, last_queue, arrived_at=0.0, seq=-1)
            ended.state = CallState.ENDED
            agent.last_ended = ended
        agent.logout_pending = item["logout_pending"]
        agent.pause_pending = item["pause_pending"]
        agent.seconds = [float(item["seconds"].get(state.value, 0.0)) for state in AgentState]
        agent.talk_log = [(float(a), float(b)) for a, b in item["talk_log"]]
        agent.ring_outs = int(item.get("ring_outs", 0))
        timer = item.get("wrap_timer")
        agent.wrap_timer = (int(timer[0]), float(timer[1]), float(timer[2])) if timer else None
    _restore_index(acd, data, starts)
    restore_held(acd, data.get("held_callbacks", ()))  # snapshots from before held callbacks
    return Replayed(acd, clock), starts


def reset(acd: Acd) -> None:
    """Make `acd` new again (no call, every agent logged out, timers dropped), keeping its
    subscribers: a former leader becoming a follower restores the leader's snapshot into it."""
    for call in acd.calls.values():
        call.cancel_timers()
    if acd.held.timer is not None:
        acd.held.timer.cancel()
    fresh = Acd(acd.clock, acd.queues.values(), pause_on_ring_no_answer=acd.pause_on_ring_no_answer,
                occupancy_window=acd.occupancy_window)
    subscribers = acd._subscribers
    for config in (a.config for a in acd.agents.values()):
        fresh.add_agent(config)
    acd.__dict__.update(fresh.__dict__)
    acd._subscribers = subscribers
    acd._update_wants()


# -- the places that know the engine's bookkeeping --------------------------------------------


def _next_seq(acd: Acd) -> int:
    value = next(acd._seq)
    acd._seq = itertools.count(value)  # peeked, not consumed
    return value


ORDER_BUILT = "(least-occupied order in use)"  # a key of "occupancy" no agent id can be


def _routable_order(acd: Acd) -> tuple[list[list[str]], dict[str, list[float]]]:
    """Routable agents in idle order (one pool), and the least-occupied figures the engine took
    for them when that order is in use: [load, occupancy, idle since, entry]."""
    routable = [[agent.id for agent in acd.available]]
    occupancy: dict[str, list[float]] = {}
    if acd.available._order is not None:
        occupancy[ORDER_BUILT] = []
        for agent in acd.available:
            key = agent.order_key
            if key is not None:
                occupancy[agent.id] = [key[0], key[1], key[2], float(key[3])]
    return routable, occupancy


def _restore_index(acd: Acd, data: Mapping[str, Any], starts: RingStarts) -> None:
    """Waiting calls into the index (arrival order), routable agents into theirs (idle order,
    least-occupied figures as taken), and every pending timer, as the engine would have them."""
    acd._seq = itertools.count(int(data["next_seq"]))
    in_order = sorted(acd.calls.values(), key=lambda c: c.seq)
    for pos, call in enumerate(in_order):
        call.pos = pos
    acd.waiting._next = len(in_order)
    armed = {item["id"]: int(item.get("armed", 0)) for item in data["calls"]}
    ring_for = {item["id"]: item["ring_for"] for item in data["calls"] if "ring_for" in item}
    for call in in_order:
        if call.state is CallState.QUEUED:
            acd.waiting.push(call, acd._requirement(call))
            acd._waiting_in[call.queue][call.id] = call
    # escalation and max wait from `enqueued_at`, ring timeouts from the offer, all armed in the
    # order the engine armed them (timers due at the same time fire in that order)
    # wrap-up timers in that order too (after the others when the snapshot has no order)
    timers: list[tuple[float, int, int, Any]] = [
        (armed[c.id], 0, c.seq, c) for c in in_order if c.state in (CallState.QUEUED, CallState.RINGING)
    ]
    for n, agent in enumerate(acd.agents.values()):
        if agent.state is AgentState.WRAP_UP and agent.last_ended is not None:
            timer = agent.wrap_timer  # armed for this wrap-up (not an earlier one)?
            known = timer is not None and timer[1] == agent.state_since
            timers.append((timer[0] if timer is not None and known else math.inf, 1, n, agent))
    for *_, item in sorted(timers, key=lambda entry: entry[:3]):
        if isinstance(item, Agent):
            _restore_wrap(acd, item)
            continue
        call = item
        if call.state is CallState.QUEUED:
            acd._schedule(call)
            continue
        # the timeout the offer was armed with (the queue may have been edited since)
        timeout = ring_for[call.id] if call.id in ring_for else acd.queues[call.queue].ring_timeout
        if timeout is not None and call.agent_id is not None:
            agent = acd.agents[call.agent_id]
            due = starts.at[call.id] + timeout
            call.armed = next(acd._armed)
            call.ring_for = timeout
            call.add_timer(acd.clock.call_later(due - acd.clock.now(), _ring_timer(acd, call, agent)))
    for call in in_order:
        if call.state is not CallState.RINGING and call.parties:
            arm_parties(acd, call)
    for pool in data["routable"]:
        for agent_id in pool:
            acd._index(acd.agents[agent_id])
    figures = dict(data["occupancy"])
    if figures.pop(ORDER_BUILT, None) is not None:
        index = acd.available
        order = index._order = []
        for agent in index:
            if agent.id in figures:
                load, occ, idle, entry = figures[agent.id]
                agent.order_key = (float(load), float(occ), float(idle), int(entry), agent)
            else:
                load2, occ2 = index.figures(agent)
                index._entries += 1
                agent.order_key = (load2, occ2, agent.idle_since, index._entries, agent)
            order.append(agent.order_key)
        order.sort()
        index._entries = max([index._entries, *(int(f[3]) for f in figures.values())])
        # order built from the saved figures: the engine takes them only on entering it


def _restore_wrap(acd: Acd, agent: Agent) -> None:
    """The agent's wrap-up timer as it was armed (the queue may have been edited since), or
    from the queue's wrap-up for a snapshot without it."""
    last = agent.last_ended
    assert last is not None
    timer = agent.wrap_timer
    if timer is not None and timer[1] == agent.state_since:
        due = timer[2]
    else:
        wrap = acd.queues[last.queue].wrap_up if last.queue in acd.queues else None
        if wrap is None or wrap <= 0:
            return
        due = agent.state_since + wrap
    agent.wrap_timer = (next(acd._armed), agent.state_since, due)
    acd.clock.call_later(due - acd.clock.now(), _wrap_timer(acd, agent, last.id))


def _ring_timer(acd: Acd, call: Call, agent: Agent) -> Any:
    return lambda: acd._ring_timeout(call, agent)


def _wrap_timer(acd: Acd, agent: Agent, call_id: str) -> Any:
    return lambda: acd._auto_wrap(agent, call_id)
