"""The `asterisk:` section of Hotline's configuration, parsed into typed settings.

    asterisk:
      ami: {host: 127.0.0.1, port: 5038, username: hotline, secret: change-me,
            connect_timeout: 5, action_timeout: 10, backoff_initial: 0.5, backoff_max: 30}
      fastagi: {host: 127.0.0.1, port: 4573, max_sessions: 200, command_timeout: 120,
                secret: ""}           # secret: checked in the AGI URL (?key=...) when set
      hotline_numbers: ["1588"]       # dialled numbers handed to the IVR
      ring_timeout: 20                # seconds an agent's phone rings
      recordings_dir: recordings      # MixMonitor writes <dir>/<call id>.wav (Asterisk's view)
      speech_dir: /var/spool/asterisk/tmp   # RECORD FILE target for caller speech
      endpoints: {"1001": PJSIP/1001}  # agent -> dial string; default PJSIP/<agent id>
      contexts: {incoming: hotline-incoming, hold: hotline-hold, agents: hotline-agents,
                 connect: hotline-connect}
      moh_class: default
      agent_secrets: {"1001": secret}  # SIP passwords for the generated pjsip.conf
      sip_bind: 0.0.0.0:5060          # where agents' softphones register
      sounds_prefix: hotline          # prompt audio ko/welcome -> STREAM FILE hotline/ko/welcome
      prompts_dir: /var/lib/asterisk/sounds/hotline   # that folder as Hotline sees it: recorded
                                      # prompts, `hotline prompts build` output (tts/...)
      menu: skyrail-main              # IVR menu; `menus: {"1588": name}` picks one per number
      callback_dial: PJSIP/{number}@trunk   # how a callback reaches the customer ({number} = their number)
      callback_attempts: 3            # customer dialled at most this many times per callback
      callback_retry_delay: 20        # seconds between attempts (the agent stays on the line)
      callback_ring_timeout: 30       # seconds the customer's phone rings per attempt
      callback_caller_id: "1588"      # number the customer sees (default: the first hotline number)
      survey_entry: survey            # menu entry run after the agent hangs up ("" = none)
      sip_transport: ""               # PJSIP transport of the agents' endpoints ("" = Asterisk picks)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class AsteriskConfigError(ValueError):
    """The `asterisk:` section is invalid; the message names the key."""


@dataclass(frozen=True)
class AmiSettings:
    host: str = "127.0.0.1"
    port: int = 5038
    username: str = "hotline"
    secret: str = "change-me"
    connect_timeout: float = 5.0
    action_timeout: float = 10.0
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    ssl: bool = False  # AMI over TLS (Asterisk's manager.conf `tlsenable`, port 5039); docs/security.md
    ssl_ca: str | None = None  # CA file that signed Asterisk's certificate (default: system CAs)


@dataclass(frozen=True)
class FastAgiSettings:
    host: str = "127.0.0.1"
    port: int = 4573
    max_sessions: int = 200  # IVR sessions at once; more are refused (the dialplan hangs up)
    command_timeout: float = 120.0  # longest wait for one AGI reply (a prompt, a digit, a recording)
    secret: str = ""  # when set, Asterisk must pass it in the AGI URL (`?key=<secret>`)


@dataclass(frozen=True)
class AudioSocketSettings:
    """Live speech over AudioSocket (asterisk/live_speech.py); absent: RECORD FILE."""

    host: str = "127.0.0.1"  # where Hotline listens
    port: int = 4574
    advertise: str = ""  # the host Asterisk connects to, when not `host` (e.g. Hotline's LAN address)
    connect_timeout: float = 5.0  # AudioSocket() must connect within this, else the gather fails
    gap: float = 0.5  # seconds without audio from the PBX after voice: the caller stopped


@dataclass(frozen=True)
class Contexts:
    incoming: str = "hotline-incoming"  # the hotline numbers: Answer, AGI, then hold
    hold: str = "hotline-hold"  # callers waiting for an agent: music on hold
    connect: str = "hotline-connect"  # Redirect target: record, Dial the agent, back to hold
    callback: str = "hotline-callback"  # Originate target: the agent answered, dial the customer
    agents: str = "hotline-agents"  # what agents' phones may dial


@dataclass(frozen=True)
class AsteriskSettings:
    ami: AmiSettings = AmiSettings()
    fastagi: FastAgiSettings = FastAgiSettings()
    hotline_numbers: tuple[str, ...] = ("1588",)
    ring_timeout: float = 20.0
    recordings_dir: Path = Path("recordings")
    speech_dir: Path = Path("/var/spool/asterisk/tmp")
    endpoints: Mapping[str, str] = field(default_factory=dict)
    agent_secrets: Mapping[str, str] = field(default_factory=dict)
    contexts: Contexts = Contexts()
    moh_class: str = "default"
    agi_script: str = "ivr"
    sip_bind: str = "0.0.0.0:5060"
    sounds_prefix: str = "hotline"  # prompt audio "ko/welcome" plays sounds/<prefix>/ko/welcome
    prompts_dir: Path | None = None  # sounds/<prefix> as Hotline sees it (None: not shared)
    audiosocket: AudioSocketSettings | None = None  # live speech (None: RECORD FILE)
    menu: str = "skyrail-main"  # the IVR menu of a call, unless `menus` names one for its number
    menus: Mapping[str, str] = field(default_factory=dict)
    callback_dial: str = "PJSIP/{number}@trunk"
    callback_attempts: int = 3
    callback_retry_delay: float = 20.0
    callback_ring_timeout: float = 30.0
    callback_caller_id: str = ""
    survey_entry: str = "survey"  # menu entry run when the agent hangs up first ("" = none)
    sip_transport: str = ""  # transport named on the agents' endpoints ("" = none named)

    def menu_for(self, dialed: str | None) -> str:
        return self.menus.get(dialed or "", self.menu)

    def endpoint(self, agent_id: str) -> str:
        """The dial string of an agent's phone (default `PJSIP/<agent id>`)."""
        return self.endpoints.get(agent_id, f"PJSIP/{agent_id}")

    def agent_for_device(self, device: str) -> str | None:
        """Which agent a device (`PJSIP/1001`) belongs to, if any."""
        for agent_id, endpoint in self.endpoints.items():
            if endpoint == device:
                return agent_id
        if device.startswith("PJSIP/") and device[6:] not in self.endpoints:
            return device[6:]
        return None

    def recording_path(self, call_id: str) -> Path:
        return self.recordings_dir / f"{call_id}.wav"

    def callback_dial_string(self, number: str) -> str:
        """The dial string of a callback's customer leg; `number` must pass `valid_callback_number`."""
        return self.callback_dial.replace("{number}", number)

    def callback_cid(self) -> str:
        """The number a callback customer sees."""
        if self.callback_caller_id:
            return self.callback_caller_id
        return self.hotline_numbers[0] if self.hotline_numbers else ""


_NUMBER = re.compile(r"\+?[0-9]{3,20}")


def valid_callback_number(number: str) -> bool:
    """Digits with an optional leading +: nothing that could reach the dialplan as syntax."""
    return _NUMBER.fullmatch(number) is not None


def _section(raw: Any, where: str) -> Mapping[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise AsteriskConfigError(f"{where} must be a mapping")
    return raw


def _only(data: Mapping[str, Any], known: set[str], where: str) -> None:
    unknown = set(data) - known
    if unknown:
        raise AsteriskConfigError(f"{where}: unknown keys {sorted(unknown)}")


def _ami_tls_flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise AsteriskConfigError(f"asterisk.ami.ssl: must be true or false, not {value!r}")
    return value


def _folder(raw: Any, base: Path | None) -> Path | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw:
        raise AsteriskConfigError(f"asterisk.prompts_dir: expected a folder path, got {raw!r}")
    path = Path(raw)
    return base / path if base is not None and not path.is_absolute() else path


def _audiosocket(raw: Any) -> AudioSocketSettings | None:
    if raw is None or raw is False:
        return None
    data = {} if raw is True else _section(raw, "asterisk.audiosocket")
    _only(data, set(AudioSocketSettings.__dataclass_fields__), "asterisk.audiosocket")
    d = AudioSocketSettings()
    out = AudioSocketSettings(
        host=str(data.get("host", d.host)),
        port=int(data.get("port", d.port)),
        advertise=str(data.get("advertise", d.advertise) or ""),
        connect_timeout=float(data.get("connect_timeout", d.connect_timeout)),
        gap=float(data.get("gap", d.gap)),
    )
    if not 0 <= out.port <= 65535:
        raise AsteriskConfigError(f"asterisk.audiosocket.port: {out.port} is not a port")
    if out.connect_timeout <= 0 or out.gap <= 0:
        raise AsteriskConfigError("asterisk.audiosocket.connect_timeout and gap must be positive")
    if any(c in out.host + out.advertise for c in ",() "):
        raise AsteriskConfigError("asterisk.audiosocket.host/advertise: a host name or address")
    return out


def parse_settings(raw: Any, base: Path | None = None) -> AsteriskSettings:
    """`raw` is the `asterisk:` mapping; relative paths are taken from `base` (the config's folder)."""
    data = _section(raw, "asterisk")
    _only(
        data,
        {"ami", "fastagi", "hotline_numbers", "ring_timeout", "recordings_dir", "speech_dir",
         "endpoints", "agent_secrets", "contexts", "moh_class", "agi_script", "sip_bind",
         "sounds_prefix", "menu", "menus", "callback_dial", "callback_attempts", "callback_retry_delay",
         "callback_ring_timeout", "callback_caller_id", "survey_entry", "sip_transport", "prompts_dir",
         "audiosocket"},
        "asterisk",
    )
    try:
        ami_raw = _section(data.get("ami"), "asterisk.ami")
        _only(ami_raw, set(AmiSettings.__dataclass_fields__), "asterisk.ami")
        ami = AmiSettings(
            host=str(ami_raw.get("host", AmiSettings.host)),
            port=int(ami_raw.get("port", AmiSettings.port)),
            username=str(ami_raw.get("username", AmiSettings.username)),
            secret=str(ami_raw.get("secret", AmiSettings.secret)),
            connect_timeout=float(ami_raw.get("connect_timeout", AmiSettings.connect_timeout)),
            action_timeout=float(ami_raw.get("action_timeout", AmiSettings.action_timeout)),
            backoff_initial=float(ami_raw.get("backoff_initial", AmiSettings.backoff_initial)),
            backoff_max=float(ami_raw.get("backoff_max", AmiSettings.backoff_max)),
            ssl=_ami_tls_flag(ami_raw.get("ssl", False)),
            ssl_ca=None if ami_raw.get("ssl_ca") is None else str((base or Path()) / str(ami_raw["ssl_ca"])),
        )
        agi_raw = _section(data.get("fastagi"), "asterisk.fastagi")
        _only(agi_raw, set(FastAgiSettings.__dataclass_fields__), "asterisk.fastagi")
        fastagi = FastAgiSettings(
            host=str(agi_raw.get("host", FastAgiSettings.host)),
            port=int(agi_raw.get("port", FastAgiSettings.port)),
            max_sessions=int(agi_raw.get("max_sessions", FastAgiSettings.max_sessions)),
            command_timeout=float(agi_raw.get("command_timeout", FastAgiSettings.command_timeout)),
            secret=str(agi_raw.get("secret", FastAgiSettings.secret) or ""),
        )
        if fastagi.max_sessions < 1:
            raise AsteriskConfigError("asterisk.fastagi.max_sessions must be at least 1")
        if fastagi.command_timeout <= 0:
            raise AsteriskConfigError("asterisk.fastagi.command_timeout must be positive")
        if not re.fullmatch(r"[A-Za-z0-9._~-]*", fastagi.secret):
            raise AsteriskConfigError(
                "asterisk.fastagi.secret may hold only letters, digits and . _ ~ - (it goes into a URL)"
            )
        ctx_raw = _section(data.get("contexts"), "asterisk.contexts")
        _only(ctx_raw, set(Contexts.__dataclass_fields__), "asterisk.contexts")
        contexts = Contexts(**{k: str(v) for k, v in ctx_raw.items()})
        numbers = data.get("hotline_numbers", ["1588"])
        if isinstance(numbers, str | int):
            numbers = [numbers]
        ring_timeout = float(data.get("ring_timeout", 20))
        if ring_timeout <= 0:
            raise AsteriskConfigError("asterisk.ring_timeout must be positive")
        callback_dial = str(data.get("callback_dial", AsteriskSettings.callback_dial))
        if "{number}" not in callback_dial or "," in callback_dial or "${" in callback_dial:
            raise AsteriskConfigError(
                "asterisk.callback_dial must contain {number} and no commas or ${...} (e.g. PJSIP/{number}@trunk)"
            )
        callback_attempts = int(data.get("callback_attempts", AsteriskSettings.callback_attempts))
        if callback_attempts < 1:
            raise AsteriskConfigError("asterisk.callback_attempts must be at least 1")
        callback_retry_delay = float(data.get("callback_retry_delay", AsteriskSettings.callback_retry_delay))
        if callback_retry_delay < 0:
            raise AsteriskConfigError("asterisk.callback_retry_delay must not be negative")
        callback_ring = float(data.get("callback_ring_timeout", AsteriskSettings.callback_ring_timeout))
        if callback_ring <= 0:
            raise AsteriskConfigError("asterisk.callback_ring_timeout must be positive")
        recordings = Path(str(data.get("recordings_dir", "recordings")))
        if base is not None and not recordings.is_absolute():
            recordings = base / recordings
        return AsteriskSettings(
            ami=ami,
            fastagi=fastagi,
            hotline_numbers=tuple(str(n) for n in numbers),
            ring_timeout=ring_timeout,
            recordings_dir=recordings,
            speech_dir=Path(str(data.get("speech_dir", "/var/spool/asterisk/tmp"))),
            endpoints={str(k): str(v) for k, v in _section(data.get("endpoints"), "asterisk.endpoints").items()},
            agent_secrets={
                str(k): str(v)
                for k, v in _section(data.get("agent_secrets"), "asterisk.agent_secrets").items()
            },
            contexts=contexts,
            moh_class=str(data.get("moh_class", "default")),
            agi_script=str(data.get("agi_script", "ivr")),
            sip_bind=str(data.get("sip_bind", "0.0.0.0:5060")),
            sounds_prefix=str(data.get("sounds_prefix", "hotline")),
            menu=str(data.get("menu", "skyrail-main")),
            menus={str(k): str(v) for k, v in _section(data.get("menus"), "asterisk.menus").items()},
            callback_dial=callback_dial,
            callback_attempts=callback_attempts,
            callback_retry_delay=callback_retry_delay,
            callback_ring_timeout=callback_ring,
            callback_caller_id=str(data.get("callback_caller_id", "")),
            survey_entry=str(data.get("survey_entry", "survey") or ""),
            sip_transport=str(data.get("sip_transport", "") or ""),
            prompts_dir=_folder(data.get("prompts_dir"), base),
            audiosocket=_audiosocket(data.get("audiosocket")),
        )
    except (TypeError, ValueError) as exc:
        if isinstance(exc, AsteriskConfigError):
            raise
        raise AsteriskConfigError(f"asterisk: {exc}") from exc
