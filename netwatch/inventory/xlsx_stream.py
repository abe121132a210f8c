"""A bounded, streaming reader of .xlsx cells: the parts a ledger needs and nothing more.

openpyxl, even read-only, keeps every row element it has parsed attached to its
tree, parses each sheet to the end to size it when the sheet names no dimension,
and reads merged ranges only when it loads the whole sheet into memory: a few
kilobytes of hostile XML then cost gigabytes. This reader feeds expat in chunks
with callbacks (no tree), refuses a DTD (no entity tricks), holds one row at a
time and enforces ``Caps`` as it goes. It reads the workbook's sheet list, the
shared strings (rich-text runs joined, phonetic guides left out) and a sheet's
cells as values: text, numbers (``int`` or ``float`` as written), booleans; a
formula gives its cached value. Merged ranges come from a first pass over the
sheet's raw XML (they are written after the cells), which also counts the rows.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any
from xml.parsers import expat

CHUNK = 64 * 1024
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")  # how OOXML writes characters XML cannot hold
_REF = re.compile(r"([A-Za-z]{1,3})([0-9]{1,7})")
_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")
_MERGE_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?mergeCell\s[^>]*?\bref\s*=\s*[\"']"
                        rb"([A-Za-z]{1,3}[0-9]{1,7})(?::([A-Za-z]{1,3}[0-9]{1,7}))?[\"']")
_TAG_MAX = 4096  # a mergeCell or row tag is far shorter: what a chunk boundary may cut


class SheetError(Exception):
    """The workbook is refused or unreadable; the message says why (no path in it)."""


@dataclass(frozen=True, slots=True)
class Caps:
    """What one sheet may hold before it is refused rather than read."""

    rows: int = 100_000
    columns: int = 256
    merged_cells: int = 1_000_000  # all merged ranges together, clipped to rows x columns
    merges: int = 100_000
    cell_chars: int = 32_767  # Excel's own limit for one cell
    strings: int = 2_000_000  # entries of the shared string table


@dataclass(frozen=True, slots=True)
class Merge:
    min_row: int
    min_col: int
    max_row: int
    max_col: int
    ref: str


def column_number(letters: str) -> int:
    """``A`` → 1, ``XFD`` → 16384."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def _local(name: str) -> str:
    return name.rsplit(" ", 1)[-1]


def _unescape(text: str) -> str:
    return _ESCAPE.sub(lambda m: chr(int(m[1], 16)), text) if "_x" in text else text


def _no_dtd(*_: Any) -> None:
    raise SheetError("the workbook's XML declares a DTD, which no spreadsheet writes: refused")


def _parser(start: Callable[[str, dict[str, str]], None], end: Callable[[str], None],
            text: Callable[[str], None] | None) -> Any:
    """An expat parser with these callbacks that refuses a DTD."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartDoctypeDeclHandler = _no_dtd
    parser.EntityDeclHandler = _no_dtd
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    if text is not None:
        parser.CharacterDataHandler = text
        parser.buffer_text = True
    return parser


def _feed(parser: Any, chunk: bytes) -> None:
    """One chunk (the empty chunk ends the document)."""
    try:
        parser.Parse(chunk, not chunk)
    except expat.ExpatError as exc:
        raise SheetError(f"broken XML in the workbook: {exc}") from None


def _parse(src: IO[bytes], start: Callable[[str, dict[str, str]], None],
           end: Callable[[str], None], text: Callable[[str], None] | None) -> None:
    """Feed all of ``src`` to a new parser, chunk by chunk."""
    parser = _parser(start, end, text)
    while chunk := src.read(CHUNK):
        _feed(parser, chunk)
    _feed(parser, b"")


def _part_path(base: str, target: str) -> str:
    """A relationship's target as a zip member name."""
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), target))


def _relationships(book: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Id → (type, member) of a part's ``_rels``."""
    rels_path = posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")
    found: dict[str, tuple[str, str]] = {}

    def start(name: str, attrs: dict[str, str]) -> None:
        if _local(name) == "Relationship" and "Id" in attrs and "Target" in attrs:
            if attrs.get("TargetMode") != "External":
                found[attrs["Id"]] = (attrs.get("Type", ""), _part_path(part, attrs["Target"]))

    try:
        with book.open(rels_path) as src:
            _parse(src, start, lambda _: None, None)
    except KeyError:
        return {}
    return found


def workbook_sheets(book: zipfile.ZipFile) -> tuple[list[tuple[str, str]], str | None]:
    """([(sheet name, member)] of the worksheets in order, the shared strings member)."""
    main = next((member for kind, member in _relationships(book, "").values()
                 if kind.endswith("/officeDocument")), "xl/workbook.xml")
    rels = _relationships(book, main)
    listed: list[tuple[str, str]] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        if _local(name) == "sheet":
            listed.append((attrs.get("name", ""), attrs.get(f"{_REL} id", "")))

    try:
        with book.open(main) as src:
            _parse(src, start, lambda _: None, None)
    except KeyError:
        raise SheetError("no workbook part: not an .xlsx workbook") from None
    sheets = [(name, rels[rid][1]) for name, rid in listed
              if rid in rels and rels[rid][0].endswith("/worksheet")]
    strings = next((member for kind, member in rels.values()
                    if kind.endswith("/sharedStrings")), None)
    return sheets, strings


def shared_strings(src: IO[bytes], caps: Caps) -> list[str]:
    """The shared string table: each entry's text, phonetic guides (``rPh``) left out."""
    strings: list[str] = []
    parts: list[str] = []
    size = 0
    depth_rph = 0
    in_t = False

    def start(name: str, _: dict[str, str]) -> None:
        nonlocal depth_rph, in_t, size
        tag = _local(name)
        if tag == "si":
            parts.clear()
            size = 0
        elif tag == "rPh":
            depth_rph += 1
        elif tag == "t" and not depth_rph:
            in_t = True

    def end(name: str) -> None:
        nonlocal depth_rph, in_t
        tag = _local(name)
        if tag == "si":
            if len(strings) >= caps.strings:
                raise SheetError(f"more than {caps.strings:,} shared strings: refused")
            strings.append(_unescape("".join(parts)))
        elif tag == "rPh":
            depth_rph -= 1
        elif tag == "t":
            in_t = False

    def text(data: str) -> None:
        nonlocal size
        if in_t:
            size += len(data)
            if size > caps.cell_chars:
                raise SheetError(f"a shared string of more than {caps.cell_chars:,} characters"
                                 " (Excel's limit for a cell): refused")
            parts.append(data)

    _parse(src, start, end, text)
    return strings


def prescan(src: IO[bytes], caps: Caps) -> list[Merge]:
    """The sheet's merged ranges, from its raw XML; refuses too many rows or merged cells.

    Text in XML cannot hold a raw ``<``, so a ``<row`` or ``<mergeCell`` in the bytes
    is markup; a chunk is scanned up to its last ``<`` and the rest carried over.
    """
    merges: list[Merge] = []
    rows = area = 0
    carry = b""
    while True:
        chunk = src.read(CHUNK)
        buffer = carry + chunk
        cut = len(buffer) if not chunk else max(buffer.rfind(b"<"), len(buffer) - _TAG_MAX, 0)
        piece, carry = buffer[:cut], buffer[cut:]
        rows += len(_ROW_TAG.findall(piece))
        if rows > caps.rows:
            raise SheetError(f"more than {caps.rows:,} rows: refused (a ledger has far fewer;"
                             " delete the empty rows below it and save again)")
        for m in _MERGE_TAG.finditer(piece):
            merge = _merge(m[1].decode(), (m[2] or m[1]).decode())
            rows_in = min(merge.max_row, caps.rows) - merge.min_row + 1
            cols_in = min(merge.max_col, caps.columns) - merge.min_col + 1
            area += max(rows_in, 0) * max(cols_in, 0)
            if area > caps.merged_cells:
                raise SheetError(f"merged range {merge.ref} takes the merged cells past"
                                 f" {caps.merged_cells:,}: refused (unmerge it and save again)")
            merges.append(merge)
            if len(merges) > caps.merges:
                raise SheetError(f"more than {caps.merges:,} merged ranges: refused")
        if not chunk:
            return merges


def _merge(first: str, last: str) -> Merge:
    a, b = _REF.fullmatch(first), _REF.fullmatch(last)
    assert a is not None and b is not None  # the pattern matched them
    r1, c1, r2, c2 = int(a[2]), column_number(a[1]), int(b[2]), column_number(b[1])
    ref = f"{first}:{last}" if first != last else first
    return Merge(min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2), ref)


class _Cells:
    """Expat callbacks that turn ``<row>``/``<c>`` elements into finished rows."""

    def __init__(self, strings: list[str], caps: Caps) -> None:
        self.strings = strings
        self.caps = caps
        self.done: list[tuple[int, dict[int, Any]]] = []
        self.row_number = 0
        self.row: dict[int, Any] | None = None
        self.col = 0
        self.kind = "n"
        self.parts: list[str] = []
        self.size = 0
        self.capture = False
        self.depth_rph = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        tag = _local(name)
        if tag == "c" and self.row is not None:
            ref = attrs.get("r")
            m = _REF.fullmatch(ref) if ref else None
            self.col = column_number(m[1]) if m else self.col + 1
            if self.col > self.caps.columns:
                raise SheetError(f"cell {ref or self.col} is beyond column"
                                 f" {self.caps.columns:,}: refused (delete the empty columns"
                                 " to the right of the ledger and save again)")
            self.kind = attrs.get("t", "n")
            self.parts.clear()
            self.size = 0
        elif tag in ("v", "t") and self.row is not None and not self.depth_rph:
            self.capture = True
        elif tag == "rPh":
            self.depth_rph += 1
        elif tag == "row":
            ref = attrs.get("r", "")
            self.row_number = int(ref) if ref.isdigit() else self.row_number + 1
            if self.row_number > self.caps.rows:
                raise SheetError(f"row {self.row_number:,} is beyond row {self.caps.rows:,}:"
                                 " refused (delete the empty rows below the ledger and save"
                                 " again)")
            self.row, self.col = {}, 0

    def end(self, name: str) -> None:
        tag = _local(name)
        if tag in ("v", "t"):
            self.capture = False
        elif tag == "rPh":
            self.depth_rph -= 1
        elif tag == "c" and self.row is not None:
            value = self.value("".join(self.parts))
            if value is not None and value != "":
                self.row[self.col] = value
        elif tag == "row" and self.row is not None:
            if self.row:
                self.done.append((self.row_number, self.row))
            self.row = None

    def text(self, data: str) -> None:
        if self.capture:
            self.size += len(data)
            if self.size > self.caps.cell_chars:
                raise SheetError(f"a cell in row {self.row_number:,} holds more than"
                                 f" {self.caps.cell_chars:,} characters (Excel's limit):"
                                 " refused")
            self.parts.append(data)

    def value(self, raw: str) -> Any:
        kind = self.kind
        if kind == "s":
            try:
                return self.strings[int(raw)]
            except (ValueError, IndexError):
                raise SheetError(f"a cell in row {self.row_number:,} names shared string"
                                 f" {raw!r}, which the workbook does not have") from None
        if kind in ("inlineStr", "str", "e"):
            return _unescape(raw)
        if not raw:
            return None
        if kind == "b":
            return raw.strip() in ("1", "true")
        if kind == "d":
            return raw
        try:
            return int(raw) if raw.lstrip("-").isdigit() else float(raw)
        except ValueError:
            return raw


def sheet_rows(src: IO[bytes], strings: list[str], merges: list[Merge],
               caps: Caps) -> Iterator[tuple[int, list[Any]]]:
    """(row number, values) of each row with a value of its own, merged cells filled.

    A merged range's cells take its top-left value; a row that only a merge reaches
    (nothing typed in it) is not a row.
    """
    cells = _Cells(strings, caps)
    pending = sorted(merges, key=lambda m: m.min_row)
    next_merge = 0
    active: list[Merge] = []
    top: dict[Merge, Any] = {}
    parser = _parser(cells.start, cells.end, cells.text)
    chunk = b"."
    while chunk:
        chunk = src.read(CHUNK)
        _feed(parser, chunk)
        for number, row in cells.done:
            while next_merge < len(pending) and pending[next_merge].min_row <= number:
                active.append(pending[next_merge])
                next_merge += 1
            active = [m for m in active if m.max_row >= number]
            for merge in active:
                if merge.min_row == number:
                    top[merge] = row.get(merge.min_col)
                value = top.get(merge)
                if value is None:
                    continue
                for col in range(merge.min_col, min(merge.max_col, caps.columns) + 1):
                    row[col] = value
            width = max(row)
            values: list[Any] = [None] * width
            for col, value in row.items():
                values[col - 1] = value
            yield number, values
        cells.done.clear()
