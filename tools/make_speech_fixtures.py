"""Synthesize the Korean speech fixtures (tests/fixtures/speech/*.ulaw + manifest.json).

Needs espeak-ng and sox (`apt-get install -y espeak-ng sox`); the outputs are committed, so tests
and benchmarks need neither. Each clip goes through telephone quality: espeak-ng -> sox
(8 kHz, 300-3400 Hz band) -> padded with line noise -> G.711 mu-law (raw, 1 byte a sample).
Decoding a fixture with `speech.mulaw.ulaw_to_pcm16` gives what a phone call would deliver.

    python tools/make_speech_fixtures.py [--out tests/fixtures/speech]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from speech.mulaw import pcm16_to_ulaw

RATE = 8000
GRAMMAR = ["예약", "환불", "상담원", "네", "아니요"]
KEYWORDS = {"yeyak": "예약", "hwanbul": "환불", "sangdamwon": "상담원", "ne": "네", "aniyo": "아니요"}
OUT_OF_MENU = {
    "suhamul": "수하물",
    "annyeong": "안녕하세요",
    "bihaenggi": "비행기",
    "chwiso": "취소하고 싶어요",
    "gamsa": "감사합니다",
    "gichapyo": "기차표",
    "chulbal": "출발 시간",
    "jwaseok": "좌석",
    "mollayo": "잘 모르겠어요",
    "nalssi": "오늘 날씨가 좋네요",
}
VOICES = ["ko", "ko+m3", "ko+f3", "ko+f1"]
SPEEDS = [175, 150]
LEAD = 0.3  # seconds of line noise before speech
TRAIL = 1.5  # after speech: longer than Vosk's own endpoint needs
LINE_NOISE = 20.0  # standard deviation of the line noise (about -64 dBFS)


@dataclass
class Clip:
    file: str
    kind: str  # keyword | out_of_menu | noise | silence
    text: str
    voice: str
    speed: int
    speech_start: float  # seconds into the clip (energy-based), -1 without speech
    speech_end: float
    duration: float


def synthesize(text: str, voice: str, speed: int) -> npt.NDArray[np.float64]:
    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "--stdout", text],
        capture_output=True, check=True,
    ).stdout
    raw = subprocess.run(
        ["sox", "-t", "wav", "-", "-r", str(RATE), "-b", "16", "-e", "signed", "-c", "1",
         "-t", "raw", "-", "sinc", "300-3400"],
        input=wav, capture_output=True, check=True,
    ).stdout
    x = np.frombuffer(raw, dtype="<i2").astype(np.float64)
    return x * (16000.0 / max(1.0, float(np.abs(x).max())))  # peak about -6 dBFS


def speech_bounds(x: npt.NDArray[np.float64]) -> tuple[float, float]:
    """First and last 10 ms window louder than -40 dBFS."""
    win = RATE // 100
    n = len(x) // win
    rms = np.sqrt(np.mean(x[: n * win].reshape(n, win) ** 2, axis=1))
    loud = np.nonzero(rms > 32768 * 10 ** (-40 / 20))[0]
    if loud.size == 0:
        return -1.0, -1.0
    return float(loud[0] * win / RATE), float((loud[-1] + 1) * win / RATE)


def finish(x: npt.NDArray[np.float64], rng: np.random.Generator) -> bytes:
    x = x + rng.normal(0.0, LINE_NOISE, len(x))
    pcm = np.clip(np.rint(x), -32768, 32767).astype("<i2").tobytes()
    return pcm16_to_ulaw(pcm)


def write(out: Path, clip: Clip, x: npt.NDArray[np.float64], rng: np.random.Generator) -> Clip:
    (out / clip.file).write_bytes(finish(x, rng))
    clip.speech_start, clip.speech_end = speech_bounds(x)
    clip.duration = len(x) / RATE
    return clip


def speech_clip(text: str, voice: str, speed: int, lead: float = LEAD) -> npt.NDArray[np.float64]:
    voice_audio = synthesize(text, voice, speed)
    return np.concatenate(
        [np.zeros(int(lead * RATE)), voice_audio, np.zeros(int(TRAIL * RATE))]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("tests/fixtures/speech"))
    args = parser.parse_args(argv)
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            print(f"{tool} is missing: apt-get install -y espeak-ng sox", file=sys.stderr)
            return 2
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261123)
    clips: list[Clip] = []
    for voice in VOICES:
        tag = voice.replace("+", "_")
        for speed in SPEEDS:
            for name, text in KEYWORDS.items():
                clip = Clip(f"kw_{name}_{tag}_{speed}.ulaw", "keyword", text, voice, speed, 0, 0, 0)
                clips.append(write(out, clip, speech_clip(text, voice, speed), rng))
    for voice in VOICES[:2]:
        tag = voice.replace("+", "_")
        for name, text in OUT_OF_MENU.items():
            clip = Clip(f"oom_{name}_{tag}.ulaw", "out_of_menu", text, voice, 175, 0, 0, 0)
            clips.append(write(out, clip, speech_clip(text, voice, 175), rng))
    # Barge-in: two seconds of line noise before the answer.
    for name in ("hwanbul", "sangdamwon"):
        clip = Clip(f"lead_{name}.ulaw", "keyword", KEYWORDS[name], "ko", 175, 0, 0, 0)
        clips.append(write(out, clip, speech_clip(KEYWORDS[name], "ko", 175, lead=2.0), rng))
    clip = Clip("silence.ulaw", "silence", "", "", 0, 0, 0, 0)
    clips.append(write(out, clip, np.zeros(3 * RATE), rng))
    clip = Clip("noise_white.ulaw", "noise", "", "", 0, 0, 0, 0)
    clips.append(write(out, clip, rng.normal(0.0, 2000.0, 2 * RATE), rng))
    # A door slam: 200 ms of loud noise in silence.
    burst = np.zeros(3 * RATE)
    burst[RATE : RATE + RATE // 5] = rng.normal(0.0, 6000.0, RATE // 5)
    clip = Clip("noise_burst.ulaw", "noise", "", "", 0, 0, 0, 0)
    clips.append(write(out, clip, burst, rng))
    manifest = {
        "sample_rate": RATE,
        "encoding": "G.711 mu-law, raw, mono",
        "grammar": GRAMMAR,
        "made_with": subprocess.run(
            ["espeak-ng", "--version"], capture_output=True, text=True, check=True
        ).stdout.split("Data at")[0].strip(),
        "clips": [asdict(c) for c in clips],
    }
    (out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    print(f"wrote {len(clips)} clips to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
