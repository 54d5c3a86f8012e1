"""AMI framing, sans-io: bytes in, messages out. The asyncio side only moves bytes.

What a real Asterisk 22 (AMI 11.0.0) sends: a banner line `Asterisk Call Manager/11.0.0\\r\\n`
with no blank line after it, then messages of `Key: Value\\r\\n` lines each ended by an empty
line. A message is a response when its first key is `Response`, an event when it is `Event`
(`OriginateResponse` is an event carrying a `Response:` key). Keys may repeat (`Output:` of
`Command`); every value is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

BANNER_PREFIX = b"Asterisk Call Manager/"
MAX_FRAME = 1024 * 1024  # a frame larger than this without its blank line is a broken stream


class AmiFramingError(Exception):
    """The byte stream cannot be AMI (no frame end within MAX_FRAME bytes)."""


class Kind(StrEnum):
    BANNER = "banner"
    RESPONSE = "response"
    EVENT = "event"
    MALFORMED = "malformed"


@dataclass(slots=True)
class AmiMessage:
    kind: Kind
    name: str  # event name, response status ('Success', 'Error', ...) or banner version
    headers: dict[str, str]  # first value of each key, case as sent
    repeated: dict[str, list[str]] = field(default_factory=dict)  # keys seen more than once
    raw: str = ""  # only for MALFORMED frames

    @property
    def action_id(self) -> str:
        return self.headers.get("ActionID", "")

    def get(self, key: str, default: str = "") -> str:
        return self.headers.get(key, default)

    def getall(self, key: str) -> list[str]:
        if key in self.repeated:
            return list(self.repeated[key])
        return [self.headers[key]] if key in self.headers else []


def parse_frame(text: str) -> AmiMessage:
    """One frame (lines without the final blank line) -> a message."""
    headers: dict[str, str] = {}
    repeated: dict[str, list[str]] = {}
    bad = False
    for line in text.split("\r\n"):
        key, sep, value = line.partition(": ")
        if not sep:
            if line.endswith(":"):
                key, value = line[:-1], ""
            else:
                bad = True
                continue
        if key in headers:
            repeated.setdefault(key, [headers[key]]).append(value)
        else:
            headers[key] = value
    if not headers:
        return AmiMessage(Kind.MALFORMED, "", {}, raw=text)
    first = next(iter(headers))
    if first == "Event":
        kind = Kind.EVENT
    elif first == "Response":
        kind = Kind.RESPONSE
    else:
        return AmiMessage(Kind.MALFORMED, "", headers, repeated, raw=text)
    msg = AmiMessage(kind, headers[first], headers, repeated)
    if bad:
        msg.raw = text  # kept so the client can log the odd line; the message still counts
    return msg


class AmiParser:
    """Feed bytes as they arrive; get complete messages back."""

    def __init__(self) -> None:
        self._buf = b""
        self._banner_pending = True

    def feed(self, data: bytes) -> list[AmiMessage]:
        buf = self._buf + data if self._buf else data
        out: list[AmiMessage] = []
        if self._banner_pending:
            if len(buf) < len(BANNER_PREFIX) and BANNER_PREFIX.startswith(buf):
                self._buf = buf
                return out
            if buf.startswith(BANNER_PREFIX):
                end = buf.find(b"\r\n")
                if end < 0:
                    self._buf = buf
                    return out
                line = buf[:end].decode("utf-8", "replace")
                out.append(AmiMessage(Kind.BANNER, line[len(BANNER_PREFIX) :], {}))
                buf = buf[end + 2 :]
            self._banner_pending = False
        start = 0
        find = buf.find
        while True:
            end = find(b"\r\n\r\n", start)
            if end < 0:
                break
            chunk = buf[start:end]
            start = end + 4
            if not chunk.strip():
                continue
            out.append(parse_frame(chunk.decode("utf-8", "replace")))
        self._buf = buf[start:]
        if len(self._buf) > MAX_FRAME:
            self._buf = b""
            raise AmiFramingError(f"no end of message within {MAX_FRAME} bytes")
        return out

    @property
    def banner_checked(self) -> bool:
        """True once the first line was read (whether or not it was Asterisk's banner)."""
        return not self._banner_pending

    def reset(self) -> None:
        """Start over for a new connection (expect a banner again)."""
        self._buf = b""
        self._banner_pending = True


def format_action(action: str, action_id: str, fields: dict[str, str | list[str]]) -> bytes:
    """An action as Asterisk expects it: `Action`, `ActionID`, then the fields, CRLF lines."""
    lines = [f"Action: {action}", f"ActionID: {action_id}"]
    for key, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            if "\r" in item or "\n" in item:
                raise ValueError(f"AMI field {key!r} may not contain a line break")
            lines.append(f"{key}: {item}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "replace")  # lone surrogates: '?'
