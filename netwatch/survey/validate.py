"""One submitted reading → a normalised ``Reading`` in WGS-84, or the list of what is wrong.

The same rules serve the API, the phone form and CSV import, so a reading is
refused for the same reasons wherever it comes from. Every problem is a
``(field, reason)`` pair; reasons never echo the submitted value (a note may be
anything), only what was expected. Numbers must be JSON numbers here: the CSV
reader converts its cells before they get here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from netwatch.inventory import DATUMS, TECHNOLOGIES, CoveragePoint, Inventory
from netwatch.survey.geo import to_wgs84

FUTURE_SLACK_SECONDS = 300.0  # a phone's clock may run this far ahead
BBOX_MARGIN_DEG = 0.1  # readings just outside the city's box are still accepted
NOTE_MAX = 500
CLIENT_ID_MAX = 64
ID_MAX = 200  # point and site ids
HASH_PREFIX = "sha256:"  # idempotency keys derived from the body; clients may not use it

# technology → {figure: (min, max, required unless no_service)}
FIGURES: dict[str, dict[str, tuple[float, float, bool]]] = {
    "pdt": {"rssi_dbm": (-140.0, -20.0, True), "ber": (0.0, 1.0, False)},
    "broadband": {"rsrp_dbm": (-140.0, -44.0, True), "sinr_db": (-20.0, 40.0, True)},
}
ALL_FIGURES = ("rssi_dbm", "ber", "rsrp_dbm", "sinr_db")
FIELDS: tuple[str, ...] = (
    "point", "lat", "lon", "datum", "taken_at", "technology", *ALL_FIGURES,
    "no_service", "serving_site", "note", "client_id",
)

FieldError = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Reading:
    """An accepted reading: WGS-84 position, Unix time, the figures of its technology."""

    point: str | None
    lat: float
    lon: float
    taken_at: float
    technology: str
    rssi_dbm: float | None = None
    ber: float | None = None
    rsrp_dbm: float | None = None
    sinr_db: float | None = None
    no_service: bool = False
    serving_site: str | None = None
    note: str | None = None
    client_id: str | None = None

    def canonical(self) -> dict[str, Any]:
        """The normalised body that idempotency hashes (every field, fixed names)."""
        return {name: getattr(self, name) for name in READING_FIELDS}


READING_FIELDS = tuple(f.name for f in fields(Reading))  # asdict() is 10x slower


def _number(raw: Mapping[str, Any], name: str, errors: list[FieldError]) -> float | None:
    value = raw.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        errors.append((name, "must be a finite number"))
        return None
    return float(value)


def _text(raw: Mapping[str, Any], name: str, limit: int,
          errors: list[FieldError]) -> str | None:
    """A string field; blank counts as absent (a form's empty input, a CSV's empty cell)."""
    value = raw.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        errors.append((name, "must be a string"))
        return None
    if not value.strip():
        return None
    if len(value) > limit:
        errors.append((name, f"longer than {limit} characters"))
        return None
    return value


def _taken_at(raw: Mapping[str, Any], inventory: Inventory, now: float,
              errors: list[FieldError]) -> float | None:
    value = raw.get("taken_at")
    if value is None:
        errors.append(("taken_at", "required (ISO 8601 with a UTC offset)"))
        return None
    try:
        when = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        when = None
    if when is None:
        errors.append(("taken_at", "not an ISO 8601 date-time"))
        return None
    if when.tzinfo is None or when.utcoffset() is None:
        errors.append(("taken_at", "needs a UTC offset (e.g. +08:00 or Z)"))
        return None
    ts = when.timestamp()
    if ts > now + FUTURE_SLACK_SECONDS:
        errors.append(("taken_at", f"more than {FUTURE_SLACK_SECONDS / 60:g} min in the future"))
    elif ts < now - inventory.coverage.retention_seconds:
        errors.append(("taken_at", "older than the readings' retention period"))
    return ts


def _position(raw: Mapping[str, Any], point: CoveragePoint | None, inventory: Inventory,
              default_datum: str, errors: list[FieldError]) -> tuple[float, float] | None:
    """The WGS-84 position: the given lat/lon in their datum, else the point's."""
    datum = raw.get("datum", default_datum)
    if datum not in DATUMS:
        errors.append(("datum", f"must be one of {', '.join(DATUMS)}"))
        return None
    has_lat, has_lon = raw.get("lat") is not None, raw.get("lon") is not None
    if not has_lat and not has_lon:
        if point is None:
            if all(f != "point" for f, _ in errors):  # else the bad point says it
                errors.append(("point", "give a coverage point id, or lat and lon"))
            return None
        return to_wgs84(inventory.coverage.datum, point.lat, point.lon)
    if has_lat != has_lon:
        errors.append(("lon" if has_lat else "lat", "lat and lon go together"))
        return None
    lat, lon = _number(raw, "lat", errors), _number(raw, "lon", errors)
    if lat is None or lon is None:
        return None
    if not -90 <= lat <= 90:
        errors.append(("lat", "must be within -90..90"))
        return None
    if not -180 <= lon <= 180:
        errors.append(("lon", "must be within -180..180"))
        return None
    lat, lon = to_wgs84(datum, lat, lon)
    box = inventory.coverage.bbox
    if box is not None:
        m = BBOX_MARGIN_DEG
        if not box.lat_min - m <= lat <= box.lat_max + m:
            errors.append(("lat", "outside the city's bounding box"))
        if not box.lon_min - m <= lon <= box.lon_max + m:
            errors.append(("lon", "outside the city's bounding box"))
    return lat, lon


def _figures(raw: Mapping[str, Any], technology: str, no_service: bool,
             errors: list[FieldError]) -> dict[str, float | None]:
    allowed = FIGURES[technology]
    out: dict[str, float | None] = {}
    for name in ALL_FIGURES:
        before = len(errors)
        value = _number(raw, name, errors)
        if name not in allowed:
            if raw.get(name) is not None:
                errors.append((name, f"not a {technology} figure"))
            continue
        low, high, required = allowed[name]
        if value is None:
            if required and not no_service and len(errors) == before:
                errors.append((name, f"required for {technology} unless no_service is true"))
        elif not low <= value <= high:
            errors.append((name, f"must be within {low:g}..{high:g}"))
        out[name] = value
    return out


@dataclass(frozen=True, slots=True)
class Known:
    """The inventory's ids a reading may name, indexed once per batch."""

    points: Mapping[str, CoveragePoint]
    sites: frozenset[str]

    @classmethod
    def of(cls, inventory: Inventory) -> Known:
        return cls({p.id: p for p in inventory.points},
                   frozenset(d.id for d in inventory.devices if d.kind == "trunking_site"))


def validate_reading(raw: object, inventory: Inventory, now: float, known: Known | None = None,
                     default_datum: str = "wgs84") -> Reading | list[FieldError]:
    """Check one submitted reading against the rules and the inventory (docs/coverage.md)."""
    if not isinstance(raw, Mapping):
        return [("", "each reading must be an object")]
    errors: list[FieldError] = [(str(k), "unknown field") for k in raw if k not in FIELDS]
    known = known or Known.of(inventory)
    point_id = _text(raw, "point", ID_MAX, errors)
    point = known.points.get(point_id) if point_id is not None else None
    if point_id is not None and point is None:
        errors.append(("point", "no such coverage point"))
    technology = raw.get("technology", point.technology if point else None)
    if technology not in TECHNOLOGIES:
        if technology is not None or point_id is None:  # else: the unknown point says it
            errors.append(("technology", f"must be one of {', '.join(TECHNOLOGIES)}"))
    elif point is not None and technology != point.technology:
        errors.append(("technology", f"the point is surveyed for {point.technology}"))
    no_service = raw.get("no_service", False)
    if not isinstance(no_service, bool):
        errors.append(("no_service", "must be true or false"))
        no_service = False
    position = _position(raw, point, inventory, default_datum, errors)
    taken_at = _taken_at(raw, inventory, now, errors)
    figures = (_figures(raw, technology, no_service, errors)
               if technology in TECHNOLOGIES else {})
    site = _text(raw, "serving_site", ID_MAX, errors)
    if site is not None and site not in known.sites:
        errors.append(("serving_site", "no such trunking_site device"))
    note = _text(raw, "note", NOTE_MAX, errors)
    client_id = _text(raw, "client_id", CLIENT_ID_MAX, errors)
    if client_id is not None and client_id.startswith(HASH_PREFIX):
        errors.append(("client_id", f"may not start with {HASH_PREFIX!r}"))
    if errors:
        return errors
    assert position is not None and taken_at is not None  # each None came with an error
    return Reading(point=point_id, lat=position[0], lon=position[1], taken_at=taken_at,
                   technology=str(technology), no_service=no_service, serving_site=site,
                   note=note, client_id=client_id, **figures)
