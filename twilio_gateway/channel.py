"""The Twilio channel: the IVR interpreter's `Channel` over request/response webhooks.

The interpreter runs as one task per call and awaits the channel; Twilio only talks to us
through webhooks, each waiting for one TwiML document. The channel bridges the two:

- `play()` only buffers prompts: they are said at the start of the next document.
- `gather()` renders the buffered prompts and the question into TwiML, hands the document to
  the webhook that is waiting (`next_document()`), then awaits the answer. The answer comes
  back through `deliver()` from the next webhook (a Gather action) or the Media Stream.
  Each question has a step number carried in its URLs, so a late or replayed answer to an
  older question is ignored.
- `transfer()` and `hangup()` render the last document of the IVR part (hold or dial,
  goodbye) through callbacks of the gateway.
- A caller who hangs up (status callback) makes the pending or next operation raise
  `CallerHangup`. A call that never posts back within `idle_timeout` past its question's
  own timeouts is treated as gone the same way, so no task waits forever.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from acd.clock import Clock, Timer
from ivr.channel import CallerHangup, DigitSpec, Input, Prompt, SpeechSpec, TransferRequest
from twilio_gateway.settings import SpeechMode, TwilioSettings
from twilio_gateway.twiml import (
    GatherUrls,
    listens_during_prompts,
    render_gather,
    render_hangup,
    render_wait,
)

log = logging.getLogger("hotline.twilio")

# The gateway's side of a transfer: enqueue the call, return the TwiML to continue with.
TransferHandler = Callable[["TwilioChannel", TransferRequest, list[Prompt]], Awaitable[str]]


@dataclass(slots=True)
class Question:
    """What the interpreter is waiting for right now."""

    step: int
    digits: DigitSpec | None
    speech: SpeechSpec | None
    answer: asyncio.Future[Input]
    during_prompts: bool = False  # the stream starts with the prompts (speech barge-in)


class TwilioChannel:
    def __init__(
        self,
        call_sid: str,
        *,
        caller: str | None,
        dialed: str | None,
        settings: TwilioSettings,
        clock: Clock,
        on_transfer: TransferHandler,
        language: str = "",
        speech_languages: frozenset[str] | None = None,
    ) -> None:
        self._call_id = call_sid
        self._caller = caller
        self._dialed = dialed
        self.settings = settings
        self.clock = clock
        self._on_transfer = on_transfer
        self.language = language
        self.speech_languages = speech_languages  # None: any (Twilio recognizes)
        self.data: dict[str, str] = {}
        self.step = 0
        self.question: Question | None = None
        self.question_document = ""  # the TwiML of the open question (asked again on a replay)
        self.gone = False  # the caller hung up (or was lost)
        self.finished = False  # the IVR part is over (transferred, hung up)
        self._prompts: list[Prompt] = []
        self._documents: asyncio.Queue[str] = asyncio.Queue()
        self._watchdog: Timer | None = None

    # -- Channel -------------------------------------------------------------------------

    @property
    def call_id(self) -> str:
        return self._call_id

    @property
    def caller(self) -> str | None:
        return self._caller

    @property
    def dialed(self) -> str | None:
        return self._dialed

    async def play(self, prompts: Sequence[Prompt]) -> None:
        self._check_alive()
        self._prompts.extend(prompts)
        if prompts:
            self.language = prompts[-1].language or self.language

    async def gather(
        self,
        prompts: Sequence[Prompt],
        *,
        digits: DigitSpec | None,
        speech: SpeechSpec | None,
        barge_in: bool = True,
    ) -> Input:
        self._check_alive()
        mode = self.settings.speech
        if speech is not None and self.speech_languages is not None and (
            speech.language not in self.speech_languages
        ):
            if self.settings.speech_fallback:
                mode = SpeechMode.TWILIO  # no model of ours for this language: Twilio's ASR
            else:
                speech = None  # no recognizer for this language: keys only
                digits = digits or DigitSpec()
        self.step += 1
        step = self.step
        said = self._take_prompts(prompts)
        document = render_gather(
            said,
            digits=digits,
            speech=speech,
            barge_in=barge_in,
            urls=self.gather_urls(step),
            settings=self.settings,
            mode=mode,
        )
        answer: asyncio.Future[Input] = asyncio.get_running_loop().create_future()
        self.question = Question(
            step, digits, speech, answer, listens_during_prompts(self.settings, speech, barge_in, mode)
        )
        self.question_document = document
        self._documents.put_nowait(document)
        self._arm_watchdog(digits, speech)
        try:
            return await answer
        finally:
            self._disarm_watchdog()
            if self.question is not None and self.question.step == step:
                self.question = None

    async def transfer(self, request: TransferRequest) -> None:
        self._check_alive()
        self.step += 1
        if request.language:
            self.language = request.language
        document = await self._on_transfer(self, request, self._take_prompts(()))
        self.finished = True
        self._documents.put_nowait(document)

    async def hangup(self) -> None:
        self.step += 1
        self.finished = True
        self._documents.put_nowait(render_hangup(self._take_prompts(()), self.settings))

    async def set_data(self, key: str, value: str) -> None:
        self.data[key] = value
        if key == "language":
            self.language = value

    # -- the webhooks' side ----------------------------------------------------------------

    async def next_document(self) -> str:
        """The TwiML for the webhook being answered; if the IVR has nothing yet after
        `response_timeout` seconds, a short pause and a redirect to ask again."""
        try:
            async with asyncio.timeout(self.settings.response_timeout):
                return await self._documents.get()
        except TimeoutError:
            return render_wait(self.settings.url("resume", call=self.call_id))

    def deliver(self, step: int, answer: Input) -> bool:
        """The caller's answer to question `step`; False (ignored) if it is not the open one."""
        question = self.question
        if question is None or question.step != step or question.answer.done():
            log.info("twilio call %s: answer to step %s ignored (open: %s)", self.call_id, step,
                     question.step if question else None)
            return False
        question.answer.set_result(answer)
        return True

    async def answer(self, step: int, answer: Input) -> str:
        """Deliver an answer and return the TwiML that follows it. An answer to another step
        than the open question (late, replayed) changes nothing: the open question is asked
        again; with no question open, the next document is awaited as usual."""
        if self.deliver(step, answer):
            return await self.next_document()
        return await self.current_document()

    async def current_document(self) -> str:
        """For a request that brings nothing new (a retried webhook, a stale answer): the
        next document if one is ready, else the open question again, else wait as usual."""
        if self._documents.empty() and self.question is not None and not self.question.answer.done():
            return self.question_document
        return await self.next_document()

    def caller_gone(self, reason: str = "caller hung up") -> None:
        if self.gone:
            return
        self.gone = True
        self._disarm_watchdog()
        question = self.question
        if question is not None and not question.answer.done():
            question.answer.set_exception(CallerHangup(reason))

    def finish_with(self, document: str) -> None:
        """The IVR ended without a last word of its own (failed): say what is buffered, `document` after."""
        if not self.finished:
            self.finished = True
            self._documents.put_nowait(document)

    def pending_prompts(self) -> list[Prompt]:
        return self._take_prompts(())

    def gather_urls(self, step: int) -> GatherUrls:
        s = self.settings
        return GatherUrls(
            action=s.url("gather", call=self.call_id, step=step),
            resume=s.url("resume", call=self.call_id, step=step),
            stream=s.stream_url(),
            parameters={"call": self.call_id, "step": str(step)},
        )

    # -- internals -----------------------------------------------------------------------

    def _check_alive(self) -> None:
        if self.gone:
            raise CallerHangup("caller hung up")

    def _take_prompts(self, more: Sequence[Prompt]) -> list[Prompt]:
        prompts = [*self._prompts, *more]
        self._prompts.clear()
        if prompts:
            self.language = prompts[-1].language or self.language
        return prompts

    def _arm_watchdog(self, digits: DigitSpec | None, speech: SpeechSpec | None) -> None:
        expected = 0.0
        if digits is not None:
            expected += digits.timeout + digits.inter_digit_timeout * max(0, digits.max_digits - 1)
        if speech is not None:
            expected += speech.timeout + speech.max_duration
        self._disarm_watchdog()
        self._watchdog = self.clock.call_later(
            expected + self.settings.idle_timeout, lambda: self.caller_gone("no answer from Twilio")
        )

    def _disarm_watchdog(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
