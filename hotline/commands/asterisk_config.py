"""`hotline asterisk-config --out DIR`: write Hotline's parts of the Asterisk configuration.

Hotline writes only `*_hotline.conf` files (rewritten on every run; a file of that name not
written by Hotline is left alone without `--force`) and prints the `#include` lines the PBX's
own files need. `--standalone` also writes top-level files for a PBX that serves only Hotline,
once (never over existing ones). Agents' SIP passwords are kept from the previous
`pjsip_hotline.conf` in DIR, so phones stay registered across runs.
"""

from __future__ import annotations

import argparse
import os
import pwd
import re
import secrets
import sys
from pathlib import Path

from asterisk.confgen import HEADER, generate, include_instructions, part, standalone
from asterisk.settings import AsteriskConfigError, parse_settings
from hotline.config import ConfigError, load_config

_AUTH = re.compile(r"^\[([^\]]+)\]\(hotline-auth\)\n(?:username = .*\n)?password = (.*)$", re.MULTILINE)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "asterisk-config",
        help="write Hotline's *_hotline.conf parts of the Asterisk configuration (to #include)",
    )
    parser.add_argument("--config", default="config/hotline.yaml", help="configuration file")
    parser.add_argument("--out", required=True, help="folder to write the .conf files into (e.g. /etc/asterisk)")
    parser.add_argument("--force", action="store_true", help="overwrite *_hotline.conf files Hotline did not write")
    parser.add_argument(
        "--standalone", action="store_true",
        help="also write manager/pjsip/extensions/musiconhold/modules.conf including the parts (only where absent)",
    )
    parser.add_argument(
        "--placeholder-secrets",
        action="store_true",
        help="SIP passwords 'change-me-<agent>' instead of random ones (for a sample copy)",
    )
    parser.add_argument(
        "--recordings-owner", metavar="USER",
        help="create asterisk.recordings_dir and give it to USER (the user Asterisk runs as; needs root)",
    )
    parser.set_defaults(handler=run)


def previous_secrets(path: Path) -> dict[str, str]:
    """Agent endpoint -> SIP password from an earlier `pjsip_hotline.conf`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return {}
    return {name: password.strip() for name, password in _AUTH.findall(text)}


def prepare_recordings(folder: Path, owner: str = "asterisk") -> str:
    """Create the recordings folder; give it to Asterisk's user when we can. Returns a note."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"create {folder} (as root: mkdir -p {folder} && chown {owner}: {folder}): {exc.strerror}"
    try:
        user = pwd.getpwnam(owner)
    except KeyError:
        return f"{folder} exists; make it writable by the user Asterisk runs as (chown <user>: {folder})"
    if folder.stat().st_uid == user.pw_uid:
        return f"{folder} belongs to {owner}"
    if os.geteuid() == 0:
        os.chown(folder, user.pw_uid, user.pw_gid)
        return f"{folder} given to {owner}"
    return f"{folder} exists; as root: chown {owner}: {folder}"


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
        settings = parse_settings(config.section("asterisk"))
    except (ConfigError, AsteriskConfigError) as exc:
        print(f"hotline: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    kept = previous_secrets(out / part("pjsip"))

    def secret_for(agent_id: str) -> str:
        if args.placeholder_secrets:
            return f"change-me-{agent_id}"
        name = settings.endpoint(agent_id).removeprefix("PJSIP/")
        return kept.get(name) or secrets.token_urlsafe(12)

    files = generate(settings, config.agents, secret_for)
    foreign = [name for name in files if _foreign(out / name)]
    if foreign and not args.force:
        print(f"hotline: {out} has {', '.join(foreign)} not written by Hotline (use --force)", file=sys.stderr)
        return 1
    extra = {name: text for name, text in standalone(settings).items() if not (out / name).exists()} if (
        args.standalone) else {}
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, text in {**files, **extra}.items():
            target = out / name
            tmp = target.with_name(f".{name}.tmp")
            tmp.write_text(text, encoding="utf-8")
            if name == part("pjsip"):
                tmp.chmod(0o640)  # SIP passwords
            tmp.replace(target)
    except OSError as exc:
        print(f"hotline: cannot write {out}: {exc.strerror}", file=sys.stderr)
        return 1
    for name in {**files, **extra}:
        print(out / name)
    print(include_instructions(settings) if not args.standalone else "Standalone files include Hotline's parts.",
          file=sys.stderr)
    folder = settings.recordings_dir
    if args.recordings_owner:
        print(f"Recordings: {prepare_recordings(folder, args.recordings_owner)}", file=sys.stderr)
    elif not folder.is_dir():
        print(f"Recordings: create {folder} for Asterisk: sudo mkdir -p {folder} && sudo chown asterisk: {folder}"
              " (or rerun with --recordings-owner asterisk)", file=sys.stderr)
    return 0


def _foreign(path: Path) -> bool:
    """An existing file that Hotline did not generate."""
    try:
        with path.open(encoding="utf-8") as f:
            return f.readline() != HEADER
    except FileNotFoundError:
        return False
    except (OSError, UnicodeDecodeError):
        return True
