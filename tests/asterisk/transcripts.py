"""Read the real Asterisk transcripts (tests/fixtures/asterisk) back into wire bytes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "asterisk"


@dataclass(frozen=True)
class Line:
    side: str  # 'S'/'C' for AMI, 'AST'/'APP' for FastAGI
    text: str


def lines(name: str) -> list[Line]:
    out = []
    for raw in (FIXTURES / name).read_text(encoding="utf-8").splitlines():
        if raw.startswith("#") or not raw:
            continue
        side, _, text = raw.partition(": ")
        if text.endswith("  [LF]"):
            text = text[: -len("  [LF]")]
        elif raw.endswith(":") and side == raw[:-1]:
            text = ""
        out.append(Line(side, text))
    return out


def ami_server_bytes(name: str) -> bytes:
    """Everything Asterisk sent in an AMI transcript, CRLF lines as on the wire."""
    return b"".join((ln.text + "\r\n").encode() for ln in lines(name) if ln.side == "S")


def agi_server_bytes(name: str) -> bytes:
    """Everything Asterisk sent in a FastAGI transcript, bare-LF lines as on the wire."""
    return b"".join((ln.text + "\n").encode() for ln in lines(name) if ln.side == "AST")


def agi_app_lines(name: str) -> list[str]:
    return [ln.text for ln in lines(name) if ln.side == "APP"]


def ami_server_frames(name: str) -> list[list[str]]:
    """Asterisk's AMI messages as lists of lines (the banner is its own one-line frame)."""
    frames: list[list[str]] = []
    current: list[str] = []
    for ln in lines(name):
        if ln.side != "S":
            continue
        if ln.text.startswith("Asterisk Call Manager/"):
            frames.append([ln.text])
            continue
        if ln.text == "":
            if current:
                frames.append(current)
            current = []
        else:
            current.append(ln.text)
    return frames
