"""A real shortage of descriptors in the monitor's process never becomes a device fault.

A child process lowers its RLIMIT_NOFILE to a few spare descriptors, then sweeps 200
cameras (one TCP check each, ``open_after`` 1) against a healthy listener served by
this test's own process. Connects fail with EMFILE; those checks must come back as
``local_resources`` skips: no fault opens, the skip counter and the monitor's own
health say why.
"""

from __future__ import annotations

import asyncio
import json
import sys
import textwrap
from pathlib import Path

ADDRESS = "127.62.7.1"

CHILD = textwrap.dedent("""
    import asyncio, json, os, resource, sys
    from netwatch.inventory import CheckSpec, County, Device, Inventory
    from netwatch.metrics import Exposition
    from netwatch.monitor import Monitor, Runner
    from netwatch.store import StoreThread
    from probes import tcp
    from probes.base import ProbeContext

    async def main(db, address, port):
        check = CheckSpec("tcp", "tcp", port, tcp.parse_params({}))
        devices = tuple(
            Device(id=f"cam-{i}", kind="camera", county="east", address=address,
                   name=f"cam {i}", checks=(check,), interval=60.0, timeout=2.0, open_after=1)
            for i in range(200))
        inventory = Inventory(path="t.yaml", city="T", timezone="UTC",
                              counties={"east": County("east", "East", "east police")},
                              devices=devices)
        store = StoreThread.open(db)
        async with ProbeContext() as ctx:
            monitor = Monitor(inventory, Runner(ctx), store)
            exposition = Exposition(monitor, process_metrics=False)
            exposition.attach()
            soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            spare = len(os.listdir("/proc/self/fd")) + 6
            resource.setrlimit(resource.RLIMIT_NOFILE, (spare, hard))
            try:
                for _ in range(3):
                    for key in list(monitor.groups):
                        await monitor.run_group(key)
            finally:
                resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
            text = exposition.render().decode()
        print(json.dumps({
            "faults": [f"{f.device} {f.fault} {f.detail}" for f in monitor.open_faults()],
            "skipped": {f"{k}/{r}": n for (k, r), n in getattr(monitor, "skipped", {}).items()},
            "up": sum(1 for s in monitor.states.values() if s.up),
            "problems": monitor.health_problems() if hasattr(monitor, "health_problems") else [],
            "metrics": [line for line in text.splitlines()
                        if line.startswith(("netwatch_checks_skipped_total{",
                                            "netwatch_monitor_degraded "))],
        }))

    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
""")


async def test_descriptor_shortage_opens_no_fault(tmp_path: Path) -> None:
    """EMFILE on connect: zero device faults, skips counted as local_resources, health red."""
    writers: list[asyncio.StreamWriter] = []

    async def accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        writer.close()

    server = await asyncio.start_server(accept, ADDRESS, 0)
    port = server.sockets[0].getsockname()[1]
    script = tmp_path / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    try:
        child = await asyncio.create_subprocess_exec(
            sys.executable, str(script), str(tmp_path / "nw.db"), ADDRESS, str(port),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(child.communicate(), 120)
    finally:
        server.close()
        await server.wait_closed()
    assert child.returncode == 0, err.decode()[-2000:]
    found = json.loads(out)
    assert found["faults"] == [], found["faults"][:3]
    assert found["skipped"].get("camera/local_resources", 0) > 0, found
    assert set(found["skipped"]) == {"camera/local_resources"}
    assert any("local_resources" in p for p in found["problems"])
    assert "netwatch_monitor_degraded 1.0" in found["metrics"]
    skipped = [m for m in found["metrics"] if 'reason="local_resources"' in m]
    assert skipped and float(skipped[0].rsplit(" ", 1)[1]) > 0
    assert writers  # the listener served the connects that had a descriptor
