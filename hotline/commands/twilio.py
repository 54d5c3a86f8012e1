"""`hotline twilio urls`: check the `twilio:` section and print what to paste into the
Twilio console (the number's voice and status webhooks) and the agents' addresses."""

from __future__ import annotations

import argparse
import sys

from hotline.config import ConfigError, load_config


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("twilio", help="Twilio numbers: check the section, print webhook URLs")
    actions = parser.add_subparsers(dest="action", required=True)
    urls = actions.add_parser("urls", help="check the twilio section and print the console URLs")
    urls.add_argument("--config", default="config/hotline.yaml", help="configuration file")
    urls.set_defaults(handler=run_urls)


def run_urls(args: argparse.Namespace) -> int:
    from twilio_gateway.errors import TwilioSettingsError
    from twilio_gateway.settings import TwilioSettings

    try:
        config = load_config(args.config)
        section = config.section("twilio")
        if not section:
            print(f"hotline: {args.config} has no twilio section", file=sys.stderr)
            return 2
        settings = TwilioSettings.from_section(section)
    except (ConfigError, TwilioSettingsError) as exc:
        print(f"hotline: {exc}", file=sys.stderr)
        return 2
    state = "enabled" if section.get("enabled", True) else "disabled (enabled: false)"
    print(f"twilio section: valid, {state}")
    print("Phone number > Voice configuration:")
    print(f"  A call comes in (Webhook, HTTP POST):  {settings.url('voice')}")
    print(f"  Call status changes (HTTP POST):       {settings.url('status')}")
    print(f"Media Streams connect to:                {settings.stream_url()}")
    print(f"Signatures are checked against {settings.public_url} + the request path.")
    if settings.agents:
        print("Agents:")
        for agent_id, target in sorted(settings.agents.items()):
            print(f"  {agent_id}: {target.kind} {target.address}")
    else:
        print("No agents have a Twilio address (twilio.agents): calls cannot be connected.")
    return 0
