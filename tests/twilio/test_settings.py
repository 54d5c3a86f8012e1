from __future__ import annotations

from typing import Any

import pytest

from twilio_gateway.errors import TwilioSettingsError
from twilio_gateway.settings import AgentTarget, SpeechMode, TwilioSettings

from .fakes import ACCOUNT

BASE: dict[str, Any] = {"account_sid": ACCOUNT, "auth_token": "t", "public_url": "https://h.example.com/"}


def test_minimal_section_and_urls() -> None:
    s = TwilioSettings.from_section(BASE, environ={})
    assert s.public_url == "https://h.example.com" and s.path_prefix == "/twilio/"
    assert s.url("gather", call="CA1", step=2) == "https://h.example.com/twilio/gather?call=CA1&step=2"
    assert s.stream_url() == "wss://h.example.com/twilio/stream"
    assert s.public_url_of("/twilio/voice?x=1") == "https://h.example.com/twilio/voice?x=1"
    assert s.speech is SpeechMode.STREAM and s.recording_hosts == ("api.twilio.com",)


def test_proxy_path_token_from_environment_agents_and_numbers() -> None:
    s = TwilioSettings.from_section(
        {
            "account_sid": ACCOUNT, "public_url": "http://edge.example.com:8443/hotline",
            "auth_token_env": "MY_TOKEN", "path_prefix": "/tw/",
            "agents": {"1001": "sip:1001@pbx.example.com", 1002: "client:bob"},
            "numbers": {"+8215990000": "skyrail-main"}, "speech": "twilio",
        },
        environ={"MY_TOKEN": "from-env"},
    )
    assert s.auth_token == "from-env"
    assert s.url("voice") == "http://edge.example.com:8443/hotline/tw/voice"
    assert s.stream_url() == "ws://edge.example.com:8443/hotline/tw/stream"
    assert s.agents == {"1001": AgentTarget("sip", "sip:1001@pbx.example.com"), "1002": AgentTarget("client", "bob")}
    assert s.numbers == {"+8215990000": "skyrail-main"} and s.speech is SpeechMode.TWILIO


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"account_sid": "AC123"}, "account_sid"),
        ({"auth_token": ""}, "auth_token"),
        ({"public_url": "hotline.example.com"}, "public_url"),
        ({"public_url": "https://h.example.com/?a=1"}, "public_url"),
        ({"path_prefix": "twilio"}, "path_prefix"),
        ({"agents": {"1001": "1001@pbx"}}, "agents.1001"),
        ({"agents": ["sip:a@b"]}, "agents"),
        ({"speech": "google"}, "speech"),
        ({"max_body_bytes": 0}, "max_body_bytes"),
        ({"ring_timeout": "soon"}, "twilio"),
        ({"recording_format": "ogg"}, "recording_format"),
        ({"recording_hosts": "api.twilio.com"}, "recording_hosts"),
        ({"colour": "blue"}, "unknown keys"),
    ],
)
def test_invalid_sections_name_the_key(change: dict[str, Any], message: str) -> None:
    with pytest.raises(TwilioSettingsError, match=message):
        TwilioSettings.from_section({**BASE, **change}, environ={})


def test_disabled_or_absent_section_is_none_and_the_sample_config_parses() -> None:
    from pathlib import Path

    from hotline.config import load_config
    from twilio_gateway.settings import parse_twilio_settings

    assert parse_twilio_settings({}) is None
    assert parse_twilio_settings({**BASE, "enabled": False}) is None
    assert parse_twilio_settings(BASE, environ={}) == TwilioSettings.from_section(BASE, environ={})
    sample = load_config(Path(__file__).resolve().parents[2] / "config" / "hotline.yaml").section("twilio")
    assert parse_twilio_settings(sample) is None  # disabled in the sample
    enabled = parse_twilio_settings({**sample, "enabled": True}, environ={"TWILIO_AUTH_TOKEN": "x"})
    assert enabled is not None and set(enabled.agents) == {"1001", "1004"}
