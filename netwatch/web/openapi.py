"""The OpenAPI 3 description of the HTTP endpoints that exist, served at /api/v1/openapi.json.

Kept by hand beside the handlers; a test checks that every route of the app is
described here and that nothing described is missing from the app.
"""

from __future__ import annotations

from typing import Any

from netwatch.model import KINDS
from netwatch.state import FAULT_KINDS
from netwatch.web.api import DEVICE_STATES, DEVICES_LIMIT, FAULT_STATES, FAULTS_LIMIT

BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
STAMP = {"type": ["string", "null"], "format": "date-time"}
UNIX = {"type": ["number", "null"], "description": "Unix time in seconds"}


def _query(name: str, description: str, schema: dict[str, Any],
           repeat: bool = False) -> dict[str, Any]:
    if repeat:
        schema = {"type": "array", "items": schema}
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema, **({"style": "form", "explode": True} if repeat else {})}


def _stamps(*names: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in names:
        out[name] = STAMP
        out[f"{name}_unix"] = UNIX
    return out


def _json(ref: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


def _errors(*codes: int) -> dict[str, Any]:
    words = {400: "bad query parameter", 401: "no valid bearer token",
             403: "outside the token's scope or role", 422: "inventory refused",
             429: "too many failed attempts (see Retry-After)"}
    return {str(c): {"description": words[c], **_json("Error")} for c in codes}


COUNTY = _query("county", "Only these counties (repeatable); a county token may name "
                "only its own.", {"type": "string"}, repeat=True)
KIND = _query("kind", "Device kind.", {"type": "string", "enum": list(KINDS)})
TEXT = {"description": "plain text", "content": {"text/plain": {"schema": {"type": "string"}}}}

SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error"],
              "properties": {"error": {"type": "string"}, "detail": {}}},
    "Check": {"type": "object", "properties": {
        "probe": {"type": "string"}, "port": {"type": ["integer", "null"]},
        "success": {"type": ["boolean", "null"]}, "reason": {"type": ["string", "null"]},
        "detail": {"type": ["string", "null"]},
        "duration_seconds": {"type": ["number", "null"]},
        "measurements": {"type": "object", "additionalProperties": {"type": "number"}}}},
    "DeviceFault": {"type": "object", "properties": {
        "fault": {"type": "string", "enum": list(FAULT_KINDS)},
        "suppressed_by": {"type": ["string", "null"]}, "detail": {"type": "string"},
        **_stamps("first_seen", "opened_at")}},
    "Device": {"type": "object", "properties": {
        "id": {"type": "string"}, "name": {"type": "string"}, "county": {"type": "string"},
        "kind": {"type": "string", "enum": list(KINDS)}, "address": {"type": "string"},
        "site": {"type": "string"}, "lat": {"type": ["number", "null"]},
        "lon": {"type": ["number", "null"]}, "parent": {"type": ["string", "null"]},
        "key_area": {"type": "boolean"},
        "state": {"type": "string", "enum": list(DEVICE_STATES)},
        "up": {"type": ["boolean", "null"], "description": "latest cycle, before hysteresis"},
        **_stamps("checked_at", "last_up_at"),
        "fault": {"type": ["string", "null"], "description": "what the latest cycle points to"},
        "reasons": {"type": "array", "items": {"type": "string"}},
        "findings": {"type": "array", "items": {"type": "string"}},
        "open_faults": {"type": "array", "items": {"$ref": "#/components/schemas/DeviceFault"}},
        "suppressed_children": {"type": "integer"},
        "checks": {"type": "object",
                   "additionalProperties": {"$ref": "#/components/schemas/Check"}}}},
    "DevicePage": {"type": "object", "properties": {
        "total": {"type": "integer"}, "offset": {"type": "integer"},
        "limit": {"type": "integer"},
        "devices": {"type": "array", "items": {"$ref": "#/components/schemas/Device"}}}},
    "Fault": {"type": "object", "properties": {
        "id": {"type": ["integer", "null"]}, "device": {"type": "string"},
        "name": {"type": ["string", "null"]}, "county": {"type": "string"},
        "kind": {"type": "string"}, "fault": {"type": "string", "enum": list(FAULT_KINDS)},
        "state": {"type": "string", "enum": ["open", "closed"]},
        "suppressed": {"type": "boolean"}, "suppressed_by": {"type": ["string", "null"]},
        "suppressed_children": {"type": "integer"}, "detail": {"type": "string"},
        "close_reason": {"type": ["string", "null"]},
        **_stamps("first_seen", "opened_at", "closed_at")}},
    "FaultList": {"type": "object", "properties": {
        "count": {"type": "integer"}, "truncated": {"type": "boolean"},
        "faults": {"type": "array", "items": {"$ref": "#/components/schemas/Fault"}}}},
    "ReloadOutcome": {"type": "object", "properties": {
        "ok": {"type": "boolean"}, "added": {"type": "integer"}, "removed": {"type": "integer"},
        "changed": {"type": "integer"}, "kept": {"type": "integer"}}},
}


def document(version: str) -> dict[str, Any]:
    """The OpenAPI document; only the version varies."""
    paths: dict[str, Any] = {
        "/metrics": {"get": {
            "summary": "Prometheus text exposition (gzip when accepted)",
            "description": "Open on loopback; needs a bearer token when netwatch listens "
                           "elsewhere.",
            "responses": {"200": TEXT, **_errors(401, 429)}}},
        "/healthz": {"get": {"summary": "Liveness", "security": [],
                             "responses": {"200": TEXT}}},
        "/readyz": {"get": {"summary": "Readiness: every group of devices swept once",
                            "security": [],
                            "responses": {"200": {"description": "ready"},
                                          "503": {"description": "groups not yet swept"}}}},
        "/api/v1/devices": {"get": {
            "summary": "Devices with their latest results and open faults",
            "security": BEARER,
            "parameters": [
                COUNTY, KIND,
                _query("state", "up, down (latest cycle), fault (an open fault) or unknown "
                       "(not yet checked).", {"type": "string", "enum": list(DEVICE_STATES)}),
                _query("limit", "Page size.", {"type": "integer", "minimum": 1,
                       "maximum": DEVICES_LIMIT[1], "default": DEVICES_LIMIT[0]}),
                _query("offset", "Devices to skip.", {"type": "integer", "minimum": 0,
                       "default": 0})],
            "responses": {"200": {"description": "a page of devices", **_json("DevicePage")},
                          **_errors(400, 401, 403, 429)}}},
        "/api/v1/faults": {"get": {
            "summary": "Open faults (monitor) and closed fault episodes (fault log)",
            "security": BEARER,
            "parameters": [
                COUNTY, KIND,
                _query("fault", "Fault kind.", {"type": "string", "enum": list(FAULT_KINDS)}),
                _query("state", "Episode state.", {"type": "string", "enum": list(FAULT_STATES),
                       "default": "open"}),
                _query("suppressed", "Only suppressed (true) or unsuppressed (false) faults.",
                       {"type": "boolean"}),
                _query("limit", "Most faults returned, open ones first.",
                       {"type": "integer", "minimum": 1, "maximum": FAULTS_LIMIT[1],
                        "default": FAULTS_LIMIT[0]})],
            "responses": {"200": {"description": "faults, newest first", **_json("FaultList")},
                          **_errors(400, 401, 403, 429)}}},
        "/-/reload": {"post": {
            "summary": "Re-read the inventory; a bad file is refused and the old one runs on",
            "security": BEARER,
            "responses": {"200": {"description": "reloaded", **_json("ReloadOutcome")},
                          **_errors(401, 403, 422, 429)}}},
        "/api/v1/openapi.json": {"get": {
            "summary": "This document", "security": [],
            "responses": {"200": {"description": "OpenAPI 3.1"}}}},
        "/": {"get": {"summary": "Landing page (HTML)", "security": [],
                      "responses": {"200": {"description": "text/html"}}}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "netwatch", "version": version,
                 "description": "Network and device health monitor. County and tester tokens "
                                "see only their counties; admin tokens see all."},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
        },
    }
