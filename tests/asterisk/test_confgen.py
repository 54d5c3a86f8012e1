from __future__ import annotations

import configparser
import re
from pathlib import Path

import pytest

from acd.agent import AgentConfig
from asterisk.confgen import generate
from asterisk.events import USED_EVENTS
from asterisk.settings import (
    AsteriskConfigError,
    AsteriskSettings,
    parse_settings,
    valid_callback_number,
)
from hotline.cli import main
from hotline.config import load_config

ROOT = Path(__file__).resolve().parents[2]
AGENTS = [AgentConfig("1001", name="Agent 1001"), AgentConfig("1002", name='Kim "KJ" Jun')]


def sections(text: str) -> list[str]:
    return re.findall(r"^\[([^\]]+)\]", text, re.MULTILINE)


def test_settings_defaults_and_overrides() -> None:
    s = parse_settings({
        "ami": {"port": 5039, "secret": "x"}, "ring_timeout": 12, "endpoints": {"1002": "PJSIP/desk-7"},
        "contexts": {"hold": "wait-here"}, "hotline_numbers": 1588, "menus": {"1577": "rail"},
    })
    assert (s.ami.port, s.ami.secret, s.ami.host) == (5039, "x", "127.0.0.1")
    assert s.endpoint("1001") == "PJSIP/1001" and s.endpoint("1002") == "PJSIP/desk-7"
    assert s.agent_for_device("PJSIP/desk-7") == "1002" and s.agent_for_device("PJSIP/1001") == "1001"
    assert s.agent_for_device("Local/x@y") is None
    assert s.contexts.hold == "wait-here" and s.contexts.connect == "hotline-connect"
    assert s.hotline_numbers == ("1588",) and s.menu_for("1577") == "rail" and s.menu_for(None) == "skyrail-main"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"amii": {}}, "unknown keys"),
        ({"ami": {"port": "many"}}, "asterisk"),
        ({"ami": {"colour": 1}}, "asterisk.ami: unknown keys"),
        ({"ring_timeout": 0}, "ring_timeout"),
        ({"contexts": []}, "mapping"),
        ({"callback_dial": "PJSIP/trunk"}, "callback_dial must contain {number}"),
        ({"callback_dial": "PJSIP/{number}@trunk,30,A(x)"}, "no commas"),
        ({"callback_attempts": 0}, "callback_attempts"),
        ({"callback_retry_delay": -1}, "callback_retry_delay"),
        ({"callback_ring_timeout": 0}, "callback_ring_timeout"),
    ],
)
def test_bad_settings_name_the_key(raw: dict[str, object], message: str) -> None:
    with pytest.raises(AsteriskConfigError, match=message):
        parse_settings(raw)


def test_manager_conf_binds_loopback_and_filters_to_the_event_table() -> None:
    text = generate(AsteriskSettings(), AGENTS)["manager.conf"]
    assert "bindaddr = 127.0.0.1" in text and "permit = 127.0.0.1/255.255.255.255" in text
    names = re.findall(r"^eventfilter\(action\(include\),name\((\w+)\)", text, re.MULTILINE)
    assert set(names) == set(USED_EVENTS)
    assert "VarSet" not in names and "CEL" not in names
    assert "header(Device),method(starts_with)) = PJSIP/" in text


def test_pjsip_has_one_endpoint_auth_aor_per_agent() -> None:
    settings = AsteriskSettings(agent_secrets={"1001": "pw1"})
    text = generate(settings, AGENTS, lambda a: f"gen-{a}")["pjsip.conf"]
    assert sections(text).count("1001") == 3 and sections(text).count("1002") == 3
    assert "password = pw1" in text and "password = gen-1002" in text
    assert 'callerid = "Kim KJ Jun" <1002>' in text  # quotes would break the callerid


def test_random_secrets_differ_between_runs() -> None:
    a = generate(AsteriskSettings(), AGENTS)["pjsip.conf"]
    b = generate(AsteriskSettings(), AGENTS)["pjsip.conf"]
    assert a != b


def test_dialplan_routes_numbers_to_fastagi_then_hold_and_connects_each_agent() -> None:
    settings = parse_settings({"hotline_numbers": ["1588", "5000"], "ring_timeout": 15,
                               "fastagi": {"port": 4600}, "recordings_dir": "/srv/rec"})
    text = generate(settings, AGENTS)["extensions.conf"]
    assert "HOTLINE_AGI = agi://127.0.0.1:4600/ivr" in text
    assert text.count("same => n,AGI(${HOTLINE_AGI})") == 2
    assert '$["${HOTLINE_QUEUE}" != ""]?hotline-hold,s,1' in text
    assert "exten => 1002,1,NoOp(Hotline connects ${UNIQUEID} to agent 1002)" in text
    assert "Dial(PJSIP/1002,15,m(${HOTLINE_MOH}))" in text
    assert "MixMonitor(/srv/rec/${UNIQUEID}.wav,b)" in text
    assert "Dial(PJSIP/${EXTEN},15,m(${HOTLINE_MOH}))" in text  # agents added after generating
    for ctx in ("hotline-incoming", "hotline-hold", "hotline-connect", "hotline-agents"):
        assert f"[{ctx}]" in text


def test_callback_settings_and_dialplan_context() -> None:
    settings = parse_settings({"callback_dial": "PJSIP/{number}@kt-trunk", "callback_attempts": 2,
                               "callback_retry_delay": 45, "recordings_dir": "/srv/rec",
                               "hotline_numbers": ["1588"]})
    assert settings.callback_dial_string("+821012345678") == "PJSIP/+821012345678@kt-trunk"
    assert (settings.callback_attempts, settings.callback_retry_delay, settings.callback_cid()) == (2, 45.0, "1588")
    assert parse_settings({"callback_caller_id": "0215880000"}).callback_cid() == "0215880000"
    assert valid_callback_number("+821012345678") and valid_callback_number("01012345678")
    for bad in ("12,3", "+82 10", "1234&PJSIP/9", "${x}", "", "12"):
        assert not valid_callback_number(bad), bad
    text = generate(settings, AGENTS)["extensions.conf"]
    context = text[text.index("[hotline-callback]"):text.index("[hotline-agents]")]
    assert "MixMonitor(/srv/rec/${HOTLINE_CALL}.wav,b)" in context  # named after the original call
    assert " same => n,Dial(${HOTLINE_CB_DIAL},${HOTLINE_CB_TIMEOUT})\n" in context
    assert "GotoIf($[${HOTLINE_TRY} >= ${HOTLINE_CB_ATTEMPTS}]?done)" in context
    assert "Wait(${HOTLINE_CB_DELAY})" in context and "same => n(done),Hangup()" in context
    labels = re.findall(r"n\((\w+)\)", context)
    assert sorted(labels) == ["dial", "done"]


def test_generated_files_parse_as_ini() -> None:
    files = generate(AsteriskSettings(), AGENTS, lambda a: "x")
    for name in ("manager.conf", "musiconhold.conf"):
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.read_string(files[name])
        assert parser.sections()


def test_committed_copy_matches_the_sample_config(tmp_path: Path) -> None:
    code = main(["asterisk-config", "--config", str(ROOT / "config" / "hotline.yaml"), "--out", str(tmp_path),
                 "--placeholder-secrets"])
    assert code == 0
    for name in ("manager.conf", "pjsip.conf", "extensions.conf", "musiconhold.conf"):
        assert (tmp_path / name).read_text() == (ROOT / "asterisk" / "conf" / name).read_text(), name
    config = load_config(ROOT / "config" / "hotline.yaml")
    parse_settings(config.section("asterisk"))


def test_command_refuses_to_overwrite_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["asterisk-config", "--config", str(ROOT / "config" / "hotline.yaml"), "--out", str(tmp_path)]
    assert main(args) == 0
    assert main(args) == 1
    assert "--force" in capsys.readouterr().err
    assert main([*args, "--force"]) == 0


def test_command_reports_a_bad_section(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conf = tmp_path / "h.yaml"
    conf.write_text("asterisk:\n  ami: {port: nope}\n")
    assert main(["asterisk-config", "--config", str(conf), "--out", str(tmp_path / "out")]) == 2
    assert "asterisk" in capsys.readouterr().err
