"""Plain words for notice codes, and Chinese/English dates and durations."""

from __future__ import annotations

from netwatch.vocab import BlindCause, Problem, Warning

PROBLEMS: dict[str, tuple[str, str]] = {  # every fault kind and finding (docs/faults.md)
    Problem.UNREACHABLE: ("设备离线", "device offline"),
    Problem.SERVICE_DOWN: ("业务服务无响应", "service not answering"),
    Problem.DEGRADED_LINK: ("网络链路质量不达标", "network link degraded"),
    Problem.UPLINK_DOWN: ("上行链路中断", "uplink down"),
    Problem.UPLINK_SLOW: ("上行链路速率低于千兆", "uplink below 1 Gbit/s"),
    Problem.FLAPPING: ("设备频繁掉线", "device flapping"),
    Problem.OPEN_STREAM: ("视频流可免认证访问", "video stream open without authentication"),
    Problem.REBOOTED: ("设备异常重启", "device rebooted"),
    Problem.BLIND_SPOT: ("信号盲区", "coverage blind spot"),
    Problem.AUTH_FAILED: ("设备认证失败/配置不符",
                          "device authentication failed / settings mismatch"),
    Problem.NO_VIDEO: ("在线不出图（视频流中断）", "online but no video (stream interrupted)"),
    Problem.CLOCK_DRIFT: ("设备时钟偏差超限", "device clock off"),
}
WARNINGS: dict[str, tuple[str, str]] = {  # every early warning (docs/inventory.md)
    Warning.LOSS_RISING: ("丢包率较自身基线上升", "packet loss rising above its baseline"),
    Warning.RTT_RISING: ("网络时延较自身基线上升", "round-trip time rising above its baseline"),
    Warning.UPLINK_ERRORS_RISING: ("上行链路错误包持续增长", "uplink errors growing"),
    Warning.REBOOTS: ("一天内多次重启", "repeated reboots within a day"),
    Warning.FLAPPING_QUIETLY: ("间歇性掉线", "intermittent drop-outs"),
    Warning.CLOCK_DRIFTING: ("设备时钟持续漂移", "device clock drifting"),
}
KINDS: dict[str, tuple[str, str]] = {  # every device kind and coverage technology
    "camera": ("视频监控", "video camera"),
    "camera_key_area": ("重点区域视频监控", "key-area camera"),
    "trunking_site": ("数字集群基站", "trunked-radio base station"),
    "vc_endpoint": ("视频会议终端", "video-conference endpoint"),
    "switch": ("交换机", "switch"),
    "pdt": ("PDT数字集群", "PDT trunked radio"),
    "broadband": ("宽带集群", "broadband trunking"),
}
CAUSES: dict[str, tuple[str, str]] = {  # why a blind spot is blind (netwatch.coverage.causes)
    BlindCause.SITE_DOWN: ("服务基站故障", "serving site down"),
    BlindCause.UPLINK_DOWN: ("服务基站传输中断", "serving site's uplink down"),
    BlindCause.UPLINK_SLOW: ("服务基站传输降速", "serving site's uplink slow"),
    BlindCause.COVERAGE_HOLE: ("覆盖盲区（需新建或优化基站）", "coverage hole (a site is needed)"),
}
OUTAGE_REASONS: dict[str, tuple[str, str]] = {  # a declared outage's reason (停机报备)
    "power": ("电力检修", "power maintenance"),
    "roadworks": ("道路施工", "roadworks"),
    "relocation": ("设备迁移", "relocation"),
    "other": ("其他", "other"),
}
SEVERITY: dict[str, tuple[str, str]] = {
    "critical": ("严重", "critical"),
    "major": ("较重", "major"),
    "minor": ("一般", "minor"),
}


def word(table: dict[str, tuple[str, str]], code: str, lang: str) -> str:
    """The plain word for a code; an unknown code is shown as itself rather than dropped."""
    pair = table.get(code)
    return code if pair is None else pair[0 if lang == "zh" else 1]


def duration(seconds: float, lang: str) -> str:
    """Days and hours (2天3小时 / 2 d 3 h); under an hour shows minutes."""
    total = max(int(seconds), 0)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    if days == 0 and hours == 0:
        minutes = rest // 60
        if minutes == 0:
            return "不足1分钟" if lang == "zh" else "under 1 min"
        return f"{minutes}分钟" if lang == "zh" else f"{minutes} min"
    if lang == "zh":
        return (f"{days}天" if days else "") + (f"{hours}小时" if hours else "")
    return " ".join(p for p in (f"{days} d" if days else "", f"{hours} h" if hours else "") if p)


def span(seconds: float, lang: str) -> str:
    """Days, hours and minutes, each when not zero (2小时10分钟 / 2 h 10 min)."""
    total = max(int(seconds), 0)
    if total < 60:
        return "不足1分钟" if lang == "zh" else "under 1 min"
    days, rest = divmod(total, 86400)
    hours, minutes = divmod(rest // 60, 60)
    parts = ((days, "天", "d"), (hours, "小时", "h"), (minutes, "分钟", "min"))
    if lang == "zh":
        return "".join(f"{n}{zh}" for n, zh, _ in parts if n)
    return " ".join(f"{n} {en}" for n, _, en in parts if n)


def moment(iso: str, lang: str) -> str:
    """A time to the minute in running text: 2026年12月6日8时10分 / 2026-12-06 08:10."""
    if lang != "zh":
        return f"{iso[:10]} {iso[11:16]}"
    return f"{date(iso, lang)}{int(iso[11:13])}时{int(iso[14:16]):02d}分"


def date(iso: str, lang: str) -> str:
    """2026年11月28日 from an ISO date or timestamp; English keeps ISO."""
    day = iso[:10]
    if lang != "zh":
        return day
    y, m, d = day.split("-")
    return f"{int(y)}年{int(m)}月{int(d)}日"


def datetime(iso: str, lang: str) -> str:
    """A date with hour and minute for first-seen columns."""
    hm = iso[11:16]
    return f"{date(iso, lang)} {hm}".strip()


def coverage_basis(evidence: dict[str, object], lang: str) -> str:
    """A blind spot's 监测依据: the readings' median against the limit, and the cause."""
    n, median, limit = evidence.get("readings"), evidence.get("median_dbm"), \
        evidence.get("threshold_dbm")
    zh = lang == "zh"
    if median is None:
        text = f"{n}次测试均无信号" if zh else f"no signal in {n} readings"
    else:
        text = (f"{n}次测试信号中位数{median} dBm，低于盲区门限{limit} dBm" if zh
                else f"median {median} dBm of {n} readings, under the {limit} dBm limit")
    cause, site = evidence.get("cause"), evidence.get("site")
    if isinstance(cause, str):
        why = word(CAUSES, cause, lang) + (f"（{site}）" if zh and site else
                                            f" ({site})" if site else "")
        text += f"；原因：{why}" if zh else f"; cause: {why}"
    return text


def warning_figures(warning: str, figures: dict[str, float], lang: str) -> str:
    """What a warning was judged on, in a few words (基线0.1%，近期5.0%)."""
    zh = lang == "zh"
    f = figures.get
    if warning == Warning.LOSS_RISING:
        base, recent = f("baseline", 0.0), f("recent", 0.0)
        return (f"基线{base:.1%}，近期{recent:.1%}" if zh
                else f"baseline {base:.1%}, recent {recent:.1%}")
    if warning == Warning.RTT_RISING:
        base, recent = f("baseline", 0.0) * 1000, f("recent", 0.0) * 1000
        return (f"基线{base:.0f}毫秒，近期{recent:.0f}毫秒" if zh
                else f"baseline {base:.0f} ms, recent {recent:.0f} ms")
    if warning == Warning.UPLINK_ERRORS_RISING:
        errors, within = f("errors", 0.0), span(f("window_seconds", 3600.0), lang)
        return f"{within}内增加{errors:.0f}个" if zh else f"{errors:.0f} more within {within}"
    if warning == Warning.REBOOTS:
        count = f("count", 0.0)
        return f"24小时内重启{count:.0f}次" if zh else f"{count:.0f} reboots within 24 h"
    if warning == Warning.FLAPPING_QUIETLY:
        changes, cycles = f("changes", 0.0), f("cycles", 0.0)
        return (f"最近{cycles:.0f}个检测周期内通断变化{changes:.0f}次" if zh
                else f"{changes:.0f} up/down changes in the last {cycles:.0f} checks")
    if warning == Warning.CLOCK_DRIFTING:
        drift, offset = f("seconds_per_day", 0.0), f("offset", 0.0)
        return (f"每天漂移{drift:+.1f}秒，当前偏差{offset:+.1f}秒" if zh
                else f"drifting {drift:+.1f} s a day, now {offset:+.1f} s off")
    return ""
