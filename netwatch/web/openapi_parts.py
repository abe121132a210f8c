"""Building blocks of the OpenAPI document, shared by ``openapi`` and the route modules.

Each route module that adds endpoints describes them beside its handlers as
``OPENAPI_PATHS`` (and ``OPENAPI_SCHEMAS``); ``netwatch.web.openapi`` merges them.
"""

from __future__ import annotations

from typing import Any

from netwatch.inventory import KINDS

BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
STAMP = {"type": ["string", "null"], "format": "date-time"}
UNIX = {"type": ["number", "null"], "description": "Unix time in seconds"}


def query(name: str, description: str, schema: dict[str, Any],
          repeat: bool = False) -> dict[str, Any]:
    if repeat:
        schema = {"type": "array", "items": schema}
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema, **({"style": "form", "explode": True} if repeat else {})}


def stamps(*names: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in names:
        out[name] = STAMP
        out[f"{name}_unix"] = UNIX
    return out


def json_body(ref: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


def errors(*codes: int) -> dict[str, Any]:
    words = {400: "bad request (the detail names each problem)", 401: "no valid bearer token",
             403: "outside the token's scope or role", 404: "no such resource",
             409: "conflicts with what is stored", 413: "body or row count over the limit",
             422: "inventory refused", 429: "too many failed attempts (see Retry-After)",
             503: "not available now: this daemon runs without a store, or the store is away "
                  "(see Retry-After; nothing was done)"}
    return {str(c): {"description": words[c], **json_body("Error")} for c in codes}


COUNTY = query("county", "Only these counties (repeatable); a county token may name "
                "only its own. An empty value is refused (400, or 403 for a county token).",
               {"type": "string", "minLength": 1}, repeat=True)
KIND = query("kind", "Device kind.", {"type": "string", "enum": list(KINDS)})
TEXT = {"description": "plain text", "content": {"text/plain": {"schema": {"type": "string"}}}}

