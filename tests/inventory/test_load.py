"""Loading inventories: the shipped demo city, layered defaults, CSV lists, secrets, memoization."""

from __future__ import annotations

import importlib
import re
import textwrap
from collections import Counter
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import probes
from netwatch.inventory import (
    DEMO_SECRETS,
    Inventory,
    InventoryError,
    WarningSettings,
    demo_inventory_path,
    load_inventory,
    resolve_inventory_path,
)
from tests.inventory.test_fakes import install_fake_probes

ROOT = Path(__file__).resolve().parents[2]
PREFIX = {"xingan": "xa", "linhe": "lh", "pingchuan": "pc", "shiqiao": "sq"}
HEAD = """\
city: {name: 测试市, timezone: Asia/Shanghai}
counties:
  - {id: xingan, name: 兴安区, receiving_unit: 兴安区公安分局}
  - {id: linhe, name: 临河县, receiving_unit: 临河县公安局}
"""


@pytest.fixture
def fake_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return install_fake_probes(monkeypatch)


@pytest.fixture
def demo(fake_calls: list[str]) -> Inventory:
    return load_inventory(demo_inventory_path(), env=DEMO_SECRETS)


def write(tmp_path: Path, yaml_text: str, **files: str) -> Path:
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
    path = tmp_path / "inventory.yaml"
    path.write_text(HEAD + textwrap.dedent(yaml_text), encoding="utf-8")
    return path


def test_demo_has_four_counties_and_every_kind(demo: Inventory) -> None:
    """The demo city: 4 counties, each with 4 switches, 6 sites, 8 endpoints and 60 cameras."""
    assert list(demo.counties) == ["xingan", "linhe", "pingchuan", "shiqiao"]
    counts = Counter((d.county, d.kind) for d in demo.devices)
    for county in demo.counties:
        assert counts[(county, "switch")] == 4
        assert counts[(county, "trunking_site")] == 6
        assert counts[(county, "vc_endpoint")] == 8
        assert counts[(county, "camera")] == 60
    assert len(demo.devices) == 312
    per_county = Counter(p.county for p in demo.points)
    assert set(per_county) == set(demo.counties) and all(3 <= n <= 5 for n in per_county.values())
    assert {p.technology for p in demo.points} == {"pdt", "broadband"}


def test_demo_follows_the_address_plan(demo: Inventory) -> None:
    """Ids and addresses follow the plan the device lab and the demo scenario rely on."""
    by_id = demo.by_id()
    for c, (county, p) in enumerate(PREFIX.items()):
        for n in range(1, 5):
            assert by_id[f"{p}-sw-{n:02d}"].address == f"127.{20 + c}.1.{n}"
        for n in range(1, 7):
            assert by_id[f"{p}-ts-{n:02d}"].address == f"127.{20 + c}.2.{n}"
        for n in range(1, 9):
            assert by_id[f"{p}-vc-{n:02d}"].address == f"127.{20 + c}.3.{n}"
        for n in range(1, 61):
            cam = by_id[f"{p}-cam-{n:03d}"]
            assert cam.address == f"127.{20 + c}.{10 + (n - 1) // 100}.{(n - 1) % 100 + 1}"
            assert cam.county == county
    addresses = [d.address for d in demo.devices]
    assert len(set(addresses)) == len(addresses)
    assert all(a.startswith("127.") and a not in ("127.0.0.1", "127.0.0.53") for a in addresses)


def test_demo_parents_profiles_and_key_areas(demo: Inventory) -> None:
    """Switch tree, SNMP profiles per site, uplinks and the key-area third are as planned."""
    by_id = demo.by_id()
    for p in PREFIX.values():
        assert by_id[f"{p}-sw-01"].parent is None
        assert {by_id[f"{p}-sw-{n:02d}"].parent for n in (2, 3, 4)} == {f"{p}-sw-01"}
        for n in range(1, 7):
            site = by_id[f"{p}-ts-{n:02d}"]
            assert site.parent == f"{p}-sw-01"
            assert site.snmp_profile == ("demo-v2c" if n % 2 else "demo-v3")
            assert site.uplink_if == ("ge-0/0/1" if n == 6 else 1)
        assert {by_id[f"{p}-vc-{n:02d}"].parent for n in range(1, 9)} == {f"{p}-sw-02"}
        for n in range(1, 61):
            cam = by_id[f"{p}-cam-{n:03d}"]
            assert cam.parent == (f"{p}-sw-03" if n % 2 else f"{p}-sw-04")
        assert sum(by_id[f"{p}-cam-{n:03d}"].key_area for n in range(1, 61)) == 20
    assert all(by_id[d.parent].kind == "switch" for d in demo.devices if d.parent)


def test_demo_cameras_come_partly_from_the_csv(demo: Inventory) -> None:
    """Cameras 1..20 are defined in the YAML and 21..60 in cameras.csv, at their own lines."""
    by_id = demo.by_id()
    assert by_id["xa-cam-020"].source.startswith(str(demo_inventory_path()) + ":")
    csv = str(demo_inventory_path().with_name("cameras.csv"))
    assert by_id["xa-cam-021"].source == f"{csv}:2"
    assert by_id["sq-cam-060"].source == f"{csv}:161"
    assert by_id["xa-cam-021"].name.startswith("兴安区")


def test_demo_defaults_overrides_and_ports(demo: Inventory) -> None:
    """Built-in defaults per kind, the county and device overrides, and default service ports."""
    by_id = demo.by_id()
    cam, vc, ts, sw = (by_id[i] for i in ("xa-cam-001", "xa-vc-01", "xa-ts-01", "xa-sw-01"))
    assert (cam.interval, cam.timeout, cam.grace_seconds, cam.rectify_within_days) == (
        60.0, 1.0, 7200.0, 3)
    assert (vc.interval, vc.grace_seconds, vc.rectify_within_days) == (30.0, 1800.0, 1)
    assert (ts.interval, ts.rectify_within_days, sw.rectify_within_days) == (30.0, 1, 3)
    assert (cam.open_after, cam.close_after) == (3, 2)
    assert (vc.thresholds.rtt_seconds, vc.thresholds.jitter_seconds,
            vc.thresholds.loss_ratio) == (0.3, 0.03, 0.01)
    assert ts.thresholds.uplink_min_bps == 1e9
    assert by_id["sq-cam-001"].rectify_within_days == 5  # county_defaults
    assert by_id["sq-vc-08"].thresholds.rtt_seconds == 0.7  # the satellite endpoint
    assert by_id["sq-vc-08"].thresholds.loss_ratio == 0.01  # merged field by field
    assert [(c.name, c.port) for c in cam.checks] == [("icmp", 0), ("rtsp", 554)]
    assert [(c.name, c.port) for c in vc.checks] == [("icmp", 0), ("sip", 5060)]
    assert [(c.name, c.port) for c in ts.checks] == [("icmp", 0), ("snmp", 161)]


def test_demo_settings_sections(demo: Inventory) -> None:
    """Notices, coverage and maintenance sections load into their typed settings."""
    assert (demo.city, demo.timezone) == ("示例市", "Asia/Shanghai")
    assert demo.notices.prefix == "示公科信" and demo.notices.schedule == "0 8 * * 1"
    assert demo.notices.online_targets["camera_key_area"] == 0.98
    assert demo.notices.verification_window_seconds == 86400.0
    assert demo.notices.smtp is None and demo.notices.webhook is None
    assert demo.coverage.bbox is not None and demo.coverage.min_readings == 3
    assert demo.coverage.thresholds_for("pingchuan").pdt.weak_dbm == -110.0
    assert demo.coverage.thresholds_for("xingan").pdt.weak_dbm == -108.0
    assert len(demo.maintenance) == 2
    assert all(c.receiving_unit.endswith(("公安分局", "公安局")) for c in demo.counties.values())
    assert all(ct.email.endswith("@example.invalid")
               for c in demo.counties.values() for ct in c.contacts)


def inside(ring: tuple[tuple[float, float], ...], lon: float, lat: float) -> bool:
    hit = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
            hit = not hit
    return hit


def test_demo_places_lie_in_their_own_county(demo: Inventory) -> None:
    """Every device and coverage point sits inside its county's boundary polygon."""
    for item in (*demo.devices, *demo.points):
        ring = demo.counties[item.county].boundary
        assert item.lat is not None and item.lon is not None
        assert inside(ring, item.lon, item.lat), item.id
    by_id = demo.by_id()
    assert all(by_id[p.serving_site].county == p.county for p in demo.points if p.serving_site)


def test_root_inventory_is_the_packaged_demo() -> None:
    """The repo-root inventory.yaml and cameras.csv are byte-for-byte the packaged demo."""
    packaged = demo_inventory_path()
    assert (ROOT / "inventory.yaml").read_bytes() == packaged.read_bytes()
    assert (ROOT / "cameras.csv").read_bytes() == packaged.with_name("cameras.csv").read_bytes()


def test_demo_secrets_cover_every_reference() -> None:
    """Each ${ENV} in the demo has a DEMO_SECRETS value; v3 keys are long enough for USM."""
    refs = set(re.findall(r'"\$\{(\w+)\}"', demo_inventory_path().read_text(encoding="utf-8")))
    assert refs == set(DEMO_SECRETS)
    assert all(len(v) >= 8 for v in DEMO_SECRETS.values())


def test_demo_loads_with_the_real_probes() -> None:
    """With the real probe modules the demo validates and secrets reach the SNMP params only."""
    try:
        for name in probes.PROBES:
            importlib.import_module(probes.PROBES[name])
    except ImportError as exc:  # pragma: no cover - the probes ship together with the loader
        pytest.skip(f"probe module missing: {exc}")
    inv = load_inventory(demo_inventory_path(), env=DEMO_SECRETS)
    by_id = inv.by_id()
    v2c, v3 = by_id["xa-ts-01"].check("snmp"), by_id["xa-ts-02"].check("snmp")
    assert v2c is not None and v3 is not None
    assert v2c.params.community == DEMO_SECRETS["NETWATCH_DEMO_SNMP_COMMUNITY"]
    assert v3.params.priv_key == DEMO_SECRETS["NETWATCH_DEMO_SNMP_PRIV_KEY"]
    text = repr(inv.devices) + repr(inv)
    assert not any(secret in text for secret in DEMO_SECRETS.values())


def test_layers_apply_in_order(tmp_path: Path, fake_calls: list[str]) -> None:
    """Built-in < defaults < county_defaults < device; thresholds merge field by field."""
    path = write(tmp_path, """\
        defaults:
          camera: {interval: 2m, grace: 1h, thresholds: {rtt: 100ms, loss: 2%}}
        county_defaults:
          linhe: {camera: {interval: 90s, thresholds: {jitter: 10ms}}}
        devices:
          - {id: a, kind: camera, county: xingan, address: 127.120.0.1}
          - {id: b, kind: camera, county: linhe, address: 127.120.0.2}
          - {id: c, kind: camera, county: linhe, address: 127.120.0.3, interval: 45s,
             timeout: 500ms, rectify_within: 72h, thresholds: {loss: 0.5%}}
          - {id: d, kind: vc_endpoint, county: linhe, address: 127.120.0.4}
        """)
    by_id = load_inventory(path, env={}).by_id()
    a, b, c, d = (by_id[i] for i in "abcd")
    assert (a.interval, a.grace_seconds, a.thresholds.rtt_seconds, a.thresholds.loss_ratio,
            a.thresholds.jitter_seconds) == (120.0, 3600.0, 0.1, 0.02, 0.03)
    assert (b.interval, b.thresholds.jitter_seconds, b.thresholds.rtt_seconds) == (90.0, 0.01, 0.1)
    assert (c.interval, c.timeout, c.rectify_within_days) == (45.0, 0.5, 3)
    assert (c.thresholds.loss_ratio, c.thresholds.jitter_seconds) == (0.005, 0.01)
    assert (d.interval, d.grace_seconds, d.thresholds.rtt_seconds) == (30.0, 1800.0, 0.3)


def test_the_calendar_and_the_circular_settings(tmp_path: Path, fake_calls: list[str]) -> None:
    """Make-up working days and a city's own weekend; the circular's section with every key,
    and its defaults where the section is left out."""
    path = write(tmp_path, """\
        notices:
          holidays: [2026-10-01, 2026-10-02]
          workdays: [2026-10-10, 2026-09-27]
          weekend: [Sun, friday]
          circular:
            prefix: 示公通
            enabled: false
            time: "08:30"
            video_target: 90%
            clock_target: 0.9
            praise_rank: 2
            criticise_margin: 3%
            criticise_overdue: 2
        """)
    notices = load_inventory(path, env={}).notices
    assert notices.workdays == (date(2026, 9, 27), date(2026, 10, 10))
    assert notices.weekend == (5, 7)
    c = notices.circular
    assert (c.prefix, c.enabled, c.at, c.video_target, c.clock_target) == (
        "示公通", False, time(8, 30), 0.9, 0.9)
    assert (c.praise_rank, c.criticise_margin, c.criticise_overdue) == (2, 0.03, 2)
    plain = load_inventory(write(tmp_path, ""), env={}).notices
    assert (plain.weekend, plain.workdays, plain.circular.prefix) == ((6, 7), (), "")
    assert (plain.circular.at, plain.circular.enabled) == (time(9, 0), True)


def test_a_county_may_give_its_division_code(tmp_path: Path, fake_calls: list[str]) -> None:
    """``code``: 6 digits, plain or quoted; a county without one has an empty code."""
    path = tmp_path / "inventory.yaml"
    path.write_text(HEAD.replace("兴安区公安分局}", "兴安区公安分局, code: 640104}")
                    .replace("临河县公安局}", "临河县公安局, code: '640121'}")
                    + "  - {id: shiqiao, name: 石桥县, receiving_unit: 石桥县公安局}\n",
                    encoding="utf-8")
    counties = load_inventory(path, env={}).counties
    assert [c.code for c in counties.values()] == ["640104", "640121", ""]


def test_checks_mappings_and_port_overrides(tmp_path: Path, fake_calls: list[str]) -> None:
    """A check mapping names its probe, extra keys reach parse_params, ports override."""
    path = write(tmp_path, """\
        devices:
          - id: nvr
            kind: camera
            county: xingan
            address: "::1"
            checks: [icmp, rtsp, {probe: http, name: web, port: 8080, path: /status,
                                  expect_status: [200]}]
            ports: {rtsp: 8554}
        """)
    nvr = load_inventory(path, env={}).by_id()["nvr"]
    assert [(c.name, c.probe, c.port) for c in nvr.checks] == [
        ("icmp", "icmp", 0), ("rtsp", "rtsp", 8554), ("web", "http", 8080)]
    web = nvr.check("web")
    assert web is not None and web.params.get("path") == "/status"
    assert web.params.get("expect_status") == [200]
    assert nvr.address == "::1"


def test_csv_lists_with_file_defaults_ports_and_checks(tmp_path: Path,
                                                       fake_calls: list[str]) -> None:
    """CSV rows take kind/county from their device_files entry, ports and checks from cells."""
    path = write(tmp_path, """\
        device_files: [{path: lists/cams.csv, kind: camera, county: linhe}]
        devices:
          - {id: sw, kind: switch, county: linhe, address: 127.120.0.1, checks: [icmp]}
        """)
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "cams.csv").write_text(
        "id,address,name,parent,key_area,rtsp_port,checks,lat,lon\n"
        "c1,127.120.1.1,一号,sw,是,8554,,38.5,106.2\n"
        "\n"
        'c2,127.120.1.2,"二号,球机",sw,no,,icmp,,\n', encoding="utf-8")
    by_id = load_inventory(path, env={}).by_id()
    c1, c2 = by_id["c1"], by_id["c2"]
    assert (c1.kind, c1.county, c1.key_area, c1.lat, c1.lon) == ("camera", "linhe", True, 38.5,
                                                                 106.2)
    assert [(c.name, c.port) for c in c1.checks] == [("icmp", 0), ("rtsp", 8554)]
    assert (c2.name, c2.key_area, [c.name for c in c2.checks]) == ("二号,球机", False, ["icmp"])
    assert c2.source.endswith("cams.csv:4")


def test_csv_in_another_encoding(tmp_path: Path, fake_calls: list[str]) -> None:
    """A spreadsheet export in GBK loads when its device_files entry says so."""
    path = write(tmp_path, "device_files: [{path: gbk.csv, encoding: gbk}]\n")
    (tmp_path / "gbk.csv").write_bytes(
        "id,kind,county,address,name\nc1,camera,xingan,127.120.1.1,兴安区卡口\n".encode("gbk"))
    assert load_inventory(path, env={}).by_id()["c1"].name == "兴安区卡口"


def test_secrets_resolve_from_the_given_env(tmp_path: Path, fake_calls: list[str]) -> None:
    """${ENV} secrets come from ``env`` (not os.environ) and land in the snmp params."""
    path = write(tmp_path, """\
        snmp_profiles:
          v3: {version: 3, user: nw, auth_protocol: SHA256, auth_key: "${A_KEY}",
               priv_protocol: AES128, priv_key: "${P_KEY}"}
        notices:
          delivery:
            smtp: {host: localhost, sender: nw@example.invalid, password: "${SMTP_PW}"}
            webhook: {url: "http://localhost:9/hook", secret: "${HOOK}"}
        devices:
          - {id: sw, kind: switch, county: xingan, address: 127.120.0.1, snmp_profile: v3,
             uplink_if: ge-0/0/1}
        """)
    env = {"A_KEY": "auth-secret-1", "P_KEY": "priv-secret-2", "SMTP_PW": "pw-3", "HOOK": "hk-4"}
    inv = load_inventory(path, env=env)
    snmp = inv.by_id()["sw"].check("snmp")
    assert snmp is not None and (snmp.port, snmp.params.get("auth_key"),
                                 snmp.params.get("priv_key"), snmp.params.get("uplink_if")) == (
        161, "auth-secret-1", "priv-secret-2", "ge-0/0/1")
    assert inv.notices.smtp is not None and inv.notices.smtp.password == "pw-3"
    assert inv.notices.webhook is not None and inv.notices.webhook.secret == "hk-4"
    assert not any(v in repr(inv) for v in env.values())


def test_delivery_deadlines_default_and_can_be_set(tmp_path: Path,
                                                   fake_calls: list[str]) -> None:
    """Each channel's overall send deadline: 60 s for mail and 15 s for webhooks, or as set."""
    path = write(tmp_path, """\
        notices:
          delivery:
            smtp: {host: localhost, sender: nw@example.invalid, deadline: 2m}
            webhook: {url: "http://localhost:9/hook", deadline: 5s}
        """)
    notices = load_inventory(path, env={}).notices
    assert notices.smtp is not None and notices.smtp.deadline == 120.0
    assert notices.webhook is not None and notices.webhook.deadline == 5.0
    path = write(tmp_path, """\
        notices:
          delivery:
            smtp: {host: localhost, sender: nw@example.invalid}
            webhook: {url: "http://localhost:9/hook"}
        """)
    notices = load_inventory(path, env={}).notices
    assert notices.smtp is not None and notices.smtp.deadline == 60.0
    assert notices.webhook is not None and notices.webhook.deadline == 15.0


def test_identical_settings_share_params_and_check_tuples(tmp_path: Path,
                                                          fake_calls: list[str]) -> None:
    """A thousand CSV cameras on the kind defaults build one check tuple and two Params."""
    rows = "".join(f"c{i},camera,xingan,127.120.{i // 250}.{i % 250 + 1}\n" for i in range(1000))
    path = write(tmp_path, "device_files: [{path: cams.csv}]\n",
                 **{"cams.csv": "id,kind,county,address\n" + rows})
    devices = load_inventory(path, env={}).devices
    assert len(devices) == 1000
    assert len({id(d.checks) for d in devices}) == 1
    assert sorted(fake_calls) == ["icmp", "rtsp"]


def test_a_shared_bad_setting_is_reported_once(tmp_path: Path, fake_calls: list[str]) -> None:
    """A bad probe setting in the kind defaults gives one line counting the other devices."""
    rows = "".join(f"c{i},camera,xingan,127.120.0.{i + 1}\n" for i in range(5))
    path = write(tmp_path, """\
        defaults:
          camera:
            checks: [icmp, {probe: rtsp, path: live}]
        device_files: [{path: cams.csv}]
        """, **{"cams.csv": "id,kind,county,address\n" + rows})
    with pytest.raises(InventoryError) as caught:
        load_inventory(path, env={})
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:7: device c0: check rtsp: path: must start with / (and 4 more devices)"]


def test_maintenance_windows_match_and_open(tmp_path: Path, fake_calls: list[str]) -> None:
    """One-off and recurring windows select devices and know when they are open."""
    path = write(tmp_path, """\
        maintenance:
          - {devices: [a], start: 2026-12-01T22:00:00+08:00, end: "2026-12-02T02:00:00",
             reason: 升级}
          - {county: linhe, kind: camera, cron: "0 2 * * 0", duration: 2h, reason: 巡检}
        devices:
          - {id: a, kind: camera, county: xingan, address: 127.120.0.1}
          - {id: b, kind: camera, county: linhe, address: 127.120.0.2}
          - {id: c, kind: vc_endpoint, county: linhe, address: 127.120.0.3}
        """)
    inv = load_inventory(path, env={})
    one_off, weekly = inv.maintenance
    by_id = inv.by_id()
    assert [one_off.matches(by_id[i]) for i in "abc"] == [True, False, False]
    assert [weekly.matches(by_id[i]) for i in "abc"] == [False, True, False]
    tz = ZoneInfo("Asia/Shanghai")
    assert one_off.active_at(datetime(2026, 12, 2, 1, 59, tzinfo=tz))
    assert not one_off.active_at(datetime(2026, 12, 2, 2, 0, tzinfo=tz))  # naive end: city tz
    assert weekly.active_at(datetime(2026, 11, 29, 3, 59, tzinfo=tz))  # a Sunday
    assert not weekly.active_at(datetime(2026, 11, 29, 4, 0, tzinfo=tz))
    assert not weekly.active_at(datetime(2026, 11, 28, 3, 0, tzinfo=tz))


def test_inventory_path_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argument first, then $NETWATCH_INVENTORY, then ./inventory.yaml."""
    monkeypatch.setenv("NETWATCH_INVENTORY", "/srv/nw/city.yaml")
    assert resolve_inventory_path("mine.yaml") == Path("mine.yaml")
    assert resolve_inventory_path(None) == Path("/srv/nw/city.yaml")
    monkeypatch.delenv("NETWATCH_INVENTORY")
    assert resolve_inventory_path(None) == Path("inventory.yaml")


def test_missing_inventory_file_raises_oserror(tmp_path: Path) -> None:
    """An unreadable inventory file is an OSError for the command to report, not a problem list."""
    with pytest.raises(FileNotFoundError):
        load_inventory(tmp_path / "absent.yaml", env={})


def test_warning_thresholds_default_and_can_be_set(tmp_path: Path,
                                                  fake_calls: list[str]) -> None:
    """The warnings section: every key optional, the documented defaults otherwise."""
    path = write(tmp_path, "")
    assert load_inventory(path, env={}).warnings == WarningSettings()
    assert WarningSettings().baseline_tau == 3 * 86400.0 and WarningSettings().loss_rise == 0.02
    path = write(tmp_path, """\
        warnings: {baseline_tau: 7d, loss_rise: 5%, rtt_min_rise: 50ms, reboots_per_day: 4,
                   clock_drift_per_day: 1s, flush_every: 10m}
        """)
    found = load_inventory(path, env={}).warnings
    assert (found.baseline_tau, found.loss_rise, found.rtt_min_rise, found.reboots_per_day,
            found.clock_drift_per_day, found.flush_every) == (
                7 * 86400.0, 0.05, 0.05, 4, 1.0, 600.0)
    assert found.recent_tau == 3600.0  # the rest as documented
    path = write(tmp_path, """\
        warnings:
          loss_rise: 3%
          kinds: {vc_endpoint: {loss_rise: 1%, rtt_min_rise: 5ms}}
        """)
    found = load_inventory(path, env={}).warnings
    endpoint, camera = found.for_kind("vc_endpoint"), found.for_kind("camera")
    assert (endpoint.loss_rise, endpoint.rtt_min_rise, endpoint.reboots_per_day) == (
        0.01, 0.005, 3)
    assert (camera.loss_rise, camera.rtt_min_rise) == (0.03, 0.02)  # the city's
