from __future__ import annotations

from ivr.checker import CheckResult, check_menu
from tests.ivr.fakes import AIRLINE


def errors(result: CheckResult) -> set[tuple[int | None, str, str]]:
    return {(i.line, i.path, i.message) for i in result.errors}


def has(result: CheckResult, line: int, path: str, fragment: str) -> bool:
    return any(
        i.line == line and i.path == path and fragment in i.message for i in result.errors
    ), [i.format("m") for i in result.issues]


def test_sample_airline_menu_is_clean() -> None:
    result = check_menu(AIRLINE.read_text(encoding="utf-8"), "airline.yaml")
    assert result.ok, [i.format("airline.yaml") for i in result.issues]
    assert result.menu is not None and result.menu.name == "skyrail-main"
    assert set(result.menu.languages) == {"ko", "en", "zh"}


BROKEN = """\
menu: broken
languages: [ko, en]
start: main
nodes:
  main:
    kind: menu
    prompt: {ko: 메뉴, en: Menu}
    options:
      - {dtmf: 1, keywords: {ko: [예약], en: [booking]}, next: book}
      - {dtmf: 1, keywords: {ko: [환불], en: [Booking]}, next: refund}
      - {dtmf: 2, next: nowhere}
    on_failure: book
  book:
    kind: transfer
    queue: booking
  refund:
    kind: transfer
    queue: refund
    prompt: {ko: 환불}
  orphan:
    kind: hangup
  hours:
    kind: hours
    timezone: Mars/Olympus
    weekly: {mon-fri: "08:00-20:00"}
    open: book
    closed: book
"""


def test_every_error_has_its_node_path_and_line() -> None:
    result = check_menu(BROKEN, "broken.yaml")
    assert not result.ok and result.menu is None
    found = errors(result)
    assert (
        10,
        "nodes.main.options[1].dtmf",
        "duplicate DTMF key '1' (also at nodes.main.options[0])",
    ) in found
    assert any(
        line == 10
        and path == "nodes.main.options[1].keywords.en"
        and "'Booking' (en) is shared" in msg
        for line, path, msg in found
    )
    assert (11, "nodes.main.options[2].next", "unknown target 'nowhere'") in found
    assert (19, "nodes.refund.prompt", "prompt missing for language 'en'") in found
    assert any(
        line == 20 and path == "nodes.orphan" and "unreachable" in msg for line, path, msg in found
    )
    assert any(
        line == 24 and "unknown time zone 'Mars/Olympus'" in msg for line, path, msg in found
    )
    formatted = [i.format("broken.yaml") for i in result.errors]
    assert (
        "broken.yaml:11: error: nodes.main.options[2].next: unknown target 'nowhere'" in formatted
    )


def test_invalid_hours_are_reported_at_their_line() -> None:
    text = BROKEN.replace("Mars/Olympus", "Asia/Seoul").replace(
        '{mon-fri: "08:00-20:00"}', '{mon-fri: "20:00-08:00", sat: "09:00-25:00"}'
    )
    result = check_menu(text, "m.yaml")
    hours = [i for i in result.errors if "invalid hours" in i.message]
    assert hours and all(i.line == 25 for i in hours)
    assert "ends before it starts" in hours[0].message
    for bad, fragment in [
        ('{monday: "08:00-20:00"}', "invalid day"),
        ('{mon: ["08:00-12:00", "11:00-13:00"]}', "overlapping"),
        ('{mon-fri: "8-20"}', "invalid time"),
        ('{mon-fri: "08:00-20:00", wed: closed}', "given twice"),
    ]:
        result = check_menu(
            BROKEN.replace("Mars/Olympus", "Asia/Seoul").replace('{mon-fri: "08:00-20:00"}', bad)
        )
        assert any(fragment in i.message for i in result.errors), (bad, result.issues)


def test_loops_without_exit_and_without_input() -> None:
    text = """\
menu: loops
languages: [en]
start: a
nodes:
  a:
    kind: menu
    prompt: {en: A}
    options:
      - {dtmf: 1, next: b}
      - {dtmf: 2, next: a}
    on_failure: a
  b:
    kind: prompt
    prompt: {en: B}
    next: c
  c:
    kind: goto
    target: b
"""
    result = check_menu(text, "loops.yaml")
    msgs = [(i.path, i.line, i.message) for i in result.errors]
    assert ("nodes.a", 5, "loop without exit: never reaches a transfer or hangup") in msgs
    assert ("nodes.b", 12, "loop without exit: never reaches a transfer or hangup") in msgs
    assert ("nodes.c", 16, "loop without exit: never reaches a transfer or hangup") in msgs
    assert ("nodes.b", 12, "loop without caller input: b -> c repeats forever") in msgs


def test_a_menu_whose_failures_loop_back_has_no_exit() -> None:
    text = """\
menu: l
languages: [en]
start: a
settings: {on_failure: a}
nodes:
  a:
    kind: menu
    prompt: {en: A}
    options:
      - {dtmf: 1, next: a}
"""
    result = check_menu(text, "l.yaml")
    assert [(i.path, i.line, i.message) for i in result.errors] == [
        ("nodes.a", 6, "loop without exit: never reaches a transfer or hangup")
    ]
    # without any on_failure the caller is disconnected in the end: not a loop without exit
    assert check_menu(text.replace("settings: {on_failure: a}\n", "")).ok


def test_schema_errors_duplicate_keys_and_bad_yaml_have_lines() -> None:
    text = """\
menu: s
languages: [en]
start: a
nodes:
  a:
    kind: hangup
    colour: blue
  b:
    kind: teleport
  a:
    kind: hangup
"""
    result = check_menu(text, "s.yaml")
    found = {(i.line, i.path) for i in result.errors}
    assert (10, "nodes.a") in found  # duplicate key
    assert any(i.line == 5 and "'colour' was unexpected" in i.message for i in result.errors)
    assert any(i.line == 9 and i.path == "nodes.b.kind" for i in result.errors)
    dtmf = check_menu(AIRLINE.read_text(encoding="utf-8").replace("- dtmf: 3", "- dtmf: 33"))
    assert [i.message for i in dtmf.errors] == ["33 is not one DTMF key: 0-9, * or #"]
    bad = check_menu("menu: x\nnodes: [\n", "bad.yaml")
    assert not bad.ok and bad.errors[0].line is not None and "invalid YAML" in bad.errors[0].message
    assert not check_menu("- just a list\n").ok


def test_unknown_queues_when_the_config_is_given() -> None:
    text = AIRLINE.read_text(encoding="utf-8")
    result = check_menu(text, queues={"booking", "refund", "general", "emergency"})
    assert [(i.path, i.message) for i in result.errors] == [
        ("nodes.baggage.queue", "unknown queue 'baggage'")
    ]
    assert check_menu(text, queues={"booking", "refund", "general", "emergency", "baggage"}).ok


def test_warnings_do_not_block() -> None:
    result = check_menu(AIRLINE.read_text(encoding="utf-8"))
    warnings = [i for i in result.issues if i.severity == "warning"]
    assert [(w.path, w.line) for w in warnings] == [("nodes.main.options[2]", 110)]
    assert result.ok


def test_collect_and_language_and_callback_checks() -> None:
    text = """\
menu: c
languages: [en]
start: lang
nodes:
  lang:
    kind: language
    prompt: {en: Language}
    options:
      - {language: fr, dtmf: 1}
    next: ref
    on_failure: bye
  ref:
    kind: collect
    prompt: {en: Number}
    min_digits: 8
    max_digits: 6
    pattern: "([0-9"
    store: ref
    next: cb
    on_failure: bye
  cb:
    kind: callback
    queue: general
    prompt: {en: "Callback?"}
    accept: {dtmf: 1, next: bye}
    decline: {dtmf: 1}
    on_failure: bye
  bye:
    kind: hangup
"""
    result = check_menu(text, "c.yaml")
    got: dict[tuple[int | None, str], str] = {}
    for i in result.errors:
        got[(i.line, i.path)] = got.get((i.line, i.path), "") + i.message + "; "
    assert "'fr' is not in languages" in got[(9, "nodes.lang.options[0].language")]
    assert "min_digits is larger" in got[(15, "nodes.ref.min_digits")]
    assert "invalid pattern" in got[(17, "nodes.ref.pattern")]
    assert "'next' is not used" in got[(25, "nodes.cb.accept.next")]
    assert "decline needs 'next'" in got[(26, "nodes.cb.decline")]
    assert "duplicate DTMF key" in got[(26, "nodes.cb.decline.dtmf")]
