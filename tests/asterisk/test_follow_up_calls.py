"""Follow-up calls on Asterisk (asterisk/follow_up.py), against the fake Asterisk: the call is
reserved for the agent who took the task (acd/targeted.py), that agent's phone is
Originated (bytes on the AMI socket checked), the customer dialled and bridged to them, and
the outcome (reached / no answer / busy / failed / released) goes to the hooks."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from acd.follow_up import FollowUpOutcome
from acd.targeted import TargetedCalls
from asterisk.follow_up import AsteriskFollowUps
from tests.asterisk.rig import Rig, make_rig

NUMBER = "+821012345678"


class Outcomes:
    def __init__(self) -> None:
        self.seen: list[tuple[str, FollowUpOutcome]] = []
        self.changed = asyncio.Event()

    def __call__(self, call_id: str, outcome: FollowUpOutcome) -> None:
        self.seen.append((call_id, outcome))
        self.changed.set()

    async def wait(self, count: int) -> None:
        async def until() -> None:
            while len(self.seen) < count:
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(until(), 5.0)


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    rig = await make_rig(tmp_path / "rec")
    yield rig
    await rig.close()


def follow_ups(rig: Rig) -> tuple[AsteriskFollowUps, Outcomes]:
    dialler = AsteriskFollowUps(rig.control.callbacks, TargetedCalls(rig.acd))
    outcomes = Outcomes()
    dialler.add_outcome_hook(outcomes)
    return dialler, outcomes


def originate_bytes(rig: Rig) -> bytes:
    raw = [r for r in rig.fake.raw if r.startswith(b"Action: Originate\r\n")]
    assert len(raw) == 1, raw
    return re.sub(rb"ActionID: [^\r]*\r\n", b"", raw[0])


async def test_the_taking_agent_is_originated_not_the_longer_idle_one_and_reached(rig: Rig) -> None:
    dialler, outcomes = follow_ups(rig)
    rig.acd.login("1001")  # idle longest, best skill: the queue's pick for any other call
    rig.acd.login("1002")
    dialler.place("followup-7-1", "booking", NUMBER, "1002", wait=300)
    await rig.fake.wait_action("Originate")
    assert originate_bytes(rig) == (
        b"Action: Originate\r\n"
        b"Channel: PJSIP/1002\r\n"
        b"Context: hotline-callback\r\n"
        b"Exten: s\r\n"
        b"Priority: 1\r\n"
        b'CallerID: "Follow-up" <+821012345678>\r\n'
        b"Timeout: 20000\r\n"
        b"Async: true\r\n"
        b"ChannelId: followup-7-1-cb1\r\n"
        b"Variable: HOTLINE_CALL=followup-7-1\r\n"
        b"Variable: HOTLINE_CB_DIAL=PJSIP/+821012345678@trunk\r\n"
        b"Variable: HOTLINE_CB_TIMEOUT=30\r\n"
        b"Variable: HOTLINE_CB_ATTEMPTS=3\r\n"
        b"Variable: HOTLINE_CB_DELAY=20\r\n"
        b"Variable: HOTLINE_CB_CID=1588\r\n"
        b"\r\n"
    )
    assert rig.state("1001") == "available" and rig.state("1002") == "ringing"
    rig.fake.answer_originate("followup-7-1-cb1")
    await rig.barrier()
    assert rig.state("1002") == "on_call"
    rig.fake.customer_answers("followup-7-1-cb1")
    await rig.barrier()
    rig.fake.hangup("followup-7-1-cb1")
    await outcomes.wait(1)
    assert outcomes.seen == [("followup-7-1", FollowUpOutcome.REACHED)]
    assert len(rig.fake.received("Originate")) == 1
    assert rig.state("1001") == "available"


async def test_a_busy_agent_is_waited_for_then_a_busy_customer(rig: Rig) -> None:
    dialler, outcomes = follow_ups(rig)
    rig.acd.login("1001")
    rig.acd.login("1002")
    rig.acd.pause("1002", "break")
    dialler.place("followup-8-1", "booking", NUMBER, "1002", wait=300)
    await rig.barrier()
    assert rig.fake.received("Originate") == []  # 1001 is free and not rung
    rig.acd.unpause("1002")
    originate = await rig.fake.wait_action("Originate")
    assert originate["Channel"] == "PJSIP/1002"
    rig.fake.answer_originate(originate["ChannelId"])
    await rig.barrier()
    for _ in range(3):  # every attempt of the dialplan finds the line busy
        rig.fake.customer_fails(originate["ChannelId"], "BUSY")
        await rig.barrier()
    await outcomes.wait(1)
    assert outcomes.seen == [("followup-8-1", FollowUpOutcome.BUSY)]


@pytest.mark.parametrize(("statuses", "outcome"), [
    (("NOANSWER", "BUSY", "NOANSWER"), FollowUpOutcome.NO_ANSWER),
    (("CHANUNAVAIL", "CONGESTION", "CHANUNAVAIL"), FollowUpOutcome.FAILED),
])
async def test_customer_not_reached(rig: Rig, statuses: tuple[str, ...], outcome: FollowUpOutcome) -> None:
    dialler, outcomes = follow_ups(rig)
    rig.acd.login("1001")
    dialler.place("followup-9-1", "booking", NUMBER, "1001", wait=300)
    originate = await rig.fake.wait_action("Originate")
    rig.fake.answer_originate(originate["ChannelId"])
    await rig.barrier()
    for status in statuses:
        rig.fake.customer_fails(originate["ChannelId"], status)
        await rig.barrier()
    await outcomes.wait(1)
    assert outcomes.seen == [("followup-9-1", outcome)]


async def test_the_agent_logging_out_releases_the_call_and_nobody_is_rung(rig: Rig) -> None:
    dialler, outcomes = follow_ups(rig)
    rig.acd.login("1001")
    rig.acd.login("1002")
    rig.acd.pause("1002", "break")
    dialler.place("followup-10-1", "booking", NUMBER, "1002", wait=300)
    rig.acd.logout("1002")
    await outcomes.wait(1)
    await rig.barrier()
    assert outcomes.seen == [("followup-10-1", FollowUpOutcome.RELEASED)]
    assert rig.fake.received("Originate") == []
    assert "followup-10-1" not in rig.acd.calls and "followup-10-1" not in rig.control.callbacks.calls


async def test_a_follow_up_from_before_a_restart_still_reports_its_outcome(rig: Rig) -> None:
    before, _ = follow_ups(rig)
    rig.acd.login("1001")
    before.place("followup-11-1", "booking", NUMBER, "1001", wait=300)
    originate = await rig.fake.wait_action("Originate")
    before.close()  # the process that placed it is gone; the ACD (journal) and Asterisk keep the call
    after = AsteriskFollowUps(rig.control.callbacks, TargetedCalls(rig.acd))
    outcomes = Outcomes()
    after.add_outcome_hook(outcomes)
    rig.fake.answer_originate(originate["ChannelId"])
    await rig.barrier()
    rig.fake.customer_answers(originate["ChannelId"])
    await rig.barrier()
    rig.fake.hangup(originate["ChannelId"])
    await outcomes.wait(1)
    assert outcomes.seen == [("followup-11-1", FollowUpOutcome.REACHED)]
