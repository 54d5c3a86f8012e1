"""Customers are keyed by E.164: every written form of a number is one customer."""

from __future__ import annotations

from pathlib import Path

from casestore import StoreSettings, open_store


async def test_the_case_store_keeps_one_customer_for_every_form(db_url: str, tmp_path: Path) -> None:
    async with open_store(StoreSettings(url=db_url, data_dir=tmp_path)) as store:
        for raw in ("010-1234-5678", "+82 10-1234-5678", "sip:+821012345678@pbx.example.com"):
            await store.cases.upsert_customer(raw)
        assert await store.cases.count("customers") == 1
        pop = await store.cases.screen_pop("010.1234.5678")
        assert pop is not None and pop.customer.phone == "+821012345678"
