"""Renders a NoticeRecord as an official document: HTML (A4, printable) and Markdown."""

from __future__ import annotations

import re
from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, select_autoescape

from netwatch.notices import words as w
from netwatch.notices.record import ItemView, NoticeRecord

_ENV = Environment(
    loader=PackageLoader("netwatch.notices", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
)
HEADERS = {
    "zh": ("序号", "点位/设备名称", "设备编号", "类型", "位置", "问题", "首次发现时间", "持续时长",
           "监测依据", "整改时限", "整改结果"),
    "en": ("No.", "Point/device", "ID", "Type", "Location", "Problem", "First seen", "Duration",
           "Evidence", "Deadline", "Result"),
}


@dataclass(frozen=True, slots=True)
class _Row:
    cells: tuple[str, ...]
    overdue: bool


TITLE_PROBLEMS = 2  # problems a title names before "等" (and others)


def title(record: NoticeRecord, lang: str = "zh") -> str:
    """The document title, naming the main problems found (事由) and no 《》."""
    problems = _problems(record, lang)
    more = len(problems) > TITLE_PROBLEMS
    named = problems[:TITLE_PROBLEMS]
    if lang == "zh":
        reason = "、".join(named) + ("等" if more else "")
        return f"{record.issuing_unit}关于{record.county_name}{reason}问题限期整改的通知"
    return (f"{record.issuing_unit}: notice to {record.county_name} to rectify "
            f"{', '.join(named)}{' and other problems' if more else ''} within a time limit")


def _problems(record: NoticeRecord, lang: str) -> list[str]:
    """One phrase per problem in item order, naming the kinds it hit (视频监控、交换机设备离线)."""
    kinds: dict[str, list[str]] = {}
    for it in record.items + record.carried:
        kind = w.word(w.KINDS, it.kind, lang)
        hit = kinds.setdefault(w.word(w.PROBLEMS, it.problem, lang), [])
        if kind not in hit:
            hit.append(kind)
    if lang == "zh":
        return [f"{'、'.join(k)}{p}" for p, k in kinds.items()] or ["设备运行"]
    return [f"{p} ({', '.join(k)})" for p, k in kinds.items()] or ["device operation"]


def _paragraphs(r: NoticeRecord, lang: str) -> list[str]:
    """Body in order: period and basis, findings, requirements, deadline, feedback, overdue."""
    zh = lang == "zh"
    start, end = w.date(r.period_start, lang), w.date(r.period_end, lang)
    due = sorted(i.deadline for i in r.items + r.carried if i.deadline)
    dl, first = w.date(r.deadline, lang), w.date(due[0] if due else r.deadline, lang)
    figs = []
    for s in r.summary:
        kind = w.word(w.KINDS, s.kind, lang)
        figs.append(
            f"{kind}在线率{s.online_ratio:.1%}（目标{s.target_ratio:.0%}），在{s.of}个县区中排第{s.rank}名"
            if zh else
            f"{kind} online {s.online_ratio:.1%} (target {s.target_ratio:.0%}), "
            f"rank {s.rank} of {s.of}")
    n, c = len(r.items), len(r.carried)
    if zh:
        return [
            f"根据{r.city}公安技术监测平台{start}至{end}的监测数据，现将你单位存在的问题通报如下。",
            f"一、发现问题。本期新发现问题{n}项，前期未整改问题{c}项。"
            + ("；".join(figs) + "。" if figs else ""),
            "二、整改要求。请你单位对照附件问题清单逐项核查整改。",
            f"三、整改时限。请按附件问题清单所列时限逐项完成整改，其中最早一项须于{first}前完成，"
            f"全部问题须于{dl}前完成。" if first != dl else f"三、整改时限。请于{dl}前完成整改。",
            "四、书面反馈。整改完成后书面反馈整改结果。",
            "五、逾期未整改的，将予以通报并纳入年度考核。",
        ]
    return [
        f"Based on {r.city} police monitoring data from {start} to {end}, we notify you:",
        f"1. Problems found: {n} new, {c} carried forward."
        + (" " + "; ".join(figs) + "." if figs else ""),
        "2. Requirements: check and rectify each item in the attached list.",
        f"3. Deadline: rectify each item by the date in the attached list; the first is due "
        f"by {first}, all by {dl}." if first != dl else
        f"3. Deadline: complete rectification by {dl}.",
        "4. Feedback: report the results in writing when done.",
        "5. Items overdue will be reported and counted in the annual assessment.",
    ]


def _cells(it: ItemView, lang: str) -> tuple[str, ...]:
    """One table row's cells, in the DOMAIN.md column order."""
    zh = lang == "zh"
    problem = w.word(w.PROBLEMS, it.problem, lang)
    if it.suppressed_children:
        problem += (f"（导致{it.suppressed_children}台设备离线）" if zh
                    else f" (took down {it.suppressed_children} devices)")
    if it.refers_to:
        site = it.refers_to.removeprefix("device:")
        problem += (f"（原因：服务基站{site}故障，见其整改项）" if zh
                    else f" (cause: serving site {site} is down; see its item)")
    if it.overdue:
        problem += "【逾期】" if zh else " [OVERDUE]"
    basis = (w.coverage_basis(it.evidence, lang) if "readings" in it.evidence else
             ", ".join(str(x) for x in it.evidence.get("failed_checks", ()))
             or str(it.evidence.get("detail", "")))
    result = ""
    if it.acknowledgement is not None:
        result = f"{it.acknowledgement.note} ({w.date(it.acknowledgement.promised, lang)})"
    return (str(it.row), it.name, it.subject, w.word(w.KINDS, it.kind, lang), it.location,
            problem, w.datetime(it.first_seen, lang), w.duration(it.duration_seconds, lang),
            basis, w.date(it.deadline, lang), result)


def _tables(r: NoticeRecord, lang: str) -> list[tuple[str, list[_Row]]]:
    zh = lang == "zh"
    out = [("附件：问题清单" if zh else "Annex: problem list",
            [_Row(_cells(i, lang), i.overdue) for i in r.items])]
    if r.carried:
        out.append(("前期未整改问题" if zh else "Carried forward",
                    [_Row(_cells(i, lang), i.overdue) for i in r.carried]))
    return out


def _contact(r: NoticeRecord, lang: str) -> str:
    return f"联系人：{r.contact}" if lang == "zh" else f"Contact: {r.contact}"


def render_html(record: NoticeRecord, lang: str = "zh") -> str:
    """The printable A4 document, all untrusted text escaped by the template."""
    return _ENV.get_template("notice.html.j2").render(
        r=record, lang=lang, title=title(record, lang), paragraphs=_paragraphs(record, lang),
        issue_date=w.date(record.issue_date, lang), contact=_contact(record, lang),
        tables=_tables(record, lang), headers=HEADERS["zh" if lang == "zh" else "en"])


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~&])")


def md_escape(text: str) -> str:
    """Untrusted text made inert in Markdown: specials escaped, newlines flattened."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def render_markdown(record: NoticeRecord, lang: str = "zh") -> str:
    """The same document as Markdown."""
    e = md_escape
    lines = [e(record.number), "", f"# {e(title(record, lang))}", "",
             e(record.receiving_unit) + ("：" if lang == "zh" else ":"), ""]
    lines += [e(p) + "\n" for p in _paragraphs(record, lang)]
    lines += [e(record.issuing_unit), "", e(w.date(record.issue_date, lang)), "",
              e(_contact(record, lang)), ""]
    head = HEADERS["zh" if lang == "zh" else "en"]
    for caption, rows in _tables(record, lang):
        lines += [f"## {e(caption)}", "", "| " + " | ".join(head) + " |",
                  "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(e(c) for c in row.cells) + " |" for row in rows]
        lines.append("")
    return "\n".join(lines)
