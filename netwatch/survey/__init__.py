"""Field survey readings (docs/coverage.md): validation, storage, idempotent ingestion, CSV import.

``validate`` turns one submitted reading into a normalised ``Reading`` in WGS-84 with
``geo`` (datums, distances, point in polygon) and ``places`` (the county of a
location; each county's located places give the maps' hulls); ``ingest`` accepts a
batch all or nothing; ``readings`` owns the readings tables; ``csv_format`` reads test
tools' CSV exports; ``prune`` applies the retention; ``metrics`` exports the acceptance
counter; ``demo_seed`` gives the demo readings.
"""

from __future__ import annotations

from netwatch.survey.csv_format import parse_csv
from netwatch.survey.demo_seed import seed_demo_readings
from netwatch.survey.geo import haversine_m, to_wgs84
from netwatch.survey.ingest import (
    IngestError,
    Refusal,
    RowError,
    ingest,
    prepare,
    store_readings,
)
from netwatch.survey.metrics import survey_families
from netwatch.survey.places import Places, county_at, places_for
from netwatch.survey.prune import prune_readings
from netwatch.survey.readings import newest_id, readings_page, readings_within

__all__ = [
    "IngestError", "Places", "Refusal", "RowError", "county_at", "haversine_m", "ingest",
    "newest_id", "parse_csv", "prepare", "places_for", "prune_readings", "readings_page",
    "readings_within",
    "seed_demo_readings", "store_readings", "survey_families", "to_wgs84",
]
