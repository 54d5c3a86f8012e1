from __future__ import annotations

import pytest

from asterisk.ami_parser import AmiFramingError, AmiParser, Kind, format_action, parse_frame
from tests.asterisk.transcripts import ami_server_bytes, ami_server_frames

AMI_FILES = [
    "a-login-corestatus-error-logoff.txt",
    "b-originate-local-to-hangup.txt",
    "c-sip-call-fastagi-ami.txt",
    "c2-fastagi-hangup-during-command-ami.txt",
    "d-queue-call-agent-answer-ami.txt",
    "d2-queue-ringnoanswer-then-connect-ami.txt",
    "d3-queue-caller-abandon-ami.txt",
    "e-bad-login.txt",
    "f-actions-setvar-redirect-hangup-lists.txt",
]


@pytest.mark.parametrize("name", AMI_FILES)
@pytest.mark.parametrize("chunk", [1, 7, 100, 1 << 20])
def test_transcript_parses_into_the_same_frames_whatever_the_chunking(name: str, chunk: int) -> None:
    data = ami_server_bytes(name)
    expected = ami_server_frames(name)
    if name == "e-bad-login.txt":  # three connections: one parser per connection
        return _check_reconnects(data, expected, chunk)
    parser = AmiParser()
    messages = []
    for i in range(0, len(data), chunk):
        messages.extend(parser.feed(data[i : i + chunk]))
    assert len(messages) == len(expected)
    assert messages[0].kind is Kind.BANNER and messages[0].name == "11.0.0"
    for msg, frame in zip(messages[1:], expected[1:], strict=True):
        assert msg.kind in (Kind.EVENT, Kind.RESPONSE)
        _, _, first_value = frame[0].partition(": ")
        assert msg.name == first_value
        assert sum(len(v) for v in msg.repeated.values()) + len(msg.headers) - len(msg.repeated) == len(frame)


def _check_reconnects(data: bytes, expected: list[list[str]], chunk: int) -> None:
    banner = b"Asterisk Call Manager/11.0.0\r\n"
    parts = [banner + p for p in data.split(banner)[1:]]
    total = []
    for part in parts:
        parser = AmiParser()
        for i in range(0, len(part), chunk):
            total.extend(parser.feed(part[i : i + chunk]))
    assert len(total) == len(expected)
    assert [m.kind for m in total].count(Kind.BANNER) == 3
    failures = [m for m in total if m.get("Message") == "Authentication failed"]
    assert len(failures) == 2


def test_banner_has_no_blank_line_and_first_response_follows_it() -> None:
    parser = AmiParser()
    out = parser.feed(b"Asterisk Call Manager/11.0.0\r\nResponse: Success\r\nActionID: acd-1\r\n")
    assert [m.kind for m in out] == [Kind.BANNER]
    out = parser.feed(b"Message: Authentication accepted\r\n\r\n")
    assert out[0].kind is Kind.RESPONSE and out[0].action_id == "acd-1"
    assert out[0].get("Message") == "Authentication accepted"


def test_command_output_keeps_repeated_keys() -> None:
    messages = AmiParser().feed(ami_server_bytes("a-login-corestatus-error-logoff.txt"))
    command = next(m for m in messages if m.action_id == "acd-7")
    assert command.getall("Output") == ["System uptime: 6 seconds", "Last reload: 6 seconds"]
    assert command.get("Output") == "System uptime: 6 seconds"


def test_originate_response_is_an_event_carrying_a_response_key() -> None:
    messages = AmiParser().feed(ami_server_bytes("b-originate-local-to-hangup.txt"))
    orig = [m for m in messages if m.kind is Kind.EVENT and m.name == "OriginateResponse"]
    assert [(m.action_id, m.get("Response"), m.get("Reason")) for m in orig][:2] == [
        ("acd-2", "Success", "4"),
        ("acd-3", "Failure", "0"),
    ]


def test_eventlist_items_carry_the_action_id_and_complete_counts_them() -> None:
    messages = AmiParser().feed(ami_server_bytes("f-actions-setvar-redirect-hangup-lists.txt"))
    items = [m for m in messages if m.action_id == "acd-2"]
    assert items[0].kind is Kind.RESPONSE and items[0].get("EventList") == "start"
    assert [m.name for m in items[1:]] == ["EndpointList"] * 4 + ["EndpointListComplete"]
    assert items[-1].get("ListItems") == "4"
    assert items[1].get("OutboundAuths") == ""  # empty values stay empty strings
    assert items[4].get("DeviceState") == "Not in use"


def test_malformed_frames_are_reported_not_raised() -> None:
    parser = AmiParser()
    parser.feed(b"Asterisk Call Manager/11.0.0\r\n")
    out = parser.feed(b"garbage without colon\r\n\r\nEvent: Foo\r\nbroken line\r\nA: b\r\n\r\n")
    assert out[0].kind is Kind.MALFORMED and "garbage" in out[0].raw
    assert out[1].kind is Kind.EVENT and out[1].name == "Foo" and out[1].get("A") == "b"
    assert "broken line" in out[1].raw


def test_stream_without_frame_end_is_a_framing_error() -> None:
    parser = AmiParser()
    parser.feed(b"Asterisk Call Manager/11.0.0\r\n")
    with pytest.raises(AmiFramingError):
        parser.feed(b"Event: X\r\n" + b"A: " + b"x" * (1024 * 1024 + 10))


def test_utf8_caller_names_survive() -> None:
    msg = parse_frame("Event: Newchannel\r\nCallerIDName: 김민준")
    assert msg.get("CallerIDName") == "김민준"


def test_format_action_writes_crlf_lines_and_refuses_line_breaks() -> None:
    data = format_action("Originate", "h-1", {"Channel": "PJSIP/1001", "Variable": ["A=1", "B=2"]})
    assert data == (
        b"Action: Originate\r\nActionID: h-1\r\nChannel: PJSIP/1001\r\n"
        b"Variable: A=1\r\nVariable: B=2\r\n\r\n"
    )
    with pytest.raises(ValueError, match="line break"):
        format_action("Setvar", "h-2", {"Value": "a\r\nAction: Hangup"})
