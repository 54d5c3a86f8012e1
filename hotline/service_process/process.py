"""The service process after the call: route new and escalated cases, notify assignees,
tell the customer at the statuses the rules name (SMS or e-mail, opted-out never), invite
them to rate, create follow-up tasks.

Adapters are injected: `sms` (`TwilioSms`-like), `mail` (`SmtpMailer`-like) and `notify`
(the live publisher's side), so tests hand in fakes at the edge only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from casestore.accounts import Actor
from casestore.repository import CaseRepository
from casestore.service_process.outreach_store import OutreachRepository, TaskView
from casestore.service_process.routing_store import RoutingRepository, RoutingView
from casestore.service_process.rules import (
    ServiceRules,
    choose_channel,
    follow_up_after,
    tells_customer,
)
from casestore.service_process.survey_links import BadSurveyLink, issue, parse_sms_score, verify
from hotline.notify.sms import DeliveryError
from hotline.phone import to_e164
from hotline.service_process.templates import SUBJECTS, language_of, message_body, render

if TYPE_CHECKING:
    from hotline.service_process.follow_up_calls import FollowUpCalls

log = logging.getLogger("hotline.service")


class SmsSender(Protocol):
    async def send(self, to: str, body: str) -> str: ...


class MailSender(Protocol):
    async def send(self, to: str, subject: str, body: str) -> str: ...


@dataclass(frozen=True, slots=True)
class Outcome:
    """What telling the customer did: `sent`, `failed`, `opted_out`, `no_contact`, `not_needed`."""

    result: str
    message_id: int | None = None


class ServiceProcess:
    def __init__(
        self, *, cases: CaseRepository, routing: RoutingRepository, outreach: OutreachRepository,
        rules: ServiceRules, secret: bytes, public_url: str, clock: Callable[[], float],
        sms: SmsSender | None = None, mail: MailSender | None = None,
        notify: Callable[[RoutingView, str], None] = lambda view, why: None, region: str = "KR",
    ) -> None:
        self.cases, self.routing, self.outreach = cases, routing, outreach
        self.rules, self.secret, self.public_url, self.clock = rules, secret, public_url.rstrip("/"), clock
        self.sms, self.mail, self.notify, self.region = sms, mail, notify, region
        self.follow_up_calls: FollowUpCalls | None = None  # Hotline dials follow-ups (set by the wiring)

    async def take_follow_up(self, actor: Actor, task_id: int, agent_id: str | None = None) -> TaskView:
        """The agent takes a follow-up task; with a follow-up dialler Hotline places the call
        for `agent_id` (the taker's ACD agent) and records its outcome
        (hotline/service_process/follow_up_calls.py)."""
        if self.follow_up_calls is not None:
            return await self.follow_up_calls.take(actor, task_id, agent_id)
        return await self.outreach.take_follow_up(actor, task_id)

    # --- work orders ------------------------------------------------------------------

    async def route(self, number: str, queue: str | None = None) -> RoutingView | None:
        view = await self.routing.route(number, queue)
        if view is not None:
            await self._tell_assignee(view, "assigned")
        return view

    async def reassign(self, actor: Actor, number: str, login: str, team: str | None = None) -> RoutingView:
        view = await self.routing.reassign(actor, number, login, team)
        await self._tell_assignee(view, "reassigned")
        return view

    async def escalate(self) -> list[RoutingView]:
        views = await self.routing.escalate_due(self.clock())
        for view in views:
            await self._tell_assignee(view, "escalated")
        return views

    async def _tell_assignee(self, view: RoutingView, why: str) -> None:
        self.notify(view, why)
        if view.notify_email and self.mail is not None:
            try:
                await self.mail.send(view.notify_email, f"Case {view.case_number}: {why}",
                                     f"Case {view.case_number} was {why} to you (team {view.team}).")
            except DeliveryError as exc:
                log.warning("assignee notice for case %s failed: %s", view.case_number, exc)

    # --- status changes ---------------------------------------------------------------

    async def status_changed(self, number: str, status: str) -> Outcome:
        """After a case's status changed: follow-up task and customer message per the rules."""
        contact = await self.outreach.contact(number)
        after = follow_up_after(self.rules, contact.category, status)
        if after is not None:
            await self.outreach.add_follow_up(contact.case_id, self.clock() + after)
        if not tells_customer(self.rules, status):
            return Outcome("not_needed")
        return await self.tell_customer(number, status)

    async def tell_customer(self, number: str, event: str) -> Outcome:
        contact = await self.outreach.contact(number)
        if contact.opted_out:
            log.info("case %s: customer opted out, not messaged", number)
            return Outcome("opted_out")
        phone = to_e164(contact.phone, self.region) if contact.phone else None
        channel = choose_channel(phone if self.sms else None, contact.email if self.mail else None, contact.channel)
        if channel is None:
            return Outcome("no_contact")
        language = language_of(contact.language)
        recipient = phone if channel == "sms" else contact.email
        assert recipient is not None
        link = ""
        if event == "resolved":
            token, text = issue(self.secret, self.clock(), self.rules.survey_days * 86400)
            await self.outreach.add_invitation(
                contact.case_id, token.nonce, channel=channel, recipient=recipient, expires_at=token.expires_at,
            )
            link = f"{self.public_url}/survey/{text}?lang={language}"  # the page in their language
        body = await message_body(self.outreach, event, channel, language, case=number, link=link, status=event)
        due_by = self.clock() + self.rules.notify_within_minutes * 60
        message_id = await self.outreach.add_message(
            contact.case_id, event=event, channel=channel, recipient=recipient, language=language, body=body,
            due_by=due_by,
        )
        return await self._deliver(message_id, number, channel, recipient, language, body)

    async def _deliver(
        self, message_id: int, number: str, channel: str, recipient: str, language: str, body: str,
    ) -> Outcome:
        try:
            if channel == "sms":
                if self.sms is None:
                    raise DeliveryError("sms is not configured")
                provider_id = await self.sms.send(recipient, body)
            else:
                if self.mail is None:
                    raise DeliveryError("smtp is not configured")
                provider_id = await self.mail.send(recipient, render(SUBJECTS[language], case=number), body)
        except DeliveryError as exc:
            await self.outreach.mark_message(message_id, "failed", error=str(exc))
            log.warning("case %s: %s message failed: %s", number, channel, exc)
            return Outcome("failed", message_id)
        await self.outreach.mark_message(message_id, "sent", provider_id=provider_id[:64])
        return Outcome("sent", message_id)

    async def retry_failed(self) -> int:
        """Send failed messages again while their due time has not passed; returns how many went."""
        sent = 0
        for m in await self.outreach.failed_due(self.clock()):
            number = await self.outreach.case_number_of_message(m.id)
            outcome = await self._deliver(m.id, number, m.channel, m.recipient, m.language, m.body)
            sent += outcome.result == "sent"
        return sent

    # --- surveys ----------------------------------------------------------------------

    async def survey_case(self, token: str) -> str:
        """The case a survey link is for (BadSurveyLink when forged, expired or used)."""
        parsed = verify(self.secret, token, self.clock())
        return await self.outreach.invitation_case(parsed.nonce)

    async def answer_survey(self, token: str, score: int) -> str:
        parsed = verify(self.secret, token, self.clock())
        return await self.outreach.answer(parsed.nonce, score, "web")

    async def sms_reply(self, phone: str, body: str) -> str | None:
        """An SMS reply with a score: the case it rated, or None (no open invitation, no score)."""
        score = parse_sms_score(body)
        number = to_e164(phone, self.region)
        if score is None or number is None:
            return None
        nonce = await self.outreach.open_sms_invitation(number)
        if nonce is None:
            return None
        try:
            return await self.outreach.answer(nonce, score, "sms")
        except BadSurveyLink:
            return None
