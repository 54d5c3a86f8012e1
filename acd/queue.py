"""Queue configuration: required skills, service-level target, escalation over waiting time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from acd.ring_policy import DEFAULT as DEFAULT_RING_POLICY
from acd.ring_policy import RingPolicy

if TYPE_CHECKING:  # those modules read calls; a queue's configuration only names them
    from acd.aging import Aging
    from acd.callbacks import CallbackPolicy
    from acd.wait_estimate import Announcements


class RoutingPolicy(StrEnum):
    LONGEST_IDLE = "longest_idle"
    LEAST_OCCUPIED = "least_occupied"
    BEST_SKILL = "best_skill"


@dataclass(frozen=True, slots=True)
class EscalationStep:
    """What changes once a call has waited `after` seconds in its queue.

    `min_level` caps every required skill level (accept less proficient agents);
    `groups` makes agents of those groups eligible whatever their skills;
    `offer_callback` asks the channel to offer a callback that keeps the caller's place.
    Steps are cumulative: a later step keeps what earlier ones relaxed.
    """

    after: float
    min_level: int | None = None
    groups: frozenset[str] = frozenset()
    offer_callback: bool = False


@dataclass(frozen=True, slots=True)
class QueueConfig:
    name: str
    skills: Mapping[str, int] = field(default_factory=dict)
    policy: RoutingPolicy = RoutingPolicy.LONGEST_IDLE
    sl_target: float = 0.8
    sl_seconds: float = 20.0
    max_wait: float | None = None
    overflow: str | None = None
    escalation: tuple[EscalationStep, ...] = ()
    ring_timeout: float | None = 20.0
    wrap_up: float | None = 0.0
    tier_priority: Mapping[str, int] = field(default_factory=dict)
    aging: Aging | None = None  # waiting raises the priority (acd/aging.py)
    ring_policy: RingPolicy = DEFAULT_RING_POLICY  # acd/ring_policy.py
    announce: Announcements | None = None  # position / expected wait on hold (acd/wait_estimate.py)
    callbacks: CallbackPolicy | None = None  # when and in which order callbacks are dialled (acd/callbacks.py)

    def __post_init__(self) -> None:
        afters = [step.after for step in self.escalation]
        if afters != sorted(afters) or len(set(afters)) != len(afters):
            raise ValueError(f"queue {self.name!r}: escalation steps must have increasing 'after'")
        for skill, level in self.skills.items():
            if not 1 <= level <= 10:
                raise ValueError(f"queue {self.name!r}: skill {skill!r} level {level} not in 1-10")
        if not 0 < self.sl_target <= 1:
            raise ValueError(f"queue {self.name!r}: sl_target must be in (0, 1]")


@dataclass(frozen=True, slots=True)
class Requirement:
    """What an agent needs to take a call: skill minimums, or membership of a group."""

    skills: tuple[tuple[str, int], ...]
    groups: frozenset[str] = frozenset()

    def satisfied_by(self, skills: Mapping[str, int], groups: frozenset[str] | tuple[str, ...]) -> bool:
        if self.groups and not self.groups.isdisjoint(groups):
            return True
        return all(skills.get(skill, 0) >= level for skill, level in self.skills)

    def score(self, skills: Mapping[str, int]) -> int:
        """Proficiency on the required skills (for best-skill routing)."""
        return sum(skills.get(skill, 0) for skill, _ in self.skills)


def requirement_at_step(
    queue: QueueConfig, call_skills: tuple[tuple[str, int], ...], step: int
) -> Requirement:
    """The requirement of a call of `queue` that has reached escalation `step` (0 = none)."""
    if not queue.skills and (step == 0 or not queue.escalation):
        skills = tuple(sorted(call_skills))
        return Requirement(call_skills if skills == call_skills else skills)
    merged = dict(queue.skills)
    for skill, level in call_skills:
        merged[skill] = max(level, merged.get(skill, 0))
    cap: int | None = None
    groups: frozenset[str] = frozenset()
    for esc in queue.escalation[:step]:
        if esc.min_level is not None:
            cap = esc.min_level if cap is None else min(cap, esc.min_level)
        groups |= esc.groups
    if cap is not None:
        merged = {skill: min(level, cap) for skill, level in merged.items()}
    return Requirement(tuple(sorted(merged.items())), groups)
