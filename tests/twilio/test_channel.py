"""The webhook/interpreter bridge on its own: documents handed out, answers delivered."""

from __future__ import annotations

import asyncio
import dataclasses
import xml.etree.ElementTree as ET

import pytest

from acd.clock import VirtualClock
from ivr.channel import (
    CallerHangup,
    DigitSpec,
    Input,
    InputKind,
    Prompt,
    SpeechSpec,
    TransferRequest,
)
from twilio_gateway.channel import TwilioChannel

from .conftest import make_settings
from .fakes import call_sid


async def no_transfer(channel: TwilioChannel, request: TransferRequest, prompts: list[Prompt]) -> str:
    raise AssertionError("no transfer expected")


def channel(**settings: object) -> TwilioChannel:
    return TwilioChannel(
        call_sid(1), caller="+821012345678", dialed="+8215990000",
        settings=dataclasses.replace(make_settings(), **settings), clock=VirtualClock(),
        on_transfer=no_transfer, speech_languages=frozenset({"ko"}),
    )


async def test_played_prompts_lead_the_next_question_and_the_answer_comes_back() -> None:
    ch = channel()
    await ch.play([Prompt("안녕하세요.", "ko")])
    asking = asyncio.create_task(ch.gather([Prompt("번호를 누르세요.", "ko")], digits=DigitSpec(), speech=None))
    doc = ET.fromstring(await ch.next_document())
    assert [s.text for s in doc.findall("Gather/Say")] == ["안녕하세요.", "번호를 누르세요."]
    assert not ch.deliver(2, Input.dtmf("9"))  # not the open question
    assert ch.deliver(1, Input.dtmf("3"))
    assert (await asking).digits == "3"
    await ch.play([Prompt("안녕히 계세요.", "ko")])
    await ch.hangup()
    bye = ET.fromstring(await ch.next_document())
    assert [e.tag for e in bye] == ["Say", "Hangup"]


@pytest.mark.parametrize(("fallback", "inputs"), [(False, "dtmf"), (True, "speech dtmf")])
async def test_language_without_our_model_uses_keys_or_twilio_speech(fallback: bool, inputs: str) -> None:
    ch = channel(speech_fallback=fallback)
    asking = asyncio.create_task(ch.gather(
        [Prompt("Say booking or press 1.", "en")], digits=DigitSpec(), speech=SpeechSpec("en", ("booking",)),
    ))
    doc = ET.fromstring(await ch.next_document())
    gather = doc.find("Gather")
    assert gather is not None and gather.get("input") == inputs
    assert doc.find("Connect") is None
    if fallback:
        assert (gather.get("language"), gather.get("hints")) == ("en-US", "booking")
    ch.deliver(1, Input.none())
    assert (await asking).kind is InputKind.NONE


async def test_hang_up_during_a_question_raises_in_the_interpreter() -> None:
    ch = channel()
    asking = asyncio.create_task(ch.gather([], digits=DigitSpec(), speech=None))
    await ch.next_document()
    ch.caller_gone()
    with pytest.raises(CallerHangup):
        await asking
    with pytest.raises(CallerHangup):
        await ch.play([Prompt("x", "ko")])


async def test_slow_ivr_gets_a_pause_and_redirect_instead_of_a_timeout() -> None:
    ch = channel(response_timeout=0.01)
    doc = ET.fromstring(await ch.next_document())
    assert [e.tag for e in doc] == ["Pause", "Redirect"]
    assert doc.find("Redirect").text == f"https://hotline.example.com/twilio/resume?call={call_sid(1)}"  # type: ignore[union-attr]
