"""`hotline retention apply [--dry-run]`: anonymise or delete data older than the retention period."""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from casestore import CaseStoreError, StoreConfigError, open_store
from casestore.retention import RetentionReport, apply_retention
from casestore.settings import StoreSettings, settings_for_cli
from hotline.config import ConfigError
from hotline.console import report_console


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("retention", help="apply the data retention period")
    sub = parser.add_subparsers(dest="retention_command", required=True, metavar="ACTION")
    apply = sub.add_parser(
        "apply", help="anonymise or delete calls, customers, notes and recordings past retention"
    )
    apply.add_argument("--dry-run", action="store_true", help="count what would change, change nothing")
    apply.add_argument("--url", help="database URL (default: store.url in the config)")
    apply.add_argument("--config", default="config/hotline.yaml", help="configuration file")
    apply.add_argument("--years", type=float, help="retention period (default: store.retention_years)")
    apply.set_defaults(handler=run)


async def _apply(settings: StoreSettings, years: float, dry_run: bool, console: Console) -> RetentionReport:
    async with open_store(settings) as store:
        with Progress(
            TextColumn("{task.description:<22}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), console=console,
        ) as progress:
            tasks: dict[str, TaskID] = {}

            def update(step: str, done: int, total: int) -> None:
                if step not in tasks:
                    tasks[step] = progress.add_task(step, total=max(total, 1))
                progress.update(tasks[step], completed=done if total else 1, total=max(total, 1))

            return await apply_retention(
                store.engine, store.recordings, retention_years=years, dry_run=dry_run, progress=update
            )


def run(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    try:
        settings = settings_for_cli(args.config, args.url)
        years = args.years if args.years is not None else settings.retention_years
        if years <= 0:
            raise StoreConfigError("--years must be positive")
        report = asyncio.run(_apply(settings, years, args.dry_run, console))
    except (CaseStoreError, StoreConfigError, ConfigError) as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False)
        return 1
    render(report, years, report_console())
    return 0


def render(report: RetentionReport, years: float, console: Console) -> None:
    cutoff = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(report.cutoff))
    verb = "would change (dry run)" if report.dry_run else "changed"
    table = Table(title=f"Retention {years:g} years: data before {cutoff}")
    table.add_column("What")
    table.add_column("Rows " + ("to change" if report.dry_run else "changed"), justify="right")
    for step, count in report.counts.items():
        table.add_row(step, f"{count:,}")
    console.print(table)
    if not report.dry_run:
        console.print(f"recordings: {report.bytes_freed:,} bytes freed, {report.missing_files} files already gone")
    console.print(f"{sum(report.counts.values()):,} rows {verb}")
