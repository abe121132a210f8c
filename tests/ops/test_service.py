"""deploy/netwatch.service passes ``systemd-analyze verify`` and keeps its promises: a dedicated
user, CAP_NET_RAW only, a state directory, reload by SIGHUP, the hardening; the env file is
private."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DEPLOY = Path(__file__).parents[2] / "deploy"


def settings(text: str) -> dict[str, list[str]]:
    joined = text.replace("\\\n", " ")
    found: dict[str, list[str]] = {}
    for line in joined.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(" ".join(value.split()))
    return found


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd")
def test_unit_verifies_clean(tmp_path: Path) -> None:
    """Verified with the ExecStart binary pointed at this interpreter's netwatch."""
    netwatch = Path(sys.executable).with_name("netwatch")
    binary = str(netwatch) if netwatch.exists() else shutil.which("netwatch")
    assert binary, "no netwatch executable installed"
    unit = tmp_path / "netwatch.service"
    unit.write_text((DEPLOY / "netwatch.service").read_text().replace(
        "/usr/local/bin/netwatch", binary))
    done = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    problems = [ln for ln in done.stderr.splitlines() if str(unit) in ln or "netwatch" in ln]
    assert problems == []


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
