"""The IVR's customer directory, answered by the case store's screen-pop query."""

from __future__ import annotations

from casestore.repository import CaseRepository
from ivr.directory import CustomerInfo


class StoreDirectory:
    """`ivr.directory.CustomerDirectory` over `CaseRepository.screen_pop` (indexed by phone)."""

    def __init__(self, cases: CaseRepository) -> None:
        self._cases = cases

    async def lookup(self, phone: str) -> CustomerInfo | None:
        pop = await self._cases.screen_pop(phone, limit=0)
        if pop is None:
            return None
        customer = pop.customer
        return CustomerInfo(
            tier=customer.tier or "regular",
            language=customer.language,
            customer_id=str(customer.id),
        )
