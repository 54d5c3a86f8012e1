"""A fake Asterisk for tests: a real asyncio AMI server on a free 127.0.0.1 port, and a FastAGI
client that calls Hotline's FastAGI server like Asterisk does, with the bytes of the real
transcripts (tests/fixtures/asterisk): the banner line without a blank line, CRLF AMI lines in
Asterisk's field order, EventList framing, `Authentication failed` about 1 s late (here
`auth_fail_delay`) then close; FastAGI with bare LF, the env block, multi-line 520, HANGUP + 511.

It keeps a small model of channels and devices so that Redirect into the connect context
"Dials" an agent; the test then answers, lets it ring out or hangs up. An Async Originate is
answered like the real one (transcript b): `Originate successfully queued`, a ringing channel
with the requested ChannelId, later an `OriginateResponse` with the same ActionID (Success
when the test answers it, Failure when it does not); an answered Originate into the callback
context runs that context (MixMonitor, Dial of HOTLINE_CB_DIAL, retries, Hangup).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import struct
import time
import wave
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tests.asterisk.fake_audiosocket import LiveCaller, LiveStreamLog, run_audiosocket

BANNER = b"Asterisk Call Manager/11.0.0\r\n"
USAGE_520 = (
    "520-Invalid command syntax.  Proper usage follows:\n"
    "Waits up to <replaceable>timeout</replaceable> milliseconds for channel to receive a DTMF digit.\n"
    "520 End of proper usage.\n"
)


def frame(pairs: Iterable[tuple[str, str]]) -> bytes:
    return b"".join(f"{k}: {v}\r\n".encode() for k, v in pairs) + b"\r\n"


def parse_action(text: str) -> list[tuple[str, str]]:
    pairs = []
    for line in text.split("\r\n"):
        key, _, value = line.partition(": ")
        if key:
            pairs.append((key, value))
    return pairs


@dataclass
class Channel:
    uniqueid: str
    name: str
    caller: str = "2001"
    caller_name: str = "Caller 2001"
    context: str = "hotline-incoming"
    exten: str = "1588"
    priority: int = 1
    application: str = "AGI"
    app_data: str = ""
    state: int = 6
    bridge: str = ""
    linkedid: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    dialing: Channel | None = None  # the agent leg being dialled

    def fields(self, prefix: str = "") -> list[tuple[str, str]]:
        desc = {6: "Up", 5: "Ringing", 4: "Ring", 0: "Down"}.get(self.state, "Up")
        return [
            (f"{prefix}Channel", self.name),
            (f"{prefix}ChannelState", str(self.state)),
            (f"{prefix}ChannelStateDesc", desc),
            (f"{prefix}CallerIDNum", self.caller),
            (f"{prefix}CallerIDName", self.caller_name),
            (f"{prefix}ConnectedLineNum", "<unknown>"),
            (f"{prefix}ConnectedLineName", "<unknown>"),
            (f"{prefix}Language", "en"),
            (f"{prefix}AccountCode", ""),
            (f"{prefix}Context", self.context),
            (f"{prefix}Exten", self.exten),
            (f"{prefix}Priority", str(self.priority)),
            (f"{prefix}Uniqueid", self.uniqueid),
            (f"{prefix}Linkedid", self.linkedid or self.uniqueid),
        ]


class AmiSession:
    def __init__(self, fake: FakeAsterisk, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.fake = fake
        self.reader = reader
        self.writer = writer
        self.logged_in = False
        self.events = False

    def send(self, data: bytes) -> None:
        if not self.writer.is_closing():
            self.writer.write(data)

    async def run(self) -> None:
        self.send(BANNER)
        buf = b""
        try:
            while True:
                data = await self.reader.read(65536)
                if not data:
                    return
                buf += data
                while b"\r\n\r\n" in buf:
                    raw, buf = buf.split(b"\r\n\r\n", 1)
                    pairs = parse_action(raw.decode())
                    if not await self.fake.handle(self, pairs):
                        return
        except (ConnectionError, asyncio.CancelledError):
            return
        finally:
            self.writer.close()


class FakeAsterisk:
    def __init__(
        self,
        username: str = "hotline",
        secret: str = "secret",
        *,
        auth_fail_delay: float = 0.05,
        connect_context: str = "hotline-connect",
        hold_context: str = "hotline-hold",
        recordings_dir: Path | None = None,
        callback_context: str = "hotline-callback",
    ) -> None:
        self.username = username
        self.secret = secret
        self.auth_fail_delay = auth_fail_delay
        self.connect_context = connect_context
        self.hold_context = hold_context
        self.callback_context = callback_context
        self.originating: dict[str, dict[str, str]] = {}  # uniqueid -> Originate action, until it resolves
        self.all_originated: dict[str, dict[str, str]] = {}  # uniqueid -> Originate action, kept
        self.answered_apps: dict[str, tuple[str, str]] = {}  # an Originate into an application
        self._pairs: list[tuple[str, str]] = []  # the action being handled, repeated keys kept
        self.recordings_dir = recordings_dir
        self.sessions: list[AmiSession] = []
        self.actions: list[dict[str, str]] = []  # every action received, in order
        self.channels: dict[str, Channel] = {}
        self.devices: dict[str, str] = {}  # PJSIP/1001 -> NOT_INUSE ...
        self.muted: dict[str, bool] = {}
        self.rooms: dict[str, set[str]] = {}  # ConfBridge room -> uniqueids in it
        self.conference_context = "hotline-conference"
        self.consult_context = "hotline-consult"
        self.stall: set[str] = set()  # actions recorded but never answered (a hung Asterisk)
        self.refuse: set[str] = set()  # actions answered with an error (modules still loading)
        self.logins = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._changed = asyncio.Condition()
        self._ids = itertools.count(100)
        self._chan_ids = itertools.count(1)
        self._bridges = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()

    # -- server ----------------------------------------------------------------------------

    async def start(self, port: int = 0) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        self.drop()
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = AmiSession(self, reader, writer)
        self.sessions.append(session)
        try:
            await session.run()
        finally:
            self.sessions.remove(session)
            await self._notify()

    def drop(self) -> None:
        """The AMI link breaks (Asterisk restart, network): close every session."""
        for session in list(self.sessions):
            session.writer.close()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[], bool], within: float = 5.0) -> None:
        async def waiter() -> None:
            async with self._changed:
                await self._changed.wait_for(predicate)

        await asyncio.wait_for(waiter(), within)

    async def wait_action(self, name: str, count: int = 1, within: float = 5.0) -> dict[str, str]:
        await self.wait_for(lambda: len(self.received(name)) >= count, within)
        return self.received(name)[count - 1]

    def received(self, name: str) -> list[dict[str, str]]:
        return [a for a in self.actions if a.get("Action") == name]

    # -- events ----------------------------------------------------------------------------

    def emit(self, name: str, pairs: list[tuple[str, str]], privilege: str = "call,all") -> None:
        data = frame([("Event", name), ("Privilege", privilege), *pairs])
        for session in self.sessions:
            if session.logged_in and session.events:
                session.send(data)

    def emit_raw(self, data: bytes) -> None:
        for session in self.sessions:
            if session.logged_in:
                session.send(data)

    def set_device(self, device: str, state: str) -> None:
        self.devices[device] = state
        self.emit("DeviceStateChange", [("Device", device), ("State", state)])

    # -- actions ---------------------------------------------------------------------------

    async def handle(self, session: AmiSession, pairs: list[tuple[str, str]]) -> bool:
        action = {k: v for k, v in pairs}
        self._pairs = pairs
        self.actions.append(action)
        await self._notify()
        name = action.get("Action", "")
        aid = action.get("ActionID", "")
        ident = [("ActionID", aid)] if aid else []
        if name == "Login":
            if action.get("Username") == self.username and action.get("Secret") == self.secret:
                session.logged_in = True
                session.events = action.get("Events", "on").lower() != "off"
                self.logins += 1
                session.send(frame([("Response", "Success"), *ident, ("Message", "Authentication accepted")]))
                if session.events:
                    session.send(frame([("Event", "FullyBooted"), ("Privilege", "system,all"),
                                        ("Uptime", "52"), ("LastReload", "52"), ("Status", "Fully Booted")]))
                await self._notify()
                return True
            await asyncio.sleep(self.auth_fail_delay)
            session.send(frame([("Response", "Error"), *ident, ("Message", "Authentication failed")]))
            await session.writer.drain()
            return False
        if not session.logged_in:
            session.send(frame([("Response", "Error"), *ident, ("Message", "Permission denied")]))
            return True
        if name in self.stall:
            return True
        if name in self.refuse:
            session.send(frame([("Response", "Error"), *ident, ("Message", f"Invalid/unknown command: {name}")]))
            return True
        handler = getattr(self, f"_action_{name.lower()}", None)
        if handler is None:
            session.send(frame([("Response", "Error"), *ident, ("Message",
                         f"Invalid/unknown command: {name}. Use Action: ListCommands to show available commands.")]))
            return True
        result: bool = handler(session, action, ident)
        await self._notify()
        return result

    def _action_logoff(self, s: AmiSession, a: dict[str, str], ident: list[tuple[str, str]]) -> bool:
        s.send(frame([("Response", "Goodbye"), *ident, ("Message", "Thanks for all the fish.")]))
        return False

    def _action_ping(self, s: AmiSession, a: dict[str, str], ident: list[tuple[str, str]]) -> bool:
        s.send(frame([("Response", "Success"), *ident, ("Ping", "Pong"), ("Timestamp", f"{time.time():.6f}")]))
        return True

    def _list(self, s: AmiSession, ident: list[tuple[str, str]], message: str, items: list[list[tuple[str, str]]],
              item_event: str, complete: str) -> None:
        s.send(frame([("Response", "Success"), *ident, ("EventList", "start"), ("Message", message)]))
        for item in items:
            s.send(frame([("Event", item_event), *ident, *item]))
        s.send(frame([("Event", complete), *ident, ("EventList", "Complete"), ("ListItems", str(len(items)))]))

    def _action_coreshowchannels(self, s: AmiSession, a: dict[str, str], ident: list[tuple[str, str]]) -> bool:
        items = [
            [*c.fields(), ("Application", c.application), ("ApplicationData", c.app_data),
             ("Duration", "00:00:01"), ("BridgeId", c.bridge)]
            for c in self.channels.values()
        ]
        self._list(s, ident, "Channels will follow", items, "CoreShowChannel", "CoreShowChannelsComplete")
        return True

    def _action_devicestatelist(self, s: AmiSession, a: dict[str, str], ident: list[tuple[str, str]]) -> bool:
        items = [[("Device", d), ("State", st)] for d, st in self.devices.items()]
        self._list(s, ident, "Device State Changes will follow", items, "DeviceStateChange",
                   "DeviceStateListComplete")
        return True

    def _action_pjsipshowendpoints(self, s: AmiSession, a: dict[str, str], ident: list[tuple[str, str]]) -> bool:
        text = {"NOT_INUSE": "Not in use", "INUSE": "In use", "UNAVAILABLE": "Unavailable",
                "RINGING": "Ringing", "BUSY": "Busy"}
        items = [
            [("ObjectType", "endpoint"), ("ObjectName", d[6:]), ("Transport", "transport-udp"),
             ("Aor", d[6:]), ("Auths", d[6:]), ("OutboundAuths", ""), ("Contacts", ""),
             ("DeviceState", text.get(st, "Unknown")), ("ActiveChannels", "0")]
            for d, st in self.devices.items() if d.startswith("PJSIP/")
        ]
        s.send(frame([("Response", "Success"), *ident, ("EventList", "start"),
                      ("Message", "A listing of Endpoints follows, presented as EndpointList events")]))
        for item in items:
            s.send(frame([("Event", "EndpointList"), *ident, *item]))
        s.send(frame([("Event", "EndpointListComplete"), *ident, ("EventList", "Complete"),
                      ("ListItems", str(len(items)))]))
        return True

    def _action_bridgelist(self, s: AmiSession, a: dict[str, str], ident: list[tuple[str, str]]) -> bool:
        bridges = sorted({c.bridge for c in self.channels.values() if c.bridge})
        items = [
            [("BridgeUniqueid", b), ("BridgeType", "basic"), ("BridgeTechnology", "simple_bridge"),
             ("BridgeCreator", "<unknown>"), ("BridgeName", "<unknown>"),
             ("BridgeNumChannels", str(sum(1 for c in self.channels.values() if c.bridge == b))),
             ("BridgeVideoSourceMode", "none")]
            for b in bridges
        ]
        self._list(s, ident, "Bridge listing will follow", items, "BridgeListItem", "BridgeListComplete")
        return True

    def _action_getvar(self, s: AmiSession, a: dict[str, str], ident: list[tuple[str, str]]) -> bool:
        chan = self._by_name(a.get("Channel", ""))
        if chan is None:
            s.send(frame([("Response", "Error"), *ident, ("Message", "No such channel")]))
            return True
        var = a.get("Variable", "")
        s.send(frame([("Response", "Success"), *ident, ("Variable", var), ("Value", chan.variables.get(var, ""))]))
        return True

    def _action_setvar(self, s: AmiSession, a: dict[str, str], ident: list[tuple[str, str]]) -> bool:
        chan = self._by_name(a.get("Channel", ""))
        if chan is None:
            s.send(frame([("Response", "Error"), *ident, ("Message", "No such channel")]))
            return True
        chan.variables[a.get("Variable", "")] = a.get("Value", "")
        s.send(frame([("Response", "Success"), *ident, ("Message", "Variable Set")]))
        return True

    def _action_hangup(self, s: AmiSession, a: dict[str, str], ident: list[tuple[str, str]]) -> bool:
        chan = self._by_name(a.get("Channel", ""))
        if chan is None:
            s.send(frame([("Response", "Error"), *ident, ("Message", "No such channel")]))
            return True
        s.send(frame([("Response", "Success"), *ident, ("Message", "Channel Hungup")]))
        self.hangup(chan.uniqueid)
        return True

    def _action_mixmonitormute(self, s: AmiSession, a: dict[str, str], ident: list[tuple[str, str]]) -> bool:
        chan = self._by_name(a.get("Channel", ""))
        if chan is None:
            s.send(frame([("Response", "Error"), *ident, ("Message", "No such channel")]))
            return True
        self.muted[chan.uniqueid] = a.get("State") == "1"
        s.send(frame([("Response", "Success"), *ident]))
        return True

    def _action_redirect(self, s: AmiSession, a: dict[str, str], ident: list[tuple[str, str]]) -> bool:
        chan = self._by_name(a.get("Channel", ""))
        if chan is None:
            s.send(frame([("Response", "Error"), *ident, ("Message", "No such channel")]))
            return True
        extra = self._by_name(a["ExtraChannel"]) if a.get("ExtraChannel") else None
        if a.get("ExtraChannel") and extra is None:
            s.send(frame([("Response", "Error"), *ident, ("Message", "No such channel")]))
            return True
        s.send(frame([("Response", "Success"), *ident, ("Message", "Redirect successful")]))
        # Leaving a Dial's bridge hangs up the peer, unless it is redirected too (ExtraChannel).
        peers = [c for c in self.channels.values() if chan.bridge and c.bridge == chan.bridge and c is not chan]
        moved = [(chan, a.get("Context", ""), a.get("Exten", ""))]
        if extra is not None:
            moved.append((extra, a.get("ExtraContext", ""), a.get("ExtraExten", "")))
        for c, _, _ in moved:
            self._leave_room(c)
            c.bridge = ""
        for peer in peers:
            if peer is not extra:
                peer.bridge = ""
                self._hangup_one(peer)
                if peer.name.startswith("PJSIP/"):
                    self.set_device(f"PJSIP/{peer.caller}", "NOT_INUSE")
        for c, context, exten in moved:
            self._goto(c, context, exten)
        return True

    def _goto(self, chan: Channel, context: str, exten: str) -> None:
        if chan.dialing is not None:
            self._end_dial(chan, "CANCEL")
        chan.context, chan.exten, chan.priority = context, exten, 1
        if context == self.connect_context:
            self._dial(chan, exten)
        elif context in (self.conference_context, self.consult_context):
            room = exten if context == self.conference_context else f"consult-{exten}"
            self.rooms.setdefault(room, set()).add(chan.uniqueid)
            chan.application, chan.app_data = "ConfBridge", room
        else:
            chan.application, chan.app_data = "MusicOnHold", "default"
            self.emit("MusicOnHoldStart", [*chan.fields(), ("Class", "default")])

    def _leave_room(self, chan: Channel) -> None:
        for members in self.rooms.values():
            members.discard(chan.uniqueid)

    def room_of(self, uniqueid: str) -> str:
        """The ConfBridge room a channel is in ("" none)."""
        return next((room for room, members in self.rooms.items() if uniqueid in members), "")

    def _action_originate(self, s: AmiSession, a: dict[str, str], ident: list[tuple[str, str]]) -> bool:
        if a.get("Async", "").lower() != "true":
            s.send(frame([("Response", "Error"), *ident, ("Message", "this fake only does Async Originate")]))
            return True
        n = next(self._chan_ids)
        target = a.get("Channel", "")
        uniqueid = a.get("ChannelId") or f"{1795422400 + n}.{n}"
        cid = a.get("CallerID", "")
        num = cid[cid.find("<") + 1 : cid.find(">")] if "<" in cid else cid
        chan = Channel(uniqueid, f"{target.split('@')[0]}-{n:08x}", num, "Callback", context=a.get("Context", ""),
                       exten=a.get("Exten", "s"), state=0, application="AppDial2", app_data="(Outgoing Line)")
        for key, value in self._pairs:
            if key == "Variable":
                name, _, val = value.partition("=")
                chan.variables[name] = val
        s.send(frame([("Response", "Success"), *ident, ("Message", "Originate successfully queued")]))
        self.channels[uniqueid] = chan
        self.originating[uniqueid] = a
        self.all_originated[uniqueid] = a
        if a.get("Application"):
            self.answered_apps[uniqueid] = (a["Application"], a.get("Data", ""))
        if target.startswith("PJSIP/"):
            self.set_device(target, "RINGING")
        return True

    def _originate_response(self, uniqueid: str, chan: Channel, ok: bool, reason: str) -> None:
        a = self.originating.pop(uniqueid)
        self.emit("OriginateResponse", [
            ("ActionID", a.get("ActionID", "")), ("Response", "Success" if ok else "Failure"),
            ("Channel", chan.name if ok else a.get("Channel", "")), ("Context", a.get("Context", "")),
            ("Exten", a.get("Exten", "")), ("Reason", reason), ("Uniqueid", uniqueid if ok else "<unknown>"),
            ("CallerIDNum", chan.caller), ("CallerIDName", chan.caller_name),
        ])

    def answer_originate(self, uniqueid: str) -> None:
        """The Originated phone is answered: OriginateResponse Success, then its dialplan runs."""
        chan = self.channels[uniqueid]
        chan.state, chan.priority = 6, 1
        self._originate_response(uniqueid, chan, True, "4")
        device = self.originating_device(chan)
        if device:
            self.set_device(device, "INUSE")
        if self.originated(uniqueid).get("Application"):
            chan.application, chan.app_data = self.answered_apps.pop(uniqueid)
            return
        if chan.context in (self.conference_context, self.consult_context):
            self._goto(chan, chan.context, chan.exten)
            return
        if chan.context == self.callback_context:
            if self.recordings_dir is not None and "HOTLINE_REC" not in chan.variables:
                chan.variables["HOTLINE_REC"] = "1"
                self.emit("MixMonitorStart", chan.fields())
            chan.variables["HOTLINE_TRY"] = "0"
            self._dial_customer(chan)

    def originate_fails(self, uniqueid: str, reason: str = "3") -> None:
        """The Originated phone is not answered (3), busy (5) or unreachable (0/8)."""
        chan = self.channels[uniqueid]
        self._originate_response(uniqueid, chan, False, reason)
        self._hangup_one(chan, {"3": "19", "5": "17"}.get(reason, "16"))
        device = self.originating_device(chan)
        if device:
            self.set_device(device, "NOT_INUSE")

    def originated(self, uniqueid: str) -> dict[str, str]:
        return self.all_originated.get(uniqueid, {})

    @staticmethod
    def originating_device(chan: Channel) -> str:
        return chan.name.rsplit("-", 1)[0] if chan.name.startswith("PJSIP/") else ""

    def _dial_customer(self, chan: Channel) -> None:
        chan.variables["HOTLINE_TRY"] = str(int(chan.variables.get("HOTLINE_TRY", "0")) + 1)
        dial = chan.variables.get("HOTLINE_CB_DIAL", "")
        n = next(self._chan_ids)
        leg = Channel(f"{1795422400 + n}.{n}", f"{dial.split('@')[0]}-{n:08x}", dial.partition("/")[2].split("@")[0], "", context="from-trunk",
                      exten="s", state=5, application="AppDial", app_data="(Outgoing Line)",
                      linkedid=chan.uniqueid)
        self.channels[leg.uniqueid] = leg
        chan.dialing = leg
        chan.application, chan.app_data = "Dial", f"{dial},{chan.variables.get('HOTLINE_CB_TIMEOUT', '')}"
        self.emit("DialBegin", [*chan.fields(), *leg.fields("Dest"), ("DialString", dial.partition("/")[2])])

    def customer_answers(self, uniqueid: str) -> None:
        """The callback's customer picks up: DialEnd ANSWER, agent and customer bridged."""
        chan = self.channels[uniqueid]
        leg = self._end_dial(chan, "ANSWER")
        bridge = f"bd{next(self._bridges):06d}-fake"
        for c in (chan, leg):
            c.bridge = bridge
            self.emit("BridgeEnter", [("BridgeUniqueid", bridge), *c.fields()])
        if self.recordings_dir is not None:
            self.recordings_dir.mkdir(parents=True, exist_ok=True)
            write_wav(self.recordings_dir / f"{chan.variables.get('HOTLINE_CALL', chan.uniqueid)}.wav",
                      b"\x00\x01" * 800)

    def customer_fails(self, uniqueid: str, status: str = "NOANSWER") -> None:
        """One customer attempt fails; the callback context dials again or hangs up the agent."""
        chan = self.channels[uniqueid]
        self._end_dial(chan, status)
        if int(chan.variables.get("HOTLINE_TRY", "1")) < int(chan.variables.get("HOTLINE_CB_ATTEMPTS", "1")):
            self._dial_customer(chan)  # after Wait(HOTLINE_CB_DELAY), not modelled
        else:
            self.hangup(uniqueid)

    # -- the model's dialplan ------------------------------------------------------------

    def _by_name(self, name: str) -> Channel | None:
        """Asterisk looks a channel up by name, then by Uniqueid."""
        found = next((c for c in self.channels.values() if c.name == name), None)
        return found or self.channels.get(name)

    def new_channel(self, caller: str = "2001", caller_name: str = "Caller 2001", exten: str = "1588") -> Channel:
        n = next(self._chan_ids)
        chan = Channel(f"{1795422400 + n}.{n}", f"PJSIP/{caller}-{n:08x}", caller, caller_name, exten=exten)
        self.channels[chan.uniqueid] = chan
        return chan

    def to_hold(self, chan: Channel) -> None:
        chan.context, chan.exten, chan.priority = self.hold_context, "s", 2
        chan.application, chan.app_data = "MusicOnHold", "default"

    def _dial(self, chan: Channel, agent: str) -> None:
        n = next(self._chan_ids)
        leg = Channel(f"{1795422400 + n}.{n}", f"PJSIP/{agent}-{n:08x}", agent, f"Agent {agent}",
                      context="hotline-agents", exten=agent, state=5, application="AppDial",
                      app_data="(Outgoing Line)", linkedid=chan.uniqueid)
        self.channels[leg.uniqueid] = leg
        chan.dialing = leg
        chan.application, chan.app_data = "Dial", f"PJSIP/{agent},20"
        if self.recordings_dir is not None and "HOTLINE_REC" not in chan.variables:
            chan.variables["HOTLINE_REC"] = "1"
            self.emit("MixMonitorStart", chan.fields())
        self.emit("DialBegin", [*chan.fields(), *leg.fields("Dest"), ("DialString", f"PJSIP/{agent}")])
        self.set_device(f"PJSIP/{agent}", "RINGING")

    def _end_dial(self, chan: Channel, status: str) -> Channel:
        leg = chan.dialing
        assert leg is not None
        chan.dialing = None
        if status == "ANSWER":
            leg.state = 6
        self.emit("DialEnd", [*chan.fields(), *leg.fields("Dest"), ("DialStatus", status)])
        if status != "ANSWER":
            self._hangup_one(leg, "19" if status == "NOANSWER" else "16")
            self.set_device(f"PJSIP/{leg.caller}", "NOT_INUSE")
        return leg

    def answer(self, caller_uniqueid: str) -> None:
        """The ringing agent picks up: DialEnd ANSWER, both legs enter one bridge."""
        chan = self.channels[caller_uniqueid]
        leg = self._end_dial(chan, "ANSWER")
        bridge = f"bd{next(self._bridges):06d}-fake"
        for c in (leg, chan):
            c.bridge = bridge
            self.emit("BridgeEnter", [("BridgeUniqueid", bridge), ("BridgeType", "basic"),
                                      ("BridgeTechnology", "simple_bridge"), ("BridgeCreator", "<unknown>"),
                                      ("BridgeName", "<unknown>"), ("BridgeNumChannels", "1"),
                                      ("BridgeVideoSourceMode", "none"), *c.fields()])
        self.set_device(f"PJSIP/{leg.caller}", "INUSE")
        if self.recordings_dir is not None:
            self.recordings_dir.mkdir(parents=True, exist_ok=True)
            write_wav(self.recordings_dir / f"{chan.uniqueid}.wav", b"\x00\x01" * 800)

    def ring_out(self, caller_uniqueid: str) -> None:
        """Dial's timeout: DialEnd NOANSWER, the caller goes back to hold."""
        chan = self.channels[caller_uniqueid]
        self._end_dial(chan, "NOANSWER")
        self.to_hold(chan)

    def _hangup_one(self, chan: Channel, cause: str = "16") -> None:
        self.channels.pop(chan.uniqueid, None)
        self._leave_room(chan)
        text = {"16": "Normal Clearing", "19": "No answer", "17": "User busy"}.get(cause, "Unknown")
        self.emit("Hangup", [*chan.fields(), ("Cause", cause), ("Cause-txt", text)])

    def hangup(self, uniqueid: str) -> None:
        """A channel hangs up; a bridged or dialled peer goes with it."""
        chan = self.channels.get(uniqueid)
        if chan is None:
            return
        if chan.dialing is not None:
            self._end_dial(chan, "CANCEL")
        if uniqueid in self.originating:  # hung up before it was answered: the Originate fails
            self.originate_fails(uniqueid, "1")
            return
        peers = [c for c in self.channels.values() if chan.bridge and c.bridge == chan.bridge and c is not chan]
        for c in (chan, *peers):
            self._hangup_one(c)
            if c.name.startswith("PJSIP/") and c.linkedid and c.linkedid != c.uniqueid:
                self.set_device(f"PJSIP/{c.caller}", "NOT_INUSE")
            elif self.originating_device(c) and c.linkedid in ("", c.uniqueid):
                self.set_device(self.originating_device(c), "NOT_INUSE")

    def _bridged_legs(self, chan: Channel) -> list[Channel]:
        return [c for c in self.channels.values() if chan.bridge and c.bridge == chan.bridge and c is not chan]

    def agent_hangs_up(self, caller_uniqueid: str, *, survey: bool = False) -> None:
        """The talking agent hangs up first: its leg goes; the caller's Dial (option g) goes
        on at the connect context's `talked` priority, which sends UserEvent
        HotlineAgentHungUp, then the survey's AGI (`survey`: the channel stays) or Hangup."""
        chan = self.channels[caller_uniqueid]
        for leg in self._bridged_legs(chan):
            self._hangup_one(leg)
            self.set_device(f"PJSIP/{leg.caller}", "NOT_INUSE")
        chan.bridge = ""
        chan.priority += 4  # past Dial, GotoIf, MusicOnHold, Hangup: `talked`
        chan.application, chan.app_data = "UserEvent", "HotlineAgentHungUp"
        self.emit("UserEvent", [*chan.fields(), ("UserEvent", "HotlineAgentHungUp")], privilege="user,all")
        if not survey:
            self._hangup_one(chan)

    def caller_hangs_up_talking(self, caller_uniqueid: str) -> None:
        """The talking caller hangs up, in Asterisk's order: Dial hangs up the agent's leg
        (its Hangup event first), then the caller's channel goes."""
        chan = self.channels[caller_uniqueid]
        for leg in self._bridged_legs(chan):
            self._hangup_one(leg)
            self.set_device(f"PJSIP/{leg.caller}", "NOT_INUSE")
        self._hangup_one(chan)

    # -- FastAGI: the fake as Asterisk calling Hotline ---------------------------------------

    async def agi_call(self, port: int, caller: CallerScript, *, exten: str = "1588",
                       script: str = "ivr") -> AgiCallResult:
        """Place a call that runs AGI(agi://127.0.0.1:port/script) and plays the caller's part.

        After the AGI session the model follows the generated dialplan: HOTLINE_QUEUE set ->
        the caller waits in hold; otherwise the channel hangs up.
        """
        chan = self.new_channel(caller.number, caller.name, exten)
        result = AgiCallResult(chan)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        env = [
            ("agi_network", "yes"), ("agi_network_script", script),
            ("agi_request", f"agi://127.0.0.1:{port}/{script}"), ("agi_channel", chan.name),
            ("agi_language", "en"), ("agi_type", "PJSIP"), ("agi_uniqueid", chan.uniqueid),
            ("agi_version", "22.10.1"), ("agi_callerid", caller.number), ("agi_calleridname", caller.name),
            ("agi_callingpres", "0"), ("agi_callingani2", "0"), ("agi_callington", "0"),
            ("agi_callingtns", "0"), ("agi_dnid", exten), ("agi_rdnis", "unknown"),
            ("agi_context", "hotline-incoming"), ("agi_extension", exten), ("agi_priority", "3"),
            ("agi_enhanced", "0.0"), ("agi_accountcode", ""), ("agi_threadid", "140376753743552"),
        ]
        data = "".join(f"{k}: {v}\n" for k, v in env) + "\n"
        # Asterisk writes the env block in pieces; split it to exercise the framing.
        for i in range(0, len(data), 97):
            writer.write(data[i : i + 97].encode())
            await writer.drain()
        dead = False
        try:
            while True:
                line = await asyncio.wait_for(reader.readline(), 10.0)
                if not line:
                    break
                command = line.decode().rstrip("\n")
                result.commands.append(command)
                if dead:
                    writer.write(b"511 Command Not Permitted on a dead channel or intercept routine\n")
                    await writer.drain()
                    break
                if command.startswith("EXEC AudioSocket "):  # tests/asterisk/fake_audiosocket.py
                    live = caller.live.pop(0) if caller.live else LiveCaller()
                    reply, hang = await run_audiosocket(command.split(" ", 2)[2].strip('"'), live, caller.streams)
                else:
                    reply, hang = self._agi_reply(chan, command, caller)
                writer.write(reply.encode())
                if hang:
                    writer.write(b"HANGUP\n")
                    dead = True
                    result.hung_up = True
                await writer.drain()
                if command.startswith("HANGUP"):
                    result.hung_up = True
                    break
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
        if result.hung_up:
            self.hangup(chan.uniqueid)
        elif chan.variables.get("HOTLINE_QUEUE"):
            self.to_hold(chan)
        else:
            self.hangup(chan.uniqueid)
        await self._notify()
        return result

    def _agi_reply(self, chan: Channel, command: str, caller: CallerScript) -> tuple[str, bool]:
        words = command.split(" ")
        verb = " ".join(words[:2]) if len(words) > 1 else words[0]
        if caller.hangup_at is not None and caller.commands_seen >= caller.hangup_at:
            return "200 result=-1\n", True
        caller.commands_seen += 1
        if verb == "ANSWER":
            return "200 result=0\n", False
        if verb == "STREAM FILE":
            caller.played.append(words[2])
            escape = words[3].strip('"') if len(words) > 3 else ""
            if caller.keys and caller.keys[0] != "" and escape and caller.keys[0][0] in escape:
                digit = caller.pop_key()
                return f"200 result={ord(digit)} endpos=4000\n", False
            return "200 result=0 endpos=11234\n", False
        if verb == "WAIT FOR":  # WAIT FOR DIGIT <ms>
            if len(words) < 4:
                return USAGE_520, False
            digit = caller.pop_key()
            return (f"200 result={ord(digit)}\n" if digit else "200 result=0\n"), False
        if verb == "SET VARIABLE":
            value = command.split(" ", 3)[3] if len(words) > 3 else ""
            chan.variables[words[2]] = value.strip('"')
            return "200 result=1\n", False
        if verb == "GET VARIABLE":
            found = chan.variables.get(words[2])
            return ("200 result=1 (" + found + ")\n") if found is not None else "200 result=0\n", False
        if verb == "RECORD FILE":
            path = Path(words[2] + "." + words[3])
            escape = words[4].strip('"') if len(words) > 4 else ""
            if caller.record_keys and caller.record_keys[0] in escape:
                digit = caller.record_keys.pop(0)
                path.parent.mkdir(parents=True, exist_ok=True)
                write_wav(path, silence(0.5))
                return f"200 result={ord(digit)} (dtmf) endpos=4000\n", False
            speech = caller.speech.pop(0) if caller.speech else b""
            path.parent.mkdir(parents=True, exist_ok=True)
            write_wav(path, speech)
            return f"200 result=0 (timeout) endpos={len(speech) // 2}\n", False
        if verb == "HANGUP":
            return "200 result=1\n", False
        if verb == "CHANNEL STATUS":
            return "200 result=6\n", False  # AST_STATE_UP
        if verb in ("VERBOSE", "EXEC"):
            return "200 result=0\n", False
        return "510 Invalid or unknown command\n", False


@dataclass
class CallerScript:
    """What the simulated caller does: keys pressed in order ('' = lets one wait time out)."""

    number: str = "2001"
    name: str = "Caller 2001"
    keys: list[str] = field(default_factory=list)
    speech: list[bytes] = field(default_factory=list)  # PCM for each RECORD FILE
    record_keys: list[str] = field(default_factory=list)  # keys pressed while being recorded
    hangup_at: int | None = None  # hang up during the Nth command (0-based)
    commands_seen: int = 0
    played: list[str] = field(default_factory=list)
    live: list[LiveCaller] = field(default_factory=list)  # the caller's part of each AudioSocket()
    streams: list[LiveStreamLog] = field(default_factory=list)  # what each AudioSocket() carried

    def pop_key(self) -> str:
        return self.keys.pop(0) if self.keys else ""


@dataclass
class AgiCallResult:
    channel: Channel
    commands: list[str] = field(default_factory=list)
    hung_up: bool = False


def write_wav(path: Path, pcm: bytes) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(pcm)


def silence(seconds: float) -> bytes:
    return struct.pack("<h", 0) * int(8000 * seconds)
