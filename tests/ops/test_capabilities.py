"""The service's capability model: ``netwatch probe`` as an unprivileged user.

Each case runs in a network namespace (and mount namespace) of its own, so
``net.ipv4.ping_group_range`` is set there and vanishes with it. Holding only
CAP_NET_RAW (ambient, as ``AmbientCapabilities=`` gives it), the probe gets
replies through raw sockets even with ping sockets forbidden; without it, it
falls back to datagram ping sockets and says so; with neither, every ICMP
check fails with a message naming both ways out.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

NOBODY = "65534"
TOOLS = ("unshare", "setpriv", "sysctl", "ip", "mount")
pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create namespaces"),
    pytest.mark.skipif(any(shutil.which(t) is None for t in TOOLS),
                       reason=f"needs {', '.join(TOOLS)}"),
]
INVENTORY = """\
city: {name: 示例市, timezone: Asia/Shanghai}
counties:
  - {id: east, name: 东区, receiving_unit: 东区公安分局}
devices:
  - {id: cam-1, kind: camera, county: east, address: 127.67.30.1, checks: [icmp]}
  - {id: cam-2, kind: camera, county: east, address: 127.67.30.2, checks: [icmp]}
"""


def hidden_parents(paths: list[str]) -> dict[Path, set[str]]:
    """Directories the unprivileged user cannot pass (e.g. a 0700 /root holding pyenv),
    with the children of them the interpreter needs."""
    hidden: dict[Path, set[str]] = {}
    for raw in paths:
        path = Path(raw).resolve()
        for parent in reversed(path.parents):
            if parent == path or not parent.exists():
                continue
            if not stat.S_IMODE(parent.stat().st_mode) & stat.S_IXOTH:
                child = path.relative_to(parent).parts[0]
                hidden.setdefault(parent, set()).add(child)
                break
    return hidden


def prelude(tmp: Path) -> str:
    """Shell run as root inside the new namespaces: loopback up, hidden directories opened
    (a tmpfs over each, with only the needed children bound back; this mount namespace only)."""
    lines = ["set -e", "ip link set lo up"]
    needed = [sys.executable, sys.prefix, sys.base_prefix, *(p for p in sys.path if p),
              str(Path(__file__).parents[2])]
    for n, (parent, children) in enumerate(hidden_parents(needed).items()):
        for child in sorted(children):
            hold = tmp / f"hold-{n}-{child}"
            hold.mkdir()
            lines.append(f"mount --bind '{parent / child}' '{hold}'")
        lines.append(f"mount -t tmpfs -o mode=0755 tmpfs '{parent}'")
        for child in sorted(children):
            lines += [f"mkdir '{parent / child}'",
                      f"mount --bind '{tmp / f'hold-{n}-{child}'}' '{parent / child}'"]
    return "\n".join(lines)


def probe_as_nobody(tmp: Path, ping_group_range: str, net_raw: bool) -> tuple[list[dict], str]:
    caps = ["--inh-caps", "+net_raw", "--ambient-caps", "+net_raw"] if net_raw else [
        "--inh-caps", "-all"]
    command = " ".join([
        "setpriv", "--reuid", NOBODY, "--regid", NOBODY, "--clear-groups", *caps, "--",
        sys.executable, "-m", "netwatch", "probe", str(tmp / "inventory.yaml"), "--json"])
    script = (f"{prelude(tmp)}\nsysctl -qw net.ipv4.ping_group_range='{ping_group_range}'\n"
              f"exec {command}\n")
    env = {**os.environ, "NETWATCH_ALLOWED_NETS": "127.0.0.0/8", "HOME": str(tmp)}
    done = subprocess.run(["unshare", "--net", "--mount", "--", "sh", "-c", script], env=env,
                          capture_output=True, text=True, timeout=120, cwd=tmp)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), done.stderr


@pytest.fixture
def tmp() -> Iterator[Path]:
    """A directory the unprivileged user can read (pytest's own are private to root)."""
    path = Path(tempfile.mkdtemp(prefix="netwatch-caps-"))
    path.chmod(0o755)
    (path / "inventory.yaml").write_text(INVENTORY, encoding="utf-8")
    yield path
    shutil.rmtree(path)


def icmp(rows: list[dict]) -> list[dict]:
    return [row["checks"]["icmp"] for row in rows]


def test_only_cap_net_raw_gets_replies_through_raw_sockets(tmp: Path) -> None:
    rows, stderr = probe_as_nobody(tmp, "1 0", net_raw=True)  # ping sockets forbidden
    assert [c["measurements"]["received"] for c in icmp(rows)] == [5, 5]
    assert "datagram ping sockets" not in stderr


def test_without_the_capability_datagram_ping_sockets(tmp: Path) -> None:
    rows, stderr = probe_as_nobody(tmp, "0 2147483647", net_raw=False)
    assert [c["measurements"]["received"] for c in icmp(rows)] == [5, 5]
    assert "no raw socket (no CAP_NET_RAW): using unprivileged datagram ping sockets" in stderr


def test_neither_fails_with_a_message_naming_the_ways_out(tmp: Path) -> None:
    rows, _ = probe_as_nobody(tmp, "1 0", net_raw=False)
    for check in icmp(rows):
        assert not check["success"]
        assert "cannot open an ICMP socket" in check["detail"]
        assert "AmbientCapabilities=CAP_NET_RAW" in check["detail"]
        assert "net.ipv4.ping_group_range" in check["detail"]
