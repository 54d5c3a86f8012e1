"""The customer-directory port: who is calling (caller identification nodes use it).

The case store implements it; tests use `StaticDirectory`. A lookup must be quick (the
caller is waiting): the interpreter bounds it with `IvrSettings.lookup_timeout` and treats a
timeout or an error as an unknown caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class CustomerInfo:
    tier: str = "regular"  # e.g. regular, frequent_flyer, vip (matches QueueConfig.tier_priority)
    language: str | None = None  # preferred language, if known
    customer_id: str | None = None


class CustomerDirectory(Protocol):
    async def lookup(self, phone: str) -> CustomerInfo | None:
        """The customer calling from `phone` (E.164), None if unknown."""
        ...


class StaticDirectory:
    """A directory from a mapping phone -> info (tests, `hotline ivr try`, small setups)."""

    def __init__(self, customers: Mapping[str, CustomerInfo]) -> None:
        self._customers = dict(customers)

    async def lookup(self, phone: str) -> CustomerInfo | None:
        return self._customers.get(phone)
