"""监测依据 in plain words: what the probes found, built from the facts, never their English.

A fault episode's evidence holds the probes' own English (``failed_checks``,
``detail``: for engineers, kept in the JSON record). ``facts`` (called when the
item is made, with the device's settings at hand) adds what the words need: per
failed check its probe, reason, port, timeout and echo count, any status code,
and the limits a figure was judged against. ``basis`` turns that into one
sentence per language: "连续5次 Ping 无应答", "RTSP 服务返回 503（服务不可用）".
Numbers, units and protocol names are the only Latin text a Chinese sentence
keeps; anything else (an unknown reason, an old record without facts) gets a
general sentence rather than the probe's English.
"""

from __future__ import annotations

import re
from typing import Any

from netwatch.inventory import Device
from netwatch.notices import words
from netwatch.vocab import Measurement, Problem, Reason

PROTOCOL = {"icmp": "Ping", "tcp": "TCP", "http": "HTTP", "rtsp": "RTSP", "sip": "SIP",
            "snmp": "SNMP", "video": "RTSP 视频流", "onvif_time": "ONVIF 时钟"}
STATUS_ZH = {
    400: "请求错误", 401: "需要认证", 403: "禁止访问", 404: "资源不存在", 405: "方法不允许",
    407: "需要代理认证", 408: "请求超时", 453: "带宽不足", 454: "会话不存在",
    500: "服务器内部错误", 501: "功能未实现", 502: "网关错误", 503: "服务不可用",
    504: "网关超时", 505: "协议版本不支持",
}
# SNMPv3 report kinds (probes.snmp.client) → what is wrong, without the MIB's names
SNMP_AUTH = (
    ("usmStatsUnknownUserNames", "v3 用户名与设备不符", "v3 user name unknown to the device"),
    ("usmStatsWrongDigests", "v3 认证密钥或算法与设备不符",
     "v3 authentication key or protocol does not match"),
    ("usmStatsDecryptionErrors", "v3 加密密钥或算法与设备不符",
     "v3 privacy key or protocol does not match"),
    ("usmStatsUnsupportedSecLevels", "设备未给该用户开启认证加密",
     "the device does not offer authentication and privacy for this user"),
    ("usmStatsNotInTimeWindows", "设备时钟与其引擎时间不同步",
     "the device's engine clock is out of its time window"),
    ("usmStatsUnknownEngineIDs", "设备引擎标识不符", "the device's engine id does not match"),
    ("below authPriv", "设备应答未加密", "the device answered without encryption"),
    ("wrong auth key", "v3 认证密钥与设备不符", "v3 authentication key does not match"),
)
_STATUS = re.compile(r"\b([1-5]\d\d)\b")
_ECHOES = re.compile(r"no reply to (\d+) echoes")
_FLAPS = re.compile(r"(\d+) up/down changes in the last (\d+) cycles")
_UNIT = {"ms": " ms", "%": "%"}
_LINK = re.compile(r"(RTT|loss|jitter) (\d+(?:\.\d+)?)(ms|%) > (\d+(?:\.\d+)?)(ms|%)")


def facts(device: Device, evidence: dict[str, Any]) -> dict[str, Any]:
    """The structured facts of an episode's evidence, from the device's settings."""
    checks = []
    figures = evidence.get("figures", {})
    by_name = sorted(device.checks, key=lambda c: -len(c.name))
    for text in evidence.get("failed_checks", ()):
        spec = next((c for c in by_name if str(text).startswith(f"{c.name}: ")), None)
        if spec is None:
            continue
        rest = str(text)[len(spec.name) + 2:]
        reason, _, detail = rest.partition(" (")
        one: dict[str, Any] = {"check": spec.name, "probe": spec.probe, "reason": reason,
                               "port": spec.port, "timeout": device.timeout}
        count = getattr(spec.params, "count", None)
        if isinstance(count, int):
            one["count"] = count
        retries = getattr(spec.params, "retries", None)
        if isinstance(retries, int):
            one["tries"] = retries + 1
        found = (_STATUS.search(detail.rstrip(")"))
                 if reason in (Reason.BAD_STATUS, Reason.AUTH) else None)
        for key in (Measurement.DESCRIBE_STATUS_CODE, Measurement.STATUS_CODE):
            if found is None and isinstance(figures.get(f"{spec.name}.{key}"), int | float):
                one["status"] = int(figures[f"{spec.name}.{key}"])
        if found is not None:
            one["status"] = int(found.group(1))
        if reason == Reason.AUTH:
            one["auth"] = next((k for k, _, _ in SNMP_AUTH if k in detail), "")
        checks.append(one)
    t = device.thresholds
    return {"checks": checks, "limits": {
        "uplink_min_bps": t.uplink_min_bps, "rtt_seconds": t.rtt_seconds,
        "loss_ratio": t.loss_ratio, "jitter_seconds": t.jitter_seconds,
        "clock_offset_seconds": t.clock_offset_seconds}}


def _num(x: float) -> str:
    return f"{x:g}"


def check_sentence(one: dict[str, Any], lang: str) -> str:
    """One failed check in words: probe, reason and its figures."""
    zh = lang == "zh"
    probe, reason = str(one.get("probe", "")), str(one.get("reason", ""))
    p = PROTOCOL.get(probe, "")
    t = _num(float(one.get("timeout", 1.0)))
    port = one.get("port") or ""
    where = (f"（{port} 端口）" if zh else f" (port {port})") if port else ""
    status = one.get("status")
    if reason == Reason.DENIED:
        return "地址不在允许监测的网段内，未检测" if zh else "address outside the allowed networks"
    if probe == "icmp":
        n = one.get("count", 5)
        pings: dict[str, tuple[str, str]] = {
            Reason.TIMEOUT: (f"连续{n}次 Ping 无应答", f"no reply to {n} pings"),
            Reason.UNREACHABLE: ("Ping 返回目标不可达", "ping: destination unreachable"),
        }
        return pings.get(reason, ("Ping 未能完成（监测端发送失败）",
                                  "ping could not be completed (sending failed)"))[0 if zh else 1]
    if not p:
        return "检测未通过" if zh else "check failed"
    if reason == Reason.AUTH and probe == "snmp":
        kind = next(((z, e) for k, z, e in SNMP_AUTH if k == one.get("auth")), None)
        if kind is None:
            return ("SNMP 认证失败：团体名或 v3 密钥与设备不符" if zh
                    else "SNMP authentication failed: community or v3 keys do not match")
        return f"SNMP 认证失败：{kind[0]}" if zh else f"SNMP authentication failed: {kind[1]}"
    if reason in (Reason.AUTH, Reason.BAD_STATUS) and isinstance(status, int):
        phrase = STATUS_ZH.get(status, "错误" if status >= 400 else "非预期应答")
        if zh:
            text = f"{p} 服务返回 {status}（{phrase}）"
            return text + ("：账号或访问配置与设备不符" if reason == Reason.AUTH else "")
        return f"{p} service answered {status}" + (
            ": credentials or access settings do not match" if reason == Reason.AUTH else "")
    if reason == Reason.TIMEOUT:
        if probe == "sip":
            return f"SIP OPTIONS {t} 秒内无应答" if zh else f"SIP OPTIONS: no answer within {t} s"
        if probe == "snmp":
            n = one.get("tries", 1)
            return (f"SNMP 连续{n}次查询无应答（每次等待 {t} 秒；设备离线或团体名不符）" if zh
                    else f"SNMP: no answer to {n} requests of {t} s each "
                         "(device down or community wrong)")
        return (f"{p} 服务{where or ' '}{t} 秒内无应答" if zh
                else f"{p}{where}: no answer within {t} s")
    words: dict[str, tuple[str, str]] = {
        Reason.REFUSED: (f"{p} 服务{where}拒绝连接", f"{p}{where}: connection refused"),
        Reason.UNREACHABLE: (f"{p} 服务{where}网络不可达", f"{p}{where}: network unreachable"),
        Reason.PROTOCOL: (f"{p} 应答不符合协议", f"{p}: malformed answer"),
        Reason.BAD_STATUS: (f"{p} 服务返回错误状态", f"{p}: error status"),
        Reason.AUTH: (f"{p} 认证失败：账号或访问配置与设备不符",
                      f"{p}: authentication failed, credentials do not match"),
    }
    return words.get(reason, (f"{p} 检测出错", f"{p}: check error"))[0 if zh else 1]


def fault_sentence(problem: str, evidence: dict[str, Any], lang: str) -> str | None:
    """The figures behind a fault that is not a failed check (uplink, link, flapping)."""
    zh = lang == "zh"
    figures = evidence.get("figures", {})
    limits = evidence.get("limits", {})

    def figure(key: str) -> float | None:
        return next((float(v) for k, v in figures.items() if k.endswith("." + key)), None)

    if problem == Problem.UPLINK_DOWN:
        status = figure(Measurement.UPLINK_OPER_STATUS)
        code = f" = {int(status)}" if status is not None else ""
        return f"上联口 down（ifOperStatus{code}）" if zh else f"uplink down (ifOperStatus{code})"
    if problem == Problem.UPLINK_SLOW:
        speed, floor = figure(Measurement.UPLINK_SPEED_BPS), limits.get("uplink_min_bps")
        if speed is None:
            return None
        want = (f"（应为 {_num(floor / 1e6)} Mbit/s）" if zh else
                f" (should be {_num(floor / 1e6)} Mbit/s)") if floor else ""
        return (f"上联口速率降为 {_num(speed / 1e6)} Mbit/s{want}" if zh else
                f"uplink speed down to {_num(speed / 1e6)} Mbit/s{want}")
    detail = str(evidence.get("detail", ""))
    if problem == Problem.FLAPPING and (m := _FLAPS.search(detail)):
        return (f"最近{m.group(2)}次检测中在线状态变化{m.group(1)}次" if zh else
                f"{m.group(1)} up/down changes in the last {m.group(2)} checks")
    if problem == Problem.DEGRADED_LINK:
        names = {"RTT": ("时延", "delay"), "loss": ("丢包率", "loss"), "jitter": ("抖动", "jitter")}
        found = _LINK.findall(detail.replace(" ms", "ms"))
        parts = [(f"{names[k][0]} {v}{_UNIT[u]}（应不高于 {lim}{_UNIT[u]}）" if zh else
                  f"{names[k][1]} {v}{_UNIT[u]} (limit {lim}{_UNIT[u]})")
                 for k, v, u, lim, _ in found]
        return ("；" if zh else "; ").join(parts) or None
    if problem == Problem.CLOCK_DRIFT:
        offset = figure(Measurement.CLOCK_OFFSET_SECONDS)
        if offset is None:
            return None
        most = limits.get("clock_offset_seconds")
        want = (f"（应≤{_num(most)} 秒）" if zh else f" (at most {_num(most)} s)") if most else ""
        return (f"设备时钟偏差 {offset:+.0f} 秒{want}" if zh
                else f"device clock off by {offset:+.0f} s{want}")
    if problem == Problem.NO_VIDEO:
        packets = figure(Measurement.VIDEO_PACKETS)
        if packets is None:
            return None
        if packets == 0:
            return ("视频流连接成功但无视频数据（在线不出图）" if zh
                    else "the stream connects but carries no video")
        if figure(Measurement.KEYFRAME) == 0:
            return ("视频流无关键帧，画面无法解码显示" if zh
                    else "the stream carries no key frame: no picture can be shown")
        return ("视频流时间戳停滞（画面冻结）" if zh
                else "the stream's timestamps stand still (frozen picture)")
    if problem == Problem.OPEN_STREAM:
        return ("RTSP 视频流无需账号密码即可拉取" if zh
                else "the RTSP stream plays without credentials")
    if problem == Problem.REBOOTED:
        return "设备运行时间归零（异常重启）" if zh else "device uptime restarted (reboot)"
    return None


GENERAL: dict[str, tuple[str, str]] = {
    Problem.UNREACHABLE: ("各项检测均无应答", "no check answered"),
    Problem.SERVICE_DOWN: ("业务检测未通过", "a service check failed"),
    Problem.AUTH_FAILED: ("设备拒绝监测平台的认证", "the device refused our credentials")}


def basis(problem: str, evidence: dict[str, Any], lang: str) -> str:
    """The item's 监测依据: failed checks or figures in words, and when it last answered."""
    zh = lang == "zh"
    parts = [check_sentence(c, lang) for c in evidence.get("checks", ())]
    if not parts:
        found = fault_sentence(problem, evidence, lang)
        general = GENERAL.get(problem, ("监测数据异常", "monitoring figures out of range"))
        parts = [found or general[0 if zh else 1]]
    text = ("；" if zh else "; ").join(dict.fromkeys(parts))
    last = evidence.get("last_good")
    if isinstance(last, str) and len(last) >= 16:
        when = words.datetime(last, lang)
        text += f"；最后正常：{when}" if zh else f"; last good {when}"
    return text
