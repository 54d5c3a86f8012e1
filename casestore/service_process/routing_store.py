"""Teams, members and the routing of work orders in the store: the rules decide
(`casestore.service_process.rules`), this module reads their inputs and writes the outcome,
audited in the same transaction."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from casestore.accounts import Actor, record_audit
from casestore.dialect import insert, writing
from casestore.errors import InvalidInput, NotFound
from casestore.models import CALLS, CASES, USERS
from casestore.repository import _Transaction
from casestore.service_process.models import CASE_ROUTING, TEAM_MEMBERS, TEAMS
from casestore.service_process.rules import Member, ServiceRules, assign, lead_of, needs_escalation
from casestore.workflow import ACTIVE_STATUSES

SYSTEM = Actor("service")


@dataclass(frozen=True, slots=True)
class MemberView:
    login: str
    user_id: int
    skills: tuple[str, ...]
    lead: bool
    notify_email: str | None
    open_cases: int


@dataclass(frozen=True, slots=True)
class TeamView:
    name: str
    title: str
    members: tuple[MemberView, ...]


@dataclass(frozen=True, slots=True)
class RoutingView:
    case_number: str
    team: str
    assignee: str | None  # login
    assignee_user_id: int | None
    assignee_agent_id: str | None
    assigned_at: float
    escalated_at: float | None
    notify_email: str | None = None


class RoutingRepository:
    def __init__(self, engine: AsyncEngine, rules: ServiceRules, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.rules = rules
        self.clock = clock

    # --- teams ------------------------------------------------------------------------

    async def add_team(self, actor: Actor, name: str, title: str) -> TeamView:
        now = self.clock()
        async with _Transaction(writing(self.engine)) as conn:
            if (await conn.execute(select(TEAMS.c.id).where(TEAMS.c.name == name))).first():
                raise InvalidInput(f"team {name!r} exists")
            await conn.execute(TEAMS.insert().values(name=name, title=title, created_at=now))
            await record_audit(conn, actor, "team.add", f"team:{name}", at=now, after={"title": title})
        return TeamView(name, title, ())

    async def set_member(
        self, actor: Actor, team: str, login: str, *, skills: Sequence[str] = (), lead: bool = False,
        notify_email: str | None = None,
    ) -> MemberView:
        now = self.clock()
        async with _Transaction(writing(self.engine)) as conn:
            team_id = await _team_id(conn, team)
            user = (await conn.execute(select(USERS.c.id).where(USERS.c.login == login))).first()
            if user is None:
                raise NotFound(f"no user {login!r}")
            values = {"skills": " ".join(sorted(set(skills))), "lead": lead, "notify_email": notify_email}
            stmt = insert(conn.dialect.name, TEAM_MEMBERS).values(team_id=team_id, user_id=user.id, **values)
            stmt = stmt.on_conflict_do_update(
                index_elements=[TEAM_MEMBERS.c.team_id, TEAM_MEMBERS.c.user_id], set_=values
            )
            await conn.execute(stmt)
            await record_audit(conn, actor, "team.member", f"team:{team}", at=now, after={"login": login, **values})
        return MemberView(login, user.id, tuple(sorted(set(skills))), lead, notify_email, 0)

    async def teams(self) -> list[TeamView]:
        async with _Transaction(writing(self.engine)) as conn:
            teams = (await conn.execute(select(TEAMS.c.id, TEAMS.c.name, TEAMS.c.title).order_by(TEAMS.c.name))).all()
            members = await _members(conn)
        return [TeamView(t.name, t.title, tuple(members.get(t.id, ()))) for t in teams]

    # --- routing ----------------------------------------------------------------------

    async def route(self, number: str, queue: str | None = None, *, actor: Actor = SYSTEM) -> RoutingView | None:
        """Apply the rules to a new or escalated case: its team and the least-loaded member
        with the skill. None when no rule names a team."""
        now = self.clock()
        async with _Transaction(writing(self.engine)) as conn:
            case = await _case(conn, number)
            teams, ids = await _teams_for_rules(conn)
            workload = await _workload(conn)
            choice = assign(self.rules, teams, workload, case.category, case.priority, queue)
            if choice is None or choice.team not in ids:
                return None
            await self._put(conn, case.id, ids[choice.team], choice.user_id, now)
            await record_audit(
                conn, actor, "case.route", f"case:{number}", at=now,
                after={"team": choice.team, "user_id": choice.user_id, "skill": choice.skill},
            )
            return await _routing(conn, number)

    async def reassign(self, actor: Actor, number: str, login: str, team: str | None = None) -> RoutingView:
        """A supervisor's reassignment (to a member of the case's team, or of `team`), audited."""
        now = self.clock()
        async with _Transaction(writing(self.engine)) as conn:
            case = await _case(conn, number)
            before = await _routing(conn, number)
            team_name = team or (before.team if before else None)
            if team_name is None:
                raise InvalidInput(f"case {number} has no team: name one")
            team_id = await _team_id(conn, team_name)
            member = (
                await conn.execute(
                    select(USERS.c.id).select_from(TEAM_MEMBERS.join(USERS, USERS.c.id == TEAM_MEMBERS.c.user_id))
                    .where(TEAM_MEMBERS.c.team_id == team_id, USERS.c.login == login)
                )
            ).first()
            if member is None:
                raise InvalidInput(f"{login!r} is not a member of team {team_name!r}")
            await self._put(conn, case.id, team_id, member.id, now)
            await record_audit(
                conn, actor, "case.reassign", f"case:{number}", at=now,
                before=None if before is None else {"team": before.team, "assignee": before.assignee},
                after={"team": team_name, "assignee": login},
            )
            after = await _routing(conn, number)
        assert after is not None
        return after

    async def routing(self, number: str) -> RoutingView | None:
        async with _Transaction(writing(self.engine)) as conn:
            await _case(conn, number)
            return await _routing(conn, number)

    async def work_orders(self, assignee_user_id: int | None = None, limit: int = 200) -> list[tuple[RoutingView, str]]:
        """Active routed cases (of one assignee, or all) with their status, soonest due first."""
        stmt = (
            select(CASES.c.number, CASES.c.status)
            .select_from(CASES.join(CASE_ROUTING, CASE_ROUTING.c.case_id == CASES.c.id))
            .where(CASES.c.status.in_([s.value for s in ACTIVE_STATUSES]))
            .order_by(CASES.c.due_at, CASES.c.id).limit(limit)
        )
        if assignee_user_id is not None:
            stmt = stmt.where(CASE_ROUTING.c.assignee_user_id == assignee_user_id)
        out = []
        async with _Transaction(writing(self.engine)) as conn:
            for number, status in (await conn.execute(stmt)).all():
                view = await _routing(conn, number)
                assert view is not None
                out.append((view, str(status)))
        return out

    async def unrouted(self, limit: int = 100) -> list[tuple[str, str | None]]:
        """Active cases no rule has placed yet, oldest first, with their first call's queue."""
        async with _Transaction(writing(self.engine)) as conn:
            rows = await conn.execute(
                select(CASES.c.number, CALLS.c.queue)
                .select_from(
                    CASES.outerjoin(CASE_ROUTING, CASE_ROUTING.c.case_id == CASES.c.id)
                    .outerjoin(CALLS, CALLS.c.id == CASES.c.origin_call_id)
                )
                .where(CASE_ROUTING.c.case_id.is_(None), CASES.c.status.in_([s.value for s in ACTIVE_STATUSES]))
                .order_by(CASES.c.opened_at, CASES.c.id).limit(limit)
            )
            return [(str(n), q) for n, q in rows.all()]

    async def escalate_due(self, now: float | None = None) -> list[RoutingView]:
        """Hand each active case that is about to miss its due time to its team's lead, once."""
        now = self.clock() if now is None else now
        soonest = now + self.rules.escalate_before_minutes * 60.0
        done: list[RoutingView] = []
        async with _Transaction(writing(self.engine)) as conn:
            rows = (
                await conn.execute(
                    select(CASES.c.id, CASES.c.number, CASES.c.due_at, CASE_ROUTING.c.team_id)
                    .select_from(CASES.join(CASE_ROUTING, CASE_ROUTING.c.case_id == CASES.c.id))
                    .where(
                        CASES.c.status.in_([s.value for s in ACTIVE_STATUSES]),
                        CASE_ROUTING.c.escalated_at.is_(None), CASES.c.due_at <= soonest,
                    )
                    .order_by(CASES.c.due_at)
                )
            ).all()
            members = await _members(conn)
            for row in rows:
                if not needs_escalation(self.rules, row.due_at, now, False):
                    continue
                team = members.get(row.team_id, [])
                lead = lead_of(Member(m.user_id, lead=m.lead) for m in team)
                await conn.execute(
                    update(CASE_ROUTING).where(CASE_ROUTING.c.case_id == row.id)
                    .values(escalated_at=now, **({} if lead is None else {"assignee_user_id": lead}))
                )
                await _sync_agent(conn, row.id, lead, now)
                await record_audit(conn, SYSTEM, "case.escalate", f"case:{row.number}", at=now, after={"lead": lead})
                view = await _routing(conn, row.number)
                assert view is not None
                done.append(view)
        return done

    async def _put(self, conn: AsyncConnection, case_id: int, team_id: int, user_id: int | None, now: float) -> None:
        values = {"team_id": team_id, "assignee_user_id": user_id, "assigned_at": now}
        stmt = insert(conn.dialect.name, CASE_ROUTING).values(case_id=case_id, escalated_at=None, **values)
        stmt = stmt.on_conflict_do_update(index_elements=[CASE_ROUTING.c.case_id], set_=values)
        await conn.execute(stmt)
        await _sync_agent(conn, case_id, user_id, now)


async def _sync_agent(conn: AsyncConnection, case_id: int, user_id: int | None, now: float) -> None:
    """Keep the case's `assigned_agent` (the ACD agent of the assignee) in step."""
    if user_id is None:
        return
    agent = (await conn.execute(select(USERS.c.agent_id).where(USERS.c.id == user_id))).scalar()
    await conn.execute(update(CASES).where(CASES.c.id == case_id).values(assigned_agent=agent, updated_at=now))


async def _case(conn: AsyncConnection, number: str) -> Any:
    row = (await conn.execute(select(CASES).where(CASES.c.number == number))).first()
    if row is None:
        raise NotFound(f"no case {number}")
    return row


async def _team_id(conn: AsyncConnection, name: str) -> int:
    team_id = (await conn.execute(select(TEAMS.c.id).where(TEAMS.c.name == name))).scalar()
    if team_id is None:
        raise NotFound(f"no team {name!r}")
    return int(team_id)


async def _workload(conn: AsyncConnection) -> dict[int, int]:
    """Open (active) cases per assignee."""
    rows = await conn.execute(
        select(CASE_ROUTING.c.assignee_user_id, func.count())
        .select_from(CASE_ROUTING.join(CASES, CASES.c.id == CASE_ROUTING.c.case_id))
        .where(CASES.c.status.in_([s.value for s in ACTIVE_STATUSES]), CASE_ROUTING.c.assignee_user_id.is_not(None))
        .group_by(CASE_ROUTING.c.assignee_user_id)
    )
    return {int(uid): int(n) for uid, n in rows.all()}


async def _members(conn: AsyncConnection) -> dict[int, list[MemberView]]:
    workload = await _workload(conn)
    rows = await conn.execute(
        select(TEAM_MEMBERS, USERS.c.login, USERS.c.disabled)
        .select_from(TEAM_MEMBERS.join(USERS, USERS.c.id == TEAM_MEMBERS.c.user_id))
        .order_by(USERS.c.login)
    )
    out: dict[int, list[MemberView]] = {}
    for r in rows.all():
        if r.disabled:
            continue
        out.setdefault(r.team_id, []).append(
            MemberView(r.login, r.user_id, tuple(r.skills.split()), bool(r.lead), r.notify_email, workload.get(r.user_id, 0))
        )
    return out


async def _teams_for_rules(conn: AsyncConnection) -> tuple[dict[str, list[Member]], dict[str, int]]:
    ids = {name: tid for tid, name in (await conn.execute(select(TEAMS.c.id, TEAMS.c.name))).all()}
    members = await _members(conn)
    by_name = {
        name: [Member(m.user_id, frozenset(m.skills), m.lead) for m in members.get(tid, [])]
        for name, tid in ids.items()
    }
    return by_name, ids


async def _routing(conn: AsyncConnection, number: str) -> RoutingView | None:
    row = (
        await conn.execute(
            select(
                CASES.c.number, TEAMS.c.name, USERS.c.login, USERS.c.agent_id, CASE_ROUTING.c.assignee_user_id,
                CASE_ROUTING.c.assigned_at, CASE_ROUTING.c.escalated_at, TEAM_MEMBERS.c.notify_email,
            )
            .select_from(
                CASES.join(CASE_ROUTING, CASE_ROUTING.c.case_id == CASES.c.id)
                .join(TEAMS, TEAMS.c.id == CASE_ROUTING.c.team_id)
                .outerjoin(USERS, USERS.c.id == CASE_ROUTING.c.assignee_user_id)
                .outerjoin(
                    TEAM_MEMBERS,
                    and_(TEAM_MEMBERS.c.team_id == CASE_ROUTING.c.team_id, TEAM_MEMBERS.c.user_id == CASE_ROUTING.c.assignee_user_id),
                )
            )
            .where(CASES.c.number == number)
        )
    ).first()
    if row is None:
        return None
    return RoutingView(row[0], row[1], row[2], row[4], row[3], row[5], row[6], row[7])
