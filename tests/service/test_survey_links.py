"""Survey link tokens: signed, expiring; forged or altered ones refused; SMS reply scores."""

from __future__ import annotations

import pytest

from casestore.service_process.survey_links import BadSurveyLink, issue, parse_sms_score, verify

SECRET = b"k" * 32


def test_a_fresh_link_verifies_until_it_expires() -> None:
    token, text = issue(SECRET, 1000.0, 60)
    assert verify(SECRET, text, 1059.0) == token
    with pytest.raises(BadSurveyLink) as err:
        verify(SECRET, text, 1060.0)
    assert err.value.reason == "expired"


@pytest.mark.parametrize("mutate", [
    lambda t: t.replace(t.split(".")[1], str(int(t.split(".")[1]) + 3600)),  # longer life
    lambda t: "x" + t,  # another nonce
    lambda t: t[:-1] + ("0" if t[-1] != "0" else "1"),  # another signature
])
def test_altered_links_are_forged(mutate: object) -> None:
    _, text = issue(SECRET, 1000.0, 60)
    with pytest.raises(BadSurveyLink) as err:
        verify(SECRET, mutate(text), 1001.0)  # type: ignore[operator]
    assert err.value.reason == "forged"


def test_another_secret_is_forged_and_garbage_is_malformed() -> None:
    _, text = issue(b"other", 1000.0, 60)
    with pytest.raises(BadSurveyLink, match="forged"):
        verify(SECRET, text, 1001.0)
    for junk in ("", "a.b", "a.b.c.d", ".1.x", "a.-1.x"):
        with pytest.raises(BadSurveyLink, match="malformed"):
            verify(SECRET, junk, 1001.0)


@pytest.mark.parametrize(("body", "score"), [
    ("5", 5), (" 4 ", 4), ("3 thanks", 3), ("score: 1", 1), ("9", None), ("0", None), ("great", None), ("", None),
    ("x" * 41 + "5", None),
])
def test_sms_scores(body: str, score: int | None) -> None:
    assert parse_sms_score(body) == score
