"""`hotline report --from DATE --to DATE`: service-level report of the case store, as a table,
JSON, or an HTML page with PNG plots (`--out DIR`)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from casestore import CaseStoreError, StoreConfigError, open_store
from casestore.report_model import QueueTarget, ServiceReport
from casestore.reports import service_report
from casestore.service_process.reports import ServiceProcessReport, service_process_report
from casestore.settings import StoreSettings, store_settings
from hotline.config import ConfigError, HotlineConfig, load_config
from hotline.console import report_console
from hotline.report_render import COLUMNS, percent, row_cells, utc, verdict, write_report


def parse_when(text: str) -> tuple[datetime, bool]:
    """A date (YYYY-MM-DD) or a date and time (YYYY-MM-DDTHH:MM[:SS]), in UTC unless an offset
    is given; the flag says whether it was a bare date."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC), True
        when = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date (YYYY-MM-DD) or a date and time (YYYY-MM-DDTHH:MM)"
        ) from None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)), False


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "report",
        help="service-level report (SL, ASA, abandons, cases, FCR, satisfaction) with plots",
        description="Service report of the calls started in a range, checked against the hotline "
        "standards. --to is inclusive for a bare date (the whole day), exclusive for a date and time. "
        "Times are UTC unless given with an offset. See docs/reports.md.",
    )
    parser.add_argument("--from", dest="start", required=True, type=parse_when, metavar="DATE")
    parser.add_argument("--to", dest="end", required=True, type=parse_when, metavar="DATE")
    parser.add_argument("--url", help="database URL (default: store.url in the config)")
    parser.add_argument("--config", default="config/hotline.yaml", help="configuration file (queues' service levels, store)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--out", type=Path, metavar="DIR", help="write report.html and the PNG plots into DIR")
    parser.add_argument("--interval", choices=("auto", "hour", "day"), default="auto",
                        help="series resolution (auto: hourly up to 3 days, else daily)")
    parser.set_defaults(handler=run, report_parser=parser)


def _range(args: argparse.Namespace) -> tuple[float, float]:
    (start, _), (end, bare) = args.start, args.end
    if bare:
        end = end + timedelta(days=1)
    if end <= start:
        args.report_parser.error(f"--to ({end.isoformat()}) must be after --from ({start.isoformat()})")
    return start.timestamp(), end.timestamp()


def _settings(args: argparse.Namespace) -> tuple[StoreSettings, dict[str, QueueTarget]]:
    config: HotlineConfig | None = None
    if Path(args.config).exists():
        config = load_config(args.config)
    elif not args.url:
        raise StoreConfigError(f"{args.config}: no such config file; give --url or --config")
    targets = {}
    if config is not None:
        targets = {q.name: QueueTarget(q.sl_seconds, q.sl_target) for q in config.queues}
        return store_settings(config, args.url), targets
    return StoreSettings(url=args.url), targets


async def _query(settings: StoreSettings, start: float, end: float, targets: dict[str, QueueTarget],
                 interval: float | None) -> tuple[ServiceReport, ServiceProcessReport]:
    async with open_store(settings) as store:
        report = await service_report(store.engine, start, end, now=time.time(), targets=targets, interval=interval)
        return report, await service_process_report(store.engine, start, end)


@contextmanager
def _progress(console: Console) -> Iterator[Progress | None]:
    if not console.is_terminal:
        yield None
        return
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        yield progress


def run(args: argparse.Namespace) -> int:
    err = Console(stderr=True)
    start, end = _range(args)
    interval = {"hour": 3600.0, "day": 86400.0}.get(args.interval)
    with _progress(err) as progress:
        task = progress.add_task("querying the case store", total=None) if progress else None
        try:
            settings, targets = _settings(args)
            report, process = asyncio.run(_query(settings, start, end, targets, interval))
        except (CaseStoreError, StoreConfigError, ConfigError) as exc:
            err.print(f"[red]error:[/red] {exc}", highlight=False)
            return 1
        written = []
        if args.out is not None:
            def step(name: str) -> None:
                if progress is not None and task is not None:
                    progress.update(task, description=f"plotting {name}")
            try:
                written = write_report(report, args.out, step)
            except OSError as exc:
                err.print(f"[red]error:[/red] cannot write the report: {exc}", highlight=False)
                return 1
    if report.empty:
        err.print(f"no calls and no cases from {utc(start)} to {utc(end)}; every count is zero", highlight=False)
    if args.json:
        sys.stdout.write(json.dumps({**report.to_dict(), "service_process": process.to_dict()}, indent=2) + "\n")
    else:
        _print(report)
        _print_process(process)
    for path in written:
        err.print(f"wrote {path}", highlight=False)
    return 0


def _print(report: ServiceReport) -> None:
    console = report_console()
    table = Table(title=f"Service report {utc(report.start)} - {utc(report.end)}")
    for column in COLUMNS:
        table.add_column(column, justify="left" if column == "Queue" else "right", no_wrap=column == "Queue")
    for row in report.queues:
        table.add_row(*row_cells(row))
    table.add_row(*row_cells(report.overall), style="bold")
    console.print(table)
    checks = Table(title="Against the standards")
    for column in ("Queue", "Standard", "Value", "Target", "Result"):
        checks.add_column(column)
    for row in (report.overall, *report.queues):
        for c in row.checks(report.standards):
            result = verdict(c)
            style = {"pass": "green", "FAIL": "bold red"}.get(result, "dim")
            checks.add_row(row.queue, c.name.replace("_", " "), percent(c.value), f">= {percent(c.target)}",
                           f"[{style}]{result}[/{style}]")
    console.print(checks)


def _print_process(report: ServiceProcessReport) -> None:
    """The service process after the call: teams, feedback on time, evaluations, follow-ups."""
    console = report_console()
    teams = Table(title="Cases by team")
    for column in ("Team", "Cases", "Resolved", "Escalated"):
        teams.add_column(column, justify="left" if column == "Team" else "right")
    for team, row in report.teams.items():
        teams.add_row(team, str(row["cases"]), str(row["resolved"]), str(row["escalated"]))
    console.print(teams)
    console.print(
        f"Feedback to customers: {report.messages} messages, {report.sent} sent, "
        f"{report.on_time} on time ({percent(report.on_time_rate)})", highlight=False,
    )
    evaluation = Table(title="Evaluations by channel")
    for column in ("Channel", "Invited", "Answered", "Response rate", "Answers", "Average score"):
        evaluation.add_column(column, justify="left" if column == "Channel" else "right")
    for channel in sorted({*report.invitations, *report.scores}):
        sent, answered = report.invitations.get(channel, (0, 0))
        answers, average = report.scores.get(channel, (0, 0.0))
        rate = None if sent == 0 else answered / sent
        evaluation.add_row(channel, str(sent), str(answered), percent(rate), str(answers),
                           f"{average:.2f}" if answers else "-")
    console.print(evaluation)
    follow = ", ".join(f"{k} {v}" for k, v in sorted(report.follow_ups.items())) or "none"
    console.print(f"Follow-up calls: {follow}", highlight=False)
