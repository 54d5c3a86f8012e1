"""Service-level report queries: three grouped aggregates pushed down to SQL.

    report = await service_report(store.engine, start, end, targets=..., now=time.time())

1. calls started in [start, end) that reached a queue, grouped by (queue, bucket) - the
   `ix_calls_started_at` range; per-queue totals and the series are sums of these rows;
2. the cases opened in [start, end) (`ix_cases_opened_at`, migration 0003), grouped by the
   queue of the call that opened them, with each case's linked-call count from
   `ix_calls_case_id` (first-contact resolution);
3. the survey answers of those calls (`survey_answers` primary key), grouped by queue.

Every query reads only the rows of the range; the result has a few rows per queue and bucket.
Definitions of the figures: casestore.report_model.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy import Integer, and_, case, cast, func, literal, or_, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from casestore.errors import InvalidInput, StoreUnavailable
from casestore.models import CALL_SEGMENTS, CALLS, CASES, SURVEY_ANSWERS
from casestore.report_model import (
    Bucket,
    Figures,
    QueueReport,
    QueueTarget,
    ServiceReport,
    Standards,
)
from hotline.privacy import mask_text

HOUR = 3600.0
DAY = 86400.0
HOURLY_UP_TO = 3 * DAY  # longer ranges get a daily series
RESOLVED = ("resolved", "closed")
COMPLAINT = "complaint"


INBOUND = "inbound"  # calls.direction of the customer's calls (outbound: follow-ups Hotline placed)


def series_interval(start: float, end: float) -> float:
    return HOUR if end - start <= HOURLY_UP_TO else DAY


def _bucket(dialect: str, start: float, interval: float) -> Any:
    offset = (CALLS.c.started_at - start) / interval
    if dialect == "postgresql":
        return cast(func.floor(offset), Integer)
    return cast(offset, Integer)  # SQLite truncates; the offset is never negative here


def _threshold(targets: Mapping[str, QueueTarget], default: float) -> Any:
    if not targets:
        return literal(default)
    return case(
        *((CALLS.c.queue == name, literal(t.sl_seconds)) for name, t in sorted(targets.items())),
        else_=literal(default),
    )


def _sum(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def service_report(
    engine: AsyncEngine,
    start: float,
    end: float,
    *,
    now: float,
    standards: Standards | None = None,
    targets: Mapping[str, QueueTarget] | None = None,
    interval: float | None = None,
) -> ServiceReport:
    """The service report of calls started in [start, end). `targets` are per-queue service
    levels (queues not listed use the standard's); `now` decides which open cases are overdue."""
    if not end > start:
        raise InvalidInput(f"the report's end ({end}) must be after its start ({start})")
    standards = standards or Standards()
    targets = dict(targets or {})
    interval = interval or series_interval(start, end)
    in_range = and_(CALLS.c.started_at >= start, CALLS.c.started_at < end)
    answered = CALLS.c.answered_at.is_not(None)
    bucket = _bucket(engine.dialect.name, start, interval).label("bucket")
    calls_stmt = (
        select(
            CALLS.c.queue, bucket,
            func.count().label("offered"),
            _sum(answered).label("answered"),
            _sum(CALLS.c.outcome == "abandoned").label("abandoned"),
            _sum(and_(
                CALLS.c.outcome == "abandoned", CALLS.c.wait_seconds <= standards.short_abandon_seconds,
            )).label("short_abandons"),
            _sum(CALLS.c.outcome == "callback").label("callbacks"),
            _sum(and_(answered, CALLS.c.wait_seconds <= _threshold(targets, standards.sl_seconds))).label("within"),
            _sum(and_(answered, CALLS.c.wait_seconds <= standards.sl_seconds)).label("within_std"),
            func.coalesce(func.sum(case((answered, CALLS.c.wait_seconds), else_=0.0)), 0.0).label("wait_sum"),
            func.count(CALLS.c.talk_seconds).label("talked"),
            func.coalesce(func.sum(CALLS.c.talk_seconds), 0.0).label("talk_sum"),
        )
        .where(in_range, CALLS.c.queue.is_not(None), CALLS.c.direction == INBOUND)  # follow-ups are not offered
        .group_by(CALLS.c.queue, bucket)
    )
    linked = CALLS.alias("linked")
    calls_of_case = (
        select(func.count()).select_from(linked)
        .where(linked.c.case_id == CASES.c.id, linked.c.direction == INBOUND).scalar_subquery()
    )
    done_at = func.coalesce(CASES.c.resolved_at, CASES.c.closed_at)
    resolved = or_(done_at.is_not(None), CASES.c.status.in_(RESOLVED))
    overdue = or_(done_at > CASES.c.due_at, and_(done_at.is_(None), CASES.c.due_at < now))
    complaint = CASES.c.category == COMPLAINT
    origin = CALLS.alias("origin")
    cases_stmt = (
        select(
            origin.c.queue,
            func.count().label("cases_opened"),
            _sum(overdue).label("cases_overdue"),
            _sum(resolved).label("cases_resolved"),
            _sum(and_(resolved, calls_of_case == 1)).label("resolved_first_contact"),
            _sum(complaint).label("complaints"),
            _sum(and_(complaint, overdue)).label("complaints_overdue"),
        )
        .select_from(CASES.outerjoin(origin, and_(
            origin.c.id == CASES.c.origin_call_id,
            # bounds for the planner (a range scan, not the whole table): a call starts before
            # the case it opens, within minutes; one that started over a day earlier is not
            # matched and its case counts in the overall row only
            origin.c.started_at >= start - DAY, origin.c.started_at < end,
        )))
        .where(CASES.c.opened_at >= start, CASES.c.opened_at < end)
        .group_by(origin.c.queue)
    )
    surveys_stmt = (
        select(
            CALLS.c.queue,
            func.count().label("survey_answers"),
            _sum(SURVEY_ANSWERS.c.score >= 4).label("survey_satisfied"),
        )
        .select_from(CALLS.join(SURVEY_ANSWERS, SURVEY_ANSWERS.c.call_id == CALLS.c.id))
        .where(in_range)
        .group_by(CALLS.c.queue)
    )
    try:
        async with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                # short queries: JIT compilation (tens of ms) would cost more than it saves
                await conn.execute(text("SET LOCAL jit = off"))
            call_rows = (await conn.execute(calls_stmt)).all()
            case_rows = (await conn.execute(cases_stmt)).all()
            survey_rows = (await conn.execute(surveys_stmt)).all()
    except (SQLAlchemyError, OSError) as exc:
        lines = str(exc).splitlines()
        raise StoreUnavailable(f"report query failed: {mask_text(lines[0] if lines else type(exc).__name__)}") from exc
    return _assemble(
        start, end, now, interval, standards, targets,
        [dict(r._mapping) for r in call_rows], [dict(r._mapping) for r in case_rows],
        [dict(r._mapping) for r in survey_rows],
    )


def _assemble(
    start: float,
    end: float,
    now: float,
    interval: float,
    standards: Standards,
    targets: Mapping[str, QueueTarget],
    call_rows: list[Mapping[str, Any]],
    case_rows: list[Mapping[str, Any]],
    survey_rows: list[Mapping[str, Any]],
) -> ServiceReport:
    per_queue: dict[str | None, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    overall: dict[str, float] = defaultdict(float)
    buckets: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    call_keys = ("offered", "answered", "abandoned", "short_abandons", "callbacks", "within", "wait_sum", "talked", "talk_sum")
    for row in call_rows:
        q, b = per_queue[row["queue"]], buckets[int(row["bucket"])]
        for key in call_keys:
            q[key] += row[key]
            overall[key] += row[key]
        overall["within"] += row["within_std"] - row["within"]  # overall: the standard's threshold
        for key in ("offered", "answered", "wait_sum"):
            b[key] += row[key]
        b["within"] += row["within_std"]
    for rows in (case_rows, survey_rows):
        for row in rows:
            for key, value in row.items():
                if key != "queue":
                    per_queue[row["queue"]][key] += value
                    overall[key] += value
    queues = []
    for name in sorted(q for q in per_queue if q is not None):
        target = targets.get(name, QueueTarget(standards.sl_seconds, standards.sl_target))
        queues.append(QueueReport(name, target.sl_seconds, target.sl_target, _figures(per_queue[name])))
    n_buckets = max(1, int(-(-(end - start) // interval)))
    series = tuple(
        Bucket(
            start=start + i * interval,
            offered=int(buckets[i]["offered"]) if i in buckets else 0,
            answered=int(buckets[i]["answered"]) if i in buckets else 0,
            within=int(buckets[i]["within"]) if i in buckets else 0,
            wait_sum=float(buckets[i]["wait_sum"]) if i in buckets else 0.0,
        )
        for i in range(n_buckets)
    )
    return ServiceReport(
        start=start, end=end, generated_at=now, interval=interval, standards=standards,
        overall=QueueReport("all", standards.sl_seconds, standards.sl_target, _figures(overall)),
        queues=tuple(queues), series=series, queue_targets=dict(targets),
    )


def _figures(values: Mapping[str, float]) -> Figures:
    base = Figures()
    updates: dict[str, Any] = {}
    for name in Figures.__dataclass_fields__:
        if name in values:
            kind = type(getattr(base, name))
            updates[name] = kind(values[name])
    return replace(base, **updates)


async def answered_by_agent(engine: AsyncEngine, start: float, end: float) -> dict[str, int]:
    """Calls started in [start, end) that each agent answered (the report's `answered`, per
    agent: the wallboard's calls today)."""
    stmt = (
        select(CALLS.c.agent_id, func.count().label("answered"))
        .where(
            CALLS.c.started_at >= start, CALLS.c.started_at < end,
            CALLS.c.answered_at.is_not(None), CALLS.c.agent_id.is_not(None),
        )
        .group_by(CALLS.c.agent_id)
    )
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
    except (SQLAlchemyError, OSError) as exc:
        lines = str(exc).splitlines()
        raise StoreUnavailable(f"report query failed: {mask_text(lines[0] if lines else type(exc).__name__)}") from exc
    return {str(agent): int(n) for agent, n in rows}


async def handle_time_by_agent(engine: AsyncEngine, start: float, end: float) -> dict[str, float]:
    """Talk seconds per agent over the call segments that started in [start, end): a call
    transferred or conferenced counts for each agent its own part (casestore CallSegment)."""
    stmt = (
        select(CALL_SEGMENTS.c.party, func.sum(CALL_SEGMENTS.c.talk_seconds).label("talk"))
        .where(CALL_SEGMENTS.c.started_at >= start, CALL_SEGMENTS.c.started_at < end,
               CALL_SEGMENTS.c.party.not_like("tel:%"))
        .group_by(CALL_SEGMENTS.c.party)
    )
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
    except (SQLAlchemyError, OSError) as exc:
        lines = str(exc).splitlines()
        raise StoreUnavailable(f"report query failed: {mask_text(lines[0] if lines else type(exc).__name__)}") from exc
    return {str(party): float(talk) for party, talk in rows}
