"""What a caller on hold hears about their place: one sentence per language, with the expected
wait when it is reliable (acd/wait_estimate.py) and the position only otherwise. Spoken by
Twilio's <Say> and, synthesized with espeak-ng (prompts/render.py), played on Asterisk."""

from __future__ import annotations

from collections.abc import Mapping

WAIT_TEXTS: Mapping[str, str] = {
    "ko": "현재 대기 순서는 {position}번째입니다. 예상 대기 시간은 약 {minutes}분입니다. 잠시만 기다려 주십시오.",
    "en": "You are number {position} in the queue. The expected wait is about {minutes} minutes. Please hold.",
    "zh": "您目前排在第{position}位，预计等待约{minutes}分钟。请稍候。",
}
POSITION_TEXTS: Mapping[str, str] = {
    "ko": "현재 대기 순서는 {position}번째입니다. 잠시만 기다려 주십시오.",
    "en": "You are number {position} in the queue. Please hold.",
    "zh": "您目前排在第{position}位。请稍候。",
}
DEFAULT_LANGUAGE = "en"


def hold_text(language: str, position: int, minutes: int | None) -> tuple[str, str]:
    """(language spoken, sentence) for a caller at `position`; `minutes` None: position only.
    A language without texts gets English."""
    texts = WAIT_TEXTS if minutes is not None else POSITION_TEXTS
    spoken = language if language in texts else DEFAULT_LANGUAGE
    return spoken, texts[spoken].format(position=position, minutes=minutes or 0)
