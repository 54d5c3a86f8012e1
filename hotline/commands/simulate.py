"""`hotline simulate CONFIG.yaml`: run a staffing simulation and print what it measured."""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from acd.events import Event, Subscriber
from acd.simulation import Report, Simulation, SimulationConfig, parse_simulation
from acd.simulation.eventlog import EventAnnotator
from acd.simulation.report import QueueReport
from hotline.config import ConfigError, read_yaml
from hotline.console import report_console

if TYPE_CHECKING:
    from casestore.simulation import PersistReport


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="simulate a hotline (traffic, agents, queues) and report service level, ASA, ...",
        description="Discrete-event simulation of the ACD with generated callers and agents. "
        "The config format is described in docs/simulation.md.",
    )
    parser.add_argument("config", type=Path, help="simulation config (YAML)")
    parser.add_argument("--seed", type=int, help="random seed (overrides the config's)")
    parser.add_argument("--duration", type=float, help="seconds to measure (overrides the config's)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    parser.add_argument(
        "--events", type=Path, metavar="FILE", help="write every event as one JSON line to FILE"
    )
    parser.add_argument(
        "--store", metavar="URL", help="persist every simulated call into this case store (casestore)"
    )
    parser.add_argument(
        "--speed", type=float, metavar="X",
        help="with --store: simulated seconds per wall-clock second (default: as fast as the store takes it)",
    )
    parser.add_argument(
        "--announce-all", action="store_true",
        help="judge the expected-wait estimates in every queue, not only those with `announce`",
    )
    parser.add_argument(
        "--compare-aging", action="store_true",
        help="run again with every queue's aging off and show the waits per priority of both runs",
    )
    parser.set_defaults(handler=run)


def load(path: Path) -> SimulationConfig:
    return parse_simulation(read_yaml(path), str(path))


def event_writer(out: IO[str]) -> Subscriber:
    annotate = EventAnnotator()
    dumps = json.dumps

    def write(event: Event) -> None:
        out.write(dumps(annotate(event)) + "\n")

    return write


def run(args: argparse.Namespace) -> int:
    err = Console(stderr=True)
    try:
        config = load(args.config)
        if args.duration is not None and args.duration <= 0:
            raise ConfigError("--duration must be positive")
        config = config.with_overrides(seed=args.seed, duration=args.duration,
                                       announce_all=True if args.announce_all else None)
    except ConfigError as exc:
        print(f"hotline simulate: error: {exc}", file=sys.stderr)
        return 2
    if args.compare_aging and args.store:
        print("hotline simulate: error: --compare-aging cannot be used with --store", file=sys.stderr)
        return 2
    if args.speed is not None and (args.store is None or not args.speed > 0):
        print("hotline simulate: error: --speed needs --store and a positive number", file=sys.stderr)
        return 2
    subscribers: list[Subscriber] = []  # other writers (a case store, say) attach here
    events_file: IO[str] | None = None
    if args.events is not None:
        try:
            events_file = args.events.open("w", encoding="utf-8")
        except OSError as exc:
            print(f"hotline simulate: error: {args.events}: cannot write: {exc.strerror}", file=sys.stderr)
            return 2
        subscribers.append(event_writer(events_file))
    show_progress = sys.stdout.isatty() and not args.json
    stored = None
    without_aging: Report | None = None
    try:
        started = time.perf_counter()
        if args.store:
            outcome = asyncio.run(_simulate_into_store(args, config, subscribers, show_progress, err))
            if isinstance(outcome, int):
                return outcome
            report, stored = outcome
        else:
            simulation = Simulation(config, subscribers=subscribers)
            with _progress(show_progress, err) as progress:
                report = simulation.run(progress)
        wall = time.perf_counter() - started
        without_aging = Simulation(config.with_overrides(without_aging=True)).run() if args.compare_aging else None
    finally:
        if events_file is not None:
            events_file.close()
    if stored is not None:
        err.print(
            f"stored {stored.completed} completed calls ({stored.calls} arrived, run {stored.run_id}) "
            f"in {stored.seconds:.2f} s, simulation and writing together: {stored.calls_per_second:,.0f} calls/s; "
            f"writer: {stored.batches} batches, max backlog {stored.max_backlog} events (bound {stored.bound}), "
            f"waited for it {stored.waits} times ({stored.wait_seconds:.2f} s)",
            highlight=False,
        )
    if args.json:
        data = report.to_dict()
        data["wall_seconds"] = wall
        if without_aging is not None:
            data["without_aging"] = {"priorities": [p.to_dict() for p in without_aging.priorities],
                                     "overall": without_aging.overall.to_dict()}
        if stored is not None:
            data["store"] = stored.to_dict()
        try:
            json.dump(data, sys.stdout, indent=2)
            sys.stdout.write("\n")
            sys.stdout.flush()
        except BrokenPipeError:  # `| head`: the reader has what it wanted
            return 0
    else:
        console = report_console()
        render(report, wall, console)
        render_extras(report, without_aging, console)
    return 0


def render_extras(report: Report, without_aging: Report | None, console: Console) -> None:
    """Waits per priority (beside the run without aging when asked) and the estimate band."""
    if report.priorities:
        title = "Waits per priority" + (" (with aging | without)" if without_aging is not None else "")
        table = Table(title=title)
        for column in ("Priority", "Answered", "Aband.", "Mean wait", "P90 wait", "Longest"):
            table.add_column(column, justify="right")
        others = {p.priority: p for p in without_aging.priorities} if without_aging is not None else {}
        for p in report.priorities:
            other = others.get(p.priority)

            def both(mine: float | None, theirs: float | None) -> str:
                return _secs(mine) if without_aging is None else f"{_secs(mine)} | {_secs(theirs)}"

            table.add_row(
                str(p.priority),
                str(p.answered) if other is None else f"{p.answered} | {other.answered}",
                str(p.abandoned) if other is None else f"{p.abandoned} | {other.abandoned}",
                both(p.mean_wait, other.mean_wait if other else None),
                both(p.p90_wait, other.p90_wait if other else None),
                both(p.longest_wait, other.longest_wait if other else None),
            )
        console.print(table)
    if report.estimates:
        table = Table(title="Expected wait told vs real (seconds)")
        for column in ("Queue", "Told", "Bias", "Median |err|", "P80 |err|", "P95 |err|", "Within margin",
                       "Margin", "Announces"):
            table.add_column(column, justify="left" if column == "Queue" else "right")
        for e in report.estimates:
            table.add_row(
                e.queue, str(e.samples), _secs(e.bias), _secs(e.p50_abs_error), _secs(e.p80_abs_error),
                _secs(e.p95_abs_error), _pct(e.within_margin), f"{e.margin:g} s",
                "wait + position" if e.announces_wait else "position only",
            )
        console.print(table)


@contextmanager
def _progress(show: bool, console: Console) -> Iterator[Callable[[float], None] | None]:
    """A progress bar on a terminal (None otherwise)."""
    if not show:
        yield None
        return
    with Progress(
        TextColumn("simulating"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(), console=console, transient=True,
    ) as progress:
        task = progress.add_task("simulate", total=1.0)
        yield lambda done: progress.update(task, completed=done)


def _stop_on_signals() -> list[str]:
    """Cancel the running task on SIGINT/SIGTERM; the returned list names the signal once one came."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    stopped: list[str] = []

    def stop(name: str) -> None:
        stopped.append(name)
        if task is not None:
            task.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop, sig.name)
    return stopped


async def _simulate_into_store(
    args: argparse.Namespace,
    config: SimulationConfig,
    subscribers: list[Subscriber],
    show_progress: bool,
    err: Console,
) -> tuple[Report, PersistReport] | int:
    """Open the store first (exit 2 if that fails: nothing simulated), then stream the run
    into it (exit 1 if the store fails during the run)."""
    from casestore import CaseStoreError
    from casestore.simulation import SimulationRecorder

    recorder = SimulationRecorder(args.store)
    opened = False
    stopped = _stop_on_signals()  # Ctrl-C / SIGTERM: the run's open calls are closed first
    try:
        async with recorder.open() as store:
            opened = True
            simulation = Simulation(config, subscribers=[*subscribers, recorder.on_event])
            with _progress(show_progress, err) as progress:
                return await recorder.stream(simulation, store, speed=args.speed, progress=progress)
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if not stopped or task is None:
            raise
        task.uncancel()
        try:
            closed = await recorder.close_open_calls()
        except (CaseStoreError, OSError, TimeoutError) as exc:
            print(f"hotline simulate: stopped by {stopped[0]}; the run's open calls stay open ({exc}): "
                  "close them with `hotline db close-orphans --source simulation`", file=sys.stderr)
            return 130
        print(f"hotline simulate: stopped by {stopped[0]}; run {recorder.run_id}: "
              f"{closed} open calls closed as interrupted", file=sys.stderr)
        return 130
    except CaseStoreError as exc:
        if not opened:
            print(f"hotline simulate: error: --store: cannot open the case store: {exc}", file=sys.stderr)
            return 2
        err.print(f"[red]error:[/red] --store: {exc}", highlight=False)
        return 1


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def _row(q: QueueReport) -> list[str]:
    target = "-"
    if q.sl_seconds is not None and q.sl_target is not None:
        target = f"{100 * q.sl_target:g}%/{q.sl_seconds:g}s"
    return [
        q.name, str(q.offered), str(q.answered), str(q.abandoned), _pct(q.service_level), target,
        _secs(q.asa), _pct(q.p_wait), _pct(q.abandon_rate), _pct(q.occupancy),
    ]


def render(report: Report, wall: float, console: Console) -> None:
    console.print(
        f"[bold]{report.name}[/bold]  seed {report.seed}, warm-up {report.warmup:g} s, "
        f"measured {report.duration:g} s; {report.arrivals} calls simulated in {wall:.2f} s "
        f"({report.arrivals / wall if wall > 0 else 0:,.0f} calls/s)",
        highlight=False,
    )
    table = Table(title="Queues")
    for column in ("Queue", "Offered", "Answered", "Aband.", "SL", "SL target", "ASA",
                   "P(wait)", "Aband. %", "Occup."):
        table.add_column(column, justify="left" if column == "Queue" else "right")
    for q in report.queues:
        table.add_row(*_row(q))
    table.add_section()
    table.add_row(*_row(report.overall), style="bold")
    console.print(table)
    groups = Table(title="Agent groups")
    for column in ("Group", "Agents", "Staffed hours", "Occupancy"):
        groups.add_column(column, justify="left" if column == "Group" else "right")
    for g in report.groups:
        groups.add_row(g.name, str(g.agents), f"{g.staffed_hours:.1f}", _pct(g.occupancy))
    console.print(groups)
    unfinished = report.overall.unfinished
    if unfinished:
        console.print(f"[yellow]{unfinished} counted calls were still waiting when the run stopped[/yellow]")
    theory = report.overall.erlang
    if theory is not None:
        measured = report.overall
        erl = Table(
            title=f"Erlang C (M/M/{theory.agents}: {theory.arrival_rate * 3600:g} calls/h, "
            f"AHT {theory.aht:g} s, load {theory.load:.2f} erlangs)"
        )
        for column in ("Figure", "Measured", "± 1 s.e.", "Erlang C", "Difference"):
            erl.add_column(column, justify="left" if column == "Figure" else "right")
        errors = measured.standard_errors or {}
        for label, key, value, expected, show in (
            ("P(wait)", "p_wait", measured.p_wait, theory.p_wait, _pct),
            ("ASA", "asa", measured.asa, theory.asa, _secs),
            (f"Service level ({theory.sl_seconds:g} s)", "service_level",
             measured.service_level, theory.service_level, _pct),
        ):
            se = errors.get(key)
            gap = "-"
            if se and value is not None and math.isfinite(expected):
                gap = f"{(value - expected) / se:+.1f} s.e."
            erl.add_row(label, show(value), show(se), show(expected), gap)
        erl.add_row("Occupancy", _pct(measured.occupancy), "", _pct(theory.occupancy), "")
        console.print(erl)
        console.print(
            "s.e.: standard error by batch means over the measured window; differences within "
            "about 2 s.e. are what chance gives.",
            highlight=False,
        )
