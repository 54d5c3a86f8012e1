"""`hotline serve`: run the server on the configuration's adapters."""

from __future__ import annotations

import argparse
import logging
import sys

from aiohttp import web

from casestore.errors import CaseStoreError
from hotline.api_auth import ApiSettings
from hotline.config import ConfigError, load_config
from hotline.menus_api import reload_on_sighup
from hotline.privacy import install_log_masking
from hotline.tls import server_ssl_context
from ivr.speech import SpeechError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("serve", help="run the Hotline server")
    parser.add_argument("--config", default="config/hotline.yaml", help="configuration file")
    parser.add_argument("--host", help="listen address (default: api.host in the config)")
    parser.add_argument("--port", type=int, help="listen port (default: api.port in the config)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from hotline.wiring import build_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_masking()
    try:
        config = load_config(args.config)
        app = build_app(config)
        app.cleanup_ctx.append(reload_on_sighup)
        api = ApiSettings.from_section(config.section("api"))
        tls = server_ssl_context(config.section("api").get("tls"), config.resolve("."))
        web.run_app(app, host=args.host or api.host, port=args.port or api.port, print=None, ssl_context=tls)
    except (ConfigError, CaseStoreError, SpeechError, ValueError) as exc:
        # ValueError covers every adapter's settings error (each subclasses it)
        print(f"hotline: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"hotline: cannot start: {exc}", file=sys.stderr)
        return 1
    return 0
