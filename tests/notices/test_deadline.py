"""Delivery deadlines: a mail server dripping its greeting neither holds a run nor a webhook.

The slow peer is a real socket server on loopback that answers "220" and then one
byte at a time, never ending the line (no per-read timeout ever fires); the
webhook peer is the aiohttp receiver the outbox tests use.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from email.message import EmailMessage

from netwatch.inventory import SmtpDelivery, WebhookDelivery
from netwatch.notices.issue import issue_notices
from netwatch.notices.outbox import CONCURRENCY, deliver_due
from netwatch.notices.smtp_send import DeliveryError, send_mail
from netwatch.store import Store, StoreThread
from tests.notices.city import DAY, fault
from tests.notices.mail import DRIP_HOST, Receiver, dripping_smtp, start_receiver
from tests.notices.test_outbox import HOOK_SECRET, T0, deliveries, hook_url, inventory

DEADLINE = 2.0  # seconds: the smtp.deadline these tests set


def slow_smtp(port: int) -> SmtpDelivery:
    return SmtpDelivery(host=DRIP_HOST, port=port, sender="nw@example.invalid",
                        recipients=("ops@example.invalid",), deadline=DEADLINE)


async def test_a_dripping_server_fails_the_send_at_its_deadline() -> None:
    """send_mail gives up at smtp.deadline, says so, and shuts the connection (no thread left
    reading from the server)."""
    with dripping_smtp(every=0.3) as drip:
        smtp = slow_smtp(drip.port)
        try:
            await send_mail(smtp, ["ops@example.invalid"], _message())
        except DeliveryError as exc:
            error = str(exc)
        else:
            raise AssertionError("the send did not fail")
        assert error == "SMTP connect: not done within the 2 s deadline (smtp.deadline)"
        assert await asyncio.to_thread(drip.closed_by_client.wait, 30)


async def test_webhooks_are_recorded_while_a_slow_mail_send_is_in_flight(
        store: Store, db: StoreThread) -> None:
    """More notices than there are delivery slots, each by mail (a dripping server) and webhook:
    every webhook is recorded ``sent`` while the mail sends are still in flight, and the mail
    rows end as retries naming the deadline."""
    receiver = Receiver(HOOK_SECRET)
    server = await start_receiver(receiver)
    try:
        with dripping_smtp(every=0.3) as drip:
            inv = inventory(slow_smtp(drip.port),
                            WebhookDelivery(hook_url(server.port or 0), HOOK_SECRET))
            inv = replace(inv, counties={"east": inv.counties["east"]})
            fault(store, "site-1", T0 - 3 * DAY, county="east")
            days = CONCURRENCY + 2
            for day in range(days):  # one notice a day: an smtp row and a webhook row each
                issue_notices(store, inv, counties=["east"], now=T0 + day * DAY)
            now = T0 + days * DAY
            run = asyncio.create_task(deliver_due(db, inv, now=now))
            while not run.done() and not all(  # noqa: ASYNC110 - watching the database
                    r["state"] == "sent" for r in deliveries(store) if r["channel"] == "webhook"):
                await asyncio.sleep(0.05)
            assert not run.done(), "the webhooks were recorded only when the run ended"
            assert len(receiver.delivered()) == days
            report = await run
        assert (report.sent, report.retrying) == (days, days)
        mail = [r for r in deliveries(store) if r["channel"] == "smtp"]
        assert [r["state"] for r in mail] == ["pending"] * days
        assert {r["last_error"] for r in mail} == {
            "SMTP connect: not done within the 2 s deadline (smtp.deadline)"}
    finally:
        await server.close()


def _message() -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = "test"
    msg.set_content("test")
    return msg
