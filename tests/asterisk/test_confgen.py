from __future__ import annotations

import configparser
import os
import pwd
import re
from pathlib import Path

import pytest

from acd.agent import AgentConfig
from asterisk.confgen import generate, standalone
from asterisk.events import USED_EVENTS
from asterisk.modules import UnknownApplication, required_modules
from asterisk.settings import (
    AsteriskConfigError,
    AsteriskSettings,
    parse_settings,
    valid_callback_number,
)
from hotline.cli import main
from hotline.commands.asterisk_config import prepare_recordings
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


def test_manager_part_is_the_hotline_user_filtered_to_the_event_table() -> None:
    text = generate(AsteriskSettings(), AGENTS)["manager_hotline.conf"]
    assert "general" not in sections(text)  # the PBX's own manager.conf keeps its [general]
    standalone_text = standalone(AsteriskSettings())["manager.conf"]
    assert "bindaddr = 127.0.0.1" in standalone_text and "#include manager_hotline.conf" in standalone_text
    assert "permit = 127.0.0.1/255.255.255.255" in text
    names = re.findall(r"^eventfilter\(action\(include\),name\((\w+)\)", text, re.MULTILINE)
    assert set(names) == set(USED_EVENTS)
    assert "VarSet" not in names and "CEL" not in names
    assert "header(Device),method(starts_with)) = PJSIP/" in text


def test_pjsip_has_one_endpoint_auth_aor_per_agent_and_no_transport() -> None:
    settings = AsteriskSettings(agent_secrets={"1001": "pw1"})
    text = generate(settings, AGENTS, lambda a: f"gen-{a}")["pjsip_hotline.conf"]
    assert sections(text).count("1001") == 3 and sections(text).count("1002") == 3
    assert "password = pw1" in text and "password = gen-1002" in text
    assert 'callerid = "Kim KJ Jun" <1002>' in text  # quotes would break the callerid
    assert "type = transport" not in text and "transport =" not in text  # the PBX's transport
    named = generate(AsteriskSettings(sip_transport="tls-agents"), AGENTS)["pjsip_hotline.conf"]
    assert "transport = tls-agents" in named


def test_standalone_pjsip_leaves_room_for_the_admins_trunks() -> None:
    text = standalone(AsteriskSettings())["pjsip.conf"]
    assert "[transport-udp]" in text and "#include pjsip_hotline.conf" in text
    assert "#tryinclude pjsip_local.conf" in text
    assert "#tryinclude extensions_local.conf" in standalone(AsteriskSettings())["extensions.conf"]


def test_random_secrets_differ_between_agents_without_a_previous_file() -> None:
    a = generate(AsteriskSettings(), AGENTS)["pjsip_hotline.conf"]
    b = generate(AsteriskSettings(), AGENTS)["pjsip_hotline.conf"]
    assert a != b


def test_dialplan_routes_numbers_to_fastagi_then_hold_and_connects_each_agent() -> None:
    settings = parse_settings({"hotline_numbers": ["1588", "5000"], "ring_timeout": 15,
                               "fastagi": {"port": 4600}, "recordings_dir": "/srv/rec"})
    text = generate(settings, AGENTS)["extensions_hotline.conf"]
    assert text.count("same => n,AGI(agi://127.0.0.1:4600/ivr)") == 2
    assert '$["${HOTLINE_QUEUE}" = ""]?done' in text
    assert "exten => 1002,1,NoOp(Hotline connects ${UNIQUEID} to agent 1002)" in text
    assert "Dial(PJSIP/1002,15,gm(default))" in text
    assert "MixMonitor(/srv/rec/${UNIQUEID}.wav,b)" in text
    assert "Dial(PJSIP/${EXTEN},15,gm(default))" in text  # agents added after generating
    assert "n(talked),UserEvent(HotlineAgentHungUp)\n same => n,AGI(agi://127.0.0.1:4600/survey)" in text
    assert "[globals]" not in text  # an included part must not clash with the PBX's globals
    for ctx in ("hotline-incoming", "hotline-hold", "hotline-connect", "hotline-agents"):
        assert f"[{ctx}]" in text


def test_agi_secret_goes_into_every_agi_url() -> None:
    settings = parse_settings({"fastagi": {"secret": "s3cret-key"}})
    text = generate(settings, AGENTS)["extensions_hotline.conf"]
    urls = re.findall(r"AGI\(([^)]*)\)", text)
    assert urls and all(url.endswith("?key=s3cret-key") for url in urls)
    with pytest.raises(AsteriskConfigError, match=r"fastagi\.secret"):
        parse_settings({"fastagi": {"secret": "a,b"}})


def _priorities(context: str) -> list[str]:
    return re.findall(r"^(?:exten => [^,]+,\d+|\s*same => n(?:\(\w+\))?),(.*)$", context, re.MULTILINE)


def test_no_goto_where_a_redirect_can_land() -> None:
    """Defect 3: a Redirect that lands while the dialplan runs a Goto can mix both targets
    and drop the caller. From the IVR's transfer on, every priority a waiting or ringing
    caller passes is an application or a GotoIf that does not jump while the call waits."""
    text = generate(AsteriskSettings(), AGENTS)["extensions_hotline.conf"]
    for ctx in ("hotline-incoming", "hotline-hold", "hotline-connect"):
        body = text[text.index(f"[{ctx}]") :]
        body = body[: body.index("\n[", 1)] if "\n[" in body[1:] else body
        for app in _priorities(body):
            assert not app.startswith("Goto("), (ctx, app)
            if app.startswith("GotoIf("):
                # jumps only when the IVR did not queue the call / after the talk
                assert '"${HOTLINE_QUEUE}" = ""' in app or '"${DIALSTATUS}" = "ANSWER"' in app, app


def test_module_list_in_the_docs_is_the_one_the_dialplan_needs() -> None:
    """Defect 6: docs/asterisk.md lists exactly the modules Hotline's files need."""
    files = generate(AsteriskSettings(), AGENTS)
    needed = required_modules(files["extensions_hotline.conf"])
    assert "res_manager_devicestate" in needed and "app_exec" in needed and "res_manager" not in needed
    docs = (ROOT / "docs" / "asterisk.md").read_text()
    block = docs[docs.index("<!-- modules -->") : docs.index("<!-- /modules -->")]
    assert re.findall(r"`(\w+)`", block) == needed
    loads = re.findall(r"^load = (\w+)\.so$", files["modules_hotline.conf"], re.MULTILINE)
    assert loads == needed


def test_an_unknown_dialplan_application_is_an_error() -> None:
    with pytest.raises(UnknownApplication, match="Queue"):
        required_modules("exten => s,1,Queue(sales)\n")


def test_generated_files_parse_as_ini() -> None:
    files = {**generate(AsteriskSettings(moh_class="hotline"), AGENTS, lambda a: "x"), **standalone(AsteriskSettings())}
    for name in ("manager_hotline.conf", "musiconhold_hotline.conf"):
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.read_string(files[name])
        assert parser.sections()


def test_committed_copy_matches_the_sample_config(tmp_path: Path) -> None:
    code = main(["asterisk-config", "--config", str(ROOT / "config" / "hotline.yaml"), "--out", str(tmp_path),
                 "--placeholder-secrets", "--standalone"])
    assert code == 0
    committed = sorted(p.name for p in (ROOT / "asterisk" / "conf").iterdir())
    assert committed == sorted(p.name for p in tmp_path.iterdir())
    for name in committed:
        assert (tmp_path / name).read_text() == (ROOT / "asterisk" / "conf" / name).read_text(), name
    config = load_config(ROOT / "config" / "hotline.yaml")
    parse_settings(config.section("asterisk"))


def test_rerun_keeps_passwords_and_leaves_the_admins_files(tmp_path: Path) -> None:
    """Issue 16: regenerating must not clobber the PBX: SIP passwords stay, own files stay."""
    args = ["asterisk-config", "--config", str(ROOT / "config" / "hotline.yaml"), "--out", str(tmp_path)]
    assert main([*args, "--standalone"]) == 0
    first = (tmp_path / "pjsip_hotline.conf").read_text()
    (tmp_path / "pjsip.conf").write_text((tmp_path / "pjsip.conf").read_text() + "[my-trunk]\ntype = endpoint\n")
    (tmp_path / "pjsip_local.conf").write_text("[carrier]\ntype = endpoint\n")
    assert main([*args, "--standalone"]) == 0
    assert (tmp_path / "pjsip_hotline.conf").read_text() == first  # same passwords
    assert re.findall(r"password = (\S+)", first) and "change-me" not in first
    assert "[my-trunk]" in (tmp_path / "pjsip.conf").read_text()
    assert (tmp_path / "pjsip_local.conf").read_text() == "[carrier]\ntype = endpoint\n"


def test_command_refuses_to_overwrite_a_file_it_did_not_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["asterisk-config", "--config", str(ROOT / "config" / "hotline.yaml"), "--out", str(tmp_path)]
    (tmp_path / "extensions_hotline.conf").write_text("[mine]\n")
    assert main(args) == 1
    assert "--force" in capsys.readouterr().err
    assert (tmp_path / "extensions_hotline.conf").read_text() == "[mine]\n"
    assert main([*args, "--force"]) == 0


def test_recordings_folder_is_created_with_an_owner(tmp_path: Path) -> None:
    owner = pwd.getpwuid(os.geteuid()).pw_name
    note = prepare_recordings(tmp_path / "rec" / "hotline", owner)
    assert (tmp_path / "rec" / "hotline").is_dir() and owner in note


def test_command_reports_a_bad_section(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conf = tmp_path / "h.yaml"
    conf.write_text("asterisk:\n  ami: {port: nope}\n")
    assert main(["asterisk-config", "--config", str(conf), "--out", str(tmp_path / "out")]) == 2
    assert "asterisk" in capsys.readouterr().err
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
    text = generate(settings, AGENTS)["extensions_hotline.conf"]
    context = text[text.index("[hotline-callback]"):text.index("[hotline-agents]")]
    assert "MixMonitor(/srv/rec/${HOTLINE_CALL}.wav,b)" in context  # named after the original call
    assert " same => n,Dial(${HOTLINE_CB_DIAL},${HOTLINE_CB_TIMEOUT})\n" in context
    assert "GotoIf($[${HOTLINE_TRY} >= ${HOTLINE_CB_ATTEMPTS}]?done)" in context
    assert "Wait(${HOTLINE_CB_DELAY})" in context and "same => n(done),Hangup()" in context
    labels = re.findall(r"n\((\w+)\)", context)
    assert sorted(labels) == ["dial", "done"]

