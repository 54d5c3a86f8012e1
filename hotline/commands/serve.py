"""`hotline serve`: run the server on the configuration's adapters."""

from __future__ import annotations

import argparse
import sys

from casestore.errors import CaseStoreError
from hotline.app_runner import run_app
from hotline.config import ConfigError, load_config
from hotline.logs import LEVELS, configure_logging, parse_logging_settings
from hotline.tls import server_ssl_context
from ivr.speech import SpeechError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("serve", help="run the Hotline server")
    parser.add_argument("--config", default="config/hotline.yaml", help="configuration file")
    parser.add_argument("--host", help="listen address (default: api.host in the config)")
    parser.add_argument("--port", type=port_number, help="listen port (default: api.port in the config)")
    parser.add_argument(
        "--log-level", choices=LEVELS, type=str.lower,
        help="level of the root logger (default: logging.level in the config, else info)",
    )
    parser.set_defaults(handler=run)


def port_number(text: str) -> int:
    """A TCP port 1-65535 (argparse type: a bad value is refused before anything starts)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port 1-65535")
    return value


def run(args: argparse.Namespace) -> int:
    from hotline.web.base.keys import WEB_KEY
    from hotline.web.base.settings import parse_api_section
    from hotline.web.menus.service import reload_on_sighup
    from hotline.wiring import build_app

    configure_logging(level=args.log_level)  # until the config's `logging:` section is read
    try:
        config = load_config(args.config)
        logging_settings = parse_logging_settings(config.section("logging"), f"{config.path}: logging")
        configure_logging(logging_settings, level=args.log_level)
        app = build_app(config)
        app.cleanup_ctx.append(reload_on_sighup)
        api = parse_api_section(config.section("api"), f"{config.path}: api")
        host, port = args.host or api.host, args.port or api.port
        app[WEB_KEY].listen = (host, port)
        tls = server_ssl_context(config.section("api").get("tls"), config.resolve("."))
        app[WEB_KEY].scheme = "https" if tls is not None else "http"
        run_app(app, host=host, port=port, ssl_context=tls)
    except (ConfigError, CaseStoreError, SpeechError, ValueError) as exc:
        # ValueError covers every adapter's settings error (each subclasses it)
        print(f"hotline: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"hotline: cannot start: {exc}", file=sys.stderr)
        return 1
    return 0
