"""deploy/netwatch.service passes ``systemd-analyze verify`` and keeps its promises: a dedicated
user, CAP_NET_RAW only, a state directory, reload by SIGHUP, the hardening; the env file is
private."""

from __future__ import annotations

import ctypes.util
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from netwatch.lab.process import terminate
from netwatch.store import Store
from tests.daemon.city import listening_url
from tests.notices.factory import record
from tests.ops import sandbox
from tests.ops.daemon import token

DEPLOY = Path(__file__).parents[2] / "deploy"
# systemd-analyze security's overall exposure of the unit (it was 3.4; 1.6 before it let
# the read-only adjtimex() through, without which no device clock could be judged)
EXPOSURE = 1.9
SANDBOX_HOST = "127.61.0.10"
SANDBOX_INVENTORY = """\
city: {name: 示例市, timezone: Asia/Shanghai}
notices: {issuing_unit: 示例市公安局, prefix: 示公科信, contact: "张警官 0000-00000000"}
counties:
  - {id: east, name: 东区, receiving_unit: 东区分局}
devices:
  - {id: gw, kind: switch, county: east, address: 127.61.0.11, checks: [icmp], interval: 1s,
     timeout: 500ms}
"""


def settings(text: str) -> dict[str, list[str]]:
    joined = text.replace("\\\n", " ")
    found: dict[str, list[str]] = {}
    for line in joined.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(" ".join(value.split()))
    return found


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd")
def installed_unit(tmp_path: Path) -> Path:
    """The unit with the ExecStart binary pointed at this interpreter's netwatch."""
    netwatch = Path(sys.executable).with_name("netwatch")
    binary = str(netwatch) if netwatch.exists() else shutil.which("netwatch")
    assert binary, "no netwatch executable installed"
    unit = tmp_path / "netwatch.service"
    unit.write_text((DEPLOY / "netwatch.service").read_text().replace(
        "/usr/local/bin/netwatch", binary))
    return unit


def test_unit_verifies_clean(tmp_path: Path) -> None:
    """Verified with the ExecStart binary pointed at this interpreter's netwatch."""
    unit = installed_unit(tmp_path)
    done = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    problems = [ln for ln in done.stderr.splitlines() if str(unit) in ln or "netwatch" in ln]
    assert problems == []


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd")
def test_unit_exposure_score(tmp_path: Path) -> None:
    """``systemd-analyze security --offline=yes`` rates the unit's exposure at EXPOSURE."""
    unit = installed_unit(tmp_path)
    done = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--no-pager",
                           str(unit)], capture_output=True, text=True, timeout=120)
    found = re.search(r"Overall exposure level for netwatch\.service: (\d+\.\d)", done.stdout)
    assert found, done.stdout[-2000:] + done.stderr
    assert float(found.group(1)) == EXPOSURE


def test_unit_settings() -> None:
    s = settings((DEPLOY / "netwatch.service").read_text())
    assert s["User"] == ["netwatch"] and s["Group"] == ["netwatch"]
    assert s["AmbientCapabilities"] == ["CAP_NET_RAW"]
    assert s["CapabilityBoundingSet"] == ["CAP_NET_RAW"]
    assert s["StateDirectory"] == ["netwatch"]
    assert s["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert s["Restart"] == ["on-failure"]
    for key in ("NoNewPrivileges", "ProtectHome", "PrivateTmp"):
        assert s[key] == ["yes"], key
    assert s["ProtectSystem"] == ["strict"]
    assert s["RestrictAddressFamilies"] == ["AF_INET AF_INET6 AF_UNIX AF_NETLINK"]
    assert s["SystemCallFilter"] == ["@system-service", "~@privileged", "adjtimex"]
    assert "ProtectClock" not in s and s["CapabilityBoundingSet"] == ["CAP_NET_RAW"]
    assert s["ProtectProc"] == ["invisible"] and s["ProcSubset"] == ["pid"]
    assert s["MemoryDenyWriteExecute"] == ["yes"]
    assert "MemoryHigh" in s and "MemoryMax" in s
    assert "PrivateUsers" not in s and "PrivateNetwork" not in s  # both take raw ICMP away
    assert int(s["LimitNOFILE"][0]) >= 65536
    assert s["EnvironmentFile"] == ["/etc/netwatch/netwatch.env"]
    [start] = s["ExecStart"]
    assert " run " in start and "--behind-proxy" in start and "--log-format json" in start
    assert "127.0.0.1:" in start and "/var/lib/netwatch/notices" in start
    assert "User=root" not in (DEPLOY / "netwatch.service").read_text()


def test_env_example_is_private_and_names_only_placeholders() -> None:
    env = DEPLOY / "netwatch.env.example"
    assert "install -m 0600" in env.read_text()
    names = [ln.split("=", 1)[0] for ln in env.read_text().splitlines()
             if ln and not ln.startswith("#")]
    assert "NETWATCH_ALLOWED_NETS" in names and len(names) == len(set(names))


def fenced_addresses() -> list[str]:
    """The addresses of the unit's commented IPAddressAllow= example."""
    text = (DEPLOY / "netwatch.service").read_text()
    [line] = [ln for ln in text.splitlines() if ln.startswith("#IPAddressAllow=")]
    return line.split("=", 1)[1].split()


def test_ip_fence_example_names_no_real_network() -> None:
    """The fence is documented, commented out, with loopback and placeholders an operator
    must replace: no address the example could send to or accept from by mistake."""
    assert fenced_addresses() == ["localhost", "DEVICE_NETWORK/PREFIX", "SMTP_RELAY",
                                  "WEBHOOK_HOST"]
    assert "#IPAddressDeny=any" in (DEPLOY / "netwatch.service").read_text()


def sandbox_missing() -> str:
    if os.geteuid() != 0:
        return "needs root to build the sandbox"
    for tool in ("systemd-analyze", "unshare", "setpriv", "mount"):
        if shutil.which(tool) is None:
            return f"needs {tool}"
    if not ctypes.util.find_library("seccomp"):
        return "needs libseccomp"
    probe = subprocess.run(["unshare", "--mount", "sh", "-c", "mount -t proc -o "
                            "hidepid=invisible,subset=pid proc /proc"], capture_output=True,
                           timeout=30)
    return "" if probe.returncode == 0 else "cannot mount a /proc subset in a mount namespace"


def get(url: str, token_: str = "") -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token_}"} if token_ else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                    timeout=60) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.mark.skipif(bool(sandbox_missing()), reason=sandbox_missing() or "ok")
def test_the_daemon_works_inside_the_units_sandbox(tmp_path: Path) -> None:
    """Under the unit's system call filter, write+execute ban, /proc subset and CAP_NET_RAW
    alone, ``netwatch run`` pings over a raw ICMP socket, serves /metrics with its process
    families, renders a notice PDF and stops cleanly on SIGTERM."""
    unit = installed_unit(tmp_path)
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(SANDBOX_INVENTORY, encoding="utf-8")
    db = tmp_path / "netwatch.db"
    admin = token(db, inventory, "admin")
    with Store.open(db) as store, store.transaction() as conn:
        notice = record()
        conn.execute("INSERT INTO notices (id, county, issue_date, prefix, year, seq, number, "
                     "issued_at, record) VALUES (1, 'east', ?, ?, ?, ?, ?, 0, ?)",
                     (notice.issue_date, notice.prefix, notice.year, notice.seq,
                      notice.number, notice.to_json()))
    log = tmp_path / "daemon.log"
    argv = [sys.executable, "-m", "netwatch", "run", str(inventory), "--listen",
            f"{SANDBOX_HOST}:0", "--db", str(db), "--notices-dir", str(tmp_path / "notices")]
    env = {**os.environ, "NETWATCH_ALLOWED_NETS": "127.61.0.0/16"}
    with log.open("ab") as out:
        proc = subprocess.Popen(sandbox.command(unit, argv), stdout=out, stderr=out, env=env)
    try:
        url = listening_url(proc, log, 0, 60.0)
        assert url, log.read_text()[-3000:]
        deadline, metrics = time.monotonic() + 60, b""
        while time.monotonic() < deadline:
            metrics = get(url.rstrip("/") + "/metrics")[1]
            if b'netwatch_device_up{county="east",kind="switch",device="gw"} 1' in metrics:
                break
            time.sleep(0.2)
        assert b'netwatch_probe_success{county="east",kind="switch",device="gw",check="icmp",' \
               b'probe="icmp"} 1' in metrics, log.read_text()[-3000:]
        assert re.search(rb"^process_resident_memory_bytes [0-9.e+]+$", metrics, re.M)
        status, pdf = get(url.rstrip("/") + "/notices/1.pdf", admin)
        assert status == 200 and pdf.startswith(b"%PDF-"), log.read_text()[-3000:]
    finally:
        code = terminate(proc, 30)
    assert code == 0, log.read_text()[-3000:]
    assert "no raw socket" not in log.read_text()  # raw ICMP, not the ping-socket fallback
