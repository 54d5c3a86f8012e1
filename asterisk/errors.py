"""Errors of the Asterisk adapter. Library and socket errors are converted into these.

    AsteriskError
    ├── AmiError
    │   ├── AmiNotConnected      no logged-in AMI connection right now
    │   ├── AmiAuthError         Asterisk answered `Authentication failed`
    │   ├── AmiNotAsterisk       the peer's banner is not Asterisk's (no login sent)
    │   ├── AmiTimeout           no answer to an action in time
    │   └── AmiActionError       `Response: Error` (the response is kept)
    └── CallControlError         a call-control step failed (wraps an AmiError)
"""

from __future__ import annotations

from asterisk.ami_parser import AmiMessage


class AsteriskError(Exception):
    pass


class AmiError(AsteriskError):
    pass


class AmiNotConnected(AmiError):
    pass


class AmiAuthError(AmiError):
    pass


class AmiNotAsterisk(AmiError):
    """The peer did not greet with Asterisk's manager banner: no secret is sent to it."""


class AmiTimeout(AmiError):
    pass


class AmiActionError(AmiError):
    def __init__(self, action: str, response: AmiMessage) -> None:
        super().__init__(f"{action}: {response.name}: {response.get('Message')}")
        self.action = action
        self.response = response

    @property
    def message(self) -> str:
        return self.response.get("Message")


class CallControlError(AsteriskError):
    def __init__(self, message: str, call_id: str = "", detail: object = None) -> None:
        super().__init__(message)
        self.call_id = call_id
        self.detail = detail
