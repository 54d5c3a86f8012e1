"""Where the IVR hands an Asterisk call over once it is done with it: the ACD and call
control of this process (`LocalHandover`, one node), or the cluster's leader through Redis
(hotline/cluster_agi.py: a FastAGI session that lands on a follower).

Four things cross it: a caller parked on hold enters a queue, a caller who accepted a
callback keeps their place as a callback, the agent hung up first (the survey: the talk
ends), and a caller Hotline cannot serve is hung up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from asterisk.errors import CallControlError

if TYPE_CHECKING:
    from asterisk.control import CallControl


class Handover(Protocol):
    async def enqueue(
        self, call_id: str, channel: str, queue: str, *, caller: str, dialed: str, language: str,
        priority: int, tier: str, skills: Mapping[str, int],
    ) -> None:
        """The caller (parked in the hold context) enters `queue`; CallControlError when refused."""

    async def callback(
        self, call_id: str, queue: str, number: str, *, dialed: str, language: str, priority: int,
        tier: str, skills: Mapping[str, int],
    ) -> None:
        """Keep the caller's place as a callback to `number`; CallControlError when refused."""

    async def agent_left(self, call_id: str) -> tuple[str, str] | None:
        """The agent hung up first: end the talk. (dialed, language) of the call, None when
        it was not talking."""

    async def hangup(self, channel: str, call_id: str) -> None:
        """Hang up a caller that could not be handed over."""

    async def settle(self, call_id: str, within: float) -> None:
        """Wait up to `within` s for the AMI actions already decided for the call (a Redirect
        to an agent that must land while the AGI session still runs)."""


class LocalHandover:
    """The call control of this process (the ACD runs here)."""

    def __init__(self, control: CallControl) -> None:
        self.control = control

    async def enqueue(
        self, call_id: str, channel: str, queue: str, *, caller: str, dialed: str, language: str,
        priority: int, tier: str, skills: Mapping[str, int],
    ) -> None:
        self.control.enqueue(call_id, channel, queue, caller=caller, dialed=dialed, language=language,
                             priority=priority, tier=tier, skills=skills)

    async def callback(
        self, call_id: str, queue: str, number: str, *, dialed: str, language: str, priority: int,
        tier: str, skills: Mapping[str, int],
    ) -> None:
        self.control.callbacks.arrive(call_id, queue, number, dialed=dialed, language=language,
                                      priority=priority, tier=tier, skills=dict(skills))

    async def agent_left(self, call_id: str) -> tuple[str, str] | None:
        talked = self.control.agent_left(call_id)
        return None if talked is None else (talked[0].dialed, talked[1])

    async def hangup(self, channel: str, call_id: str) -> None:
        await self.control.hangup_channel(channel, call_id)

    async def settle(self, call_id: str, within: float) -> None:
        await self.control.settle(call_id, within)


__all__ = ["CallControlError", "Handover", "LocalHandover"]
