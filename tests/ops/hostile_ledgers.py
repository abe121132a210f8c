"""Ledger files written by hand, hostile ones included, for the tests and bench/bench_ledger.py.

An .xlsx is a zip of a few XML parts; writing them directly (zipfile, no
spreadsheet library) makes files that no spreadsheet would save but a sender
could: one merged range over a whole sheet, a million rows, a member that
inflates to gigabytes or that declares a size it does not have.
"""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Iterable
from pathlib import Path
from xml.sax.saxutils import escape

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
ROOT_RELS = (f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/officeDocument"'
             ' Target="xl/workbook.xml"/></Relationships>')
WORKBOOK = (f'<workbook xmlns="{NS}" xmlns:r="{REL}"><sheets>'
            '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
WORKBOOK_RELS = (f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/worksheet"'
                 ' Target="worksheets/sheet1.xml"/><Relationship Id="rId2"'
                 f' Type="{REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
HEADER = ("设备编号", "IP地址", "设备类型")


def cell(ref: str, value: object) -> str:
    if isinstance(value, int | float):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


def row(number: int, values: Iterable[object]) -> str:
    cells = "".join(cell(f"{chr(65 + i)}{number}", v) for i, v in enumerate(values))
    return f'<row r="{number}">{cells}</row>'


def sheet(rows: Iterable[str], tail: str = "", head: str = "") -> Iterable[bytes]:
    """The worksheet XML in pieces: ``head`` before ``<worksheet>``, ``tail`` after the data."""
    yield f'{head}<worksheet xmlns="{NS}"><sheetData>'.encode()
    for text in rows:
        yield text.encode()
    yield f"</sheetData>{tail}</worksheet>".encode()


def usual_rows() -> list[str]:
    return [row(1, HEADER), row(2, ("cam-1", "127.62.0.1", "球机"))]


def write_xlsx(path: Path, sheet_xml: Iterable[bytes], strings: str | None = None,
               extra: dict[str, bytes] | None = None) -> Path:
    """An .xlsx whose first sheet is ``sheet_xml`` (streamed into the zip, deflated)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("[Content_Types].xml", CONTENT_TYPES)
        book.writestr("_rels/.rels", ROOT_RELS)
        book.writestr("xl/workbook.xml", WORKBOOK)
        book.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        if strings is not None:
            book.writestr("xl/sharedStrings.xml", strings)
        with book.open("xl/worksheets/sheet1.xml", "w") as out:
            for piece in sheet_xml:
                out.write(piece)
        for name, data in (extra or {}).items():
            book.writestr(name, data)
    return path


def merged_over_the_sheet(path: Path) -> Path:
    """The audit's 1.8 KB file: one merged range from A5 to the sheet's last cell."""
    return write_xlsx(path, sheet(usual_rows(), '<mergeCells count="1">'
                                                '<mergeCell ref="A5:XFD1048576"/></mergeCells>'))


def many_rows(path: Path, n: int) -> Path:
    """A header and ``n`` device rows."""
    def rows() -> Iterable[str]:
        yield row(1, HEADER)
        for i in range(n):
            yield row(i + 2, (f"cam-{i}", f"127.62.{i // 256 % 256}.{i % 256}", "球机"))
    return write_xlsx(path, sheet(rows()))


def zip_bomb(path: Path, size: int, chunk: int = 64 * 1024 * 1024) -> Path:
    """A sheet of ``size`` bytes of spaces, honestly declared: a few MB of deflate."""
    def pieces() -> Iterable[bytes]:
        yield from sheet(usual_rows())
        left = size
        blank = b" " * min(chunk, size)
        while left > 0:
            yield blank[:left]
            left -= len(blank)
    return write_xlsx(path, pieces())


def declare_size(path: Path, member: str, size: int) -> Path:
    """Make the zip say ``member`` unpacks to ``size`` bytes (both headers), data unchanged."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    at = 0
    while (at := data.find(b"PK\x01\x02", at)) >= 0:  # central directory entries
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46:at + 46 + name_len]) == name:
            struct.pack_into("<L", data, at + 24, size)
            local = struct.unpack_from("<L", data, at + 42)[0]
            struct.pack_into("<L", data, local + 22, size)
        at += 4
    path.write_bytes(bytes(data))
    return path
