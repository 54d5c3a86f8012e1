"""Hotline's logs: one JSON object per line (or readable text on a terminal), the call and
agent of every line about a call, personal data masked, levels per component.

    settings = parse_logging_settings(config.section("logging"))
    configure_logging(settings, level="debug")    # `--log-level` wins over `logging.level`

A line is "about a call" when it is logged inside a call's context (`bind_call`, set by the
adapters where a call's work starts: a webhook, an IVR task, a FastAGI session), when the
caller passes `extra={"call_id": ...}` (or logs through `call_logger`), or when one of the
line's arguments is the id of a call the ACD is handling. The agent id is taken from the
same places, else from the ACD's current assignment of that call (`CallAgents`, an ACD
subscriber). Ids are never masked: the lines stay matchable to Asterisk's and Twilio's.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

from acd.events import (
    CallAbandoned,
    CallArrived,
    CallAssigned,
    CallEnded,
    CallRingNoAnswer,
    Event,
)
from hotline.config import ConfigError
from hotline.privacy import MaskingFilter, mask_text

LEVELS = ("debug", "info", "warning", "error", "critical")
FORMATS = ("auto", "json", "text")

# JSON schema of the `logging:` section (plugged into the whole-config schema).
LOGGING_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "level": {"enum": list(LEVELS)},
        "format": {"enum": list(FORMATS)},
        "levels": {
            "type": "object",
            "propertyNames": {"pattern": r"^[A-Za-z_][A-Za-z0-9_.]*$"},
            "additionalProperties": {"enum": list(LEVELS)},
        },
    },
}

_call_id: contextvars.ContextVar[str] = contextvars.ContextVar("hotline_call_id", default="")
_agent_id: contextvars.ContextVar[str] = contextvars.ContextVar("hotline_agent_id", default="")
# C0 and C1 control characters and the Unicode line/paragraph separators: each could end a
# line for some reader of the log.
_CONTROL = (
    {i: f"\\x{i:02x}" for i in (*range(32), *range(0x7F, 0xA0))}
    | {0x2028: "\\u2028", 0x2029: "\\u2029", 10: "\\n", 13: "\\r", 9: "\\t"}
)


_JSON_BREAKS = {0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def printable(value: object, limit: int | None = 200) -> str:
    """`value` safe inside one log line: control characters escaped, values over `limit`
    characters cut (None: never)."""
    text = str(value).translate(_CONTROL)
    return text if limit is None or len(text) <= limit else text[:limit] + "..."


@dataclass(frozen=True)
class LoggingSettings:
    level: str = "info"
    format: str = "auto"
    levels: Mapping[str, str] = field(default_factory=dict)


def parse_logging_settings(raw: Mapping[str, Any] | None, where: str = "logging") -> LoggingSettings:
    """The `logging:` section, checked against `LOGGING_SCHEMA` (errors name the key)."""
    import jsonschema  # only where a config is read: `--help` stays fast

    if raw is not None and not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: must be a mapping")
    data = dict(raw or {})
    errors = sorted(jsonschema.Draft202012Validator(LOGGING_SCHEMA).iter_errors(data), key=str)
    if errors:
        error = errors[0]
        path = ".".join([where, *(str(p) for p in error.absolute_path)])
        raise ConfigError(f"{path}: {error.message}")
    return LoggingSettings(
        level=data.get("level", "info"),
        format=data.get("format", "auto"),
        levels=dict(data.get("levels") or {}),
    )


# -- the call of a line -------------------------------------------------------------------


def bind_call(call_id: str, agent_id: str | None = None) -> None:
    """Every line logged from now on in this task (and tasks it starts) is about `call_id`."""
    _call_id.set(call_id)
    if agent_id is not None:
        _agent_id.set(agent_id)


@contextmanager
def call_context(call_id: str, agent_id: str | None = None) -> Iterator[None]:
    """The lines logged inside the block are about `call_id` (and `agent_id`)."""
    call_token = _call_id.set(call_id)
    agent_token = _agent_id.set(agent_id) if agent_id is not None else None
    try:
        yield
    finally:
        if agent_token is not None:
            _agent_id.reset(agent_token)
        _call_id.reset(call_token)


@contextmanager
def call_scope() -> Iterator[None]:
    """What `bind_call` sets inside the block ends with it (a request handler on a kept-alive
    connection must not hand its call to the next request)."""
    call_token = _call_id.set(_call_id.get())
    agent_token = _agent_id.set(_agent_id.get())
    try:
        yield
    finally:
        _agent_id.reset(agent_token)
        _call_id.reset(call_token)


class CallLogger(logging.LoggerAdapter[logging.Logger]):
    """A logger whose lines all carry one call (and agent) id."""

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        kwargs["extra"] = {**(self.extra or {}), **(kwargs.get("extra") or {})}
        return msg, kwargs


def call_logger(logger: logging.Logger, call_id: str, agent_id: str = "") -> CallLogger:
    return CallLogger(logger, {"call_id": call_id, "agent_id": agent_id})


class CallAgents:
    """ACD subscriber: which agent each live call is with, so a line naming a call gets its
    agent too. Only live calls are kept (ended and abandoned calls are dropped)."""

    KINDS: tuple[type[Event], ...] = (
        CallArrived, CallAssigned, CallRingNoAnswer, CallEnded, CallAbandoned,
    )

    def __init__(self) -> None:
        self.agents: dict[str, str] = {}

    def __call__(self, event: Event) -> None:
        if isinstance(event, CallArrived):
            self.agents.setdefault(event.call_id, "")
        elif isinstance(event, CallAssigned):
            self.agents[event.call_id] = event.agent_id
        elif isinstance(event, CallRingNoAnswer):
            if self.agents.get(event.call_id) == event.agent_id:
                self.agents[event.call_id] = ""
        elif isinstance(event, CallEnded | CallAbandoned):
            self.agents.pop(event.call_id, None)


_calls = CallAgents()  # the process's tracker, subscribed by the server (`track_calls`)


def call_agents() -> CallAgents:
    return _calls


class ContextFilter(logging.Filter):
    """Puts `call_id` and `agent_id` on every record (empty when the line is about no call)."""

    def __init__(self, calls: CallAgents | None = None) -> None:
        super().__init__()
        self.calls = calls or _calls

    def filter(self, record: logging.LogRecord) -> bool:
        """Which call: the record's own `call_id`, else a live call its arguments name (a
        line about another call than the task's), else the task's call. Which agent: the
        record's own, else the task's when the call is the task's, else the call's agent."""
        known = self.calls.agents
        context_call = _call_id.get()
        call_id = getattr(record, "call_id", "") or self._named(record, known) or context_call
        agent_id = (
            getattr(record, "agent_id", "")
            or (_agent_id.get() if call_id == context_call else "")
            or known.get(call_id, "")
        )
        record.call_id = call_id
        record.agent_id = agent_id
        return True

    @staticmethod
    def _named(record: logging.LogRecord, known: Mapping[str, str]) -> str:
        if not known or not record.args:
            return ""
        args = record.args.values() if isinstance(record.args, Mapping) else record.args
        return next((a for a in args if isinstance(a, str) and a in known), "")


# -- formats ------------------------------------------------------------------------------


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, call_id,
    agent_id, and the traceback as one string field."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _iso(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("call_id", "agent_id"):
            value = getattr(record, key, "")
            if value:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = mask_text(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = mask_text(self.formatStack(record.stack_info))
        text = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
        return text.translate(_JSON_BREAKS)  # valid JSON escapes; one line for every reader


class TextFormatter(logging.Formatter):
    """For a terminal: `time level logger [call agent]: message`, one line per message
    (control characters in the message escaped)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(ids)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        call_id, agent_id = getattr(record, "call_id", ""), getattr(record, "agent_id", "")
        ids = " ".join(x for x in (call_id and f"call={call_id}", agent_id and f"agent={agent_id}") if x)
        record.ids = f" [{ids}]" if ids else ""
        message = record.getMessage()
        safe = printable(message, limit=None)
        if safe != message:
            record.msg, record.args = safe, None
        text = super().format(record)
        return mask_text(text) if record.exc_info else text


def _iso(created: float) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
    return f"{seconds}.{int(created % 1 * 1000):03d}Z"


# -- setting it up ------------------------------------------------------------------------

_HANDLER_NAME = "hotline"


def configure_logging(
    settings: LoggingSettings | None = None,
    *,
    level: str | None = None,
    stream: IO[str] | None = None,
) -> logging.Handler:
    """Replace the root logger's Hotline handler: JSON unless `stream` is a terminal (or as
    `settings.format` says), masking, call context, root level (`level` wins over the
    settings) and per-component levels."""
    settings = settings or LoggingSettings()
    stream = stream or sys.stderr
    chosen = settings.format
    if chosen == "auto":
        chosen = "text" if _isatty(stream) else "json"
    handler = logging.StreamHandler(stream)
    handler.name = _HANDLER_NAME
    handler.setFormatter(TextFormatter() if chosen == "text" else JsonFormatter())
    handler.addFilter(ContextFilter())
    handler.addFilter(MaskingFilter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.name == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel((level or settings.level).upper())
    for name, component_level in settings.levels.items():
        logging.getLogger(name).setLevel(component_level.upper())
    logging.captureWarnings(True)
    return handler


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
