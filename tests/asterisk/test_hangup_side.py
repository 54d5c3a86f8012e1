"""Who hung up first on a talking Asterisk call reaches the queue_log: COMPLETEAGENT when the
agent did (the connect context's UserEvent after Dial option g), COMPLETECALLER when the
caller did, although Asterisk sends the agent leg's Hangup first in both cases. The fake
Asterisk sends the AMI frames over TCP as Asterisk does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from acd.call import CallState
from hotline.queue_log import QueueLog
from tests.asterisk.rig import Rig, make_rig


class Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, line: str) -> None:
        self.lines.append(line)

    def kinds(self, call_id: str) -> list[str]:
        return [line.split("|")[4] for line in self.lines if line.split("|")[1] == call_id]


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[tuple[Rig, Lines]]:
    rig = await make_rig(tmp_path / "rec")
    lines = Lines()
    qlog = QueueLog(rig.acd, lines)
    rig.control.hangups.on_ended_by = lambda call_id, agent: qlog.hung_up_by(call_id, agent=agent)
    yield rig, lines
    qlog.close()
    await rig.close()


async def talking(rig: Rig) -> str:
    rig.acd.login("1001")
    chan = rig.fake.new_channel()
    rig.fake.to_hold(chan)
    rig.control.enqueue(chan.uniqueid, chan.name, "booking", caller="+821012345678", dialed="1588")
    await rig.fake.wait_action("Redirect")
    await rig.barrier()
    rig.fake.answer(chan.uniqueid)
    await rig.barrier()
    assert rig.acd.calls[chan.uniqueid].state is CallState.ON_CALL
    return chan.uniqueid


async def test_the_agent_hanging_up_first_is_completeagent(rig: tuple[Rig, Lines]) -> None:
    r, lines = rig
    call_id = await talking(r)
    r.fake.agent_hangs_up(call_id)
    await r.barrier()
    assert call_id not in r.acd.calls
    assert lines.kinds(call_id) == ["ENTERQUEUE", "CONNECT", "COMPLETEAGENT"]
    assert lines.lines[-1].split("|")[3] == "1001"


async def test_the_caller_hanging_up_first_is_completecaller_though_the_agent_leg_goes_first(
    rig: tuple[Rig, Lines],
) -> None:
    r, lines = rig
    call_id = await talking(r)
    r.fake.caller_hangs_up_talking(call_id)
    await r.barrier()
    assert call_id not in r.acd.calls
    assert lines.kinds(call_id) == ["ENTERQUEUE", "CONNECT", "COMPLETECALLER"]


async def test_the_agent_hanging_up_before_the_survey_is_completeagent(rig: tuple[Rig, Lines]) -> None:
    r, lines = rig
    call_id = await talking(r)
    r.fake.agent_hangs_up(call_id, survey=True)  # the caller's channel stays for the survey's AGI
    await r.barrier()
    assert r.acd.calls[call_id].state is CallState.ON_CALL  # ended by the survey's AGI
    assert r.control.agent_left(call_id) is not None
    assert lines.kinds(call_id) == ["ENTERQUEUE", "CONNECT", "COMPLETEAGENT"]
    r.fake.hangup(call_id)  # after the survey
    await r.barrier()
    assert lines.kinds(call_id) == ["ENTERQUEUE", "CONNECT", "COMPLETEAGENT"]


async def test_a_mark_of_another_call_changes_nothing(rig: tuple[Rig, Lines]) -> None:
    r, lines = rig
    call_id = await talking(r)
    r.fake.emit("UserEvent", [("Channel", "PJSIP/9-1"), ("Uniqueid", "1.999"), ("UserEvent", "HotlineAgentHungUp")],
                privilege="user,all")
    r.fake.emit("UserEvent", [("Channel", "PJSIP/9-1"), ("Uniqueid", call_id), ("UserEvent", "SomethingElse")],
                privilege="user,all")
    r.fake.hangup(call_id)
    await r.barrier()
    assert lines.kinds(call_id)[-1] == "COMPLETECALLER"
