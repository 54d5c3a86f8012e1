"""`hotline keys generate|status|rotate`: the encryption keys of personal data at rest
(docs/security.md)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("keys", help="encryption keys: generate, status, rotate (re-encrypt)")
    sub = parser.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    generate = sub.add_parser("generate", help="print a new random key as 'id:key' for the key variable")
    generate.add_argument("id", help="the new key's id (letters, digits, . _ -), e.g. 2026-12")
    generate.set_defaults(handler=run_generate)
    for name, help_text, handler in (
        ("status", "how many stored values are under each key (and in clear text)", run_status),
        ("rotate", "re-encrypt everything not under the active key with it", run_rotate),
    ):
        action = sub.add_parser(name, help=help_text)
        action.add_argument("--config", default="config/hotline.yaml", help="configuration file")
        action.add_argument("--url", help="database URL (default: store.url in the config)")
        action.set_defaults(handler=handler)


def run_generate(args: argparse.Namespace) -> int:
    import re

    from hotline.encryption import generate_key

    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,32}", args.id):
        print(f"hotline keys generate: {args.id!r}: an id is 1-32 letters, digits, '.', '_' or '-'", file=sys.stderr)
        return 1
    print(f"{args.id}:{generate_key()}")
    return 0


def _open(args: argparse.Namespace) -> Any:
    from casestore.settings import settings_for_cli

    return settings_for_cli(args.config, args.url)


def _guard(args: argparse.Namespace, work: Any) -> int:
    from casestore.errors import CaseStoreError
    from hotline.config import ConfigError
    from hotline.encryption import EncryptionError

    try:
        return int(asyncio.run(work()))
    except (CaseStoreError, ConfigError, EncryptionError, ValueError, OSError) as exc:
        print(f"hotline keys {args.keys_command}: {exc}", file=sys.stderr)
        return 1


def run_status(args: argparse.Namespace) -> int:
    async def work() -> int:
        from casestore.rekey import key_use
        from casestore.store import open_store

        settings = _open(args)
        async with open_store(settings) as store:
            use = await key_use(store.engine, store.recordings)
        active = settings.keyring.active if settings.keyring else None
        print(f"active key: {active or 'none (no encryption: section)'}")
        for what, counts in (("customer fields", use.fields), ("recordings", use.recordings)):
            for key, count in sorted(counts.items(), key=lambda kv: str(kv[0])):
                print(f"{what:16} {key or 'clear text':12} {count:>8,}")
        if use.missing_files:
            print(f"recordings whose file is missing: {use.missing_files}")
        return 0

    return _guard(args, work)


def run_rotate(args: argparse.Namespace) -> int:
    async def work() -> int:
        from casestore.rekey import rotate_keys
        from casestore.store import open_store

        settings = _open(args)
        async with open_store(settings) as store:
            if store.cases.cipher is None:
                print("hotline keys rotate: no encryption: section in the config; nothing to do", file=sys.stderr)
                return 1
            from hotline.commands.backup import progress_bar

            with progress_bar() as progress:
                report = await rotate_keys(store.engine, store.recordings, store.cases.cipher, progress=progress)
        print(f"re-encrypted under key {settings.keyring.active}: {report.fields} customer fields, "
              f"{report.recordings} recordings ({report.missing_files} recording files missing)")
        return 0

    return _guard(args, work)
