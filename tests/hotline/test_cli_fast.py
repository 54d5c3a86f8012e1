"""`hotline --help` imports none of the heavy libraries; the command table in hotline/cli.py
lists every command the modules register, with the same help."""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import subprocess
import sys

from hotline import commands
from hotline.cli import COMMANDS, build_parser

HEAVY = ("aiohttp", "sqlalchemy", "alembic", "matplotlib", "numpy", "vosk", "twilio", "redis", "cryptography")

PROBE = """
import json, sys
from hotline.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def _imported(*argv: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=120)
    return {name.split(".")[0] for name in json.loads(done.stderr.strip().splitlines()[-1])}


def test_help_and_a_typo_import_no_heavy_library() -> None:
    for argv in (["--help"], ["no-such-command"], []):
        assert not set(HEAVY) & _imported(*argv), argv


def test_a_command_imports_only_what_it_needs() -> None:
    modules = _imported("keys", "generate", "k1")
    assert "cryptography" in modules
    assert not {"aiohttp", "matplotlib", "sqlalchemy"} & modules


def test_the_command_table_matches_the_modules() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    owner: dict[str, str] = {}
    for info in pkgutil.iter_modules(commands.__path__):
        before = set(sub.choices)
        importlib.import_module(f"{commands.__name__}.{info.name}").register(sub)
        owner.update({name: info.name for name in set(sub.choices) - before})
    helps = {action.dest: action.help for action in sub._choices_actions}
    table = {name: (owner[name], helps[name]) for name in owner}
    assert table == COMMANDS, "update COMMANDS in hotline/cli.py"
    assert set(build_parser().parse_known_args(["db", "check"])[0].__dict__) >= {"handler"}
