from __future__ import annotations

import numpy as np

from speech.vad import EnergyVad, VadSettings, frame_db, periodicity

RATE = 8000


def tone(seconds: float, amplitude: float) -> bytes:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes()


def noise(seconds: float, sd: float, seed: int = 1) -> bytes:
    rng = np.random.default_rng(seed)
    return rng.normal(0, sd, int(seconds * RATE)).astype("<i2").tobytes()


def test_frame_energy() -> None:
    assert frame_db(b"\x00" * 320) == -100.0
    assert abs(frame_db(tone(0.02, 32767)) - (-3.0)) < 0.2


def test_start_and_end_of_speech() -> None:
    vad = EnergyVad(VadSettings(end_silence=0.3))
    assert not vad.feed(noise(0.5, 20))
    assert not vad.speech_started
    assert not vad.feed(tone(0.4, 8000))
    assert vad.speech_started and vad.started_at == 25  # the first voiced frame
    assert not vad.feed(noise(0.28, 20, seed=2))
    assert vad.feed(noise(0.02, 20, seed=3))  # the 15th quiet frame: 300 ms
    assert vad.last_voiced == 44 and abs(vad.trailing_silence - 0.3) < 1e-9


def test_short_clicks_do_not_start_speech() -> None:
    vad = EnergyVad(VadSettings(start_frames=4))
    for _ in range(5):
        vad.feed(noise(0.2, 20) + tone(0.06, 8000))  # 3 voiced frames at most
    assert not vad.speech_started


def test_steady_noise_becomes_the_floor() -> None:
    vad = EnergyVad()
    vad.feed(noise(3.0, 2000))  # about -24 dBFS, from the first frame
    assert not vad.speech_started
    vad.feed(tone(0.3, 24000))  # clearly louder than the noise
    assert vad.speech_started


def test_any_chunk_size_gives_the_same_decisions() -> None:
    audio = noise(0.3, 20) + tone(0.3, 8000) + noise(0.5, 20, seed=4)
    whole = EnergyVad()
    whole.feed(audio)
    pieces = EnergyVad()
    for i in range(0, len(audio), 58):
        pieces.feed(audio[i : i + 58])
    assert (whole.started_at, whole.last_voiced, whole.ended) == (
        pieces.started_at, pieces.last_voiced, pieces.ended,
    )
    assert whole.ended


def test_periodicity_tells_voice_from_noise() -> None:
    t = np.arange(320) / RATE
    vowel = np.sin(2 * np.pi * 150 * t) + 0.5 * np.sin(2 * np.pi * 300 * t)
    assert periodicity(vowel) > 0.9
    assert periodicity(np.random.default_rng(5).normal(0, 1000, 320)) < 0.3
    assert periodicity(np.zeros(320)) == 0.0


def test_a_loud_noise_burst_is_not_barge_in() -> None:
    vad = EnergyVad()
    vad.feed(noise(0.5, 20) + noise(0.2, 6000, seed=7) + noise(0.5, 20, seed=8))
    assert not vad.speech_started
    energy_only = EnergyVad(VadSettings(pitched_frames=0))
    energy_only.feed(noise(0.5, 20) + noise(0.2, 6000, seed=7) + noise(0.5, 20, seed=8))
    assert energy_only.speech_started
