"""The routing indexes against a naive scan: random agents with distinct skill profiles and
random calls requiring 1-3 skills with minimum levels (some opened to groups), added,
removed and reordered at random (enough to renumber ranks and positions), compared with a
scan of every routable agent / waiting call after every step. Removal leaves stale bits in the
skill sets (masked), so agents come back under new ranks and calls come back to their position
under the requirement they waited with or another one."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from acd.agent import Agent, AgentConfig
from acd.agent_index import RoutableAgents
from acd.call import Call
from acd.queue import Requirement
from acd.routing import WaitingCalls

SKILLS = [f"s{i}" for i in range(6)]
GROUPS = ["g1", "g2"]


def random_agent(rng: random.Random, i: int) -> Agent:
    skills = {s: rng.randint(1, 10) for s in rng.sample(SKILLS, rng.randint(0, 5))}
    groups = frozenset(g for g in GROUPS if rng.random() < 0.2)
    return Agent(AgentConfig(f"a{i}", skills=skills, groups=groups, capacity=rng.randint(1, 3)), 0.0)


def random_requirement(rng: random.Random) -> Requirement:
    skills = tuple(sorted((s, rng.randint(0, 11)) for s in rng.sample(SKILLS, rng.randint(0, 3))))
    groups = frozenset(g for g in GROUPS if rng.random() < 0.15)
    return Requirement(skills, groups)


def naive_agents(order: list[Agent], req: Requirement, policy: str) -> Agent | None:
    eligible = [a for a in order if req.satisfied_by(a.config.skills, a.config.groups)]
    if not eligible:
        return None
    if policy == "longest_idle":
        return eligible[0]
    if policy == "best_skill":
        return max(eligible, key=lambda a: (req.score(a.config.skills), -order.index(a)))
    return min(eligible, key=lambda a: a.order_key or ())


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), size=st.integers(1, 40))
def test_the_agent_index_chooses_as_a_naive_scan_of_every_routable_agent(seed: int, size: int) -> None:
    rng = random.Random(seed)
    figures: dict[str, tuple[float, float]] = {}
    index = RoutableAgents(lambda agent: figures[agent.id], slack=16)
    agents = [random_agent(rng, i) for i in range(size)]
    order: list[Agent] = []  # routable agents, longest idle first
    clock = 0.0
    for _ in range(1500):  # many more adds than 2 x size + 16: ranks are renumbered
        clock += 1.0
        agent = rng.choice(agents)
        figures[agent.id] = (rng.choice((0.0, 0.5)), rng.choice((0.0, 0.25, 0.5)))
        roll = rng.random()
        if agent not in order:
            agent.idle_since = clock
            index.add(agent)
            order.append(agent)
        elif roll < 0.4:
            index.remove(agent)
            order.remove(agent)
        elif roll < 0.6:
            agent.idle_since = clock
            index.to_back(agent)
            order.remove(agent)
            order.append(agent)
        else:
            index.refigure(agent)
        assert list(index) == order
        for policy in ("longest_idle", "best_skill", "least_occupied"):
            req = random_requirement(rng)
            assert getattr(index, policy)(req) is naive_agents(order, req, policy), (policy, req)
    assert index.order_size() == len(order)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), size=st.integers(1, 60))
def test_the_call_index_gives_a_freed_agent_the_call_a_naive_scan_finds(seed: int, size: int) -> None:
    rng = random.Random(seed)
    index = WaitingCalls(slack=16)
    live: dict[str, Call] = {}  # calls in the ACD, in arrival order
    waiting: dict[str, Requirement] = {}
    last: dict[str, Requirement] = {}  # the requirement each call last waited under
    for step in range(1500):
        roll = rng.random()
        if roll < 0.45 or not live:
            if len(live) >= size:
                gone = next(iter(live))
                index.discard(live.pop(gone))
                waiting.pop(gone, None)
            call = Call(f"c{step}", "q", arrived_at=0.0, seq=step, pos=index.new_position(live.values(), len(live)),
                        priority=rng.randint(0, 2))
            live[call.id] = call
        call = live[rng.choice(list(live))]
        if call.id in waiting:
            if rng.random() < 0.5:
                index.discard(call)
                del waiting[call.id]
        else:  # back under the requirement it waited with (ring-no-answer), or another one
            req = last[call.id] if call.id in last and rng.random() < 0.5 else random_requirement(rng)
            index.push(call, req)
            waiting[call.id] = last[call.id] = req
        assert sorted(index, key=lambda c: c.seq) == [live[i] for i in sorted(waiting, key=lambda i: live[i].seq)]
        agent = random_agent(rng, step)
        takes = [
            live[i] for i, req in waiting.items() if req.satisfied_by(agent.config.skills, agent.config.groups)
        ]
        expected = min(takes, key=lambda c: (-c.priority, c.seq), default=None)
        assert index.first_for(agent) is expected
    assert len(index) == len(waiting)
