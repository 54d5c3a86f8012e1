"""AgiChannel (the IVR channel over FastAGI) against the fake Asterisk's FastAGI caller."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from asterisk.agi_channel import AgiChannel
from asterisk.fastagi import AgiSession, FastAgiServer
from asterisk.settings import AsteriskSettings
from ivr.channel import CallerHangup, DigitSpec, Input, InputKind, Prompt, TransferRequest
from tests.asterisk.fake_asterisk import AgiCallResult, CallerScript, FakeAsterisk

Script = Callable[[AgiChannel], Awaitable[object]]


@pytest.fixture
async def fake() -> AsyncIterator[FakeAsterisk]:
    fake = FakeAsterisk()
    yield fake
    await fake.close()


async def run(fake: FakeAsterisk, caller: CallerScript, script: Script, tmp_path: Path) -> tuple[object, AgiCallResult]:
    outcome: list[object] = []

    async def handler(session: AgiSession) -> None:
        channel = AgiChannel(session, AsteriskSettings(speech_dir=tmp_path))
        try:
            outcome.append(await script(channel))
        except Exception as exc:
            outcome.append(exc)

    server = FastAgiServer(handler, "127.0.0.1", 0)
    await server.start()
    try:
        result = await fake.agi_call(server.port, caller)
    finally:
        await server.close()
    return outcome[0], result


PROMPT = Prompt("Enter your number", "en", audio="en/enter", key="nodes.x.prompt")


async def test_digits_end_at_the_terminator(fake: FakeAsterisk, tmp_path: Path) -> None:
    spec = DigitSpec(max_digits=6, min_digits=1, timeout=5, inter_digit_timeout=2, terminator="#")
    got, result = await run(fake, CallerScript(keys=["1", "2", "#", "9"]),
                            lambda ch: ch.gather([PROMPT], digits=spec, speech=None), tmp_path)
    assert got == Input.dtmf("12")
    assert result.commands == ['STREAM FILE hotline/en/enter "0123456789*#"', "WAIT FOR DIGIT 2000", "WAIT FOR DIGIT 2000"]


async def test_inter_digit_timeout_returns_what_was_typed(fake: FakeAsterisk, tmp_path: Path) -> None:
    spec = DigitSpec(max_digits=4, timeout=5, inter_digit_timeout=3)
    got, _ = await run(fake, CallerScript(keys=["7", ""]),
                       lambda ch: ch.gather([PROMPT], digits=spec, speech=None), tmp_path)
    assert got == Input.dtmf("7")


async def test_no_key_at_all_is_no_input_after_the_first_digit_timeout(fake: FakeAsterisk, tmp_path: Path) -> None:
    spec = DigitSpec(max_digits=1, timeout=5)
    got, result = await run(fake, CallerScript(),
                            lambda ch: ch.gather([PROMPT], digits=spec, speech=None, barge_in=False), tmp_path)
    assert isinstance(got, Input) and got.kind is InputKind.NONE
    assert result.commands == ['STREAM FILE hotline/en/enter ""', "WAIT FOR DIGIT 5000"]


async def test_set_data_quotes_values_and_names_variables(fake: FakeAsterisk, tmp_path: Path) -> None:
    _, result = await run(fake, CallerScript(),
                          lambda ch: ch.set_data("booking ref", 'say "hi" \\ ok'), tmp_path)
    assert result.commands == ['SET VARIABLE HOTLINE_DATA_BOOKING_REF "say \\"hi\\" \\\\ ok"']


async def test_prompt_without_audio_is_skipped_and_noted(fake: FakeAsterisk, tmp_path: Path) -> None:
    async def script(ch: AgiChannel) -> list[str]:
        await ch.play([Prompt("no file", "en", key="nodes.a.prompt"), PROMPT])
        return ch.missing_audio

    got, result = await run(fake, CallerScript(), script, tmp_path)
    assert got == ["nodes.a.prompt"]
    assert result.commands == ['STREAM FILE hotline/en/enter ""']


async def test_hangup_during_a_prompt_raises_caller_hangup_and_stops(fake: FakeAsterisk, tmp_path: Path) -> None:
    async def script(ch: AgiChannel) -> None:
        await ch.play([PROMPT, PROMPT, PROMPT])

    got, result = await run(fake, CallerScript(hangup_at=1), script, tmp_path)
    assert isinstance(got, CallerHangup)
    assert len(result.commands) == 2 and result.hung_up


async def test_transfer_sets_the_queue_last(fake: FakeAsterisk, tmp_path: Path) -> None:
    request = TransferRequest("refund", skills={"refund": 3, "lang_ko": 5}, priority=2, tier="vip", language="ko")
    _, result = await run(fake, CallerScript(), lambda ch: ch.transfer(request), tmp_path)
    names = [c.split(" ")[2] for c in result.commands]
    assert names[-1] == "HOTLINE_QUEUE" and set(names) == {
        "HOTLINE_PRIORITY", "HOTLINE_TIER", "HOTLINE_LANGUAGE", "HOTLINE_SKILLS", "HOTLINE_QUEUED_AT", "HOTLINE_QUEUE"}
    assert result.channel.variables["HOTLINE_SKILLS"] == "lang_ko:5,refund:3"
