"""The channel port: everything the IVR interpreter asks of a call, whatever carries it.

Asterisk (FastAGI), Twilio (webhooks + Media Streams) and the simulator implement `Channel`;
the interpreter (`ivr.interpreter.run_menu`) drives it and knows none of them.

Five operations, all awaited by the interpreter one at a time:

- `play(prompts)`: say prompts in order, no input expected (announcements, confirmations).
- `gather(prompts, digits=..., speech=...)`: say prompts, then wait for the caller's answer,
  by DTMF, by speech or either (whichever comes first). `collect digits` is
  `gather(digits=DigitSpec(...), speech=None)`, `listen` is `gather(digits=None, speech=...)`.
  With `barge_in` a key press (or, for speech, the start of voice) stops the prompt at once and
  counts as the start of the answer. The channel enforces every timeout itself (it owns the real
  time of the call); it never raises on silence: it returns `Input(kind=InputKind.NONE)`.
- `transfer(request)`: hand the call to the ACD queue named in the request. The adapter
  enqueues it (skills, priority, tier, language) and keeps the caller waiting; the interpreter
  is done with the call after this returns.
- `hangup()`: end the call.
- `set_data(key, value)`: attach a variable to the call (booking reference, language, tier,
  survey score...), e.g. an Asterisk channel variable or a Twilio call parameter; the case
  store sees the same values through the IVR events.

Speech: the adapter feeds the caller's audio into an `ivr.speech.Recognizer` session built
with `SpeechSpec.grammar` and returns the final `ivr.speech.Recognition` unfiltered. The
interpreter applies the confidence threshold and the no-match handling. A channel without
speech ignores `speech` (keys only). If recognition fails, `gather` may raise
`ivr.speech.SpeechError`: the interpreter counts it as no input and asks that node by keys.

If the caller hangs up, any operation raises `CallerHangup`; the interpreter turns it into an
`abandoned` outcome. Other failures of the carrier raise `ChannelError` (adapters convert
their library errors into it, `raise ChannelError(...) from exc`).

The entry point that drives a channel (ivr/interpreter.py)::

    async def run_menu(
        menu: Menu,                       # an activated, checked menu (ivr.menu); held for the call
        channel: Channel,
        *,
        clock: Clock,                     # acd.clock.Clock: hours nodes read clock.now()
        directory: CustomerDirectory | None = None,   # ivr.directory, for identify nodes
        emergency: EmergencyState | None = None,      # ivr.emergency, for emergency nodes
        on_event: Callable[[IvrEvent], None] | None = None,  # every step (ivr.events)
        settings: IvrSettings = IvrSettings(),  # confidence threshold, max steps, ...
        language: str | None = None,      # start language (default: the menu's)
    ) -> IvrOutcome                       # transfer / callback / hangup / abandoned / failed

An adapter's job per call: build its Channel, get the active menu from the MenuRegistry,
`await run_menu(...)`, then act on the outcome if its `transfer` was not already done.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from ivr.speech import Recognition


class ChannelError(Exception):
    """The carrier failed (lost connection, rejected command); `detail` keeps what it said."""

    def __init__(self, message: str, detail: object = None) -> None:
        super().__init__(message)
        self.detail = detail


class CallerHangup(ChannelError):
    """The caller hung up while the IVR was talking to them."""


@dataclass(frozen=True, slots=True)
class Prompt:
    """One thing to say. Play `audio` if the adapter can (a file name relative to the menu's
    audio folder, without extension, e.g. "ko/welcome"); otherwise synthesize `text`."""

    text: str
    language: str
    audio: str | None = None
    key: str = ""  # where it comes from in the menu, e.g. "nodes.main.prompt"


@dataclass(frozen=True, slots=True)
class DigitSpec:
    """Collect up to `max_digits` DTMF digits; `terminator` ends early (not included).

    `timeout` is the wait for the first digit, `inter_digit_timeout` for each next one.
    """

    max_digits: int = 1
    min_digits: int = 1
    timeout: float = 5.0
    inter_digit_timeout: float = 3.0
    terminator: str | None = "#"


@dataclass(frozen=True, slots=True)
class SpeechSpec:
    """Listen for one utterance in `language`; `grammar` lists the allowed phrases
    (None: free-form). `timeout` is the wait for speech to start; `max_duration` caps it."""

    language: str
    grammar: tuple[str, ...] | None
    timeout: float = 5.0
    max_duration: float = 10.0


class InputKind(StrEnum):
    DTMF = "dtmf"
    SPEECH = "speech"
    NONE = "none"  # no input before the timeout (or empty speech: silence)


@dataclass(frozen=True, slots=True)
class Input:
    """The caller's answer to a `gather`."""

    kind: InputKind
    digits: str = ""
    recognition: Recognition | None = None

    @staticmethod
    def dtmf(digits: str) -> Input:
        return Input(InputKind.DTMF, digits=digits)

    @staticmethod
    def speech(recognition: Recognition) -> Input:
        return Input(InputKind.SPEECH, recognition=recognition)

    @staticmethod
    def none() -> Input:
        return Input(InputKind.NONE)


@dataclass(frozen=True, slots=True)
class TransferRequest:
    """Where the interpreter sends the call: the ACD arguments of `Acd.arrive`.

    `callback_number` set: the caller accepted a callback; the adapter keeps the caller's place
    in `queue` (a virtual call on that number) and ends the call after the confirmation.
    """

    queue: str
    skills: dict[str, int] = field(default_factory=dict)
    priority: int = 0
    tier: str = "regular"
    language: str = ""
    callback_number: str | None = None
    data: dict[str, str] = field(default_factory=dict)  # everything set_data'd so far


class Channel(Protocol):
    @property
    def call_id(self) -> str: ...

    @property
    def caller(self) -> str | None:
        """The caller's number (E.164 where known), None if withheld."""
        ...

    @property
    def dialed(self) -> str | None:
        """The number the caller dialled (selects the hotline/menu), None if unknown."""
        ...

    async def play(self, prompts: Sequence[Prompt]) -> None: ...

    async def gather(
        self,
        prompts: Sequence[Prompt],
        *,
        digits: DigitSpec | None,
        speech: SpeechSpec | None,
        barge_in: bool = True,
    ) -> Input: ...

    async def transfer(self, request: TransferRequest) -> None: ...

    async def hangup(self) -> None: ...

    async def set_data(self, key: str, value: str) -> None: ...
