"""A flood of notice renders against ``netwatch run`` watching the demo city, as an audit would.

The demo city (moved to 127.NET.x.y) is played by the device lab, all healthy, and
watched by a real ``netwatch run`` (a child process, 5 s sweeps) whose database holds
eight notices of 30 items each. Then ``--clients`` clients ask for notice files for
``--seconds`` seconds, each asking for one of the 80 files (notice, language, format)
after another in its own random order, which defeats any small cache; none of them waits
after a 503.
Meanwhile ``POST /-/reload`` is sent every ``--reload-every`` seconds.

Prints the reload latencies, the daemon's RSS (before, peak while flooded, after), the
answers by status (503s with their ``Retry-After``), the render latencies per format, how
long renders went on after the clients stopped, and false faults: any open fault, device
down or skipped check in the scrapes taken during and after the flood (the lab is
healthy, so 0 is expected). Ends with a ``RESULT`` line: PASS when every reload took at
most ``--reload-bound`` seconds, no answer was a 5xx other than 503 and there was no false
fault. Loopback only; bounded by ``--seconds`` and ``--max-requests``.

    python bench/bench_renders.py [--clients 40] [--seconds 30] [--net 63]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from figures import result
from prometheus_client.parser import text_string_to_metric_families

from netwatch.inventory import DEMO_SECRETS, demo_inventory_path, load_inventory
from netwatch.lab.process import LabProcess, terminate
from netwatch.notices.record import ItemView, KindSummary, NoticeRecord
from netwatch.store import Store, TokenStore

FORMATS = ("pdf", "docx", "xlsx", "html", "md")
LANGS = ("zh", "en")
NOTICES_PER_COUNTY = 2
ITEMS = 30
SWEEP = "5s"


def move(text: str, net: int) -> str:
    """The demo's 127.20–23.x.y → 127.{net}.(16·c + x).y."""
    return re.sub(r"127\.(2[0-3])\.(\d+)\.(\d+)",
                  lambda m: f"127.{net}.{(int(m[1]) - 20) * 16 + int(m[2])}.{m[3]}", text)


def write_city(folder: Path, net: int) -> Path:
    """The demo city moved to 127.{net}.x.y, every kind swept every ``SWEEP``."""
    demo = demo_inventory_path().parent
    text = re.sub(r"^(    interval: )\S+$", rf"\g<1>{SWEEP}",
                  move((demo / "inventory.yaml").read_text(), net), flags=re.M)
    (folder / "inventory.yaml").write_text(text)
    (folder / "cameras.csv").write_text(move((demo / "cameras.csv").read_text(), net))
    return folder / "inventory.yaml"


def notices(inventory_path: Path) -> list[NoticeRecord]:
    """Eight notices of 30 items each, about the city's real cameras."""
    inventory = load_inventory(inventory_path, env={**os.environ, **DEMO_SECRETS})
    out = []
    for c, county in enumerate(sorted(inventory.counties)):
        place = inventory.counties[county]
        cameras = [d for d in inventory.devices if d.county == county and d.kind == "camera"]
        for n in range(NOTICES_PER_COUNTY):
            seq = len(out) + 1
            items = tuple(ItemView(
                item_id=seq * 100 + i, row=i, subject_type="device", subject=d.id, name=d.name,
                kind="camera", location=d.site or "路口", problem="unreachable",
                severity="major", first_seen="2026-11-25T21:00:00+08:00",
                duration_seconds=2 * 86400.0, deadline="2026-12-05", state="open",
                overdue=False, recurrence=0, evidence={"failed_checks": ["icmp"]},
                address=d.address) for i, d in enumerate(cameras[:ITEMS], 1))
            out.append(NoticeRecord(
                number=f"示公科信〔2026〕{seq}号", prefix="示公科信", year=2026, seq=seq,
                city=inventory.city, issuing_unit="示例市公安局", county=county,
                county_name=place.name, receiving_unit=place.receiving_unit,
                issue_date=f"2026-11-{10 + 7 * n + c:02d}",
                issued_at="2026-11-28T09:00:00+08:00", timezone="Asia/Shanghai",
                period_start="2026-11-21", period_end="2026-11-27", deadline="2026-12-05",
                contact="张警官，电话：0000-00000000",
                summary=(KindSummary("camera", 60, 50, 50 / 60, 0.95, c + 1, 4),),
                items=items, carried=()))
    return out


def seed(db: Path, records: list[NoticeRecord]) -> str:
    """The notices in the database (as issued), and an admin token."""
    with Store.open(db) as store:
        with store.transaction() as conn:
            for r in records:
                conn.execute(
                    "INSERT INTO notices (id, county, issue_date, prefix, year, seq, number, "
                    "issued_at, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (r.seq, r.county, r.issue_date, r.prefix, r.year, r.seq, r.number, 0.0,
                     r.to_json()))
        return TokenStore(store).create("admin", []).token


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Tally:
    """What the clients and the watcher saw."""

    answers: Counter[int] = field(default_factory=Counter)
    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    retry_after: Counter[str] = field(default_factory=Counter)
    reloads: list[float] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)
    false: list[str] = field(default_factory=list)
    requests: int = 0


def health(text: str) -> tuple[list[str], float]:
    """False results in one scrape (the lab is healthy), and the renders pending."""
    found: list[str] = []
    pending = 0.0
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "netwatch_fault_open":
                found.append(f"fault {s.labels['fault']} on {s.labels['device']}")
            elif s.name == "netwatch_device_up" and s.value != 1:
                found.append(f"{s.labels['device']} down")
            elif s.name == "netwatch_checks_skipped_total" and s.value:
                found.append(f"{s.value:g} {s.labels['kind']} checks skipped "
                             f"({s.labels['reason']})")
            elif s.name == "netwatch_notice_renders_pending":
                pending = s.value
    return found, pending


async def scrape(session: aiohttp.ClientSession, base: str) -> str:
    async with session.get(f"{base}/metrics") as r:
        return await r.text()


async def client(session: aiohttp.ClientSession, base: str, token: str, seed: int,
                 keys: list[tuple[int, str, str]], until: float, tally: Tally,
                 max_requests: int) -> None:
    """Ask for the files in a random order of this client's own, again at once after any
    answer."""
    rng = random.Random(seed)
    while time.monotonic() < until and tally.requests < max_requests:
        notice, lang, fmt = rng.choice(keys)
        tally.requests += 1
        t0 = time.perf_counter()
        try:
            async with session.get(f"{base}/notices/{notice}.{fmt}?lang={lang}",
                                   headers={"Authorization": f"Bearer {token}"}) as r:
                await r.read()
                status = r.status
                if status == 503:
                    tally.retry_after[r.headers.get("Retry-After", "none")] += 1
        except aiohttp.ClientError:
            status = 0
        tally.answers[status] += 1
        if status == 200:
            tally.latency[fmt].append(time.perf_counter() - t0)


async def reloader(session: aiohttp.ClientSession, base: str, token: str, every: float,
                   until: float, tally: Tally) -> None:
    while time.monotonic() + every < until:
        await asyncio.sleep(every)
        t0 = time.perf_counter()
        async with session.post(f"{base}/-/reload",
                                headers={"Authorization": f"Bearer {token}"}) as r:
            body = await r.json()
        tally.reloads.append(time.perf_counter() - t0)
        if r.status != 200 or not body.get("ok"):
            tally.false.append(f"reload answered {r.status}: {body}")


async def watcher(session: aiohttp.ClientSession, base: str, pid: int, stop: asyncio.Event,
                  tally: Tally) -> None:
    """RSS every 0.2 s, a scrape every 2 s, until told to stop."""
    last = 0.0
    while not stop.is_set():
        tally.rss.append(rss_mib(pid))
        if time.monotonic() - last >= 2:
            last = time.monotonic()
            tally.false += health(await scrape(session, base))[0]
        try:
            await asyncio.wait_for(stop.wait(), 0.2)
        except TimeoutError:
            pass


async def flood(base: str, pid: int, token: str, args: argparse.Namespace) -> int:
    keys = [(n, lang, fmt) for n in range(1, 4 * NOTICES_PER_COUNTY + 1) for lang in LANGS
            for fmt in FORMATS]
    tally = Tally()
    connector = aiohttp.TCPConnector(limit=args.clients + 4)
    timeout = aiohttp.ClientTimeout(total=args.seconds + 120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        t0 = time.perf_counter()
        async with session.post(f"{base}/-/reload",
                                headers={"Authorization": f"Bearer {token}"}) as r:
            await r.read()
        quiet_reload = time.perf_counter() - t0
        before = rss_mib(pid)
        stop = asyncio.Event()
        watch = asyncio.create_task(watcher(session, base, pid, stop, tally))
        until = time.monotonic() + args.seconds
        await asyncio.gather(
            reloader(session, base, token, args.reload_every, until, tally),
            *(client(session, base, token, c, keys, until, tally, args.max_requests)
              for c in range(args.clients)))
        stopped = time.monotonic()
        pending = 1.0
        while pending:
            false, pending = health(await scrape(session, base))
            tally.false += false
            if pending:
                await asyncio.sleep(0.1)
        drained = time.monotonic() - stopped
        await asyncio.sleep(args.settle)
        after = rss_mib(pid)
        stop.set()
        await watch
        text = await scrape(session, base)
        tally.false += health(text)[0]
        layouts = sum(s.value for f in text_string_to_metric_families(text) for s in f.samples
                      if s.name == "netwatch_notice_renders_total")

    print(f"flood: {args.clients} clients × {args.seconds:g} s over {len(keys)} files; "
          f"{tally.requests:,} requests, {layouts:,.0f} files laid out")
    print("answers: " + ", ".join(f"{status or 'error'} × {n:,}"
                                  for status, n in sorted(tally.answers.items())))
    print("503 Retry-After (s): " + (", ".join(
        f"{value} × {n:,}" for value, n in sorted(tally.retry_after.items())) or "none"))
    for fmt in FORMATS:
        got = sorted(tally.latency.get(fmt, []))
        if got:
            print(f"render latency {fmt}: {len(got):,} answers, median {statistics.median(got):.2f}"
                  f" s, p95 {got[int(0.95 * (len(got) - 1))]:.2f} s, max {got[-1]:.2f} s")
    print(f"reload: {quiet_reload:.3f} s before the flood; during it "
          + ", ".join(f"{s:.3f}" for s in tally.reloads) + " s")
    peak = max(tally.rss + [before, after])
    print(f"daemon RSS: {before:.0f} MiB before, {peak:.0f} MiB peak, {after:.0f} MiB "
          f"{args.settle:g} s after the renders were done")
    print(f"renders still pending when the clients stopped: done {drained:.1f} s later")
    false = sorted(set(tally.false))
    print(f"false faults: {len(false)}" + "".join(f"\n  {f}" for f in false))
    worst = max(tally.reloads, default=quiet_reload)
    errors = sum(n for status, n in tally.answers.items()
                 if (status >= 500 and status != 503) or status == 0)
    ok = worst <= args.reload_bound and not false and not errors
    result("renders", f"c{args.clients}s{args.seconds:g}", "PASS" if ok else "FAIL",
           reload_max_s=worst, rss_before_mib=before, rss_peak_mib=peak, rss_after_mib=after,
           refused=tally.answers[503], ok=tally.answers[200], errors=errors,
           layouts=int(layouts), drained_s=drained, false_faults=len(false))
    return 0 if ok else 1


def wait_listening(proc: subprocess.Popen[bytes], log: Path, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.findall(r"listening on (http://\S+)", log.read_text(errors="replace"))
        if found:
            return found[-1].rstrip('",')
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    raise SystemExit(f"netwatch run did not start:\n{log.read_text()[-3000:]}")


async def ready(base: str, within: float) -> None:
    """Until every device has been swept up (the lab is healthy), at most ``within`` s."""
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as session:
        while True:
            text = await scrape(session, base)
            up = [s.value for f in text_string_to_metric_families(text) for s in f.samples
                  if s.name == "netwatch_device_up"]
            if up and all(v == 1 for v in up):
                return
            if time.monotonic() > deadline:
                raise SystemExit("the demo city did not come up: is the lab healthy?")
            await asyncio.sleep(1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--reload-every", type=float, default=3.0)
    parser.add_argument("--reload-bound", type=float, default=2.0)
    parser.add_argument("--settle", type=float, default=5.0, help="seconds before RSS after")
    parser.add_argument("--net", type=int, default=63, help="the city's addresses: 127.NET.x.y")
    parser.add_argument("--run-args", default="", help="more flags for netwatch run")
    args = parser.parse_args()
    if not 1 <= args.clients <= 200 or not 0 < args.seconds <= 300 or not 0 < args.net < 255:
        parser.error("--clients 1..200, --seconds up to 300, --net 1..254")
    env = {**os.environ, **DEMO_SECRETS, "NETWATCH_ALLOWED_NETS": f"127.{args.net}.0.0/16"}
    with tempfile.TemporaryDirectory(prefix="bench-renders-") as tmp:
        root = Path(tmp)
        path = write_city(root, args.net)
        token = seed(root / "netwatch.db", notices(path))
        log = root / "daemon.log"
        with LabProcess(path, table=f"netwatch_lab_renders_{os.getpid()}", env=env), \
                log.open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "netwatch", "run", str(path),
                 "--listen", f"127.{args.net}.0.254:0", "--db", str(root / "netwatch.db"),
                 "--notices-dir", str(root / "notices"), *args.run_args.split()],
                stdout=out, stderr=out, env=env)
            try:
                base = wait_listening(proc, log, 60)
                print(f"daemon: pid {proc.pid}, {base}, RSS {rss_mib(proc.pid):.0f} MiB",
                      flush=True)
                asyncio.run(ready(base, 60))
                return asyncio.run(flood(base, proc.pid, token, args))
            finally:
                terminate(proc, 15)


if __name__ == "__main__":
    sys.exit(main())
