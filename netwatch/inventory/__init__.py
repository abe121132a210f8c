"""The inventory: YAML and CSV device lists in, a validated frozen ``Inventory`` out.

``load`` reads and validates (every problem at once, ``FILE:LINE: message``);
``model`` is the frozen result every other part reads. The pieces behind the
loader: ``files`` (regular files only, capped), ``yaml_lines`` (YAML that keeps line
numbers, with alias and size budgets), ``units`` (value parsers; on the face, for
other programs' settings such as the lab's scenarios), ``reader`` (problems),
``settings`` (city, counties, notices, coverage, SNMP profiles), ``defaults``
(layering), ``devices`` and ``sources`` (devices from YAML and CSV) and ``places``
(coverage points, maintenance windows). ``ledger`` turns a county's device
ledger into a device CSV, reading workbooks with ``xlsx_stream`` within the limits of
``ledger_files`` and device codes with ``gb28181``; ``formulas`` keeps spreadsheet
formulas out of text from outside. ``boundaries`` reads the counties' outlines (inline
rings or a GeoJSON file) into WGS-84 areas with ``datums`` (GCJ-02 and BD-09 to WGS-84,
the one implementation the survey uses too). The schema is in docs/inventory.md.
"""

from __future__ import annotations

from netwatch.inventory import units
from netwatch.inventory.datums import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_wgs84,
    outside_china,
    to_wgs84,
    wgs84_to_gcj02,
)
from netwatch.inventory.formulas import neutralise
from netwatch.inventory.ledger import (
    LedgerError,
    LedgerMap,
    LedgerProblem,
    load_map,
    read_ledger,
    write_devices,
)
from netwatch.inventory.load import (
    DEMO_SECRETS,
    InventoryError,
    Problem,
    demo_inventory_path,
    is_demo_inventory,
    load_command_inventory,
    load_counties,
    load_inventory,
    resolve_inventory_path,
    use_demo_secrets,
)
from netwatch.inventory.model import (
    DATUMS,
    KINDS,
    TECHNOLOGIES,
    Area,
    BroadbandThresholds,
    CheckSpec,
    CircularSettings,
    Contact,
    County,
    CoveragePoint,
    CoverageThresholds,
    Device,
    Inventory,
    MaintenanceWindow,
    NoticeSettings,
    OutageSettings,
    PdtThresholds,
    Polygon,
    Ring,
    SmtpDelivery,
    Thresholds,
    WarningSettings,
    WebhookDelivery,
)
from netwatch.inventory.reader import suggestion
from netwatch.inventory.settings import plain_auth_refusal
from netwatch.inventory.units import cron_trigger
from netwatch.inventory.yaml_lines import LineList, LineMap, YamlSyntaxError, load_yaml

__all__ = [
    "DATUMS", "DEMO_SECRETS", "KINDS", "TECHNOLOGIES", "Area", "BroadbandThresholds",
    "CircularSettings",
    "CheckSpec", "Contact", "County", "CoveragePoint", "CoverageThresholds", "Device",
    "Inventory", "InventoryError", "LedgerError", "LedgerMap", "LedgerProblem", "LineList",
    "LineMap", "MaintenanceWindow", "NoticeSettings", "OutageSettings", "PdtThresholds",
    "Polygon", "Problem", "Ring", "SmtpDelivery", "Thresholds", "WarningSettings",
    "WebhookDelivery", "YamlSyntaxError",
    "bd09_to_gcj02", "bd09_to_wgs84", "cron_trigger", "demo_inventory_path", "gcj02_to_wgs84",
    "is_demo_inventory", "load_command_inventory", "load_counties", "load_inventory",
    "load_map", "load_yaml", "neutralise", "outside_china", "plain_auth_refusal",
    "read_ledger", "resolve_inventory_path", "suggestion", "to_wgs84", "units",
    "use_demo_secrets", "wgs84_to_gcj02", "write_devices",
]
