"""The built wheel works on its own: installed into a fresh venv (offline: --no-deps, the
dependencies from the system's site packages), ``netwatch check`` passes on the demo city
inside the package and ``python -m netwatch`` runs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
SKIP = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__", ".venv",
                              "node_modules", "tests", "bench")


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def test_wheel_in_a_fresh_venv_checks_the_packaged_demo(tmp_path: Path) -> None:
    pytest.importorskip("build")
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=SKIP)
    built = run(sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir",
                tmp_path / "dist", src, cwd=tmp_path)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    [wheel] = (tmp_path / "dist").glob("netwatch-*.whl")

    venv = tmp_path / "venv"
    made = run(sys.executable, "-m", "venv", "--system-site-packages", venv, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    python, netwatch = venv / "bin" / "python", venv / "bin" / "netwatch"
    installed = run(python, "-m", "pip", "install", "--no-deps", "--no-index",
                    "--disable-pip-version-check", wheel, cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr

    empty = tmp_path / "elsewhere"  # no inventory.yaml here, nor the repository
    empty.mkdir()
    where = run(python, "-c", "import netwatch.inventory as i; print(i.demo_inventory_path())",
                cwd=empty)
    demo = Path(where.stdout.strip())
    assert where.returncode == 0 and demo.is_relative_to(venv), where.stdout + where.stderr
    assert {"inventory.yaml", "cameras.csv", "scenario.yaml"} <= {p.name for p in
                                                                  demo.parent.iterdir()}
    check = run(netwatch, "check", demo, cwd=empty)
    assert check.returncode == 0, check.stderr
    assert "OK: " in check.stdout and "devices" in check.stdout
    version = run(python, "-m", "netwatch", "--version", cwd=empty)
    assert version.returncode == 0 and "0." in version.stdout
    assert run(netwatch, "inventory", "import", "--help", cwd=empty).returncode == 0
