"""Hotline's log lines: JSON off a terminal, text on one, the call and agent of every line
about a call, per-component levels, personal data masked, the `logging:` section checked."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from acd.agent import AgentConfig
from acd.clock import VirtualClock
from acd.engine import Acd
from acd.queue import QueueConfig
from hotline.config import ConfigError
from hotline.logs import (
    CallAgents,
    ContextFilter,
    LoggingSettings,
    call_context,
    call_logger,
    configure_logging,
    parse_logging_settings,
)
from tests.twilio.conftest import running
from tests.twilio.fakes import call_sid
from tests.twilio.test_flow import base_form, press, start_call


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """The root logger configured as `hotline serve` does, writing to a pipe-like stream."""
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = configure_logging(LoggingSettings(level="debug"), stream=stream)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_with_masked_numbers_and_the_traceback_as_a_field(logs: io.StringIO) -> None:
    log = logging.getLogger("hotline.test")
    log.info("caller %s waits", "+821012345678")
    try:
        raise ValueError("lookup of +821099998888 failed")
    except ValueError:
        log.exception("directory failed")
    first, second = lines(logs)
    assert first["level"] == "info" and first["logger"] == "hotline.test"
    assert first["message"] == "caller +82******5678 waits"
    assert first["time"].endswith("Z") and "T" in first["time"]
    assert "call_id" not in first
    assert second["message"] == "directory failed"
    assert "ValueError" in second["exception"] and "+821099998888" not in second["exception"]
    assert "+821099998888" not in logs.getvalue()


def test_text_on_a_terminal() -> None:
    stream = Terminal()
    handler = configure_logging(LoggingSettings(), stream=stream)
    try:
        with call_context("CA1", "1001"):
            logging.getLogger("hotline.test").warning("ringing\nforged line")
    finally:
        logging.getLogger().removeHandler(handler)
    (line,) = stream.getvalue().splitlines()
    assert " WARNING hotline.test [call=CA1 agent=1001]: ringing\\nforged line" in line


def test_call_and_agent_from_context_extra_adapter_and_live_calls(logs: io.StringIO) -> None:
    log = logging.getLogger("hotline.test")
    with call_context("CA-ctx"):
        log.info("in the IVR")
    log.info("explicit", extra={"call_id": "CA-extra", "agent_id": "1002"})
    call_logger(log, "CA-adapter", "1003").info("through the adapter")
    log.info("about no call")

    clock = VirtualClock(0.0)
    acd = Acd(clock, [QueueConfig("booking", skills={"booking": 1})])
    acd.add_agent(AgentConfig("1001", skills={"booking": 5}))
    tracker = CallAgents()
    acd.subscribe(tracker, CallAgents.KINDS)
    (handler,) = [h for h in logging.getLogger().handlers if h.name == "hotline"]
    handler.filters[0] = ContextFilter(tracker)  # this test's ACD, not the process's
    acd.arrive("1800000000.42", "booking")
    log.info("call %s waits", "1800000000.42")  # an Asterisk unique id: named, so attached
    acd.login("1001")
    log.info("call %s rings", "1800000000.42")
    acd.answer("1800000000.42")
    acd.end("1800000000.42")
    log.info("call %s is over", "1800000000.42")  # no longer live: nothing to attach
    acd.arrive("1800000000.43", "booking")  # 1001 is free again: it rings at once
    with call_context("CA-other-task", "1002"):  # a line about a live call, from another's task
        log.info("call %s rings", "1800000000.43")

    got = [(e.get("call_id"), e.get("agent_id")) for e in lines(logs)]
    assert got == [
        ("CA-ctx", None), ("CA-extra", "1002"), ("CA-adapter", "1003"), (None, None),
        ("1800000000.42", None), ("1800000000.42", "1001"), (None, None),
        ("1800000000.43", "1001"),
    ]


def test_per_component_levels() -> None:
    stream = io.StringIO()
    settings = parse_logging_settings({"level": "info", "format": "json",
                                       "levels": {"hotline.twilio": "warning", "hotline.asterisk.ami": "debug"}})
    handler = configure_logging(settings, stream=stream)
    try:
        logging.getLogger("hotline.twilio").info("quiet")
        logging.getLogger("hotline.twilio").warning("loud")
        logging.getLogger("hotline.asterisk.ami").debug("frames")
        logging.getLogger("hotline.api").debug("not at info")
        logging.getLogger("hotline.api").info("at info")
    finally:
        logging.getLogger().removeHandler(handler)
        for name in ("hotline.twilio", "hotline.asterisk.ami"):
            logging.getLogger(name).setLevel(logging.NOTSET)
    assert [e["message"] for e in lines(stream)] == ["loud", "frames", "at info"]


def test_level_option_wins_over_the_section() -> None:
    stream = io.StringIO()
    handler = configure_logging(LoggingSettings(level="error", format="json"), level="debug", stream=stream)
    try:
        assert logging.getLogger().level == logging.DEBUG
    finally:
        logging.getLogger().removeHandler(handler)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"levle": "info"}, "logging: Additional properties are not allowed ('levle' was unexpected)"),
        ({"level": "loud"}, "logging.level: 'loud' is not one of"),
        ({"levels": {"hotline.twilio": "verbose"}}, "logging.levels.hotline.twilio: 'verbose' is not one of"),
        ({"levels": {"bad name!": "info"}}, "logging.levels: 'bad name!' does not match"),
        ({"format": "xml"}, "logging.format: 'xml' is not one of"),
        (["info"], "logging: must be a mapping"),
    ],
)
def test_bad_sections_name_the_key(section: Any, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_logging_settings(section)
    assert str(error.value).startswith(message), str(error.value)


async def test_twilio_lines_carry_their_call_and_agent(logs: io.StringIO) -> None:
    async with running() as h:
        sid = call_sid(7)
        h.acd.login("1001")
        await start_call(h, sid)
        await press(h, sid, 1, "1")  # booking: 1001 is dialled
        await h.poster.twiml(f"/twilio/dial?call={sid}&agent=1001", base_form(sid, DialCallStatus="busy"))
        await h.poster.post("/twilio/voice", base_form(call_sid(8), To="x\ny"))
    entries = [e for e in lines(logs) if e["logger"].startswith("hotline.twilio")]
    started = [e for e in entries if e["message"].startswith("twilio call ")]
    assert [e.get("call_id") for e in started] == [sid, call_sid(8)]
    assert started[1]["message"].endswith("to x\\ny")  # the newline escaped
    assert "+821012345678" not in logs.getvalue()
