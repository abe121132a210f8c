"""Where devices come from: the YAML ``devices`` list and the CSV files ``device_files`` names.

Both readers turn their entries into the values ``DeviceBuilder.add`` takes; the
CSV reader converts cells (numbers, booleans, ports) and reports each bad cell at
its row's line. CSV columns: id, kind, county, address, name, lat, lon, parent,
site, key_area, snmp_profile, uplink_if, checks (``icmp;rtsp``) and ``CHECK_port``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from netwatch.inventory import units as u
from netwatch.inventory.defaults import SETTING_KEYS, CheckItem, read_layer
from netwatch.inventory.devices import DeviceBuilder
from netwatch.inventory.files import MAX_CSV_BYTES, FileRefused, inside, read_capped
from netwatch.inventory.model import KINDS
from netwatch.inventory.reader import Reader, join, say, suggestion
from netwatch.inventory.yaml_lines import LineMap

DEVICE_KEYS: tuple[str, ...] = (
    "id", "kind", "county", "address", "name", "lat", "lon", "parent", "site", "key_area",
    "snmp_profile", "uplink_if", "ports", *SETTING_KEYS,
)
_DEVICE_KEY_SET = frozenset(DEVICE_KEYS)
CSV_COLUMNS: tuple[str, ...] = (
    "id", "kind", "county", "address", "name", "lat", "lon", "parent", "site", "key_area",
    "snmp_profile", "uplink_if", "checks",
)
_TRUE = {"true", "yes", "y", "1", "是"}
_FALSE = {"false", "no", "n", "0", "否", ""}


def interface(value: Any) -> int | str:
    """An uplink: ifIndex (a whole number from 1) or ifName (text)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    if isinstance(value, str) and value.strip():
        return value
    raise u.BadValue(f"expected an ifIndex (1, 2, …) or an ifName, got {u.shown(value)}")


def read_ports(r: Reader, m: LineMap, where: str) -> dict[str, int] | None:
    if "ports" not in m:
        return None
    pm = r.mapping(m.get("ports"), m.line_of("ports"), join(where, "ports"))
    if pm is None:
        return None
    port = u.integer(1, 65535)
    return {str(k): v for k in pm
            if (v := r.get(pm, k, join(where, "ports"), port, None)) is not None}


def _text(r: Reader, m: LineMap, key: str, where: str) -> str | None:
    """``r.get(m, key, where, u.text, None)``, the common case decided inline."""
    value = m.get(key)
    if value is None or (type(value) is str and value.strip()):
        return value
    return r.get(m, key, where, u.text, None)


def read_yaml_devices(r: Reader, raw: Any, line: int, builder: DeviceBuilder,
                      probes: dict[str, str]) -> None:
    """The ``devices`` list: a hundred thousand entries must stay quick, hence the fast paths
    (every value that is plainly right is taken as it is; the rest goes through ``r.get``)."""
    items = r.items(raw, line, "devices")
    for i, item in enumerate(items):
        m = item if type(item) is LineMap else r.mapping(item, items.line_of(i), f"devices[{i}]")
        if m is None:
            continue
        did = r.need(m, "id", f"devices[{i}]", u.identifier)
        where = f"device {did}:" if did else f"devices[{i}]"
        if not _DEVICE_KEY_SET.issuperset(m):
            r.keys(m, where, DEVICE_KEYS)
        layer = None if m.keys().isdisjoint(SETTING_KEYS) else read_layer(r, m, where, probes)
        parent = m.get("parent")
        key_area = m.get("key_area", False)
        builder.add(
            r.file, m.line, did, m.get("kind"), m.get("county"), m.get("address"),
            _text(r, m, "name", where), m.get("lat"), m.get("lon"),
            parent if parent is None or (type(parent) is str and u.is_identifier(parent))
            else r.get(m, "parent", where, u.identifier, None),
            _text(r, m, "site", where),
            key_area if type(key_area) is bool else r.get(m, "key_area", where, u.boolean, False),
            _text(r, m, "snmp_profile", where),
            r.get(m, "uplink_if", where, interface, None) if "uplink_if" in m else None,
            read_ports(r, m, where), layer,
        )


def read_device_files(r: Reader, raw: Any, line: int, base_dir: Path, builder: DeviceBuilder,
                      probes: dict[str, str]) -> None:
    items = r.items(raw, line, "device_files")
    for i, item in enumerate(items):
        where = f"device_files[{i}]"
        m = r.mapping(item, items.line_of(i), where)
        if m is None:
            continue
        r.keys(m, where, ("path", "kind", "county", "encoding", "allow_outside"),
               required=("path",))
        rel = r.get(m, "path", where, u.text, "")
        kind = r.get(m, "kind", where, u.text, None)
        if kind is not None and kind not in KINDS:
            r.add(m.line_of("kind"), say(join(where, "kind"), f'unknown kind "{kind}"'
                                         f"{suggestion(kind, KINDS)}"))
        encoding = r.get(m, "encoding", where, u.text, "utf-8-sig")
        outside_ok = r.get(m, "allow_outside", where, u.boolean, False)
        if not rel:
            continue
        path, kept_inside = inside(base_dir, rel)
        if not outside_ok and (Path(rel).is_absolute() or not kept_inside):
            r.add(m.line_of("path"), say(join(where, "path"), f'"{rel}" is outside the'
                                         " inventory's directory (allow_outside: true on this"
                                         " entry permits it)"))
            continue
        try:
            data = read_capped(path, MAX_CSV_BYTES)
            text = data.decode(encoding)
        except (OSError, FileRefused) as exc:
            reason = exc.strerror or exc if isinstance(exc, OSError) else exc
            r.add(m.line_of("path"), say(join(where, "path"), f'cannot read "{rel}": {reason}'))
            continue
        except LookupError:
            r.add(m.line_of("encoding"), say(join(where, "encoding"),
                                             f'unknown encoding "{encoding}"'))
            continue
        except UnicodeDecodeError as exc:
            bad_line = data[: exc.start].count(b"\n") + 1
            r.add(bad_line, f"not valid {encoding} text (set {where}.encoding, e.g. gbk)",
                  str(path))
            continue
        CsvDevices(r, str(path), builder, probes, kind, r.get(m, "county", where, u.text, None)
                   ).read(text)


class CsvDevices:
    """One CSV device list: header check, then one ``builder.add`` per row."""

    def __init__(self, r: Reader, file: str, builder: DeviceBuilder, probes: dict[str, str],
                 kind: str | None, county: str | None) -> None:
        self.r, self.file, self.builder, self.probes = r, file, builder, probes
        self.kind, self.county = kind, county
        self._checks: dict[str, dict[str, Any] | None] = {}

    def bad(self, line: int, message: str) -> None:
        self.r.add(line, message, self.file)

    def read(self, text: str) -> None:
        rows = csv.reader(io.StringIO(text, newline=""))
        try:
            self.rows(rows)
        except csv.Error as exc:
            self.bad(rows.line_num, f"not a readable CSV device list: {exc}")

    def rows(self, rows: Any) -> None:
        header = [c.strip() for c in next(rows, [])]
        allowed = set(CSV_COLUMNS) | {f"{p}_port" for p in self.probes}
        if not allowed.intersection(header):
            # e.g. /etc/passwd: say what is wrong without quoting what the file holds
            self.bad(1, "not a device list: the header row names none of the columns"
                        " (id, address, kind, county, …; see docs/inventory.md)")
            return
        before = len(self.r.problems)
        for c in header:
            if c not in allowed:
                self.bad(1, f'unknown column "{c}"{suggestion(c, allowed)}')
        for c in ("id", "address", "kind", "county"):
            if c not in header and not (c == "kind" and self.kind or c == "county" and self.county):
                self.bad(1, f'missing column "{c}"')
        if len(set(header)) != len(header):
            self.bad(1, "a column appears twice")
        if len(self.r.problems) != before:
            return
        width = len(header)
        # every known column's index; an absent column reads the empty cell appended at the end
        index = [header.index(c) if c in header else width for c in CSV_COLUMNS]
        ports = [(c[:-5], i) for i, c in enumerate(header) if c.endswith("_port")]
        last = rows.line_num
        for row in rows:
            line, last = last + 1, rows.line_num
            if len(row) > width:
                self.bad(line, f"{len(row)} cells but the header has {width} columns")
                continue
            if not any(row):
                continue
            row += [""] * (width + 1 - len(row))
            self.row(line, [row[i].strip() or None for i in index], row, ports)

    def row(self, line: int, cells: list[str | None], row: list[str],
            ports: list[tuple[str, int]]) -> None:
        (raw_id, kind, county, address, name, lat, lon, parent, site, key_area, profile,
         uplink, checks) = cells
        did = None
        try:
            did = u.identifier(raw_id) if raw_id is not None else None
            if did is None:
                self.bad(line, "device: missing id")
        except u.BadValue as exc:
            self.bad(line, f"device: id: {exc}")
        where = f"device {did}:" if did else "device:"
        flag = (key_area or "").lower()
        if flag not in _TRUE and flag not in _FALSE:
            self.bad(line, say(join(where, "key_area"), f"expected true or false, got "
                                                         f"{u.shown(key_area)}"))
        port_map = {}
        for check, i in ports:
            text = row[i].strip()
            if text:
                if text.isdigit() and 1 <= int(text) <= 65535:
                    port_map[check] = int(text)
                else:
                    self.bad(line, say(join(where, f"{check}_port"),
                                       f"must be 1..65535, got {u.shown(text)}"))
        self.builder.add(
            self.file, line, did, kind or self.kind, county or self.county, address, name,
            self.number(lat), self.number(lon), parent, site, flag in _TRUE, profile,
            int(uplink) if uplink and uplink.isdigit() else uplink, port_map or None,
            self.layer(line, where, checks),
        )

    @staticmethod
    def number(text: str | None) -> Any:
        """A float, or the text itself for the builder to report."""
        if text is None:
            return None
        try:
            return float(text)
        except ValueError:
            return text

    def layer(self, line: int, where: str, text: str | None) -> dict[str, Any] | None:
        """The device's own checks from ``icmp;rtsp`` (memoized per distinct cell)."""
        if text is None:
            return None
        if text not in self._checks:
            names = text.replace(";", " ").replace("|", " ").split()
            unknown = [n for n in names if n not in self.probes]
            for n in unknown:
                known = ", ".join(self.probes)
                self.bad(line, say(join(where, "checks"), f'unknown check "{n}"'
                                   f"{suggestion(n, self.probes)} (known: {known})"))
            if unknown:
                return None
            items = tuple(CheckItem(n, n, None, (), "", 0) for n in dict.fromkeys(names))
            self._checks[text] = {"checks": items}
        return self._checks[text]
