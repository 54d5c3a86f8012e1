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


class _Rare:
    """The fields of a call that few calls ever change from their default."""

    __slots__ = ("aged", "held_from", "held_until", "monitors", "parties")

    def __init__(self) -> None:
        self.aged = 0
        self.held_from = ""
        self.held_until = 0.0
        self.parties: dict[str, Any] | None = None
        self.monitors: dict[str, tuple[str, float]] | None = None


_NOTHING_RARE = _Rare()  # shared by every call that has none of them (never written)


class Call:
    """A call between arrival and its end. Mutated only by the `Acd`."""

    __slots__ = (
        "_rare",
        "agent_id",
        "answered_at",
        "armed",
        "arrived_at",
        "caller",
        "dialed",
        "enqueued_at",
        "id",
        "language",
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
        self._rare = _NOTHING_RARE  # its own `_Rare` once one of those is set

    # What few calls have, kept in one `_Rare` made on the first change from the default
    # (a waiting call is then 32 bytes smaller): reading and writing them is as before.

    @property
    def parties(self) -> dict[str, Any] | None:
        """Third parties (consulted or conferenced, acd.transfer.Party) by party id; None
        until the first one."""
        return self._rare.parties

    @parties.setter
    def parties(self, value: dict[str, Any] | None) -> None:
        self._set_rare("parties", value, value is None)

    @property
    def monitors(self) -> dict[str, tuple[str, float]] | None:
        """Supervisors listening (id -> (mode, since)); None until the first one."""
        return self._rare.monitors

    @monitors.setter
    def monitors(self, value: dict[str, tuple[str, float]] | None) -> None:
        self._set_rare("monitors", value, value is None)

    @property
    def aged(self) -> int:
        """Priority raises earned by waiting (acd.aging), included in `priority`."""
        return self._rare.aged

    @aged.setter
    def aged(self, value: int) -> None:
        self._set_rare("aged", value, value == 0)

    @property
    def held_from(self) -> str:
        """The agent it rang out on, not offered it again until `held_until` (acd.ring_policy)."""
        return self._rare.held_from

    @held_from.setter
    def held_from(self, value: str) -> None:
        self._set_rare("held_from", value, value == "")

    @property
    def held_until(self) -> float:
        return self._rare.held_until

    @held_until.setter
    def held_until(self, value: float) -> None:
        self._set_rare("held_until", value, value == 0.0)

    def _set_rare(self, name: str, value: object, is_default: bool) -> None:
        """Set a field of `_Rare`: a call still sharing the defaults gets its own first, unless
        `value` is the default (then there is nothing to write)."""
        rare = self._rare
        if rare is _NOTHING_RARE:
            if is_default:
                return
            rare = self._rare = _Rare()
        setattr(rare, name, value)

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
