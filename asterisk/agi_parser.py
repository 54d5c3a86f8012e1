"""FastAGI framing, sans-io: what Asterisk sends to the AGI server, as messages.

Asterisk 22 ends every line in a bare LF. A session starts with the environment block
(`agi_key: value` lines, an empty value keeps its trailing space) ended by an empty line,
whatever the TCP chunking. Then each command gets one reply:

- `200 result=<n> [(<data>)] [key=value ...]`
- `510 Invalid or unknown command`, `511 Command Not Permitted on a dead channel ...`
- a usage error spans lines: `520-Invalid command syntax. ...`, the usage text, and
  `520 End of proper usage.`
- when the caller hangs up during a command, that command returns (often `200 result=-1`),
  then an unprompted `HANGUP` line arrives; later commands get `511`.

panoramisk 1.4 mishandles the last three (it reads one line of a 520, returns `HANGUP` as the
next command's reply, reads the environment in 100-byte chunks); this parser frames them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_LINE = 64 * 1024

_DATA = re.compile(r"^\((.*)\)((?: [\w-]+=\S*)*)$", re.DOTALL)


class AgiFramingError(Exception):
    """The stream cannot be FastAGI (over-long line, reply that is not a reply)."""


@dataclass(frozen=True, slots=True)
class AgiEnvironment:
    values: dict[str, str]

    def get(self, key: str, default: str = "") -> str:
        """`get("channel")` reads `agi_channel`; values keep Asterisk's spelling."""
        return self.values.get(f"agi_{key}", default)

    @property
    def args(self) -> list[str]:
        args = []
        i = 1
        while f"agi_arg_{i}" in self.values:
            args.append(self.values[f"agi_arg_{i}"])
            i += 1
        return args


@dataclass(frozen=True, slots=True)
class AgiReply:
    code: int
    result: str = ""  # the `result=` value as sent ('' when absent)
    data: str | None = None  # text in parentheses after the result
    extra: dict[str, str] = field(default_factory=dict)  # endpos=..., etc.
    text: str = ""  # the whole reply, lines joined with '\n' (usage text of a 520)

    @property
    def result_int(self) -> int:
        try:
            return int(self.result)
        except ValueError:
            return 0


@dataclass(frozen=True, slots=True)
class AgiHangup:
    """Asterisk's unprompted `HANGUP` line: the channel is gone."""


AgiMessage = AgiEnvironment | AgiReply | AgiHangup


def parse_reply_line(line: str) -> AgiReply:
    code_text, _, rest = line.partition(" ")
    try:
        code = int(code_text)
    except ValueError:
        raise AgiFramingError(f"not an AGI reply: {line[:80]!r}") from None
    if code != 200 or not rest.startswith("result="):
        return AgiReply(code, text=line)
    body = rest[len("result=") :]
    result, _, tail = body.partition(" ")
    data: str | None = None
    extra: dict[str, str] = {}
    if tail:
        match = _DATA.match(tail)
        if match:
            data = match.group(1)
            tail = match.group(2).strip()
        for item in tail.split():
            key, _, value = item.partition("=")
            extra[key] = value
    return AgiReply(code, result, data, extra, line)


class AgiParser:
    def __init__(self) -> None:
        self._buf = b""
        self._env: dict[str, str] | None = {}
        self._usage: list[str] | None = None

    @property
    def in_environment(self) -> bool:
        return self._env is not None

    def feed(self, data: bytes) -> list[AgiMessage]:
        buf = self._buf + data if self._buf else data
        out: list[AgiMessage] = []
        start = 0
        while True:
            end = buf.find(b"\n", start)
            if end < 0:
                break
            line = buf[start:end].decode("utf-8", "replace")
            start = end + 1
            if line.endswith("\r"):
                line = line[:-1]
            msg = self._line(line)
            if msg is not None:
                out.append(msg)
        self._buf = buf[start:]
        if len(self._buf) > MAX_LINE:
            raise AgiFramingError(f"no end of line within {MAX_LINE} bytes")
        return out

    def _line(self, line: str) -> AgiMessage | None:
        env = self._env
        if env is not None:
            if not line.strip():
                self._env = None
                return AgiEnvironment(env)
            key, sep, value = line.partition(":")
            if not sep:
                raise AgiFramingError(f"not an AGI environment line: {line[:80]!r}")
            env[key.strip()] = value[1:] if value.startswith(" ") else value
            return None
        if self._usage is not None:
            self._usage.append(line)
            if line.startswith("520 "):
                text = "\n".join(self._usage)
                self._usage = None
                return AgiReply(520, text=text)
            return None
        if line == "HANGUP":
            return AgiHangup()
        if line.startswith("520-"):
            self._usage = [line]
            return None
        if not line:
            return None
        return parse_reply_line(line)
