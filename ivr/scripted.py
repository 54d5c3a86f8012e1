"""A Channel that plays a scripted caller: for `hotline ivr try`, the simulator and tests.

The script is a list of caller actions consumed one per `gather`:
`Press("2")`, `Say("환불", confidence=1.0)`, `Speak(pcm)` (audio recognized by a Recognizer,
with the node's grammar), `Silence()` and `HangUp()`. A spoken action when the node only
accepts keys (or keys when it only listens) is lost, like on a real line: the gather returns no
input. An exhausted script is silence, or, with `pause_when_done=True` (the admin editor's
test-call panel), `ScriptExhausted` is raised at the question the caller has not answered yet:
the walk stops there, its prompts recorded. Everything the interpreter did is recorded in `log`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ivr.channel import CallerHangup, DigitSpec, Input, Prompt, SpeechSpec, TransferRequest
from ivr.speech import Recognition, Recognizer

FRAME_BYTES = 320  # 20 ms of 8 kHz 16-bit PCM


@dataclass(frozen=True, slots=True)
class Press:
    digits: str


@dataclass(frozen=True, slots=True)
class Say:
    text: str
    confidence: float = 1.0


@dataclass(frozen=True, slots=True)
class Speak:
    pcm: bytes  # 16-bit little-endian mono, 8000 Hz
    label: str = ""


@dataclass(frozen=True, slots=True)
class Silence:
    pass


@dataclass(frozen=True, slots=True)
class HangUp:
    pass


Action = Press | Say | Speak | Silence | HangUp


class ScriptExhausted(Exception):
    """A question was asked after the last scripted action (`pause_when_done`); `step` is
    that question (its prompts, the keys and speech it would accept)."""

    def __init__(self, step: Step) -> None:
        super().__init__("the script has no answer for this question")
        self.step = step


@dataclass
class Step:
    """One recorded channel operation."""

    op: str  # play | gather | transfer | hangup | set_data
    prompts: tuple[Prompt, ...] = ()
    digits: DigitSpec | None = None
    speech: SpeechSpec | None = None
    input: Input | None = None
    transfer: TransferRequest | None = None
    key: str = ""
    value: str = ""


@dataclass
class ScriptedChannel:
    script: list[Action]
    recognizer: Recognizer | None = None
    call_id: str = "try-1"
    caller: str | None = None
    dialed: str | None = None
    log: list[Step] = field(default_factory=list)
    data: dict[str, str] = field(default_factory=dict)
    transferred: TransferRequest | None = None
    hung_up: bool = False
    observer: Callable[[Step], None] | None = None  # told of each step once it is complete
    pause_when_done: bool = False  # an exhausted script raises ScriptExhausted (not silence)

    @property
    def prompts_played(self) -> list[Prompt]:
        return [p for step in self.log for p in step.prompts]

    async def play(self, prompts: Sequence[Prompt]) -> None:
        self._check_live()
        self._record(Step("play", tuple(prompts)))

    async def gather(
        self,
        prompts: Sequence[Prompt],
        *,
        digits: DigitSpec | None,
        speech: SpeechSpec | None,
        barge_in: bool = True,
    ) -> Input:
        self._check_live()
        step = Step("gather", tuple(prompts), digits, speech)
        if self.pause_when_done and not self.script:
            self._record(step)
            raise ScriptExhausted(step)
        action: Action = self.script.pop(0) if self.script else Silence()
        try:
            step.input = await self._answer(action, digits, speech)
        finally:
            self._record(step)
        return step.input

    async def _answer(
        self, action: Action, digits: DigitSpec | None, speech: SpeechSpec | None
    ) -> Input:
        if isinstance(action, HangUp):
            self.hung_up = True
            raise CallerHangup("caller hung up (scripted)")
        if isinstance(action, Press) and digits is not None:
            keys = action.digits
            if digits.terminator and digits.terminator in keys:
                keys = keys[: keys.index(digits.terminator)]
            return Input.dtmf(keys[: digits.max_digits]) if keys else Input.none()
        if isinstance(action, Say) and speech is not None:
            return Input.speech(Recognition(action.text, action.confidence))
        if isinstance(action, Speak) and speech is not None:
            if self.recognizer is None:
                raise ValueError("audio in the script needs a recognizer")
            return Input.speech(await self._recognize(action.pcm, speech))
        return Input.none()

    async def _recognize(self, pcm: bytes, speech: SpeechSpec) -> Recognition:
        assert self.recognizer is not None
        session = self.recognizer.session(speech.language, speech.grammar)
        try:
            for i in range(0, len(pcm), FRAME_BYTES):
                result = await session.feed(pcm[i : i + FRAME_BYTES])
                if result is not None:
                    return result
            return await session.finish()
        finally:
            await session.close()

    async def transfer(self, request: TransferRequest) -> None:
        self._check_live()
        self.transferred = request
        self._record(Step("transfer", transfer=request))

    async def hangup(self) -> None:
        self.hung_up = True
        self._record(Step("hangup"))

    async def set_data(self, key: str, value: str) -> None:
        self.data[key] = value
        self._record(Step("set_data", key=key, value=value))

    def _record(self, step: Step) -> None:
        self.log.append(step)
        if self.observer is not None:
            self.observer(step)

    def _check_live(self) -> None:
        if self.hung_up:
            raise CallerHangup("the call has ended")
