"""Queues and agents changed while the ACD runs (an admin's edit), without disturbing calls.

    configure_queue(acd, QueueConfig("booking", skills={"booking": 4}, max_wait=300.0))
    configure_agent(acd, AgentConfig("1001", skills={"booking": 6, "refund": 3}))

Each is one ACD operation whose first event (`QueueConfigured`, `AgentConfigured`) carries the
whole new configuration, so a replica re-running the stream (acd/replay.py), a journal replay
and a snapshot (acd/snapshot.py) all end with the same configuration and the same calls.

A queue edit keeps every call of the queue: waiting calls keep their place (arrival order and
priority), their wait and escalation count from when they started waiting, under the new
skills, escalation steps, maximum wait and overflow (a step or a maximum wait already due
fires at once); calls ringing or talking are not touched (the new ring timeout and wrap-up
apply to the next offers). Then, as after any operation, a free agent now eligible for a
waiting call is offered it. An agent edit keeps its state and calls in progress
(`Acd.update_agent`); disabling it logs it out once its calls and wrap-up are over and
refuses its next login.

`queue_data` / `queue_from_data` are the plain-data form of a queue (the keys of a queue in
the configuration file), used by the events, the snapshot and the case store.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from acd import held
from acd.agent import Agent, AgentConfig, AgentState
from acd.aging import Aging
from acd.call import CallState
from acd.callbacks import BusinessHours, CallbackPolicy
from acd.dispatch import operation
from acd.engine import Acd
from acd.errors import AcdError
from acd.events import AgentConfigured, QueueConfigured
from acd.queue import EscalationStep, QueueConfig, Requirement, RoutingPolicy, requirement_at_step
from acd.ring_policy import DEFAULT as DEFAULT_RING_POLICY
from acd.ring_policy import RingPolicy
from acd.wait_estimate import Announcements


class ConfigRefused(AcdError):
    """The edit would leave the ACD inconsistent (unknown overflow target, a circle)."""


def queue_data(queue: QueueConfig) -> dict[str, Any]:
    """The queue as the configuration file writes it (every key, defaults included)."""
    data: dict[str, Any] = {
        "name": queue.name,
        "skills": dict(sorted(queue.skills.items())),
        "policy": queue.policy.value,
        "service_level": {"target": queue.sl_target, "seconds": queue.sl_seconds},
        "max_wait": queue.max_wait,
        "overflow": queue.overflow,
        "escalation": [
            {
                "after": step.after,
                "min_level": step.min_level,
                "groups": sorted(step.groups),
                "offer_callback": step.offer_callback,
            }
            for step in queue.escalation
        ],
        "ring_timeout": queue.ring_timeout,
        "wrap_up": queue.wrap_up,
        "tier_priority": dict(sorted(queue.tier_priority.items())),
    }
    if queue.aging is not None:  # the file's form: points per minute (12 digits: a fixed point)
        data["aging"] = {"rate": float(f"{60.0 / queue.aging.every:.12g}"), "cap": queue.aging.cap}
    if queue.ring_policy != DEFAULT_RING_POLICY:
        data["ring_no_answer"] = dataclasses.asdict(queue.ring_policy)
    if queue.announce is not None:
        data["announce"] = dataclasses.asdict(queue.announce)
    if queue.callbacks is not None:
        data["callbacks"] = {"hours": queue.callbacks.hours.data(), "timezone": queue.callbacks.hours.timezone,
                             "merge_same_number": queue.callbacks.merge_same_number}
    return data


def _seconds(value: Any) -> float | None:
    return None if value is None else float(value)


def queue_from_data(data: Mapping[str, Any]) -> QueueConfig:
    """The inverse of `queue_data` (missing keys take the configuration file's defaults)."""
    sl = data.get("service_level") or {}
    aging, ring, announce = (data.get(key) or {} for key in ("aging", "ring_no_answer", "announce"))
    return QueueConfig(
        name=str(data["name"]),
        skills={str(k): int(v) for k, v in (data.get("skills") or {}).items()},
        policy=RoutingPolicy(data.get("policy") or RoutingPolicy.LONGEST_IDLE.value),
        sl_target=float(sl.get("target", 0.8)),
        sl_seconds=float(sl.get("seconds", 20.0)),
        max_wait=_seconds(data.get("max_wait")),
        overflow=data.get("overflow") or None,
        escalation=tuple(
            EscalationStep(
                after=float(step["after"]),
                min_level=None if step.get("min_level") is None else int(step["min_level"]),
                groups=frozenset(step.get("groups") or ()),
                offer_callback=bool(step.get("offer_callback", False)),
            )
            for step in data.get("escalation") or ()
        ),
        ring_timeout=_seconds(data.get("ring_timeout", 20.0)),
        wrap_up=_seconds(data.get("wrap_up", 0.0)),
        tier_priority={str(k): int(v) for k, v in (data.get("tier_priority") or {}).items()},
        aging=Aging.per_minute(float(aging["rate"]), int(aging["cap"])) if aging else None,
        ring_policy=RingPolicy(**ring) if ring else DEFAULT_RING_POLICY,
        announce=Announcements(**announce) if announce else None,
        callbacks=_callbacks(data.get("callbacks")),
    )


def _callbacks(data: Any) -> CallbackPolicy | None:
    if not data:
        return None
    hours = BusinessHours.parse(data.get("hours") or {}, str(data.get("timezone", "UTC")))
    return CallbackPolicy(hours, bool(data.get("merge_same_number", True)))


def queue_json(queue: QueueConfig) -> str:
    return json.dumps(queue_data(queue), sort_keys=True, separators=(",", ":"))


def agent_event(at: float, config: AgentConfig) -> AgentConfigured:
    return AgentConfigured(
        at, config.id, tuple(sorted(config.skills.items())), tuple(sorted(config.groups)),
        config.capacity, config.name, config.disabled,
    )


def agent_data(config: AgentConfig) -> dict[str, Any]:
    """The agent as the configuration file writes it (every key)."""
    return {"id": config.id, "name": config.name, "skills": dict(sorted(config.skills.items())),
            "groups": sorted(config.groups), "capacity": config.capacity, "disabled": config.disabled}


def agent_from_data(data: Mapping[str, Any]) -> AgentConfig:
    return AgentConfig(str(data["id"]), {str(k): int(v) for k, v in (data.get("skills") or {}).items()},
                       frozenset(data.get("groups") or ()), int(data.get("capacity", 1)), str(data.get("name", "")),
                       bool(data.get("disabled", False)))


def agent_from_event(event: AgentConfigured) -> AgentConfig:
    return AgentConfig(event.agent_id, dict(event.skills), frozenset(event.groups), event.capacity,
                       event.name, event.disabled)


def check_overflow(queues: Mapping[str, QueueConfig], config: QueueConfig) -> None:
    """`config` may join `queues`: its overflow target exists and no overflow circle forms."""
    target = config.overflow
    if target is None:
        return
    if target not in queues and target != config.name:
        raise ConfigRefused(f"queue {config.name!r}: overflow target {target!r} is unknown")
    seen = [config.name]
    while target is not None:
        if target in seen:
            raise ConfigRefused(f"queues overflow in a circle: {' -> '.join([*seen, target])}")
        seen.append(target)
        nxt = queues.get(target)
        target = nxt.overflow if nxt is not None else None


@operation
def configure_queue(acd: Acd, config: QueueConfig) -> None:
    """Add `config` as a new queue, or make it the configuration of the queue of that name
    (see the module doc: waiting calls keep their places). ConfigRefused changes nothing."""
    others = {name: q for name, q in acd.queues.items() if name != config.name}
    check_overflow(others, config)
    old = acd.queues.get(config.name)
    if old == config:
        return
    if QueueConfigured in acd._wants:
        acd._emit(QueueConfigured(acd.clock.now(), config.name, queue_json(config)))
    acd.queues[config.name] = config
    held.rearm(acd)  # its callback hours may have changed (acd/held.py)
    if old is None:
        acd._waiting_in[config.name] = {}
        return
    for key in [k for k in acd._requirements if k[0] == config.name]:
        del acd._requirements[key]
    for call in acd.calls.values():  # ringing ones: back in the queue after a ring-out, under the new one
        if call.queue == config.name and call.state is not CallState.QUEUED:
            call.requirement = None
    waiting = sorted(acd._waiting_in[config.name].values(), key=lambda c: (-c.priority, c.seq))
    known: dict[tuple[tuple[tuple[str, int], ...], int], Requirement] = {}  # calls alike share one
    for call in waiting:  # out of the index first: the order of re-placing changes no place
        acd._unqueue(call)
        call.cancel_timers()
        call.step = min(call.step, len(config.escalation))
        shape = (call.skills, call.step)
        req = known.get(shape)
        if req is None:
            req = known[shape] = requirement_at_step(config, call.skills, call.step)
        call.requirement = req
    for call in waiting:
        if call.state is CallState.QUEUED:  # still (a subscriber may not act in between)
            acd._place(call, requeue=True)


@operation
def configure_agent(acd: Acd, config: AgentConfig) -> Agent:
    """Add the agent (logged out), or change it live (`Acd.update_agent`: state and calls in
    progress stay). A disabled agent is logged out now if free, else once its calls are over."""
    agent = acd.agents.get(config.id)
    if agent is not None and agent.config == config:
        return agent
    if AgentConfigured in acd._wants:
        acd._emit(agent_event(acd.clock.now(), config))
    if agent is None:
        return acd.add_agent(config)
    if config.disabled and agent.state is not AgentState.LOGGED_OUT:
        if agent.state in (AgentState.RINGING, AgentState.ON_CALL):
            acd.logout(config.id, when_free=True)
        else:
            acd.logout(config.id)
    return acd.update_agent(config)
