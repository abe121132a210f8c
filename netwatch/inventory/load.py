"""Loading the inventory: YAML (+ CSV device lists) in, a validated frozen ``Inventory`` out.

``load_inventory`` reads every section, applies defaults (built-in < kind < county <
device), resolves ``${ENV}`` secrets and reports every problem at once as
``FILE:LINE: message`` lines in one ``InventoryError``. The pieces it calls are
the package's other modules (see ``netwatch/inventory/__init__.py``); the schema
is in docs/inventory.md.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import probes
from netwatch.inventory.boundaries import read_boundaries
from netwatch.inventory.defaults import Layers
from netwatch.inventory.devices import DeviceBuilder
from netwatch.inventory.files import MAX_YAML_BYTES, FileRefused, read_capped
from netwatch.inventory.model import County, Inventory
from netwatch.inventory.places import read_maintenance, read_points
from netwatch.inventory.reader import InventoryError, Problem, Reader
from netwatch.inventory.settings import (
    read_city,
    read_counties,
    read_coverage,
    read_notices,
    read_outages,
    read_snmp_profiles,
    read_warnings,
)
from netwatch.inventory.sources import read_device_files, read_yaml_devices
from netwatch.inventory.yaml_lines import LineMap, YamlSyntaxError, load_yaml

__all__ = [
    "DEMO_SECRETS", "ENV_VAR", "InventoryError", "Problem", "demo_inventory_path",
    "is_demo_inventory", "load_command_inventory", "load_counties", "load_inventory",
    "resolve_inventory_path", "use_demo_secrets",
]

ENV_VAR = "NETWATCH_INVENTORY"
TOP_KEYS: tuple[str, ...] = (
    "city", "notices", "coverage", "counties", "defaults", "county_defaults", "snmp_profiles",
    "maintenance", "device_files", "devices", "coverage_points", "boundaries", "warnings",
    "outages",
)
YAML_TOO_BIG = " for YAML; put large device lists in CSV files (device_files)"

# What the demo city's ${ENV} secrets are when the user has not set them (demo/simulate
# set these; v3 keys need at least 8 characters).
DEMO_SECRETS: dict[str, str] = {
    "NETWATCH_DEMO_SNMP_COMMUNITY": "demo-community-5k2q",
    "NETWATCH_DEMO_SNMP_AUTH_KEY": "demo-auth-key-7m4x",
    "NETWATCH_DEMO_SNMP_PRIV_KEY": "demo-priv-key-9p3z",
    "NETWATCH_DEMO_RTSP_PASSWORD": "demo-rtsp-pass-4w8n",  # cameras sq-cam-005..008
}


def resolve_inventory_path(arg: str | None) -> Path:
    """The inventory a command uses: argument, else $NETWATCH_INVENTORY, else ./inventory.yaml."""
    return Path(arg or os.environ.get(ENV_VAR) or "inventory.yaml")


def demo_inventory_path() -> Path:
    """The demo city shipped inside the package, so ``netwatch demo`` works from anywhere."""
    # next to this module rather than importlib.resources: ``netwatch`` is a namespace
    # package (no __init__.py), which resources.files() cannot read in editable installs
    return Path(__file__).resolve().parents[1] / "demo" / "inventory.yaml"


def is_demo_inventory(path: Path) -> bool:
    """The shipped demo city (packaged, or its copy at the repository root)."""
    demo = demo_inventory_path()
    try:
        return path.stat().st_size == demo.stat().st_size and path.read_bytes() == demo.read_bytes()
    except OSError:
        return False


def use_demo_secrets() -> None:
    """The demo's ${ENV} secrets are set by the demo itself unless the user set them."""
    for name, value in DEMO_SECRETS.items():
        os.environ.setdefault(name, value)


def load_command_inventory(path: Path) -> Inventory:
    """``load_inventory`` for a program's command line: the demo city brings its own secrets."""
    if is_demo_inventory(path):
        use_demo_secrets()
    return load_inventory(path)


def load_inventory(path: str | Path, env: Mapping[str, str] | None = None) -> Inventory:
    """Read, default and validate the inventory; raises InventoryError listing every problem.

    ``env`` resolves ``${NAME}`` secrets (default: the process environment). An
    unreadable inventory file raises OSError; an unreadable CSV list is a problem.
    """
    path = Path(path)
    problems: list[Problem] = []
    r = Reader(str(path), os.environ if env is None else env, problems)
    doc = _document(r, path)
    r.keys(doc, "", TOP_KEYS)
    inventory = _read(r, doc, path)
    if problems:
        problems.sort(key=lambda p: (p.file != str(path), p.file, p.line))
        raise InventoryError(problems)
    return inventory


def load_counties(path: str | Path) -> dict[str, County]:
    """Only the ``counties`` section, validated; raises InventoryError or OSError like the rest.

    For tools that need the county list (the ledger importer) before the rest of the
    inventory is complete: its device files may be the very files being made.
    """
    path = Path(path)
    problems: list[Problem] = []
    r = Reader(str(path), {}, problems)
    doc = _document(r, path)
    counties = read_counties(r, doc.get("counties"), doc.line_of("counties"))
    if problems:
        problems.sort(key=lambda p: p.line)
        raise InventoryError(problems)
    return counties


def _document(r: Reader, path: Path) -> LineMap:
    """The file's YAML mapping, duplicate keys reported; unreadable text raises."""
    try:
        data = read_capped(path, MAX_YAML_BYTES, YAML_TOO_BIG)
    except FileRefused as exc:
        raise InventoryError([Problem(str(path), 1, str(exc))]) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InventoryError([Problem(str(path), line, "not valid UTF-8 text")]) from None
    try:
        doc, duplicates = load_yaml(text)
    except YamlSyntaxError as exc:
        raise InventoryError([Problem(str(path), exc.line, exc.message)]) from None
    for line, key, first in duplicates:
        r.add(line, f'duplicate key "{key}" (first at line {first})')
    if not isinstance(doc, LineMap):
        r.add(1, "expected a mapping of sections (city, counties, devices, …)")
        raise InventoryError(r.problems)
    return doc


def _read(r: Reader, doc: LineMap, path: Path) -> Inventory:
    def section(name: str) -> tuple[object, int]:
        return doc.get(name), doc.line_of(name)

    city, timezone = read_city(r, *section("city"))
    counties = read_counties(r, *section("counties"))
    notices = read_notices(r, *section("notices"), timezone)
    coverage = read_coverage(r, *section("coverage"), counties)
    counties = read_boundaries(r, *section("boundaries"), path.parent, counties, coverage.datum)
    profiles = read_snmp_profiles(r, *section("snmp_profiles"))
    table = dict(probes.PROBES)
    layers = Layers(r, table)
    layers.read_defaults(*section("defaults"))
    layers.read_county_defaults(*section("county_defaults"), counties)
    builder = DeviceBuilder(r, counties, profiles, layers, coverage.bbox)
    read_yaml_devices(r, *section("devices"), builder, table)
    read_device_files(r, *section("device_files"), path.parent, builder, table)
    devices = builder.finish()
    by_id = {d.id: d for d in devices}
    points = read_points(r, *section("coverage_points"), counties, by_id, builder.origin,
                         coverage.bbox)
    maintenance = read_maintenance(r, *section("maintenance"), counties, by_id, builder.origin,
                                   timezone)
    return Inventory(str(path), city, timezone, counties, devices, points, notices, coverage,
                     maintenance, read_warnings(r, *section("warnings")),
                     read_outages(r, *section("outages")))
