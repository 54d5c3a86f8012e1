"""The IVR interpreter: walks a Menu over a Channel, one node at a time.

Pure and async: it only awaits the channel (and the customer directory), reads time from the
injected clock, and reports every step through `on_event`. It holds the Menu object it was
given for the whole call, so a reload never changes a call in progress.

Input handling on nodes that ask (menu, language, survey, callback, collect):
- each attempt plays the node's prompt (preceded by the no-input / no-match prompt of the
  previous failed attempt) and gathers DTMF and, where the node has keywords for the current
  language, speech with a grammar made of those keywords;
- speech below the confidence threshold (node > run settings > menu settings, 0.95 by
  default) counts as a no-match; after `speech_attempts` failed speech attempts the node asks
  for keys only (playing its `dtmf_fallback` prompt);
- after 1 + retries failed attempts the call goes to `on_failure` (node, else menu settings),
  else it is disconnected (outcome hangup, reason retries_exhausted);
- the whole walk is bounded by `max_steps` nodes (outcome failed, reason max_steps).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from acd.clock import Clock
from ivr.channel import (
    CallerHangup,
    Channel,
    ChannelError,
    DigitSpec,
    Input,
    InputKind,
    Prompt,
    SpeechSpec,
    TransferRequest,
)
from ivr.checksums import CHECKSUMS
from ivr.directory import CustomerDirectory
from ivr.emergency import EmergencyState
from ivr.events import (
    DataSet,
    InputReceived,
    InputResult,
    IvrEvent,
    IvrOutcome,
    NodeEntered,
    OutcomeKind,
)
from ivr.menu import Choice, Menu, Node, Prompts, normalize
from ivr.speech import SpeechError

log = logging.getLogger(__name__)

EventSink = Callable[[IvrEvent], None]


@dataclass(frozen=True, slots=True)
class IvrSettings:
    """Server-wide overrides; None keeps the menu's own setting."""

    confidence: float | None = None
    max_steps: int | None = None
    lookup_timeout: float = 2.0  # seconds for a customer-directory lookup
    inter_digit_timeout: float = 3.0


class _End(Exception):
    def __init__(
        self, kind: OutcomeKind, reason: str = "", transfer: TransferRequest | None = None
    ):
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.transfer = transfer


@dataclass
class _Asked:
    """What an asking node got: a choice, a validated entry, or nothing (failure)."""

    choice: Choice | None = None
    value: str = ""


@dataclass
class _Run:
    menu: Menu
    channel: Channel
    clock: Clock
    directory: CustomerDirectory | None
    emergency: EmergencyState | None
    on_event: EventSink | None
    settings: IvrSettings
    language: str
    language_known: bool = False
    tier: str = "regular"
    data: dict[str, str] = field(default_factory=dict)
    path: list[str] = field(default_factory=list)
    steps: int = 0

    # -- plumbing ---------------------------------------------------------------------

    def emit(self, event: IvrEvent) -> None:
        if self.on_event is None:
            return
        try:
            self.on_event(event)
        except Exception:  # a broken subscriber must not drop the caller
            log.exception("IVR event subscriber failed on %s", type(event).__name__)

    def prompts(self, prompts: Prompts, key: str) -> list[Prompt]:
        if not prompts:
            return []
        for lang in (self.language, self.menu.default_language):
            if lang in prompts:
                p = prompts[lang]
                return [Prompt(p.text, lang, p.audio, key)]
        lang, p = next(iter(prompts.items()))
        return [Prompt(p.text, lang, p.audio, key)]

    async def set_data(self, node: Node, key: str, value: str) -> None:
        self.data[key] = value
        await self.channel.set_data(key, value)
        self.emit(DataSet(self.clock.now(), self.channel.call_id, node.id, key, value))

    def threshold(self, node: Node) -> float:
        if node.confidence is not None:
            return node.confidence
        if self.settings.confidence is not None:
            return self.settings.confidence
        return self.menu.settings.confidence

    def failed(self, node: Node) -> str:
        target = node.on_failure or self.menu.settings.on_failure
        if target is None:
            raise _End(OutcomeKind.HANGUP, "retries_exhausted")
        return target

    def input_event(
        self, node: Node, inp: Input, result: InputResult, attempt: int, option: str | None = None
    ) -> None:
        rec = inp.recognition
        value = inp.digits if inp.kind is InputKind.DTMF else (rec.text if rec else "")
        self.emit(
            InputReceived(
                self.clock.now(),
                self.channel.call_id,
                node.id,
                inp.kind,
                value,
                rec.confidence if rec is not None and inp.kind is InputKind.SPEECH else None,
                result,
                option,
                attempt,
            )
        )

    # -- asking -----------------------------------------------------------------------

    async def ask(
        self,
        node: Node,
        digits: DigitSpec,
        grammar: tuple[str, ...] | None,
        accept: Callable[[Input], _Asked | None],
        speech_wanted: bool,
        keys_fallback: bool = True,
    ) -> _Asked | None:
        """Prompt and gather until `accept` takes an answer or the attempts run out.

        `keys_fallback`: after `speech_attempts` failed speech attempts, ask for keys only.
        A recognizer failure (SpeechError) counts as no input and turns speech off for the node.
        """
        retries = node.retries if node.retries is not None else self.menu.settings.retries
        timeout = node.timeout if node.timeout is not None else self.menu.settings.timeout
        key = f"nodes.{node.id}"
        before: list[Prompt] = []
        speech_failures = 0
        speech_broken = False
        for attempt in range(1, retries + 2):
            use_speech = (
                speech_wanted
                and node.speech
                and not speech_broken
                and (not keys_fallback or speech_failures < self.menu.settings.speech_attempts)
            )
            prompts = before + self.prompts(node.prompt, f"{key}.prompt")
            if speech_wanted and node.speech and not use_speech:
                prompts += self.prompts(node.dtmf_fallback, f"{key}.dtmf_fallback")
            speech = SpeechSpec(self.language, grammar, timeout=timeout) if use_speech else None
            try:
                inp = await self.channel.gather(
                    prompts, digits=digits, speech=speech, barge_in=node.barge_in
                )
            except SpeechError as exc:
                log.warning(
                    "speech failed on call %s at %s: %s", self.channel.call_id, node.id, exc
                )
                speech_broken = True
                inp = Input.none()
            rec = inp.recognition
            if inp.kind is InputKind.NONE or (
                inp.kind is InputKind.SPEECH and (rec is None or not rec.text.strip())
            ):
                self.input_event(node, inp, InputResult.NO_INPUT, attempt)
                before = self.prompts(node.no_input, f"{key}.no_input.prompt")
                continue
            if (
                inp.kind is InputKind.SPEECH
                and rec is not None
                and rec.confidence < self.threshold(node)
            ):
                self.input_event(node, inp, InputResult.LOW_CONFIDENCE, attempt)
                speech_failures += 1
                before = self.prompts(node.no_match, f"{key}.no_match.prompt")
                continue
            got = accept(inp)
            if got is None:
                self.input_event(node, inp, InputResult.NO_MATCH, attempt)
                if inp.kind is InputKind.SPEECH:
                    speech_failures += 1
                before = self.prompts(node.no_match, f"{key}.no_match.prompt")
                continue
            option = got.choice.id if got.choice else got.value
            self.input_event(node, inp, InputResult.MATCH, attempt, option)
            return got
        return None

    async def choose(self, node: Node) -> Choice | None:
        choices = node.choices
        grammar = _grammar(choices, self.language)
        digits = DigitSpec(
            max_digits=1,
            min_digits=1,
            timeout=node.timeout if node.timeout is not None else self.menu.settings.timeout,
            inter_digit_timeout=self.settings.inter_digit_timeout,
            terminator=None,
        )

        def accept(inp: Input) -> _Asked | None:
            if inp.kind is InputKind.DTMF:
                c = next((c for c in choices if c.dtmf == inp.digits), None)
            else:
                text = inp.recognition.text if inp.recognition else ""
                c = _match_phrase(choices, self.language, text)
            return _Asked(choice=c) if c is not None else None

        got = await self.ask(node, digits, grammar or None, accept, speech_wanted=bool(grammar))
        return got.choice if got is not None else None

    # -- nodes ------------------------------------------------------------------------

    async def node_prompt(self, node: Node) -> str | None:
        await self.channel.play(self.prompts(node.prompt, f"nodes.{node.id}.prompt"))
        return node.next

    async def node_menu(self, node: Node) -> str | None:
        choice = await self.choose(node)
        if choice is None:
            return self.failed(node)
        return choice.next

    async def node_language(self, node: Node) -> str | None:
        if self.language_known:
            return node.next  # a known caller's language: no need to ask
        choice = await self.choose(node)
        if choice is None:
            return self.failed(node)
        self.language = choice.id
        self.language_known = True
        await self.set_data(node, "language", choice.id)
        return node.next

    async def node_survey(self, node: Node) -> str | None:
        choice = await self.choose(node)
        if choice is None:
            return self.failed(node)
        await self.set_data(node, node.store, choice.id)
        return node.next

    async def node_callback(self, node: Node) -> str | None:
        decline = node.choices[1]
        caller = self.channel.caller
        if not caller:
            return decline.next or node.next  # withheld number: no callback possible
        choice = await self.choose(node)
        if choice is None:
            return self.failed(node)
        if choice.id == "decline":
            return decline.next or node.next
        request = TransferRequest(
            queue=node.queue,
            tier=self.tier,
            language=self.language,
            callback_number=caller,
            data=dict(self.data),
        )
        await self.channel.play(self.prompts(node.confirm, f"nodes.{node.id}.confirm"))
        await self.channel.transfer(request)
        raise _End(OutcomeKind.CALLBACK, "callback_accepted", request)

    async def node_collect(self, node: Node) -> str | None:
        spec = node.collect
        assert spec is not None
        timeout = node.timeout if node.timeout is not None else self.menu.settings.timeout
        digits = DigitSpec(
            max_digits=spec.max_digits,
            min_digits=spec.min_digits,
            timeout=timeout,
            inter_digit_timeout=self.settings.inter_digit_timeout,
            terminator=spec.terminator or None,
        )
        if spec.input == "speech":
            phrases = spec.grammar.get(self.language, ()) if spec.grammar is not None else None

            def accept(inp: Input) -> _Asked | None:
                if inp.kind is not InputKind.SPEECH or inp.recognition is None:
                    return None
                text = inp.recognition.text.strip()
                if phrases is None:
                    return _Asked(value=text)
                wanted = normalize(text)
                hit = next((p for p in phrases if normalize(p) == wanted), None)
                return _Asked(value=hit) if hit is not None else None

            got = await self.ask(
                node,
                digits,
                tuple(phrases) if phrases is not None else None,
                accept,
                speech_wanted=True,
                keys_fallback=False,
            )
        else:
            pattern = re.compile(spec.pattern) if spec.pattern else None
            check = CHECKSUMS.get(spec.checksum) if spec.checksum else None

            def accept(inp: Input) -> _Asked | None:
                if inp.kind is not InputKind.DTMF:
                    return None
                value = inp.digits
                ok = (
                    spec.min_digits <= len(value) <= spec.max_digits
                    and value.isdigit()
                    and (pattern is None or pattern.fullmatch(value) is not None)
                    and (check is None or check(value))
                )
                return _Asked(value=value) if ok else None

            got = await self.ask(node, digits, None, accept, speech_wanted=False)
        if got is None:
            return self.failed(node)
        await self.set_data(node, spec.store, got.value)
        return node.next

    async def node_transfer(self, node: Node) -> str | None:
        spec = node.transfer
        assert spec is not None
        await self.channel.play(self.prompts(node.prompt, f"nodes.{node.id}.prompt"))
        request = TransferRequest(
            queue=spec.queue,
            skills=dict(spec.skills),
            priority=spec.priority,
            tier=spec.tier or self.tier,
            language=self.language,
            data=dict(self.data),
        )
        await self.channel.transfer(request)
        raise _End(OutcomeKind.TRANSFER, spec.queue, request)

    async def node_hours(self, node: Node) -> str | None:
        assert node.schedule is not None
        return node.open if node.schedule.is_open(self.clock.now()) else node.closed

    async def node_emergency(self, node: Node) -> str | None:
        if self.emergency is None or not self.emergency.is_active(node.emergency_name):
            return node.next
        text = self.emergency.current().announcement.get(self.language)
        if text:  # the supervisor's words in the caller's language, else the menu's own
            prompts = [Prompt(text, self.language, None, "emergency.announcement")]
        else:
            prompts = self.prompts(node.announcement, f"nodes.{node.id}.announcement")
        await self.channel.play(prompts)
        return node.target

    async def node_identify(self, node: Node) -> str | None:
        caller = self.channel.caller
        if self.directory is None or not caller:
            return node.next
        try:
            info = await asyncio.wait_for(
                self.directory.lookup(caller), timeout=self.settings.lookup_timeout
            )
        except Exception as exc:  # the directory failing must not drop the caller
            log.warning("customer lookup failed (%s): %s", type(exc).__name__, exc)
            info = None
        if info is None:
            return node.next
        self.tier = info.tier
        await self.set_data(node, "tier", info.tier)
        if node.use_language and info.language in self.menu.languages and not self.language_known:
            self.language = info.language
            self.language_known = True
            await self.set_data(node, "language", info.language)
        return node.next

    async def node_goto(self, node: Node) -> str | None:
        return node.target

    async def node_hangup(self, node: Node) -> str | None:
        await self.channel.play(self.prompts(node.prompt, f"nodes.{node.id}.prompt"))
        await self.channel.hangup()
        raise _End(OutcomeKind.HANGUP, node.reason or "hangup")

    # -- the walk ---------------------------------------------------------------------

    async def walk(self, start: str) -> IvrOutcome:
        max_steps = self.settings.max_steps or self.menu.settings.max_steps
        node_id: str | None = start
        node = self.menu.nodes[start]
        end: _End
        try:
            while True:
                if node_id is None:  # only reachable with an unchecked menu
                    raise _End(OutcomeKind.FAILED, f"no next node after {node.id}")
                if self.steps >= max_steps:
                    raise _End(OutcomeKind.FAILED, "max_steps")
                node = self.menu.nodes[node_id]
                self.steps += 1
                self.path.append(node.id)
                self.emit(
                    NodeEntered(
                        self.clock.now(),
                        self.channel.call_id,
                        self.menu.name,
                        self.menu.version,
                        node.id,
                        node.kind,
                        self.steps,
                        self.language,
                    )
                )
                node_id = await getattr(self, f"node_{node.kind}")(node)
        except _End as exc:
            end = exc
        except CallerHangup:
            end = _End(OutcomeKind.ABANDONED, "caller_hangup")
        except ChannelError as exc:
            log.warning("IVR channel failed on call %s: %s", self.channel.call_id, exc)
            end = _End(OutcomeKind.FAILED, f"channel_error: {exc}")
        outcome = IvrOutcome(
            self.clock.now(),
            self.channel.call_id,
            self.menu.name,
            self.menu.version,
            end.kind,
            node.id,
            end.reason,
            self.language,
            end.transfer,
            tuple(self.path),
            dict(self.data),
            self.steps,
        )
        self.emit(outcome)
        return outcome


def _grammar(choices: Sequence[Choice], language: str) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for c in choices:
        for phrase in c.phrases(language):
            seen.setdefault(phrase, None)
    return tuple(seen)


def _match_phrase(choices: Sequence[Choice], language: str, text: str) -> Choice | None:
    """The choice whose keyword the text is, or the only choice with a keyword in the text.

    Keywords of two different choices in one utterance ("상담원 예약") are ambiguous: no
    match. The Vosk adapter already resolves such hypotheses by verifying each keyword
    (speech.verify) and reports the one verified; text-only recognizers (Twilio) do not.
    """
    by_id = {str(i): c for i, c in enumerate(choices)}
    found = match_phrase_text({i: c.phrases(language) for i, c in by_id.items()}, text)
    return by_id[found] if found is not None else None


def match_phrase_text(options: Mapping[str, Sequence[str]], text: str) -> str | None:
    """The option (key of `options`) whose phrase `text` is, or the only option with a
    phrase inside `text`; None when none or several options are named."""
    said = normalize(text)
    if not said:
        return None
    found: list[str] = []
    for option, phrases in options.items():
        for phrase in phrases:
            p = normalize(phrase)
            if p == said:
                return option
            if f" {p} " in f" {said} " and option not in found:
                found.append(option)
    return found[0] if len(found) == 1 else None


async def run_menu(
    menu: Menu,
    channel: Channel,
    *,
    clock: Clock,
    directory: CustomerDirectory | None = None,
    emergency: EmergencyState | None = None,
    on_event: EventSink | None = None,
    settings: IvrSettings = IvrSettings(),
    language: str | None = None,
    start: str | None = None,
) -> IvrOutcome:
    """Walk `menu` over `channel` from `start` (default: the menu's start; e.g. "survey"
    for a post-call survey entry) until a transfer, callback, hangup, abandon or failure."""
    lang = language if language in menu.languages else menu.default_language
    run = _Run(
        menu,
        channel,
        clock,
        directory,
        emergency,
        on_event,
        settings,
        lang,
        language_known=language in menu.languages,
    )
    first = start or menu.start
    if first not in menu.nodes:
        raise ValueError(f"menu {menu.name!r} has no node {first!r}")
    return await run.walk(first)
