"""The database schema as an ordered list of migrations; migration N brings user_version to N.

The store owns the whole schema, so opening a database (``netwatch token create``,
a backup check) needs no other package. Each module here is one shipped migration:

- ``faults_tokens`` (1): fault episodes and API tokens;
- ``notices`` (2): notices, their items and listings, numbering, first checks, schedule runs;
- ``readings`` (3): survey readings and the per-county acceptance counter;
- ``outbox`` (4): notice deliveries;
- ``sessions`` (5): browser sessions;
- ``metrics_role`` (6): the tokens table rebuilt for the metrics role;
- ``gaps`` (7): monitoring gaps and the watchers' heartbeats.

Adding a table is a new module and one line in ``MIGRATIONS``. Never edit a
migration that has shipped; write a new one. Each step is one SQL statement or a
function of the connection (``steps``); all steps of one migration run in one
transaction with the version bump.

The queries on each table belong to its one owner, which every other module calls
(``tests/store/test_owners.py`` keeps SQL text anywhere else out):

- ``fault_episodes``: ``netwatch.store.faultlog``; ``tokens``: ``netwatch.store.tokens``;
- ``monitored_since``, ``monitoring_gaps``, ``watch_heartbeat``: ``netwatch.monitor.watched``;
- ``readings``, ``readings_received``: ``netwatch.survey.readings``;
- ``notices``, ``notice_item_listings``: ``netwatch.notices.register``;
  ``notice_items``: ``netwatch.notices.items``; ``notice_sequences``:
  ``netwatch.notices.numbering``; ``deliveries``: ``netwatch.notices.outbox``;
- ``sessions``: ``netwatch.web.session_store``; ``schedule_runs``: ``netwatch.daemon.runs``.
"""

from __future__ import annotations

from netwatch.store.schema.faults_tokens import V1_FAULTS_AND_TOKENS
from netwatch.store.schema.gaps import V7_MONITORING_GAPS
from netwatch.store.schema.metrics_role import V6_METRICS_ROLE
from netwatch.store.schema.notices import V2_NOTICES
from netwatch.store.schema.outbox import V4_OUTBOX
from netwatch.store.schema.readings import V3_READINGS
from netwatch.store.schema.sessions import V5_SESSIONS
from netwatch.store.schema.steps import Migration, Step

MIGRATIONS: tuple[Migration, ...] = (
    V1_FAULTS_AND_TOKENS,
    V2_NOTICES,
    V3_READINGS,
    V4_OUTBOX,
    V5_SESSIONS,
    V6_METRICS_ROLE,
    V7_MONITORING_GAPS,
)

SCHEMA_VERSION = len(MIGRATIONS)

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "Migration", "Step"]
