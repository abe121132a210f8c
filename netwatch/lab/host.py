"""What the lab asks of the host: loopback addresses only, and enough open files.

The lab binds every device's own 127.x address; it refuses anything else, and the
addresses the host's own services use (127.0.0.1, systemd-resolved's 127.0.0.53),
so that an ``unreachable`` fault can never cut the host off from itself.
"""

from __future__ import annotations

import ipaddress
import resource

from netwatch.inventory import Inventory

LOOPBACK = ipaddress.ip_network("127.0.0.0/8")
RESERVED = frozenset({"127.0.0.1", "127.0.0.53"})


def address_problems(inventory: Inventory) -> list[str]:
    """One line per device the lab must not play, naming the device and why."""
    problems = []
    for d in inventory.devices:
        try:
            ok = ipaddress.ip_address(d.address) in LOOPBACK
        except ValueError:
            ok = False
        if not ok:
            problems.append(f"device {d.id}: address {d.address} is not in 127.0.0.0/8; "
                            "the lab binds loopback only")
        elif d.address in RESERVED:
            problems.append(f"device {d.id}: address {d.address} belongs to the host's own "
                            "services; give the device another 127.x address")
    return problems


def raise_fd_limit() -> int:
    """Lift the open-files limit to its hard limit: one socket per device and port."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return soft
