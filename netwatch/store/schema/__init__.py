"""The database schema as an ordered list of migrations; migration N brings the schema to N.

The store owns the whole schema, so opening a database (``netwatch token create``,
a backup check) needs no other package. SQLite counts the migrations applied in
``PRAGMA user_version``; PostgreSQL in its ``schema_version`` table. Each module
here is one shipped migration:

- ``faults_tokens`` (1): fault episodes and API tokens;
- ``notices`` (2): notices, their items and listings, numbering, first checks, schedule runs;
- ``readings`` (3): survey readings and the per-county acceptance counter;
- ``outbox`` (4): notice deliveries;
- ``sessions`` (5): browser sessions;
- ``metrics_role`` (6): the tokens table rebuilt for the metrics role;
- ``gaps`` (7): monitoring gaps and the watchers' heartbeats;
- ``leases`` (8): per-county leases (which instance writes for a county) and the duties';
- ``device_status`` (9): each device's latest state, written by its county's active instance;
- ``warnings`` (10): each device's early-warning baselines and the warnings raised now;
- ``declared`` (11): outages the counties declare, their devices and their audit trail;
- ``circulars`` (12): the monthly circulars; a delivery is a notice's or a circular's;
- ``postgres_baseline``: PostgreSQL's first schema, equal to version 6 and recorded
  as 6: a new PostgreSQL database starts there, never from 1.

Adding a table is a new module and one line in ``MIGRATIONS``. Never edit a
migration that has shipped; write a new one. Each step is one SQL statement or a
function of the connection (``steps``); all steps of one migration run in one
transaction with the version bump.

From 7 on every migration runs on both engines, so write each step once in SQL both
accept, with ``TEXT``, ``BIGINT`` and ``DOUBLE PRECISION`` columns (SQLite reads
``BIGINT`` as its 64-bit ``INTEGER`` and ``DOUBLE PRECISION`` as ``REAL``;
PostgreSQL's ``INTEGER`` and ``REAL`` are narrower), and a ``Dialects(sqlite=…,
postgres=…)`` pair for a step whose SQL differs. A table whose ``id`` the database
assigns is ``with_id("CREATE TABLE t ({id}, …)")``, as migration 7 (``gaps``) does;
then the migration goes at the end of ``MIGRATIONS``, its table under its owner below
and in
``tests/store/test_owners.py``. ``tests/store/test_engines_schema.py`` builds both
engines' schemas from scratch and fails on any difference (a column's type,
nullability or default, an index, a unique, a CHECK, a foreign key), so a step that
drifts is caught before it ships. A function step (a data change) must be a
``Dialects`` pair: a bare function receives a ``sqlite3`` connection and PostgreSQL
refuses it.

The queries on each table belong to its one owner, which every other module calls
(``tests/store/test_owners.py`` keeps SQL text anywhere else out):

- ``fault_episodes``: ``netwatch.store.faultlog``; ``tokens``: ``netwatch.store.tokens``;
- ``monitored_since``, ``monitoring_gaps``, ``watch_heartbeat``: ``netwatch.monitor.watched``;
  ``leases``: ``netwatch.monitor.leases``; ``device_status``: ``netwatch.monitor.status``;
  ``warning_baselines``, ``device_warnings``: ``netwatch.monitor.trends``;
  ``declared_outages``, ``declared_outage_devices``, ``declared_outage_audit``:
  ``netwatch.monitor.declared``; ``circulars``: ``netwatch.circulars.register``;
- ``readings``, ``readings_received``: ``netwatch.survey.readings``;
- ``notices``, ``notice_item_listings``: ``netwatch.notices.register``;
  ``notice_items``: ``netwatch.notices.items``; ``notice_sequences``:
  ``netwatch.notices.numbering``; ``deliveries``: ``netwatch.notices.outbox``;
- ``sessions``: ``netwatch.web.session_store``; ``schedule_runs``: ``netwatch.daemon.runs``.
"""

from __future__ import annotations

from netwatch.store.schema.circulars import V12_CIRCULARS
from netwatch.store.schema.declared import V11_DECLARED_OUTAGES
from netwatch.store.schema.device_status import V9_DEVICE_STATUS
from netwatch.store.schema.faults_tokens import V1_FAULTS_AND_TOKENS
from netwatch.store.schema.gaps import V7_MONITORING_GAPS
from netwatch.store.schema.leases import V8_LEASES
from netwatch.store.schema.metrics_role import V6_METRICS_ROLE
from netwatch.store.schema.notices import V2_NOTICES
from netwatch.store.schema.outbox import V4_OUTBOX
from netwatch.store.schema.postgres_baseline import BASELINE_VERSION, V6_POSTGRES_BASELINE
from netwatch.store.schema.readings import V3_READINGS
from netwatch.store.schema.sessions import V5_SESSIONS
from netwatch.store.schema.steps import Dialects, Migration, Step, with_id
from netwatch.store.schema.warnings import V10_WARNINGS

MIGRATIONS: tuple[Migration, ...] = (
    V1_FAULTS_AND_TOKENS,
    V2_NOTICES,
    V3_READINGS,
    V4_OUTBOX,
    V5_SESSIONS,
    V6_METRICS_ROLE,
    V7_MONITORING_GAPS,
    V8_LEASES,
    V9_DEVICE_STATUS,
    V10_WARNINGS,
    V11_DECLARED_OUTAGES,
    V12_CIRCULARS,
)

SCHEMA_VERSION = len(MIGRATIONS)

# PostgreSQL's schema at BASELINE_VERSION, in place of MIGRATIONS[:BASELINE_VERSION]
POSTGRES_BASELINE: Migration = V6_POSTGRES_BASELINE

__all__ = ["BASELINE_VERSION", "MIGRATIONS", "POSTGRES_BASELINE", "SCHEMA_VERSION", "Dialects",
           "Migration", "Step", "with_id"]
