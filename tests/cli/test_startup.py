"""``netwatch check`` loads the inventory and none of the daemon, web stack or notices."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("aiohttp", "netwatch.daemon.daemon", "netwatch.web.app", "netwatch.notices",
         "netwatch.coverage", "weasyprint", "docx", "openpyxl", "jinja2")

SCRIPT = """
import json, sys
from netwatch.cli.main import main
try:
    main(["check", sys.argv[1]])
except SystemExit as exc:
    code = exc.code
print("MODULES " + json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _modules_after(args: list[str]) -> tuple[int, set[str]]:
    done = subprocess.run([sys.executable, "-c", SCRIPT, *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=60, check=False)
    line = next(x for x in done.stdout.splitlines() if x.startswith("MODULES "))
    found = json.loads(line.removeprefix("MODULES "))
    return found["code"], set(found["modules"])


def test_check_leaves_the_daemon_and_web_stack_unloaded() -> None:
    """The lazy faces and sub-commands keep ``netwatch check`` light (it starts in a fraction of
    the time the daemon's imports take)."""
    code, modules = _modules_after([str(ROOT / "inventory.yaml")])
    assert code == 0
    assert "netwatch.inventory" in modules  # it did load and validate the inventory
    assert [m for m in HEAVY if m in modules] == []


def test_lazy_faces_still_give_every_name() -> None:
    """A lazy face imports each name's module on first use and fails loudly for unknown names."""
    import netwatch.daemon as daemon
    import netwatch.web as web

    for face in (daemon, web):
        for name in face.__all__:
            assert getattr(face, name) is not None, (face.__name__, name)
    try:
        daemon.NoSuchName  # noqa: B018 - the attribute look-up is the test
    except AttributeError as exc:
        assert "NoSuchName" in str(exc)
    else:
        raise AssertionError("an unknown name must raise AttributeError")
