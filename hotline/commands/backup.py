"""`hotline backup`, `hotline backup list|verify|run-schedule` and `hotline restore`:
backups of the case store and its recordings (docs/backup.md)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "backup", help="back up the case store and recordings (list, verify, run-schedule)",
        description="Without an action: make a backup now (full unless --incremental).",
    )
    _common(parser)
    parser.add_argument("--incremental", action="store_true",
                        help="copy only recordings the latest backup does not hold")
    parser.set_defaults(handler=run_create)
    sub = parser.add_subparsers(dest="backup_command", metavar="ACTION")
    listing = sub.add_parser("list", help="the backups in the backup location")
    _common(listing)
    listing.set_defaults(handler=run_list)
    verify = sub.add_parser("verify", help="restore a backup (default: the latest) into a scratch database and compare")
    _common(verify)
    verify.add_argument("backup", nargs="?", help="backup id (default: the latest)")
    verify.add_argument("--scratch-url", help="an empty database to restore into (default: a temporary SQLite file)")
    verify.set_defaults(handler=run_verify)
    schedule = sub.add_parser("run-schedule", help="make the backup the schedule calls for, verify, prune (cron, timers)")
    _common(schedule)
    schedule.add_argument("--force", action="store_true", help="back up even if today's backup exists")
    schedule.set_defaults(handler=run_schedule_command)

    restore = subparsers.add_parser("restore", help="restore a backup into an empty database and recording folder")
    _common(restore)
    restore.add_argument("backup", nargs="?", help="backup id (default: the latest)")
    restore.add_argument("--data-dir", type=Path, help="recordings go to DIR/recordings (default: store.data_dir)")
    restore.set_defaults(handler=run_restore)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default="config/hotline.yaml", help="configuration file")
    parser.add_argument("--url", help="database URL (default: store.url in the config)")
    parser.add_argument("--location", type=Path, help="backup location (default: backup.location in the config)")


def _settings(args: argparse.Namespace) -> tuple[Any, Any]:
    """(store settings, backup settings) from the config file and the options."""
    from dataclasses import replace

    from casestore.backup.settings import BackupSettings, parse_backup_settings
    from casestore.settings import settings_for_cli
    from hotline.config import load_config

    store = settings_for_cli(args.config, args.url)
    backup = None
    if Path(args.config).exists():
        config = load_config(args.config)
        base = config.path.resolve().parent if config.path else None
        try:
            backup = parse_backup_settings(config.section("backup"), base)
        except ValueError as exc:
            raise _Failure(f"{args.config}: {exc}") from exc
    if args.location is not None:
        backup = replace(backup, location=args.location) if backup else BackupSettings(location=args.location)
    if backup is None:
        raise _Failure(f"{args.config}: no backup location: add a `backup:` section or give --location")
    return store, backup


class _Failure(Exception):
    pass


@contextmanager
def progress_bar() -> Iterator[Callable[[str, int, int], None]]:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskID,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(
        TextColumn("{task.description:<24}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=Console(stderr=True),
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def update(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = progress.add_task(step, total=max(total, 1))
            progress.update(tasks[step], completed=done if total else 1, total=max(total, 1))

        yield update


def _guarded(action: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from casestore.backup.manifest import BackupError
        from casestore.errors import CaseStoreError
        from hotline.config import ConfigError

        try:
            return action(args)
        except (_Failure, BackupError, CaseStoreError, ConfigError, ValueError, OSError) as exc:
            print(f"hotline {args.command}: {exc}", file=sys.stderr)
            return 1

    return run


def _when(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at))


def _summary(manifest: Any) -> str:
    rows = sum(t.rows for t in manifest.tables.values())
    return (f"backup {manifest.id} ({manifest.kind}): {rows:,} rows in {len(manifest.tables)} tables, "
            f"{len(manifest.recordings)} recordings")


async def _with_store(settings: Any, work: Callable[[Any], Any]) -> Any:
    from casestore.store import open_store

    async with open_store(settings) as store:
        return await work(store)


@_guarded
def run_create(args: argparse.Namespace) -> int:
    from casestore.backup.create import create_backup
    from casestore.backup.manifest import Kind

    store_settings, backup = _settings(args)
    kind: Kind = "incremental" if args.incremental else "full"
    with progress_bar() as progress:
        manifest = asyncio.run(_with_store(store_settings, lambda s: create_backup(
            s.engine, s.recordings, backup.location, kind, progress=progress)))
    print(_summary(manifest) + f" -> {backup.location / manifest.id}")
    return _warn_missing(manifest)


def _warn_missing(manifest: Any) -> int:
    for problem in manifest.missing_recordings:
        print(f"warning: recording not backed up: {problem}", file=sys.stderr)
    return 0


@_guarded
def run_list(args: argparse.Namespace) -> int:
    from casestore.backup.manifest import catalog

    _, backup = _settings(args)
    backups = catalog(backup.location)
    if not backups:
        print(f"no backups in {backup.location}")
    for manifest in backups:
        print(f"{manifest.id}  {_when(manifest.created_at)}  " + _summary(manifest).split(": ", 1)[1])
    return 0


@_guarded
def run_verify(args: argparse.Namespace) -> int:
    from casestore.backup.manifest import find
    from casestore.backup.verify import verify_backup

    _, backup = _settings(args)
    manifest = find(backup.location, args.backup)
    with progress_bar() as progress:
        report = asyncio.run(verify_backup(backup.location, manifest, scratch_url=args.scratch_url, progress=progress))
    return _print_verify(report)


def _print_verify(report: Any) -> int:
    if report.ok:
        print(f"backup {report.backup} verified: {report.tables} tables, {report.rows:,} rows and "
              f"{report.recordings} recordings match the manifest")
        return 0
    for problem in report.problems:
        print(f"backup {report.backup}: {problem}", file=sys.stderr)
    return 1


@_guarded
def run_schedule_command(args: argparse.Namespace) -> int:
    from casestore.backup.run import run_schedule

    store_settings, backup = _settings(args)
    with progress_bar() as progress:
        result = asyncio.run(_with_store(store_settings, lambda s: run_schedule(
            s.engine, s.recordings, backup, force=args.force, progress=progress)))
    if result.backup is None:
        print(f"nothing due: the backup of {_when(result.plan.slot)} exists; next at {_when(result.plan.next_slot)}")
        return 0
    print(_summary(result.backup))
    for old in result.pruned:
        print(f"pruned {old}")
    code = _warn_missing(result.backup)
    return _print_verify(result.verify) if result.verify is not None else code


@_guarded
def run_restore(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from casestore.backup.manifest import find
    from casestore.backup.restore import restore_backup
    from casestore.store import open_store

    store_settings, backup = _settings(args)
    if args.data_dir is not None:
        store_settings = replace(store_settings, data_dir=args.data_dir)
    manifest = find(backup.location, args.backup)

    async def restore() -> Any:
        # A new SQLite file may be made here: the restore creates the schema itself.
        async with open_store(store_settings, check=False, new_file=True) as store:
            return await restore_backup(backup.location, manifest, store.engine, store.recordings, progress=progress)

    with progress_bar() as progress:
        report = asyncio.run(restore())
    print(f"restored backup {manifest.id}: {sum(report.rows.values()):,} rows, {report.recordings} recordings "
          f"({report.recordings_skipped} already in place)")
    return 0
