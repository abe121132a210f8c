"""The notice render pool's settings are ``netwatch run`` flags, checked like the other limits."""

from __future__ import annotations

from typing import Any

import click
from click.testing import CliRunner

from netwatch.cli.web_limits import daemon_limits, web_limit_options
from netwatch.web import RenderLimits


def parsed(*args: str) -> tuple[int, dict[str, Any], str]:
    """The ``DaemonOptions`` fields the flags give (as ``netwatch run`` parses them)."""
    seen: dict[str, Any] = {}

    @click.command()
    @web_limit_options
    def run(**values: Any) -> None:
        seen.update(daemon_limits(values))

    result = CliRunner().invoke(run, list(args))
    return result.exit_code, seen, result.output


def test_render_flags_reach_the_daemon_options() -> None:
    code, fields, _ = parsed()
    assert code == 0 and fields["render_limits"] == RenderLimits()
    code, fields, _ = parsed("--render-workers", "3", "--render-queue", "0",
                             "--render-wait", "5")
    assert code == 0
    assert fields["render_limits"] == RenderLimits(workers=3, queue=0, wait=5.0)


def test_a_bad_render_setting_is_refused_naming_the_flag() -> None:
    for flag, value in (("--render-workers", "0"), ("--render-queue", "-1"),
                        ("--render-wait", "0")):
        code, _, output = parsed(flag, value)
        assert code == 2 and flag in output, (flag, output)
