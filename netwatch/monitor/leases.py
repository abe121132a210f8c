"""Who writes for which county: leases in the shared database, with fencing.

This module owns the ``leases`` table. Several instances over one database behave as
one by holding, per county, a lease row: its holder is the county's one active writer,
any other instance that wants the county is its standby. A lease is renewed every
``RENEW_EVERY`` seconds and expires ``ttl`` seconds (default ``LEASE_TTL``) after its
last renewal, both by the database's clock (``Handle.clock``), never a host's. The
city-wide duties (notices, the outbox, coverage analysis, retention) are the scope
``DUTIES``, leased the same way, so exactly one instance runs them at a time.

``claim`` is one round of an instance's lease loop, one transaction: renew what it
holds, take what is free (never held, released by a clean stop, expired, or its own
from before a restart: instance names are unique, a host and port by default), and
say what it lost. Taking a county records the time since its previous holder's last
renewal (or clean stop) as a monitoring gap of that county (``NO_ACTIVE``, or
``DAEMON_DOWN`` when the instance itself was down), and so does renewing a lease that
lapsed meanwhile (its holder paused past it, nobody took it over), so no rate counts
time nobody watched. While a county's lease lies lapsed, ``gaps_within`` adds the time since its
last renewal as a gap still open.

Fencing: each acquisition moves the scope's ``generation`` on. Every write of the
monitor and the duties runs under a guard (``guard``) that checks, first thing in its
transaction, that the instance still holds the generation it holds in memory, and
raises ``Fenced`` otherwise: an old active that comes back from a pause (SIGSTOP past
its lease, SIGCONT) cannot write a thing. Write transactions are serialised by the
store (SQLite's one writer, PostgreSQL's advisory lock), so a takeover cannot slip in
between the check and the commit.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from netwatch.monitor.watched import Gap, record_gap, recorded_gaps, settle_legacy_beat
from netwatch.store import DatabaseError, Guard, Handle, Store, Transaction
from netwatch.vocab import GapReason

DUTIES = "*duties"  # the city-wide duties' scope (a county id never starts with "*")
LEASE_TTL = 30.0  # seconds after the last renewal when another instance may take over
RENEW_EVERY = 5.0  # seconds between an instance's claim rounds
COLUMNS = "scope, holder, generation, acquired, renewed, expires, released"


class Fenced(DatabaseError):
    """A write of an instance whose lease moved on (another instance took the scope)."""


@dataclass(frozen=True, slots=True)
class Lease:
    """One scope's lease as the database has it (times by the database's clock)."""

    scope: str
    holder: str
    generation: int
    acquired: float
    renewed: float
    expires: float
    released: float | None

    def free(self, now: float) -> bool:
        """Released by a clean stop, or not renewed in time: anyone may take it."""
        return self.released is not None or self.expires <= now

    @property
    def last_watched(self) -> float:
        """Until when its holder watched: its clean stop, else its last renewal."""
        return self.released if self.released is not None else self.renewed


@dataclass(slots=True)
class Claim:
    """One claim round's outcome."""

    now: float  # the database's time of the round
    held: dict[str, int] = field(default_factory=dict)  # scope → generation held now
    taken: dict[str, Gap | None] = field(default_factory=dict)  # acquired now (and the gap)
    lost: list[str] = field(default_factory=list)  # believed held, now someone else's
    others: dict[str, Lease] = field(default_factory=dict)  # wanted, held by another


def leases(db: Handle, scopes: Collection[str] | None = None) -> dict[str, Lease]:
    """The leases of ``scopes`` (every scope when None), by scope."""
    sql = f"SELECT {COLUMNS} FROM leases"
    params: tuple[str, ...] = ()
    if scopes is not None:
        if not scopes:
            return {}
        sql += f" WHERE scope IN ({', '.join('?' * len(scopes))})"
        params = tuple(scopes)
    return {r[0]: Lease(r[0], r[1], int(r[2]), float(r[3]), float(r[4]), float(r[5]),
                        None if r[6] is None else float(r[6]))
            for r in db.execute(sql, params)}


def claim(store: Store, holder: str, wanted: Collection[str], held: Mapping[str, int],
          ttl: float = LEASE_TTL, now: float | None = None) -> Claim:
    """One round for ``holder``: renew ``held`` (scope → generation), take the free ones of
    ``wanted``; one transaction. ``now`` is the database's clock unless given (tests)."""
    with store.transaction() as tx:
        now = tx.clock() if now is None else now
        found = leases(tx, set(wanted) | set(held))
        out = Claim(now)
        for scope in sorted(set(wanted) | set(held)):
            lease, mine = found.get(scope), held.get(scope)
            if mine is not None:
                if lease is not None and (lease.holder, lease.generation) == (holder, mine):
                    if lease.free(now):  # lapsed (its holder paused past it), nobody took it
                        _gap(tx, lease, holder, now)
                    tx.execute("UPDATE leases SET renewed = ?, expires = ?, released = NULL "
                               "WHERE scope = ? AND generation = ?", (now, now + ttl, scope, mine))
                    out.held[scope] = mine
                else:
                    out.lost.append(scope)
                continue
            if scope not in wanted:
                continue
            if lease is None:
                if not found:  # the first round ever on this database, or since an upgrade
                    settle_legacy_beat(tx, now)
                tx.execute(f"INSERT INTO leases ({COLUMNS}) VALUES (?, ?, 1, ?, ?, ?, NULL) "
                           "ON CONFLICT (scope) DO NOTHING", (scope, holder, now, now, now + ttl))
                out.held[scope], out.taken[scope] = 1, None
            elif lease.holder == holder or lease.free(now):
                generation = lease.generation + 1
                tx.execute("UPDATE leases SET holder = ?, generation = ?, acquired = ?, "
                           "renewed = ?, expires = ?, released = NULL "
                           "WHERE scope = ? AND generation = ?",
                           (holder, generation, now, now, now + ttl, scope, lease.generation))
                out.held[scope] = generation
                out.taken[scope] = _gap(tx, lease, holder, now)
            else:
                out.others[scope] = lease
        return out


def _gap(tx: Transaction, lease: Lease, holder: str, now: float) -> Gap | None:
    """The time nobody watched a county taken over, recorded (none for the duties)."""
    if lease.scope == DUTIES or now <= lease.last_watched:
        return None
    reason = GapReason.DAEMON_DOWN if lease.holder == holder else GapReason.NO_ACTIVE
    gap = Gap(lease.last_watched, now, reason, lease.scope)
    record_gap(tx, gap)
    return gap


def release(store: Store, holder: str, held: Mapping[str, int],
            now: float | None = None) -> None:
    """A clean stop: the scopes are free at once, watched until now (the database's
    clock unless given)."""
    with store.transaction() as tx:
        now = tx.clock() if now is None else now
        tx.executemany("UPDATE leases SET released = ?, expires = ? "
                       "WHERE scope = ? AND holder = ? AND generation = ?",
                       [(now, now, scope, holder, g) for scope, g in held.items()])


def lapse_all(store: Store) -> int:
    """Free every lease as of its last renewal: a restored backup's leases name instances
    that watched the database it was copied from, not this one. The next instance takes
    each county at once, the time since the backup a gap. Returns the leases freed."""
    with store.transaction() as tx:
        return tx.execute("UPDATE leases SET released = renewed, expires = renewed "
                          "WHERE released IS NULL").rowcount


def check(tx: Transaction, holder: str, claims: Mapping[str, int]) -> None:
    """Raise ``Fenced`` unless ``holder`` still holds each scope at its generation."""
    current = {scope: (lease.holder, lease.generation)
               for scope, lease in leases(tx, claims).items()}
    moved = sorted(scope for scope, generation in claims.items()
                   if current.get(scope) != (holder, generation))
    if moved:
        raise Fenced(f"the lease of {', '.join(moved)} moved on to another instance: "
                     f"{holder}'s write refused")


def guard(holder: str, claims: Mapping[str, int]) -> Guard:
    """A store guard (``netwatch.store.guarded``) that fences with ``check``."""
    frozen = dict(claims)
    return lambda tx: check(tx, holder, frozen)


def gaps_within(db: Handle, start: float, end: float, now: float) -> list[Gap]:
    """The gaps overlapping [start, end], oldest first, with those still open at ``now``:
    a county whose lease lies lapsed (stopped, or not renewed in time) is unwatched since
    its last renewal (cut to [start, end] by the caller)."""
    gaps = recorded_gaps(db, start, end, now)
    for lease in leases(db).values():
        if lease.scope == DUTIES or not lease.free(now):
            continue
        last = lease.last_watched
        if last < min(now, end) and now > start:
            gaps.append(Gap(last, now, GapReason.DAEMON_DOWN, lease.scope))
    return gaps
