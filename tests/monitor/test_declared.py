"""The rules of declared outages (停机报备) on a real store, both engines: what a county may
declare, shorten and end, what only an admin cancels, and the audit row each action leaves."""

from __future__ import annotations

import textwrap
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from netwatch.inventory import Inventory, load_inventory
from netwatch.monitor import (
    Actor,
    Refusal,
    Refused,
    Wanted,
    audit_trail,
    cancel_declaration,
    declaration,
    declarations_within,
    declare,
    declared_totals,
    end_declaration,
    find_declarations,
    shorten_declaration,
)
from netwatch.store import Store

BOTH_ENGINES = True
ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 30, 12, 0, tzinfo=ZONE).timestamp()
H = 3600.0
EAST = Actor("tok-east", frozenset({"east"}))
WEST = Actor("tok-west", frozenset({"west"}))
ADMIN = Actor("tok-admin", None)

INVENTORY = textwrap.dedent("""\
    city: {name: Testville, timezone: Asia/Shanghai}
    counties:
      - {id: east, name: 东区, receiving_unit: 东区分局, outage_cap_hours: 48}
      - {id: west, name: 西区, receiving_unit: 西区分局}
    outages: {max_ahead: 2d, max_length: 3d}
    defaults:
      switch: {checks: [icmp]}
    devices:
      - {id: sw-e, kind: switch, county: east, address: 127.31.1.1, site: east-hq}
      - {id: sw-e2, kind: switch, county: east, address: 127.31.1.2, parent: sw-e}
      - {id: cam-e1, kind: camera, county: east, address: 127.31.10.1, parent: sw-e2,
         site: east-hq}
      - {id: cam-e2, kind: camera, county: east, address: 127.31.10.2, parent: sw-e}
      - {id: cam-e3, kind: camera, county: east, address: 127.31.10.3}
      - {id: cam-w1, kind: camera, county: west, address: 127.31.10.9, parent: sw-e,
         site: east-hq}
    """)


@pytest.fixture
def city(tmp_path: Path) -> Inventory:
    path = tmp_path / "inventory.yaml"
    path.write_text(INVENTORY, encoding="utf-8")
    return load_inventory(path, env={})


def wanted(selector: dict[str, object], starts: float = NOW, hours: float = 2.0,
           county: str = "east", reason: str = "roadworks", note: str = "") -> Wanted:
    return Wanted(county, selector, starts, starts + hours * H, reason, note)


def refusal(call: object) -> Refused:
    assert callable(call)
    with pytest.raises(Refused) as caught:
        call()
    return caught.value


def test_a_start_just_past_is_now_and_an_earlier_one_is_refused(store: Store,
                                                                 city: Inventory) -> None:
    made = declare(store, city, wanted({"devices": ["cam-e3"]}, starts=NOW - 30), EAST, NOW)
    assert made.starts == NOW and made.made_at == NOW and made.devices == {"cam-e3"}
    late = refusal(lambda: declare(store, city, wanted({"devices": ["cam-e2"]},
                                                       starts=NOW - 61), EAST, NOW))
    assert late.refusal is Refusal.INVALID and late.detail["field"] == "start"


def test_ahead_and_length_limits_name_their_field(store: Store, city: Inventory) -> None:
    ahead = refusal(lambda: declare(store, city, wanted({"devices": ["cam-e3"]},
                                                        starts=NOW + 2 * 86400 + 1), EAST, NOW))
    assert ahead.refusal is Refusal.INVALID and ahead.detail["field"] == "start"
    long = refusal(lambda: declare(store, city, wanted({"devices": ["cam-e3"]},
                                                       hours=72.01), EAST, NOW))
    assert long.refusal is Refusal.INVALID and long.detail["field"] == "end"
    backwards = refusal(lambda: declare(store, city, wanted({"devices": ["cam-e3"]}, hours=-1),
                                        EAST, NOW))
    assert backwards.detail["field"] == "end"
    other = refusal(lambda: declare(store, city, wanted({"devices": ["cam-e3"]},
                                                        reason="other"), EAST, NOW))
    assert other.detail["field"] == "note"
    assert declare(store, city, wanted({"devices": ["cam-e3"]}, starts=NOW + 2 * 86400,
                                       hours=24.0), EAST, NOW).id > 0
    assert find_declarations(store) and len(find_declarations(store)) == 1


def test_under_and_site_resolve_when_made_and_only_within_the_county(
        store: Store, city: Inventory) -> None:
    under = declare(store, city, wanted({"under": "sw-e2"}), EAST, NOW)
    assert under.devices == {"sw-e2", "cam-e1"}
    stored = declaration(store, under.id)
    assert stored is not None and stored.devices == under.devices
    assert stored.selector == {"under": "sw-e2"}
    # the switch's tree holds a west camera: the whole declaration is refused, naming it
    tree = refusal(lambda: declare(store, city, wanted({"under": "sw-e"}, starts=NOW + 3 * H),
                                   EAST, NOW))
    assert tree.refusal is Refusal.OUTSIDE_SCOPE and tree.detail["devices"] == ["cam-w1"]
    site = refusal(lambda: declare(store, city, wanted({"site": "east-hq"}, starts=NOW + 3 * H),
                                   EAST, NOW))
    assert site.refusal is Refusal.OUTSIDE_SCOPE and site.detail["devices"] == ["cam-w1"]
    theirs = refusal(lambda: declare(store, city, wanted({"devices": ["cam-w1"]}), EAST, NOW))
    assert theirs.refusal is Refusal.OUTSIDE_SCOPE
    unknown = refusal(lambda: declare(store, city, wanted({"devices": ["cam-x"]}), EAST, NOW))
    assert unknown.refusal is Refusal.UNKNOWN_DEVICE and unknown.detail["devices"] == ["cam-x"]
    other_county = refusal(lambda: declare(store, city, wanted({"devices": ["cam-w1"]},
                                                               county="west"), EAST, NOW))
    assert other_county.refusal is Refusal.OUTSIDE_SCOPE
    # an admin declaring for west cannot take east's devices at the site either
    mixed = refusal(lambda: declare(store, city, wanted({"site": "east-hq"}, starts=NOW + 3 * H,
                                                        county="west"), ADMIN, NOW))
    assert mixed.refusal is Refusal.OUTSIDE_SCOPE
    assert mixed.detail["devices"] == ["sw-e", "cam-e1"]


def test_an_overlap_is_refused_naming_the_declaration(store: Store, city: Inventory) -> None:
    first = declare(store, city, wanted({"devices": ["cam-e1", "cam-e2"]}, hours=4), EAST, NOW)
    clash = refusal(lambda: declare(store, city, wanted({"under": "sw-e2"},
                                                        starts=NOW + 3 * H), EAST, NOW))
    assert clash.refusal is Refusal.OVERLAP and clash.detail["declaration"] == first.id
    assert str(first.id) in clash.message
    after = declare(store, city, wanted({"under": "sw-e2"}, starts=NOW + 4 * H), EAST, NOW)
    assert after.id != first.id
    end_declaration(store, first.id, EAST, NOW + 60)  # an ended one no longer clashes
    assert declare(store, city, wanted({"devices": ["cam-e2"]}, starts=NOW + 120),
                   EAST, NOW + 60).id > after.id


def test_the_monthly_cap_counts_each_calendar_month_apart(store: Store,
                                                          city: Inventory) -> None:
    """East may declare 48 h a month. 40 h on 31 December leaves 8 h there; a declaration
    across the new year is judged per month: its December part must fit in the 8 h."""
    dec31 = datetime(2026, 12, 31, 0, 0, tzinfo=ZONE).timestamp()
    now = dec31 - 86400
    declare(store, city, wanted({"devices": ["cam-e3"]}, starts=dec31 - 16 * H, hours=40),
            EAST, now)  # 16 h on the 30th, 24 h on the 31st
    midnight = datetime(2027, 1, 1, tzinfo=ZONE).timestamp()
    over = refusal(lambda: declare(store, city, wanted({"devices": ["cam-e2"]},
                                                       starts=midnight - 9 * H, hours=10),
                                   EAST, now))
    assert over.refusal is Refusal.CAP and over.detail["month"] == "2026-12"
    assert over.detail["cap_hours"] == 48 and over.detail["used_hours"] == 40
    fits = declare(store, city, wanted({"devices": ["cam-e2"]}, starts=midnight - 8 * H,
                                       hours=40), EAST, now)  # 8 h in December, 32 in January
    assert fits.ends == midnight + 32 * H
    # west has no cap
    assert declare(store, city, wanted({"devices": ["cam-w1"]}, starts=dec31, hours=72,
                                       county="west"), WEST, now).id > 0
    count, seconds = declared_totals(store, "east", dec31 - 86400, midnight)
    assert (count, seconds) == (2, 48 * H)


def test_shorten_end_and_cancel_as_each_role_may(store: Store, city: Inventory) -> None:
    made = declare(store, city, wanted({"devices": ["cam-e3"]}, hours=10), EAST, NOW)
    assert refusal(lambda: shorten_declaration(store, made.id, NOW + 11 * H, EAST, NOW + 60)
                   ).detail["field"] == "end"  # only earlier
    assert refusal(lambda: shorten_declaration(store, made.id, NOW + 5 * H, WEST, NOW + 60)
                   ).refusal is Refusal.NOT_FOUND  # another county's: not there for it
    shorter = shorten_declaration(store, made.id, NOW + 5 * H, EAST, NOW + 60)
    assert shorter.ends == NOW + 5 * H
    assert refusal(lambda: cancel_declaration(store, made.id, EAST, NOW + 120)
                   ).refusal is Refusal.FORBIDDEN
    ended = end_declaration(store, made.id, EAST, NOW + 2 * H)
    assert ended.ends == NOW + 2 * H and ended.state(NOW + 3 * H) == "ended"
    assert refusal(lambda: end_declaration(store, made.id, EAST, NOW + 3 * H)
                   ).refusal is Refusal.FINISHED
    other = declare(store, city, wanted({"devices": ["cam-e2"]}, hours=10), EAST, NOW)
    cancelled = cancel_declaration(store, other.id, ADMIN, NOW + H, "not agreed")
    assert cancelled.state(NOW + H) == "cancelled" and cancelled.until == NOW + H
    assert refusal(lambda: end_declaration(store, other.id, EAST, NOW + 2 * H)
                   ).refusal is Refusal.FINISHED
    trail = [(a.action, a.actor, a.ends_before, a.ends_after) for a in audit_trail(store, made.id)]
    assert trail == [("declare", "tok-east", None, NOW + 10 * H),
                     ("shorten", "tok-east", NOW + 10 * H, NOW + 5 * H),
                     ("end", "tok-east", NOW + 5 * H, NOW + 2 * H)]
    [declared, cancel] = audit_trail(store, other.id)
    assert (cancel.action, cancel.actor, cancel.at, cancel.detail["note"]) == (
        "cancel", "tok-admin", NOW + H, "not agreed")
    assert declared.detail["devices"] == 1 and declared.detail["selector"] == {
        "devices": ["cam-e2"]}
    # cancelled ones count until their cancellation
    assert declared_totals(store, "east", NOW - H, NOW + 24 * H) == (2, 3 * H)


def test_ending_one_not_begun_withdraws_it(store: Store, city: Inventory) -> None:
    made = declare(store, city, wanted({"devices": ["cam-e3"]}, starts=NOW + 5 * H), EAST, NOW)
    gone = end_declaration(store, made.id, EAST, NOW + H)
    assert gone.state(NOW + 6 * H) == "cancelled" and gone.cancelled_by == "tok-east"
    assert declarations_within(store, NOW, NOW + 48 * H) == []
    assert [a.action for a in audit_trail(store, made.id)] == ["declare", "end"]
    assert audit_trail(store, made.id)[1].detail["withdrawn"] is True
    # the devices are free again
    assert declare(store, city, wanted({"devices": ["cam-e3"]}, starts=NOW + 5 * H),
                   EAST, NOW + H).id > made.id


def test_the_audit_table_is_only_ever_appended_to() -> None:
    """No statement anywhere updates or deletes audit rows: the module that owns the table
    only inserts into it (tests/store/test_owners.py keeps all its SQL there)."""
    root = Path(__file__).resolve().parents[2] / "netwatch"
    for path in root.rglob("*.py"):
        text = " ".join(path.read_text(encoding="utf-8").split()).lower()
        for verb in ("update declared_outage_audit", "delete from declared_outage_audit",
                     "truncate declared_outage_audit", "drop table declared_outage_audit"):
            assert verb not in text, (path, verb)
