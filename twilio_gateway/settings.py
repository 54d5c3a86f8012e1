"""The `twilio:` section of the configuration, parsed into typed settings.

`public_url` is the base URL as Twilio sees it. Behind a reverse proxy or tunnel it differs
from the address Hotline listens on (https://hotline.example.com vs http://127.0.0.1:8080):
signatures are computed by Twilio over the public URL, so every webhook is validated
against `public_url + <path and query of the request>`. If the proxy adds a path in front
(https://example.com/hotline/twilio/voice -> http://127.0.0.1:8080/twilio/voice), put that
path into `public_url` (https://example.com/hotline).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import quote, urlsplit

from twilio_gateway.errors import TwilioSettingsError

DEFAULT_HOLD_MUSIC = "http://com.twilio.music.classical.s3.amazonaws.com/BusyStrings.mp3"
DEFAULT_SAY_LANGUAGES = {"ko": "ko-KR", "en": "en-US", "zh": "zh-CN", "ja": "ja-JP"}
_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")


class SpeechMode(StrEnum):
    STREAM = "stream"  # Media Stream into Hotline's own recognizer (same grammars as Asterisk)
    TWILIO = "twilio"  # Twilio's built-in <Gather input="speech"> (fallback)


@dataclass(frozen=True, slots=True)
class AgentTarget:
    """Where an agent's phone is: a SIP URI (`sip:1001@pbx.example.com`) or a Twilio Client
    identity (`client:agent-1001`)."""

    kind: str  # "sip" or "client"
    address: str

    @staticmethod
    def parse(value: str, where: str) -> AgentTarget:
        value = value.strip()
        if value.startswith(("sip:", "sips:")) and "@" in value:
            return AgentTarget("sip", value)
        if value.startswith("client:") and len(value) > len("client:"):
            return AgentTarget("client", value.removeprefix("client:"))
        raise TwilioSettingsError(
            f"{where}: {value!r} is neither a SIP URI (sip:user@host) nor client:<identity>"
        )


@dataclass(frozen=True, slots=True)
class TwilioSettings:
    account_sid: str
    auth_token: str
    public_url: str  # scheme://host[:port][/path] as Twilio reaches us, no trailing slash
    path_prefix: str = "/twilio/"
    agents: Mapping[str, AgentTarget] = field(default_factory=dict)
    hold_music_url: str = DEFAULT_HOLD_MUSIC
    audio_base_url: str | None = None  # prompts with `audio` are played from here (+ ".wav")
    say_languages: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_SAY_LANGUAGES))
    voice: str | None = None  # <Say voice="...">, e.g. "Polly.Seoyeon"; None: Twilio's default
    speech: SpeechMode = SpeechMode.STREAM
    speech_barge_in: bool = False  # stream during prompts (<Start><Stream>) so voice can cut them
    speech_fallback: bool = False  # Twilio's ASR for languages our recognizer has no model for
    max_body_bytes: int = 64 * 1024
    response_timeout: float = 10.0  # a webhook waits this long for the IVR's next TwiML
    idle_timeout: float = 60.0  # a call silent this long past its expected answer is dropped
    ring_timeout: int = 20  # <Dial timeout>, seconds the agent's phone rings
    record: bool = True  # record agent conversations (both legs)
    recording_format: str = "wav"
    recording_hosts: tuple[str, ...] = ("api.twilio.com",)
    average_handle_time: float = 180.0  # seconds per call, for the expected wait announcement
    menu: str | None = None  # the IVR menu of calls to numbers not listed in `numbers`
    numbers: Mapping[str, str] = field(default_factory=dict)  # dialled number -> menu name
    callback_from: str | None = None  # caller id of callback calls (default: the dialled number)
    survey_entry: str | None = "survey"  # menu entry run after the agent hangs up (if the menu has it)
    callback_entry: str | None = None  # menu entry (a callback node) run when the ACD offers a callback
    callback_attempts: int = 3  # dials of the customer per callback before it ends as not reached
    callback_retry_delay: int = 30  # seconds between two dials of the customer
    hold_timeout: float = 900.0  # a waiting call with no hold webhook this long is dropped (lost)
    api_url: str = "https://api.twilio.com"  # Twilio's REST API (a local stand-in in tests)

    def url(self, name: str, **query: str | int) -> str:
        """The public URL of one of our webhooks (what goes into TwiML and signatures)."""
        base = f"{self.public_url}{self.path_prefix}{name}"
        if not query:
            return base
        return base + "?" + "&".join(f"{k}={quote(str(v), safe='')}" for k, v in query.items())

    def public_url_of(self, path_qs: str) -> str:
        """The URL Twilio signed for a request we received at local `path_qs`."""
        return self.public_url + path_qs

    def stream_url(self) -> str:
        scheme, rest = self.public_url.split("://", 1)
        ws = "wss" if scheme == "https" else "ws"
        return f"{ws}://{rest}{self.path_prefix}stream"

    @classmethod
    def from_section(
        cls, section: Mapping[str, Any], environ: Mapping[str, str] | None = None
    ) -> TwilioSettings:
        """Parse the `twilio:` section; the auth token may come from the environment
        (`auth_token_env`, default TWILIO_AUTH_TOKEN) so it stays out of the file."""
        env = os.environ if environ is None else environ
        where = "twilio"
        known = {
            "account_sid", "auth_token", "auth_token_env", "public_url", "path_prefix", "agents",
            "hold_music_url", "audio_base_url", "say_languages", "voice", "speech",
            "max_body_bytes", "response_timeout", "idle_timeout", "ring_timeout", "record",
            "recording_format", "recording_hosts", "average_handle_time", "menu", "numbers",
            "callback_from", "enabled", "survey_entry", "hold_timeout", "speech_barge_in",
            "speech_fallback", "callback_entry", "api_url", "callback_attempts", "callback_retry_delay",
        }
        unknown = set(section) - known
        if unknown:
            raise TwilioSettingsError(f"{where}: unknown keys {sorted(unknown)}")
        sid = str(section.get("account_sid", ""))
        if not _SID.match(sid):
            raise TwilioSettingsError(f"{where}.account_sid: expected AC followed by 32 hex digits")
        token = section.get("auth_token") or env.get(
            str(section.get("auth_token_env", "TWILIO_AUTH_TOKEN")), ""
        )
        if not token:
            raise TwilioSettingsError(
                f"{where}.auth_token: missing (set it, or the variable named by auth_token_env)"
            )
        public = str(section.get("public_url", "")).rstrip("/")
        parts = urlsplit(public)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            raise TwilioSettingsError(
                f"{where}.public_url: expected http(s)://host[:port][/path], got {public!r}"
            )
        prefix = str(section.get("path_prefix", "/twilio/"))
        if not re.fullmatch(r"/([A-Za-z0-9_\-]+/)*", prefix):
            raise TwilioSettingsError(f"{where}.path_prefix: expected like /twilio/, got {prefix!r}")
        raw_agents = section.get("agents") or {}
        if not isinstance(raw_agents, Mapping):
            raise TwilioSettingsError(f"{where}.agents: expected a mapping agent id -> address")
        agents = {
            str(k): AgentTarget.parse(str(v), f"{where}.agents.{k}") for k, v in raw_agents.items()
        }
        languages = dict(DEFAULT_SAY_LANGUAGES)
        raw_languages = section.get("say_languages") or {}
        if not isinstance(raw_languages, Mapping):
            raise TwilioSettingsError(f"{where}.say_languages: expected a mapping")
        languages.update({str(k): str(v) for k, v in raw_languages.items()})
        try:
            speech = SpeechMode(section.get("speech", SpeechMode.STREAM.value))
        except ValueError:
            raise TwilioSettingsError(f"{where}.speech: must be 'stream' or 'twilio'") from None
        hosts = section.get("recording_hosts", ["api.twilio.com"])
        if isinstance(hosts, str) or not isinstance(hosts, list | tuple):
            raise TwilioSettingsError(f"{where}.recording_hosts: expected a list of host names")
        numbers = section.get("numbers") or {}
        if not isinstance(numbers, Mapping):
            raise TwilioSettingsError(f"{where}.numbers: expected a mapping number -> menu name")
        try:
            settings = cls(
                account_sid=sid,
                auth_token=str(token),
                public_url=public,
                path_prefix=prefix,
                agents=agents,
                hold_music_url=str(section.get("hold_music_url", DEFAULT_HOLD_MUSIC)),
                audio_base_url=(
                    str(section["audio_base_url"]).rstrip("/")
                    if section.get("audio_base_url") else None
                ),
                say_languages=languages,
                voice=str(section["voice"]) if section.get("voice") else None,
                speech=speech,
                speech_barge_in=bool(section.get("speech_barge_in", False)),
                speech_fallback=bool(section.get("speech_fallback", False)),
                max_body_bytes=int(section.get("max_body_bytes", 64 * 1024)),
                response_timeout=float(section.get("response_timeout", 10.0)),
                idle_timeout=float(section.get("idle_timeout", 60.0)),
                ring_timeout=int(section.get("ring_timeout", 20)),
                record=bool(section.get("record", True)),
                recording_format=str(section.get("recording_format", "wav")),
                recording_hosts=tuple(str(h) for h in hosts),
                average_handle_time=float(section.get("average_handle_time", 180.0)),
                menu=str(section["menu"]) if section.get("menu") else None,
                numbers={str(k): str(v) for k, v in numbers.items()},
                callback_from=str(section["callback_from"]) if section.get("callback_from") else None,
                survey_entry=str(section.get("survey_entry", "survey") or "") or None,
                callback_entry=str(section.get("callback_entry") or "") or None,
                hold_timeout=float(section.get("hold_timeout", 900.0)),
                callback_attempts=int(section.get("callback_attempts", 3)),
                callback_retry_delay=int(section.get("callback_retry_delay", 30)),
                api_url=str(section.get("api_url") or "https://api.twilio.com").rstrip("/"),
            )
        except (TypeError, ValueError) as exc:
            raise TwilioSettingsError(f"{where}: {exc}") from exc
        api = urlsplit(settings.api_url)
        if api.scheme not in ("http", "https") or not api.netloc or api.path or api.query:
            raise TwilioSettingsError(f"{where}.api_url: expected http(s)://host[:port], got {settings.api_url!r}")
        if settings.recording_format not in ("wav", "mp3"):
            raise TwilioSettingsError(f"{where}.recording_format: must be wav or mp3")
        for name in (
            "max_body_bytes", "response_timeout", "idle_timeout", "ring_timeout", "hold_timeout",
            "callback_attempts",
        ):
            if getattr(settings, name) <= 0:
                raise TwilioSettingsError(f"{where}.{name}: must be positive")
        return settings


def parse_twilio_settings(
    section: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> TwilioSettings | None:
    """The settings, or None when the section is absent or has `enabled: false`."""
    if not section or not section.get("enabled", True):
        return None
    return TwilioSettings.from_section(section, environ)
