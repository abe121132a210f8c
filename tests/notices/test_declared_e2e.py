"""End to end with the device lab and a real SMTP server, on 127.31.0.0/16: a county declares
an outage over one camera, then both its cameras lose their video service (the lab serves
no RTSP for them). The declared camera's fault is marked declared and becomes no item; the
other one is an item; the notice mailed through the outbox says how many outages the county
declared and for how long ("本期报备停机1次，累计2小时").

The monitor probes the lab with its real runner (ICMP to loopback, RTSP refused), on a real
store (both engines).
"""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

from netwatch.inventory import load_inventory
from netwatch.lab import Lab
from netwatch.lab.scenario import parse_scenario
from netwatch.monitor import Actor, AllowList, Monitor, Runner, Wanted, declare
from netwatch.notices import issue_notices
from netwatch.notices.outbox import deliver_due
from netwatch.store import FaultLog, Store, StoreThread
from probes.base import ProbeContext
from tests.notices.mail import smtp_server
from tests.peers import free_port

BOTH_ENGINES = True
SMTP_HOST = "127.31.0.10"
CAMERAS = ("127.31.20.1", "127.31.20.2")
SCENARIO = """faults:
  - {device: cam-1, fault: service_down}
  - {device: cam-2, fault: service_down}
"""


def city(tmp_path: Path, smtp_port: int) -> Path:
    ports = [free_port(address) for address in CAMERAS]
    path = tmp_path / "inventory.yaml"
    path.write_text(textwrap.dedent(f"""\
        city: {{name: 示例市, timezone: Asia/Shanghai}}
        counties:
          - {{id: east, name: 东区, receiving_unit: 东区公安分局,
             contacts: [{{name: 值班室, email: duty@east.example.invalid}}]}}
        notices:
          issuing_unit: 示例市公安局
          prefix: 示公科信
          delivery:
            smtp: {{host: {SMTP_HOST}, port: {smtp_port}, sender: nw@example.invalid}}
        defaults:
          camera: {{interval: 1s, timeout: 500ms}}
        devices:
          - {{id: cam-1, kind: camera, county: east, address: {CAMERAS[0]}, name: 人民路东口,
             ports: {{rtsp: {ports[0]}}}}}
          - {{id: cam-2, kind: camera, county: east, address: {CAMERAS[1]}, name: 人民路西口,
             ports: {{rtsp: {ports[1]}}}}}
        """), encoding="utf-8")
    return path


async def test_a_declared_camera_down_is_no_item_and_the_mailed_notice_says_so(
        tmp_path: Path, store: Store, db: StoreThread) -> None:
    with smtp_server(SMTP_HOST) as (inbox, port):
        inventory = load_inventory(city(tmp_path, port), env={})
        made_at = time.time()
        made = declare(store, inventory, Wanted("east", {"devices": ["cam-1"]}, made_at,
                                                made_at + 2 * 3600, "power", "线路改造"),
                       Actor("tok-east", frozenset({"east"})), made_at)
        scenario = parse_scenario(SCENARIO, "scenario.yaml", inventory)
        async with Lab(inventory, scenario, firewall=False), ProbeContext() as ctx:
            monitor = Monitor(inventory, Runner(ctx, AllowList.parse("127.31.0.0/16")), db)
            for _ in range(inventory.devices[0].open_after):
                for key in list(monitor.groups):
                    await monitor.run_group(key)
            assert await monitor.writes.flush()
        marks = {ep.device: (ep.fault, ep.suppressed_by)
                 for ep in FaultLog(store).open_episodes()}
        assert marks == {"cam-1": ("service_down", f"declared#{made.id}"),
                         "cam-2": ("service_down", None)}

        later = time.time() + 3 * 3600  # past the cameras' two hours of grace
        [outcome] = issue_notices(store, inventory, now=later)
        assert outcome.record is not None
        assert [i.subject for i in outcome.record.items] == ["cam-2"]
        assert outcome.record.declared_outages == 1
        assert 2 * 3600 - 300 < (outcome.record.declared_seconds or 0) <= 2 * 3600
        report = await deliver_due(db, inventory, now=later)
        assert report.sent == 1
    [mail] = inbox.messages
    plain = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert plain is not None and html is not None
    assert "本期报备停机1次，累计2小时" in plain.get_content()
    assert "本期报备停机1次，累计2小时" in html.get_content()
    assert "人民路西口" in plain.get_content() and "人民路东口" not in plain.get_content()
