"""Errors of the Twilio adapter.

    TwilioGatewayError
     +-- TwilioSettingsError      the `twilio:` config section is invalid
     +-- TwilioApiError           a REST call to Twilio failed (status and body kept)
     +-- RecordingDownloadError   a recording could not be fetched or stored
"""

from __future__ import annotations


class TwilioGatewayError(Exception):
    """Base of the adapter's errors; `detail` keeps what the other side said."""

    def __init__(self, message: str, detail: object = None) -> None:
        super().__init__(message)
        self.detail = detail


class TwilioSettingsError(TwilioGatewayError, ValueError):
    """The `twilio:` section of the configuration is invalid; the message names the key."""


class TwilioApiError(TwilioGatewayError):
    """Twilio's REST API refused or failed a request."""

    def __init__(self, message: str, status: int | None = None, detail: object = None) -> None:
        super().__init__(message, detail)
        self.status = status


class RecordingDownloadError(TwilioGatewayError):
    """A recording announced by a status callback could not be downloaded or stored."""
