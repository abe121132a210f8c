"""Where the web app serves a notice in each format: the API names them, webhooks carry them."""

from __future__ import annotations

import json

# format → media type; each is served at /notices/{id}.{format} (?lang=en for English)
MEDIA = {
    "html": "text/html",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "md": "text/markdown",
}
LANGS = ("zh", "en")


def notice_links(notice_id: int, base: str = "") -> dict[str, dict[str, str]]:
    """Per language, per format, the URL (``base`` + path; a path alone without one)."""
    out: dict[str, dict[str, str]] = {}
    for lang in LANGS:
        query = "" if lang == "zh" else "?lang=en"
        out[lang] = {fmt: f"{base}/notices/{notice_id}.{fmt}{query}" for fmt in MEDIA}
    return out


def with_links(record_json: str, notice_id: int, base: str = "") -> str:
    """The record's JSON with a ``formats`` key naming its renderings (same key order rules)."""
    data = json.loads(record_json)
    data["formats"] = notice_links(notice_id, base)
    return json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1)
