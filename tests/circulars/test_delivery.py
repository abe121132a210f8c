"""A circular's deliveries: a mail per county through a real SMTP server, the webhook
through a real receiver, queued in the issuing transaction and sent by the notices' outbox."""

from __future__ import annotations

import json
from dataclasses import replace

from netwatch.circulars import OUTBOX, CircularRecord, issue_circular, record_circular
from netwatch.inventory import Contact, County, Inventory, SmtpDelivery, WebhookDelivery
from netwatch.notices import circular_deliveries_of, deliver_due, enqueue_circular
from netwatch.store import Store, StoreThread
from tests.circulars.factory import record
from tests.circulars.history import END, MONTH, november
from tests.circulars.history import inventory as history_inventory
from tests.notices.city import SETTINGS, at, city
from tests.notices.mail import SMTP_HOST, Receiver, smtp_server, start_receiver

BOTH_ENGINES = True  # the outbox's rules hold on SQLite and on PostgreSQL

HOOK_SECRET = "circular-HookSecret-s3cret"
T0 = at("2026-12-01")


def inventory(smtp: SmtpDelivery, hook: WebhookDelivery) -> Inventory:
    inv = city(settings=replace(SETTINGS, smtp=smtp, webhook=hook,
                                public_url="https://netwatch.example.invalid"))
    counties = {
        "east": County("east", "东区", "东区公安分局",
                       (Contact("值班室", "duty@east.example.invalid"),)),
        "west": County("west", "西区", "西区公安分局",
                       (Contact("科长", "kz@west.example.invalid"),)),
        "north": County("north", "北区", "北区公安分局"),  # no e-mail: a visible failed row
    }
    return replace(inv, counties=counties)


def issued(store: Store, inv: Inventory, r: CircularRecord) -> int:
    with store.transaction() as tx:
        circular = record_circular(tx, r.month, r.prefix, r.year, r.seq, r.number, r.issue_date,
                                   T0, r.to_json())
        enqueue_circular(tx, circular, inv, T0)
    return circular


async def test_a_circular_goes_to_every_county_and_the_webhook(store: Store,
                                                               db: StoreThread) -> None:
    receiver = Receiver(HOOK_SECRET)
    server = await start_receiver(receiver)
    try:
        with smtp_server() as (inbox, port):
            inv = inventory(SmtpDelivery(host=SMTP_HOST, port=port, sender="nw@example.invalid"),
                            WebhookDelivery(f"http://127.109.0.20:{server.port}/hook",
                                            HOOK_SECRET))
            r = record()
            circular = issued(store, inv, r)
            queued = [(d["channel"], d["target"], d["state"])
                      for d in circular_deliveries_of(store, circular)]
            assert queued == [("smtp", "duty@east.example.invalid", "pending"),
                              ("smtp", "(no recipients)", "failed"),
                              ("smtp", "kz@west.example.invalid", "pending"),
                              ("webhook", f"http://127.109.0.20:{server.port}/hook", "pending")]
            # without the circulars' part the outbox leaves their rows alone
            assert (await deliver_due(db, inv, now=T0)).sent == 0
            report = await deliver_due(db, inv, now=T0, circulars=OUTBOX)
    finally:
        await server.close()
    assert (report.sent, report.failed) == (3, 0)
    assert sorted(inbox.rcpt) == [["duty@east.example.invalid"], ["kz@west.example.invalid"]]
    for msg in inbox.messages:
        assert r.number in msg["Subject"] and "通报" in msg["Subject"]
        kinds = [a.get_content_type() for a in msg.iter_attachments()]
        assert kinds == ["application/pdf",
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]
    [hook] = receiver.delivered()
    assert hook["valid"]
    sent = json.loads(hook["body"])
    assert sent["document"] == "circular" and sent["number"] == r.number
    assert sent["formats"]["pdf"] == f"https://netwatch.example.invalid/circulars/{circular}.pdf"
    assert [d["state"] for d in circular_deliveries_of(store, circular)] == [
        "sent", "failed", "sent", "sent"]


def test_issuing_queues_the_deliveries_once(store: Store) -> None:
    """The issuing transaction queues a mail per county and the webhook; the month's
    circular found again queues nothing more."""
    november(store)
    inv = replace(history_inventory(), notices=replace(
        history_inventory().notices,
        smtp=SmtpDelivery(host=SMTP_HOST, port=25, sender="nw@example.invalid",
                          recipients=("city@example.invalid",)),
        webhook=WebhookDelivery("http://127.109.0.20:9/hook", HOOK_SECRET)))
    first = issue_circular(store, inv, MONTH, END + 3600)
    rows = [(d["channel"], d["target"], d["state"])
            for d in circular_deliveries_of(store, first.circular_id)]
    assert rows == [("smtp", "city@example.invalid", "pending"),
                    ("webhook", "http://127.109.0.20:9/hook", "pending")]
    issue_circular(store, inv, MONTH, END + 7200)
    assert len(circular_deliveries_of(store, first.circular_id)) == 2
