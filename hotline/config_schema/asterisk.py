"""`asterisk:` (AMI, FastAGI, dialplan contexts, agents' endpoints, callbacks), parsed by
asterisk/settings.py; `enabled` is the wiring's switch."""

from hotline.config_schema._types import (
    BOOL,
    HOST,
    ID,
    LISTEN_PORT,
    NAME,
    PORT,
    TEXT,
    Schema,
    count,
    list_of,
    mapping_of,
    optional,
    seconds,
    strict,
)

_AMI = strict(
    {
        "host": HOST,
        "port": PORT,
        "username": NAME,
        "secret": {"type": ["string", "integer"]},
        "connect_timeout": seconds(maximum=600),
        "action_timeout": seconds(maximum=600),
        "backoff_initial": seconds(maximum=3600),
        "backoff_max": seconds(maximum=3600),
        "ssl": BOOL,
        "ssl_ca": TEXT,
    }
)
_FASTAGI = strict(
    {
        "host": HOST,
        "port": LISTEN_PORT,
        "max_sessions": count(1, 100_000),
        "command_timeout": seconds(maximum=3600),
        "secret": {"type": "string", "pattern": "^[A-Za-z0-9._~-]*$",
                   "description": "letters, digits and . _ ~ - (it goes into the AGI URL)"},
    }
)
_AUDIOSOCKET = strict(
    {
        "host": HOST,
        "port": LISTEN_PORT,
        "advertise": TEXT,
        "connect_timeout": seconds(maximum=60),
        "gap": seconds(maximum=10),
    }
)
_CONTEXTS = strict({name: NAME for name in ("incoming", "hold", "connect", "callback", "agents")})

PROPERTIES: dict[str, Schema] = {
    "asterisk": optional(
        strict(
            {
                "enabled": BOOL,
                "ami": optional(_AMI),
                "fastagi": optional(_FASTAGI),
                "hotline_numbers": {"anyOf": [ID, list_of(ID)]},
                "ring_timeout": seconds(maximum=600),
                "recordings_dir": NAME,
                "speech_dir": NAME,
                "endpoints": optional(mapping_of(NAME, "agent id -> dial string")),
                "agent_secrets": optional(mapping_of({"type": ["string", "integer"]})),
                "contexts": optional(_CONTEXTS),
                "moh_class": NAME,
                "agi_script": NAME,
                "sip_bind": NAME,
                "sounds_prefix": TEXT,
                "menu": NAME,
                "menus": optional(mapping_of(NAME, "dialled number -> menu name")),
                "callback_dial": NAME,
                "callback_attempts": count(1, 20),
                "callback_retry_delay": seconds(zero=True, maximum=3600),
                "callback_ring_timeout": seconds(maximum=600),
                "callback_caller_id": ID,
                "survey_entry": TEXT,
                "sip_transport": TEXT,
                "prompts_dir": NAME,
                "audiosocket": {"anyOf": [BOOL, _AUDIOSOCKET]},
            }
        )
    ),
}
