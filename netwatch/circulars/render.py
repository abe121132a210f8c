"""Renders a CircularRecord as an official document (GB/T 9704-2012), HTML for print and PDF.

The parts in order: the red 版头 (``header``, else the issuing unit), the number and
the red rule, the title, 主送 (every recipient's receiving unit), the opening, the
sections numbered 一、二、三、 (总体情况, 排名情况 with one table per ranking, 整改及
盲区情况, 停机报备情况, 通报表扬, 通报批评, 有关要求, 评定规则), the signature and
date, 联系人, and the 版记 (抄送, 印发). ``document`` gives every part in order, so the
HTML/PDF template and the Word writer lay out the same words; the workbook takes
its captions and headers from here too. Every figure is the record's, formatted
(``words``); a demonstration circular says so at the top, under the title and on
every page.
"""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape

from netwatch.circulars import words as w
from netwatch.circulars.record import CircularRecord, CountyFigures, Mention, Ranking, RankRow

# the circular's template, and the notices' for the GB/T 9704 page they share (gbt9704.css)
_ENV = Environment(
    loader=ChoiceLoader([PackageLoader("netwatch.circulars", "templates"),
                         PackageLoader("netwatch.notices", "templates")]),
    autoescape=select_autoescape(["html", "j2"]),
)
RANKING_HEADERS = ("排名", "县（区）", "设备数", "指标值", "目标值", "是否达标",
                   "监测时长（设备·小时）", "报备停机（设备·小时）")
ITEM_HEADERS = ("县（区）", "新增整改项", "整改销号", "月末未整改", "其中逾期", "其中反复出现",
                "新发现盲区", "盲区整改销号")
DECLARED_HEADERS = ("县（区）", "报备停机（次）", "报备停机时长（小时）", "未监测时长（小时）")
REQUIREMENTS = (
    "（一）各县（区）要高度重视视频监控及通信网络运行维护工作，对照本通报查找差距，"
    "对未达标指标逐项分析原因，落实整改措施，确保设备稳定运行。",
    "（二）受到通报批评的县（区）要认真剖析原因，明确责任人和整改时限，"
    "整改情况及时书面报送{unit}。",
    "（三）对逾期未整改和反复出现的问题，要举一反三，建立长效机制，杜绝同类问题反复发生；"
    "确需停机检修的，应按规定事先报备。",
)


@dataclass(frozen=True, slots=True)
class Table:
    """A table of the body: what it lists (ranking, items, declared), its caption, header
    row and rows of text."""

    kind: str
    caption: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class Section:
    """A numbered section: heading (一、总体情况), its paragraphs, then its tables."""

    heading: str
    paragraphs: tuple[str, ...]
    tables: tuple[Table, ...] = ()


@dataclass(frozen=True, slots=True)
class Document:
    """Every text of the circular in reading order, for the HTML, PDF and Word renderings."""

    banner: str  # "演示数据（非正式文件）" for a demonstration, else ""
    organ: str  # the red 版头
    number: str
    title: str
    to: str  # 主送 with its colon
    opening: str
    sections: tuple[Section, ...]
    signature: str
    date: str
    contact: str  # in parentheses, under the signature; "" when none
    cc: str  # 抄送 line, "" when none
    printed: str  # 印发 line


def numeral(n: int) -> str:
    """一 … 十, 十一 … 九十九: the sections' and the sub-items' numbers."""
    digits = "一二三四五六七八九"
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else "十" if tens == 1 else digits[tens - 1] + "十"
    return head + (digits[ones - 1] if ones else "")


def title(record: CircularRecord) -> str:
    """关于2026年11月全市公安视频监控及通信网络运行情况的通报 (the month reported on)."""
    return f"关于{w.month(record.month)}{w.SUBJECT}的通报"


def ranking_name(ranking: Ranking) -> str:
    """在线率排名（视频监控）: the table's caption without its number, the sheet's name."""
    return f"{w.measure(ranking.measure)}排名（{w.kind(ranking.kind)}）"


def ranking_caption(number: int, ranking: Ranking) -> str:
    """表1　在线率排名（视频监控）: the rankings are the circular's first tables."""
    return f"表{number}　{ranking_name(ranking)}"


def ranked_rows(ranking: Ranking) -> tuple[RankRow, ...]:
    """The rows in rank order, ties in the record's order, the unmeasured last."""
    return tuple(sorted(ranking.rows, key=lambda r: (r.rank is None, r.rank or 0)))


def rank_cells(ranking: Ranking, row: RankRow) -> tuple[str, ...]:
    """One ranking row's cells, in ``RANKING_HEADERS`` order."""
    return (w.rank(row.rank), row.county_name, str(row.devices), w.percent(row.ratio),
            w.target(ranking.target), w.verdict(row.meets_target), w.hours(row.monitored_hours),
            w.hours(row.declared_hours))


def item_cells(c: CountyFigures) -> tuple[str, ...]:
    """One county's items and blind spots, in ``ITEM_HEADERS`` order."""
    return (c.county_name, *(str(n) for n in (
        c.items_new, c.items_fixed, c.items_open, c.items_overdue, c.items_recurring,
        c.blind_spots_found, c.blind_spots_fixed)))


def declared_cells(c: CountyFigures) -> tuple[str, ...]:
    """One county's declared outages and unwatched time, in ``DECLARED_HEADERS`` order."""
    return (c.county_name, str(c.declared_count), w.hours(c.declared_hours),
            w.hours(c.unwatched_hours))


def _met(ranking: Ranking) -> str:
    """视频监控（目标值95.00%）达标4个、未达标1个、未监测1个."""
    rows = ranking.rows
    unmeasured = sum(1 for r in rows if r.ratio is None)
    if ranking.target is None:
        text = f"{w.kind(ranking.kind)}未设目标值，{len(rows) - unmeasured}个县（区）有监测数据"
    else:
        met = sum(1 for r in rows if r.meets_target is True)
        missed = sum(1 for r in rows if r.meets_target is False)
        text = (f"{w.kind(ranking.kind)}（目标值{w.target(ranking.target)}）"
                f"达标{met}个、未达标{missed}个")
    return text + (f"、未监测{unmeasured}个" if unmeasured else "")


def _overview(record: CircularRecord) -> Section:
    paragraphs = [f"本月纳入通报的县（区）共{len(record.recipients)}个。"]
    numbered = 0
    for measure in w.MEASURE_NAMES:
        rankings = [r for r in record.rankings if r.measure == measure]
        if rankings:
            numbered += 1
            head = f"（{numeral(numbered)}）{w.measure(measure)}。"
            paragraphs.append(head + w.sentence(*(_met(r) for r in rankings)))
    return Section("总体情况", tuple(paragraphs))


def _rankings(record: CircularRecord) -> Section:
    tables = tuple(
        Table("ranking", ranking_caption(n, r), RANKING_HEADERS,
              tuple(rank_cells(r, row) for row in ranked_rows(r)))
        for n, r in enumerate(record.rankings, 1))
    span = f"表1至表{len(tables)}" if len(tables) > 1 else "表1"
    intro = ("各项指标按本月监测时长加权计算，报备停机时长不计入指标、单独列示；"
             "指标值相同的名次并列，未监测的县（区）列于表末。"
             f"各县（区）分设备类型排名情况见{span}。") if tables else "本月无排名数据。"
    return Section("排名情况", (intro,), tables)


def _items(record: CircularRecord, first_table: int) -> Section:
    c = record.counties
    total = {name: sum(getattr(x, name) for x in c) for name in (
        "items_new", "items_fixed", "items_open", "items_overdue", "items_recurring",
        "blind_spots_found", "blind_spots_fixed")}
    text = (f"本月全市新增整改事项{total['items_new']}项，整改销号{total['items_fixed']}项；"
            f"月末尚未整改{total['items_open']}项，其中逾期{total['items_overdue']}项、"
            f"整改后反复出现{total['items_recurring']}项。新发现信号盲区"
            f"{total['blind_spots_found']}处，整改销号{total['blind_spots_fixed']}处。"
            f"各县（区）情况见表{first_table}。")
    table = Table("items", f"表{first_table}　各县（区）整改及盲区情况", ITEM_HEADERS,
                  tuple(item_cells(x) for x in c))
    return Section("整改及盲区情况", (text,), (table,))


def _declared(record: CircularRecord, n: int) -> Section:
    c = record.counties
    count = sum(x.declared_count for x in c)
    hours = sum(x.declared_hours for x in c)
    if count:
        text = (f"本月各县（区）共报备停机{count}次，累计{w.hours(hours)}小时"
                "（按报备时段计）。报备停机时段已从各项指标中扣除，未监测时段不计入指标。")
    else:
        text = "本月各县（区）无停机报备。未监测时段不计入指标。"
    table = Table("declared", f"表{n}　各县（区）停机报备及未监测情况", DECLARED_HEADERS,
                  tuple(declared_cells(x) for x in c))
    return Section("停机报备情况", (text + f"各县（区）情况见表{n}。",), (table,))


def _mentions(heading: str, mentions: tuple[Mention, ...]) -> Section:
    """Each county praised or named with its reasons; a sentence saying none when none."""
    if not mentions:
        return Section(heading, (f"本月无符合{heading}条件的县（区）。",))
    lines = [f"根据评定规则，对以下{len(mentions)}个县（区）予以{heading}："]
    lines += [f"（{numeral(n)}）{m.county_name}" + (f"：{w.sentence(*m.reasons)}" if m.reasons
                                                   else "。")
              for n, m in enumerate(mentions, 1)]
    return Section(heading, tuple(lines))


def document(record: CircularRecord) -> Document:
    """The circular's parts in GB/T 9704 order (see the module docstring)."""
    numbered_tables = len(record.rankings)
    sections = [
        _overview(record), _rankings(record), _items(record, numbered_tables + 1),
        _declared(record, numbered_tables + 2),
        _mentions("通报表扬", record.praised),
        _mentions("通报批评", record.criticised),
        Section("有关要求", tuple(p.format(unit=record.issuing_unit) for p in REQUIREMENTS)),
        Section("评定规则", (f"（一）通报表扬：{w.sentence(record.praise_rule)}",
                         f"（二）通报批评：{w.sentence(record.criticism_rule)}")),
    ]
    day = w.date(record.issue_date)
    units = "、".join(r.receiving_unit for r in record.recipients)
    return Document(
        banner=w.DEMONSTRATION if record.demonstration else "",
        organ=record.header or record.issuing_unit, number=record.number,
        title=title(record), to=f"{units}：",
        opening=(f"为全面掌握全市公安视频监控及通信网络运行状况，进一步压实运行维护责任，"
                 f"根据{record.city}公安技术监测平台{w.date(record.period_start)}至"
                 f"{w.last_day(record.period_end)}的监测数据，现将{w.month(record.month)}份"
                 f"{w.SUBJECT}通报如下："),
        sections=tuple(Section(f"{numeral(n)}、{s.heading}", s.paragraphs, s.tables)
                       for n, s in enumerate(sections, 1)),
        signature=record.issuing_unit, date=day,
        contact=f"（联系人：{record.contact}）" if record.contact else "",
        cc=f"抄送：{record.cc}。" if record.cc else "",
        printed=f"{record.issuing_unit}　　{day}印发",
    )


def render_html(record: CircularRecord) -> str:
    """The printable A4 document, all untrusted text escaped by the template."""
    return _ENV.get_template("circular.html.j2").render(d=document(record))
