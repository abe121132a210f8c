"""E-mail delivery against a real local SMTP server: message shape, STARTTLS, AUTH rules."""

from __future__ import annotations

import ssl
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from netwatch.inventory import InventoryError, SmtpDelivery, load_inventory
from netwatch.inventory.settings import is_loopback_host, plain_auth_refusal
from netwatch.notices.render import title
from netwatch.notices.smtp_send import DeliveryError, build_message, send_mail
from tests.inventory.test_fakes import install_fake_probes
from tests.notices.factory import record
from tests.notices.mail import (
    SMTP_HOST,
    TLS_HOST,
    self_signed,
    server_tls,
    smtp_server,
)

TO = ["ops@example.invalid", "东区@example.invalid"]
PASSWORD = "smtp-Pa55word-s3cret-7e1f"


async def test_notice_mail_arrives_with_subject_text_and_html() -> None:
    """The notice arrives as one mail: its title as subject, Chinese text and an HTML part."""
    notice = record()
    with smtp_server() as (inbox, port):
        smtp = SmtpDelivery(host=SMTP_HOST, port=port,
                            sender="示例市公安局 <netwatch@example.invalid>")
        refused = await send_mail(smtp, TO, build_message(notice, smtp.sender, TO))
    assert refused == []
    [msg] = inbox.messages
    assert inbox.rcpt == [TO] and inbox.senders == ["netwatch@example.invalid"]
    assert msg["From"].addresses[0].display_name == "示例市公安局"
    assert msg["Message-ID"].endswith("@example.invalid>")
    assert msg["Subject"] == title(notice) and "整改" in msg["Subject"]
    assert msg.get_content_type() == "multipart/alternative"
    plain, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert plain is not None and html is not None
    text = plain.get_content()
    assert "东区公安分局" in text and "示公科信〔2026〕12号" in text
    assert "<table" in html.get_content() and "东区公安分局" in html.get_content()


async def test_starttls_then_auth_with_a_trusted_certificate(tmp_path: Path) -> None:
    """STARTTLS to a server with a private certificate, then AUTH over the encrypted channel."""
    cert, key = self_signed(tmp_path, TLS_HOST)
    trust = ssl.create_default_context(cafile=str(cert))
    with smtp_server(TLS_HOST, login=("notices", PASSWORD), tls_context=server_tls(cert, key),
                     require_starttls=True, auth_require_tls=True,
                     auth_required=True) as (inbox, port):
        smtp = SmtpDelivery(host=TLS_HOST, port=port, starttls=True, username="notices",
                            password=PASSWORD, sender="netwatch@example.invalid")
        await send_mail(smtp, TO, build_message(record(), smtp.sender, TO), tls=trust)
        with pytest.raises(DeliveryError, match="not trusted") as untrusted:
            await send_mail(smtp, TO, build_message(record(), smtp.sender, TO))
        wrong = replace(smtp, password=PASSWORD[::-1])
        with pytest.raises(DeliveryError, match="AUTH: server answered 535") as refused:
            await send_mail(wrong, TO, build_message(record(), smtp.sender, TO), tls=trust)
    assert inbox.logins == ["notices"] and len(inbox.messages) == 1
    for text in (str(untrusted.value), str(refused.value)):
        assert PASSWORD not in text and PASSWORD[::-1] not in text


async def test_auth_in_clear_to_a_loopback_server_is_allowed() -> None:
    """A relay on loopback may take AUTH without TLS (nothing leaves the host)."""
    with smtp_server(login=("relay", PASSWORD), auth_require_tls=False) as (inbox, port):
        smtp = SmtpDelivery(host=SMTP_HOST, port=port, username="relay", password=PASSWORD,
                            sender="netwatch@example.invalid")
        await send_mail(smtp, TO[:1], build_message(record(), smtp.sender, TO[:1]))
    assert inbox.logins == ["relay"] and inbox.rcpt == [TO[:1]]


async def test_auth_needs_tls_unless_the_host_is_loopback() -> None:
    """Credentials in clear only to loopback; any other host needs starttls (no connection)."""
    assert is_loopback_host("127.109.0.10") and is_loopback_host("::1")
    assert is_loopback_host("localhost") and not is_loopback_host("mail.example.invalid")
    remote = SmtpDelivery(host="mail.example.invalid", username="u", password=PASSWORD,
                          sender="n@example.invalid")
    refusal = plain_auth_refusal(remote)
    assert refusal is not None and "needs starttls: true" in refusal and PASSWORD not in refusal
    assert plain_auth_refusal(SmtpDelivery(host="mail.example.invalid",
                                           sender="n@example.invalid")) is None
    assert plain_auth_refusal(SmtpDelivery(host="mail.example.invalid", starttls=True,
                                           username="u", password=PASSWORD,
                                           sender="n@example.invalid")) is None


def test_inventory_refuses_auth_in_clear_to_a_remote_host(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The inventory check names the place: a password without starttls to a remote relay."""
    install_fake_probes(monkeypatch)
    path = tmp_path / "inventory.yaml"
    path.write_text(textwrap.dedent("""\
        city: {name: Testville, timezone: Asia/Shanghai}
        counties:
          - {id: east, name: 东区, receiving_unit: 东区分局}
        notices:
          delivery:
            smtp: {host: mail.example.invalid, sender: n@example.invalid, username: u,
                   password: "${NW_SMTP_PW}"}
        devices:
          - {id: cam-1, kind: camera, county: east, address: 127.109.1.1}
        """), encoding="utf-8")
    with pytest.raises(InventoryError) as caught:
        load_inventory(path, env={"NW_SMTP_PW": PASSWORD})
    [problem] = caught.value.problems
    assert problem.line == 6 and "notices.delivery.smtp: SMTP authentication to " \
        "mail.example.invalid needs starttls: true" in problem.message
    assert PASSWORD not in str(caught.value)
