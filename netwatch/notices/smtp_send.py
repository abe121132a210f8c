"""E-mail delivery of a notice: the message (Markdown text + HTML alternative) and the send.

``smtplib`` is blocking, so the send runs in a thread and never touches the
database. Each network step has a timeout, and the whole send a deadline
(``smtp.deadline``): past it the socket is shut down from the event loop, which
ends the thread's read at once — a server dripping a byte every few seconds
cannot hold a delivery run, nor a thread. Authentication goes only over STARTTLS or to a loopback
host (docs/security.md): a password sent in clear over the network is refused before any
connection is made. Errors come back as ``DeliveryError`` whose text names the
SMTP step and reply code, never the password or the server's free text.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import smtplib
import socket
import ssl
from collections.abc import Sequence
from concurrent.futures import Executor
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from netwatch.inventory import SmtpDelivery, plain_auth_refusal
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


class _Client(smtplib.SMTP):
    """smtplib's client, abortable from another thread: ``abort`` shuts its socket down,
    which ends any read in progress at once (a server dripping a byte every few seconds
    never trips the per-read timeout)."""

    def __init__(self, host: str, timeout: float) -> None:
        self.aborted = False
        self.refused: dict[str, tuple[int, bytes]] | None = None  # set once the server has it
        # an explicit EHLO name: smtplib would otherwise look up this host's FQDN (DNS traffic);
        # no host here, or the constructor would connect before ``abort`` can reach the socket
        super().__init__(local_hostname=socket.gethostname(), timeout=timeout)
        self._host = host  # what STARTTLS checks the certificate against

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = super()._get_socket(host, port, timeout)  # type: ignore[misc]  # private: not in the stubs
        self.sock = sock
        if self.aborted:  # the deadline passed while connecting
            sock.close()
            raise TimeoutError
        return sock

    def abort(self) -> None:
        self.aborted = True
        sock = self.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _send_blocking(client: _Client, smtp: SmtpDelivery, recipients: Sequence[str],
                   msg: EmailMessage, tls: ssl.SSLContext | None,
                   progress: list[str]) -> dict[str, tuple[int, bytes]]:
    step = progress[0] = "connect"
    try:
        client.connect(smtp.host, smtp.port)
        step = progress[0] = "EHLO"
        client.ehlo()
        if smtp.starttls:
            step = progress[0] = "STARTTLS"
            client.starttls(context=tls or ssl.create_default_context())
            client.ehlo()
        if smtp.username or smtp.password:
            step = progress[0] = "AUTH"
            client.login(smtp.username, smtp.password)
        step = progress[0] = "send"
        refused = client.send_message(msg, parseaddr(smtp.sender)[1] or smtp.sender,
                                      list(recipients))
        # the server has the message: a QUIT it answers slowly must not make it a failure
        client.refused = refused
        step = progress[0] = "QUIT"
        with contextlib.suppress(OSError, smtplib.SMTPException):
            client.quit()
        return refused
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
                    deadline: float | None = None,
                    tls: ssl.SSLContext | None = None,
                    executor: Executor | None = None) -> list[str]:
    """Send ``msg``; returns the recipients the server refused (the rest got it).

    ``deadline`` (default: the inventory's ``smtp.deadline``) bounds the whole send;
    past it the connection is shut and the send fails as timed out. ``socket_timeout``
    bounds each network step; ``tls`` replaces the system trust store for STARTTLS.
    The send runs in ``executor`` (the daemon's own pool; None: the loop's default).
    """
    refusal = plain_auth_refusal(smtp)
    if refusal is not None:
        raise DeliveryError(refusal)
    limit = smtp.deadline if deadline is None else deadline
    client = _Client(smtp.host, min(socket_timeout, limit))
    progress = ["connect"]
    sending = asyncio.ensure_future(asyncio.get_running_loop().run_in_executor(
        executor, functools.partial(_send_blocking, client, smtp, recipients, msg, tls,
                                    progress)))
    try:
        refused = await asyncio.wait_for(asyncio.shield(sending), limit)
    except TimeoutError:
        step = progress[0]  # before the abort lets the thread run on
        client.abort()  # the thread's read ends now; it is not left blocked on the server
        with contextlib.suppress(DeliveryError, OSError):
            await sending
        if client.refused is not None:  # sent; only the QUIT was slow
            return sorted(client.refused)
        raise DeliveryError(f"SMTP {step}: not done within the {limit:g} s deadline"
                            " (smtp.deadline)") from None
    except asyncio.CancelledError:
        client.abort()
        raise
    return sorted(refused)
