from __future__ import annotations

import asyncio

import pytest

from acd.clock import VirtualClock
from ivr.channel import Input
from ivr.events import OutcomeKind
from ivr.interpreter import run_menu
from ivr.registry import MenuError, MenuRegistry
from tests.ivr.fakes import FakeChannel

V1 = """\
menu: hotline
languages: [en]
start: main
nodes:
  main:
    kind: menu
    prompt: {en: "Press 1 for sales"}
    options:
      - {dtmf: 1, next: sales}
  sales:
    kind: transfer
    queue: sales
"""
V2 = V1.replace("Press 1 for sales", "Press 1 for support").replace(
    "queue: sales", "queue: support"
)
BROKEN = V1.replace("next: sales}", "next: nowhere}")


def test_load_activates_new_versions_and_rejects_broken_menus() -> None:
    reg = MenuRegistry(VirtualClock(100.0))
    first = reg.load(V1, "hotline.yaml")
    assert first.ok and first.menu is not None and first.menu.version == 1
    assert reg.get("hotline").version == 1
    broken = reg.load(BROKEN, "hotline.yaml")
    assert not broken.ok and broken.menu is None
    assert "unknown target 'nowhere'" in broken.errors[0].message
    assert reg.get("hotline") is first.menu  # the running menu stays
    assert reg.version_numbers("hotline") == [1]
    second = reg.load(V2, "hotline.yaml")
    assert second.menu is not None and second.menu.version == 2
    assert reg.get("hotline") is second.menu
    assert reg.versions("hotline")[1].loaded_at == 100.0


def test_reloading_the_same_text_is_not_a_new_version() -> None:
    reg = MenuRegistry()
    reg.load(V1)
    again = reg.load(V1)
    assert again.menu is reg.get("hotline")
    assert reg.version_numbers("hotline") == [1]


def test_activate_and_rollback() -> None:
    reg = MenuRegistry()
    activated: list[int] = []
    reg.subscribe(lambda v: activated.append(v.version))
    reg.load(V1)
    reg.load(V2)
    assert reg.rollback("hotline").version == 1
    assert reg.get("hotline").nodes["sales"].transfer is not None
    assert reg.activate("hotline", 2).version == 2
    assert activated == [1, 2, 1, 2]
    with pytest.raises(MenuError, match="no version 7"):
        reg.activate("hotline", 7)
    with pytest.raises(MenuError, match="no active menu"):
        reg.get("other")
    reg.activate("hotline", 1)
    with pytest.raises(MenuError, match="no earlier version"):
        reg.rollback("hotline")


def test_staged_load_does_not_activate() -> None:
    reg = MenuRegistry()
    reg.load(V1)
    staged = reg.load(V2, activate=False)
    assert staged.menu is not None and staged.menu.version == 2
    assert reg.get("hotline").version == 1


def test_history_is_bounded_but_keeps_the_active_version() -> None:
    reg = MenuRegistry(keep=2)
    reg.load(V1)
    reg.load(V2, activate=False)
    reg.load(V2.replace("support", "help"), activate=False)
    assert reg.version_numbers("hotline") == [1, 3]
    assert reg.get("hotline").version == 1


def test_queue_names_are_checked_when_known() -> None:
    reg = MenuRegistry(queues={"sales"})
    assert reg.load(V1).ok
    result = reg.load(V2)
    assert not result.ok and "unknown queue 'support'" in result.errors[0].message
    assert reg.get("hotline").version == 1


async def test_calls_in_progress_finish_on_the_version_they_started_with() -> None:
    reg = MenuRegistry()
    reg.load(V1)
    answer: asyncio.Future[Input] = asyncio.get_running_loop().create_future()
    listening = asyncio.Event()

    class SlowCaller(FakeChannel):
        async def gather(self, prompts, *, digits, speech, barge_in=True):  # type: ignore[no-untyped-def]
            await super().gather(prompts, digits=digits, speech=speech, barge_in=barge_in)
            listening.set()
            return await answer

    ch = SlowCaller()
    call = asyncio.create_task(run_menu(reg.get("hotline"), ch, clock=VirtualClock()))
    await asyncio.wait_for(listening.wait(), 5)  # the caller hears version 1's prompt
    assert ch.played[0].text == "Press 1 for sales"
    reg.load(V2)  # reloaded meanwhile
    answer.set_result(Input.dtmf("1"))
    out = await asyncio.wait_for(call, 5)
    assert out.kind is OutcomeKind.TRANSFER and out.version == 1
    assert out.transfer is not None and out.transfer.queue == "sales"
    new = await run_menu(reg.get("hotline"), FakeChannel([Input.dtmf("1")]), clock=VirtualClock())
    assert new.version == 2 and new.transfer is not None and new.transfer.queue == "support"
