"""`hotline config check --config FILE`: the configuration file and the menu files it lists,
checked as `hotline serve` checks them (every error naming the file, the line and the key)."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(sub: Any) -> None:
    parser = sub.add_parser("config", help="check the configuration file")
    config_sub = parser.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    check = config_sub.add_parser("check", help="check the file and its menus; exit 1 on an error")
    check.add_argument("--config", default="config/hotline.yaml", help="configuration file")
    check.set_defaults(handler=run_check)


def run_check(args: argparse.Namespace) -> int:
    from acd.clock import VirtualClock
    from hotline.config import ConfigError, load_config
    from hotline.web.menus.service import check_menu_files
    from hotline.wiring import check_menu_names
    from ivr.registry import MenuRegistry
    from ivr.settings import IvrConfigError, parse_ivr_settings

    try:
        config = load_config(args.config)
        ivr = parse_ivr_settings(config.section("ivr"))
        registry = MenuRegistry(VirtualClock(0.0), queues=[q.name for q in config.queues])
        checked = check_menu_files(registry, [config.resolve(p) for p in ivr.menus])
        check_menu_names(config, sorted({r.menu.name for r in checked if r.menu is not None}))
    except (ConfigError, IvrConfigError, ValueError) as exc:
        print(f"hotline config check: {exc}", file=sys.stderr)
        return 1
    print(f"{args.config}: ok ({len(config.queues)} queues, {len(config.agents)} agents, "
          f"{len(checked)} menus)")
    return 0
