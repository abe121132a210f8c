"""Evidence in plain words: every probe outcome a notice can show, in Chinese, no English detail."""

from __future__ import annotations

import re

import pytest

from netwatch.inventory import CheckSpec
from netwatch.monitor.faults import describe
from netwatch.monitor.monitor import evidence as monitor_evidence
from netwatch.monitor.state import DeviceState
from netwatch.notices.evidence import basis, facts
from netwatch.notices.render import render_html
from probes import PROBES, icmp
from probes.base import SKIP_REASONS, ProbeResult, Reason
from tests.notices.city import device
from tests.notices.factory import item, record

# Latin text a Chinese sentence may keep: protocol and method names, units, the MIB's column
ALLOWED = {"Ping", "TCP", "HTTP", "RTSP", "SIP", "SNMP", "OPTIONS", "v3", "ms", "s", "Mbit",
           "down", "ifOperStatus"}
PORTS = {"icmp": 0, "tcp": 8000, "http": 80, "rtsp": 554, "sip": 5060, "snmp": 161,
         "video": 554}
# What each probe writes as ``detail`` for each reason (the formats in probes/*.py)
DETAILS: dict[tuple[str, str], str] = {
    ("icmp", "timeout"): "no reply to 5 echoes",
    ("icmp", "unreachable"): "destination unreachable (host unreachable)",
    ("icmp", "error"): "send queue saturated: check not admitted",
    ("snmp", "timeout"): "SNMP v2c: no answer from the SNMP agent",
    ("snmp", "auth"): "SNMP v3: wrong digest: bad auth key or protocol (usmStatsWrongDigests)",
    ("snmp", "protocol"): "SNMP v2c: agent error-status 2 at 1",
    ("snmp", "error"): "SNMP v2c: SNMP client closed",
    ("http", "auth"): "GET /status: status 401 Unauthorized, not expected",
    ("http", "bad_status"): "GET /status: status 500 Internal Server Error, not expected",
    ("rtsp", "bad_status"): "OPTIONS: 503 Service Unavailable",
    ("sip", "timeout"): "OPTIONS: no complete reply within 1 s",
    ("sip", "protocol"): "OPTIONS: not a SIP reply: 'garbage'",
}
GENERIC = {
    "timeout": "connect to 127.65.0.9:{port}: no answer within 1 s",
    "refused": "connect to 127.65.0.9:{port}: Connection refused",
    "unreachable": "connect to 127.65.0.9:{port}: No route to host",
    "protocol": "127.65.0.9:{port}: TLS handshake failed: certificate verify failed",
    "bad_status": "DESCRIBE /live: 500 Internal Server Error",
    "auth": "reply failed authentication (wrong auth key?)",
    "denied": "127.65.0.9 is outside NETWATCH_ALLOWED_NETS (127.66.0.0/16)",
    "error": "probe error: RuntimeError: unexpected end of data",
}
STATUS = {"http": 500, "rtsp": 503}


def latin_words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z][A-Za-z0-9]*", text))


def sentence(probe: str, reason: str, detail: str, problem: str = "service_down") -> str:
    """The zh 监测依据 of one failed check, built the way a notice item is."""
    params = icmp.Params() if probe == "icmp" else None
    dev = device("d-1", checks=(CheckSpec(probe, probe, PORTS[probe], params),))
    found = {"failed_checks": [f"{probe}: {reason} ({detail})"], "figures": {}}
    if reason in ("bad_status", "auth") and probe in STATUS:
        found["figures"] = {f"{probe}.status_code": float(STATUS[probe])}
    return basis(problem, {**found, **facts(dev, found)}, "zh")


# a skipped check (the monitor's own limits) opens no fault, so it never reaches a notice
CASES = [(probe, reason.value) for probe in PROBES for reason in Reason
         if reason != Reason.OK and reason not in SKIP_REASONS]


@pytest.mark.parametrize(("probe", "reason"), CASES)
def test_every_probe_outcome_has_chinese_words(probe: str, reason: str) -> None:
    """Every (probe, reason) maps to a Chinese sentence with no English word of the detail:
    only protocol names, numbers and units stay Latin."""
    detail = DETAILS.get((probe, reason), GENERIC[reason].format(port=PORTS[probe]))
    text = sentence(probe, reason, detail)
    assert re.search(r"[\u4e00-\u9fff]", text), text
    assert latin_words(text) <= ALLOWED, (text, latin_words(text) - ALLOWED)
    assert not (latin_words(text) & latin_words(detail)) - ALLOWED, text


def test_the_issue_s_examples() -> None:
    """The sentences a county reads for the common outcomes."""
    assert sentence("icmp", "timeout", "no reply to 5 echoes", "unreachable") == \
        "连续5次 Ping 无应答"
    assert sentence("rtsp", "bad_status", "OPTIONS: 503 Service Unavailable") == \
        "RTSP 服务返回 503（服务不可用）"
    assert sentence("sip", "timeout", "OPTIONS: no complete reply within 1 s") == \
        "SIP OPTIONS 1 秒内无应答"
    assert sentence("snmp", "auth", "SNMP v3: unexpected report", "auth_failed") == \
        "SNMP 认证失败：团体名或 v3 密钥与设备不符"
    assert sentence("snmp", "auth", DETAILS[("snmp", "auth")], "auth_failed") == \
        "SNMP 认证失败：v3 认证密钥或算法与设备不符"
    assert sentence("http", "auth", DETAILS[("http", "auth")], "auth_failed").startswith(
        "HTTP 服务返回 401（需要认证）")


def test_faults_that_are_figures_have_words() -> None:
    """Uplink down or slow, a degraded link, flapping and an open stream, from their figures."""
    slow = {"figures": {"snmp.uplink_speed_bps": 1e8}, "limits": {"uplink_min_bps": 1e9}}
    assert basis("uplink_slow", slow, "zh") == "上联口速率降为 100 Mbit/s（应为 1000 Mbit/s）"
    down = {"figures": {"snmp.uplink_oper_status": 2.0}}
    assert basis("uplink_down", down, "zh") == "上联口 down（ifOperStatus = 2）"
    link = {"detail": "RTT 351 ms > 300 ms; loss 5% > 1%; jitter 40 ms > 30 ms"}
    assert basis("degraded_link", link, "zh") == (
        "时延 351 ms（应不高于 300 ms）；丢包率 5%（应不高于 1%）；抖动 40 ms（应不高于 30 ms）")
    flaps = {"detail": "6 up/down changes in the last 20 cycles"}
    assert basis("flapping", flaps, "zh") == "最近20次检测中在线状态变化6次"
    for problem, evidence in (("uplink_slow", slow), ("uplink_down", down),
                              ("degraded_link", link), ("flapping", flaps),
                              ("open_stream", {}), ("rebooted", {}), ("auth_failed", {}),
                              ("service_down", {"failed_checks": ["web: bad_status (x)"]})):
        text = basis(problem, evidence, "zh")
        assert latin_words(text) <= ALLOWED, text
        assert re.search(r"[\u4e00-\u9fff]", basis(problem, evidence, "zh"))


def test_a_monitored_fault_reaches_the_notice_in_words_and_the_record_keeps_the_english() -> None:
    """From a device's real state (the monitor's evidence and detail) to the zh HTML: the
    words are Chinese, the English detail only in the JSON record."""
    dev = device("cam-1", checks=(CheckSpec("icmp", "icmp", 0, icmp.Params()),
                                  CheckSpec("rtsp", "rtsp", 554, None)))
    state = DeviceState(dev)
    state.record({"icmp": ProbeResult.ok("5/5 replies", received=5.0),
                  "rtsp": ProbeResult.fail(Reason.BAD_STATUS, "OPTIONS: 503 Service Unavailable",
                                           status_code=503.0)}, 1000.0)
    found = monitor_evidence(state)
    ev = {**found, "detail": describe(state, "service_down"), **facts(dev, found)}
    r = record(items=(item(1, problem="service_down", evidence=ev),), carried=())
    html = render_html(r)
    assert "RTSP 服务返回 503（服务不可用）" in html
    assert "Service Unavailable" not in html and "bad_status" not in html
    assert "OPTIONS: 503 Service Unavailable" in r.to_json()
