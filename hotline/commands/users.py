"""`hotline users add|passwd|disable|enable|list|token`: the people who sign in.

Passwords are read from a prompt (twice) on a terminal, else one line from standard input;
never from the command line. Every change is audited as made by `cli`.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
import time
from typing import Any

from casestore import CaseStoreError, StoreConfigError, open_store
from casestore.accounts import Actor
from casestore.settings import settings_for_cli
from hotline.config import ConfigError
from hotline.passwords import PasswordRejected, check_password_rule, hash_password

CLI = Actor("cli")
DAY = 86400.0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("users", help="add, change and list the people who sign in")
    sub = parser.add_subparsers(dest="users_command", required=True, metavar="ACTION")

    def action(name: str, help_text: str, handler: Any) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--url", help="database URL (default: store.url in the config)")
        p.add_argument("--config", default="config/hotline.yaml", help="configuration file")
        p.set_defaults(handler=handler)
        return p

    add = action("add", "add a person (password from a prompt or stdin)", run_add)
    add.add_argument("login")
    add.add_argument("--name", help="full name (default: the login)")
    add.add_argument("--role", required=True, choices=["admin", "supervisor", "agent"])
    add.add_argument("--agent", help="the ACD agent id of an agent user")
    add.add_argument("--language", choices=["en", "ko"])
    action("passwd", "set a person's password (prompt or stdin)", run_passwd).add_argument("login")
    action("disable", "disable a person (ends their sessions, stops their tokens)", run_disable).add_argument("login")
    action("enable", "enable a disabled person", run_enable).add_argument("login")
    action("list", "list the people", run_list)
    token = action("token", "create an API token for a person (printed once)", run_token)
    token.add_argument("login")
    token.add_argument("--name", default="cli", help="what the token is for")
    token.add_argument("--days", type=int, default=90, help="days until it expires (default 90)")


def read_password(prompt: str = "Password: ") -> str:
    """Twice on a terminal; one line from stdin otherwise."""
    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if getpass.getpass("Again: ") != first:
            raise PasswordRejected("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


async def _with_store(args: argparse.Namespace, work: Any) -> Any:
    async with open_store(settings_for_cli(args.config, args.url)) as store:
        return await work(store.accounts)


def _run(args: argparse.Namespace, what: str, work: Any) -> int:
    try:
        result = asyncio.run(_with_store(args, work))
    except PasswordRejected as exc:
        print(f"hotline users {what}: {exc}", file=sys.stderr)
        return 2
    except (CaseStoreError, StoreConfigError, ConfigError) as exc:
        print(f"hotline users {what}: {exc}", file=sys.stderr)
        return 1
    if result:
        print(result)
    return 0


def _new_hash(login: str) -> str:
    password = read_password()
    check_password_rule(password, login)
    return hash_password(password)


def run_add(args: argparse.Namespace) -> int:
    try:
        password_hash = _new_hash(args.login)
    except PasswordRejected as exc:
        print(f"hotline users add: {exc}", file=sys.stderr)
        return 2

    async def work(accounts: Any) -> str:
        user = await accounts.add_user(
            CLI, login=args.login, name=args.name or args.login, role=args.role,
            password_hash=password_hash, agent_id=args.agent, language=args.language,
        )
        bound = f" (agent {user.agent_id})" if user.agent_id else ""
        return f"added {user.role} {user.login}{bound}"

    return _run(args, "add", work)


def run_passwd(args: argparse.Namespace) -> int:
    try:
        password_hash = _new_hash(args.login)
    except PasswordRejected as exc:
        print(f"hotline users passwd: {exc}", file=sys.stderr)
        return 2

    async def work(accounts: Any) -> str:
        await accounts.set_password(CLI, args.login, password_hash)
        return f"password of {args.login} changed; their sessions ended"

    return _run(args, "passwd", work)


def _set_disabled(args: argparse.Namespace, disabled: bool) -> int:
    async def work(accounts: Any) -> str:
        await accounts.update_user(CLI, args.login, {"disabled": disabled})
        return f"{args.login} {'disabled' if disabled else 'enabled'}"

    return _run(args, "disable" if disabled else "enable", work)


def run_disable(args: argparse.Namespace) -> int:
    return _set_disabled(args, True)


def run_enable(args: argparse.Namespace) -> int:
    return _set_disabled(args, False)


def run_list(args: argparse.Namespace) -> int:
    async def work(accounts: Any) -> str:
        users = await accounts.users()
        if not users:
            return "no users yet (`hotline users add LOGIN --role admin`)"
        lines = [f"{'login':<20} {'role':<11} {'agent':<8} {'state':<9} name"]
        for u in users:
            state = "disabled" if u.disabled else "active"
            lines.append(f"{u.login:<20} {u.role:<11} {u.agent_id or '-':<8} {state:<9} {u.name}")
        return "\n".join(lines)

    return _run(args, "list", work)


def run_token(args: argparse.Namespace) -> int:
    from hotline.web.accounts.service import AccountService
    from hotline.web.base.errors import ApiError
    from hotline.web.base.settings import WebSettings

    async def work(accounts: Any) -> str:
        user = await accounts.user(args.login)
        if user is None:
            raise ConfigError(f"no user {args.login!r}")
        service = AccountService(lambda: accounts, time.time, WebSettings())
        try:
            created = await service.create_token(CLI, user, args.name, args.days)
        except ApiError as exc:
            raise ConfigError(exc.message) from exc
        return created.secret

    return _run(args, "token", work)
