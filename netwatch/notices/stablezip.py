"""Office files (DOCX, XLSX are ZIP packages) made byte-for-byte repeatable.

python-docx and openpyxl stamp each ZIP entry and the package's core properties
with the time of writing, so the same notice would give different bytes on each
run, and a notice's files are written once and compared when written again.
``stable`` rewrites the package with every entry dated at the notice's issue time,
in the same order, and the core properties' dates set to it too.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime

_STAMP = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def stable(data: bytes, when: datetime) -> bytes:
    """The package with fixed entry times and core-property dates (``when``, UTC)."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = _STAMP.sub(rb"\g<1>" + stamp + rb"\g<3>", body)
            entry = zipfile.ZipInfo(info.filename, date_time=when.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            dst.writestr(entry, body)
    return out.getvalue()
