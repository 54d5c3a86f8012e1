"""The service rig: the sample app (as `web_rig`) with SMS through the fake Twilio Messages
API, e-mail to a real SMTP server of the test, teams, people and a customer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from acd.clock import VirtualClock
from casestore.accounts import Actor
from casestore.store import open_store
from hotline.service_process.process import ServiceProcess
from hotline.service_process.wiring import ROUND_KEY, SERVICE_KEY, ServiceRound
from hotline.wiring import build_app
from tests.service.fakes import ACCOUNT, FROM, TOKEN, FakeMessagesApi, SmtpInbox, smtp_server
from tests.web.harness import START, WebRig, sample_config

PHONE = "+821012345678"
SECRET = "s" * 40


@dataclass
class ServiceRig:
    web: WebRig
    sms: FakeMessagesApi
    inbox: SmtpInbox
    headers: dict[str, dict[str, str]]

    @property
    def process(self) -> ServiceProcess:
        return self.web.app[SERVICE_KEY]

    @property
    def round(self) -> ServiceRound:
        return self.web.app[ROUND_KEY]


@pytest.fixture
async def service_rig(tmp_path: Path) -> AsyncIterator[ServiceRig]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}"
    async with open_store(url, create=True):
        pass
    async with smtp_server() as (inbox, port):
        config = sample_config(
            messaging={"enabled": True, "account_sid": ACCOUNT, "auth_token": TOKEN, "from": FROM},
            smtp={"enabled": True, "host": "127.0.0.1", "port": port, "from": "care@skyrail.example"},
            service={
                "routing": [{"team": "complaints", "category": "complaint", "skill": "complaints"}, {"team": "desk"}],
                "escalate_before_minutes": 15, "follow_up": [{"category": "complaint", "after_hours": 24}],
                "survey_secret": SECRET, "round_seconds": 60,
            },
        )
        sms = FakeMessagesApi()
        clock = VirtualClock(START)
        links: list[str] = []
        app = build_app(config, clock=clock, store_url=url, speech=False, asterisk=False, announce=links.append,
                        twilio_http_client=sms)
        async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as client:
            rig = WebRig(app, client, clock, links)
            await rig.add_user("ada", "admin")
            await rig.add_user("sue", "supervisor")
            await rig.add_user("kim", "agent", agent_id="1001")
            await rig.add_user("lee", "agent", agent_id="1002")
            routing = app[SERVICE_KEY].routing
            await routing.add_team(Actor("test"), "complaints", "Complaints")
            await routing.set_member(Actor("test"), "complaints", "sue", lead=True,
                                     notify_email="sue@skyrail.example")
            await routing.set_member(Actor("test"), "complaints", "kim", skills=["complaints"])
            await routing.set_member(Actor("test"), "complaints", "lee", skills=["complaints"])
            await rig.store.cases.upsert_customer(PHONE, language="ko")
            headers = {login: await rig.bearer(login) for login in ("ada", "sue", "kim", "lee")}
            yield ServiceRig(rig, sms, inbox, headers)
