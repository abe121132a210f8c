"""Credential faults are the city's to fix: a county item only when the inventory says so;
the notice settings that shape the document (版头, 抄送, public URL) load from the inventory."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from netwatch.inventory import InventoryError, load_inventory
from netwatch.notices.issue import issue_notices
from netwatch.notices.render import render_html
from netwatch.store import Store
from tests.inventory.test_fakes import install_fake_probes
from tests.inventory.test_load import write
from tests.notices.city import SETTINGS, at, city, fault


def test_auth_failed_is_no_county_item_by_default(store: Store) -> None:
    """A switch refusing our SNMP key: no notice for the county (the fault stays on the API)."""
    fault(store, "sw-1", at("2026-11-20"), fault="auth_failed", kind="switch")
    out = issue_notices(store, city(), counties=["east"], now=at("2026-11-23"))
    assert [o.record for o in out] == [None]
    assert store.conn.execute("SELECT count(*) FROM notice_items").fetchone()[0] == 0


def test_auth_failed_items_when_the_inventory_routes_them(store: Store) -> None:
    """With ``auth_failed_items: true`` it is an item with its own words."""
    fault(store, "sw-1", at("2026-11-20"), fault="auth_failed", kind="switch")
    inv = city(settings=replace(SETTINGS, auth_failed_items=True))
    [o] = issue_notices(store, inv, counties=["east"], now=at("2026-11-23"))
    assert o.record is not None
    [it] = o.record.items
    assert (it.problem, it.severity, it.address) == ("auth_failed", "minor", "127.107.0.1")
    assert "设备认证失败/配置不符" in render_html(o.record)


def test_notice_settings_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """header, cc, auth_failed_items and public_url are read and checked."""
    install_fake_probes(monkeypatch)
    path = write(tmp_path, """\
        notices:
          issuing_unit: 测试市公安局
          header: 测试市公安局科技信息化支队
          cc: 测试市公安局指挥中心
          auth_failed_items: true
          public_url: https://netwatch.example.invalid/
        devices: []
        """)
    n = load_inventory(path).notices
    assert (n.header, n.cc, n.auth_failed_items, n.public_url) == (
        "测试市公安局科技信息化支队", "测试市公安局指挥中心", True,
        "https://netwatch.example.invalid")
    path = write(tmp_path, """\
        notices: {public_url: "ftp://x", auth_failed_items: "yes"}
        devices: []
        """)
    with pytest.raises(InventoryError) as err:
        load_inventory(path)
    assert "notices.public_url: expected an http(s) URL" in str(err.value)
    assert "notices.auth_failed_items" in str(err.value)
