"""What the daemon decides before it listens: /metrics exposure and the descriptor budget."""

from __future__ import annotations

import logging
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from netwatch.daemon import DaemonOptions, parse_listen
from netwatch.daemon.daemon import metrics_need_token
from netwatch.daemon.descriptors import MIN_WEB_CONNECTIONS, web_connection_cap


def options(listen: str, behind_proxy: bool = False) -> DaemonOptions:
    return DaemonOptions(Path("inventory.yaml"), Path("netwatch.db"), parse_listen(listen),
                         behind_proxy=behind_proxy)


def test_metrics_need_a_token_off_loopback_and_behind_a_proxy() -> None:
    """Behind a proxy every client arrives from the proxy, often over loopback: the
    loopback listen address then says nothing about who asks."""
    assert not metrics_need_token(options("127.0.0.1:9810"))
    assert metrics_need_token(options("127.0.0.1:9810", behind_proxy=True))
    assert metrics_need_token(options("[::1]:9810", behind_proxy=True))
    assert metrics_need_token(options("0.0.0.0:9810", behind_proxy=True))


def test_the_web_cap_leaves_the_reserve_to_the_probes(caplog: pytest.LogCaptureFixture) -> None:
    assert web_connection_cap(512, 20_000, 2048) == 512
    with caplog.at_level(logging.WARNING):
        assert web_connection_cap(512, 1024, 600) == 424
    assert "capped at 424, not 512" in caplog.text
    assert web_connection_cap(512, 1024, 2048) == MIN_WEB_CONNECTIONS


def test_the_soft_open_file_limit_is_raised_to_the_hard_one() -> None:
    """In a child whose soft limit is 256: after raise_nofile it is the hard limit."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard <= 256:
        pytest.skip(f"the hard limit is {hard}")

    def low() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))

    code = ("import resource; from netwatch.daemon.descriptors import raise_nofile; "
            "print(raise_nofile(), resource.getrlimit(resource.RLIMIT_NOFILE)[0])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, preexec_fn=low).stdout.split()
    expected = hard if hard != resource.RLIM_INFINITY else 1 << 20
    assert out == [str(expected), str(expected)]
