"""Webhook delivery of a notice: POST its JSON record, signed, and judge the answer.

The request (``Content-Type: application/json; charset=utf-8``) carries the
notice record as ``NoticeRecord.to_json()`` writes it plus ``formats``: per
language, the URLs of its HTML, PDF, DOCX, XLSX and Markdown renderings (full
URLs under ``notices.public_url``, else paths). And these headers:

- ``X-Netwatch-Delivery: <id>``: the outbox row id, the same on every retry of
  one delivery: receivers dedupe on it (a retry may follow a 2xx that was lost).
- ``X-Netwatch-Timestamp: <unix seconds>``: when this attempt was signed.
- ``X-Netwatch-Signature: sha256=<hex>``: HMAC-SHA256, keyed with the webhook's
  ``secret``, of the bytes ``<timestamp> + "." + <body>``. Receivers must
  recompute it over the raw body, compare in constant time, and reject
  timestamps far from their clock (e.g. over 5 minutes) to stop replays. The
  header is absent when no secret is configured.

Any 2xx answer means delivered; anything else (3xx included: redirects are not
followed), a timeout or a connection error means retry. Error texts name the
status or the cause, never the URL (it may hold credentials) or the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from urllib.parse import urlsplit

import aiohttp

from netwatch.inventory import WebhookDelivery
from netwatch.notices.smtp_send import DeliveryError

POST_TIMEOUT_SECONDS = 15.0
SIGNATURE_HEADER = "X-Netwatch-Signature"
TIMESTAMP_HEADER = "X-Netwatch-Timestamp"
DELIVERY_HEADER = "X-Netwatch-Delivery"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value for one request (receivers compute the same)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def url_label(url: str) -> str:
    """The URL without user, password, query or fragment: safe for logs and the database."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


async def post_notice(hook: WebhookDelivery, delivery_id: int, body: bytes, *,
                      session: aiohttp.ClientSession,
                      answer_within: float = POST_TIMEOUT_SECONDS) -> None:
    """POST one signed notice; raises ``DeliveryError`` unless the receiver answers 2xx."""
    stamp = str(int(time.time()))
    headers = {"Content-Type": "application/json; charset=utf-8",
               DELIVERY_HEADER: str(delivery_id), TIMESTAMP_HEADER: stamp}
    if hook.secret:
        headers[SIGNATURE_HEADER] = signature(hook.secret, stamp, body)
    try:
        async with session.post(hook.url, data=body, headers=headers, allow_redirects=False,
                                timeout=aiohttp.ClientTimeout(total=answer_within)) as resp:
            status = resp.status
            await resp.read()
    except TimeoutError:
        raise DeliveryError(f"webhook: no answer within {answer_within:g} s") from None
    except aiohttp.ClientConnectorError as exc:
        errno = exc.os_error.errno
        cause = os.strerror(errno).lower() if errno else type(exc.os_error).__name__
        raise DeliveryError(f"webhook: cannot connect ({cause})") from None
    except (aiohttp.ClientError, ValueError) as exc:
        raise DeliveryError(f"webhook: {type(exc).__name__}") from None
    if not 200 <= status < 300:
        raise DeliveryError(f"webhook: receiver answered HTTP {status}")
