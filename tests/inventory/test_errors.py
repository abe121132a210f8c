"""Inventory validation: one tiny invalid fixture per rule and the exact message it gives."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from netwatch.inventory import InventoryError, Problem, load_inventory
from tests.inventory.test_fakes import install_fake_probes

FIXTURES = Path(__file__).parents[1] / "fixtures" / "inventory"
ENV = {"NW_TEST_KEY": "test-key-123456"}
NOT_IN_A_NAME = "is not allowed in a name (names become metric labels and page text)"


@pytest.fixture(autouse=True)
def fake_probes(monkeypatch: pytest.MonkeyPatch) -> None:
    install_fake_probes(monkeypatch)


def problems(name: str) -> list[str]:
    """The problems of fixture ``name`` as ``FILE:LINE: message`` with FILE relative to it."""
    with pytest.raises(InventoryError) as caught:
        load_inventory(FIXTURES / name, env=ENV)
    prefix = f"{FIXTURES}/"
    return [str(p).removeprefix(prefix).replace(prefix, "") for p in caught.value.problems]


TABLE = [
    ("unknown_key.yaml",
     'unknown_key.yaml:5: device cam-1: unknown key "intervall" (did you mean "interval"?)'),
    ("unknown_section.yaml",
     'unknown_section.yaml:4: unknown key "devices_files" (did you mean "device_files"?)'),
    ("unknown_county.yaml",
     'unknown_county.yaml:5: device cam-1: unknown county "xinqing" (did you mean "xingan"?)'),
    ("duplicate_id.yaml",
     "duplicate_id.yaml:6: device cam-1: duplicate id (first defined at duplicate_id.yaml:5)"),
    ("bad_address.yaml",
     'bad_address.yaml:5: device cam-1: address "127.120.0.300" is not an IP address'),
    ("hostname_address.yaml",
     'hostname_address.yaml:5: device cam-1: address "cam1.example.invalid" is not an IP address'),
    ("unknown_check.yaml",
     'unknown_check.yaml:5: device cam-1: checks[1]: unknown check "rtps" (did you mean "rtsp"?)'
     " (known: icmp, tcp, http, rtsp, sip, snmp, video, onvif_time)"),
    ("missing_parent.yaml",
     'missing_parent.yaml:6: device cam-1: parent "sw-9" is not a device (did you mean "sw-1"?)'),
    ("parent_cycle.yaml", "parent_cycle.yaml:5: device sw-1: parent cycle sw-1 → sw-2 → sw-1"),
    ("unset_env.yaml",
     "unset_env.yaml:5: snmp_profiles.v2.community: "
     "environment variable NW_TEST_UNSET_COMMUNITY is not set"),
    ("plain_secret.yaml",
     "plain_secret.yaml:5: snmp_profiles.v2.community: "
     "secrets only as ${ENV} references, never in plain text"),
    ("unknown_profile.yaml",
     'unknown_profile.yaml:7: device sw-1: unknown snmp_profile "demo-v4" '
     '(did you mean "demo-v3"?)'),
    ("snmp_without_profile.yaml",
     "snmp_without_profile.yaml:5: device sw-1: check snmp: needs an snmp_profile"),
    ("lat_range.yaml", "lat_range.yaml:5: device cam-1: lat: 91.5 is out of range -90.0..90.0"),
    ("lat_without_lon.yaml",
     "lat_without_lon.yaml:5: device cam-1: lat and lon go together: give both or neither"),
    ("outside_bbox.yaml",
     "outside_bbox.yaml:7: device cam-1: lat 39.5, lon 106.2 is outside coverage.bbox"),
    ("bad_duration.yaml",
     "bad_duration.yaml:5: device cam-1: interval: expected a duration like 500ms, 30s, 5m, 2h"
     ' or 1d, got "5 minutes"'),
    ("bad_speed.yaml",
     "bad_speed.yaml:5: defaults.switch.thresholds.uplink_min_speed: expected a speed like"
     ' 1000Mbit or 1Gbit, got "fast"'),
    ("bad_ratio.yaml",
     "bad_ratio.yaml:5: notices.online_targets.camera: must be between 0 and 1 (or 0% and 100%),"
     ' got "120%"'),
    ("wrong_type.yaml",
     'wrong_type.yaml:5: device cam-1: key_area: expected true or false, got "maybe"'),
    ("bad_kind.yaml",
     'bad_kind.yaml:5: device cam-1: unknown kind "camara" (did you mean "camera"?)'
     " (one of trunking_site, vc_endpoint, camera, switch)"),
    ("bad_cron.yaml",
     'bad_cron.yaml:5: notices.schedule: bad cron expression "0 8 * *": '
     "Wrong number of fields; got 4, expected 5"),
    ("bad_timezone.yaml",
     'bad_timezone.yaml:5: notices.timezone: unknown time zone "Asia/Beijing"'
     " (use an IANA name like Asia/Shanghai)"),
    ("bad_date.yaml",
     'bad_date.yaml:5: notices.holidays[1]: expected a date like 2026-10-01, got "2026-13-01"'),
    ("workday_holiday.yaml",
     "workday_holiday.yaml:6: notices.workdays: 2026-10-02 is also in holidays: a day is either"
     " a day off or a working day"),
    ("bad_weekend.yaml",
     "bad_weekend.yaml:5: notices.weekend: expected weekday names (monday … sunday, or mon …"
     ' sun), got "sundy"'),
    ("circular_time.yaml",
     'circular_time.yaml:7: notices.circular.time: expected a time of day like "09:00" in'
     " quotes (unquoted, YAML reads 9:00 as the number 540)"),
    ("circular_no_prefix.yaml",
     'circular_no_prefix.yaml:6: notices.circular: missing key "prefix"'),
    ("param_error.yaml", "param_error.yaml:9: device cam-1: check rtsp: path: must start with /"),
    ("duplicate_key.yaml", 'duplicate_key.yaml:10: duplicate key "name" (first at line 7)'),
    ("missing_key.yaml", 'missing_key.yaml:4: county linhe: missing key "receiving_unit"'),
    ("county_code.yaml",
     'county_code.yaml:7: county linhe: code: expected a 6-digit administrative division code'
     ' (行政区划代码) such as 640104, got "64012"'),
    ("serving_site.yaml",
     'serving_site.yaml:7: point cp-1: serving_site: "sw-1" is a switch, not a trunking_site'),
    ("maintenance_timing.yaml",
     "maintenance_timing.yaml:5: maintenance[0]: give start and end (one-off) or cron and"
     " duration (recurring)"),
    ("csv_bad_cell.yaml",
     'csv_bad_cell.csv:3: device cam-2: address "not-an-ip" is not an IP address'),
    ("csv_unknown_column.yaml",
     'csv_unknown_column.csv:1: unknown column "nmae" (did you mean "name"?)'),
    ("csv_missing_file.yaml",
     'csv_missing_file.yaml:4: device_files[0].path: cannot read "no_such_file.csv":'
     " No such file or directory"),
    ("yaml_syntax.yaml", "yaml_syntax.yaml:2: YAML syntax error: did not find expected ',' or '}'"),
    ("alias_bomb.yaml",
     "alias_bomb.yaml:9: YAML aliases expand to more than 100,000 nodes (an alias bomb?): refused"),
    ("alias_bomb_key.yaml",
     "alias_bomb_key.yaml:10: YAML aliases expand to more than 100,000 nodes (an alias bomb?):"
     " refused"),
    ("deep_nesting.yaml",
     "deep_nesting.yaml:4: YAML nested deeper than 64 levels: refused"),
    ("long_integer.yaml",
     "long_integer.yaml:5: integer of 5,000 digits is too long (at most 4,300)"),
    ("csv_not_regular.yaml",
     'csv_not_regular.yaml:5: device_files[0].path: cannot read "/dev/zero": not a regular file'),
    ("csv_absolute_path.yaml",
     'csv_absolute_path.yaml:5: device_files[0].path: "/etc/passwd" is outside the inventory\'s'
     " directory (allow_outside: true on this entry permits it)"),
    ("csv_outside_dir.yaml",
     'csv_outside_dir.yaml:5: device_files[0].path: "../../inventory/cameras.csv" is outside the'
     " inventory's directory (allow_outside: true on this entry permits it)"),
    ("control_name.yaml",
     "control_name.yaml:5: device cam-1: name: control character U+000D at position 3"
     f" {NOT_IN_A_NAME}"),
    ("control_site.yaml",
     "control_site.yaml:5: device cam-1: site: control character U+001B at position 5"
     f" {NOT_IN_A_NAME}"),
    ("control_county.yaml",
     "control_county.yaml:3: county xingan: name: control character U+2028 at position 4"
     f" {NOT_IN_A_NAME}"),
    ("csv_control_name.yaml",
     "csv_control_name.csv:3: device cam-2: name: control character U+0085 at position 3"
     f" {NOT_IN_A_NAME}"),
    ("control_city.yaml",
     f"control_city.yaml:1: city.name: control character U+0000 at position 4 {NOT_IN_A_NAME}"),
    ("csv_not_a_list.yaml",
     "csv_not_a_list.csv:1: not a device list: the header row names none of the columns"
     " (id, address, kind, county, …; see docs/inventory.md)"),
    ("warnings_unknown_key.yaml",
     'warnings_unknown_key.yaml:5: warnings: unknown key "loss_rsie" (did you mean "loss_rise"?)'),
    ("warnings_unknown_kind.yaml",
     'warnings_unknown_kind.yaml:6: warnings.kinds.cameras: unknown kind "cameras" '
     '(did you mean "camera"?)'),
    ("warnings_recent_tau.yaml",
     "warnings_recent_tau.yaml:6: warnings.recent_tau: must be shorter than baseline_tau (the "
     "recent mean is compared with the baseline)"),
]


@pytest.mark.parametrize(("fixture", "message"), TABLE, ids=[t[0] for t in TABLE])
def test_each_rule_gives_its_exact_message(fixture: str, message: str) -> None:
    """Each invalid fixture yields exactly one problem, worded and placed as the table says."""
    assert problems(fixture) == [message]


def test_every_fixture_is_in_the_table() -> None:
    """No fixture file is left untested (many_problems.yaml has its own test)."""
    names = {p.name for p in FIXTURES.glob("*.yaml")} - {"many_problems.yaml"}
    assert names == {fixture for fixture, _ in TABLE}


def test_several_problems_are_reported_together_in_line_order() -> None:
    """One load reports every problem of the file, sorted by line, not just the first."""
    assert problems("many_problems.yaml") == [
        "many_problems.yaml:5: snmp_profiles.v2.community: environment variable"
        " NW_TEST_UNSET_COMMUNITY is not set",
        "many_problems.yaml:7: defaults.camera.interval: expected a duration like 500ms, 30s, 5m,"
        ' 2h or 1d, got "soon"',
        'many_problems.yaml:9: device cam-1: unknown county "xinqing" (did you mean "xingan"?)',
        'many_problems.yaml:10: device cam-2: address "127.120.0.999" is not an IP address',
        'many_problems.yaml:11: device cam-3: parent "cam-9" is not a device',
        "many_problems.yaml:12: device cam-1: duplicate id (first defined at many_problems.yaml:9)",
    ]


def test_error_text_is_one_problem_per_line() -> None:
    """str(InventoryError) is the problems' ``FILE:LINE: message`` lines joined by newlines."""
    error = InventoryError([Problem("a.yaml", 3, "x"), Problem("b.csv", 7, "y")])
    assert str(error) == "a.yaml:3: x\nb.csv:7: y"


def test_plain_text_secret_is_never_echoed() -> None:
    """A plain-text community is refused without the message quoting it."""
    text = "\n".join(problems("plain_secret.yaml"))
    assert "hunter2-plain" not in text


def test_unset_env_var_message_names_the_variable_only(tmp_path: Path) -> None:
    """An empty variable is refused by name; the values of set variables never appear."""
    path = tmp_path / "inv.yaml"
    path.write_text(
        (FIXTURES / "unknown_profile.yaml").read_text(encoding="utf-8").replace(
            "${NW_TEST_KEY}\", priv_protocol", "${NW_TEST_EMPTY}\", priv_protocol"),
        encoding="utf-8")
    with pytest.raises(InventoryError) as caught:
        load_inventory(path, env={**ENV, "NW_TEST_EMPTY": ""})
    text = str(caught.value)
    assert "environment variable NW_TEST_EMPTY is empty" in text
    assert ENV["NW_TEST_KEY"] not in text


def test_a_file_that_is_no_device_list_is_never_quoted(tmp_path: Path) -> None:
    """/etc/passwd named as a device list (outside allowed): refused without its content."""
    path = tmp_path / "inv.yaml"
    path.write_text((FIXTURES / "csv_absolute_path.yaml").read_text(encoding="utf-8").replace(
        "{path: /etc/passwd}", "{path: /etc/passwd, allow_outside: true}"), encoding="utf-8")
    with pytest.raises(InventoryError) as caught:
        load_inventory(path, env=ENV)
    assert [str(p) for p in caught.value.problems] == [
        "/etc/passwd:1: not a device list: the header row names none of the columns"
        " (id, address, kind, county, …; see docs/inventory.md)"]
    assert "root" not in str(caught.value)


def test_an_inventory_that_is_no_regular_file_is_refused() -> None:
    """/dev/zero as the inventory: a problem at line 1, not an endless read."""
    with pytest.raises(InventoryError) as caught:
        load_inventory("/dev/zero", env=ENV)
    assert str(caught.value) == "/dev/zero:1: not a regular file"


def test_a_yaml_over_the_size_limit_points_to_csv(monkeypatch: pytest.MonkeyPatch) -> None:
    """A YAML inventory over the limit is refused before parsing, pointing to CSV lists."""
    monkeypatch.setattr("netwatch.inventory.load.MAX_YAML_BYTES", 100)
    size = (FIXTURES / "unknown_key.yaml").stat().st_size
    assert problems("unknown_key.yaml") == [
        f"unknown_key.yaml:1: the file is {size} bytes, over the 100 bytes limit for"
        " YAML; put large device lists in CSV files (device_files)"]


def test_check_refuses_an_alias_bomb_with_exit_2() -> None:
    """``netwatch check`` on the billion-laughs file: one FILE:LINE line, exit 2, no traceback."""
    path = FIXTURES / "alias_bomb.yaml"
    done = subprocess.run([sys.executable, "-m", "netwatch", "check", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.splitlines()[0] == (
        f"{path}:9: YAML aliases expand to more than 100,000 nodes (an alias bomb?): refused")
    assert "Traceback" not in done.stderr


def test_aliases_of_a_large_string_are_charged_by_their_text(tmp_path: Path) -> None:
    """Twenty aliases of a 1 MB string in a list used as a key: few nodes, 20 MB of text.

    The key would be written out whole (lists as keys become strings); the alias
    budget counts characters as well as nodes, so the file is refused at the alias
    that passes 10,000,000 characters, as ``FILE:LINE``, exit 2, no traceback.
    """
    path = tmp_path / "bomb.yaml"
    path.write_text(
        "city: {name: 测试市, timezone: Asia/Shanghai}\n"
        "counties:\n  - {id: xingan, name: 兴安区, receiving_unit: 兴安区公安分局}\n"
        f"big: &a {'x' * 1_000_000}\n"
        "devices:\n"
        "  ? [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a,\n"
        "     *a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "  : 1\n", encoding="utf-8")
    with pytest.raises(InventoryError) as caught:
        load_inventory(path, env=ENV)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:7: YAML aliases expand to more than 10,000,000 characters of text"
        " (an alias bomb?): refused"]
    done = subprocess.run([sys.executable, "-m", "netwatch", "check", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.splitlines()[0].startswith(f"{path}:7: YAML aliases expand")
