"""The decoder's decisions, over a hand-written stand-in for vosk.KaldiRecognizer."""

from __future__ import annotations

import json

import numpy as np

from ivr.speech import Recognition
from speech.decoder import Decoder, to_recognition
from speech.vad import VadSettings

RATE = 8000


def vowel(seconds: float) -> bytes:
    t = np.arange(int(seconds * RATE)) / RATE
    x = 6000 * np.sin(2 * np.pi * 150 * t) + 3000 * np.sin(2 * np.pi * 300 * t)
    return x.astype("<i2").tobytes()


def quiet(seconds: float) -> bytes:
    return np.random.default_rng(3).normal(0, 20, int(seconds * RATE)).astype("<i2").tobytes()


def vosk_json(*words: tuple[str, float]) -> str:
    return json.dumps(
        {"result": [{"word": w, "conf": c} for w, c in words], "text": " ".join(w for w, _ in words)}
    )


class FakeKaldi:
    """Ends an utterance when told to (`endpoint_after` frames); records the calls."""

    def __init__(self, words: str, endpoint_after: int | None = None) -> None:
        self.words = words
        self.endpoint_after = endpoint_after
        self.frames = 0
        self.calls: list[str] = []
        self.heard: list[bytes] = []  # the audio of each AcceptWaveform call

    def AcceptWaveform(self, data: bytes) -> int:
        self.frames += 1
        self.calls.append("accept")
        self.heard.append(data)
        return int(self.endpoint_after is not None and self.frames == self.endpoint_after)

    def Result(self) -> str:
        self.calls.append("result")
        return self.words

    def FinalResult(self) -> str:
        self.calls.append("final")
        return self.words

    def Reset(self) -> None:
        self.calls.append("reset")


def feed(decoder: Decoder, audio: bytes) -> list[Recognition | None]:
    return [decoder.accept(audio[i : i + 320]).result for i in range(0, len(audio), 320)]


def feed_until_result(decoder: Decoder, audio: bytes) -> int:
    """Feed 20 ms frames as a session does, up to the result; the index of its frame."""
    for i in range(0, len(audio), 320):
        if decoder.accept(audio[i : i + 320]).result is not None:
            return i // 320
    raise AssertionError("no result")


def test_energy_end_of_speech_calls_final_result() -> None:
    kaldi = FakeKaldi(vosk_json(("환불", 1.0)))
    decoder = Decoder(kaldi, VadSettings(end_silence=0.2))
    results = feed(decoder, quiet(0.3) + vowel(0.4) + quiet(0.5))
    first = next(i for i, r in enumerate(results) if r is not None)
    assert first == 15 + 20 + 10 - 1  # the 10th quiet frame after the voice
    result = results[first]
    assert isinstance(result, Recognition)
    assert result == to_recognition(kaldi.words, result.latency)
    assert 0.2 <= result.latency < 0.3
    assert kaldi.calls[-2:] == ["accept", "final"]  # right after that frame's accept
    assert "result" not in kaldi.calls


def test_vosk_endpoint_with_words_after_voice_ends_the_utterance() -> None:
    kaldi = FakeKaldi(vosk_json(("네", 0.9)), endpoint_after=12)
    decoder = Decoder(kaldi, VadSettings(end_silence=1.0))
    results = feed(decoder, quiet(0.3) + vowel(0.3) + quiet(0.5))
    decided = [i for i, r in enumerate(results) if r is not None]
    assert len(decided) == 1 and len(results) - decided[0] > 5  # before the 1 s of quiet
    assert kaldi.calls.count("result") == 1 and "final" not in kaldi.calls


def test_vosk_hears_nothing_until_voice_starts_then_the_pre_roll_first() -> None:
    kaldi = FakeKaldi(vosk_json(("환불", 1.0)))
    decoder = Decoder(kaldi, VadSettings(end_silence=0.2), pre_roll=0.4)
    audio = quiet(1.0) + vowel(0.4) + quiet(0.5)
    decided = feed_until_result(decoder, audio)
    start = decoder.vad.started_at
    assert start is not None and 50 <= start <= 52  # the vowel starts at frame 50
    spotted = start + 3  # the detector needs 4 voiced frames
    first = (spotted - 20) * 320  # 0.4 s of pre-roll before the frame that confirmed voice
    assert kaldi.heard[0] == audio[first : (spotted + 1) * 320]
    assert b"".join(kaldi.heard) == audio[first : (decided + 1) * 320]  # nothing after the end
    assert decoder.fed == (decided + 1) * 320 - first


def test_verification_sees_the_whole_window_at_vosk_times() -> None:
    kaldi = FakeKaldi(vosk_json(("환불", 1.0)))
    decoder = Decoder(kaldi, VadSettings(end_silence=0.2), pre_roll=0.4)
    audio = quiet(1.0) + vowel(0.4) + quiet(0.5)
    decided = feed_until_result(decoder, audio)
    heard = b"".join(kaldi.heard)
    first = audio.index(heard)
    assert decoder._piece(-1e9, 1e9) == audio[: (decided + 1) * 320]  # the quiet before too
    assert decoder._piece(0.0, 0.1) == heard[:1600]  # Vosk's time 0: its first sample
    assert decoder._piece(-0.1, 0.0) == audio[first - 1600 : first]


def test_voice_from_the_first_frame_reaches_vosk_whole() -> None:
    kaldi = FakeKaldi(vosk_json(("환불", 1.0)))
    decoder = Decoder(kaldi, VadSettings(end_silence=0.2))
    audio = vowel(0.4) + quiet(0.5)
    decided = feed_until_result(decoder, audio)
    assert b"".join(kaldi.heard) == audio[: (decided + 1) * 320]


def test_quiet_never_reaches_vosk() -> None:
    kaldi = FakeKaldi(vosk_json(("예약", 1.0)), endpoint_after=1)
    decoder = Decoder(kaldi, VadSettings())
    assert all(r is None for r in feed(decoder, quiet(2.0)))
    assert kaldi.heard == []
    final = decoder.finish()
    assert final.text == "" and final.confidence == 0.0


def test_words_without_voice_are_dropped() -> None:
    kaldi = FakeKaldi(vosk_json(("예약", 1.0), ("네", 1.0)), endpoint_after=10)
    decoder = Decoder(kaldi, VadSettings(), pre_roll=None)  # Vosk hears every frame
    assert all(r is None for r in feed(decoder, quiet(1.0)))
    assert kaldi.calls.count("result") == 1  # Vosk's words were read, and ignored
    final = decoder.finish()
    assert final.text == "" and final.confidence == 0.0


def test_empty_results_keep_listening() -> None:
    kaldi = FakeKaldi(vosk_json())
    decoder = Decoder(kaldi, VadSettings(end_silence=0.1))
    results = feed(decoder, quiet(0.2) + vowel(0.2) + quiet(0.3))
    assert all(r is None for r in results)
    assert kaldi.calls.count("final") == 1  # tried once at the end of the voice
    assert decoder.speech_heard


def test_to_recognition() -> None:
    r = to_recognition(vosk_json(("아니요", 0.62), ("네", 1.0)), latency=0.3)
    assert (r.text, r.confidence, r.words, r.latency) == ("아니요 네", 0.62, (("아니요", 0.62), ("네", 1.0)), 0.3)
    assert to_recognition('{"text": ""}').confidence == 0.0
    assert to_recognition('{"text": "네"}').confidence == 1.0  # words off: no per-word figure
