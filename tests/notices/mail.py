"""Delivery peers for the outbox tests: a real SMTP server (aiosmtpd) and a webhook receiver.

Both listen on this suite's loopback range (127.109.0.0/16) only. The SMTP
server runs in aiosmtpd's own thread; the webhook receiver runs on the test's
event loop and checks each request's HMAC signature as a real receiver would.
"""

from __future__ import annotations

import hashlib
import hmac
import select
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, message_from_string, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

SMTP_HOST = "127.109.0.10"
TLS_HOST = "127.109.0.11"
HOOK_HOST = "127.109.0.20"
CLOSED_HOST = "127.109.0.30"  # nothing listens here
DRIP_HOST = "127.109.0.40"  # the dripping mail server


def free_port(host: str) -> int:
    """A port free on ``host`` right now (aiosmtpd cannot report a port 0 bind)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class Inbox:
    """What the SMTP server received: messages, envelopes and successful logins."""

    messages: list[EmailMessage] = field(default_factory=list)
    rcpt: list[list[str]] = field(default_factory=list)
    senders: list[str] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or b""
        if envelope.smtp_utf8:  # RFC 6531: headers are raw UTF-8, not encoded words
            msg = message_from_string(data.decode("utf-8"), policy=policy.default)
        else:
            msg = message_from_bytes(data, policy=policy.default)
        self.messages.append(msg)  # type: ignore[arg-type]
        self.rcpt.append(list(envelope.rcpt_tos))
        self.senders.append(str(envelope.mail_from))
        return "250 OK"


def authenticator(user: str, password: str, inbox: Inbox) -> Callable[..., AuthResult]:
    """Accepts exactly ``user``/``password`` and records the login name."""

    def check(server: Any, session: Session, envelope: Envelope, mechanism: str,
              auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == user.encode()
              and auth_data.password == password.encode())
        if ok:
            inbox.logins.append(user)
        return AuthResult(success=ok, handled=False)

    return check


@contextmanager
def smtp_server(host: str = SMTP_HOST, *, login: tuple[str, str] | None = None,
                **smtp_kwargs: Any) -> Iterator[tuple[Inbox, int]]:
    """A running aiosmtpd server on ``host``; yields its inbox and port, stops it after.

    With ``login`` (user, password) the server offers AUTH and accepts only that pair.
    """
    inbox = Inbox()
    port = free_port(host)
    if login is not None:
        smtp_kwargs["authenticator"] = authenticator(*login, inbox)
    controller = Controller(inbox, hostname=host, port=port, **smtp_kwargs)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def self_signed(tmp: Path, host: str) -> tuple[Path, Path]:
    """A throwaway certificate and key for ``host`` (an IP SAN), made with openssl."""
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", f"/CN={host}",
         "-addext", f"subjectAltName=IP:{host}"],
        check=True, capture_output=True)
    return cert, key


def server_tls(cert: Path, key: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


@dataclass
class Receiver:
    """A webhook receiver answering from a script of statuses (then 200), checking HMACs."""

    secret: str
    statuses: list[int] = field(default_factory=list)
    seen: list[dict[str, Any]] = field(default_factory=list)
    on_request: Callable[[], None] | None = None

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        stamp = request.headers.get("X-Netwatch-Timestamp", "")
        expected = "sha256=" + hmac.new(self.secret.encode(), stamp.encode() + b"." + body,
                                        hashlib.sha256).hexdigest()
        valid = hmac.compare_digest(expected, request.headers.get("X-Netwatch-Signature", ""))
        if self.on_request is not None:
            self.on_request()
        status = (self.statuses.pop(0) if self.statuses else 200) if valid else 401
        self.seen.append({"delivery": request.headers.get("X-Netwatch-Delivery"),
                          "valid": valid, "status": status, "body": body,
                          "authorization": request.headers.get("Authorization"),
                          "query": dict(request.query)})
        return web.Response(status=status)

    def delivered(self) -> list[dict[str, Any]]:
        return [s for s in self.seen if s["status"] == 200]


async def start_receiver(receiver: Receiver) -> TestServer:
    """The receiver on HOOK_HOST at a free port (close it with ``await server.close()``)."""
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    server = TestServer(app, host=HOOK_HOST)
    await server.start_server()
    return server


@dataclass
class Drip:
    """A mail server that never finishes its greeting: one byte every ``every`` seconds."""

    port: int
    connections: int = 0
    closed_by_client: threading.Event = field(default_factory=threading.Event)


@contextmanager
def dripping_smtp(host: str = DRIP_HOST, every: float = 0.5,
                  most: float = 120.0) -> Iterator[Drip]:
    """A socket server on ``host`` that answers each connection with "220" and then one space
    every ``every`` seconds (for at most ``most`` seconds): a line that never ends, so no
    per-read timeout fires. Notes when the client shuts the connection."""
    listener = socket.create_server((host, 0))
    listener.settimeout(0.2)
    drip = Drip(listener.getsockname()[1])
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn:
            try:
                conn.sendall(b"220")
                deadline = time.monotonic() + most
                while not stop.is_set() and time.monotonic() < deadline:
                    readable, _, _ = select.select([conn], [], [], every)
                    if readable and not conn.recv(4096):
                        drip.closed_by_client.set()
                        return
                    conn.sendall(b" ")
            except OSError:
                drip.closed_by_client.set()

    def accept() -> None:
        workers = []
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            drip.connections += 1
            worker = threading.Thread(target=serve, args=(conn,), daemon=True)
            worker.start()
            workers.append(worker)
        for worker in workers:
            worker.join(5)

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield drip
    finally:
        stop.set()
        acceptor.join(10)
        listener.close()
