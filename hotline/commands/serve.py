"""`hotline serve`: run the server on the configuration's adapters."""

from __future__ import annotations

import argparse
import logging
import sys

from aiohttp import web

from casestore.errors import CaseStoreError
from hotline.config import ConfigError, load_config
from hotline.privacy import install_log_masking
from ivr.speech import SpeechError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("serve", help="run the Hotline server")
    parser.add_argument("--config", default="config/hotline.yaml", help="configuration file")
    parser.add_argument("--host", help="listen address (default: api.host in the config)")
    parser.add_argument("--port", type=int, help="listen port (default: api.port in the config)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from hotline.web.base.keys import WEB_KEY
    from hotline.web.base.settings import parse_api_section
    from hotline.web.menus.service import reload_on_sighup
    from hotline.wiring import build_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_masking()
    try:
        config = load_config(args.config)
        app = build_app(config)
        app.cleanup_ctx.append(reload_on_sighup)
        api = parse_api_section(config.section("api"), f"{config.path}: api")
        host, port = args.host or api.host, args.port or api.port
        app[WEB_KEY].listen = (host, port)
        web.run_app(app, host=host, port=port, print=None)
    except (ConfigError, CaseStoreError, SpeechError, ValueError) as exc:
        # ValueError covers every adapter's settings error (each subclasses it)
        print(f"hotline: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"hotline: cannot start: {exc}", file=sys.stderr)
        return 1
    return 0
