from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from asterisk.ami_client import AmiClient
from asterisk.ami_parser import AmiMessage
from asterisk.errors import AmiActionError, AmiNotConnected
from asterisk.settings import AmiSettings
from tests.asterisk.fake_asterisk import FakeAsterisk


@pytest.fixture
async def fake() -> AsyncIterator[FakeAsterisk]:
    fake = FakeAsterisk(secret="s3cret")
    await fake.start()
    yield fake
    await fake.close()


def settings(fake: FakeAsterisk, secret: str = "s3cret") -> AmiSettings:
    return AmiSettings(port=fake.port, username="hotline", secret=secret, connect_timeout=2,
                       action_timeout=2, backoff_initial=0.01, backoff_max=0.05)


async def test_login_actions_and_event_lists(fake: FakeAsterisk) -> None:
    fake.devices["PJSIP/1001"] = "NOT_INUSE"
    fake.devices["PJSIP/1002"] = "UNAVAILABLE"
    events: list[AmiMessage] = []
    client = AmiClient(settings(fake), events.append)
    client.start()
    try:
        await client.wait_ready(5)
        pong = await client.action("Ping")
        assert pong.response.get("Ping") == "Pong"
        listing = await client.action("PJSIPShowEndpoints")
        assert [m.get("ObjectName") for m in listing.items] == ["1001", "1002"]
        assert listing.complete is not None and listing.complete.get("ListItems") == "2"
        with pytest.raises(AmiActionError) as err:
            await client.action("NoSuchAction")
        assert "Invalid/unknown command" in err.value.message
        fake.set_device("PJSIP/1001", "INUSE")
        ping = await client.action("Ping")  # events before this response are dispatched first
        assert ping.response.name == "Success"
        names = [e.name for e in events]
        assert "FullyBooted" in names and "DeviceStateChange" in names
        login = fake.received("Login")[0]
        assert login["Username"] == "hotline" and login["Events"] == "on"
        assert all(a["ActionID"].startswith("hl-") for a in fake.actions)
    finally:
        await client.stop()
    assert fake.received("Logoff")


async def test_bad_login_is_a_clear_error_and_retried_with_backoff(fake: FakeAsterisk) -> None:
    client = AmiClient(settings(fake, secret="WRONG"), lambda m: None)
    client.start()
    try:
        await fake.wait_for(lambda: len(fake.received("Login")) >= 3)
        assert fake.logins == 0
        with pytest.raises(AmiNotConnected, match="Authentication failed"):
            await client.wait_ready(0.01)
        fake.secret = "WRONG"  # the operator fixes the secret in Asterisk
        await client.wait_ready(5)
        assert fake.logins == 1
    finally:
        await client.stop()


async def test_dropped_connection_reconnects_and_runs_the_resync_hook(fake: FakeAsterisk) -> None:
    resyncs: list[int] = []

    async def on_connect(c: AmiClient) -> None:
        result = await c.action("CoreShowChannels")
        resyncs.append(len(result.items))

    client = AmiClient(settings(fake), lambda m: None, on_connect=on_connect)
    client.start()
    try:
        await client.wait_ready(5)
        fake.new_channel()
        fake.drop()
        await fake.wait_for(lambda: fake.logins >= 2)
        await client.wait_ready(5)
        assert resyncs == [0, 1]
        assert client.connections == 2
    finally:
        await client.stop()


async def test_action_in_flight_when_the_link_drops_fails_and_is_not_resent(fake: FakeAsterisk) -> None:
    client = AmiClient(settings(fake), lambda m: None)
    client.start()
    try:
        await client.wait_ready(5)
        fake.stall.add("Redirect")

        async def drop_on_redirect() -> None:
            await fake.wait_action("Redirect")
            fake.drop()

        dropper = asyncio.create_task(drop_on_redirect())
        with pytest.raises(AmiNotConnected):
            await client.action("Redirect", {"Channel": "PJSIP/none-00000001", "Context": "x", "Exten": "s",
                                             "Priority": "1"})
        await dropper
        await fake.wait_for(lambda: fake.logins >= 2)
        await client.wait_ready(5)
        await client.action("Ping")
        assert len(fake.received("Redirect")) == 1  # not re-sent after the reconnect
    finally:
        await client.stop()


async def test_malformed_frames_and_unknown_events_are_survived(fake: FakeAsterisk) -> None:
    events: list[AmiMessage] = []

    def handler(m: AmiMessage) -> None:
        events.append(m)
        if m.name == "Boom":
            raise RuntimeError("handler bug")

    client = AmiClient(settings(fake), handler)
    client.start()
    try:
        await client.wait_ready(5)
        fake.emit_raw(b"this is not ami\r\n\r\n")
        fake.emit("Boom", [("X", "1")])
        fake.emit("SomethingNew", [("Y", "2")])
        await client.action("Ping")
        assert [e.name for e in events][-2:] == ["Boom", "SomethingNew"]
        assert client.connections == 1
    finally:
        await client.stop()
