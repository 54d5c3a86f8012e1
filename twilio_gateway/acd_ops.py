"""What the Twilio gateway asks of the ACD: run here (`LocalOps`, the ACD is in this process)
or on a cluster's leader (hotline/cluster_twilio.py, a webhook served by a follower). Reads
(`acd.calls`, positions) always come from this process's ACD (a follower's replica)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from acd.engine import Acd


class AcdOps(Protocol):
    async def arrive(
        self, call_id: str, queue: str, *, caller: str, language: str, priority: int, tier: str,
        skills: Mapping[str, int], source: str, dialed: str,
    ) -> None:
        """Queue the call (AcdError when refused, or when no leader answered in time)."""

    def answer(self, call_id: str) -> None: ...

    def end(self, call_id: str, disposition: str = "") -> None: ...

    def ring_no_answer(self, call_id: str) -> None: ...

    def abandon(self, call_id: str, reason: str) -> None: ...


class LocalOps:
    def __init__(self, acd: Acd) -> None:
        self.acd = acd

    async def arrive(
        self, call_id: str, queue: str, *, caller: str, language: str, priority: int, tier: str,
        skills: Mapping[str, int], source: str, dialed: str,
    ) -> None:
        self.acd.arrive(call_id, queue, caller=caller, language=language, priority=priority, tier=tier,
                        skills=skills, source=source, dialed=dialed)

    def answer(self, call_id: str) -> None:
        self.acd.answer(call_id)

    def end(self, call_id: str, disposition: str = "") -> None:
        self.acd.end(call_id, disposition=disposition)

    def ring_no_answer(self, call_id: str) -> None:
        self.acd.ring_no_answer(call_id)

    def abandon(self, call_id: str, reason: str) -> None:
        self.acd.abandon(call_id, reason=reason)
