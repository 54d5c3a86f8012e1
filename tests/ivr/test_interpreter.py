from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from acd.clock import VirtualClock
from ivr.channel import CallerHangup, ChannelError, Input, InputKind
from ivr.directory import CustomerInfo, StaticDirectory
from ivr.emergency import EmergencyState
from ivr.events import DataSet, InputReceived, InputResult, IvrEvent, IvrOutcome, NodeEntered
from ivr.events import OutcomeKind as K
from ivr.interpreter import IvrSettings, run_menu
from ivr.menu import Menu
from ivr.speech import SpeechError
from tests.ivr.fakes import FakeChannel, airline, load, said

SEOUL = ZoneInfo("Asia/Seoul")


def at(*args: int) -> VirtualClock:
    return VirtualClock(dt.datetime(*args, tzinfo=SEOUL).timestamp())  # type: ignore[misc]


OPEN = (2026, 11, 23, 10, 0)  # a Monday, 10:00 in Seoul
SUNDAY = (2026, 11, 22, 10, 0)
KO, EN = Input.dtmf("1"), Input.dtmf("2")  # answers to the language menu


async def walk(
    menu: Menu, channel: FakeChannel, clock: VirtualClock | None = None, **kw: Any
) -> tuple[IvrOutcome, list[IvrEvent]]:
    events: list[IvrEvent] = []
    outcome = await run_menu(menu, channel, clock=clock or at(*OPEN), on_event=events.append, **kw)
    return outcome, events


async def test_dtmf_booking_path_collects_a_valid_reference_and_transfers() -> None:
    ch = FakeChannel.answering([KO, Input.dtmf("1"), Input.dtmf("123455")])
    out, events = await walk(airline(), ch)
    assert out.kind is K.TRANSFER
    assert out.path == (
        "welcome",
        "disruption",
        "hours",
        "identify",
        "language",
        "main",
        "booking_ref",
        "booking_queue",
    )
    assert ch.transfers == [out.transfer]
    assert out.transfer is not None
    assert out.transfer.queue == "booking" and out.transfer.skills == {"booking": 3}
    assert out.transfer.tier == "regular" and out.transfer.language == "ko"
    assert out.transfer.data == {"language": "ko", "booking_ref": "123455"}
    assert ch.data == {"language": "ko", "booking_ref": "123455"}
    assert [e.node for e in events if isinstance(e, NodeEntered)] == list(out.path)
    assert events[-1] == out
    booking = ch.gathers[2]
    assert booking.digits is not None and booking.digits.max_digits == 6
    assert booking.speech is None


async def test_spoken_keyword_routes_with_a_grammar_of_the_nodes_keywords() -> None:
    ch = FakeChannel.answering([KO, said("환불"), Input.dtmf("1234567890124")])
    out, events = await walk(airline(), ch)
    assert out.transfer is not None and out.transfer.queue == "refund"
    main = ch.gathers[1]
    assert main.speech is not None
    assert main.speech.language == "ko"
    assert main.speech.grammar == ("예약", "환불", "상담원")
    assert main.digits is not None and main.digits.max_digits == 1
    speech = [e for e in events if isinstance(e, InputReceived) and e.kind is InputKind.SPEECH]
    assert [(e.value, e.confidence, e.result, e.option) for e in speech] == [
        ("환불", 1.0, InputResult.MATCH, "ticket_number")
    ]
    assert out.data["ticket_number"] == "1234567890124"


async def test_english_caller_hears_english_and_speaks_english_keywords() -> None:
    ch = FakeChannel.answering([EN, said("operator")])
    out, _ = await walk(airline(), ch)
    assert out.transfer is not None and out.transfer.queue == "general"
    assert out.transfer.language == "en"
    assert ch.gathers[1].speech is not None
    assert ch.gathers[1].speech.grammar == (
        "booking",
        "reservation",
        "refund",
        "baggage",
        "luggage",
        "agent",
        "operator",
    )
    assert ch.played[-1].text == "Connecting you to an agent." and ch.played[-1].language == "en"


async def test_low_confidence_is_a_no_match_then_dtmf_only_after_two_speech_failures() -> None:
    ch = FakeChannel.answering([KO, said("환불", 0.6), said("예약", 0.94), Input.dtmf("0")])
    out, events = await walk(airline(), ch)
    assert out.transfer is not None and out.transfer.queue == "general"
    main = ch.gathers[1:]
    assert [g.speech is not None for g in main] == [True, True, False]
    # the retry starts with the no-match prompt; the keys-only attempt ends with dtmf_fallback
    assert main[1].prompts[0].text == "잘 알아듣지 못했습니다."
    assert main[2].prompts[-1].text == "전화기의 번호를 눌러 주세요."
    results = [e.result for e in events if isinstance(e, InputReceived) and e.node == "main"]
    assert results == [InputResult.LOW_CONFIDENCE, InputResult.LOW_CONFIDENCE, InputResult.MATCH]


async def test_confidence_threshold_is_configurable() -> None:
    ch = FakeChannel.answering([KO, said("환불", 0.6), Input.dtmf("1234567890124")])
    out, _ = await walk(airline(), ch, settings=IvrSettings(confidence=0.5))
    assert out.transfer is not None and out.transfer.queue == "refund"


async def test_out_of_grammar_text_is_a_no_match() -> None:
    ch = FakeChannel.answering([KO, said("수하물"), Input.dtmf("2"), Input.dtmf("1234567890124")])
    out, events = await walk(airline(), ch)
    assert out.transfer is not None and out.transfer.queue == "refund"
    first = next(e for e in events if isinstance(e, InputReceived) and e.node == "main")
    assert first.result is InputResult.NO_MATCH


async def test_keywords_of_two_options_in_one_utterance_are_ambiguous() -> None:
    ch = FakeChannel.answering(
        [KO, said("상담원 예약"), said("네 환불 환불"), Input.dtmf("1234567890124")]
    )
    out, events = await walk(airline(), ch)
    main = [e for e in events if isinstance(e, InputReceived) and e.node == "main"]
    assert [e.result for e in main] == [InputResult.NO_MATCH, InputResult.MATCH]
    assert out.transfer is not None and out.transfer.queue == "refund"


async def test_no_input_retries_then_on_failure() -> None:
    ch = FakeChannel.answering([KO])  # then silence
    out, events = await walk(airline(), ch)
    assert out.path[-2:] == ("main", "agent")
    assert out.transfer is not None and out.transfer.queue == "general"
    main = [g for g in ch.gathers[1:]]
    assert len(main) == 3  # first attempt + 2 retries
    assert main[0].prompts[0].text.startswith("예약은")
    assert main[1].prompts[0].text == "입력이 없습니다."
    no_input = [e for e in events if isinstance(e, InputReceived) and e.node == "main"]
    assert [(e.kind, e.result, e.attempt) for e in no_input] == [
        (InputKind.NONE, InputResult.NO_INPUT, 1),
        (InputKind.NONE, InputResult.NO_INPUT, 2),
        (InputKind.NONE, InputResult.NO_INPUT, 3),
    ]


async def test_invalid_entries_are_rejected_by_checksum_length_and_pattern() -> None:
    ch = FakeChannel.answering(
        [KO, Input.dtmf("1"), Input.dtmf("123456"), Input.dtmf("12345"), Input.dtmf("123455")]
    )
    out, events = await walk(airline(), ch)
    results = [e.result for e in events if isinstance(e, InputReceived) and e.node == "booking_ref"]
    assert results == [InputResult.NO_MATCH, InputResult.NO_MATCH, InputResult.MATCH]
    assert out.data["booking_ref"] == "123455"
    assert ch.gathers[3].prompts[0].text == "예약 번호가 올바르지 않습니다."


async def test_closed_on_sunday_offers_a_callback_accepted_by_voice() -> None:
    ch = FakeChannel.answering([said("네")])
    out, _ = await walk(airline(), ch, at(*SUNDAY))
    assert out.kind is K.CALLBACK
    assert out.path == ("welcome", "disruption", "hours", "closed")
    assert out.transfer is not None
    assert out.transfer.queue == "general"
    assert out.transfer.callback_number == "+821012345678"
    assert ch.transfers == [out.transfer]
    assert ch.played[-1].text == "다음 영업일에 연락드리겠습니다."
    grammar = ch.gathers[0].speech
    assert grammar is not None and grammar.grammar == ("네", "아니요")


async def test_declined_callback_says_goodbye_and_hangs_up() -> None:
    ch = FakeChannel.answering([said("아니요")])
    out, _ = await walk(airline(), ch, at(*SUNDAY))
    assert out.kind is K.HANGUP
    assert out.path[-1] == "goodbye"
    assert ch.hangups == 1 and ch.transfers == []


async def test_withheld_number_gets_no_callback_offer() -> None:
    ch = FakeChannel.answering([], caller=None)
    out, _ = await walk(airline(), ch, at(*SUNDAY))
    assert out.path == ("welcome", "disruption", "hours", "closed", "goodbye")
    assert ch.gathers == []


async def test_holidays_and_special_hours() -> None:
    for when, node in [
        ((2026, 12, 25, 10, 0), "closed"),  # Christmas, a Friday
        ((2026, 12, 31, 10, 0), "identify"),  # New Year's Eve: 09:00-15:00
        ((2026, 12, 31, 16, 0), "closed"),
        ((2026, 11, 23, 7, 59), "closed"),  # Monday before opening
        ((2026, 11, 23, 19, 59), "identify"),
        ((2026, 11, 28, 17, 0), "identify"),  # Saturday 09-18
    ]:
        ch = FakeChannel.answering([Input.dtmf("2"), hangup_answer()])
        out, _ = await walk(airline(), ch, at(*when))
        assert out.path[3] == node, when


def hangup_answer() -> CallerHangup:
    return CallerHangup("caller hung up")


async def test_emergency_override_announces_and_reroutes() -> None:
    state = EmergencyState()
    state.activate(0.0, "sup-1", {"ko": "태풍으로 결항이 있습니다."})
    ch = FakeChannel.answering([])
    out, _ = await walk(airline(), ch, emergency=state)
    assert out.path == ("welcome", "disruption", "disruption_queue")
    assert out.transfer is not None and out.transfer.queue == "emergency"
    assert out.transfer.priority == 5
    assert [p.text for p in ch.played][1] == "태풍으로 결항이 있습니다."
    # without the supervisor's text the menu's announcement plays; out of scope: normal flow
    state.activate(0.0, "sup-1")
    ch = FakeChannel.answering([])
    await walk(airline(), ch, emergency=state)
    assert ch.played[1].text.startswith("현재 운항 차질")
    state.activate(0.0, "sup-1", scope=frozenset({"other"}))
    out, _ = await walk(airline(), FakeChannel.answering([hangup_answer()]), emergency=state)
    assert out.path[2] == "hours"
    state.clear()
    out, _ = await walk(airline(), FakeChannel.answering([hangup_answer()]), emergency=state)
    assert out.path[2] == "hours"


async def test_known_caller_gets_tier_and_language_and_skips_language_menu() -> None:
    directory = StaticDirectory({"+821012345678": CustomerInfo("vip", "en")})
    ch = FakeChannel.answering([said("refund"), Input.dtmf("1234567890124")])
    out, events = await walk(airline(), ch, directory=directory)
    assert "language" in out.path  # entered, but did not ask
    assert ch.gathers[0].speech is not None and ch.gathers[0].speech.language == "en"
    assert out.transfer is not None and out.transfer.tier == "vip"
    assert out.transfer.language == "en"
    assert [(e.key, e.value) for e in events if isinstance(e, DataSet)][:2] == [
        ("tier", "vip"),
        ("language", "en"),
    ]


class _BrokenDirectory:
    async def lookup(self, phone: str) -> CustomerInfo | None:
        raise RuntimeError("database down")


class _StuckDirectory:
    def __init__(self) -> None:
        self.never = asyncio.Event()

    async def lookup(self, phone: str) -> CustomerInfo | None:
        await self.never.wait()
        return None


async def test_directory_failure_or_timeout_means_unknown_caller() -> None:
    for directory in (_BrokenDirectory(), _StuckDirectory()):
        ch = FakeChannel.answering([KO, Input.dtmf("0")])
        out, _ = await walk(
            airline(), ch, directory=directory, settings=IvrSettings(lookup_timeout=0.01)
        )
        assert out.transfer is not None and out.transfer.tier == "regular"


async def test_survey_entry_by_dtmf_and_speech() -> None:
    ch = FakeChannel.answering([Input.dtmf("7"), Input.dtmf("5")])
    out, events = await walk(airline(), ch, start="survey")
    assert out.kind is K.HANGUP and out.path == ("survey", "goodbye")
    assert out.data == {"survey_score": "5"}
    results = [e.result for e in events if isinstance(e, InputReceived)]
    assert results == [InputResult.NO_MATCH, InputResult.MATCH]
    ch = FakeChannel.answering([said("four")])
    out, _ = await walk(airline(), ch, start="survey", language="en")
    assert out.data == {"survey_score": "4"}
    assert ch.gathers[0].speech is not None
    assert ch.gathers[0].speech.grammar == ("one", "two", "three", "four", "five")
    # Korean has no survey keywords: keys only
    ch = FakeChannel.answering([Input.dtmf("3")])
    await walk(airline(), ch, start="survey")
    assert ch.gathers[0].speech is None


async def test_caller_hangup_is_abandoned_and_channel_failure_is_failed() -> None:
    out, events = await walk(airline(), FakeChannel.answering([KO, hangup_answer()]))
    assert out.kind is K.ABANDONED and out.node == "main"
    assert isinstance(events[-1], IvrOutcome)
    out, _ = await walk(airline(), FakeChannel.answering([ChannelError("AGI connection lost")]))
    assert out.kind is K.FAILED and "AGI connection lost" in out.reason


SMALL = """
menu: small
languages: [en]
start: intro
settings: {max_steps: 7, retries: 1}
nodes:
  intro:
    kind: prompt
    prompt: {en: Hello}
    next: again
  again:
    kind: menu
    prompt: {en: "1 to hear this again, 2 to leave a word, 3 to go"}
    options:
      - {dtmf: 1, next: jump}
      - {dtmf: 2, next: word}
      - {dtmf: 3, keywords: {en: [bye]}, next: bye}
  jump:
    kind: goto
    target: again
  word:
    kind: collect
    input: speech
    prompt: {en: Say a colour}
    grammar: {en: [red, green]}
    store: colour
    next: free
  free:
    kind: collect
    input: speech
    prompt: {en: Say anything}
    store: remark
    next: bye
  bye:
    kind: hangup
    reason: done
    prompt: {en: Bye}
"""


async def test_goto_prompt_hangup_and_spoken_collects() -> None:
    ch = FakeChannel.answering(
        [Input.dtmf("1"), Input.dtmf("2"), said("blue"), said("Green"), said("nice service")]
    )
    out, _ = await walk(load(SMALL), ch)
    assert out.kind is K.HANGUP and out.reason == "done"
    assert out.path == ("intro", "again", "jump", "again", "word", "free", "bye")
    assert out.data == {"colour": "green", "remark": "nice service"}
    assert ch.gathers[2].speech is not None and ch.gathers[2].speech.grammar == ("red", "green")
    assert ch.gathers[4].speech is not None and ch.gathers[4].speech.grammar is None
    assert ch.gathers[2].digits is not None  # keys are still heard (and are no match)
    assert ch.hangups == 1 and ch.played[-1].text == "Bye"


async def test_loop_bound_stops_a_caller_going_round_in_circles() -> None:
    ch = FakeChannel.answering([Input.dtmf("1")] * 20)
    out, events = await walk(load(SMALL), ch)
    assert out.kind is K.FAILED and out.reason == "max_steps"
    assert out.steps == 7
    assert len([e for e in events if isinstance(e, NodeEntered)]) == 7
    out, _ = await walk(
        load(SMALL),
        FakeChannel.answering([Input.dtmf("1")] * 20),
        settings=IvrSettings(max_steps=3),
    )
    assert out.steps == 3


async def test_retries_exhausted_without_on_failure_disconnects() -> None:
    ch = FakeChannel.answering([Input.dtmf("9"), Input.dtmf("8")])
    out, _ = await walk(load(SMALL), ch)
    assert out.kind is K.HANGUP and out.reason == "retries_exhausted"
    assert len(ch.gathers) == 2


async def test_a_failing_subscriber_does_not_drop_the_call() -> None:
    def broken(event: IvrEvent) -> None:
        raise RuntimeError("store down")

    ch = FakeChannel.answering([Input.dtmf("3")])
    out = await run_menu(load(SMALL), ch, clock=VirtualClock(), on_event=broken)
    assert out.kind is K.HANGUP and out.path[-1] == "bye"


async def test_spoken_collect_keeps_listening_and_speech_failure_falls_back_to_keys() -> None:
    menu = load(
        SMALL.replace(
            "{max_steps: 7, retries: 1}", "{max_steps: 7, retries: 3, speech_attempts: 1}"
        )
    )
    ch = FakeChannel.answering(
        [Input.dtmf("2"), said("blue"), said("red", 0.2), said("pink"), said("red")]
    )
    out, _ = await walk(menu, ch)
    assert out.data["colour"] == "red"
    assert all(g.speech is not None for g in ch.gathers[1:5])  # no keys-only fallback here

    ch = FakeChannel.answering([KO, SpeechError("recognizer timed out"), Input.dtmf("0")])
    out, events = await walk(airline(), ch)
    assert out.transfer is not None and out.transfer.queue == "general"
    assert ch.gathers[1].speech is not None and ch.gathers[2].speech is None
    first = next(e for e in events if isinstance(e, InputReceived) and e.node == "main")
    assert first.result is InputResult.NO_INPUT


async def test_emergency_text_only_in_the_callers_language() -> None:
    state = EmergencyState()
    state.activate(0.0, "sup-1", {"ko": "태풍으로 결항이 있습니다."})
    ch = FakeChannel.answering([])
    await walk(airline(), ch, emergency=state, language="en")
    assert ch.played[1].text.startswith("We are currently experiencing")
