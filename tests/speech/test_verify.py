"""Keyword verification (speech.verify), pure: a fake second pass stands in for Vosk."""

from __future__ import annotations

from collections.abc import Sequence

from speech.verify import FILLERS, Word, candidates, filler_grammar, hangul_vowels, verify

MENU = ["예약", "환불", "상담원"]


def w(word: str, start: float, end: float, conf: float = 1.0) -> Word:
    return Word(word, conf, start, end)


def second_pass(table: dict[float, list[Word]]) -> tuple[list[tuple[float, float]], object]:
    asked: list[tuple[float, float]] = []

    def redecode(start: float, end: float) -> Sequence[Word]:
        asked.append((round(start, 2), round(end, 2)))
        return table.get(round(start + 0.2, 2), [])

    return asked, redecode


def test_fillers_never_include_a_keyword_or_a_shared_vowel() -> None:
    strict = filler_grammar(["네", "아니요"], FILLERS["ko"])
    assert strict[:2] == ["네", "아니요"] and "음" in strict and "아" in strict
    lenient = filler_grammar(["네", "아니요"], FILLERS["ko"], lenient=True)
    assert "아" not in lenient and "요" not in lenient and "이" not in lenient  # in 아니요
    assert "음" in lenient
    assert hangul_vowels("상담원") == {"a", "u", "eo"}
    assert filler_grammar(["yes", "no"], ["um", "no"]) == ["yes", "no", "um"]


def test_candidates_are_found_in_order_with_multiword_phrases() -> None:
    words = [w("음", 0.0, 0.2), w("talk", 0.3, 0.5), w("agent", 0.5, 0.9), w("예약", 1.0, 1.4)]
    found = candidates(words, ["talk agent", "예약"])
    assert [(c.phrase, c.start, c.end) for c in found] == [("talk agent", 0.3, 0.9), ("예약", 1.0, 1.4)]


def test_two_keywords_resolve_to_the_verified_one() -> None:
    asked, redecode = second_pass({0.5: [w("음", 0, 0.3)], 1.2: [w("환불", 0.2, 0.6, 0.97)]})
    verdict = verify([w("예약", 0.5, 0.9), w("환불", 1.2, 1.7)], MENU, redecode)  # type: ignore[arg-type]
    assert (verdict.phrase, verdict.confidence, verdict.candidates) == ("환불", 0.97, 2)
    assert asked == [(0.3, 1.1), (1.0, 1.9)]  # each candidate's stretch, 0.2 s either side


def test_out_of_menu_speech_forced_onto_a_keyword_is_not_verified() -> None:
    _, strict = second_pass({0.4: [w("어", 0, 0.2), w("음", 0.2, 0.5)]})
    _, lenient = second_pass({0.4: [w("예약", 0, 0.3), w("음", 0.3, 0.5)]})
    verdict = verify([w("예약", 0.4, 1.0)], MENU, strict, lenient)  # type: ignore[arg-type]
    assert verdict.phrase is None and verdict.confidence == 0.0


def test_the_lenient_pass_counts_only_when_it_hears_the_phrase_alone() -> None:
    _, strict = second_pass({0.4: [w("으", 0, 0.3)]})
    _, lenient = second_pass({0.4: [w("상담원", 0.1, 0.6, 0.99)]})
    verdict = verify([w("상담원", 0.4, 1.0)], MENU, strict, lenient)  # type: ignore[arg-type]
    assert verdict.phrase == "상담원" and verdict.confidence == 0.99


def test_the_second_pass_may_correct_the_first() -> None:
    _, strict = second_pass({0.4: [w("상담원", 0.1, 0.7)]})
    assert verify([w("예약", 0.4, 1.0)], MENU, strict).phrase == "상담원"  # type: ignore[arg-type]


def test_resolve_mode_keeps_a_single_phrase_and_picks_the_longest_of_several() -> None:
    _, nothing = second_pass({})
    one = verify([w("예약", 0.1, 0.5, 0.9), w("예약", 0.6, 0.9)], MENU, nothing, mode="resolve")  # type: ignore[arg-type]
    assert (one.phrase, one.confidence) == ("예약", 1.0)
    two = verify([w("예약", 0.1, 0.3), w("상담원", 0.4, 1.1)], MENU, nothing, mode="resolve")  # type: ignore[arg-type]
    assert two.phrase == "상담원"
    assert verify([w("음", 0, 1)], MENU, nothing, mode="resolve").phrase is None  # type: ignore[arg-type]


def test_ratio_takes_the_candidate_the_keyword_grammar_explains_best() -> None:
    from speech.verify import verify_ratio

    asked: list[tuple[float, float]] = []
    scores = {0.1: -8.0, 1.0: -0.5, 2.0: None}  # by candidate start: 환불 wins, 예약 too short

    def ratio(start: float, end: float) -> float | None:
        asked.append((round(start, 2), round(end, 2)))
        return scores[round(start + 0.2, 2)]

    words = [w("상담원", 0.1, 0.6), w("환불", 1.0, 1.4, 0.7), w("예약", 2.0, 2.05), w("환불", 1.0, 1.4)]
    verdict = verify_ratio(words, MENU, ratio, threshold=-2.0)
    assert verdict.phrase == "환불" and verdict.confidence == 0.7 and verdict.candidates == 4
    assert asked == [(-0.1, 0.8), (0.8, 1.6), (1.8, 2.25)]  # each stretch once, with margins
    assert verify_ratio(words, MENU, ratio, threshold=0.0).phrase is None  # below: rejected
    assert verify_ratio([w("음", 0.0, 0.3)], MENU, ratio, threshold=-2.0).phrase is None
