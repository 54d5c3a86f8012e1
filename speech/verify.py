"""Keyword verification: a second opinion on each keyword the grammar recognizer heard.

A grammar made only of the menu's keywords forces every sound onto them (the Korean model has
no `[unk]`): out-of-menu words come out as a keyword at confidence 1.0, and noise around the
answer adds more keywords ("환불 예약"). So the first pass only proposes candidates; each
candidate's stretch of audio (its word times, 0.2 s either side) is decoded again with the
keywords *and* filler words (`FILLERS`: hesitations and short syllables, never menu words),
which gives non-keyword speech somewhere else to go. A candidate is verified when the second
pass hears the same phrase there; the answer is the verified phrase with the best
second-pass confidence (so two keywords in one hypothesis are resolved, not thrown away),
and nothing verified is reported with confidence 0 (the IVR's low-confidence no-match).

Chosen by measurement on the tuning part of the evaluation set (docs/speech.md): filler sets
of about 50 syllables or 60 common words stole too many real keywords; seven hesitation-like
fillers kept most keywords and rejected most out-of-menu speech. Pure: no Vosk import.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

# Fillers per language: what a caller says that is not a menu word. Keep them short and
# generic (hesitations, single syllables); a keyword of the grammar is always left out.
FILLERS: dict[str, tuple[str, ...]] = {
    "ko": ("음", "어", "아", "으", "그", "요", "이", "우"),
    "en": ("um", "uh", "hmm", "the", "a", "oh"),
}
# Korean vowels (jungseong index) -> the simple vowels they are made of: a filler that shares
# one with a keyword steals that keyword's audio ("아" in 아니요, "어" in 상담원's 원).
_KO_VOWELS = [
    "a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae", "oe", "yo", "u", "wo",
    "we", "wi", "yu", "eu", "ui", "i",
]
_KO_PARTS = {
    "a": {"a"}, "ae": {"e"}, "ya": {"a"}, "yae": {"e"}, "eo": {"eo"}, "e": {"e"},
    "yeo": {"eo"}, "ye": {"e"}, "o": {"o"}, "wa": {"o", "a"}, "wae": {"o", "e"},
    "oe": {"o", "e"}, "yo": {"o"}, "u": {"u"}, "wo": {"u", "eo"}, "we": {"u", "e"},
    "wi": {"u", "i"}, "yu": {"u"}, "eu": {"eu"}, "ui": {"eu", "i"}, "i": {"i"},
}
MARGIN_S = 0.2  # audio kept either side of a candidate's word times


@dataclass(frozen=True, slots=True)
class Word:
    word: str
    confidence: float
    start: float  # seconds, in the time base of the audio that was decoded
    end: float


@dataclass(frozen=True, slots=True)
class Candidate:
    phrase: str
    confidence: float  # first pass
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class Verdict:
    phrase: str | None  # None: no candidate was confirmed
    confidence: float  # second-pass confidence of the phrase (0 when none)
    candidates: int


def hangul_vowels(text: str) -> set[str]:
    """The simple vowels of the Hangul syllables in `text` (other characters: none)."""
    found: set[str] = set()
    for ch in text:
        code = ord(ch) - 0xAC00
        if 0 <= code < 11172:
            found |= _KO_PARTS[_KO_VOWELS[(code // 28) % 21]]
    return found


def filler_grammar(
    phrases: Sequence[str], fillers: Sequence[str], *, lenient: bool = False
) -> list[str]:
    """The verification grammar: the phrases, then the fillers that are no word of a phrase;
    `lenient`: also none sharing a vowel with a phrase (Hangul; other scripts: no effect)."""
    words = {w for p in phrases for w in p.split()}
    taken = set().union(*(hangul_vowels(p) for p in phrases)) if lenient and phrases else set()
    kept = [
        f for f in fillers
        if f not in words and f not in phrases and not (hangul_vowels(f) & taken)
    ]
    return list(phrases) + kept


def candidates(words: Sequence[Word], phrases: Sequence[str]) -> list[Candidate]:
    """Each occurrence of a phrase (a run of words) in the first-pass hypothesis."""
    found: list[Candidate] = []
    tokens = [w.word for w in words]
    for phrase in phrases:
        parts = phrase.split()
        n = len(parts)
        if not n:
            continue
        for i in range(len(tokens) - n + 1):
            if tokens[i : i + n] == parts:
                span = words[i : i + n]
                found.append(
                    Candidate(phrase, min(w.confidence for w in span), span[0].start, span[-1].end)
                )
    found.sort(key=lambda c: c.start)
    return found


def phrase_confidence(words: Sequence[Word], phrase: str) -> float | None:
    """The lowest word confidence of `phrase` in `words`, or None if it is not there."""
    parts = phrase.split()
    tokens = [w.word for w in words]
    best: float | None = None
    for i in range(len(tokens) - len(parts) + 1):
        if tokens[i : i + len(parts)] == parts:
            conf = min(w.confidence for w in words[i : i + len(parts)])
            best = conf if best is None else max(best, conf)
    return best


def verify(
    first_pass: Sequence[Word],
    phrases: Sequence[str],
    strict: Callable[[float, float], Sequence[Word]],
    lenient: Callable[[float, float], Sequence[Word]] | None = None,
    *,
    mode: str = "strict",
) -> Verdict:
    """Check each candidate's stretch of audio with a second pass: `strict(start, end)` has
    every filler; `lenient` only fillers sharing no vowel with a keyword, and counts only
    when it hears nothing but one phrase there. Any phrase heard counts (the second pass may
    correct the first); the best second-pass confidence wins."""
    found = candidates(first_pass, phrases)
    if mode == "resolve" and len({c.phrase for c in found}) == 1:
        # One phrase (perhaps repeated, perhaps with other words): take it as heard.
        return Verdict(found[0].phrase, max(c.confidence for c in found), len(found))
    best: tuple[float, str] | None = None
    seen: set[tuple[float, float]] = set()
    for c in found:
        key = (round(c.start, 2), round(c.end, 2))
        if key in seen:
            continue
        seen.add(key)
        start, end = c.start - MARGIN_S, c.end + MARGIN_S
        heard = _heard(strict(start, end), phrases)
        if heard is None and lenient is not None:
            second = lenient(start, end)
            only = _heard(second, phrases)
            if only is not None and len(second) == len(only[1].split()):
                heard = only
        if heard is not None and (best is None or heard[0] > best[0]):
            best = heard
    if best is None and mode == "resolve" and found:
        # Several phrases, none confirmed: the longest stretch the first pass heard.
        longest = max(found, key=lambda c: (c.end - c.start, c.confidence))
        return Verdict(longest.phrase, longest.confidence, len(found))
    if best is None:
        return Verdict(None, 0.0, len(found))
    return Verdict(best[1], best[0], len(found))


def _heard(words: Sequence[Word], phrases: Sequence[str]) -> tuple[float, str] | None:
    best: tuple[float, str] | None = None
    for phrase in phrases:
        conf = phrase_confidence(words, phrase)
        if conf is not None and (best is None or conf > best[0]):
            best = (conf, phrase)
    return best


# Likelihood-ratio verification (`verify: ratio`): per engine, the lowest score difference per
# second of audio (keyword grammar minus free-form, over the candidate's stretch) that is
# taken as the keyword. Chosen on the tuning part of the evaluation set (docs/speech.md).
RATIO_THRESHOLD: dict[str, float] = {"vosk": -2.0, "pocketsphinx": -2.0}


def verify_ratio(
    first_pass: Sequence[Word],
    phrases: Sequence[str],
    ratio: Callable[[float, float], float | None],
    threshold: float,
) -> Verdict:
    """Each distinct candidate stretch is scored by `ratio(start, end)`: how much better (per
    second) the keyword grammar explains it than the free-form model does (None: too short to
    score). The best-scoring candidate is the answer if its ratio reaches `threshold`; else
    nothing is verified (confidence 0: the IVR's low-confidence no-match)."""
    found = candidates(first_pass, phrases)
    best: tuple[float, Candidate] | None = None
    seen: set[tuple[float, float]] = set()
    for c in found:
        key = (round(c.start, 2), round(c.end, 2))
        if key in seen:
            continue
        seen.add(key)
        value = ratio(c.start - MARGIN_S, c.end + MARGIN_S)
        if value is not None and (best is None or value > best[0]):
            best = (value, c)
    if best is None or best[0] < threshold:
        return Verdict(None, 0.0, len(found))
    return Verdict(best[1].phrase, best[1].confidence, len(found))
