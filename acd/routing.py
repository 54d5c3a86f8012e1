"""The index of waiting calls: which call a freed agent takes, whatever the number of call
requirements (queues x call skills x escalation steps) and waiting calls.

Every call holds a *position*, its place in arrival order (`Call.pos`, given at arrival and
kept when it returns to the queue, so FIFO within a priority is position order). For every
skill and every level k the index keeps one integer used as a bit set of the positions of the
calls requiring that skill at level k or above (so "requiring it at all" is k = 1), one per
group an escalation opened, and one of the waiting calls per priority. The calls an agent may
take are then the waiting calls minus, per skill, those requiring more than the agent's level
(one integer per skill), plus those of a group it belongs to; the first call for it is the
lowest set bit of the highest priority that has one.

A call that stops waiting only leaves the per-priority sets (one operation): its bits stay in
the skill and group sets, where the per-priority sets mask them, until it waits again at the
same position under the same requirement (ring-no-answer, aging: nothing to redo) or under
another one (its old bits are taken out first), or until the next renumbering. Positions only
grow; when the next one is about twice the number of calls in the ACD the index renumbers
every call in arrival order and rebuilds the sets in one pass, so the integers stay about one
bit per call wide.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Iterable, Iterator

from acd.agent import Agent
from acd.bitset import from_positions, lowest
from acd.call import Call
from acd.queue import Requirement

ABOVE_ALL = 11  # a required level no agent has (agents have levels 1-10)
_ROW = ABOVE_ALL + 1  # row[k]: positions requiring the skill at level >= k (row[0] unused)


class WaitingCalls:
    """Calls waiting for an agent, by required skill level, group and (priority, arrival)."""

    __slots__ = ("_at", "_by_priority", "_count", "_for", "_ge", "_groups", "_marked", "_next", "_priorities",
                 "_slack", "_targeted")

    def __init__(self, slack: int = 4096) -> None:
        self._slack = slack  # positions beyond twice the calls in the ACD before renumbering
        self._at: list[Call | None] = []  # position -> the call waiting there
        self._marked: list[Requirement | None] = []  # position -> whose bits the sets hold there
        self._count = 0
        self._by_priority: dict[int, int] = {}
        self._priorities: list[int] = []  # of waiting calls, highest first (negated, sorted)
        self._ge: dict[str, list[int]] = {}  # skill -> positions by required level, at or above
        self._groups: dict[str, int] = {}
        self._targeted = 0  # positions of calls reserved for one agent (`Call.target`)
        self._for: dict[str, int] = {}  # agent id -> positions of the calls reserved for it
        self._next = 0

    def new_position(self, calls: Iterable[Call], count: int) -> int:
        """The position of a call arriving now. `calls` are the `count` calls in the ACD in
        arrival order (those that may wait again are among them): they are renumbered, the
        sets rebuilt, when positions have grown to twice their number."""
        if self._next >= 2 * count + self._slack:
            waiting = [call for call in self._at if call is not None]
            for pos, call in enumerate(calls):
                call.pos = pos
            self._next = count
            self._rebuild(waiting)
        pos = self._next
        self._next = pos + 1
        return pos

    def _rebuild(self, waiting: list[Call]) -> None:
        size = self._next
        at: list[Call | None] = [None] * size
        marked: list[Requirement | None] = [None] * size
        self._at, self._marked = at, marked
        by_priority: dict[int, list[int]] = {}
        exact: dict[str, list[list[int]]] = {}  # skill -> positions by exact required level
        groups: dict[str, list[int]] = {}
        targeted: list[int] = []
        mine: dict[str, list[int]] = {}
        for call in waiting:
            pos, req = call.pos, call.requirement
            assert req is not None
            at[pos] = call
            marked[pos] = req
            by_priority.setdefault(call.priority, []).append(pos)
            if call.target:
                targeted.append(pos)
                mine.setdefault(call.target, []).append(pos)
            for skill, level in req.skills:
                if level > 0:
                    rows = exact.get(skill)
                    if rows is None:
                        rows = exact[skill] = [[] for _ in range(_ROW)]
                    rows[min(level, ABOVE_ALL)].append(pos)
            for group in req.groups:
                groups.setdefault(group, []).append(pos)
        self._count = len(waiting)
        self._by_priority = {priority: from_positions(ps) for priority, ps in by_priority.items()}
        self._priorities = sorted(-priority for priority in by_priority)
        self._groups = {group: from_positions(ps) for group, ps in groups.items()}
        self._targeted = from_positions(targeted)
        self._for = {agent_id: from_positions(ps) for agent_id, ps in mine.items()}
        self._ge = {}
        for skill, rows in exact.items():
            ge = self._ge[skill] = [0] * _ROW
            at_or_above = 0
            for level in range(ABOVE_ALL, 0, -1):
                if rows[level]:
                    at_or_above |= from_positions(rows[level])
                ge[level] = at_or_above

    def push(self, call: Call, req: Requirement) -> None:
        """`call` waits, under requirement `req` (kept as `call.requirement` until it leaves)."""
        pos = call.pos
        bit = 1 << pos
        call.requirement = req
        at = self._at
        if pos >= len(at):
            grow = pos + 1 - len(at) + len(at) // 2
            at.extend([None] * grow)
            self._marked.extend([None] * grow)
        assert at[pos] is None, "pushed twice"
        at[pos] = call
        self._count += 1
        priority = call.priority
        had = self._by_priority.get(priority, 0)
        if not had:
            insort(self._priorities, -priority)
        self._by_priority[priority] = had | bit
        if call.target:
            self._targeted |= bit
            self._for[call.target] = self._for.get(call.target, 0) | bit
        marked = self._marked[pos]
        if marked is not req and marked != req:
            if marked is not None:
                self._toggle(marked, bit)  # the bits of its former requirement go
            self._toggle(req, bit)
        self._marked[pos] = req

    def _toggle(self, req: Requirement, bit: int) -> None:
        """Flip `bit` in every set `req` puts a call in (sets it if absent, clears it if set)."""
        ge = self._ge
        for skill, level in req.skills:
            if level <= 0:
                continue
            row = ge.get(skill)
            if row is None:
                row = ge[skill] = [0] * _ROW
            for at_least in range(1, min(level, ABOVE_ALL) + 1):
                row[at_least] ^= bit
        if req.groups:
            groups = self._groups
            for group in req.groups:
                groups[group] = groups.get(group, 0) ^ bit

    def discard(self, call: Call) -> None:
        """`call` stops waiting (its skill and group bits stay, masked: see the module doc)."""
        pos = call.pos
        at = self._at
        if pos >= len(at) or at[pos] is not call:
            return
        at[pos] = None
        self._count -= 1
        bit = 1 << pos
        priority = call.priority
        left = self._by_priority[priority] ^ bit
        if left:
            self._by_priority[priority] = left
        else:
            del self._by_priority[priority]
            self._priorities.remove(-priority)
        if call.target:
            self._targeted ^= bit
            mine = self._for[call.target] ^ bit
            if mine:
                self._for[call.target] = mine
            else:
                del self._for[call.target]

    def first_for(self, agent: Agent) -> Call | None:
        """The highest-priority, earliest call `agent` may take. A call reserved for the
        agent comes before any other (its skills do not matter); one reserved for another
        agent is never its."""
        if not self._count:
            return None
        at = self._at
        targeted = self._targeted
        if targeted:
            mine = self._for.get(agent.id, 0)
            if mine:
                return at[lowest(mine)]
        skills = agent.config.skills
        refused = 0  # positions requiring a skill above the agent's level (or one it lacks)
        for skill, row in self._ge.items():
            above = row[skills.get(skill, 0) + 1]
            if above:
                refused |= above
        opened = 0
        if agent.config.groups and self._groups:
            groups = self._groups
            for group in agent.config.groups:
                opened |= groups.get(group, 0)
        if targeted:
            refused |= targeted
            if opened:
                opened ^= opened & targeted
        by_priority = self._by_priority
        for negated in self._priorities:
            waiting = by_priority[-negated]
            takes = waiting ^ (waiting & refused) if refused else waiting
            if opened:
                takes |= waiting & opened
            if takes:
                return at[lowest(takes)]
        return None

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Call]:
        return iter([call for call in self._at if call is not None])
