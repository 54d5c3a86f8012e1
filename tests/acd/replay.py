"""A seeded random workout of the ACD for regression fingerprints: every operation a channel
or an agent can ask for, in random order, with the events and the refusals written down."""

from __future__ import annotations

import hashlib
import json
import random
from typing import Any

from acd.agent import AgentConfig, AgentState
from acd.call import CallState
from acd.clock import VirtualClock
from acd.engine import Acd
from acd.errors import IllegalTransition
from acd.queue import EscalationStep, QueueConfig, RoutingPolicy

QUEUES = (
    QueueConfig(
        "booking",
        skills={"booking": 5},
        max_wait=300.0,
        overflow="general",
        ring_timeout=15.0,
        wrap_up=8.0,
        tier_priority={"vip": 2},
        escalation=(EscalationStep(40.0, min_level=2), EscalationStep(80.0, groups=frozenset({"spill"}))),
    ),
    QueueConfig("refund", skills={"refund": 4}, policy=RoutingPolicy.LEAST_OCCUPIED, wrap_up=None),
    QueueConfig("general", skills={"general": 1}, policy=RoutingPolicy.BEST_SKILL, wrap_up=0.0),
)
SKILLS = (
    {"booking": 8, "general": 3},
    {"booking": 3, "refund": 6},
    {"refund": 7, "general": 6},
    {"booking": 6, "refund": 5, "general": 2},
    {"general": 9},
)


def workout(seed: int, steps: int = 2_000, capacities: tuple[int, ...] = (1,)) -> list[dict[str, Any]]:
    """What happened, in order: every event, and every operation the ACD refused."""
    rng = random.Random(seed)
    clock = VirtualClock(0.0)
    acd = Acd(clock, QUEUES, pause_on_ring_no_answer=seed % 2 == 0, occupancy_window=600.0)
    record: list[dict[str, Any]] = []
    acd.subscribe(lambda event: record.append(event.to_dict()))
    agent_ids = []
    for i in range(12):
        skills = SKILLS[i % len(SKILLS)]
        groups = frozenset({"spill"}) if i % 4 == 0 else frozenset()
        capacity = capacities[i % len(capacities)]
        acd.add_agent(AgentConfig(f"a{i}", skills=skills, groups=groups, capacity=capacity))
        agent_ids.append(f"a{i}")
    arrived = 0
    for _ in range(steps):
        roll = rng.random()
        calls = list(acd.calls.values())
        try:
            if roll < 0.25:
                arrived += 1
                acd.arrive(
                    f"c{arrived}",
                    rng.choice(("booking", "booking", "refund", "general")),
                    priority=rng.randrange(3),
                    tier=rng.choice(("regular", "vip")),
                )
            elif roll < 0.40:
                ringing = [c for c in calls if c.state is CallState.RINGING]
                if ringing:
                    acd.answer(rng.choice(ringing).id)
            elif roll < 0.52:
                talking = [c for c in calls if c.state is CallState.ON_CALL]
                if talking:
                    acd.end(rng.choice(talking).id, disposition=rng.choice(("", "sold")))
            elif roll < 0.57:
                if calls:
                    acd.abandon(rng.choice(calls).id)
            elif roll < 0.60:
                ringing = [c for c in calls if c.state is CallState.RINGING]
                if ringing:
                    acd.ring_no_answer(rng.choice(ringing).id)
            elif roll < 0.80:
                agent_id = rng.choice(agent_ids)
                op = rng.choice(("login", "login", "logout", "logout_when_free", "pause", "unpause",
                                 "wrap_done", "wrap_done", "disposition"))
                if op == "logout_when_free":
                    acd.logout(agent_id, when_free=True)
                elif op == "pause":
                    acd.pause(agent_id, rng.choice(("lunch", "coaching")))
                elif op == "disposition":
                    acd.set_disposition(agent_id, "callback")
                else:
                    getattr(acd, op)(agent_id)
            else:
                clock.advance(rng.choice((0.5, 3.0, 10.0, 20.0, 45.0, 120.0)))
        except IllegalTransition as exc:
            record.append({"refused": str(exc)})
    now = clock.now()
    for agent_id in agent_ids:
        agent = acd.agents[agent_id]
        record.append(
            {
                "agent": agent_id,
                "state": agent.state.value,
                "seconds": {s.value: round(agent.time_in(s, now), 6) for s in AgentState},
                "occupancy": round(agent.occupancy(now, 600.0), 9),
            }
        )
    return record


def fingerprint(record: list[dict[str, Any]]) -> str:
    """The record's hash; fields added to events since the fingerprints were taken are left
    out while they hold their default (`failed` of a ring-no-answer: the offer rang out)."""
    kept = [{k: v for k, v in e.items() if not (k == "failed" and v == "")} for e in record]
    return hashlib.sha256(json.dumps(kept, sort_keys=True).encode()).hexdigest()
