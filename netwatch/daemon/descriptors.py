"""File descriptors: raise the soft limit at start and keep a reserve for the probes.

Probes open a socket per check in flight, the web listener one per connection, the
store a few files. The soft ``RLIMIT_NOFILE`` is often 1024 while the hard limit is
far higher, so the daemon raises the soft limit to the hard one at start. The web
connection cap must then leave ``reserve`` descriptors for everything else (probes,
store, logs, connections accepted and closed at once over the cap); if it would
not, the cap is lowered and the daemon says so.
"""

from __future__ import annotations

import logging
import resource

log = logging.getLogger(__name__)

DEFAULT_RESERVE = 2048  # descriptors kept from the web listener for probes and the rest
MIN_WEB_CONNECTIONS = 16
UNLIMITED = 1 << 20  # what an unlimited hard limit is raised to (the usual nr_open)


def raise_nofile() -> int:
    """Raise the soft descriptor limit to the hard one; return the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return UNLIMITED
    target = UNLIMITED if hard == resource.RLIM_INFINITY else hard
    if soft >= target:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError) as exc:  # e.g. over the kernel's nr_open
        log.warning("could not raise the open-file limit from %d to %d: %s", soft, target, exc)
        return soft
    log.info("open-file limit raised from %d to %d", soft, target)
    return target


def web_connection_cap(wanted: int, nofile: int, reserve: int) -> int:
    """The web connection cap that leaves ``reserve`` descriptors of ``nofile`` free."""
    room = nofile - reserve
    if wanted <= room:
        return wanted
    cap = max(MIN_WEB_CONNECTIONS, room)
    log.warning("web connections capped at %d, not %d: the open-file limit is %d and %d are "
                "kept for probes (raise the hard limit, e.g. LimitNOFILE=, or lower "
                "--fd-reserve)", cap, wanted, nofile, reserve)
    return cap
