"""E-mail delivery of a notice: the message (Markdown text + HTML alternative) and the send.

``smtplib`` is blocking, so the send runs in a thread with a timeout and never
touches the database. Authentication goes only over STARTTLS or to a loopback
host (SPEC §11): a password sent in clear over the network is refused before any
connection is made. Errors come back as ``DeliveryError`` whose text names the
SMTP step and reply code, never the password or the server's free text.
"""

from __future__ import annotations

import asyncio
import smtplib
import socket
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from netwatch.inventory import SmtpDelivery
from netwatch.inventory.settings import plain_auth_refusal
from netwatch.notices.files import stem
from netwatch.notices.record import NoticeRecord
from netwatch.notices.render import render_html, render_markdown, title

SEND_TIMEOUT_SECONDS = 30.0


class DeliveryError(Exception):
    """A send failed; the message is short and secret-free (it goes to ``last_error``)."""


def build_message(record: NoticeRecord, sender: str, recipients: Sequence[str],
                  lang: str = "zh", pdf: bytes | None = None) -> EmailMessage:
    """The notice as a UTF-8 mail: Markdown text first, HTML preferred, the PDF attached."""
    msg = EmailMessage()
    msg["Subject"] = " ".join(title(record, lang).split())
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=False)
    domain = parseaddr(sender)[1].rpartition("@")[2]
    # an explicit domain: make_msgid would otherwise look up this host's name (DNS traffic)
    msg["Message-ID"] = make_msgid("notice", domain=domain or "netwatch.invalid")
    msg.set_content(render_markdown(record, lang), charset="utf-8")
    msg.add_alternative(render_html(record, lang), subtype="html", charset="utf-8")
    if pdf is not None:
        msg.add_attachment(pdf, maintype="application", subtype="pdf",
                           filename=f"{stem(record)}.{lang}.pdf")
    return msg


def _send_blocking(smtp: SmtpDelivery, recipients: Sequence[str], msg: EmailMessage,
                   timeout: float, tls: ssl.SSLContext | None) -> dict[str, tuple[int, bytes]]:
    step = "connect"
    try:
        # an explicit EHLO name: smtplib would otherwise look up this host's FQDN (DNS traffic)
        with smtplib.SMTP(smtp.host, smtp.port, local_hostname=socket.gethostname(),
                          timeout=timeout) as client:
            step = "EHLO"
            client.ehlo()
            if smtp.starttls:
                step = "STARTTLS"
                client.starttls(context=tls or ssl.create_default_context())
                client.ehlo()
            if smtp.username or smtp.password:
                step = "AUTH"
                client.login(smtp.username, smtp.password)
            step = "send"
            return client.send_message(msg, parseaddr(smtp.sender)[1] or smtp.sender,
                                       list(recipients))
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(f"SMTP {step}: every recipient refused "
                            f"({', '.join(sorted(exc.recipients))})") from None
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"SMTP {step}: server answered {exc.smtp_code}") from None
    except smtplib.SMTPNotSupportedError:
        raise DeliveryError(f"SMTP {step}: not supported by the server") from None
    except (TimeoutError, ssl.SSLError, OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"SMTP {step}: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    """A short cause without the exception's free text (which may quote the server)."""
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted ({exc.verify_message})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({exc.reason or type(exc).__name__})"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return type(exc).__name__


async def send_mail(smtp: SmtpDelivery, recipients: Sequence[str], msg: EmailMessage, *,
                    socket_timeout: float = SEND_TIMEOUT_SECONDS,
                    tls: ssl.SSLContext | None = None) -> list[str]:
    """Send ``msg``; returns the recipients the server refused (the rest got it).

    ``socket_timeout`` bounds each network step; ``tls`` replaces the system trust
    store for STARTTLS (a private CA).
    """
    refusal = plain_auth_refusal(smtp)
    if refusal is not None:
        raise DeliveryError(refusal)
    refused = await asyncio.to_thread(_send_blocking, smtp, recipients, msg, socket_timeout,
                                      tls)
    return sorted(refused)
