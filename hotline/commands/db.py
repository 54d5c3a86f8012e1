"""`hotline db upgrade|check [--url URL] [--config FILE]`: the case store's schema;
`hotline db close-orphans --source NAME`: close calls a killed run left open."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from casestore import CaseStoreError, StoreConfigError, check_schema, upgrade
from casestore.dialect import create_engine
from casestore.settings import settings_for_cli
from hotline.config import ConfigError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("db", help="create, upgrade or check the case store's schema")
    sub = parser.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    for name, help_text, handler in (
        ("upgrade", "create the schema or upgrade it to this version", run_upgrade),
        ("check", "exit 0 if the schema is at this version's revision, 1 otherwise", run_check),
    ):
        action = sub.add_parser(name, help=help_text)
        action.add_argument("--url", help="database URL (default: store.url in the config)")
        action.add_argument("--config", default="config/hotline.yaml", help="configuration file")
        action.set_defaults(handler=handler)
    orphans = sub.add_parser(
        "close-orphans",
        help="close the open calls of a source (a killed `simulate --store` run: --source simulation)",
    )
    orphans.add_argument("--source", action="append", required=True,
                         help="call source (asterisk, twilio, simulation); repeatable")
    orphans.add_argument("--url", help="database URL (default: store.url in the config)")
    orphans.add_argument("--config", default="config/hotline.yaml", help="configuration file")
    orphans.set_defaults(handler=run_close_orphans)


def _url(args: argparse.Namespace) -> str:
    return settings_for_cli(args.config, args.url).url


async def _upgrade(url: str) -> tuple[str | None, str]:
    engine = create_engine(url, create=True)
    try:
        return await upgrade(engine)
    finally:
        await engine.dispose()


async def _check(url: str) -> str:
    engine = create_engine(url)
    try:
        return await check_schema(engine)
    finally:
        await engine.dispose()


def run_upgrade(args: argparse.Namespace) -> int:
    try:
        url = _url(args)
        before, after = asyncio.run(_upgrade(url))
    except (CaseStoreError, StoreConfigError, ConfigError) as exc:
        print(f"hotline db upgrade: {exc}", file=sys.stderr)
        return 1
    if before == after:
        print(f"schema already at revision {after}")
    else:
        print(f"schema upgraded from {before or 'empty'} to {after}")
    return 0


def run_check(args: argparse.Namespace) -> int:
    try:
        revision = asyncio.run(_check(_url(args)))
    except (CaseStoreError, StoreConfigError, ConfigError) as exc:
        print(f"hotline db check: {exc}", file=sys.stderr)
        return 1
    print(f"schema at revision {revision}")
    return 0


async def _close_orphans(url: str, sources: list[str]) -> int:
    from casestore.store import open_store

    async with open_store(url) as store:
        return await store.writer().close_orphans(sources=sources, agents=())


def run_close_orphans(args: argparse.Namespace) -> int:
    """Close (outcome `interrupted`) the calls of the given sources that are still open.
    Only for calls no running process writes: a live server's calls would be closed too."""
    try:
        closed = asyncio.run(_close_orphans(_url(args), args.source))
    except (CaseStoreError, StoreConfigError, ConfigError) as exc:
        print(f"hotline db close-orphans: {exc}", file=sys.stderr)
        return 1
    print(f"closed {closed} open calls of {', '.join(args.source)} as interrupted")
    return 0
