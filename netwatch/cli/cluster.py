"""``netwatch run``'s flags for sharing a city among instances over one database.

Each flag is also an environment variable (a systemd unit's ``Environment=``);
``cluster_settings`` turns the parsed values into ``DaemonOptions`` fields, checking
the counties against the inventory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from netwatch.inventory import Inventory
from netwatch.monitor import LEASE_TTL, RENEW_EVERY, Shadow


def cluster_options(f: Callable[..., None]) -> Callable[..., None]:
    """Add ``--counties``, ``--instance``, ``--lease-ttl`` and ``--standby-probes``."""
    f = click.option(
        "--standby-probes", "shadow", type=click.Choice([s.value for s in Shadow]),
        default=Shadow.ICMP.value, show_default=True, envvar="NETWATCH_STANDBY_PROBES",
        help="What a standby probes of the counties another instance is active for: icmp "
             "(ICMP checks only: no second RTSP, SIP, SNMP or HTTP session per device) or "
             "full (every check, twice the load on the devices).")(f)
    f = click.option(
        "--lease-ttl", type=click.FloatRange(min=3 * RENEW_EVERY), default=LEASE_TTL,
        show_default=True, envvar="NETWATCH_LEASE_TTL",
        help="Seconds a county's lease lasts without renewal (by the database's clock) "
             "before a standby takes the county over.")(f)
    f = click.option(
        "--instance", metavar="NAME", envvar="NETWATCH_INSTANCE",
        help="This instance's name, unique among those sharing the database "
             "[default: HOST:PORT of --listen].")(f)
    f = click.option(
        "--counties", metavar="ID,ID", envvar="NETWATCH_COUNTIES",
        help="Watch only these counties: active for those whose lease it holds, standby "
             "for those another instance holds [default: every county].")(f)
    return f


def cluster_settings(inventory: Inventory, counties: str | None, instance: str | None,
                     lease_ttl: float, shadow: str) -> dict[str, Any]:
    """``DaemonOptions`` fields; an unknown county or an empty list is a usage error."""
    wanted = None
    if counties is not None:
        wanted = frozenset(c.strip() for c in counties.split(",") if c.strip())
        unknown = sorted(wanted - set(inventory.counties))
        if not wanted or unknown:
            raise click.UsageError(
                f"--counties {counties!r}: " + (f"unknown county {', '.join(unknown)}"
                                                 if unknown else "no county given")
                + f" (known: {', '.join(inventory.counties)})")
    if instance is not None and not instance.strip():
        raise click.UsageError("--instance: an empty name")
    return {"counties": wanted, "instance": instance, "lease_ttl": lease_ttl,
            "shadow": Shadow(shadow)}
