"""Renders a NoticeRecord as an official document: HTML (A4, printable) and Markdown.

The layout follows GB/T 9704-2012: a red 版头 (the issuing organ's name, the
document number, a red rule), the title, 主送机关, the body with two-character
indents, 附件说明, signature and date, 联系人; the attachment (the item table) on a
page of its own, then the map of the items (``figure``: numbered as the table, on a
page of its own, when the record has coordinates); page numbers "— 1 —"; the 版记
(抄送, 印发) last. ``document`` gives every part in order, so the HTML/PDF template and
the Word writer lay out the same words and the same map.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, select_autoescape

from netwatch.notices import words as w
from netwatch.notices.evidence import basis as evidence_basis
from netwatch.notices.figure import map_svg
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
    """The body, then the early warnings' section when there are any."""
    return _body(r, lang) + _warning_paragraphs(r, lang)


def _body(r: NoticeRecord, lang: str) -> list[str]:
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
    figs += _sampled_figures(r, lang)
    figs += _declared(r, lang)
    n, c = len(r.items), len(r.carried)
    notes = _period_notes(r, lang)
    if zh:
        basis = f"（{'；'.join(notes)}）" if notes else ""
        return [
            f"根据{r.city}公安技术监测平台{start if start == end else f'{start}至{end}'}"
            f"的监测数据{basis}，"
            "现将你单位存在的问题通报如下。",
            f"一、发现问题。本期新发现问题{n}项，前期未整改问题{c}项。"
            + ("；".join(figs) + "。" if figs else ""),
            "二、整改要求。请你单位对照附件问题清单逐项核查整改。",
            f"三、整改时限。请按附件问题清单所列时限逐项完成整改，其中最早一项须于{first}前完成，"
            f"全部问题须于{dl}前完成。" if first != dl else f"三、整改时限。请于{dl}前完成整改。",
            "四、书面反馈。整改完成后书面反馈整改结果。",
            "五、逾期未整改的，将予以通报并纳入年度考核。",
        ]
    basis = f" ({'; '.join(notes)})" if notes else ""
    return [
        f"Based on {r.city} police monitoring data "
        f"{f'of {start}' if start == end else f'from {start} to {end}'}{basis}, we notify you:",
        f"1. Problems found: {n} new, {c} carried forward."
        + (" " + "; ".join(figs) + "." if figs else ""),
        "2. Requirements: check and rectify each item in the attached list.",
        f"3. Deadline: rectify each item by the date in the attached list; the first is due "
        f"by {first}, all by {dl}." if first != dl else
        f"3. Deadline: complete rectification by {dl}.",
        "4. Feedback: report the results in writing when done.",
        "5. Items overdue will be reported and counted in the annual assessment.",
    ]


def _sampled_figures(r: NoticeRecord, lang: str) -> list[str]:
    """Video availability and clock accuracy, where the county has devices checked for them."""
    zh = lang == "zh"
    out = []
    if r.video_ratio is not None and r.video_cameras:
        out.append(f"视频可用率{r.video_ratio:.1%}（抽检{r.video_cameras}路）" if zh else
                   f"video available {r.video_ratio:.1%} ({r.video_cameras} cameras sampled)")
    if r.clock_ratio is not None and r.clock_devices:
        out.append(f"时钟准确率{r.clock_ratio:.1%}（核查{r.clock_devices}台）" if zh else
                   f"clocks accurate {r.clock_ratio:.1%} ({r.clock_devices} devices checked)")
    return out


def _declared(r: NoticeRecord, lang: str) -> list[str]:
    """The outages the county declared in the period (停机报备): how many, how long in all;
    their time is in no online rate, and said here rather than hidden."""
    if not r.declared_outages:
        return []
    hours = f"{round((r.declared_seconds or 0) / 3600, 1):g}"
    if lang == "zh":
        return [f"本期报备停机{r.declared_outages}次，累计{hours}小时（报备时段不计入在线率）"]
    n = r.declared_outages
    return [f"{n} outage{'' if n == 1 else 's'} declared in the period, {hours} h in all "
            "(left out of the online rates)"]


WARNINGS_SHOWN = 10  # lines of the 预警提示 section; the rest are counted


def _warning_paragraphs(r: NoticeRecord, lang: str) -> list[str]:
    """六、预警提示: the county's early warnings at issue time, one line each: trends short
    of a fault, outside the problem list, with no deadline (none: no section)."""
    if not r.warnings:
        return []
    zh = lang == "zh"
    n = len({v.device for v in r.warnings})
    out = [f"六、预警提示。以下{n}台设备运行指标呈异常趋势，尚未构成故障，不列入问题清单、"
           "不设整改时限，请关注并排查：" if zh else
           f"6. Early warnings: {n} device{'' if n == 1 else 's'} show a worsening trend, not "
           "yet a fault (not in the problem list, no deadline); please look into them:"]
    for i, v in enumerate(r.warnings[:WARNINGS_SHOWN], 1):
        kind, word = w.word(w.KINDS, v.kind, lang), w.word(w.WARNINGS, v.warning, lang)
        figures, since = w.warning_figures(v.warning, v.figures, lang), w.moment(v.since, lang)
        if figures:
            word += f"（{figures}）" if zh else f" ({figures})"
        out.append(f"（{i}）{v.name}（{v.device}，{kind}）：{word}，自{since}起。" if zh else
                   f"({i}) {v.name} ({v.device}, {kind}): {word}, since {since}.")
    rest = len(r.warnings) - WARNINGS_SHOWN
    if rest > 0:
        out.append(f"另有{rest}项预警，详见监测平台。" if zh else
                   f"{rest} more warnings on the monitoring platform.")
    return out


def _period_notes(r: NoticeRecord, lang: str) -> list[str]:
    """What the period's basis sentence adds: a period shorter than usual because watching
    began within it, and the time within it nothing watched (in no rate)."""
    zh = lang == "zh"
    notes = []
    if r.short_period and r.period_from:
        began, usual = w.moment(r.period_from, lang), r.usual_period_days
        notes.append(f"监测自{began}起，本期不足{usual}天" if zh else
                     f"monitored since {began}, shorter than the usual {usual} "
                     f"day{'' if usual == 1 else 's'}")
    if r.unwatched_seconds:
        gap = w.span(r.unwatched_seconds, lang)
        notes.append(f"其中{gap}未监测，不计入在线率" if zh else
                     f"{gap} of it unwatched, left out of the online rates")
    return notes


def item_cells(it: ItemView, lang: str) -> tuple[str, ...]:
    """One table row's cells, in the attachment's column order (docs/notices.md)."""
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
             evidence_basis(it.problem, it.evidence, lang))
    result = ""
    if it.acknowledgement is not None:
        result = f"{it.acknowledgement.note} ({w.date(it.acknowledgement.promised, lang)})"
    return (str(it.row), it.name, it.subject, w.word(w.KINDS, it.kind, lang), it.location,
            problem, w.datetime(it.first_seen, lang), w.duration(it.duration_seconds, lang),
            basis, w.date(it.deadline, lang), result)


def _tables(r: NoticeRecord, lang: str) -> list[tuple[str, list[_Row]]]:
    """The attachment's tables: this notice's items, then those carried forward."""
    zh = lang == "zh"
    out = [("", [_Row(item_cells(i, lang), i.overdue) for i in r.items])] if r.items else []
    if r.carried:
        out.append(("前期未整改问题" if zh else "Carried forward",
                    [_Row(item_cells(i, lang), i.overdue) for i in r.carried]))
    return out


@dataclass(frozen=True, slots=True)
class Document:
    """Every text of the notice in reading order, for the HTML, PDF and Word renderings."""

    lang: str
    organ: str  # the red 版头
    number: str
    title: str
    to: str  # 主送机关 with its colon
    paragraphs: list[str]
    annex_note: str  # 附件说明
    signature: str
    date: str
    contact: str  # in parentheses, under the body
    annex_label: str  # "附件" at the top left of the attachment page
    annex_title: str
    headers: tuple[str, ...]
    tables: list[tuple[str, list[_Row]]]
    cc: str  # 抄送 line, "" when none
    printed: str  # 印发 line
    map_svg: str = ""  # the items' map (SVG), "" for a notice without coordinates


def document(record: NoticeRecord, lang: str = "zh") -> Document:
    """The notice's parts in GB/T 9704 order (see the module docstring)."""
    zh = lang == "zh"
    day = w.date(record.issue_date, lang)
    contact = ""
    if record.contact:
        contact = f"（联系人：{record.contact}）" if zh else f"(Contact: {record.contact})"
    cc = ""
    if record.cc:
        cc = f"抄送：{record.cc}。" if zh else f"Copy to: {record.cc}."
    return Document(
        lang=lang, organ=record.header or record.issuing_unit, number=record.number,
        title=title(record, lang),
        to=record.receiving_unit + ("：" if zh else ":"),
        paragraphs=_paragraphs(record, lang),
        annex_note="附件：问题清单" if zh else "Annex: problem list",
        signature=record.issuing_unit, date=day, contact=contact,
        annex_label="附件" if zh else "Annex",
        annex_title=(f"{record.county_name}问题清单" if zh
                     else f"Problem list: {record.county_name}"),
        headers=HEADERS["zh" if zh else "en"], tables=_tables(record, lang), cc=cc,
        printed=(f"{record.issuing_unit}　　{day}印发" if zh
                 else f"Issued by {record.issuing_unit}, {day}"),
        map_svg=map_svg(record, lang),
    )


def render_html(record: NoticeRecord, lang: str = "zh") -> str:
    """The printable A4 document, all untrusted text escaped by the template."""
    return _ENV.get_template("notice.html.j2").render(d=document(record, lang))


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~&])")


def md_escape(text: str) -> str:
    """Untrusted text made inert in Markdown: specials escaped, newlines flattened."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def render_markdown(record: NoticeRecord, lang: str = "zh") -> str:
    """The same document as Markdown."""
    e, d = md_escape, document(record, lang)
    lines = [e(d.organ), "", e(d.number), "", f"# {e(d.title)}", "", e(d.to), ""]
    lines += [e(p) + "\n" for p in d.paragraphs]
    lines += [e(d.annex_note), "", e(d.signature), "", e(d.date), ""]
    if d.contact:
        lines += [e(d.contact), ""]
    lines += [f"## {e(d.annex_label)}：{e(d.annex_title)}" if lang == "zh" else
              f"## {e(d.annex_label)}: {e(d.annex_title)}", ""]
    for caption, rows in d.tables:
        if caption:
            lines += [f"### {e(caption)}", ""]
        lines += ["| " + " | ".join(d.headers) + " |", "|" + "---|" * len(d.headers)]
        lines += ["| " + " | ".join(e(c) for c in row.cells) + " |" for row in rows]
        lines.append("")
    if d.map_svg:
        lines += ["附图：问题分布示意图（见 HTML、PDF、Word 版）" if lang == "zh" else
                  "Map of the problems: in the HTML, PDF and Word versions", ""]
    if d.cc:
        lines += [e(d.cc), ""]
    lines += [e(d.printed), ""]
    return "\n".join(lines)
