"""`hotline cases overdue`: cases past their SLA due time."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from rich.console import Console
from rich.table import Table

from casestore import CaseStoreError, CaseView, StoreConfigError, open_store
from casestore.settings import StoreSettings, settings_for_cli
from hotline.config import ConfigError
from hotline.console import report_console


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("cases", help="case reports")
    sub = parser.add_subparsers(dest="cases_command", required=True, metavar="REPORT")
    overdue = sub.add_parser("overdue", help="open or in-progress cases past their SLA due time")
    overdue.add_argument("--url", help="database URL (default: store.url in the config)")
    overdue.add_argument("--config", default="config/hotline.yaml", help="configuration file")
    overdue.add_argument("--limit", type=int, default=200, help="at most this many cases (default 200)")
    overdue.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    overdue.set_defaults(handler=run_overdue)


async def _overdue(settings: StoreSettings, now: float, limit: int) -> list[CaseView]:
    async with open_store(settings) as store:
        return await store.cases.overdue(now=now, limit=limit)


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    return f"{hours // 24} d {hours % 24} h"


def run_overdue(args: argparse.Namespace) -> int:
    err = Console(stderr=True)
    now = time.time()
    try:
        cases = asyncio.run(_overdue(settings_for_cli(args.config, args.url), now, args.limit))
    except (CaseStoreError, StoreConfigError, ConfigError) as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        return 1
    if args.json:
        for case in cases:
            sys.stdout.write(json.dumps({
                "number": case.number, "category": case.category, "priority": case.priority,
                "status": case.status, "due_at": case.due_at, "overdue_seconds": case.overdue_by(now),
                "assigned_agent": case.assigned_agent,
            }) + "\n")
        return 0
    table = Table(title=f"{len(cases)} overdue cases")
    for column in ("Case", "Category", "Priority", "Status", "Due (UTC)", "Overdue by", "Agent"):
        table.add_column(column, justify="right" if column == "Overdue by" else "left")
    for case in cases:
        table.add_row(
            case.number, case.category, case.priority, case.status,
            time.strftime("%Y-%m-%d %H:%M", time.gmtime(case.due_at)), _duration(case.overdue_by(now)),
            case.assigned_agent or "-",
        )
    report_console().print(table)
    return 0
