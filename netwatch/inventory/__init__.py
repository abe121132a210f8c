"""The inventory: YAML and CSV device lists in, a validated frozen ``Inventory`` out.

``load`` reads and validates (every problem at once, ``FILE:LINE: message``);
``model`` is the frozen result every other part reads. The pieces behind the
loader: ``yaml_lines`` (YAML that keeps line numbers), ``units`` (value
parsers), ``reader`` (problems), ``settings`` (city, counties, notices,
coverage, SNMP profiles), ``defaults`` (layering), ``devices`` and ``sources``
(devices from YAML and CSV) and ``places`` (coverage points, maintenance
windows). The schema is in docs/inventory.md.
"""

from __future__ import annotations

from netwatch.inventory.formulas import neutralise
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
    BroadbandThresholds,
    CheckSpec,
    Contact,
    County,
    CoveragePoint,
    CoverageThresholds,
    Device,
    Inventory,
    MaintenanceWindow,
    NoticeSettings,
    PdtThresholds,
    SmtpDelivery,
    Thresholds,
    WebhookDelivery,
)

__all__ = [
    "DATUMS", "DEMO_SECRETS", "KINDS", "TECHNOLOGIES", "BroadbandThresholds", "CheckSpec",
    "Contact", "County", "CoveragePoint", "CoverageThresholds", "Device", "Inventory",
    "InventoryError", "MaintenanceWindow", "NoticeSettings", "PdtThresholds", "Problem",
    "SmtpDelivery", "Thresholds", "WebhookDelivery", "demo_inventory_path", "is_demo_inventory",
    "load_command_inventory", "load_counties", "load_inventory", "resolve_inventory_path",
    "neutralise", "use_demo_secrets",
]
