"""A check's ``password`` is a secret: only an ``${ENV}`` reference, resolved at load time."""

from __future__ import annotations

from pathlib import Path

import pytest

from netwatch.inventory import InventoryError, load_inventory

HEADER = """\
city: {name: Testtown, timezone: Asia/Shanghai}
counties:
  - {id: north, name: North, receiving_unit: North PSB}
defaults:
  camera:
    checks: [icmp, {probe: video, path: /sub, user: viewer, password: PASSWORD}]
devices:
  - {id: cam-1, kind: camera, county: north, address: 127.78.4.1, name: c}
"""
SECRET = "cam-secret-8812"


def load(tmp_path: Path, password: str, env: dict[str, str]) -> object:
    path = tmp_path / "inventory.yaml"
    path.write_text(HEADER.replace("PASSWORD", password), encoding="utf-8")
    return load_inventory(path, env=env)


def test_a_kind_default_sets_the_video_check_with_an_env_password(tmp_path: Path) -> None:
    """The camera kind's default path and credentials reach the probe; no repr shows the secret."""
    inventory = load(tmp_path, '"${CAM_PASSWORD}"', {"CAM_PASSWORD": SECRET})
    device = inventory.by_id()["cam-1"]  # type: ignore[attr-defined]
    spec = next(c for c in device.checks if c.probe == "video")
    assert (spec.port, spec.params.path) == (554, "/sub")
    assert (spec.params.credentials.user, spec.params.credentials.password) == ("viewer", SECRET)
    assert SECRET not in repr(inventory) and SECRET not in repr(device)


@pytest.mark.parametrize(("password", "env", "message"), [
    (SECRET, {}, "secrets only as ${ENV} references, never in plain text"),
    ('"${CAM_PASSWORD}"', {}, "environment variable CAM_PASSWORD is not set"),
])
def test_plain_or_unset_passwords_are_refused(tmp_path: Path, password: str,
                                              env: dict[str, str], message: str) -> None:
    with pytest.raises(InventoryError) as caught:
        load(tmp_path, password, env)
    assert message in str(caught.value) and SECRET not in str(caught.value)
