"""The lab's own nftables table: unreachable addresses, echo loss, and echoes sent to NFQUEUE.

Everything lives in one table, ``ip <name>`` (default ``netwatch_lab``), that the lab
creates at start (first deleting a stale one an earlier crashed run left behind) and
deletes on exit. Its input chain sees every packet to a 127.x address:

- ``ip daddr @unreachable drop``: the device's address answers nothing (ping, TCP,
  UDP all time out, as behind a dead link); flapping toggles set membership;
- ``ip daddr A icmp type echo-request numgen random mod 10000 < N drop``: loss, in a
  chain of its own (``loss``) that a scenario's loss steps rewrite as one transaction;
- ``ip daddr @delayed icmp type echo-request jump delay``: the ``delay`` chain queues
  the echo to the lab's NFQUEUE, where ``netwatch.lab.delay`` holds it for the latency.

Kernels without nftables' own ``queue`` expression (this one has none) still have the
xtables NFQUEUE target; the queue rule is then added into the same table as an
``nft_compat`` target over netlink, exactly what ``iptables-nft`` would send. ``nft``
itself applies the rest.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import struct
import subprocess
from collections.abc import Iterable, Mapping

LOSS_SCALE = 10_000  # numgen modulus: loss in steps of 0.01 %


class FirewallError(RuntimeError):
    """nft refused a change; the message carries its error."""


def firewall_problem() -> str | None:
    """Why the lab cannot keep rules in nftables here, or None when it can."""
    if os.geteuid() != 0:
        return "nftables needs root"
    if shutil.which("nft") is None:
        return "the nft command is not installed (Debian package nftables)"
    return None


def ruleset(table: str, unreachable: Iterable[str], loss: Mapping[str, float],
            delayed: Iterable[str]) -> str:
    """The nft script that replaces the lab table with a fresh one."""
    def ip_set(name: str, members: Iterable[str]) -> str:
        items = ", ".join(sorted(set(members)))
        elements = f" elements = {{ {items} }};" if items else ""
        return f"  set {name} {{ type ipv4_addr;{elements} }}\n"

    lines = [
        f"table ip {table}\n",
        f"delete table ip {table}\n",
        f"table ip {table} {{\n",
        ip_set("unreachable", unreachable),
        ip_set("delayed", delayed),
        "  chain delay {\n  }\n",
        "  chain loss {\n", *loss_rules(loss), "  }\n",
        "  chain input {\n    type filter hook input priority -10; policy accept;\n",
        "    ip daddr @unreachable drop\n",
        "    jump loss\n",
        "    ip daddr @delayed icmp type echo-request jump delay\n", "  }\n}\n",
    ]
    return "".join(lines)


def loss_rules(loss: Mapping[str, float]) -> list[str]:
    """The ``loss`` chain's rules: each address's echo requests dropped at its ratio."""
    return [f"    ip daddr {address} icmp type echo-request "
            f"numgen random mod {LOSS_SCALE} < {round(ratio * LOSS_SCALE)} drop\n"
            for address, ratio in sorted(loss.items()) if ratio > 0]


async def nft(script: str) -> None:
    """Apply an nft script as one transaction."""
    proc = await asyncio.create_subprocess_exec(
        "nft", "-f", "-", stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    _, err = await proc.communicate(script.encode())
    if proc.returncode != 0:
        raise FirewallError(f"nft: {err.decode(errors='replace').strip()}")


def delete_table_now(table: str) -> bool:
    """Delete the lab table synchronously (exit paths); True when one was there."""
    done = subprocess.run(["nft", "delete", "table", "ip", table],
                          capture_output=True, check=False)
    return done.returncode == 0


def table_exists(table: str) -> bool:
    """Whether the lab table is in the kernel now."""
    done = subprocess.run(["nft", "list", "table", "ip", table],
                          capture_output=True, check=False)
    return done.returncode == 0


class LabFirewall:
    """The lab table for one run: ``open`` it, toggle drops, ``close`` it."""

    def __init__(self, table: str, queue: int) -> None:
        self.table = table
        self.queue = queue
        self.opened = False

    async def open(self, unreachable: Iterable[str], loss: Mapping[str, float],
                   delayed: Iterable[str]) -> None:
        """Replace any stale table with this run's rules."""
        delayed = list(delayed)
        self.opened = True
        await nft(ruleset(self.table, unreachable, loss, delayed))
        if delayed:
            await self._add_queue_rule()

    async def _add_queue_rule(self) -> None:
        try:
            await nft(f"add rule ip {self.table} delay queue num {self.queue} bypass\n")
        except FirewallError:
            await asyncio.to_thread(add_compat_queue_rule, self.table, "delay", self.queue)

    async def set_unreachable(self, addresses: Iterable[str], down: bool) -> None:
        """Add addresses to, or take them out of, the drop set."""
        items = ", ".join(addresses)
        if items:
            verb = "add" if down else "delete"
            await nft(f"{verb} element ip {self.table} unreachable {{ {items} }}\n")

    async def set_loss(self, loss: Mapping[str, float]) -> None:
        """Replace every loss rule with ``loss`` (address → ratio), in one transaction."""
        rules = "".join(f"add rule ip {self.table} loss {rule.strip()}\n"
                        for rule in loss_rules(loss))
        await nft(f"flush chain ip {self.table} loss\n{rules}")

    async def close(self) -> None:
        """Delete the table (nothing of the lab stays in the kernel)."""
        if self.opened:
            self.opened = False
            await asyncio.to_thread(delete_table_now, self.table)


# --- the NFQUEUE target over netlink (nft_compat), for kernels without nft_queue ---

NETLINK_NETFILTER = 12
NFNL_SUBSYS_NFTABLES = 10
NFNL_MSG_BATCH_BEGIN, NFNL_MSG_BATCH_END = 0x10, 0x11
NFT_MSG_NEWRULE = 6
NLM_F_REQUEST, NLM_F_ACK, NLM_F_CREATE, NLM_F_APPEND = 0x1, 0x4, 0x400, 0x800
NLMSG_ERROR = 2
NLA_F_NESTED = 0x8000
NFPROTO_IPV4 = 2
NFQ_FLAG_BYPASS = 0x1
NFQUEUE_REVISION = 3  # struct xt_NFQ_info_v3 {u16 queuenum, queues_total, flags}


def _attr(kind: int, payload: bytes) -> bytes:
    size = 4 + len(payload)
    return struct.pack("=HH", size, kind) + payload + bytes(-size % 4)


def _nested(kind: int, *parts: bytes) -> bytes:
    return _attr(kind | NLA_F_NESTED, b"".join(parts))


def _message(kind: int, flags: int, seq: int, family: int, res_id: int, body: bytes) -> bytes:
    payload = struct.pack("=BBH", family, 0, socket.htons(res_id)) + body
    return struct.pack("=IHHII", 16 + len(payload), kind, flags, seq, 0) + payload


def add_compat_queue_rule(table: str, chain: str, queue: int) -> None:
    """Append ``queue num N bypass`` to an ``ip`` table's chain as an xtables NFQUEUE target."""
    info = struct.pack("=HHH", queue, 1, NFQ_FLAG_BYPASS) + bytes(2)
    target = _nested(2, _attr(1, b"NFQUEUE\0"), _attr(2, struct.pack(">I", NFQUEUE_REVISION)),
                     _attr(3, info))
    expression = _nested(1, _attr(1, b"target\0"), target)
    rule = _attr(1, table.encode() + b"\0") + _attr(2, chain.encode() + b"\0")
    rule += _nested(4, expression)
    flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_APPEND
    batch = (
        _message(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, 1, 0, NFNL_SUBSYS_NFTABLES, b"")
        + _message((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE, flags, 2, NFPROTO_IPV4, 0, rule)
        + _message(NFNL_MSG_BATCH_END, NLM_F_REQUEST, 3, 0, NFNL_SUBSYS_NFTABLES, b"")
    )
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER) as sock:
        sock.bind((0, 0))
        sock.settimeout(5.0)
        sock.send(batch)
        while True:
            data = sock.recv(65536)
            offset = 0
            while offset + 16 <= len(data):
                size, kind, _, seq, _ = struct.unpack_from("=IHHII", data, offset)
                if kind == NLMSG_ERROR and seq == 2:
                    error = struct.unpack_from("=i", data, offset + 16)[0]
                    if error:
                        raise FirewallError(
                            f"NFQUEUE rule in table {table}: {os.strerror(-error)}")
                    return
                offset += max(size, 16)
