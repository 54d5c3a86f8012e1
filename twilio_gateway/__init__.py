"""The Twilio adapter: signed voice webhooks, the IVR as TwiML, Media Streams into our
recognizer, queueing and agent connect over the REST API. Entry point: `setup_twilio`."""

from twilio_gateway.app import MenuRunner, setup_twilio
from twilio_gateway.gateway import TwilioGateway
from twilio_gateway.settings import AgentTarget, SpeechMode, TwilioSettings, parse_twilio_settings

__all__ = [
    "AgentTarget", "MenuRunner", "SpeechMode", "TwilioGateway", "TwilioSettings",
    "parse_twilio_settings", "setup_twilio",
]
