"""What the delivery outbox sends for a circular: the e-mail and the webhook's body.

The mail is short text (to whom, what was issued, whom it praises and names) with the
PDF (the formal text) and the XLSX (the ranking tables) attached. The webhook body is
the record as ``CircularRecord.to_json()`` writes it plus ``document: "circular"`` (a
receiver of notices too tells them apart) and ``formats``: the URL (or path) of each
rendering, as the web app serves them. ``OUTBOX`` hands both, with the records, to the
notices' outbox, which queues and retries a circular's deliveries like a notice's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from netwatch.circulars.files import stem
from netwatch.circulars.pdf import render_pdf
from netwatch.circulars.record import CircularRecord, Mention
from netwatch.circulars.register import circular_records
from netwatch.circulars.render import document
from netwatch.circulars.xlsx_file import render_xlsx
from netwatch.notices import CircularPost

XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
FORMATS = ("html", "pdf", "docx", "xlsx", "json")  # served at /circulars/{id}.{format}


def subject(record: CircularRecord) -> str:
    """The number and the title (a demonstration's banner first)."""
    d = document(record)
    return (f"【{d.banner}】" if d.banner else "") + f"{d.number} {d.title}"


def _names(mentions: Sequence[Mention]) -> str:
    return "、".join(m.county_name for m in mentions) or "无"


def circular_message(record: CircularRecord, sender: str, recipients: Sequence[str], *,
                     pdf: bytes | None = None, xlsx: bytes | None = None) -> EmailMessage:
    """The circular as a UTF-8 mail, PDF and XLSX attached (rendered unless given: pass the
    written files' bytes to save a layout)."""
    d = document(record)
    msg = EmailMessage()
    msg["Subject"] = subject(record)
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=False)
    domain = parseaddr(sender)[1].rpartition("@")[2]
    # an explicit domain: make_msgid would otherwise look up this host's name (DNS traffic)
    msg["Message-ID"] = make_msgid("circular", domain=domain or "netwatch.invalid")
    lines = [d.banner, ""] if d.banner else []
    lines += [
        d.to, "",
        f"　　现将《{d.title}》（{d.number}）印发给你们，正式文本见附件PDF，"
        "各项排名见附件XLSX。",
        f"　　本月通报表扬：{_names(record.praised)}；通报批评：{_names(record.criticised)}。",
        "", d.signature, d.date,
    ]
    msg.set_content("\n".join(lines) + "\n", charset="utf-8")
    base = stem(record)
    msg.add_attachment(render_pdf(record) if pdf is None else pdf, maintype="application",
                       subtype="pdf", filename=f"{base}.pdf")
    msg.add_attachment(render_xlsx(record) if xlsx is None else xlsx, maintype=XLSX[0],
                       subtype=XLSX[1], filename=f"{base}.xlsx")
    return msg


def circular_webhook_body(record: CircularRecord, links: Mapping[str, str]) -> bytes:
    """The webhook's JSON body: the record, ``document``, and ``formats`` (format → URL)."""
    data = json.loads(record.to_json())
    data["document"] = "circular"
    data["formats"] = dict(links)
    return json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1).encode()


def links(circular_id: int, public_url: str) -> dict[str, str]:
    """Where the web app serves each rendering (a path without a public URL)."""
    return {fmt: f"{public_url.rstrip('/')}/circulars/{circular_id}.{fmt}" for fmt in FORMATS}


def _message(text: str, sender: str, recipients: Sequence[str]) -> EmailMessage:
    return circular_message(CircularRecord.from_json(text), sender, recipients)


def _webhook_body(text: str, circular_id: int, public_url: str) -> bytes:
    return circular_webhook_body(CircularRecord.from_json(text), links(circular_id, public_url))


OUTBOX = CircularPost(records=circular_records, message=_message, webhook_body=_webhook_body)
