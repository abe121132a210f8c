"""Webhook delivery against a real local receiver: signed body, headers, non-2xx is an error."""

from __future__ import annotations

import hashlib
import hmac

import aiohttp
import pytest

from netwatch.inventory import WebhookDelivery
from netwatch.notices.smtp_send import DeliveryError
from netwatch.notices.webhook_send import post_notice, signature, url_label
from tests.notices.factory import record
from tests.notices.mail import CLOSED_HOST, Receiver, free_port, start_receiver

SECRET = "hook-Secret-s3cret-5d2a"


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    """The documented scheme, pinned on a known vector (receivers implement the same)."""
    expected = hmac.new(b"key", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    assert signature("key", "1700000000", b'{"a":1}') == f"sha256={expected}"


def test_url_label_drops_credentials_query_and_fragment() -> None:
    """The label stored and logged keeps scheme, host, port and path only."""
    assert url_label("https://u:p%40ss@127.109.0.20:8443/in/hook?token=t#f") == (
        "https://127.109.0.20:8443/in/hook")
    assert url_label("http://[::1]/h") == "http://[::1]/h"


async def test_receiver_gets_the_signed_record_and_headers() -> None:
    """A 2xx receiver gets the record JSON, a valid signature and the delivery id."""
    receiver = Receiver(SECRET)
    server = await start_receiver(receiver)
    notice = record()
    try:
        hook = WebhookDelivery(str(server.make_url("/hook")), SECRET)
        async with aiohttp.ClientSession() as session:
            await post_notice(hook, 42, notice.to_json().encode(), session=session)
    finally:
        await server.close()
    [seen] = receiver.seen
    assert seen["valid"] and seen["delivery"] == "42" and seen["status"] == 200
    assert seen["body"].decode() == notice.to_json()


async def test_non_2xx_and_connection_errors_are_delivery_errors() -> None:
    """500, a bad signature (401) and a closed port all raise, naming no URL or secret."""
    receiver = Receiver(SECRET, statuses=[500])
    server = await start_receiver(receiver)
    url = str(server.make_url("/hook"))
    errors = []
    try:
        async with aiohttp.ClientSession() as session:
            for hook in (WebhookDelivery(url, SECRET), WebhookDelivery(url, "wrong-key"),
                         WebhookDelivery(f"http://{CLOSED_HOST}:{free_port(CLOSED_HOST)}/h",
                                         SECRET)):
                with pytest.raises(DeliveryError) as caught:
                    await post_notice(hook, 7, b"{}", session=session)
                errors.append(str(caught.value))
    finally:
        await server.close()
    assert errors[:2] == ["webhook: receiver answered HTTP 500",
                          "webhook: receiver answered HTTP 401"]
    assert errors[2].startswith("webhook: cannot connect")
    assert not any(SECRET in e or "127.109" in e for e in errors)
