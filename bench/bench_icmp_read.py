"""What one received datagram costs by each way of reading it (the ICMP engine's read path).

A UDP socket on 127.0.0.1 with the options the engine's ICMP sockets have (arrival
stamps, drop counter) is filled with ``--datagrams`` 84-byte datagrams, then drained by
``recvmsg`` (one call and a few Python objects per datagram), ``recvmsg_into`` (into one
reused buffer), ``recv_into`` (no ancillary data: no stamp, so not usable for RTTs), and
``probes.icmp.mmsg.BatchReader`` (``recvmmsg``, 64 per call, fields unpacked in place;
as the engine runs it, matching included). Prints microseconds per datagram, the best
of ``--rounds``: a shared machine only ever makes a figure worse.

    python bench/bench_icmp_read.py
"""

from __future__ import annotations

import argparse
import socket
import time
from collections.abc import Callable

from probes.icmp.channels import SO_RXQ_OVFL, SO_TIMESTAMPNS, Channel
from probes.icmp.mmsg import BatchReader
from probes.icmp.receive import ANC_SPACE, READ_SIZE

_SO_RCVBUFFORCE = 33


def _receiver() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, 64 << 20)
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 20)
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    sock.setsockopt(socket.SOL_SOCKET, SO_RXQ_OVFL, 1)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    return sock


def _drain_with(read: Callable[[], object]) -> int:
    """Call ``read`` until the socket is empty; how many datagrams it returned."""
    n = 0
    while True:
        try:
            read()
        except BlockingIOError:
            return n
        n += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datagrams", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    receiver, sender = _receiver(), socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    buf = bytearray(READ_SIZE)
    batch = BatchReader()
    channel = Channel(receiver, v6=False, raw=True)
    ways: dict[str, Callable[[], int]] = {
        "recvmsg": lambda: _drain_with(lambda: receiver.recvmsg(READ_SIZE, ANC_SPACE)),
        "recvmsg_into": lambda: _drain_with(lambda: receiver.recvmsg_into([buf], ANC_SPACE)),
        "recv_into (no stamp)": lambda: _drain_with(lambda: receiver.recv_into(buf)),
        "recvmmsg x64 (BatchReader)": lambda: sum(
            iter(lambda: batch(channel, {}, lambda key, code, v6: None), 0)
        ),
    }
    best = dict.fromkeys(ways, float("inf"))
    payload = bytes([0x45]) + bytes(83)  # an IPv4 header, then an echo reply: the match path
    for _ in range(args.rounds):
        for name, drain in ways.items():
            for _ in range(args.datagrams):
                sender.sendto(payload, receiver.getsockname())
            began = time.perf_counter()
            read = drain()
            elapsed = time.perf_counter() - began
            if read != args.datagrams:
                raise SystemExit(f"{name}: read {read} of {args.datagrams} datagrams")
            best[name] = min(best[name], elapsed / read * 1e6)
    for name, micros in best.items():
        print(f"  {name:<28} {micros:5.2f} us per datagram (best of {args.rounds})")
    receiver.close()
    sender.close()


if __name__ == "__main__":
    main()
