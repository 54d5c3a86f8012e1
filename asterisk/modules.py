"""Which Asterisk modules Hotline needs, derived from the dialplan it writes.

`required_modules(extensions_text)` reads the applications and functions the generated
dialplan calls and maps each to its module; an application or function missing from the
tables below is an error, so a dialplan change cannot silently need a module nobody loads.
The rest (SIP stack, RTP, bridges, codecs, formats, AMI lists) is what Hotline's calls and
AMI actions use whatever the dialplan says. docs/asterisk.md lists the result (checked by a
test) and `modules_hotline.conf` loads it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# Applications in the core (main/pbx_builtins.c, main/pbx_app.c): no module.
CORE_APPS = frozenset({"Answer", "Hangup", "NoOp", "Goto", "GotoIf", "Set", "Wait", "Progress"})
APP_MODULES = {
    "AGI": "res_agi",
    "ConfBridge": "app_confbridge",
    "AudioSocket": "app_audiosocket",  # live speech: run by the IVR with AGI EXEC
    "Dial": "app_dial",
    "ExecIf": "app_exec",
    "MixMonitor": "app_mixmonitor",
    "MusicOnHold": "res_musiconhold",
    "Playback": "app_playback",
    "UserEvent": "app_userevent",  # the agent hung up first (asterisk/hangup_side.py)
}
FUNCTION_MODULES = {"CALLERID": "func_callerid", "CONFBRIDGE": "app_confbridge"}
# Modules Asterisk refuses to load without another one ("missing dependency").
DEPENDS = {"res_agi": ("res_speech",), "app_audiosocket": ("res_audiosocket",)}
# What Hotline's calls and AMI actions use besides the dialplan's applications.
BASE_MODULES = (
    # dialplan, timing, RTP
    "pbx_config", "res_timing_timerfd", "res_rtp_asterisk",
    # SIP: the agents' softphones (chan_pjsip) and what registration/auth/DTMF need
    "res_pjproject", "res_sorcery_config", "res_sorcery_memory", "res_sorcery_astdb",
    "res_pjsip", "res_pjsip_session", "res_pjsip_pubsub", "res_pjsip_authenticator_digest",
    "res_pjsip_endpoint_identifier_user", "res_pjsip_endpoint_identifier_ip",
    "res_pjsip_registrar", "res_pjsip_sdp_rtp", "res_pjsip_dtmf_info", "res_pjsip_caller_id",
    "res_pjsip_nat", "res_pjsip_rfc3326", "chan_pjsip", "func_pjsip_endpoint",
    # AMI: DeviceStateList (without it agents stay offline: no DeviceStateChange either)
    "res_manager_devicestate",
    # bridging the caller and the agent; recording and prompts
    "bridge_simple", "bridge_native_rtp", "bridge_softmix", "bridge_holding",
    "codec_ulaw", "codec_alaw", "codec_gsm", "format_wav", "format_gsm", "format_pcm",
    # supervisors: Originate of their phone into ChanSpy (listen, whisper, barge)
    "app_chanspy",
)

_APP = re.compile(r"(?:^exten => [^,]+,[^,]+|^ same => [^,]+),([A-Za-z]+)\(", re.MULTILINE)
_INNER_APP = re.compile(r"\?([A-Za-z]+)\(")
_FUNCTION = re.compile(r"\$\{([A-Z_]+)\(")


class UnknownApplication(ValueError):
    """The dialplan calls an application or function this table has no module for."""


def dialplan_modules(extensions: str, extra_apps: Sequence[str] = ()) -> list[str]:
    """Modules of the applications and functions `extensions` calls, in first-use order, and
    of `extra_apps` (applications Hotline runs with AGI EXEC)."""
    found: list[str] = []
    names = _APP.findall(extensions) + _INNER_APP.findall(extensions) + list(extra_apps)
    for app in names:
        if app in CORE_APPS:
            continue
        module = APP_MODULES.get(app)
        if module is None:
            raise UnknownApplication(f"no module known for dialplan application {app}")
        if module not in found:
            found.append(module)
    for function in _FUNCTION.findall(extensions):
        module = FUNCTION_MODULES.get(function)
        if module is None:
            raise UnknownApplication(f"no module known for dialplan function {function}")
        if module not in found:
            found.append(module)
    return found


def required_modules(extensions: str, extra_apps: Sequence[str] = ()) -> list[str]:
    """Every module Hotline needs with `autoload = no`: the base set, then the dialplan's
    and `extra_apps`' (each after what it depends on)."""
    out = list(BASE_MODULES)
    for module in dialplan_modules(extensions, extra_apps):
        for needed in (*DEPENDS.get(module, ()), module):
            if needed not in out:
                out.append(needed)
    return out
