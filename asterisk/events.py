"""The one table of AMI events Hotline handles: event name -> `CallControl` method.

The generated manager.conf filters on exactly these names (asterisk/confgen.py), so Asterisk
does not send the VarSet/CEL/Newexten floods at all. Events not listed are ignored.
"""

from __future__ import annotations

HANDLERS: dict[str, str] = {
    "DialBegin": "on_dial_begin",  # the caller's Dial rings an agent's phone (a callback: the customer's)
    "DialEnd": "on_dial_end",  # ANSWER -> answered; NOANSWER/BUSY/CHANUNAVAIL -> ring-no-answer
    "BridgeEnter": "on_bridge_enter",  # caller and agent talk (bridge id kept for resync)
    "Hangup": "on_hangup",  # caller gone: abandon while waiting/ringing, end when talking
    "DeviceStateChange": "on_device_state",  # agents' phones: offline/busy pause, free unpause
    "MixMonitorStart": "on_mixmonitor_start",  # the call's recording exists
    "MusicOnHoldStart": "on_music_on_hold_start",  # a caller waits in an application again (no Redirect in between)
    "OriginateResponse": "on_originate_response",  # a callback's agent leg: answered or not
    "UserEvent": "on_user_event",  # HotlineAgentHungUp: the agent hung up first (asterisk/hangup_side.py)
    "FullyBooted": "on_fully_booted",
    "Shutdown": "on_shutdown",
}

USED_EVENTS: tuple[str, ...] = tuple(HANDLERS)
