"""`asterisk.audiosocket`: parsed strictly, and `hotline asterisk-config` loads the modules
live speech needs and documents the stream in the generated dialplan."""

from __future__ import annotations

import pytest

from asterisk.confgen import generate, part
from asterisk.settings import AsteriskConfigError, AudioSocketSettings, parse_settings
from hotline.config_validation import check_document


def test_audiosocket_section_is_parsed_with_defaults() -> None:
    assert parse_settings({}).audiosocket is None
    assert parse_settings({"audiosocket": True}).audiosocket == AudioSocketSettings()
    parsed = parse_settings({"audiosocket": {"host": "0.0.0.0", "port": 9092, "advertise": "10.1.2.3"}})
    assert parsed.audiosocket == AudioSocketSettings(host="0.0.0.0", port=9092, advertise="10.1.2.3")


@pytest.mark.parametrize(
    ("raw", "word"),
    [
        ({"prot": 1}, "prot"),
        ({"port": 70000}, "port"),
        ({"connect_timeout": 0}, "connect_timeout"),
        ({"host": "a,b"}, "host"),
    ],
)
def test_bad_audiosocket_settings_name_the_key(raw: dict[str, object], word: str) -> None:
    with pytest.raises(AsteriskConfigError, match=word):
        parse_settings({"audiosocket": raw})


def test_generated_config_loads_audiosocket_and_says_where_it_connects() -> None:
    settings = parse_settings({"audiosocket": {"port": 4574}})
    files = generate(settings, [])
    modules = files[part("modules")]
    assert "load = res_audiosocket.so\nload = app_audiosocket.so" in modules
    assert "EXEC AudioSocket <uuid>,127.0.0.1:4574" in files[part("extensions")]
    plain = generate(parse_settings({}), [])
    assert "audiosocket" not in plain[part("modules")]
    assert "AudioSocket" not in plain[part("extensions")]


def test_schema_takes_the_audiosocket_section_and_speech_processes() -> None:
    ok = {"asterisk": {"audiosocket": {"port": 4574, "gap": 0.4}}, "speech": {"processes": 2}}
    assert check_document(ok) == []
    bad = check_document({"asterisk": {"audiosocket": {"prot": 1}}, "speech": {"processes": 0}})
    assert {".".join(map(str, i.path)) for i in bad} >= {"speech.processes"}
