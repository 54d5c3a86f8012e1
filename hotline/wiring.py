"""Builds a running Hotline from its configuration: the one place adapters meet the core.

`build_app` wires, in start order (aiohttp `cleanup_ctx`, each under a typed `AppKey`):

1. the ACD core (agents from the config, logged out until they log in or their phone says so),
   and the web room (`hotline.web.setup`: accounts, API routes, pages, live events),
2. the IVR menu registry (menus from `ivr.menus` checked; a broken menu refuses the start),
3. the ACD's durability (`state`; docs/state.md): restored from the local journal and
   journaled (default), or one fenced leader on Redis (`mode: cluster`),
4. the case store (`store`; schema checked, orphaned calls closed except those the ACD
   restored, writer subscribed), then the queues and agents, the menus and the emergency
   override kept in it,
   the service process (`service`, `messaging`, `smtp`: routing, escalation, customer
   messages; docs/service.md), the first-run check (no admin yet: a one-time setup link on the console),
   and its backup schedule (`backup`, when `serve` is true; docs/backup.md),
5. the speech recognizer (`speech`; models loaded once, off the event loop),
6. the Asterisk adapter (`asterisk`, unless `enabled: false`),
7. the Twilio webhooks (`twilio`, when `enabled: true`).

Operations (docs/operations.md): `/healthz` and `/readyz` with one check per configured
dependency (`hotline.health`), `/metrics` reading the same objects (`hotline.metrics`), and
the call tracker that puts agent ids on log lines (`hotline.logs`).

Tests call `build_app` with their own clock, store URL and Twilio HTTP client.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any, cast

from aiohttp import web
from twilio.http import AsyncHttpClient

from acd.clock import AsyncioClock, Clock
from acd.engine import Acd
from casestore.backup.settings import BackupConfigError, BackupSettings, parse_backup_settings
from casestore.settings import store_settings
from casestore.store import attached_store
from hotline.cluster import (
    CLUSTER_KEY,
    LeaderOnly,
    LeaderWriterSource,
    add_cluster_routes,
    cluster_ctx,
)
from hotline.config import ConfigError, HotlineConfig
from hotline.customer_directory import StoreDirectory
from hotline.durability import RESTORED_KEY, acd_state_ctx, journal_folder, menus_ctx
from hotline.health import (
    Check,
    add_health_routes,
    asterisk_check,
    menus_check,
    redis_check,
    store_check,
)
from hotline.logs import CallAgents, call_agents
from hotline.metrics import setup_metrics, webhook_middleware
from hotline.phone import set_default_region
from hotline.queue_log import FileSink, QueueLog
from hotline.service_process.follow_up_calls import FollowUpCalls
from hotline.service_process.wiring import SERVICE_KEY, follow_up_queue, service_cleanup_ctx
from hotline.web.acd_admin.service import acd_config_ctx
from hotline.web.base.keys import ACD_KEY, CONFIG_KEY, EMERGENCY_KEY, STORE_KEY
from hotline.web.calls.routes import RECORDING_CONTROLS_KEY, setup_recording_controls
from hotline.web.emergency.service import emergency_ctx
from hotline.web.menus.service import MENU_FILES_KEY, MENUS_KEY, check_menu_files
from hotline.web.setup import setup_web
from hotline.web.wallboard.routes import WALLBOARD_KEY
from hotline.web.wallboard.service import alerts_ctx
from ivr.emergency import EmergencyState
from ivr.registry import MenuRegistry
from ivr.settings import IvrConfigError, parse_ivr_settings
from state.cluster import ScopedClock
from state.errors import StateConfigError
from state.service import STATE_KEY, state_cleanup_ctx
from state.settings import parse_durability

log = logging.getLogger("hotline")
QUEUE_LOG_KEY = web.AppKey("queue_log", QueueLog)

__all__ = ["STORE_KEY", "build_acd", "build_app"]


def build_acd(config: HotlineConfig, clock: Clock) -> Acd:
    acd = Acd(
        clock,
        config.queues,
        pause_on_ring_no_answer=config.acd.pause_on_ring_no_answer,
        occupancy_window=config.acd.occupancy_window,
    )
    for agent in config.agents:
        acd.add_agent(agent)
    return acd


def queue_log_ctx(acd: Acd, path: Path) -> Callable[[web.Application], AsyncIterator[None]]:
    """While the app runs, Asterisk-format queue_log lines from the ACD's events (hotline/queue_log.py)."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        try:
            sink = FileSink(path)
        except OSError as exc:
            raise ConfigError(f"acd.queue_log: cannot open {path}: {exc.strerror}") from exc
        writer = app[QUEUE_LOG_KEY] = QueueLog(acd, sink)
        yield
        writer.close()
        await asyncio.to_thread(sink.close)

    return ctx


def track_calls(acd: Acd) -> Callable[[web.Application], AsyncIterator[None]]:
    """While the app runs, log lines naming a call get the agent the ACD gave it."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        unsubscribe = acd.subscribe(call_agents(), CallAgents.KINDS)
        yield
        unsubscribe()

    return ctx


def _enabled(section: Mapping[str, Any], default: bool) -> tuple[bool, dict[str, Any]]:
    """Split the wiring-level `enabled:` switch from an adapter's own settings."""
    rest = dict(section)
    flag = rest.pop("enabled", default)
    if not isinstance(flag, bool):
        raise ConfigError("'enabled' must be true or false")
    return flag, rest


def check_menu_names(config: HotlineConfig, known: list[str]) -> None:
    """Every menu the configuration names (ivr, asterisk, twilio) is one the menu files define."""
    named: list[tuple[str, object]] = [("ivr.default_menu", config.section("ivr").get("default_menu"))]
    for section in ("ivr", "asterisk", "twilio"):
        numbers = config.section(section).get("numbers" if section != "asterisk" else "menus") or {}
        key = "numbers" if section != "asterisk" else "menus"
        named += [(f"{section}.{key}.{number}", name) for number, name in numbers.items()]
    named += [(f"{s}.menu", config.section(s).get("menu")) for s in ("asterisk", "twilio")]
    unknown = [f"{key}: no menu file defines {name!r}" for key, name in named
               if isinstance(name, str) and name and name not in known]
    if unknown:
        have = ", ".join(known) or "none (ivr.menus lists no file)"
        raise ConfigError(f"{config.path}: " + f"\n{config.path}: ".join(unknown) + f" (menus: {have})")


def _calls_in_ivr(app: web.Application) -> list[str]:
    """The calls in this node's FastAGI IVR now (cluster mode)."""
    from hotline.cluster_agi import FRONT_KEY

    front = app.get(FRONT_KEY)
    return [] if front is None else [k for k, run in front.runs.items() if not run.done.is_set()]


def _cluster_ops(app: web.Application) -> Any:
    """Where a Twilio webhook's ACD operations run: here while leading, else on the leader."""
    from hotline.cluster_twilio import ClusterOps

    return ClusterOps(lambda: app[CLUSTER_KEY])


def _backup_settings(config: HotlineConfig) -> BackupSettings | None:
    base = config.path.resolve().parent if config.path is not None else None
    try:
        return parse_backup_settings(config.section("backup"), base)
    except BackupConfigError as exc:
        raise ConfigError(f"{config.path}: {exc}") from exc


def build_app(
    config: HotlineConfig,
    *,
    clock: Clock | None = None,
    store_url: str | None = None,
    twilio_http_client: AsyncHttpClient | None = None,
    speech: bool = True,
    asterisk: bool = True,
    announce: Callable[[str], None] | None = None,
) -> web.Application:
    clock = clock or AsyncioClock()
    set_default_region(config.country)
    try:
        durability = parse_durability(config.section("state"))
    except StateConfigError as exc:
        raise ConfigError(f"{config.path}: {exc}") from exc
    cluster = durability.mode == "cluster"
    acd_clock = ScopedClock(clock) if cluster else clock  # a demoted leader drops its timers
    app = web.Application(client_max_size=1024 * 1024)
    app[CONFIG_KEY] = config
    acd = app[ACD_KEY] = build_acd(config, acd_clock)
    leader_only = LeaderOnly()  # adapters run by the cluster's leader only
    emergency = app[EMERGENCY_KEY] = EmergencyState()
    room = setup_web(app, config, acd, clock.now, announce=announce)
    setup_recording_controls(app)
    metrics = setup_metrics(app, acd)
    app.cleanup_ctx.append(track_calls(acd))
    if config.acd.queue_log is not None:
        if cluster:
            raise ConfigError(f"{config.path}: acd.queue_log is not supported with state.mode cluster yet")
        app.cleanup_ctx.append(queue_log_ctx(acd, config.resolve(config.acd.queue_log)))

    try:
        ivr_config = parse_ivr_settings(config.section("ivr"))
    except IvrConfigError as exc:
        raise ConfigError(f"{config.path}: {exc}") from exc
    registry = MenuRegistry(clock, queues=acd.queues.keys())  # live: queues added on the admin page count
    menu_files = [config.resolve(p) for p in ivr_config.menus]
    checked = check_menu_files(registry, menu_files)
    check_menu_names(config, sorted({r.menu.name for r in checked if r.menu is not None}))
    app[MENUS_KEY] = registry
    app[MENU_FILES_KEY] = menu_files
    ready: dict[str, Check] = {
        "store": store_check(STORE_KEY), "menus": menus_check(MENUS_KEY, ivr_config.default_menu),
    }

    try:
        settings = store_settings(config, store_url)
    except ValueError as exc:  # StoreConfigError names the file already
        raise ConfigError(str(exc)) from exc
    if durability.mode == "publish" and durability.redis is not None:  # events to a Redis Stream
        app.cleanup_ctx.append(state_cleanup_ctx(durability.redis, acd))
        ready["redis"] = redis_check(STATE_KEY)
        metrics.watch_state(lambda: app.get(STATE_KEY))
    elif durability.mode == "local":
        folder = journal_folder(durability, settings, lambda p: config.resolve(p))
        app.cleanup_ctx.append(acd_state_ctx(durability, acd, folder, lambda app: app[STORE_KEY]))
    asterisk_on, asterisk_raw = _enabled(config.section("asterisk"), bool(config.section("asterisk")))
    twilio_on, twilio_raw = _enabled(config.section("twilio"), False)
    # Calls left open by a previous run are closed at start, only those of this server's own
    # sources (a shared database keeps another writer's live calls; docs/casestore.md), and
    # not those the ACD restored; in a cluster the leader's writer owns the open calls.
    sources = settings.sources
    if sources is None:
        sources = tuple(name for name, on in (("asterisk", asterisk_on and asterisk), ("twilio", twilio_on)) if on)
    agent_ids = [a.id for a in config.agents]

    async def store_ctx(app: web.Application) -> AsyncIterator[None]:
        restored = app.get(RESTORED_KEY)
        source = LeaderWriterSource(acd, lambda: app[CLUSTER_KEY].leader) if cluster else acd
        async with attached_store(
            settings, source, clock=clock.now, sources=sources, agents=agent_ids,
            close_orphans=not cluster,
            recovered=restored.tail if restored else (),
            keep_calls=restored.calls if restored else (),
            keep_agents=restored.agents if restored else (),
        ) as store:
            app[STORE_KEY] = store
            yield

    app.cleanup_ctx.append(store_ctx)
    metrics.watch_store(lambda: getattr(app.get(STORE_KEY), "writer_instance", None))

    backup_conf = _backup_settings(config)
    if backup_conf is not None and backup_conf.serve:  # the backup schedule (docs/backup.md)
        from hotline.backup_service import backup_cleanup_ctx

        app.cleanup_ctx.append(backup_cleanup_ctx(backup_conf, lambda app: app[STORE_KEY]))
    if cluster:  # one fenced ACD leader on Redis (docs/state.md)
        add_cluster_routes(app)
        app.cleanup_ctx.append(
            cluster_ctx(durability, acd, cast(ScopedClock, acd_clock), leader_only,
                        lambda app: app[STORE_KEY].writer_instance, in_ivr=_calls_in_ivr)
        )
    # queues and agents edited live, kept in the store (the file's are the first import)
    app.cleanup_ctx.append(acd_config_ctx(config, acd, clock.now,
                                          leader=(lambda app: app[CLUSTER_KEY].leader) if cluster else None))
    app.cleanup_ctx.append(menus_ctx(registry, menu_files, clock, lambda app: app[STORE_KEY]))
    # the emergency override: stored with its audit, restored, followed from other nodes (web/emergency)
    app.cleanup_ctx.append(emergency_ctx)
    app.cleanup_ctx.append(alerts_ctx(app[WALLBOARD_KEY]))  # wallboard alerts, checked periodically
    # the service process after the call: needs the store (docs/service.md)
    app.cleanup_ctx.append(service_cleanup_ctx(config, clock, twilio_http_client=twilio_http_client))
    if room.first_run_ctx is not None:  # needs the store: no admin yet -> one-time setup link
        app.cleanup_ctx.append(room.first_run_ctx)

    from speech.service import SPEECH_KEY, speech_cleanup_ctx, speech_settings

    try:
        speech_conf = speech_settings(config) if speech else None
    except ValueError as exc:
        raise ConfigError(f"{config.path}: {exc}") from exc
    if speech_conf is not None:
        app.cleanup_ctx.append(speech_cleanup_ctx(speech_conf))

    def recognizer(app: web.Application) -> Any:
        return metrics.speech.wrap(app.get(SPEECH_KEY))

    if asterisk_on and asterisk:
        from asterisk.service import ASTERISK_KEY, AsteriskService, cleanup_ctx
        from asterisk.settings import parse_settings

        try:
            asterisk_settings = parse_settings(asterisk_raw, base=config.resolve("."))
        except ValueError as exc:
            raise ConfigError(f"{config.path}: {exc}") from exc

        def asterisk_service(app: web.Application, **mode: Any) -> AsteriskService:
            store = app[STORE_KEY]
            return AsteriskService(
                asterisk_settings, acd, registry, clock=clock, recognizer=recognizer(app),
                writer=store.writer_instance, recordings=store.recordings,
                directory=StoreDirectory(store.cases), emergency=emergency,
                ivr_settings=ivr_config.run,
                before_action=(lambda: app[CLUSTER_KEY].persisted()) if cluster else None, **mode,
            )

        if cluster:  # FastAGI and the IVR on every node, AMI and call control on the leader
            from hotline.cluster_agi import FRONT_KEY, ClusterHandover, front_check

            handover = ClusterHandover(lambda: app[CLUSTER_KEY], lambda: app.get(ASTERISK_KEY))

            async def asterisk_front(app: web.Application) -> AsyncIterator[None]:
                front = app[FRONT_KEY] = asterisk_service(app, handover=handover, serve_ami=False)
                await front.start()
                try:
                    yield
                finally:
                    await front.stop()
                    await handover.close()

            app.cleanup_ctx.append(asterisk_front)
            leader_only.contexts.append(cleanup_ctx(lambda app: asterisk_service(app, serve_agi=False)))
        else:
            app.cleanup_ctx.append(cleanup_ctx(asterisk_service))

        async def asterisk_recordings(app: web.Application) -> AsyncIterator[None]:
            from asterisk.callback import CALLBACK_SOURCE

            app[RECORDING_CONTROLS_KEY]["asterisk"] = app[ASTERISK_KEY]
            app[RECORDING_CONTROLS_KEY][CALLBACK_SOURCE] = app[ASTERISK_KEY]  # callbacks' ACD source
            if QUEUE_LOG_KEY in app:  # who hung up first: COMPLETEAGENT / COMPLETECALLER
                writer = app[QUEUE_LOG_KEY]
                app[ASTERISK_KEY].control.hangups.on_ended_by = lambda call_id, agent: writer.hung_up_by(
                    call_id, agent=agent)
            queue = follow_up_queue(config)
            if SERVICE_KEY in app and queue is not None:  # Hotline dials follow-up tasks (issue 15)
                app[SERVICE_KEY].follow_up_calls = FollowUpCalls(
                    app[SERVICE_KEY].outreach, app[ASTERISK_KEY].control.callbacks, queue)
            yield

        (leader_only.contexts if cluster else app.cleanup_ctx).append(asterisk_recordings)
        ready["asterisk"] = asterisk_check(ASTERISK_KEY)
        if cluster:  # a follower is ready with its FastAGI front; the leader also needs AMI
            leader_check = ready["asterisk"]

            async def cluster_asterisk(app: web.Application) -> str | None:
                if app[CLUSTER_KEY].leader:
                    return await leader_check(app)
                return front_check(app)

            ready["asterisk"] = cluster_asterisk
        metrics.watch_asterisk(lambda: app.get(ASTERISK_KEY))

        prompts_dir = asterisk_settings.prompts_dir
        if prompts_dir is not None:

            async def emergency_prompts(app: web.Application) -> AsyncIterator[None]:
                from prompts.emergency import render_announcements
                from prompts.on_activation import render_on_activation

                unsubscribe, running = render_announcements(emergency, prompts_dir)
                active = [m for m in (registry.active(n) for n in registry.names()) if m is not None]
                unsubscribe_menus, building = render_on_activation(registry, prompts_dir, active=active)
                yield
                unsubscribe()
                unsubscribe_menus()
                for task in [*running, *building]:
                    task.cancel()

            app.cleanup_ctx.append(emergency_prompts)
    if twilio_on:
        from twilio_gateway.app import setup_twilio
        from twilio_gateway.settings import parse_twilio_settings

        try:
            twilio_settings = parse_twilio_settings(twilio_raw)
        except ValueError as exc:
            raise ConfigError(f"{config.path}: {exc}") from exc
        if twilio_settings is not None:
            app.middlewares.append(webhook_middleware(metrics, twilio_settings.path_prefix))
            room.csrf_exempt.append(twilio_settings.path_prefix)  # signed by Twilio, no cookies
        setup_twilio(
            app, twilio_settings, acd, registry,
            recognizer=recognizer, writer=lambda app: app[STORE_KEY].writer_instance,
            recordings=lambda app: app[STORE_KEY].recordings,
            http_client=twilio_http_client, clock=clock, emergency=emergency,
            directory=lambda app: StoreDirectory(app[STORE_KEY].cases), ivr_config=ivr_config,
            # cluster: every node serves the webhooks, the ACD's operations run on the leader
            acting=(lambda: app[CLUSTER_KEY].leader) if cluster else None,
            ops=_cluster_ops if cluster else None,
        )
    add_health_routes(app, ready)
    return app
