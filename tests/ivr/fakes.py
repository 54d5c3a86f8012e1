"""A hand-written fake Channel: answers each gather from a list, records every call."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ivr.channel import (
    CallerHangup,
    ChannelError,
    DigitSpec,
    Input,
    Prompt,
    SpeechSpec,
    TransferRequest,
)
from ivr.checker import check_menu
from ivr.menu import Menu
from ivr.speech import Recognition

ROOT = Path(__file__).resolve().parents[2]
AIRLINE = ROOT / "config" / "menus" / "airline.yaml"


def load(text: str, name: str = "test.yaml") -> Menu:
    result = check_menu(text, name)
    assert result.menu is not None, [i.format(name) for i in result.errors]
    return result.menu


def airline() -> Menu:
    return load(AIRLINE.read_text(encoding="utf-8"), str(AIRLINE))


def said(text: str, confidence: float = 1.0) -> Input:
    return Input.speech(Recognition(text, confidence))


@dataclass
class Gathered:
    prompts: tuple[Prompt, ...]
    digits: DigitSpec | None
    speech: SpeechSpec | None
    barge_in: bool


@dataclass
class FakeChannel:
    """`answers` are returned by successive gathers (then silence); an exception instance in
    the list is raised instead (CallerHangup, ChannelError)."""

    answers: list[Input | Exception] = field(default_factory=list)
    caller: str | None = "+821012345678"
    call_id: str = "call-1"
    dialed: str | None = "1588-0000"
    calls: list[tuple[str, object]] = field(default_factory=list)
    gathers: list[Gathered] = field(default_factory=list)
    played: list[Prompt] = field(default_factory=list)
    data: dict[str, str] = field(default_factory=dict)
    transfers: list[TransferRequest] = field(default_factory=list)
    hangups: int = 0

    @classmethod
    def answering(cls, answers: Iterable[Input | Exception], **kw: object) -> FakeChannel:
        ch = cls(list(answers))
        for k, v in kw.items():
            setattr(ch, k, v)
        return ch

    async def play(self, prompts: Sequence[Prompt]) -> None:
        self.calls.append(("play", tuple(prompts)))
        self.played.extend(prompts)

    async def gather(
        self,
        prompts: Sequence[Prompt],
        *,
        digits: DigitSpec | None,
        speech: SpeechSpec | None,
        barge_in: bool = True,
    ) -> Input:
        self.calls.append(("gather", tuple(prompts)))
        self.played.extend(prompts)
        self.gathers.append(Gathered(tuple(prompts), digits, speech, barge_in))
        answer = self.answers.pop(0) if self.answers else Input.none()
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def transfer(self, request: TransferRequest) -> None:
        self.calls.append(("transfer", request))
        self.transfers.append(request)

    async def hangup(self) -> None:
        self.calls.append(("hangup", None))
        self.hangups += 1

    async def set_data(self, key: str, value: str) -> None:
        self.calls.append(("set_data", (key, value)))
        self.data[key] = value


__all__ = ["AIRLINE", "CallerHangup", "ChannelError", "FakeChannel", "airline", "load", "said"]
