"""The `hotline` command. Each module in `hotline.commands` adds its own sub-commands.

Only the module of the command being run is imported (its imports are heavy: aiohttp,
SQLAlchemy, matplotlib...); the others appear in `hotline --help` from `COMMANDS`, so the
help and a typo answer at once. A module missing from `COMMANDS` is still found (imported).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from hotline import __version__, commands

# command -> (module in hotline.commands, help); tests/hotline/test_cli_fast.py keeps it true
COMMANDS: dict[str, tuple[str, str]] = {
    "asterisk-config": (
        "asterisk_config", "write Hotline's *_hotline.conf parts of the Asterisk configuration (to #include)"
    ),
    "backup": ("backup", "back up the case store and recordings (list, verify, run-schedule)"),
    "cases": ("cases", "case reports"),
    "config": ("config", "check the configuration file"),
    "db": ("db", "create, upgrade or check the case store's schema"),
    "export": ("export", "write the live configuration (queues, agents, menus from the store) as YAML"),
    "ivr": ("ivr", "check IVR menu files, try a menu offline"),
    "keys": ("keys", "encryption keys: generate, status, rotate (re-encrypt)"),
    "prompts": ("prompts", "render prompt audio for Asterisk"),
    "report": ("report", "service-level report (SL, ASA, abandons, cases, FCR, satisfaction) with plots"),
    "restore": ("backup", "restore a backup into an empty database and recording folder"),
    "retention": ("retention", "apply the data retention period"),
    "serve": ("serve", "run the Hotline server"),
    "simulate": ("simulate", "simulate a hotline (traffic, agents, queues) and report service level, ASA, ..."),
    "twilio": ("twilio", "Twilio numbers: check the section, print webhook URLs"),
    "users": ("users", "add, change and list the people who sign in"),
}


def _chosen(argv: Sequence[str]) -> str | None:
    """The command named on the command line (the first argument not an option)."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; with `argv`, only the named command's module is imported (None: all)."""
    parser = argparse.ArgumentParser(prog="hotline", description="Call-center server for transport hotlines.")
    parser.add_argument("--version", action="version", version=f"hotline {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = None if argv is None else _chosen(argv)
    modules = {info.name for info in pkgutil.iter_modules(commands.__path__)}
    listed = {module for module, _ in COMMANDS.values()}
    wanted = modules if argv is None else {COMMANDS[chosen][0]} if chosen in COMMANDS else modules - listed
    for name in sorted(wanted):
        importlib.import_module(f"{commands.__name__}.{name}").register(sub)
    registered = set(sub.choices)
    for command, (_, help_text) in COMMANDS.items():
        if command not in registered:
            sub.add_parser(command, help=help_text)  # a placeholder: never run (not chosen)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(arguments)
    args = parser.parse_args(arguments)
    try:
        result: int = args.handler(args)
    except KeyboardInterrupt:
        return 130
    return result


if __name__ == "__main__":
    sys.exit(main())
