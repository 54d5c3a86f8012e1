"""What the service process adds to the reports, over [start, end):

- cases by team: cases opened in the range per routed team (opened, resolved, escalated);
- feedback: messages to customers created in the range, sent, and sent by their due time
  (`on_time_rate` = on time / messages);
- evaluation: survey invitations sent in the range and answered (`response_rate` per channel)
  and every survey answer of the range by channel, IVR included (count, average score);
- follow-ups: tasks created in the range by outcome (`open`/`taken` while not done).

Grouped aggregates pushed down to SQL; a few rows per team, channel and outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from casestore.models import CASES, SURVEY_ANSWERS
from casestore.repository import _Transaction
from casestore.service_process.models import (
    CASE_ROUTING,
    FOLLOW_UP_TASKS,
    SERVICE_MESSAGES,
    SURVEY_INVITATIONS,
    TEAMS,
)

RESOLVED = ("resolved", "closed")


def _rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


@dataclass(frozen=True)
class ServiceProcessReport:
    start: float
    end: float
    teams: dict[str, dict[str, int]] = field(default_factory=dict)
    messages: int = 0
    sent: int = 0
    on_time: int = 0
    invitations: dict[str, tuple[int, int]] = field(default_factory=dict)  # channel -> (sent, answered)
    scores: dict[str, tuple[int, float]] = field(default_factory=dict)  # channel -> (answers, average)
    follow_ups: dict[str, int] = field(default_factory=dict)

    @property
    def on_time_rate(self) -> float | None:
        return _rate(self.on_time, self.messages)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cases_by_team": self.teams,
            "feedback": {"messages": self.messages, "sent": self.sent, "on_time": self.on_time,
                         "on_time_rate": self.on_time_rate},
            "evaluation": {
                "invitations": {c: {"sent": s, "answered": a, "response_rate": _rate(a, s)}
                                for c, (s, a) in self.invitations.items()},
                "scores": {c: {"answers": n, "average": avg} for c, (n, avg) in self.scores.items()},
            },
            "follow_ups": self.follow_ups,
        }


async def service_process_report(engine: AsyncEngine, start: float, end: float) -> ServiceProcessReport:
    async with _Transaction(engine) as conn:
        team_rows = (
            await conn.execute(
                select(
                    TEAMS.c.name, func.count(),
                    func.sum(case((CASES.c.status.in_(RESOLVED), 1), else_=0)),
                    func.sum(case((CASE_ROUTING.c.escalated_at.is_not(None), 1), else_=0)),
                )
                .select_from(CASES.join(CASE_ROUTING, CASE_ROUTING.c.case_id == CASES.c.id)
                             .join(TEAMS, TEAMS.c.id == CASE_ROUTING.c.team_id))
                .where(CASES.c.opened_at >= start, CASES.c.opened_at < end)
                .group_by(TEAMS.c.name).order_by(TEAMS.c.name)
            )
        ).all()
        m = SERVICE_MESSAGES.c
        messages, sent, on_time = (
            await conn.execute(
                select(
                    func.count(), func.coalesce(func.sum(case((m.sent_at.is_not(None), 1), else_=0)), 0),
                    func.coalesce(func.sum(case((m.sent_at <= m.due_by, 1), else_=0)), 0),
                ).where(m.created_at >= start, m.created_at < end)
            )
        ).one()
        s = SURVEY_INVITATIONS.c
        invitation_rows = (
            await conn.execute(
                select(s.channel, func.count(), func.sum(case((s.used_at.is_not(None), 1), else_=0)))
                .where(s.created_at >= start, s.created_at < end).group_by(s.channel).order_by(s.channel)
            )
        ).all()
        a = SURVEY_ANSWERS.c
        score_rows = (
            await conn.execute(
                select(a.channel, func.count(), func.avg(a.score))
                .where(a.at >= start, a.at < end).group_by(a.channel).order_by(a.channel)
            )
        ).all()
        f = FOLLOW_UP_TASKS.c
        outcome = case((f.status == "done", f.outcome), else_=f.status)
        follow_rows = (
            await conn.execute(
                select(outcome, func.count()).where(f.created_at >= start, f.created_at < end).group_by(outcome)
            )
        ).all()
    return ServiceProcessReport(
        start=start, end=end,
        teams={t: {"cases": int(n), "resolved": int(r or 0), "escalated": int(e or 0)} for t, n, r, e in team_rows},
        messages=int(messages), sent=int(sent), on_time=int(on_time),
        invitations={c: (int(n), int(u or 0)) for c, n, u in invitation_rows},
        scores={c: (int(n), round(float(avg), 2)) for c, n, avg in score_rows},
        follow_ups={str(o): int(n) for o, n in follow_rows},
    )
