"""Opening a device ledger without trusting it: sizes are checked before anything is read.

A ledger is a file somebody sent. A 2 KB .xlsx can declare one merged range over
a whole sheet, 2 MB of zip can inflate to gigabytes, a workbook can hold a million
rows. ``ledger_rows`` first checks what the file says of itself: its size and, for
an .xlsx, the zip's directory (how many members, and the size each declares,
which Python's zipfile never lets a member exceed while inflating). Then it
streams the sheet (``xlsx_stream``) or the CSV row by row under the caps of
``CAPS``. Each refusal is a ``LedgerError`` naming the file, the cap and what to
do, raised before any large amount of work or memory is spent.
"""

from __future__ import annotations

import csv
import os
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from netwatch.inventory.files import FileRefused, mib, read_capped
from netwatch.inventory.xlsx_stream import (
    Caps,
    SheetError,
    prescan,
    shared_strings,
    sheet_rows,
    workbook_sheets,
)

MAX_FILE_BYTES = 32 * 1024 * 1024  # the ledger file as it is on disk
MAX_MEMBERS = 1_000  # zip members of an .xlsx (a ledger has some ten)
MAX_DIRECTORY_BYTES = 1024 * 1024  # the zip's central directory, read before any member
MAX_UNPACKED_BYTES = 256 * 1024 * 1024  # all members together, as the zip declares them
MAX_SHEET_BYTES = 64 * 1024 * 1024  # the sheet read, unpacked (streamed)
MAX_PART_BYTES = 16 * 1024 * 1024  # shared strings, workbook, relationships (parsed whole)
CAPS = Caps()
XLSX_SUFFIXES = (".xlsx", ".xlsm")
SAVE_AS_XLSX = ("open it in Excel or WPS and save it as an .xlsx workbook (Excel 工作簿),"
                " or as CSV")

Rows = Iterator[tuple[int, list[Any]]]


class LedgerError(Exception):
    """The ledger or its mapping cannot be read at all (not a per-row problem)."""


@contextmanager
def ledger_rows(path: Path, sheet: str | None) -> Iterator[tuple[str, Rows]]:
    """(sheet name, rows) of the ledger: each row with a value, numbered as shown.

    Values are as the file holds them (text, numbers, booleans); merged cells take
    their range's top-left value. A CSV has no sheet name ("").
    """
    suffix = path.suffix.lower()
    if suffix == ".csv":
        yield "", _csv_rows(path)
        return
    if suffix in (".xls", ".et"):
        raise LedgerError(f"{path}: an Excel 97-2003 ({suffix}) file cannot be read: "
                          f"{SAVE_AS_XLSX}")
    if suffix not in XLSX_SUFFIXES:
        raise LedgerError(f"{path}: expected an .xlsx or .csv ledger")
    with _open_regular(path) as f:
        yield _xlsx_rows(path, f, sheet)


@contextmanager
def _open_regular(path: Path) -> Iterator[IO[bytes]]:
    """The file opened for reading if it is a regular file within MAX_FILE_BYTES."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise LedgerError(f"{path}: cannot open: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise LedgerError(f"{path}: not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise LedgerError(f"{path}: the file is {mib(info.st_size)}, over the"
                              f" {mib(MAX_FILE_BYTES)} limit for a ledger (save it without"
                              " pictures, or as CSV)")
        yield f


def _xlsx_rows(path: Path, f: IO[bytes], sheet: str | None) -> tuple[str, Rows]:
    magic = f.read(8)
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise LedgerError(f"{path}: this is an Excel 97-2003 (.xls) file or a workbook"
                          f" protected by a password, not an .xlsx: {SAVE_AS_XLSX}")
    if not magic.startswith(b"PK"):
        raise LedgerError(f"{path}: not an .xlsx workbook (not a zip file)")
    _check_directory(path, f)
    where = ""
    try:
        book = zipfile.ZipFile(f)
        _check_members(path, book.infolist())
        sheets, strings_part = workbook_sheets(book)
        if not sheets:
            raise LedgerError(f"{path}: the workbook has no worksheet")
        names = [name for name, _ in sheets]
        if sheet is not None and sheet not in names:
            shown = ", ".join(names[:20]) + (", …" if len(names) > 20 else "")
            raise LedgerError(f"{path}: no sheet {sheet!r} (sheets: {shown})")
        name, part = sheets[names.index(sheet) if sheet is not None else 0]
        where = f"sheet {name}: "
        info = book.getinfo(part)
        if info.file_size > MAX_SHEET_BYTES:
            raise LedgerError(f"{path}: sheet {name} unpacks to {mib(info.file_size)}, over"
                              f" the {mib(MAX_SHEET_BYTES)} limit for a ledger sheet: refused")
        with book.open(part) as src:
            merges = prescan(src, CAPS)
        strings: list[str] = []
        if strings_part is not None and strings_part in book.NameToInfo:
            with book.open(strings_part) as src:
                strings = shared_strings(src, CAPS)
    except SheetError as exc:
        raise LedgerError(f"{path}: {where}{exc}") from None
    except KeyError as exc:
        raise LedgerError(f"{path}: the workbook lacks its part {exc}") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError,
            RuntimeError, ValueError) as exc:
        raise LedgerError(f"{path}: cannot read as an .xlsx workbook: {exc}") from None
    return name, _streamed(path, name, book, part, strings, merges)


def _streamed(path: Path, name: str, book: zipfile.ZipFile, part: str, strings: list[str],
              merges: list[Any]) -> Rows:
    """The sheet's rows; an error on the way is a LedgerError like any other."""
    try:
        with book.open(part) as src:
            yield from sheet_rows(src, strings, merges, CAPS)
    except SheetError as exc:
        raise LedgerError(f"{path}: sheet {name}: {exc}") from None
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise LedgerError(f"{path}: cannot read as an .xlsx workbook: {exc}") from None


def _check_directory(path: Path, f: IO[bytes]) -> None:
    """The zip's end record read by hand, before zipfile reads the whole directory."""
    size = f.seek(0, os.SEEK_END)
    tail_size = min(size, 22 + 65535)  # the end record, then at most a 64 KiB comment
    f.seek(size - tail_size)
    tail = f.read(tail_size)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        raise LedgerError(f"{path}: not an .xlsx workbook (no zip directory)")
    _, _, _, _, entries, directory, _, _ = struct.unpack("<4s4H2LH", tail[at:at + 22])
    if at >= 20 and tail[at - 20:at - 16] == b"PK\x06\x07" or directory == 0xFFFFFFFF:
        raise LedgerError(f"{path}: a zip64 archive, which no ledger-sized workbook needs:"
                          " refused")
    if entries > MAX_MEMBERS or directory > MAX_DIRECTORY_BYTES:
        raise LedgerError(f"{path}: the zip lists {entries:,} members in {mib(directory)}"
                          f" (an .xlsx has some ten; at most {MAX_MEMBERS:,}): refused")
    f.seek(0)


def _check_members(path: Path, members: list[zipfile.ZipInfo]) -> None:
    """Declared sizes: all together, and each part that is parsed whole."""
    if len(members) > MAX_MEMBERS:
        raise LedgerError(f"{path}: the zip has {len(members):,} members (at most"
                          f" {MAX_MEMBERS:,}): refused")
    total = sum(m.file_size for m in members)
    if total > MAX_UNPACKED_BYTES:
        biggest = max(members, key=lambda m: m.file_size)
        raise LedgerError(f"{path}: the workbook unpacks to {mib(total)}, over the"
                          f" {mib(MAX_UNPACKED_BYTES)} limit for a ledger ({biggest.filename}"
                          f" alone declares {mib(biggest.file_size)}; a zip bomb?): refused")
    for m in members:
        parsed_whole = (m.filename.endswith((".xml", ".rels"))
                        and not m.filename.startswith("xl/worksheets/"))
        if parsed_whole and m.file_size > MAX_PART_BYTES:
            raise LedgerError(f"{path}: {m.filename} unpacks to {mib(m.file_size)}, over the"
                              f" {mib(MAX_PART_BYTES)} limit for one part of a ledger: refused")


def _csv_rows(path: Path) -> Rows:
    """The CSV's records (UTF-8, else GB18030), numbered from 1, under the same caps."""
    try:
        raw = read_capped(path, MAX_FILE_BYTES)
    except FileRefused as exc:
        raise LedgerError(f"{path}: {exc}") from None
    except OSError as exc:
        raise LedgerError(f"{path}: cannot read: {exc.strerror or exc}") from None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise LedgerError(f"{path}: neither UTF-8 nor GB18030 text")
    del raw
    return _csv_records(path, text)


def _csv_records(path: Path, text: str) -> Rows:
    reader = csv.reader(_lines(text))
    number = 0
    try:
        for number, row in enumerate(reader, start=1):
            if number > CAPS.rows:
                raise LedgerError(f"{path}: more than {CAPS.rows:,} rows: refused")
            if len(row) > CAPS.columns:
                raise LedgerError(f"{path}:R{number}: {len(row):,} columns, more than"
                                  f" {CAPS.columns:,}: refused")
            if any(cell.strip() for cell in row):
                yield number, row
    except csv.Error as exc:
        raise LedgerError(f"{path}:R{number + 1}: not CSV: {exc}") from None


def _lines(text: str) -> Iterator[str]:
    """The text's lines with their endings, without copying it whole (csv joins quoted ones)."""
    start, end = 0, len(text)
    while start < end:
        stop = text.find("\n", start)
        stop = end if stop < 0 else stop + 1
        yield text[start:stop]
        start = stop

