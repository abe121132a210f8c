"""The tcp probe against real loopback sockets (addresses 127.103.1.0/24)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from probes import tcp
from probes.base import ParamError, ProbeContext, Reason, Target

ADDRESS = "127.103.1.1"


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A listening TCP socket on a free port of the test address."""
    sock = socket.socket()
    try:
        sock.bind((ADDRESS, 0))
        sock.listen(16)
        yield sock
    finally:
        sock.close()


async def test_connect_succeeds_with_time(listener: socket.socket) -> None:
    """A listening port gives success and a positive connect time."""
    port = listener.getsockname()[1]
    result = await tcp.probe(Target("d1", ADDRESS, port), tcp.Params(), ProbeContext())
    assert result.success and result.reason is Reason.OK
    assert 0 < result.measurements["connect_seconds"] < 1


async def test_closed_port_is_refused() -> None:
    """A port nobody listens on is reported as refused, naming the address."""
    with socket.socket() as sock:
        sock.bind((ADDRESS, 0))
        port = sock.getsockname()[1]
    result = await tcp.probe(Target("d1", ADDRESS, port), tcp.Params(), ProbeContext())
    assert result.reason is Reason.REFUSED and not result.success
    assert f"{ADDRESS}:{port}" in result.detail and "refused" in result.detail.lower()


async def test_full_backlog_times_out_within_timeout() -> None:
    """When the peer drops our SYN (accept queue full) the check times out on time."""
    with socket.socket() as server:
        server.bind((ADDRESS, 0))
        server.listen(0)
        port = server.getsockname()[1]
        fillers = []
        try:
            for _ in range(4):  # fill the accept queue so further SYNs are dropped
                filler = socket.socket()
                filler.setblocking(False)
                filler.connect_ex((ADDRESS, port))
                fillers.append(filler)
            started = time.monotonic()
            result = await tcp.probe(
                Target("d1", ADDRESS, port, timeout=0.3), tcp.Params(), ProbeContext()
            )
            elapsed = time.monotonic() - started
        finally:
            for filler in fillers:
                filler.close()
    assert result.reason is Reason.TIMEOUT, result
    assert elapsed < tcp.deadline(tcp.Params(), 0.3) + 0.5


async def test_no_port_is_an_error() -> None:
    """A tcp check without a port (none in the inventory) fails as an error, sending nothing."""
    result = await tcp.probe(Target("d1", ADDRESS, 0), tcp.Params(), ProbeContext())
    assert result.reason is Reason.ERROR and "no port" in result.detail


def test_params() -> None:
    """The tcp check takes no settings; an unknown one is named in the error."""
    assert tcp.parse_params({}) == tcp.Params() == tcp.parse_params(None)
    with pytest.raises(ParamError) as err:
        tcp.parse_params({"send": "x"})
    assert err.value.field == "send"
    assert tcp.deadline(tcp.Params(), 2.0) == 2.0
