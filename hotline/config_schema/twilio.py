"""`twilio:` (account, public URL, agents, speech, recordings), parsed by
twilio_gateway/settings.py; `enabled` is the wiring's switch."""

from hotline.config_schema._types import (
    BOOL,
    NAME,
    TEXT,
    Schema,
    count,
    list_of,
    mapping_of,
    optional,
    seconds,
    strict,
)

PROPERTIES: dict[str, Schema] = {
    "twilio": optional(
        strict(
            {
                "enabled": BOOL,
                "account_sid": NAME,
                "auth_token": NAME,
                "auth_token_env": NAME,
                "public_url": NAME,
                "path_prefix": NAME,
                "agents": optional(mapping_of(NAME, "agent id -> sip:URI or client:identity")),
                "hold_music_url": NAME,
                "audio_base_url": optional(TEXT),
                "say_languages": optional(mapping_of(NAME, "language -> Twilio <Say> language")),
                "voice": optional(TEXT),
                "speech": {"enum": ["stream", "twilio"]},
                "speech_barge_in": BOOL,
                "speech_fallback": BOOL,
                "max_body_bytes": count(1, 64 * 1024 * 1024),
                "response_timeout": seconds(maximum=60),
                "idle_timeout": seconds(maximum=86400),
                "ring_timeout": count(1, 600),
                "record": BOOL,
                "recording_format": {"enum": ["wav", "mp3"]},
                "recording_hosts": list_of(NAME),
                "average_handle_time": seconds(maximum=86400),
                "menu": optional(TEXT),
                "numbers": optional(mapping_of(NAME, "dialled number -> menu name")),
                "callback_from": optional({"type": ["string", "integer"]}),
                "survey_entry": optional(TEXT),
                "callback_entry": optional(TEXT),
                "hold_timeout": seconds(maximum=86400),
                "api_url": NAME,
            }
        )
    ),
}
