"""The inventory's non-device sections: city, counties, notices, coverage, SNMP profiles.

Each reader takes the section's raw ``LineMap`` and returns the typed settings of
``netwatch.inventory.model``, reporting problems through the ``Reader``.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, fields, replace
from datetime import date, time
from typing import Any

from netwatch.inventory import units as u
from netwatch.inventory.model import (
    DATUMS,
    DEFAULT_TIMEZONE,
    KINDS,
    ONLINE_TARGET_KEYS,
    SMTP_DEADLINE,
    WEBHOOK_DEADLINE,
    BBox,
    CircularSettings,
    Contact,
    County,
    CoverageSettings,
    CoverageThresholds,
    NoticeSettings,
    OutageSettings,
    SmtpDelivery,
    WarningSettings,
    WebhookDelivery,
)
from netwatch.inventory.reader import Reader, join, say, suggestion
from netwatch.inventory.yaml_lines import LineMap


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback IP literals; names are never resolved (no traffic)."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def plain_auth_refusal(smtp: SmtpDelivery) -> str | None:
    """Why this configuration would send credentials in clear, or None when it is safe."""
    if (smtp.username or smtp.password) and not smtp.starttls and not is_loopback_host(smtp.host):
        return (f"SMTP authentication to {smtp.host} needs starttls: true (credentials are "
                "sent only over TLS or to a loopback host)")
    return None


MIN_FAULT_RETENTION = 31 * 86400.0
# the defaults of every setting are the models' own field defaults, stated once there
NOTICE = NoticeSettings()
CIRCULAR = CircularSettings()
COVERAGE = CoverageSettings()
WARNINGS = WarningSettings()
OUTAGES = OutageSettings()
LAT = u.number(-90.0, 90.0)
LON = u.number(-180.0, 180.0)


def read_city(r: Reader, raw: Any, line: int) -> tuple[str, str]:
    """(name, timezone) of the ``city`` section."""
    m = r.mapping(raw, line, "city")
    if m is None:
        r.add(line, 'missing section "city" (name, timezone)')
        return "", DEFAULT_TIMEZONE
    r.keys(m, "city", ("name", "timezone"), required=("name",))
    name = r.get(m, "name", "city", u.name_text, "")
    return name, r.get(m, "timezone", "city", u.time_zone, DEFAULT_TIMEZONE)


def read_counties(r: Reader, raw: Any, line: int) -> dict[str, County]:
    counties: dict[str, County] = {}
    first_line: dict[str, int] = {}
    items = r.items(raw, line, "counties")
    if not items:
        r.add(line, "counties: at least one county is needed")
    for i, item in enumerate(items):
        where = f"counties[{i}]"
        m = r.mapping(item, items.line_of(i), where)
        if m is None:
            continue
        cid = r.need(m, "id", where, u.identifier)
        where = f"county {cid}:" if cid else where
        r.keys(m, where, ("id", "name", "receiving_unit", "contacts", "boundary", "code",
                          "outage_cap_hours"), required=("name", "receiving_unit"))
        contacts = []
        for j, c in enumerate(r.items(m.get("contacts"), m.line_of("contacts"), where)):
            cw = join(where, f"contacts[{j}]")
            cm = r.mapping(c, m.line_of("contacts"), cw)
            if cm is not None:
                r.keys(cm, cw, ("name", "email", "phone"), required=("name",))
                contacts.append(Contact(r.get(cm, "name", cw, u.text, ""),
                                        r.get(cm, "email", cw, u.text_or_empty, ""),
                                        r.get(cm, "phone", cw, u.text_or_empty, "")))
        boundary = read_boundary(r, m, where)
        code = r.get(m, "code", where, division_code, "")
        cap = r.get(m, "outage_cap_hours", where, u.number(0.0, 31 * 24.0), None)
        if cid is None:
            continue
        if cid in counties:
            r.add(m.line, f'duplicate county id "{cid}" (first at line {first_line[cid]})')
            continue
        first_line[cid] = m.line
        counties[cid] = County(cid, r.get(m, "name", where, u.name_text, cid),
                               r.get(m, "receiving_unit", where, u.name_text, ""),
                               tuple(contacts), boundary, code, source=f"{r.file}:{m.line}",
                               outage_cap_hours=cap)
    return counties


_DIVISION = re.compile(r"[1-9]\d{5}")


def division_code(value: Any) -> str:
    """A county's 6-digit administrative division code (行政区划代码), e.g. 640104.

    It is the first six digits of the GB/T 28181 codes of the county's devices, which
    the ledger importer compares; written plain (a YAML integer) or quoted.
    """
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not _DIVISION.fullmatch(text):
        raise u.BadValue("expected a 6-digit administrative division code (行政区划代码) "
                         f"such as 640104, got {u.shown(value)}")
    return text


def read_boundary(r: Reader, m: LineMap, where: str) -> tuple[tuple[float, float], ...]:
    """A county's optional polygon as (lon, lat) pairs."""
    where = join(where, "boundary")
    ring = []
    for pair in r.items(m.get("boundary"), m.line_of("boundary"), where):
        ok = isinstance(pair, list) and len(pair) == 2
        try:
            if ok:
                ring.append((LON(pair[0]), LAT(pair[1])))
                continue
        except u.BadValue:
            pass
        r.add(m.line_of("boundary"),
              say(where, f"expected [lon, lat] pairs in range, got {u.shown(pair)}"))
        return ()
    if ring and len(ring) < 3:
        r.add(m.line_of("boundary"), say(where, "a polygon needs at least 3 points"))
        return ()
    return tuple(ring)


def read_notices(r: Reader, raw: Any, line: int, city_tz: str) -> NoticeSettings:
    w = "notices"
    m = r.mapping(raw, line, w)
    if m is None:
        return NoticeSettings(timezone=city_tz)
    r.keys(m, w, ("issuing_unit", "prefix", "schedule", "timezone", "contact",
                  "verification_window", "recurrence_window", "holidays", "online_targets",
                  "delivery", "fault_retention", "delivery_retention", "header", "cc",
                  "auth_failed_items", "public_url", "workdays", "weekend", "circular"))
    tz = r.get(m, "timezone", w, u.time_zone, city_tz)
    holidays = _dates(r, m, w, "holidays")
    workdays = _dates(r, m, w, "workdays")
    for day in sorted(set(holidays) & set(workdays)):
        r.add(m.line_of("workdays"), say(join(w, "workdays"), (
            f"{day} is also in holidays: a day is either a day off or a working day")))
    targets = dict(NoticeSettings().online_targets)
    tm = r.mapping(m.get("online_targets"), m.line_of("online_targets"), join(w, "online_targets"))
    if tm is not None:
        r.keys(tm, join(w, "online_targets"), ONLINE_TARGET_KEYS)
        for key in ONLINE_TARGET_KEYS:
            targets[key] = r.get(tm, key, join(w, "online_targets"), u.ratio, targets[key])
    smtp, webhook = read_delivery(r, m.get("delivery"), m.line_of("delivery"))
    recurrence = r.get(m, "recurrence_window", w, u.positive_duration,
                       NOTICE.recurrence_window_seconds)
    fault_retention = r.get(m, "fault_retention", w, u.positive_duration,
                            NOTICE.fault_retention_seconds)
    if fault_retention < max(recurrence, MIN_FAULT_RETENTION):
        r.add(m.line_of("fault_retention"), say(join(w, "fault_retention"), (
            "must be at least the recurrence_window and 31d (recurrences and a month's "
            "online rates read closed faults)")))
    return NoticeSettings(
        issuing_unit=r.get(m, "issuing_unit", w, u.name_text, NOTICE.issuing_unit),
        prefix=r.get(m, "prefix", w, u.name_text, NOTICE.prefix),
        schedule=r.get(m, "schedule", w, u.cron(tz), NOTICE.schedule),
        timezone=tz,
        contact=r.get(m, "contact", w, u.text_or_empty, NOTICE.contact),
        verification_window_seconds=r.get(m, "verification_window", w, u.positive_duration,
                                          NOTICE.verification_window_seconds),
        recurrence_window_seconds=recurrence,
        holidays=tuple(sorted(set(holidays))),
        workdays=tuple(sorted(set(workdays))),
        weekend=r.get(m, "weekend", w, weekdays, NOTICE.weekend),
        online_targets=targets,
        smtp=smtp,
        webhook=webhook,
        fault_retention_seconds=fault_retention,
        delivery_retention_seconds=r.get(m, "delivery_retention", w, u.positive_duration,
                                         NOTICE.delivery_retention_seconds),
        header=r.get(m, "header", w, u.text_or_empty, NOTICE.header),
        cc=r.get(m, "cc", w, u.text_or_empty, NOTICE.cc),
        auth_failed_items=r.get(m, "auth_failed_items", w, u.boolean, NOTICE.auth_failed_items),
        public_url=_public_url(r, m, w),
        circular=read_circular(r, m.get("circular"), m.line_of("circular")),
    )


def _dates(r: Reader, m: LineMap, w: str, key: str) -> list[date]:
    """A list of calendar dates (``holidays``, ``workdays``), each bad one reported."""
    days = []
    listed = r.items(m.get(key), m.line_of(key), join(w, key))
    for i, value in enumerate(listed):
        try:
            days.append(u.calendar_date(value))
        except u.BadValue as exc:
            r.add(listed.line_of(i), say(join(w, f"{key}[{i}]"), str(exc)))
    return days


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def weekdays(value: Any) -> tuple[int, ...]:
    """Weekday names (``saturday`` or ``sat``) as ISO weekdays (Monday 1 .. Sunday 7);
    ``[]`` is a city without weekends."""
    if not isinstance(value, list):
        raise u.BadValue(f"expected a list of weekdays like [saturday, sunday], got "
                         f"{u.shown(value)}")
    days = set()
    for name in value:
        key = name.strip().lower() if isinstance(name, str) else ""
        found = [n for n, full in enumerate(WEEKDAYS, 1) if key in (full, full[:3])]
        if not found:
            raise u.BadValue(f"expected weekday names (monday … sunday, or mon … sun), got "
                             f"{u.shown(name)}")
        days.add(found[0])
    if len(days) == len(WEEKDAYS):
        raise u.BadValue("every day of the week is a day off: nothing would ever be due")
    return tuple(sorted(days))


def time_of_day(value: Any) -> time:
    """``"09:00"``: a time of day, quoted (YAML reads an unquoted 9:00 as the number 540)."""
    if isinstance(value, str) and re.fullmatch(r"\d{1,2}:\d{2}", value.strip()):
        hour, minute = (int(x) for x in value.strip().split(":"))
        if hour < 24 and minute < 60:
            return time(hour, minute)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        raise u.BadValue(f'expected a time of day like "09:00" in quotes (unquoted, YAML reads '
                         f'{value // 60}:{value % 60:02d} as the number {value})')
    raise u.BadValue(f'expected a time of day like "09:00" (quoted), got {u.shown(value)}')


def read_circular(r: Reader, raw: Any, line: int) -> CircularSettings:
    """The monthly circular's settings (``notices.circular``); issuing needs its ``prefix``."""
    w = "notices.circular"
    m = r.mapping(raw, line, w)
    if m is None:
        return CIRCULAR
    r.keys(m, w, ("prefix", "enabled", "time", "video_target", "clock_target", "praise_rank",
                  "criticise_margin", "criticise_overdue"), required=("prefix",))
    return CircularSettings(
        prefix=r.get(m, "prefix", w, u.name_text, CIRCULAR.prefix),
        enabled=r.get(m, "enabled", w, u.boolean, CIRCULAR.enabled),
        at=r.get(m, "time", w, time_of_day, CIRCULAR.at),
        video_target=r.get(m, "video_target", w, u.ratio, CIRCULAR.video_target),
        clock_target=r.get(m, "clock_target", w, u.ratio, CIRCULAR.clock_target),
        praise_rank=r.get(m, "praise_rank", w, u.integer(1), CIRCULAR.praise_rank),
        criticise_margin=r.get(m, "criticise_margin", w, u.ratio, CIRCULAR.criticise_margin),
        criticise_overdue=r.get(m, "criticise_overdue", w, u.integer(1),
                                CIRCULAR.criticise_overdue),
    )


def _public_url(r: Reader, m: LineMap, w: str) -> str:
    """An http(s) base URL, kept without a trailing slash ("" when not set)."""
    url = r.get(m, "public_url", w, u.text_or_empty, "")
    if url and not url.startswith(("http://", "https://")):
        r.add(m.line_of("public_url"),
              say(join(w, "public_url"), f"expected an http(s) URL, got {u.shown(url)}"))
        return ""
    return url.rstrip("/")


def read_delivery(
    r: Reader, raw: Any, line: int
) -> tuple[SmtpDelivery | None, WebhookDelivery | None]:
    w = "notices.delivery"
    m = r.mapping(raw, line, w)
    if m is None:
        return None, None
    r.keys(m, w, ("smtp", "webhook"))
    smtp = webhook = None
    sm = r.mapping(m.get("smtp"), m.line_of("smtp"), join(w, "smtp"))
    if sm is not None:
        sw = join(w, "smtp")
        r.keys(sm, sw, ("host", "port", "starttls", "username", "password", "sender",
                        "recipients", "enabled", "deadline"), required=("host", "sender"))
        recipients = r.items(sm.get("recipients"), sm.line_of("recipients"), join(sw, "recipients"))
        smtp = SmtpDelivery(
            host=r.get(sm, "host", sw, u.text, ""),
            port=r.get(sm, "port", sw, u.integer(1, 65535), 25),
            starttls=r.get(sm, "starttls", sw, u.boolean, False),
            username=r.get(sm, "username", sw, u.text_or_empty, ""),
            password=r.get(sm, "password", sw, u.secret(r.env, optional=True), ""),
            sender=r.get(sm, "sender", sw, u.text, ""),
            recipients=tuple(str(x) for x in recipients),
            enabled=r.get(sm, "enabled", sw, u.boolean, True),
            deadline=r.get(sm, "deadline", sw, u.positive_duration, SMTP_DEADLINE),
        )
        refusal = plain_auth_refusal(smtp) if smtp.host else None
        if refusal:
            r.add(sm.line_of("starttls"), say(sw, refusal))
    wm = r.mapping(m.get("webhook"), m.line_of("webhook"), join(w, "webhook"))
    if wm is not None:
        ww = join(w, "webhook")
        r.keys(wm, ww, ("url", "secret", "enabled", "deadline"), required=("url",))
        url = r.get(wm, "url", ww, u.text, "")
        if url and not url.startswith(("http://", "https://")):
            r.add(wm.line_of("url"),
                  say(join(ww, "url"), f"expected an http(s) URL, got {u.shown(url)}"))
        webhook = WebhookDelivery(url, r.get(wm, "secret", ww, u.secret(r.env, optional=True), ""),
                                  r.get(wm, "enabled", ww, u.boolean, True),
                                  r.get(wm, "deadline", ww, u.positive_duration,
                                        WEBHOOK_DEADLINE))
    return smtp, webhook


def read_coverage(r: Reader, raw: Any, line: int, counties: dict[str, County]) -> CoverageSettings:
    w = "coverage"
    m = r.mapping(raw, line, w)
    if m is None:
        return CoverageSettings()
    r.keys(m, w, ("datum", "bbox", "window", "min_readings", "cell_size_m", "rectify_within",
                  "retention", "thresholds", "county_thresholds"))
    datum = r.get(m, "datum", w, u.text, COVERAGE.datum)
    if datum not in DATUMS:
        r.add(m.line_of("datum"), say(join(w, "datum"),
                                      f'unknown datum "{datum}" (one of {", ".join(DATUMS)})'))
    city = read_thresholds(r, m.get("thresholds"), m.line_of("thresholds"), join(w, "thresholds"),
                           CoverageThresholds())
    per_county = {}
    cm = r.mapping(m.get("county_thresholds"), m.line_of("county_thresholds"),
                   join(w, "county_thresholds")) or LineMap()
    for cid, value in cm.items():
        cw = join(join(w, "county_thresholds"), str(cid))
        if cid not in counties:
            r.add(cm.line_of(cid), say(cw, f'unknown county "{cid}"{suggestion(cid, counties)}'))
            continue
        per_county[cid] = read_thresholds(r, value, cm.line_of(cid), cw, city)
    return CoverageSettings(
        datum=datum,
        bbox=read_bbox(r, m.get("bbox"), m.line_of("bbox")),
        window_seconds=r.get(m, "window", w, u.positive_duration, COVERAGE.window_seconds),
        min_readings=r.get(m, "min_readings", w, u.integer(1), COVERAGE.min_readings),
        cell_size_m=r.get(m, "cell_size_m", w, u.number(10.0, 100000.0),
                          COVERAGE.cell_size_m),
        rectify_within_days=r.get(m, "rectify_within", w, u.whole_days,
                                  COVERAGE.rectify_within_days),
        retention_seconds=r.get(m, "retention", w, u.positive_duration,
                                COVERAGE.retention_seconds),
        thresholds=city,
        county_thresholds=per_county,
    )


def read_bbox(r: Reader, raw: Any, line: int) -> BBox | None:
    w = "coverage.bbox"
    m = r.mapping(raw, line, w)
    if m is None:
        return None
    names = ("lat_min", "lat_max", "lon_min", "lon_max")
    r.keys(m, w, names)
    values = [r.need(m, k, w, LAT if k.startswith("lat") else LON) for k in names]
    if any(v is None for v in values):
        return None
    box = BBox(*values)  # type: ignore[arg-type]
    if box.lat_min >= box.lat_max or box.lon_min >= box.lon_max:
        r.add(m.line, say(w, "lat_min must be below lat_max and lon_min below lon_max"))
        return None
    return box


def read_thresholds(
    r: Reader, raw: Any, line: int, where: str, base: CoverageThresholds
) -> CoverageThresholds:
    """Coverage thresholds overlaid field by field on ``base``."""
    m = r.mapping(raw, line, where)
    if m is None:
        return base
    r.keys(m, where, ("pdt", "broadband"))
    pdt, broadband = base.pdt, base.broadband
    for key, current in (("pdt", pdt), ("broadband", broadband)):
        sw = join(where, key)
        sm = r.mapping(m.get(key), m.line_of(key), sw)
        if sm is None:
            continue
        names = [f.name for f in fields(current)]
        r.keys(sm, sw, names)
        changes = {n: r.get(sm, n, sw, u.ratio if n == "max_ber" else u.number(-200.0, 50.0),
                            getattr(current, n)) for n in names}
        if key == "pdt":
            pdt = replace(pdt, **changes)
            if not pdt.good_dbm >= pdt.fair_dbm >= pdt.weak_dbm:
                r.add(sm.line, say(sw, "expected good_dbm >= fair_dbm >= weak_dbm"))
        else:
            broadband = replace(broadband, **changes)
    return CoverageThresholds(pdt, broadband)


_V2C_KEYS = ("version", "community", "retries")
_V3_KEYS = ("version", "user", "auth_protocol", "auth_key", "priv_protocol", "priv_key", "retries")
_SECRETS = ("community", "auth_key", "priv_key")


@dataclass(slots=True)
class Profile:
    """An SNMP profile: the snmp probe's raw params (secrets resolved), or None if broken."""

    params: dict[str, Any] | None
    line: int


def read_snmp_profiles(r: Reader, raw: Any, line: int) -> dict[str, Profile]:
    profiles: dict[str, Profile] = {}
    m = r.mapping(raw, line, "snmp_profiles") or LineMap()
    for name, value in m.items():
        where = join("snmp_profiles", str(name))
        pm = r.mapping(value, m.line_of(name), where)
        profiles[str(name)] = Profile(None, m.line_of(name))
        if pm is None:
            continue
        version = str(pm.get("version", "")).strip().lower()
        if version not in ("2c", "3"):
            r.add(pm.line_of("version"), say(join(where, "version"),
                                             f"expected 2c or 3, got {u.shown(pm.get('version'))}"))
            continue
        allowed = _V2C_KEYS if version == "2c" else _V3_KEYS
        before = len(r.problems)
        r.keys(pm, where, allowed, required=[k for k in allowed if k != "retries"])
        fields_: dict[str, Any] = {"version": version}
        for key in allowed[1:]:
            parse = u.secret(r.env) if key in _SECRETS else (
                u.integer(0, 5) if key == "retries" else u.text)
            if key in pm:
                fields_[key] = r.get(pm, key, where, parse, None)
        if len(r.problems) == before:
            profiles[str(name)].params = fields_
    return profiles


def read_outages(r: Reader, raw: Any, line: int) -> OutageSettings:
    """The ``outages`` section: how far ahead (``max_ahead``) and how long (``max_length``) a
    county may declare an outage (停机报备), both durations."""
    w = "outages"
    m = r.mapping(raw, line, w)
    if m is None:
        return OUTAGES
    r.keys(m, w, ("max_ahead", "max_length"))
    return OutageSettings(
        max_ahead_seconds=r.get(m, "max_ahead", w, u.positive_duration,
                                OUTAGES.max_ahead_seconds),
        max_length_seconds=r.get(m, "max_length", w, u.positive_duration,
                                 OUTAGES.max_length_seconds))


def read_warnings(r: Reader, raw: Any, line: int) -> WarningSettings:
    """The ``warnings`` section: early-warning thresholds, every key optional; ``kinds``
    overlays a device kind's own keys on the city's."""
    w = "warnings"
    m = r.mapping(raw, line, w)
    if m is None:
        return WARNINGS
    keys = [f.name for f in fields(WarningSettings) if f.name != "kinds"]
    r.keys(m, w, [*keys, "kinds"])
    city = _warning_keys(r, m, w, WARNINGS)
    kinds = {}
    km = r.mapping(m.get("kinds"), m.line_of("kinds"), join(w, "kinds")) or LineMap()
    for kind, value in km.items():
        kw = join(join(w, "kinds"), str(kind))
        if kind not in KINDS:
            r.add(km.line_of(kind), say(kw, f'unknown kind "{kind}"{suggestion(kind, KINDS)}'))
            continue
        sub = r.mapping(value, km.line_of(kind), kw)
        if sub is not None:
            r.keys(sub, kw, [k for k in keys if k != "flush_every"])
            kinds[kind] = _warning_keys(r, sub, kw, city)
    return replace(city, kinds=kinds)


def _warning_keys(r: Reader, m: LineMap, w: str, d: WarningSettings) -> WarningSettings:
    """One mapping's warning settings over the defaults ``d``."""
    ratio, count = u.ratio, u.integer(1)
    found = WarningSettings(
        baseline_tau=r.get(m, "baseline_tau", w, u.positive_duration, d.baseline_tau),
        recent_tau=r.get(m, "recent_tau", w, u.positive_duration, d.recent_tau),
        min_samples=r.get(m, "min_samples", w, count, d.min_samples),
        loss_rise=r.get(m, "loss_rise", w, ratio, d.loss_rise),
        rtt_rise=r.get(m, "rtt_rise", w, ratio, d.rtt_rise),
        rtt_min_rise=r.get(m, "rtt_min_rise", w, u.duration, d.rtt_min_rise),
        uplink_errors=r.get(m, "uplink_errors", w, count, d.uplink_errors),
        errors_window=r.get(m, "errors_window", w, u.positive_duration, d.errors_window),
        reboots_per_day=r.get(m, "reboots_per_day", w, u.integer(2), d.reboots_per_day),
        flap_changes=r.get(m, "flap_changes", w, count, d.flap_changes),
        clock_drift_per_day=r.get(m, "clock_drift_per_day", w, u.positive_duration,
                                  d.clock_drift_per_day),
        clock_window=r.get(m, "clock_window", w, u.positive_duration, d.clock_window),
        clock_min_samples=r.get(m, "clock_min_samples", w, u.integer(3), d.clock_min_samples),
        flush_every=r.get(m, "flush_every", w, u.positive_duration, d.flush_every),
    )
    if found.recent_tau >= found.baseline_tau:
        r.add(m.line_of("recent_tau") if "recent_tau" in m else m.line,
              say(join(w, "recent_tau"), "must be shorter than baseline_tau (the recent mean "
                  "is compared with the baseline)"))
    return found
