"""The survey's metrics provider: readings accepted per county, read from the database."""

from __future__ import annotations

from netwatch.inventory import Inventory
from netwatch.metrics import Family, FamilySpec, labels
from netwatch.store import Store
from netwatch.survey.readings import received

RECEIVED = FamilySpec("netwatch_survey_readings_received_total", "counter",
                      "Survey readings accepted (stored), per county.")


def survey_families(store: Store, inventory: Inventory) -> list[Family]:
    """Readings received per county; every inventory county appears, with 0 when none."""
    totals = received(store)
    family = Family(RECEIVED)
    for county in sorted(inventory.counties):
        family.add(labels((("county", county),)), totals.get(county, 0))
    return [family]
