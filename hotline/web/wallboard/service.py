"""The wallboard's figures: today from the same report functions as `hotline report`
(casestore.reports, 15-minute intervals), the live ACD for waits and agent states, and the
alerts (checked every `wallboard.check_interval` seconds; changes pushed as `wallboard_alert`
live events). Also the supervisor actions on agents and waiting calls, each audited."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from acd.agent import AgentState
from acd.call import CallState
from acd.engine import Acd
from acd.events import CallAbandoned, CallAnswered, CallEnded, CallOverflowed, CallQueued, Event
from acd.queue import requirement_at_step
from casestore.accounts import Actor
from casestore.report_model import Bucket, QueueTarget, ServiceReport, Standards
from casestore.reports import answered_by_agent, service_report
from casestore.store import Store
from hotline.web.base.live import LiveEvent, Publisher
from hotline.web.wallboard.alerts import Alert, QueueFigures, alerts_for, changes
from hotline.web.wallboard.settings import WallboardSettings

log = logging.getLogger("hotline.wallboard")
INTERVAL = 900.0  # seconds per bar of today's charts
ALERT_EVENT = "wallboard_alert"
CALL_EVENTS = (CallQueued, CallAnswered, CallEnded, CallAbandoned, CallOverflowed)


def day_bounds(now: float) -> tuple[float, float]:
    """Today in the server's local time: [midnight, next midnight)."""
    start = datetime.fromtimestamp(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return start.timestamp(), (start + timedelta(days=1)).timestamp()


@dataclass(frozen=True)
class QueueRow:
    name: str
    waiting: int
    longest_wait: float
    sl_target: float
    sl_seconds: float
    offered: int
    answered: int
    abandoned: int
    short_abandons: int
    service_level: float | None
    asa: float | None
    agents: dict[str, int]  # state -> agents able to take this queue's calls
    callbacks_held: int = 0  # callbacks promised, held for the queue's hours or a chosen slot


@dataclass(frozen=True)
class AgentRow:
    id: str
    name: str
    state: str
    in_state: float
    pause_reason: str
    call_id: str
    call_queue: str
    calls_today: int
    pending: str  # "logout", a pause reason after the current calls, or ""


@dataclass(frozen=True)
class WaitingRow:
    id: str
    queue: str
    priority: int
    tier: str
    waiting: float
    position: int


@dataclass(frozen=True)
class Wallboard:
    at: float
    day_start: float
    queues: list[QueueRow]
    agents: list[AgentRow]
    waiting: list[WaitingRow]
    series: tuple[Bucket, ...]
    sl_target: float
    alerts: list[Alert] = field(default_factory=list)


class WallboardService:
    def __init__(
        self, acd: Acd, store: Callable[[], Store], publisher: Publisher, settings: WallboardSettings,
    ) -> None:
        self.acd = acd
        self.store = store
        self.publisher = publisher
        self.settings = settings
        self.standards = Standards()
        self.alerts: list[Alert] = []
        self._generation = 0  # call events seen: the cached report is good while it holds
        self._cached: tuple[int, float, ServiceReport, dict[str, int]] | None = None

    def on_call_event(self, event: Event) -> None:
        self._generation += 1

    def targets(self) -> dict[str, QueueTarget]:
        return {name: QueueTarget(q.sl_seconds, q.sl_target) for name, q in self.acd.queues.items()}

    async def today(self) -> tuple[ServiceReport, dict[str, int]]:
        """Today's report at 15-minute intervals and calls answered per agent (cached until the
        next call event, so many wallboards cost one query set per change)."""
        now = self.acd.clock.now()
        start, end = day_bounds(now)
        generation = self._generation
        cached = self._cached
        if cached is not None and cached[0] == generation and cached[1] == start:
            return cached[2], cached[3]
        store = self.store()
        writer = store.writer_instance
        if writer is not None and writer.backlog:
            await writer.flush()  # the events behind this refresh are in the figures
        report = await service_report(
            store.engine, start, end, now=now, standards=self.standards, targets=self.targets(),
            interval=INTERVAL,
        )
        per_agent = await answered_by_agent(store.engine, start, end)
        self._cached = (generation, start, report, per_agent)
        return report, per_agent

    async def view(self) -> Wallboard:
        report, per_agent = await self.today()
        acd = self.acd
        now = acd.clock.now()
        by_queue = {row.queue: row for row in report.queues}
        held: dict[str, int] = {}
        for request in acd.held.requests.values():
            held[request.queue] = held.get(request.queue, 0) + 1
        queues = []
        for name, config in acd.queues.items():
            waiting = acd.waiting_calls(name)
            requirement = requirement_at_step(config, (), 0)
            states = {s.value: 0 for s in AgentState}
            for agent in acd.agents.values():
                if requirement.satisfied_by(agent.config.skills, agent.config.groups):
                    states[agent.state.value] += 1
            row = by_queue.get(name)
            f = row.figures if row is not None else None
            queues.append(QueueRow(
                name=name, waiting=len(waiting),
                longest_wait=max((now - c.arrived_at for c in waiting), default=0.0),
                sl_target=config.sl_target, sl_seconds=config.sl_seconds,
                offered=f.offered if f else 0, answered=f.answered if f else 0,
                abandoned=f.abandoned if f else 0, short_abandons=f.short_abandons if f else 0,
                service_level=f.service_level if f else None, asa=f.asa if f else None, agents=states,
                callbacks_held=held.get(name, 0),
            ))
        agents = []
        for agent in sorted(acd.agents.values(), key=lambda a: a.id):
            current = next(iter(agent.calls.values()), None)
            pending = "logout" if agent.logout_pending else agent.pause_pending
            agents.append(AgentRow(
                id=agent.id, name=agent.config.name or agent.id, state=agent.state.value,
                in_state=now - agent.state_since, pause_reason=agent.pause_reason,
                call_id=current.id if current else "", call_queue=current.queue if current else "",
                calls_today=per_agent.get(agent.id, 0), pending=pending,
            ))
        waiting_rows = [
            WaitingRow(c.id, c.queue, c.priority, c.tier, now - c.arrived_at, acd.position(c.id))
            for c in acd.waiting_calls()
        ]
        alerts = alerts_for(
            (QueueFigures(q.name, q.offered, q.service_level, q.sl_target, q.longest_wait) for q in queues),
            long_wait=self.settings.long_wait_alert, min_offered=self.settings.sl_alert_min_offered,
        )
        return Wallboard(
            at=now, day_start=report.start, queues=queues, agents=agents, waiting=waiting_rows,
            series=report.series, sl_target=self.standards.sl_target, alerts=alerts,
        )

    async def check_alerts(self) -> list[Alert]:
        """Recompute the alerts; push a `wallboard_alert` event for each raised or cleared one."""
        board = await self.view()
        raised, cleared = changes(self.alerts, board.alerts)
        self.alerts = board.alerts
        for alert, state in [*((a, "raised") for a in raised), *((a, "cleared") for a in cleared)]:
            log.warning("wallboard alert %s: %s %s (%.2f against %.2f)", state, alert.queue, alert.kind,
                        alert.value, alert.threshold)
            self.publisher.publish(LiveEvent(ALERT_EVENT, {"state": state, **alert.to_dict()}))
        return self.alerts

    # -- supervisor actions (the caller audits) --------------------------------------------

    def force(self, agent_id: str, action: str, reason: str) -> dict[str, Any]:
        """Force a pause (now, or after the agent's calls) or a logout (after its calls)."""
        acd = self.acd
        if action == "pause":
            acd.pause_when_free(agent_id, reason or "supervisor")
        else:
            acd.logout(agent_id, when_free=True)
        agent = acd.agent(agent_id)
        return {"state": agent.state.value, "pause_reason": agent.pause_reason,
                "pending": "logout" if agent.logout_pending else agent.pause_pending}

    def call_state(self, call_id: str) -> dict[str, Any]:
        call = self.acd.call(call_id)
        return {"queue": call.queue, "priority": call.priority, "state": call.state.value,
                "position": self.acd.position(call_id) if call.state is CallState.QUEUED else 0}


async def audit(store: Store, actor: Actor, action: str, target: str, before: dict[str, Any],
                after: dict[str, Any]) -> None:
    await store.accounts.record(actor, action, target, before=before, after=after)


def alerts_ctx(service: WallboardService) -> Callable[[web.Application], AsyncIterator[None]]:
    """Check the alerts every `check_interval` seconds while the server runs."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        unsubscribe = service.acd.subscribe(service.on_call_event, CALL_EVENTS)

        async def loop() -> None:
            while True:
                await asyncio.sleep(service.settings.check_interval)
                try:
                    await service.check_alerts()
                except Exception:  # the store may be down for a while: keep checking
                    log.exception("wallboard alert check failed")

        task = asyncio.create_task(loop(), name="wallboard-alerts")
        try:
            yield
        finally:
            unsubscribe()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    return ctx
