"""The event table on Asterisk's own event streams: the real captures of app_queue calls fed
through the parser into CallControl and the ACD (what app_queue did, Hotline's core follows)."""

from __future__ import annotations

from dataclasses import dataclass, field

from acd.agent import AgentConfig
from acd.clock import VirtualClock
from acd.engine import Acd
from acd.events import CallAnswered, CallAssigned, CallEnded, CallRingNoAnswer, Event
from acd.queue import QueueConfig
from asterisk.ami_client import ActionResult
from asterisk.ami_parser import AmiMessage, AmiParser, Kind
from asterisk.control import CallControl
from asterisk.settings import AsteriskSettings
from tests.asterisk.transcripts import ami_server_bytes


@dataclass
class RecordingAmi:
    """A hand-written ActionSender: records actions, answers Success."""

    actions: list[tuple[str, dict[str, str | list[str]]]] = field(default_factory=list)

    async def action(
        self, name: str, fields: dict[str, str | list[str]] | None = None, *, within: float | None = None
    ) -> ActionResult:
        self.actions.append((name, dict(fields or {})))
        return ActionResult(AmiMessage(Kind.RESPONSE, "Success", {"Response": "Success"}))


def setup(*agent_ids: str) -> tuple[Acd, CallControl, RecordingAmi, VirtualClock, list[Event]]:
    clock = VirtualClock(1_000.0)
    acd = Acd(clock, [QueueConfig("hotline", ring_timeout=None, wrap_up=None)])
    events: list[Event] = []
    acd.subscribe(events.append)
    for agent_id in agent_ids:
        acd.add_agent(AgentConfig(agent_id))
        acd.login(agent_id)
        clock.advance(1)
    ami = RecordingAmi()
    control = CallControl(acd, AsteriskSettings(), ami, defer=lambda fn: fn())
    return acd, control, ami, clock, events


async def feed(control: CallControl, name: str) -> int:
    """Every event of the capture, letting the actions they trigger run in between."""
    messages = AmiParser().feed(ami_server_bytes(name))
    for message in messages:
        if message.kind is Kind.EVENT:
            control.handle_ami(message)
            await control.drain()
    return len(messages)


async def test_queue_call_answered_then_caller_hangs_up() -> None:
    acd, control, ami, _, events = setup("1001")
    control.enqueue("1795422444.13", "PJSIP/2001-00000001", "hotline", caller="2001", dialed="6000")
    await control.drain()
    await feed(control, "d-queue-call-agent-answer-ami.txt")
    await control.drain()
    assert [type(e).__name__ for e in events if isinstance(e, CallAssigned | CallAnswered | CallEnded)] == [
        "CallAssigned", "CallAnswered", "CallEnded",
    ]
    assert ami.actions[0] == ("Redirect", {"Channel": "PJSIP/2001-00000001", "Context": "hotline-connect",
                                           "Exten": "1001", "Priority": "1"})
    # baresip stops at the end of the capture: the agent's phone is unreachable -> paused
    assert acd.agents["1001"].pause_reason == "device_offline"
    assert control.unknown_events > 100  # app_queue's, VarSet, CEL...: ignored


async def test_ring_no_answer_then_the_next_agent_answers() -> None:
    acd, control, ami, _, events = setup("1003", "1001")
    control.enqueue("1795422465.15", "PJSIP/2001-00000003", "hotline", caller="2001", dialed="6001")
    assert acd.calls["1795422465.15"].agent_id == "1003"  # idle longest
    await control.drain()
    await feed(control, "d2-queue-ringnoanswer-then-connect-ami.txt")
    await control.drain()
    rna = [e for e in events if isinstance(e, CallRingNoAnswer)]
    assert [(e.agent_id) for e in rna] == ["1003"]
    assigned = [e.agent_id for e in events if isinstance(e, CallAssigned)]
    answered = [e.agent_id for e in events if isinstance(e, CallAnswered)]
    assert assigned == ["1003", "1001"] and answered == ["1001"]
    assert [a[1]["Exten"] for a in ami.actions if a[0] == "Redirect"] == ["1003", "1001"]
    assert acd.agents["1003"].pause_reason == "ring_no_answer"


async def test_caller_abandons_while_waiting() -> None:
    acd, control, _, _, events = setup()
    text = ami_server_bytes("d3-queue-caller-abandon-ami.txt").decode()
    caller = next(line.split(": ")[1] for line in text.split("\r\n") if line.startswith("Uniqueid: "))
    control.enqueue(caller, "PJSIP/2001-x", "hotline")
    await feed(control, "d3-queue-caller-abandon-ami.txt")
    assert caller not in acd.calls
    assert [type(e).__name__ for e in events][-1] == "CallAbandoned"
