"""Pure rendering of IVR steps and queue states into TwiML (twilio.twiml.voice_response).

Nothing here does I/O or keeps state: the channel and the gateway decide, these functions
only write the document Twilio executes. URLs come in ready-made (see `TwilioSettings.url`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from ivr.channel import DigitSpec, Prompt, SpeechSpec
from prompts.hold import WAIT_TEXTS, hold_text
from twilio_gateway.settings import AgentTarget, SpeechMode, TwilioSettings

HOLD_TEXTS = WAIT_TEXTS  # the texts live in prompts/hold.py (Asterisk plays the same ones)
CONNECTING_TEXTS: Mapping[str, str] = {
    "ko": "상담원을 연결해 드리겠습니다.",
    "en": "Connecting you to an agent.",
    "zh": "正在为您转接客服人员。",
}


@dataclass(frozen=True, slots=True)
class GatherUrls:
    action: str  # <Gather action>: DTMF or Twilio speech result of this step
    resume: str  # <Redirect> after a Media Stream closes: on to the next step
    stream: str  # wss URL of our Media Stream endpoint
    parameters: Mapping[str, str]  # <Stream><Parameter>s: which call and step the audio is for


def _speak(parent: VoiceResponse | Gather, prompt: Prompt, settings: TwilioSettings) -> None:
    if prompt.audio and settings.audio_base_url:
        parent.play(f"{settings.audio_base_url}/{prompt.audio}.wav")
        return
    language = settings.say_languages.get(prompt.language, prompt.language)
    if settings.voice:
        parent.say(prompt.text, language=language, voice=settings.voice)
    else:
        parent.say(prompt.text, language=language)


def _ask(
    response: VoiceResponse, gather: Gather, prompts: Sequence[Prompt], settings: TwilioSettings,
    barge_in: bool,
) -> str:
    """The prompts inside the Gather (a key or word interrupts them) or before it."""
    _speak_all(gather if barge_in else response, prompts, settings)
    response.append(gather)
    return str(response)


def _say_connecting(response: VoiceResponse, language: str, settings: TwilioSettings) -> None:
    text = CONNECTING_TEXTS.get(language, CONNECTING_TEXTS["en"])
    _speak(response, Prompt(text, language if language in CONNECTING_TEXTS else "en"), settings)


def dial_recording_options(recording_url: str | None) -> dict[str, object]:
    """<Dial> attributes that record both legs and report the file to `recording_url`."""
    if recording_url is None:
        return {}
    return {
        "record": "record-from-answer-dual",
        "recording_status_callback": recording_url,
        "recording_status_callback_method": "POST",
        "recording_status_callback_event": "completed",
    }


def _speak_all(
    parent: VoiceResponse | Gather, prompts: Sequence[Prompt], settings: TwilioSettings
) -> None:
    for prompt in prompts:
        _speak(parent, prompt, settings)


def _seconds(value: float) -> int:
    return max(1, math.ceil(value))


def listens_during_prompts(
    settings: TwilioSettings, speech: SpeechSpec | None, barge_in: bool, mode: SpeechMode | None = None
) -> bool:
    """Speech questions stream from the start of their prompts (<Start><Stream>), so that
    voice can barge in, when `speech_barge_in` is set and the question allows barge-in."""
    return (
        speech is not None and barge_in and settings.speech_barge_in
        and (mode or settings.speech) is SpeechMode.STREAM
    )


def render_gather(
    prompts: Sequence[Prompt],
    *,
    digits: DigitSpec | None,
    speech: SpeechSpec | None,
    barge_in: bool,
    urls: GatherUrls,
    settings: TwilioSettings,
    mode: SpeechMode | None = None,
) -> str:
    """Say the prompts, then collect the answer (speech by `mode`, default `settings.speech`).

    DTMF only: one <Gather input="dtmf"> that always posts back (empty Digits on timeout).
    Speech with our recognizer: the prompts (inside a short DTMF <Gather> when keys may
    barge in), then <Connect><Stream> carrying the call and step; DTMF pressed while
    streaming arrives on the stream. When we close the stream, <Redirect> resumes the call.
    Speech with Twilio's recognizer: one <Gather input="speech dtmf"> with the grammar as hints.
    Speech with barge-in (`listens_during_prompts`): <Start><Stream> first, then the prompts
    inside a DTMF <Gather> that waits the question's timeout (or the prompts and a <Pause>),
    then <Redirect> to `resume`; voice heard makes the gateway redirect the call over REST.
    """
    response = VoiceResponse()
    mode = mode or settings.speech
    if speech is not None and listens_during_prompts(settings, speech, barge_in, mode):
        start = response.start()
        stream = start.stream(url=urls.stream, name=f"q{urls.parameters.get('step', '')}")
        for name, value in urls.parameters.items():
            stream.parameter(name=name, value=value)
        if digits is not None:
            gather = Gather(
                input="dtmf",
                action=urls.action,
                method="POST",
                num_digits=digits.max_digits,
                finish_on_key=digits.terminator or "",
                timeout=_seconds(speech.timeout),
                action_on_empty_result=True,
            )
            _speak_all(gather, prompts, settings)
            response.append(gather)
        else:
            _speak_all(response, prompts, settings)
            response.pause(length=_seconds(speech.timeout))
            response.redirect(urls.resume, method="POST")
        return str(response)
    if speech is None:
        spec = digits or DigitSpec()
        gather = Gather(
            input="dtmf",
            action=urls.action,
            method="POST",
            num_digits=spec.max_digits,
            finish_on_key=spec.terminator or "",
            timeout=_seconds(spec.timeout),
            action_on_empty_result=True,
        )
        return _ask(response, gather, prompts, settings, barge_in)
    if mode is SpeechMode.TWILIO:
        language = settings.say_languages.get(speech.language, speech.language)
        extra: dict[str, object] = {}
        if speech.grammar:
            extra["hints"] = ", ".join(speech.grammar)
        if digits is not None:
            extra["num_digits"] = digits.max_digits
            extra["finish_on_key"] = digits.terminator or ""
        gather = Gather(
            input="speech dtmf" if digits is not None else "speech",
            action=urls.action,
            method="POST",
            language=language,
            speech_timeout="auto",
            timeout=_seconds(speech.timeout),
            action_on_empty_result=True,
            **extra,
        )
        return _ask(response, gather, prompts, settings, barge_in)
    if digits is not None and barge_in and prompts:
        # Keys pressed during the prompt end it; with no key, Twilio falls through to the stream.
        gather = Gather(
            input="dtmf",
            action=urls.action,
            method="POST",
            num_digits=digits.max_digits,
            finish_on_key=digits.terminator or "",
            timeout=1,
        )
        _speak_all(gather, prompts, settings)
        response.append(gather)
    else:
        _speak_all(response, prompts, settings)
    connect = response.connect()
    stream = connect.stream(url=urls.stream)
    for name, value in urls.parameters.items():
        stream.parameter(name=name, value=value)
    response.redirect(urls.resume, method="POST")
    return str(response)


def render_hold(
    prompts: Sequence[Prompt],
    *,
    position: int,
    expected_wait: float | None,
    language: str,
    hold_url: str,
    settings: TwilioSettings,
) -> str:
    """Waiting in the queue: announcements so far, position and expected wait (the position
    only when `expected_wait` is None; nothing when `position` is 0), music, then back to
    the hold webhook (which renders this again with fresh figures)."""
    response = VoiceResponse()
    _speak_all(response, prompts, settings)
    if position > 0:
        minutes = max(1, round(expected_wait / 60)) if expected_wait is not None else None
        spoken, text = hold_text(language, position, minutes)
        _speak(response, Prompt(text, spoken), settings)
    response.play(settings.hold_music_url)
    response.redirect(hold_url, method="POST")
    return str(response)


def render_dial(
    prompts: Sequence[Prompt],
    *,
    target: AgentTarget,
    language: str,
    action_url: str,
    agent_status_url: str,
    recording_url: str | None,
    settings: TwilioSettings,
) -> str:
    """Connect the caller to an agent's SIP URI or Client identity. The agent leg reports
    `answered` to `agent_status_url`; the <Dial> action reports how the leg ended."""
    response = VoiceResponse()
    _speak_all(response, prompts, settings)
    _say_connecting(response, language, settings)
    options = dial_recording_options(recording_url)
    dial = Dial(
        action=action_url,
        method="POST",
        timeout=settings.ring_timeout,
        answer_on_bridge=True,
        **options,
    )
    events = {
        "status_callback": agent_status_url,
        "status_callback_event": "answered",
        "status_callback_method": "POST",
    }
    if target.kind == "sip":
        dial.sip(target.address, **events)
    else:
        client = dial.client(**events)
        client.identity(target.address)
    response.append(dial)
    return str(response)


def render_hangup(prompts: Sequence[Prompt], settings: TwilioSettings) -> str:
    response = VoiceResponse()
    _speak_all(response, prompts, settings)
    response.hangup()
    return str(response)


def render_wait(resume_url: str) -> str:
    """The IVR is still thinking: keep the line open a second and ask again."""
    response = VoiceResponse()
    response.pause(length=1)
    response.redirect(resume_url, method="POST")
    return str(response)


def render_empty() -> str:
    """An acknowledgement for callbacks whose TwiML Twilio ignores (status, recording)."""
    return str(VoiceResponse())


def render_callback_leg(
    *,
    customer: str,
    caller_id: str,
    language: str,
    recording_url: str | None,
    settings: TwilioSettings,
    action_url: str | None = None,
    pause: int = 0,
) -> str:
    """The agent's leg of a callback: once the agent answers, dial the customer (after
    `pause` seconds: a retry); `action_url` hears how the dial ended (DialCallStatus)."""
    response = VoiceResponse()
    if pause > 0:
        response.pause(length=pause)
    else:
        _say_connecting(response, language, settings)
    options = dial_recording_options(recording_url)
    if action_url is not None:
        options |= {"action": action_url, "method": "POST"}
    dial = response.dial(caller_id=caller_id, timeout=settings.ring_timeout, **options)
    dial.number(customer)
    return str(response)


def render_conference(
    room: str, *, caller: bool, status_url: str, recording_url: str | None
) -> str:
    """A leg of a call moved into its Twilio conference (`room`, named after the call). The
    caller's leaving ends the conference (nobody stays behind without them); anyone else may
    leave and the others go on. No beeps; the conference is recorded from its start when the
    call is (a second recording of the call, after its <Dial> part)."""
    response = VoiceResponse()
    dial = Dial()
    options: dict[str, object] = {}
    if recording_url is not None:
        options = {
            "record": "record-from-start",
            "recording_status_callback": recording_url,
            "recording_status_callback_method": "POST",
            "recording_status_callback_event": "completed",
        }
    dial.conference(
        room,
        start_conference_on_enter=True,
        end_conference_on_exit=caller,
        beep=False,
        status_callback=status_url,
        status_callback_event="start end join leave",
        status_callback_method="POST",
        **options,
    )
    response.append(dial)
    return str(response)
