from __future__ import annotations

import pytest

from asterisk.agi_parser import (
    AgiEnvironment,
    AgiFramingError,
    AgiHangup,
    AgiParser,
    AgiReply,
    parse_reply_line,
)
from tests.asterisk.transcripts import agi_server_bytes


def feed_all(data: bytes, chunk: int) -> list[object]:
    parser = AgiParser()
    out: list[object] = []
    for i in range(0, len(data), chunk):
        out.extend(parser.feed(data[i : i + chunk]))
    return out


@pytest.mark.parametrize("chunk", [1, 3, 100, 4096])
def test_environment_is_read_to_the_blank_line_whatever_the_chunking(chunk: int) -> None:
    out = feed_all(agi_server_bytes("c-sip-call-fastagi-agi.txt"), chunk)
    env = out[0]
    assert isinstance(env, AgiEnvironment)
    assert env.get("channel") == "PJSIP/2001-00000000"
    assert env.get("uniqueid") == "1795422417.10"
    assert env.get("accountcode") == ""  # 'agi_accountcode: ' keeps an empty value
    assert env.get("calleridname") == "Caller 2001"
    assert env.args == ["arg1", "arg2"]
    assert len(env.values) == 24


@pytest.mark.parametrize("chunk", [1, 5, 4096])
def test_replies_of_the_sip_call_including_a_multiline_520(chunk: int) -> None:
    out = feed_all(agi_server_bytes("c-sip-call-fastagi-agi.txt"), chunk)
    replies = out[1:]
    assert all(isinstance(r, AgiReply) for r in replies)
    codes = [r.code for r in replies if isinstance(r, AgiReply)]
    assert codes == [200] * 12 + [510, 520]
    usage = replies[-1]
    assert isinstance(usage, AgiReply)
    assert usage.text.startswith("520-Invalid command syntax.")
    assert usage.text.endswith("520 End of proper usage.")
    assert "Waits up to" in usage.text
    record = replies[6]
    assert isinstance(record, AgiReply)
    assert (record.result, record.data, record.extra) == ("35", "dtmf", {"endpos": "19040"})
    full = replies[9]
    assert isinstance(full, AgiReply)
    assert full.data == "started-PJSIP/2001-00000000"


@pytest.mark.parametrize("chunk", [1, 4096])
def test_hangup_line_then_511_for_the_command_in_flight(chunk: int) -> None:
    out = feed_all(agi_server_bytes("c2-fastagi-hangup-during-command-agi.txt"), chunk)
    tail = out[-4:]
    assert isinstance(tail[0], AgiReply) and tail[0].result == "0"
    assert isinstance(tail[1], AgiReply) and tail[1].result == "-1"
    assert isinstance(tail[2], AgiHangup)
    assert isinstance(tail[3], AgiReply) and tail[3].code == 511


def test_crlf_lines_are_accepted() -> None:
    out = AgiParser().feed(b"agi_channel: X\r\n\r\n200 result=1 (a b) endpos=3\r\n")
    assert isinstance(out[0], AgiEnvironment) and out[0].get("channel") == "X"
    assert out[1] == AgiReply(200, "1", "a b", {"endpos": "3"}, "200 result=1 (a b) endpos=3")


def test_data_with_parentheses_and_spaces() -> None:
    reply = parse_reply_line("200 result=1 (x) (y) z) endpos=10")
    assert reply.data == "x) (y) z" and reply.extra == {"endpos": "10"}
    assert parse_reply_line("200 result=-1").result_int == -1


def test_garbage_is_a_framing_error() -> None:
    parser = AgiParser()
    parser.feed(b"agi_channel: X\n\n")
    with pytest.raises(AgiFramingError):
        parser.feed(b"hello there\n")
    with pytest.raises(AgiFramingError):
        AgiParser().feed(b"no colon here\n")
