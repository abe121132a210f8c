"""The declared outages' settings: the city's ``outages`` section and a county's
``outage_cap_hours``, read with their defaults and refused as ``FILE:LINE: message``."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from netwatch.inventory import InventoryError, OutageSettings, load_inventory

HEAD = """\
city: {name: T, timezone: Asia/Shanghai}
counties:
  - {id: east, name: E, receiving_unit: EU, outage_cap_hours: 40}
  - {id: west, name: W, receiving_unit: WU}
"""
DEVICES = "devices:\n  - {id: cam-1, kind: camera, county: east, address: 127.31.40.1}\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "inventory.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_and_values(tmp_path: Path) -> None:
    plain = load_inventory(write(tmp_path, HEAD + DEVICES), env={})
    assert plain.outages == OutageSettings(7 * 86400.0, 7 * 86400.0)
    assert plain.counties["east"].outage_cap_hours == 40.0
    assert plain.counties["west"].outage_cap_hours is None
    set_ = load_inventory(write(tmp_path, HEAD + "outages: {max_ahead: 3d, max_length: 12h}\n"
                                + DEVICES), env={})
    assert set_.outages == OutageSettings(3 * 86400.0, 12 * 3600.0)


def test_bad_values_are_refused_naming_file_and_line(tmp_path: Path) -> None:
    text = textwrap.dedent("""\
        city: {name: T, timezone: Asia/Shanghai}
        counties:
          - {id: east, name: E, receiving_unit: EU, outage_cap_hours: -1}
        outages: {max_ahead: soon, max_lenght: 1d}
        """) + DEVICES
    path = write(tmp_path, text)
    with pytest.raises(InventoryError) as caught:
        load_inventory(path, env={})
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:3: county east: outage_cap_hours: -1 is out of range 0.0..744.0",
        f'{path}:4: outages: unknown key "max_lenght" (did you mean "max_length"?)',
        f"{path}:4: outages.max_ahead: expected a duration like 500ms, 30s, 5m, 2h or 1d, "
        'got "soon"',
    ]
