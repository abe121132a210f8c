"""A reply that arrives in time is in time, however late a busy loop gets to it.

The peer runs in a thread (it answers while our loop is blocked); the test blocks the
loop across the step's deadline, so the reply and the deadline are handled in the same
loop turn. The monitor's own lag must not become the device's timeout.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from probes import textconn
from probes.base import Target
from probes.snmp import codec as c
from probes.snmp.client import Attempts, SnmpClient

ADDRESS = "127.62.8.1"
REQUESTS = 5


@pytest.fixture
def late_peer() -> Iterator[int]:
    """A TCP peer that answers each request 0.1 s after it arrives, from its own thread."""
    server = socket.create_server((ADDRESS, 0))
    server.settimeout(5)
    port = server.getsockname()[1]

    def serve() -> None:
        try:
            conn, _ = server.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(5)
            try:
                if conn.recv(1024):
                    time.sleep(0.1)
                    conn.sendall(b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n")
                    conn.recv(1024)  # until the client closes
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield port
    server.close()
    thread.join(5)


async def test_a_reply_handled_late_by_a_busy_loop_is_not_a_timeout(late_peer: int) -> None:
    loop = asyncio.get_running_loop()
    conn, _ = await textconn.connect(Target("d", ADDRESS, late_peer, 1.0))
    try:
        conn.send(b"OPTIONS rtsp://x/ RTSP/1.0\r\nCSeq: 1\r\n\r\n")
        # the loop is blocked from 0.05 s to 0.65 s: the reply lands at ~0.1 s, the
        # step's 0.3 s deadline passes during the block, both are seen in one turn
        loop.call_later(0.05, time.sleep, 0.6)
        head = await textconn.step(conn.read_head("RTSP"), 0.3, "OPTIONS")
    finally:
        conn.close()
    assert head.status == 200


@pytest.fixture
def late_agent() -> Iterator[int]:
    """An SNMP v2c agent in a thread: takes REQUESTS GETs, answers them all 0.1 s later."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((ADDRESS, 0))
    sock.settimeout(5)
    port = sock.getsockname()[1]

    def serve() -> None:
        asked = []
        try:
            for _ in range(REQUESTS):
                asked.append(sock.recvfrom(65535))
        except OSError:
            return
        time.sleep(0.1)
        for data, peer in asked:
            community, pdu = c.decode_v2c(data)
            reply = c.enc_pdu(c.RESPONSE, pdu.request_id, c.enc_varbinds(list(pdu.varbinds)))
            sock.sendto(c.enc_v2c(community, reply), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield port
    thread.join(5)
    sock.close()


async def test_an_snmp_answer_queued_behind_a_busy_loop_is_not_a_timeout(late_agent: int) -> None:
    """The answers land while the loop is blocked past the requests' timeouts (no retry
    left); asyncio reads one datagram per loop turn, yet every answer counts as in time."""
    loop = asyncio.get_running_loop()
    varbinds = c.enc_varbinds([((1, 3, 6, 1, 2, 1, 1, 3, 0), c.NULL_VALUE)])
    async with SnmpClient.open() as client:
        loop.call_later(0.05, time.sleep, 0.6)
        pdus = await asyncio.gather(*(
            client.request(ADDRESS, late_agent, b"public", c.GET, varbinds, Attempts(0.3, 0))
            for _ in range(REQUESTS)
        ))
    assert [p.tag for p in pdus] == [c.RESPONSE] * REQUESTS

