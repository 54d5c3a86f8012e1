"""Generate the speech evaluation set (far larger than the test fixtures) into a cache folder.

Nothing is downloaded: every clip is synthesized with espeak-ng (and festival for English),
then put through telephone quality: 8 kHz, 300-3400 Hz band, background noise at one of
several levels, leading and trailing silence of several lengths, G.711 mu-law (raw).

Clips, per language with a model (Korean: Vosk; English: pocketsphinx):
- `keyword`: every spoken keyword of the sample menus (config/menus/), each voice, several
  speeds / pitches / noise levels / silences;
- `phrase`: a keyword inside a short sentence ("환불 문의요"): the option it names is right;
- `out_of_menu`: other words and sentences, "음"/"어", coughs, silence, noise.
Each clip carries the grammar of the menu node it answers and its expected option (None for
out-of-menu). A deterministic split puts two voices per language and a third of the other
clips into the `final` part (used only for the final figure); the rest is `tune`.

    python tools/make_speech_eval.py [--out .cache/speech-eval] [--lang ko,en]

Deterministic (fixed seeds); rerunning with the same espeak-ng/festival/sox gives the same files.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from speech.mulaw import pcm16_to_ulaw

RATE = 8000
DEFAULT_OUT = Path(__file__).resolve().parent.parent / ".cache" / "speech-eval"
VERSION = 1


@dataclass(frozen=True)
class Voice:
    name: str  # tag used in file names and the report
    engine: str  # espeak | festival
    variant: str  # espeak-ng voice (ko+f1) or festival voice
    pitch: int = 50  # espeak-ng -p
    final_only: bool = False  # held out: only in the final part


@dataclass(frozen=True)
class Grammar:
    node: str
    options: dict[str, list[str]]  # option -> keywords


@dataclass(frozen=True)
class Language:
    code: str
    grammars: list[Grammar]
    phrases: list[tuple[str, str, str]]  # (text, grammar node, option)
    out_of_menu: list[str]
    hesitations: list[str]
    voices: list[Voice]


KO = Language(
    "ko",
    [
        Grammar("main", {"booking": ["예약"], "refund": ["환불"], "agent": ["상담원"]}),
        Grammar("callback_offer", {"accept": ["네"], "decline": ["아니요"]}),
    ],
    [
        ("환불 문의요", "main", "refund"),
        ("예약 하려고요", "main", "booking"),
        ("상담원 연결해 주세요", "main", "agent"),
        ("환불 받고 싶어요", "main", "refund"),
        ("네 좋아요", "callback_offer", "accept"),
        ("아니요 괜찮아요", "callback_offer", "decline"),
    ],
    [
        "수하물", "안녕하세요", "비행기", "취소하고 싶어요", "감사합니다", "기차표", "출발 시간",
        "좌석", "잘 모르겠어요", "오늘 날씨가 좋네요", "여보세요", "마일리지", "영수증", "공항",
        "탑승권", "지연됐어요", "변경하고 싶어요", "어디예요",
    ],
    ["음", "어", "음 음"],
    [
        Voice("ko", "espeak", "ko"),
        Voice("ko_m3", "espeak", "ko+m3"),
        Voice("ko_f3", "espeak", "ko+f3"),
        Voice("ko_f1", "espeak", "ko+f1"),
        Voice("ko_m1_low", "espeak", "ko+m1", pitch=30),
        Voice("ko_f2_high", "espeak", "ko+f2", pitch=70),
        Voice("ko_m5", "espeak", "ko+m5", final_only=True),
        Voice("ko_f4", "espeak", "ko+f4", pitch=60, final_only=True),
    ],
)

EN = Language(
    "en",
    [
        Grammar("main", {
            "booking": ["booking", "reservation"], "refund": ["refund"],
            "baggage": ["baggage", "luggage"], "agent": ["agent", "operator"],
        }),
        Grammar("callback_offer", {"accept": ["yes"], "decline": ["no"]}),
        Grammar("survey", {"1": ["one"], "2": ["two"], "3": ["three"], "4": ["four"], "5": ["five"]}),
    ],
    [
        ("i need a refund", "main", "refund"),
        ("a new booking please", "main", "booking"),
        ("talk to an agent", "main", "agent"),
        ("yes please", "callback_offer", "accept"),
        ("no thanks", "callback_offer", "decline"),
    ],
    [
        "hello", "what time is it", "cancel my flight", "thank you", "the weather is nice",
        "seat upgrade", "where is the airport", "i do not know", "departure time", "train ticket",
    ],
    ["um", "uh", "hmm"],
    [
        Voice("en_us", "espeak", "en-us"),
        Voice("en_m3", "espeak", "en-us+m3"),
        Voice("en_f3", "espeak", "en-us+f3", pitch=60),
        Voice("festival_kal", "festival", "kal_diphone"),
        Voice("en_gb_m7", "espeak", "en+m7"),
        Voice("en_f2_low", "espeak", "en-us+f2", pitch=35),
        Voice("en_f4", "espeak", "en-us+f4", final_only=True),
        Voice("en_m1_slow", "espeak", "en+m1", pitch=40, final_only=True),
    ],
)

LANGUAGES = {"ko": KO, "en": EN}
SPEEDS = [140, 165, 190]
NOISE_DB = [-64.0, -45.0, -38.0, -32.0]  # background noise level (dBFS rms); speech peaks -6
LEADS = [0.0, 0.15, 0.5, 1.2]  # seconds before speech (0: voice from the very first frame)
TRAILS = [0.6, 1.0, 2.0]


@dataclass
class Clip:
    file: str
    language: str
    kind: str  # keyword | phrase | out_of_menu | hesitation | cough | silence | noise
    text: str
    grammar: str  # menu node whose grammar this clip answers
    expected: str | None  # option id, None: must be rejected / no input
    voice: str
    speed: int
    noise_db: float
    lead: float
    trail: float
    part: str  # tune | final
    speech_start: float = -1.0
    speech_end: float = -1.0
    duration: float = 0.0


def _run(cmd: list[str], data: bytes | None = None) -> bytes:
    return subprocess.run(cmd, input=data, capture_output=True, check=True).stdout


def synthesize(text: str, voice: Voice, speed: int) -> npt.NDArray[np.float64]:
    if voice.engine == "festival":
        with tempfile.TemporaryDirectory() as tmp:
            txt, wav_path = Path(tmp) / "t.txt", Path(tmp) / "t.wav"
            txt.write_text(text, encoding="utf-8")
            stretch = f"(Parameter.set 'Duration_Stretch {175 / speed:.2f})"
            _run(["text2wave", "-eval", f"(voice_{voice.variant})", "-eval", stretch,
                  "-o", str(wav_path), str(txt)])
            wav = wav_path.read_bytes()
    else:
        wav = _run(["espeak-ng", "-v", voice.variant, "-s", str(speed), "-p", str(voice.pitch),
                    "--stdout", text])
    raw = _run(["sox", "-D", "-t", "wav", "-", "-r", str(RATE), "-b", "16", "-e", "signed", "-c", "1",
                "-t", "raw", "-", "sinc", "300-3400"], wav)
    x = np.frombuffer(raw, dtype="<i2").astype(np.float64)
    return trim(x * (16000.0 / max(1.0, float(np.abs(x).max()))))


def trim(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Cut the synthesizer's own silence, so `lead` is the real silence before the voice."""
    start, end = bounds(x)
    if start < 0:
        return x
    return x[int(start * RATE) : int(end * RATE)]


def bounds(x: npt.NDArray[np.float64]) -> tuple[float, float]:
    """First and last 10 ms window louder than -40 dBFS."""
    win = RATE // 100
    n = len(x) // win
    if n == 0:
        return -1.0, -1.0
    rms = np.sqrt(np.mean(x[: n * win].reshape(n, win) ** 2, axis=1))
    loud = np.nonzero(rms > 32768 * 10 ** (-40 / 20))[0]
    if loud.size == 0:
        return -1.0, -1.0
    return float(loud[0] * win / RATE), float((loud[-1] + 1) * win / RATE)


def background(n: int, level_db: float, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """Pink-ish noise (white through a one-pole low-pass) plus a little 50 Hz hum, band-limited."""
    white = rng.normal(0.0, 1.0, n)
    pink = np.empty(n)
    acc = 0.0
    alpha = 0.9
    # vectorised one-pole filter via cumulative trick is not exact; n is small, use lfilter-like loop
    for i in range(n):
        acc = alpha * acc + (1 - alpha) * white[i]
        pink[i] = acc
    noise = 0.7 * pink / (pink.std() + 1e-9) + 0.3 * white
    hum = 0.2 * np.sin(2 * np.pi * 50 * np.arange(n) / RATE)
    noise = noise + hum
    target = 32768 * 10 ** (level_db / 20)
    return noise * (target / (noise.std() + 1e-9))


def cough(rng: np.random.Generator) -> npt.NDArray[np.float64]:
    """One or two bursts of band-limited noise with a sharp attack and an exponential decay."""
    parts = []
    for _ in range(int(rng.integers(1, 3))):
        n = int(RATE * rng.uniform(0.15, 0.3))
        t = np.arange(n) / RATE
        env = (1 - np.exp(-t / 0.005)) * np.exp(-t / rng.uniform(0.04, 0.09))
        burst = rng.normal(0.0, 1.0, n)
        # crude formant colouring: mix with a decaying resonance at 400-900 Hz
        f = rng.uniform(400, 900)
        burst = burst + 2.0 * np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) * rng.normal(1, 0.3, n)
        parts.append(burst * env * 14000 / 3)
        parts.append(np.zeros(int(RATE * rng.uniform(0.08, 0.2))))
    return np.concatenate(parts)


def _seed(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:8], "little")


def plan(lang: Language) -> list[Clip]:
    """Every clip of a language, with its conditions drawn from seeded generators."""
    clips: list[Clip] = []
    options = {g.node: g.options for g in lang.grammars}

    def add(kind: str, text: str, node: str, expected: str | None, voice: Voice, k: int) -> None:
        rng = np.random.default_rng(_seed(lang.code, kind, text, node, voice.name, k))
        speed = int(rng.choice(SPEEDS))
        noise = float(rng.choice(NOISE_DB))
        lead = float(rng.choice(LEADS))
        trail = float(rng.choice(TRAILS))
        held_out = voice.final_only or rng.random() < 0.3
        part = "final" if held_out else "tune"
        digest = hashlib.sha256(f"{kind}|{text}|{node}|{voice.name}|{k}".encode()).hexdigest()[:10]
        name = f"{lang.code}_{kind}_{voice.name}_{digest}.ulaw"
        clips.append(Clip(name, lang.code, kind, text, node, expected, voice.name, speed, noise,
                          lead, trail, part))

    for voice in lang.voices:
        for node, opts in options.items():
            for option, keywords in opts.items():
                for word in keywords:
                    for k in range(3 if len(keywords) == 1 else 2):
                        add("keyword", word, node, option, voice, k)
        for text, node, option in lang.phrases:
            add("phrase", text, node, option, voice, 0)
        for i, text in enumerate(lang.out_of_menu):
            node = lang.grammars[i % len(lang.grammars)].node
            add("out_of_menu", text, node, None, voice, 0)
        for i, text in enumerate(lang.hesitations):
            add("hesitation", text, lang.grammars[i % len(lang.grammars)].node, None, voice, 0)
    for k in range(8):
        node = lang.grammars[k % len(lang.grammars)].node
        add("cough", "", node, None, Voice("none", "none", ""), k)
    for k in range(4):
        add("silence", "", lang.grammars[k % len(lang.grammars)].node, None, Voice("none", "none", ""), k)
    return clips


def render(clip: Clip, lang: Language, out: Path) -> Clip:
    rng = np.random.default_rng(_seed("audio", clip.file))
    voices = {v.name: v for v in lang.voices}
    if clip.kind == "cough":
        voice_audio = cough(rng)
    elif clip.kind == "silence":
        voice_audio = np.zeros(int(RATE * 1.5))
    else:
        voice_audio = synthesize(clip.text, voices[clip.voice], clip.speed)
    x = np.concatenate([np.zeros(int(clip.lead * RATE)), voice_audio, np.zeros(int(clip.trail * RATE))])
    start, end = bounds(x)
    if clip.kind in ("silence",):
        start, end = -1.0, -1.0
    x = x + background(len(x), clip.noise_db, rng)
    pcm = np.clip(np.rint(x), -32768, 32767).astype("<i2").tobytes()
    (out / clip.file).write_bytes(pcm16_to_ulaw(pcm))
    clip.speech_start, clip.speech_end, clip.duration = start, end, len(x) / RATE
    return clip


def grammars_of(lang: Language) -> dict[str, dict[str, list[str]]]:
    return {g.node: g.options for g in lang.grammars}


def export_fixtures(cache: Path, target: Path, languages: list[str], count: int) -> int:
    """Half answers, half out-of-menu, spread over kinds and voices, from the tuning part."""
    for code in languages:
        manifest = json.loads((cache / code / "manifest.json").read_text(encoding="utf-8"))
        pool = [c for c in manifest["clips"] if c["part"] == "tune"]
        pool.sort(key=lambda c: hashlib.sha256(c["file"].encode()).hexdigest())
        answers = [c for c in pool if c["expected"]]
        others = [c for c in pool if not c["expected"]]
        picked = answers[: count // 2] + others[: count - count // 2]
        folder = target / code
        folder.mkdir(parents=True, exist_ok=True)
        for c in picked:
            shutil.copyfile(cache / code / c["file"], folder / c["file"])
        subset = dict(manifest, clips=picked, subset_of="tools/make_speech_eval.py (tune part)")
        (folder / "manifest.json").write_text(
            json.dumps(subset, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        print(f"{code}: {len(picked)} fixtures in {folder}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--lang", default="ko,en")
    parser.add_argument("--fixtures", type=Path, default=None,
                        help="copy a small deterministic subset of the cached set here (tests)")
    parser.add_argument("--count", type=int, default=32)
    args = parser.parse_args(argv)
    if args.fixtures is not None:
        return export_fixtures(args.out, args.fixtures, args.lang.split(","), args.count)
    for tool in ("espeak-ng", "sox", "text2wave"):
        if shutil.which(tool) is None:
            print(f"{tool} is missing: apt-get install -y espeak-ng sox festival", file=sys.stderr)
            return 2
    out: Path = args.out
    for code in args.lang.split(","):
        lang = LANGUAGES[code]
        folder = out / code
        folder.mkdir(parents=True, exist_ok=True)
        clips = [render(c, lang, folder) for c in plan(lang)]
        manifest = {
            "version": VERSION,
            "language": code,
            "sample_rate": RATE,
            "encoding": "G.711 mu-law, raw, mono",
            "grammars": grammars_of(lang),
            "clips": [asdict(c) for c in clips],
        }
        (folder / "manifest.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        parts = {p: sum(c.part == p for c in clips) for p in ("tune", "final")}
        print(f"{code}: wrote {len(clips)} clips to {folder} ({parts})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
