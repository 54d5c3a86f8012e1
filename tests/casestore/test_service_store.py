"""The service process in the store, on SQLite and PostgreSQL: routing to the least-loaded
member with the skill, audited reassignment, escalation to the lead before the due time,
messages and their status, survey invitations used once into `survey_answers`, follow-ups;
the migration matches the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from casestore import InvalidInput, Store
from casestore.accounts import Actor
from casestore.models import Base
from casestore.service_process import models as service_models
from casestore.service_process.outreach_store import OutreachRepository
from casestore.service_process.routing_store import RoutingRepository
from casestore.service_process.rules import RoutingRule, ServiceRules
from casestore.service_process.survey_links import BadSurveyLink

ADA = Actor("ada", 1)
RULES = ServiceRules(
    routing=(RoutingRule("complaints", category="complaint", skill="complaints"), RoutingRule("desk")),
    escalate_before_minutes=10,
)
PHONE = "+821012345678"


async def _people(store: Store) -> None:
    for login, role, agent in (("ada", "admin", None), ("sue", "supervisor", None), ("kim", "agent", "1001"),
                               ("lee", "agent", "1002"), ("park", "agent", "1003")):
        await store.accounts.add_user(ADA, login=login, name=login, role=role, password_hash="h", agent_id=agent)


async def _teams(store: Store) -> RoutingRepository:
    routing = RoutingRepository(store.engine, RULES, store.clock)
    await _people(store)
    await routing.add_team(ADA, "complaints", "Complaints")
    await routing.set_member(ADA, "complaints", "sue", skills=["complaints"], lead=True)
    await routing.set_member(ADA, "complaints", "kim", skills=["complaints"])
    await routing.set_member(ADA, "complaints", "lee")  # no skill
    await routing.add_team(ADA, "desk", "Desk")
    await routing.set_member(ADA, "desk", "park")
    return routing


async def test_cases_go_to_the_least_loaded_member_with_the_skill(store: Store) -> None:
    routing = await _teams(store)
    got = []
    for _ in range(4):
        case = await store.cases.open_case(category="complaint", priority="general")
        view = await routing.route(case.number)
        assert view is not None and view.team == "complaints"
        got.append(view.assignee)
    assert got == ["sue", "kim", "sue", "kim"]  # lee lacks the skill; ties to the lower user id
    assert (await store.cases.get_case(case.number)).assigned_agent == "1001"  # kim's ACD agent
    other = await store.cases.open_case(category="consultation", priority="common")
    view = await routing.route(other.number)
    assert view is not None and (view.team, view.assignee, view.assignee_agent_id) == ("desk", "park", "1003")
    assert (await store.cases.get_case(other.number)).assigned_agent == "1003"
    # a resolved case no longer weighs on its assignee
    await store.cases.set_status(case.number, "resolved")  # kim's second
    nxt = await store.cases.open_case(category="complaint", priority="general")
    assert (await routing.route(nxt.number)).assignee == "kim"  # type: ignore[union-attr]
    teams = {t.name: {m.login: m.open_cases for m in t.members} for t in await routing.teams()}
    assert teams["complaints"] == {"kim": 2, "lee": 0, "sue": 2}


async def test_reassignment_is_audited_and_only_to_members(store: Store) -> None:
    routing = await _teams(store)
    case = await store.cases.open_case(category="complaint", priority="general")
    await routing.route(case.number)
    sue = Actor("sue", 2)
    with pytest.raises(InvalidInput, match="not a member"):
        await routing.reassign(sue, case.number, "park")
    view = await routing.reassign(sue, case.number, "lee")
    assert (view.team, view.assignee, view.assignee_agent_id) == ("complaints", "lee", "1002")
    assert (await store.cases.get_case(case.number)).assigned_agent == "1002"
    entry = (await store.accounts.audit(action="case.reassign"))[0]
    assert (entry.actor, entry.target) == ("sue", f"case:{case.number}")
    assert entry.before == {"team": "complaints", "assignee": "sue"} and entry.after == {"team": "complaints", "assignee": "lee"}
    moved = await routing.reassign(sue, case.number, "park", team="desk")
    assert (moved.team, moved.assignee) == ("desk", "park")


async def test_escalation_to_the_lead_before_the_due_time(store: Store) -> None:
    routing = await _teams(store)
    case = await store.cases.open_case(category="complaint", priority="general", at=1000.0)
    await routing.route(case.number)
    due = case.due_at
    assert await routing.escalate_due(due - 10 * 60 - 1) == []
    done = await routing.escalate_due(due - 10 * 60)
    assert [(v.case_number, v.assignee, v.escalated_at) for v in done] == [(case.number, "sue", due - 600)]
    assert await routing.escalate_due(due - 1) == []  # once
    resolved = await store.cases.open_case(category="complaint", priority="general", at=1000.0)
    await routing.route(resolved.number)
    await store.cases.set_status(resolved.number, "resolved")
    assert await routing.escalate_due(due) == []  # resolved cases are not escalated


async def test_messages_invitations_and_follow_ups(store: Store) -> None:
    outreach = OutreachRepository(store.engine, store.clock)
    await store.cases.upsert_customer(PHONE, language="ko")
    case = await store.cases.open_case(category="complaint", priority="general", customer_phone=PHONE)
    await outreach.set_contact(ADA, PHONE, email="c@example.com", channel="email")
    contact = await outreach.contact(case.number)
    assert (contact.phone, contact.email, contact.channel, contact.language, contact.opted_out) == (
        PHONE, "c@example.com", "email", "ko", False)
    mid = await outreach.add_message(case.id, event="resolved", channel="sms", recipient=PHONE, language="ko",
                                     body="hi", due_by=9e9)
    await outreach.mark_message(mid, "sent", provider_id="SM1")
    assert await outreach.delivery_status("SM1", "delivered")
    assert not await outreach.delivery_status("SM2", "delivered")
    [m] = await outreach.messages(case.number)
    assert (m.status, m.provider_id, m.sent_at is not None) == ("delivered", "SM1", True)

    now = store.clock()
    await outreach.add_invitation(case.id, "n1", channel="sms", recipient=PHONE, expires_at=now + 3600)
    await outreach.add_invitation(case.id, "old", channel="web", recipient=None, expires_at=now - 1)
    assert await outreach.invitation_case("n1") == case.number
    with pytest.raises(BadSurveyLink, match="expired"):
        await outreach.invitation_case("old")
    assert await outreach.open_sms_invitation(PHONE) == "n1"
    assert await outreach.answer("n1", 4, "sms") == case.number
    with pytest.raises(BadSurveyLink, match="used"):
        await outreach.answer("n1", 5, "sms")
    with pytest.raises(InvalidInput):
        await outreach.answer("n1", 6, "sms")
    assert await outreach.score(case.number) == (4, "sms")
    assert await store.cases.survey(f"case:{case.number}") == {"service": 4}  # the IVR survey's table

    tid = await outreach.add_follow_up(case.id, now + 86400)
    assert await outreach.follow_ups(due_by=now) == []
    [task] = await outreach.follow_ups(due_by=now + 86400)
    assert task.id == tid
    kim = Actor("kim", 3)
    taken = await outreach.take_follow_up(kim, tid)
    assert (taken.status, taken.taken_by, taken.phone) == ("taken", 3, PHONE)
    with pytest.raises(InvalidInput):
        await outreach.take_follow_up(Actor("lee", 4), tid)
    done = await outreach.finish_follow_up(kim, tid, "reached")
    assert (done.status, done.outcome) == ("done", "reached")


async def test_templates_are_versioned(store: Store) -> None:
    outreach = OutreachRepository(store.engine, store.clock)
    assert await outreach.template("resolved", "sms", "en") is None
    assert await outreach.save_template(ADA, "resolved", "sms", "en", "v1 $case") == 1
    assert await outreach.save_template(ADA, "resolved", "sms", "en", "v2 $case") == 2
    assert await outreach.template("resolved", "sms", "en") == (2, "v2 $case")
    assert [e.action for e in await store.accounts.audit()] == ["template.save", "template.save"]


TABLES = {t.name for t in Base.metadata.sorted_tables if t.name in {
    *(m.__tablename__ for m in (service_models.Team, service_models.TeamMember, service_models.CaseRouting,
                                service_models.ContactPreference, service_models.ServiceMessage,
                                service_models.SurveyInvitation, service_models.MessageTemplate,
                                service_models.FollowUpTask)), "survey_answers"}}


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection)
    return [d for d in compare_metadata(context, Base.metadata) if any(name in repr(d) for name in TABLES)]


async def test_the_migration_matches_the_models(store: Store) -> None:
    async with store.engine.connect() as conn:
        assert await conn.run_sync(_diff) == []


async def test_the_report_counts_teams_feedback_evaluation_and_follow_ups(store: Store) -> None:
    from casestore.service_process.reports import service_process_report

    routing = await _teams(store)
    outreach = OutreachRepository(store.engine, store.clock)
    start = store.clock() - 1
    await store.cases.record_survey("call-ivr", "overall", 2)  # an IVR survey answer counts too
    cases = [await store.cases.open_case(category=c, priority="general") for c in ("complaint", "complaint", "consultation")]
    for c in cases:
        await routing.route(c.number)
    await store.cases.set_status(cases[0].number, "resolved")
    late = await outreach.add_message(cases[0].id, event="resolved", channel="sms", recipient=PHONE, language="en",
                                      body="x", due_by=0.0)
    await outreach.mark_message(late, "sent")
    ok = await outreach.add_message(cases[1].id, event="resolved", channel="email", recipient="a@b.c", language="en",
                                    body="x", due_by=9e12)
    await outreach.mark_message(ok, "sent")
    await outreach.add_message(cases[2].id, event="resolved", channel="sms", recipient=PHONE, language="en",
                               body="x", due_by=9e12)  # never sent
    for nonce, channel, c in (("a", "sms", cases[0]), ("b", "sms", cases[2]), ("c", "email", cases[1])):
        await outreach.add_invitation(c.id, nonce, channel=channel, recipient=None, expires_at=9e12)
    await outreach.answer("a", 5, "sms")
    await outreach.answer("c", 4, "web")
    done = await outreach.add_follow_up(cases[0].id, 0)
    await outreach.add_follow_up(cases[1].id, 0)
    await outreach.take_follow_up(ADA, done)
    await outreach.finish_follow_up(ADA, done, "reached")
    report = await service_process_report(store.engine, start, store.clock() + 1)
    assert report.teams == {"complaints": {"cases": 2, "resolved": 1, "escalated": 0},
                            "desk": {"cases": 1, "resolved": 0, "escalated": 0}}
    assert (report.messages, report.sent, report.on_time) == (3, 2, 1)
    assert report.on_time_rate == 1 / 3
    assert report.invitations == {"email": (1, 1), "sms": (2, 1)}
    assert report.scores == {"ivr": (1, 2.0), "sms": (1, 5.0), "web": (1, 4.0)}
    assert report.follow_ups == {"open": 1, "reached": 1}
    assert report.to_dict()["evaluation"]["invitations"]["sms"]["response_rate"] == 0.5


async def test_hotline_report_prints_the_service_process(
    store: Store, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import json
    import time

    from tests.casestore.test_reports import cli

    routing = await _teams(store)
    case = await store.cases.open_case(category="complaint", priority="general", at=time.time())
    await routing.route(case.number)
    day = time.strftime("%Y-%m-%d", time.gmtime())
    assert await cli("report", "--from", day, "--to", day, "--url", db_url, "--config", "missing.yaml", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["service_process"]["cases_by_team"] == {"complaints": {"cases": 1, "resolved": 0, "escalated": 0}}
    assert await cli("report", "--from", day, "--to", day, "--url", db_url, "--config", "missing.yaml") == 0
    out = capsys.readouterr().out
    assert "Cases by team" in out and "complaints" in out and "Evaluations by channel" in out


async def test_common_answers_are_versioned_and_searched_in_full_text(store: Store) -> None:
    from casestore.service_process.answers_store import AnswerRepository

    answers = AnswerRepository(store.engine, store.clock)
    await answers.save(ADA, "refund-window", title="Refund window", body="Refunds are possible up to 24 hours before departure.",
                       language="en", queue="refund", category="consultation")
    await answers.save(ADA, "lost-bag", title="Lost baggage", body="File a lost baggage report at the baggage desk.",
                       language="en", queue="baggage", ivr_nodes=["baggage-lost"])
    await answers.save(ADA, "bag-fees", title="Baggage fees", body="Extra baggage costs 30 EUR per piece.",
                       language="en", queue="baggage")
    await answers.save(ADA, "refund-ko", title="환불 기간", body="출발 24시간 전까지 환불 가능합니다.", language="ko", queue="refund")
    v2 = await answers.save(ADA, "refund-window", title="Refund window",
                            body="Refunds are possible up to 48 hours before departure.", language="en", queue="refund")
    assert v2.version == 2
    assert [v.version for v in await answers.versions("refund-window")] == [2, 1]

    found = await answers.search("refund hours", language="en")
    assert [(a.key, a.version) for a in found] == [("refund-window", 2)]  # only the current version
    assert "48 hours" in found[0].body
    assert await answers.search("24 hours", language="en") == []  # the old text is gone
    assert [a.key for a in await answers.search("refu", language="en")] == ["refund-window"]  # prefixes
    assert [a.key for a in await answers.search("환불", language="ko")] == ["refund-ko"]
    assert {a.key for a in await answers.search("baggage", queue="baggage")} == {"lost-bag", "bag-fees"}
    suggested = await answers.search("baggage", queue="baggage", suggest_nodes=["main", "baggage-lost"])
    assert suggested[0].key == "lost-bag" and suggested[0].suggested
    assert await answers.search('" OR * NEAR(', language="en") == []  # operators are not syntax
    assert len(await answers.search("", language="en")) == 3
    assert [e.action for e in await store.accounts.audit(action="answer.save")] == ["answer.save"] * 5
