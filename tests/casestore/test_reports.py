"""Service reports on both databases: known calls fed through the real ACD and CallWriter, the
report's figures compared with values computed here from the same inputs."""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import inspect, select

from acd.agent import AgentConfig
from acd.clock import VirtualClock
from acd.engine import Acd
from acd.queue import QueueConfig
from casestore import Store
from casestore.models import CASES
from casestore.report_model import Figures, QueueTarget
from casestore.reports import service_report
from hotline.cli import main

H0 = 1_795_003_200.0  # 2026-11-18 12:00 UTC
END = H0 + 7200.0
NOW = H0 + 86400.0  # the report's time: decides which unresolved cases are overdue
SLA_MINUTES = {"complaint": 24 * 60, "general": 2 * 60}  # complaint/general, consultation/common
TARGETS = {"complaint": QueueTarget(sl_seconds=10, sl_target=0.9)}
N = 40
MANUAL_CASE_AT = H0 + 100


@dataclass(frozen=True)
class Spec:
    call_id: str
    queue: str
    at: float
    wait: float
    answered: bool
    talk: float
    resolve_after: float | None  # seconds after opening, None: left open
    extra_calls: int  # follow-up calls linked to the case (outside the range)
    score: int | None


def specs() -> list[Spec]:
    out = []
    for i in range(N):
        answered = i % 6 != 5
        resolve_after = 600.0 if i % 3 == 0 else (3 * 86400.0 if i % 7 == 0 else None)
        out.append(Spec(
            call_id=f"r{i}", queue="complaint" if i % 4 == 0 else "general", at=H0 + i * 180.0,
            wait=float((i * 11) % 70), answered=answered, talk=20.0 + i if answered else 0.0,
            resolve_after=resolve_after, extra_calls=1 if resolve_after and i % 5 == 0 else 0,
            score=1 + i % 5 if answered and i % 2 == 0 else None,
        ))
    return out


# Calls outside [H0, END): before the start, exactly at the (exclusive) end.
OUTSIDE = [
    Spec("before", "general", H0 - 300, 50, True, 10, None, 0, 1),
    Spec("at-end", "complaint", END, 5, False, 0, None, 0, None),
]


def run_calls(acd: Acd, clock: VirtualClock, calls: list[Spec]) -> None:
    for s in sorted(calls, key=lambda s: s.at):
        clock.advance_to(s.at)
        acd.arrive(s.call_id, s.queue, caller=f"+82101234{len(s.call_id):04d}", source="test")
        clock.advance(s.wait)
        if not s.answered:
            acd.abandon(s.call_id)
            continue
        acd.answer(s.call_id)
        clock.advance(s.talk)
        acd.end(s.call_id)


async def feed(store: Store) -> list[Spec]:
    """Write the calls through the ACD and the writer, then resolve cases, link follow-up calls
    and record surveys through the repository."""
    calls = specs()
    clock = VirtualClock(H0 - 3600)
    acd = Acd(clock, [QueueConfig("general", ring_timeout=None), QueueConfig("complaint", ring_timeout=None)])
    acd.add_agent(AgentConfig("a0"))
    acd.login("a0")
    writer = store.writer()
    await writer.start()
    acd.subscribe(writer.on_event)
    follow_ups = [
        Spec(f"f{s.call_id}", s.queue, END + 3600 + n * 600, 1, True, 5, None, 0, None)
        for n, s in enumerate(c for c in calls if c.extra_calls)
    ]
    run_calls(acd, clock, [*calls, *OUTSIDE, *follow_ups])
    await asyncio.wait_for(writer.stop(), 30)
    async with store.engine.connect() as conn:
        numbers = dict((await conn.execute(select(CASES.c.origin_call_id, CASES.c.number))).all())
    followed = iter(follow_ups)
    for s in calls:
        if s.resolve_after is not None:
            await store.cases.set_status(numbers[s.call_id], "resolved", at=s.at + s.resolve_after)
        if s.extra_calls:
            await store.cases.link_call(numbers[s.call_id], next(followed).call_id)
        if s.score is not None:
            await store.cases.record_survey(s.call_id, "satisfaction", s.score, at=s.at + 3600)
    await store.cases.record_survey("before", "satisfaction", 1, at=H0)
    # a case opened without a call (by an agent): overall row only; urgent complaint, 15 min, late
    await store.cases.open_case("complaint", "urgent", at=MANUAL_CASE_AT)
    await store.cases.open_case("complaint", "urgent", at=END)  # outside the range
    return calls


def expected(calls: list[Spec], queue: str | None, threshold: float) -> dict[str, float | int]:
    rows = [s for s in calls if queue is None or s.queue == queue]
    answered = [s for s in rows if s.answered]

    def overdue(s: Spec) -> bool:
        due = s.at + SLA_MINUTES[s.queue] * 60
        return s.at + s.resolve_after > due if s.resolve_after is not None else due < NOW

    resolved = [s for s in rows if s.resolve_after is not None]
    complaints = [s for s in rows if s.queue == "complaint"]
    scores = [s.score for s in rows if s.score is not None]
    manual = 1 if queue is None else 0  # the case opened without a call, unresolved and late
    return {
        "offered": len(rows), "answered": len(answered), "abandoned": len(rows) - len(answered),
        "callbacks": 0, "within": sum(1 for s in answered if s.wait <= threshold),
        "wait_sum": sum(s.wait for s in answered), "talked": len(answered),
        "talk_sum": sum(s.talk for s in answered), "cases_opened": len(rows) + manual,
        "cases_overdue": sum(1 for s in rows if overdue(s)) + manual, "cases_resolved": len(resolved),
        "resolved_first_contact": sum(1 for s in resolved if s.extra_calls == 0),
        "complaints": len(complaints) + manual,
        "complaints_overdue": sum(1 for s in complaints if overdue(s)) + manual,
        "survey_answers": len(scores), "survey_satisfied": sum(1 for x in scores if x >= 4),
    }


def figures_dict(figures: Figures) -> dict[str, float | int]:
    data = figures.to_dict()
    return {k: data[k] for k in expected([], None, 30)}


async def test_report_figures_equal_independently_computed_ones(store: Store) -> None:
    calls = await feed(store)
    report = await service_report(store.engine, H0, END, now=NOW, targets=TARGETS)

    assert figures_dict(report.overall.figures) == pytest.approx(expected(calls, None, 30))
    by_queue = {q.queue: q for q in report.queues}
    assert set(by_queue) == {"complaint", "general"}
    assert figures_dict(by_queue["complaint"].figures) == pytest.approx(expected(calls, "complaint", 10))
    assert figures_dict(by_queue["general"].figures) == pytest.approx(expected(calls, "general", 30))
    assert (by_queue["complaint"].sl_seconds, by_queue["complaint"].sl_target) == (10, 0.9)
    # the fixture exercises both sides of every count
    overall = expected(calls, None, 30)
    assert 0 < overall["within"] < overall["answered"] < overall["offered"]
    assert overall["cases_overdue"] > 0 and 0 < overall["resolved_first_contact"] < overall["cases_resolved"]
    assert 0 < overall["survey_satisfied"] < overall["survey_answers"]
    assert 0 < overall["complaints_overdue"] < overall["complaints"]

    # rates and checks
    f = report.overall.figures
    assert f.service_level == pytest.approx(overall["within"] / overall["offered"])
    assert f.asa == pytest.approx(overall["wait_sum"] / overall["answered"])
    checks = {c.name: c for c in report.overall.checks(report.standards)}
    assert checks["answer_rate"].passed is (f.answer_rate is not None and f.answer_rate >= 0.95)
    assert checks["answer_rate"].passed is False  # 1 in 6 abandons
    assert checks["first_contact_resolution"].target == 0.80
    assert checks["satisfaction"].value == pytest.approx(overall["survey_satisfied"] / overall["survey_answers"])

    # hourly series: two buckets, summing to the overall counts, at the standard's 30 s
    assert report.interval == 3600 and [b.start for b in report.series] == [H0, H0 + 3600]
    for hour, bucket in enumerate(report.series):
        rows = [s for s in calls if H0 + hour * 3600 <= s.at < H0 + (hour + 1) * 3600]
        assert bucket.offered == len(rows)
        assert bucket.answered == sum(1 for s in rows if s.answered)
        assert bucket.within == sum(1 for s in rows if s.answered and s.wait <= 30)
        assert bucket.wait_sum == pytest.approx(sum(s.wait for s in rows if s.answered))


async def test_the_schema_has_the_cases_opened_at_index(store: Store) -> None:
    async with store.engine.connect() as conn:
        indexes = await conn.run_sync(lambda c: inspect(c).get_indexes("cases"))
    assert any(ix["column_names"] == ["opened_at"] for ix in indexes)


async def test_daily_series_for_a_long_range_and_an_empty_range(store: Store) -> None:
    calls = await feed(store)
    report = await service_report(store.engine, H0 - 86400, H0 + 6 * 86400, now=NOW)
    assert report.interval == 86400 and len(report.series) == 7
    follow_ups = sum(1 for s in calls if s.extra_calls)
    assert [b.offered for b in report.series] == [1, len(calls) + 1 + follow_ups, 0, 0, 0, 0, 0]
    assert report.overall.figures.offered == len(calls) + 2 + follow_ups

    empty = await service_report(store.engine, H0 - 10 * 86400, H0 - 9 * 86400, now=NOW)
    assert empty.empty and empty.queues == ()
    assert empty.overall.figures.offered == 0 and empty.overall.figures.service_level is None
    assert all(c.passed is None for c in empty.overall.checks(empty.standards))
    assert len(empty.series) == 24 and all(b.offered == 0 for b in empty.series)


async def cli(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


async def test_cli_writes_html_and_png_plots(
    store: Store, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = await feed(store)
    out = tmp_path / "report"
    config = tmp_path / "hotline.yaml"
    config.write_text(
        f"store: {{url: '{db_url}'}}\n"
        "queues:\n"
        "  - {name: complaint, service_level: {target: 0.9, seconds: 10}}\n"
        "  - {name: general, service_level: {target: 0.8, seconds: 30}}\n",
        encoding="utf-8",
    )
    code = await cli(
        "report", "--from", "2026-11-18T12:00", "--to", "2026-11-18T14:00", "--config", str(config),
        "--out", str(out), "--json",
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    data = json.loads(captured.out)
    assert data["overall"]["offered"] == len(calls)
    queues = {q["queue"]: q for q in data["queues"]}
    assert queues["complaint"]["within"] == expected(calls, "complaint", 10)["within"]
    assert queues["complaint"]["sl_seconds"] == 10
    page = (out / "report.html").read_text(encoding="utf-8")
    for name in ("volume.png", "service_level.png", "asa.png", "queues.png"):
        png = (out / name).read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000
        assert f"href='{name}'" in page
        assert base64.b64encode(png).decode("ascii") in page  # embedded: the page stands alone
    assert "FAIL" in page and "answer rate" in page

    assert await cli("report", "--from", "2026-11-18", "--to", "2026-11-18", "--config", str(config)) == 0
    table = capsys.readouterr().out
    assert "complaint" in table and "general" in table and "FAIL" in table


async def test_cli_empty_range_prints_zeros(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = await cli("report", "--from", "2020-01-01", "--to", "2020-01-02", "--url", db_url,
                     "--config", "missing.yaml", "--json")
    captured = capsys.readouterr()
    assert code == 0
    assert "no calls and no cases" in captured.err
    data = json.loads(captured.out)
    assert data["overall"]["offered"] == 0 and data["overall"]["service_level"] is None
    assert data["queues"] == [] and len(data["series"]) == 48  # two whole days, hourly
    assert await cli("report", "--from", "2020-01-01", "--to", "2020-01-01", "--url", db_url,
                     "--config", "missing.yaml") == 0
    assert "no calls" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-13-01", "2026-12-02", "is not a date"),
        ("yesterday", "2026-12-02", "is not a date"),
        ("2026-12-05", "2026-12-01", "must be after --from"),
        ("2026-12-01T10:00", "2026-12-01T10:00", "must be after --from"),
    ],
)
def test_cli_bad_dates_exit_2(start: str, end: str, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["report", "--from", start, "--to", end, "--url", "sqlite+aiosqlite:///unused.db"])
    assert info.value.code == 2
    assert message in capsys.readouterr().err


async def test_an_outbound_follow_up_call_is_neither_offered_nor_a_second_contact(store: Store) -> None:
    from casestore.models import CALLS

    await feed(store)
    before = await service_report(store.engine, H0, END, now=NOW, targets=TARGETS)
    async with store.engine.begin() as conn:
        case_ids = [r[0] for r in (await conn.execute(select(CASES.c.id).where(CASES.c.resolved_at.is_not(None))))]
        for n, case_id in enumerate(case_ids):  # a follow-up call on every resolved case, in the range
            await conn.execute(CALLS.insert().values(
                id=f"followup-{n}-1", direction="outbound", case_id=case_id, queue="general", caller="+821012345678",
                started_at=H0 + 60 + n, queued_at=H0 + 60 + n, answered_at=H0 + 61 + n, ended_at=H0 + 90 + n,
                wait_seconds=1.0, talk_seconds=29.0, outcome="answered", agent_id="a1",
            ))
    after = await service_report(store.engine, H0, END, now=NOW, targets=TARGETS)
    assert case_ids and figures_dict(after.overall.figures) == figures_dict(before.overall.figures)
    assert before.overall.figures.resolved_first_contact > 0
