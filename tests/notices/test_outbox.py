"""The outbox: queued with the notice, retried across restarts, sent once, secret-free."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import textwrap
import time
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from netwatch.cli import main
from netwatch.inventory import (
    Contact,
    County,
    Inventory,
    SmtpDelivery,
    WebhookDelivery,
    load_inventory,
)
from netwatch.notices.issue import issue_notices
from netwatch.notices.links import with_links
from netwatch.notices.outbox import (
    FIRST_RETRY_SECONDS,
    MAX_RETRY_SECONDS,
    DeliveryReport,
    deliver_due,
    enqueue,
    outbox_families,
    retry_delay,
)
from netwatch.store import OperationalError, Store, StoreThread
from tests.notices.city import DAY, HOUR, SETTINGS, at, city, fault
from tests.notices.mail import (
    CLOSED_HOST,
    SMTP_HOST,
    Receiver,
    free_port,
    smtp_server,
    start_receiver,
)

BOTH_ENGINES = True  # the owners' rules hold on SQLite and on PostgreSQL

HOOK_SECRET = "outbox-HookSecret-s3cret-c0de"
URL_PASSWORD = "outbox-UrlPass-s3cret-beef"
URL_TOKEN = "outbox-QueryToken-s3cret-f00d"
SMTP_PASSWORD = "outbox-SmtpPass-s3cret-d00d"
SECRETS = (HOOK_SECRET, URL_PASSWORD, URL_TOKEN, SMTP_PASSWORD)
T0 = at("2026-11-23")


def inventory(smtp: SmtpDelivery | None = None,
              webhook: WebhookDelivery | None = None) -> Inventory:
    """The test city with delivery configured and e-mail contacts in the east county."""
    inv = city(settings=replace(SETTINGS, smtp=smtp, webhook=webhook))
    east = County("east", "东区", "东区公安分局", (
        Contact("值班室", "duty@east.example.invalid"), Contact("科长", ""),
        Contact("DUTY", "DUTY@east.example.invalid")))
    return replace(inv, counties={**inv.counties, "east": east})


def hook_url(port: int, host: str = "127.109.0.20") -> str:
    return f"http://nw:{URL_PASSWORD}@{host}:{port}/hook?token={URL_TOKEN}"


def issue(store: Store, inv: Inventory, counties: list[str], now: float = T0) -> list[int]:
    """Open a fault per county and issue; the new notices' ids."""
    for county, dev in (("east", "site-1"), ("west", "cam-8")):
        if county in counties:
            fault(store, dev, now - 3 * DAY, county=county)
    out = issue_notices(store, inv, counties=counties, now=now)
    return [o.notice_id for o in out if o.created and o.notice_id is not None]


def deliveries(store: Store) -> list[dict[str, Any]]:
    return [dict(r) for r in store.execute("SELECT * FROM deliveries ORDER BY id")]


def metrics_text(store: Store) -> str:
    return "".join(f.text() for f in outbox_families(store))


def test_enqueue_adds_one_row_per_channel_once(store: Store) -> None:
    """One smtp row (contacts, then extra recipients, each once) and one webhook row, no secrets."""
    inv = inventory(SmtpDelivery(host=SMTP_HOST, sender="nw@example.invalid",
                                 recipients=("ops@example.invalid", "duty@east.example.invalid")),
                    WebhookDelivery(hook_url(9), HOOK_SECRET))
    [notice] = issue(store, inv, ["east"])
    rows = deliveries(store)
    assert [(r["notice_id"], r["channel"], r["target"], r["state"], r["attempts"])
            for r in rows] == [
        (notice, "smtp", "duty@east.example.invalid, ops@example.invalid", "pending", 0),
        (notice, "webhook", "http://127.109.0.20:9/hook", "pending", 0)]
    with store.transaction() as conn:
        enqueue(conn, notice, inv, "east", T0 + HOUR)
    issue_notices(store, inv, counties=["east"], now=T0 + HOUR)
    assert deliveries(store) == rows
    assert not any(s in str(rows) for s in SECRETS)


def test_no_recipients_is_recorded_as_failed_and_disabled_channels_are_skipped(
        store: Store) -> None:
    """A county without e-mail contacts gets a visible failed row; a disabled webhook none."""
    inv = inventory(SmtpDelivery(host=SMTP_HOST, sender="nw@example.invalid"),
                    WebhookDelivery(hook_url(9), HOOK_SECRET, enabled=False))
    [notice] = issue(store, inv, ["west"])
    [row] = deliveries(store)
    assert (row["notice_id"], row["channel"], row["state"], row["target"]) == (
        notice, "smtp", "failed", "(no recipients)")
    assert row["last_error"] == ("county west has no contact e-mail and smtp.recipients is "
                                 "empty")


def test_retry_delay_doubles_from_a_minute_to_six_hours() -> None:
    """1 min, 2 min, 4 min … capped at 6 h, each within ±10 % jitter."""
    for attempts, base in ((1, 60.0), (2, 120.0), (3, 240.0), (9, 60.0 * 256), (10, 6 * HOUR),
                          (500, 6 * HOUR)):
        assert base * 0.9 <= retry_delay(attempts) <= base * 1.1
    assert FIRST_RETRY_SECONDS == 60.0 and MAX_RETRY_SECONDS == 6 * HOUR


async def test_webhook_retries_across_a_restart_and_is_sent_once(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """500, 500, then 200: backoff is respected, the restart loses nothing, one 200 delivery."""
    caplog.set_level(logging.DEBUG)
    receiver = Receiver(HOOK_SECRET, statuses=[500, 500])
    server = await start_receiver(receiver)
    db = tmp_path / "outbox.db"
    out_dir = tmp_path / "notices"
    try:
        inv = inventory(webhook=WebhookDelivery(hook_url(server.port or 0), HOOK_SECRET))
        store = Store.open(db)
        thread = StoreThread.open(db)
        fault(store, "cam-8", T0 - 3 * DAY, county="west")
        [o] = issue_notices(store, inv, counties=["west"], now=T0, out_dir=out_dir)
        assert await deliver_due(thread, inv, now=T0) == DeliveryReport(retrying=1)
        assert await deliver_due(thread, inv, now=T0 + 30) == DeliveryReport()  # backoff
        [row] = deliveries(store)
        assert (row["state"], row["attempts"], row["failures"]) == ("pending", 1, 1)
        assert row["last_error"] == "webhook: receiver answered HTTP 500"
        assert T0 + 54 <= row["next_attempt_at"] <= T0 + 66
        store.close()
        thread.close()

        store = Store.open(db)  # a restart: the schedule comes back from the file
        thread = StoreThread.open(db)
        assert await deliver_due(thread, inv, now=T0 + 70) == DeliveryReport(retrying=1)
        assert await deliver_due(thread, inv, now=T0 + 100) == DeliveryReport()  # ~2 min now
        assert await deliver_due(thread, inv, now=T0 + 400) == DeliveryReport(sent=1)
        assert await deliver_due(thread, inv, now=T0 + DAY) == DeliveryReport()
        [row] = deliveries(store)
        text = metrics_text(store)
        store.close()
        thread.close()
    finally:
        await server.close()
    assert (row["state"], row["attempts"], row["failures"], row["sent_at"]) == (
        "sent", 3, 2, T0 + 400)
    assert [s["status"] for s in receiver.seen] == [500, 500, 200]
    assert all(s["valid"] and s["delivery"] == str(row["id"]) for s in receiver.seen)
    assert receiver.seen[0]["query"] == {"token": URL_TOKEN}  # the configured URL, in full
    [done] = receiver.delivered()
    assert o.record is not None and o.notice_id is not None
    assert done["body"].decode() == with_links(o.record.to_json(), o.notice_id)
    formats = json.loads(done["body"])["formats"]  # the record, and where its files are
    assert formats["zh"]["pdf"] == f"/notices/{o.notice_id}.pdf"
    assert all(p.exists() for p in o.paths)
    assert 'netwatch_notice_delivery_failures_total{channel="webhook"} 2' in text
    assert 'netwatch_notice_deliveries_pending{channel="webhook"} 0' in text
    ours = [r for r in caplog.records if r.name.startswith("netwatch")]  # not the receiver's
    logged = " ".join(f"{r.getMessage()} {r.exc_text or ''}" for r in ours)
    assert "attempt 1 failed" in logged and "sent (attempt 3)" in logged
    for secret in SECRETS:
        assert secret not in logged and secret not in text and secret not in str(row)


async def test_gives_up_after_seven_days_and_keeps_the_notice(store: Store,
                                                              db: StoreThread) -> None:
    """An unreachable receiver: retries until the bound, then ``failed``; the notice stays."""
    port = free_port(CLOSED_HOST)
    inv = inventory(webhook=WebhookDelivery(hook_url(port, CLOSED_HOST), HOOK_SECRET))
    [notice] = issue(store, inv, ["west"])
    now, reports = T0, []
    while now < T0 + 8 * DAY:
        reports.append(await deliver_due(db, inv, now=now))
        now += 7 * HOUR
    [row] = deliveries(store)
    assert (row["state"], row["sent_at"]) == ("failed", None)
    assert row["last_error"] == "webhook: cannot connect (connection refused)"
    assert sum(r.failed for r in reports) == 1 and sum(r.sent for r in reports) == 0
    assert sum(r.retrying for r in reports) == row["failures"] - 1 == row["attempts"] - 1
    assert await deliver_due(db, inv, now=now + DAY) == DeliveryReport()
    assert store.execute("SELECT count(*) FROM notices WHERE id = ?",
                              (notice,)).fetchone()[0] == 1
    assert f'netwatch_notice_delivery_failures_total{{channel="webhook"}} {row["failures"]}' \
        in metrics_text(store)


async def test_mail_is_sent_through_the_outbox_without_holding_the_write_lock(
        store: Store, db: StoreThread) -> None:
    """SMTP and webhook rows go out; while a send is in flight another writer can commit."""
    probe_writes: list[bool] = []
    other = Store.open(store.path)

    def write_meanwhile() -> None:
        try:
            with other.transaction():  # SQLite's write lock, PostgreSQL's writers' lock
                probe_writes.append(True)
        except OperationalError:
            probe_writes.append(False)

    receiver = Receiver(HOOK_SECRET, on_request=write_meanwhile)
    server = await start_receiver(receiver)
    try:
        with smtp_server(login=("relay", SMTP_PASSWORD), auth_require_tls=False) as (inbox, port):
            inv = inventory(SmtpDelivery(host=SMTP_HOST, port=port, username="relay",
                                         password=SMTP_PASSWORD, sender="nw@example.invalid"),
                            WebhookDelivery(hook_url(server.port or 0), HOOK_SECRET))
            issue(store, inv, ["east"])
            assert 'netwatch_notice_deliveries_pending{channel="smtp"} 1' in metrics_text(store)
            assert await deliver_due(db, inv, now=T0) == DeliveryReport(sent=2)
    finally:
        await server.close()
        other.close()
    assert probe_writes == [True]
    [msg] = inbox.messages
    assert inbox.rcpt == [["duty@east.example.invalid"]] and "东区" in msg["Subject"]
    [pdf] = list(msg.iter_attachments())  # the notice's PDF rides along
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_filename().endswith(".zh.pdf") and pdf.get_content().startswith(b"%PDF-")
    assert [r["state"] for r in deliveries(store)] == ["sent", "sent"]
    assert 'netwatch_notice_deliveries_pending{channel="smtp"} 0' in metrics_text(store)


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool missing")
def test_promtool_accepts_the_outbox_metrics(store: Store) -> None:
    """Both families, both channels, pass ``promtool check metrics``."""
    inv = inventory(SmtpDelivery(host=SMTP_HOST, sender="nw@example.invalid"),
                    WebhookDelivery(hook_url(9), HOOK_SECRET))
    issue(store, inv, ["east", "west"], now=at("2026-11-23"))
    issue_notices(store, inv, issue_date=date(2026, 11, 24), now=at("2026-11-24"))
    text = metrics_text(store)
    assert text.count("channel=") == 4
    proc = subprocess.run([str(shutil.which("promtool")), "check", "metrics"], input=text,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


async def test_notices_list_shows_each_delivery_state(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """``netwatch notices list`` shows a delivery's state and last error, never its secrets."""
    monkeypatch.setenv("NW_OUTBOX_HOOK", HOOK_SECRET)
    port = free_port(CLOSED_HOST)
    path = tmp_path / "inventory.yaml"
    path.write_text(textwrap.dedent(f"""\
        city: {{name: 示例市, timezone: Asia/Shanghai}}
        notices:
          issuing_unit: 示例市公安局
          prefix: 示公科信
          delivery:
            webhook: {{url: "{hook_url(port, CLOSED_HOST)}", secret: "${{NW_OUTBOX_HOOK}}"}}
        counties:
          - {{id: east, name: 东区, receiving_unit: 东区公安分局}}
        devices:
          - {{id: cam-1, kind: camera, county: east, address: 127.109.1.1}}
        """), encoding="utf-8")
    db = tmp_path / "netwatch.db"
    with Store.open(db) as store:
        fault(store, "cam-1", time.time() - 2 * DAY)
    common = [str(path), "--db", str(db)]
    done = CliRunner().invoke(main, ["notices", "generate", *common, "--out",
                                     str(tmp_path / "out")])
    assert done.exit_code == 0, done.output
    thread = StoreThread.open(db)
    try:
        assert await deliver_due(thread, load_inventory(path)) == DeliveryReport(retrying=1)
    finally:
        thread.close()
    done = CliRunner().invoke(main, ["notices", "list", *common])
    assert done.exit_code == 0, done.output
    assert done.output.splitlines()[-1] == (
        f"  delivery webhook to http://{CLOSED_HOST}:{port}/hook: pending after 1 attempts "
        "(webhook: cannot connect (connection refused))")
    assert not any(s in done.output for s in SECRETS)


async def test_a_refused_smtp_login_is_retried_and_names_no_password(
        store: Store, db: StoreThread, caplog: pytest.LogCaptureFixture) -> None:
    """535 from the relay: the row waits for a retry, and the password is nowhere to be seen."""
    caplog.set_level(logging.DEBUG)
    with smtp_server(login=("relay", "the-right-one"), auth_require_tls=False) as (inbox, port):
        inv = inventory(SmtpDelivery(host=SMTP_HOST, port=port, username="relay",
                                     password=SMTP_PASSWORD, sender="nw@example.invalid"))
        issue(store, inv, ["east"])
        assert await deliver_due(db, inv, now=T0) == DeliveryReport(retrying=1)
    [row] = deliveries(store)
    assert inbox.messages == [] and row["last_error"] == "SMTP AUTH: server answered 535"
    assert 'netwatch_notice_delivery_failures_total{channel="smtp"} 1' in metrics_text(store)
    assert SMTP_PASSWORD not in caplog.text and SMTP_PASSWORD not in str(row)
