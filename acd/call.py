"""Calls as the ACD sees them."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from acd.clock import Timer
from acd.queue import Requirement


class CallState(StrEnum):
    QUEUED = "queued"
    RINGING = "ringing"
    ON_CALL = "on_call"
    ENDED = "ended"
    ABANDONED = "abandoned"


class Call:
    """A call between arrival and its end. Mutated only by the `Acd`."""

    __slots__ = (
        "aged",
        "agent_id",
        "answered_at",
        "armed",
        "arrived_at",
        "caller",
        "dialed",
        "enqueued_at",
        "held_from",
        "held_until",
        "id",
        "language",
        "monitors",
        "parties",
        "pos",
        "priority",
        "queue",
        "requirement",
        "ring_for",
        "seq",
        "skills",
        "source",
        "state",
        "step",
        "target",
        "tier",
        "timers",
    )

    def __init__(
        self,
        call_id: str,
        queue: str,
        *,
        arrived_at: float,
        seq: int,
        pos: int = 0,
        caller: str = "",
        language: str = "",
        priority: int = 0,
        tier: str = "regular",
        skills: tuple[tuple[str, int], ...] = (),
        source: str = "",
        dialed: str = "",
        target: str = "",
    ) -> None:
        self.id = call_id
        self.queue = queue
        self.caller = caller
        self.language = language
        self.priority = priority
        self.tier = tier
        self.skills = skills
        self.source = source
        self.dialed = dialed
        self.target = target  # the only agent it may be offered to, "" for any (acd.targeted)
        self.arrived_at = arrived_at
        self.enqueued_at = arrived_at
        self.answered_at = 0.0
        self.seq = seq
        self.state = CallState.QUEUED
        self.step = 0
        self.agent_id = ""
        self.pos = pos  # place in arrival order in the index of waiting calls (acd.routing)
        self.requirement: Requirement | None = None  # at its current step (engine's cache)
        self.timers: list[Timer] | tuple[()] = ()  # a list once it has one
        self.armed = 0  # when its wait timers were last armed, in the ACD's order (snapshots)
        self.ring_for: float | None = None  # the ring timeout its offer was armed with
        # Third parties (consulted or conferenced, acd.transfer.Party) by party id, and
        # supervisors listening (id -> (mode, since)); None until the first one.
        self.parties: dict[str, Any] | None = None
        self.monitors: dict[str, tuple[str, float]] | None = None
        self.aged = 0  # priority raises earned by waiting (acd.aging), included in `priority`
        self.held_from = ""  # the agent it rang out on, not offered it again until `held_until`
        self.held_until = 0.0  # (acd.ring_policy)

    def add_timer(self, timer: Timer) -> None:
        if self.timers:
            self.timers.append(timer)
        else:
            self.timers = [timer]

    def cancel_timers(self) -> None:
        for timer in self.timers:
            timer.cancel()
        self.timers = ()

    def __repr__(self) -> str:
        return f"Call({self.id!r}, {self.queue!r}, {self.state.value}, p={self.priority})"
