"""`hotline asterisk-config --out DIR`: write the Asterisk configuration for this Hotline."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from asterisk.confgen import generate
from asterisk.settings import AsteriskConfigError, parse_settings
from hotline.config import ConfigError, load_config


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "asterisk-config",
        help="write manager.conf, pjsip.conf, extensions.conf and musiconhold.conf for Asterisk",
    )
    parser.add_argument("--config", default="config/hotline.yaml", help="configuration file")
    parser.add_argument("--out", required=True, help="folder to write the .conf files into")
    parser.add_argument("--force", action="store_true", help="overwrite existing files")
    parser.add_argument(
        "--placeholder-secrets",
        action="store_true",
        help="SIP passwords 'change-me-<agent>' instead of random ones (for a sample copy)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
        settings = parse_settings(config.section("asterisk"))
    except (ConfigError, AsteriskConfigError) as exc:
        print(f"hotline: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    placeholder = (lambda agent_id: f"change-me-{agent_id}") if args.placeholder_secrets else None
    files = generate(settings, config.agents, placeholder)
    existing = [name for name in files if (out / name).exists()]
    if existing and not args.force:
        print(f"hotline: {out} already has {', '.join(existing)} (use --force)", file=sys.stderr)
        return 1
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (out / name).write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"hotline: cannot write {out}: {exc.strerror}", file=sys.stderr)
        return 1
    for name in files:
        print(out / name)
    return 0
