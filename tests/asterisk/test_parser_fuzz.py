"""Hypothesis fuzzing of the sans-io AMI and AGI parsers: arbitrary bytes in arbitrary chunks
raise nothing but the parser's own framing error, and framing does not depend on chunking."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asterisk.agi_parser import AgiEnvironment, AgiFramingError, AgiHangup, AgiParser, AgiReply
from asterisk.ami_parser import AmiFramingError, AmiMessage, AmiParser, Kind, format_action

FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, last = [], 0
    for p in points:
        pieces.append(data[last:p])
        last = p
    pieces.append(data[last:])
    return pieces


def ami_feed(pieces: list[bytes]) -> list[AmiMessage]:
    parser = AmiParser()
    out: list[AmiMessage] = []
    for piece in pieces:
        out += parser.feed(piece)
    return out


AMI_TOKENS = st.sampled_from([
    b"Asterisk Call Manager/11.0.0\r\n", b"Response: Success\r\n", b"Event: Hangup\r\n", b"ActionID: hl-1\r\n",
    b"Uniqueid: 1700000000.1\r\n", b"Output: line\r\n", b"\r\n", b"\r\n\r\n", b"Bad line\r\n", b":\r\n",
    b"Key:\r\n", b"\xff\xfe", "Caller: 김\r\n".encode(), b"\r", b"\n",
])


@FUZZ
@given(st.lists(st.one_of(AMI_TOKENS, st.binary(max_size=40)), max_size=40), st.lists(st.integers(0, 2000)))
def test_ami_parser_takes_any_bytes_in_any_chunks(tokens: list[bytes], cuts: list[int]) -> None:
    data = b"".join(tokens)
    try:
        whole = ami_feed([data])
    except AmiFramingError:
        return
    pieces = chunked(data, cuts)
    assert [(m.kind, m.name, m.headers) for m in ami_feed(pieces)] == [(m.kind, m.name, m.headers) for m in whole]
    for m in whole:
        assert isinstance(m, AmiMessage) and isinstance(m.kind, Kind)


@FUZZ
@given(st.lists(st.tuples(st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,15}", fullmatch=True),
                          st.text(alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"], min_codepoint=32),
                                  max_size=30)), min_size=1, max_size=8),
       st.lists(st.integers(0, 2000)))
def test_a_formatted_action_frames_back_to_its_fields(fields: list[tuple[str, str]], cuts: list[int]) -> None:
    """What Hotline writes is one frame with the same keys and values, however it is cut."""
    data = format_action("Test", "hl-9", dict(fields))
    parser = AmiParser()
    parser.feed(b"Asterisk Call Manager/11.0.0\r\n")
    out: list[AmiMessage] = []
    for piece in chunked(data, cuts):
        out += parser.feed(piece)
    assert len(out) == 1
    expected = {"Action": "Test", "ActionID": "hl-9", **dict(fields)}
    for key, value in expected.items():
        assert out[0].headers.get(key) == value, (key, value, out[0].headers)


def agi_feed(pieces: list[bytes]) -> list[object]:
    parser = AgiParser()
    out: list[object] = []
    for piece in pieces:
        out += parser.feed(piece)
    return out


AGI_TOKENS = st.sampled_from([
    b"agi_network: yes\n", b"agi_uniqueid: 1.2\n", b"\n", b"200 result=1\n", b"200 result=-1 endpos=0\n",
    b"200 result=0 (timeout) endpos=1234\n", b"HANGUP\n", b"511 Command Not Permitted\n", b"520-Invalid\n",
    b"Usage: x\n", b"520 End of proper usage.\n", b"510 Invalid or unknown command\n", b"garbage\n", b"\r\n",
    b"\xff\n", b"200 result=\n", b"200 result=abc (x\n",
])


@FUZZ
@given(st.lists(st.one_of(AGI_TOKENS, st.binary(max_size=30)), max_size=40), st.lists(st.integers(0, 2000)))
def test_agi_parser_takes_any_bytes_in_any_chunks(tokens: list[bytes], cuts: list[int]) -> None:
    data = b"".join(tokens)
    try:
        whole = agi_feed([data])
    except AgiFramingError:
        return
    try:
        assert agi_feed(chunked(data, cuts)) == whole
    except AgiFramingError:
        raise AssertionError("chunking changed the framing") from None
    envs = [m for m in whole if isinstance(m, AgiEnvironment)]
    assert len(envs) <= 1 and (not envs or whole[0] is envs[0])
    assert all(isinstance(m, AgiEnvironment | AgiReply | AgiHangup) for m in whole)


@FUZZ
@given(st.lists(st.tuples(st.from_regex(r"agi_[a-z_]{1,12}", fullmatch=True),
                          st.text(alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"]),
                                  max_size=20)), max_size=10),
       st.integers(0, 2000))
def test_agi_environment_ends_at_its_blank_line(pairs: list[tuple[str, str]], cut: int) -> None:
    data = b"".join(f"{k}: {v}\n".encode() for k, v in pairs) + b"\n200 result=1\n"
    out = agi_feed(chunked(data, [cut]))
    assert isinstance(out[0], AgiEnvironment) and isinstance(out[1], AgiReply) and out[1].code == 200
    for key, value in dict(pairs).items():
        assert out[0].get(key.removeprefix("agi_")) == value
