"""Routing rules and assignment, pure: team by category/priority/queue, the least-loaded
member with the skill, escalation before the due time, follow-ups, channel choice."""

from __future__ import annotations

import pytest

from casestore.service_process.rules import (
    Member,
    RoutingRule,
    ServiceRules,
    assign,
    choose_channel,
    escalation_time,
    follow_up_after,
    lead_of,
    needs_escalation,
    parse_service_rules,
    pick_member,
    pick_rule,
)

RULES = ServiceRules(
    routing=(
        RoutingRule("complaints", category="complaint", priority="urgent", skill="senior"),
        RoutingRule("complaints", category="complaint"),
        RoutingRule("baggage", queue="baggage"),
        RoutingRule("refunds", category="consultation", queue="refunds", skill="refunds"),
    ),
    escalate_before_minutes=15,
)
TEAMS = {
    "complaints": [Member(1, frozenset({"senior"}), lead=True), Member(2), Member(3, frozenset({"senior"}))],
    "baggage": [Member(4), Member(5)],
    "refunds": [Member(6, frozenset({"refunds"})), Member(7)],
}


def test_first_matching_rule_wins_and_wildcards_match() -> None:
    assert pick_rule(RULES.routing, "complaint", "urgent", "general") is RULES.routing[0]
    assert pick_rule(RULES.routing, "complaint", "general", None) is RULES.routing[1]
    assert pick_rule(RULES.routing, "consultation", "common", "baggage") is RULES.routing[2]
    assert pick_rule(RULES.routing, "consultation", "common", "general") is None


def test_the_lightest_workload_takes_the_case() -> None:
    assert assign(RULES, TEAMS, {4: 3, 5: 1}, "consultation", "common", "baggage").user_id == 5  # type: ignore[union-attr]
    assert assign(RULES, TEAMS, {4: 0, 5: 1}, "consultation", "common", "baggage").user_id == 4  # type: ignore[union-attr]


def test_ties_go_to_the_lowest_user_id() -> None:
    assert pick_member(TEAMS["baggage"], {4: 2, 5: 2}) == 4


def test_only_members_with_the_skill_qualify_even_when_busier() -> None:
    choice = assign(RULES, TEAMS, {1: 5, 2: 0, 3: 4}, "complaint", "urgent", None)
    assert choice is not None and (choice.team, choice.user_id, choice.skill) == ("complaints", 3, "senior")
    # without the skill needed, the idle member 2 gets it
    assert assign(RULES, TEAMS, {1: 5, 2: 0, 3: 4}, "complaint", "major", None).user_id == 2  # type: ignore[union-attr]


def test_nobody_with_the_skill_leaves_the_case_with_the_team() -> None:
    choice = assign(RULES, {"refunds": [Member(7)]}, {}, "consultation", "common", "refunds")
    assert choice is not None and (choice.team, choice.user_id) == ("refunds", None)


def test_unavailable_members_are_skipped() -> None:
    assert pick_member([Member(4, available=False), Member(5)], {5: 9}) == 5


def test_balance_over_a_run_of_cases() -> None:
    workload: dict[int, int] = {}
    for _ in range(9):
        uid = pick_member(TEAMS["complaints"], workload)
        assert uid is not None
        workload[uid] = workload.get(uid, 0) + 1
    assert workload == {1: 3, 2: 3, 3: 3}


def test_escalation_comes_before_the_due_time() -> None:
    due = 10_000.0
    assert escalation_time(RULES, due) == due - 15 * 60
    assert not needs_escalation(RULES, due, due - 15 * 60 - 1, False)
    assert needs_escalation(RULES, due, due - 15 * 60, False)
    assert needs_escalation(RULES, due, due - 1, False)  # still before due: escalated in time
    assert not needs_escalation(RULES, due, due - 1, True)  # once only


def test_the_lead_is_the_lowest_id_among_leads() -> None:
    assert lead_of(TEAMS["complaints"]) == 1
    assert lead_of(TEAMS["baggage"]) is None


def test_follow_up_rules() -> None:
    rules = parse_service_rules({"follow_up": [{"category": "complaint", "after_hours": 24}]})
    assert follow_up_after(rules, "complaint", "resolved") == 86400
    assert follow_up_after(rules, "complaint", "closed") is None
    assert follow_up_after(rules, "consultation", "resolved") is None


def test_channel_choice() -> None:
    assert choose_channel("+821012345678", "a@b.c", "email") == "email"
    assert choose_channel("+821012345678", None, "email") == "sms"
    assert choose_channel(None, "a@b.c", None) == "email"
    assert choose_channel(None, None, "sms") is None


def test_config_errors_name_the_key() -> None:
    with pytest.raises(ValueError, match=r"service\.routing\.0: 'team' is a required property"):
        parse_service_rules({"routing": [{"category": "complaint"}]})
    with pytest.raises(ValueError, match=r"service\.notify_on\.0"):
        parse_service_rules({"notify_on": ["lost"]})
    with pytest.raises(ValueError, match="Additional properties"):
        parse_service_rules({"colour": "red"})
    rules = parse_service_rules({"routing": [{"team": "baggage", "queue": "baggage"}], "escalate_before_minutes": 5})
    assert rules.routing == (RoutingRule("baggage", queue="baggage"),)
    assert rules.escalate_before_minutes == 5
