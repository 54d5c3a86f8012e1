"""`hotline prompts build`: render every prompt of every menu, in every language, to 8 kHz
WAV files Asterisk plays (espeak-ng), rebuilding only what changed.

    hotline prompts build [--config config/hotline.yaml] [--out DIR] [MENU.yaml ...]

Menus: the files given, else the config's `ivr.menus`. Folder: --out, else
`asterisk.prompts_dir`. Recorded prompts found there take precedence and are not rendered.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hotline.config import ConfigError, load_config
from ivr.checker import check_menu
from ivr.menu import Menu


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("prompts", help="render prompt audio for Asterisk")
    prompts_sub = parser.add_subparsers(dest="prompts_command", required=True, metavar="ACTION")
    build = prompts_sub.add_parser("build", help="render every prompt missing its audio")
    build.add_argument("files", nargs="*", metavar="MENU", help="menu files (default: ivr.menus)")
    build.add_argument("--config", default="config/hotline.yaml", help="configuration file")
    build.add_argument("--out", help="prompts folder (default: asterisk.prompts_dir)")
    build.set_defaults(handler=run_build)


def _menus(files: list[str]) -> list[Menu]:
    menus = []
    for name in files:
        try:
            text = Path(name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{name}: cannot read: {exc}") from exc
        result = check_menu(text, name)
        if result.menu is None:
            first = result.errors[0]
            raise ConfigError(first.format(name) + " (hotline ivr check shows all)")
        menus.append(result.menu)
    return menus


def run_build(args: argparse.Namespace) -> int:
    from prompts.render import PromptError, build_prompts

    try:
        config = load_config(args.config) if Path(args.config).exists() or not args.files else None
        files = list(args.files)
        base = Path(args.config).parent
        if not files and config is not None:
            files = [str(base / m) for m in (config.section("ivr").get("menus") or [])]
        folder = Path(args.out) if args.out else None
        if folder is None and config is not None and config.section("asterisk"):
            from asterisk.settings import parse_settings

            folder = parse_settings(config.section("asterisk"), base).prompts_dir
        if folder is None:
            raise ConfigError("no prompts folder: give --out or set asterisk.prompts_dir")
        if not files:
            raise ConfigError("no menus: give menu files or set ivr.menus")
        menus = _menus(files)
    except (ConfigError, ValueError) as exc:
        print(f"hotline: {exc}", file=sys.stderr)
        return 2
    try:
        report = build_prompts(menus, folder)
    except (PromptError, OSError) as exc:
        print(f"hotline: {exc}", file=sys.stderr)
        return 1
    for line in report.rendered:
        print(f"rendered {line}")
    for name in report.removed:
        print(f"removed {name}")
    print(f"{folder}: {len(report.rendered)} rendered, {report.unchanged} unchanged,"
          f" {report.recorded} recorded, {len(report.removed)} removed")
    return 0
