"""Wires the service process on the application once the store is open: its config
sections (`service`, `messaging`, `smtp`), the senders, live notices to the assignee, and the
background round (route new cases, escalate cases about to miss their due time) on the
injected clock."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web
from twilio.http import AsyncHttpClient

from acd.clock import Clock, Timer
from acd.targeted import TargetedCalls
from casestore.service_process.follow_up_store import FollowUpCallStore
from casestore.service_process.outreach_store import OutreachRepository
from casestore.service_process.routing_store import RoutingRepository, RoutingView
from casestore.service_process.rules import parse_service_rules
from hotline.config import ConfigError, HotlineConfig
from hotline.notify.mail import SmtpMailer
from hotline.notify.settings import MessagingSettings, parse_messaging, parse_smtp
from hotline.notify.sms import TwilioSms
from hotline.service_process.follow_up_calls import DEFAULT_WAIT, FollowUpCalls, FollowUpDialler
from hotline.service_process.process import ServiceProcess
from hotline.web.base.keys import ACD_KEY, STORE_KEY, WEB_KEY
from hotline.web.base.live import LiveEvent

log = logging.getLogger("hotline.service")
SERVICE_KEY = web.AppKey("service_process", ServiceProcess)
ROUND_KEY: web.AppKey[ServiceRound] = web.AppKey("service_round")
MESSAGING_KEY = web.AppKey("messaging_settings", MessagingSettings)
WIRING_KEYS = ("survey_secret", "round_seconds", "follow_up_queue", "follow_up_wait")


class ServiceRound:
    """Every `interval` seconds of the clock: route unrouted cases, escalate, send failed
    customer messages again while they are still due. One round
    at a time; `done` is set after each round (tests wait on it after moving the clock)."""

    def __init__(self, process: ServiceProcess, clock: Clock, interval: float) -> None:
        self.process, self.clock, self.interval = process, clock, interval
        self.timer: Timer | None = None
        self.task: asyncio.Task[None] | None = None
        self.done = asyncio.Event()
        self.rounds = 0

    def start(self) -> None:
        self.timer = self.clock.call_later(self.interval, self._due)

    def _due(self) -> None:
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self.run_once())
        self.timer = self.clock.call_later(self.interval, self._due)

    async def run_once(self) -> None:
        try:
            for number, queue in await self.process.routing.unrouted():
                await self.process.route(number, queue)
            await self.process.escalate()
            await self.process.retry_failed()
        except Exception:  # a failed round is logged; the next one retries
            log.exception("service round failed")
        finally:
            self.rounds += 1
            self.done.set()

    async def stop(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        if self.task is not None:
            await asyncio.gather(self.task, return_exceptions=True)


def _sections(config: HotlineConfig) -> tuple[dict[str, Any], str]:
    where = f"{config.path}: " if config.path else ""
    return dict(config.section("service")), where


def follow_up_queue(config: HotlineConfig) -> str | None:
    """The queue follow-up calls are placed in: `service.follow_up_queue`, or the first queue."""
    raw = config.section("service")
    queue = raw.get("follow_up_queue") if isinstance(raw, dict) else None
    if queue is not None:
        return str(queue)
    return config.queues[0].name if config.queues else None


def follow_up_wait(config: HotlineConfig) -> float:
    """How long a follow-up call waits for the agent who took it: `service.follow_up_wait`."""
    raw = config.section("service")
    wait = raw.get("follow_up_wait") if isinstance(raw, dict) else None
    return DEFAULT_WAIT if wait is None else float(wait)


def attach_follow_ups(
    app: web.Application, config: HotlineConfig, dialler: Callable[[TargetedCalls], FollowUpDialler],
) -> FollowUpDialler | None:
    """Hotline dials follow-up tasks through this channel (the first one attached: Asterisk
    before Twilio). Call from a cleanup context that runs after the service process's."""
    queue = follow_up_queue(config)
    if SERVICE_KEY not in app or queue is None or app[SERVICE_KEY].follow_up_calls is not None:
        return None
    process = app[SERVICE_KEY]
    made = dialler(TargetedCalls(app[ACD_KEY]))
    process.follow_up_calls = FollowUpCalls(
        process.outreach, FollowUpCallStore(app[STORE_KEY].engine, process.clock), made, queue,
        wait=follow_up_wait(config),
    )
    return made


def detach_follow_ups(app: web.Application, made: FollowUpDialler | None) -> None:
    """The channel `made` came from stops (shutdown, a demoted leader): no more follow-ups through it."""
    calls = app[SERVICE_KEY].follow_up_calls if SERVICE_KEY in app else None
    if made is not None and calls is not None and calls.dialler is made:
        app[SERVICE_KEY].follow_up_calls = None
        made.close()


def service_cleanup_ctx(
    config: HotlineConfig, clock: Clock, *, twilio_http_client: AsyncHttpClient | None = None,
) -> Callable[[web.Application], AsyncIterator[None]]:
    raw, where = _sections(config)
    wiring = {k: raw.pop(k) for k in WIRING_KEYS if k in raw}
    try:
        rules = parse_service_rules(raw, f"{where}service")
        messaging = parse_messaging(config.section("messaging"), f"{where}messaging")
        smtp = parse_smtp(config.section("smtp"), f"{where}smtp")
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    secret_text = wiring.get("survey_secret")
    if secret_text is not None and (not isinstance(secret_text, str) or len(secret_text) < 32):
        raise ConfigError(f"{where}service.survey_secret: at least 32 characters")
    interval = wiring.get("round_seconds", 60)
    if isinstance(interval, bool) or not isinstance(interval, int | float) or interval <= 0:
        raise ConfigError(f"{where}service.round_seconds: a positive number of seconds")

    wait = wiring.get("follow_up_wait", DEFAULT_WAIT)
    if isinstance(wait, bool) or not isinstance(wait, int | float) or wait <= 0:
        raise ConfigError(f"{where}service.follow_up_wait: a positive number of seconds")
    queue = wiring.get("follow_up_queue")
    if queue is not None and queue not in {q.name for q in config.queues}:
        raise ConfigError(f"{where}service.follow_up_queue: {queue!r} is not a queue")

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        store, room = app[STORE_KEY], app[WEB_KEY]
        secret = secret_text.encode() if secret_text else secrets.token_bytes(32)
        if not secret_text:
            log.warning("service.survey_secret is not set: survey links sent now stop working at restart")
        sms = None
        if messaging.enabled:
            client = twilio_http_client
            if client is None:
                from twilio.http.async_http_client import AsyncTwilioHttpClient

                client = AsyncTwilioHttpClient(timeout=messaging.timeout)
            sms = TwilioSms(messaging, client)

        def notify(view: RoutingView, why: str) -> None:
            room.live.publish(LiveEvent(
                "work_order", {"case": view.case_number, "team": view.team, "assignee": view.assignee, "why": why},
                agent_id=view.assignee_agent_id or "",
            ))

        process = ServiceProcess(
            cases=store.cases, routing=RoutingRepository(store.engine, rules, clock.now),
            outreach=OutreachRepository(store.engine, clock.now), rules=rules, secret=secret,
            public_url=room.base_url, clock=clock.now, sms=sms, mail=SmtpMailer(smtp) if smtp.enabled else None,
            notify=notify, region=messaging.default_region,
        )
        app[SERVICE_KEY] = process
        app[MESSAGING_KEY] = messaging
        service_round = app[ROUND_KEY] = ServiceRound(process, clock, float(interval))
        service_round.start()
        try:
            yield
        finally:
            await service_round.stop()

    return ctx
