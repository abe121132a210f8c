"""The OpenAPI 3 description of the HTTP endpoints that exist, served at /api/v1/openapi.json.

Kept by hand beside the handlers; a test checks that every route of the app is
described here and that nothing described is missing from the app.
"""

from __future__ import annotations

from typing import Any

from netwatch.inventory import KINDS
from netwatch.monitor import FAULT_KINDS
from netwatch.web import (
    circulars,
    coverage,
    early_warnings,
    notices,
    outages,
    readings,
    sessions,
    survey,
    survey_form,
)
from netwatch.web.api import DEVICE_STATES, DEVICES_LIMIT, FAULT_STATES, FAULTS_LIMIT
from netwatch.web.openapi_parts import BEARER, COUNTY, KIND, TEXT, errors, json_body, query, stamps

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
        "declared": {"type": ["integer", "null"], "description": "the outage the county "
                     "declared (停机报备) this fault was first seen in: suppressed_by is "
                     "declared#ID; null otherwise"},
        **stamps("first_seen", "opened_at")}},
    "Device": {"type": "object", "properties": {
        "id": {"type": "string"}, "name": {"type": "string"}, "county": {"type": "string"},
        "kind": {"type": "string", "enum": list(KINDS)}, "address": {"type": "string"},
        "site": {"type": "string"}, "lat": {"type": ["number", "null"]},
        "lon": {"type": ["number", "null"]}, "parent": {"type": ["string", "null"]},
        "key_area": {"type": "boolean"},
        "state": {"type": "string", "enum": list(DEVICE_STATES)},
        "up": {"type": ["boolean", "null"], "description": "latest cycle, before hysteresis"},
        **stamps("checked_at", "last_up_at"),
        "fault": {"type": ["string", "null"], "description": "what the latest cycle points to"},
        "reasons": {"type": "array", "items": {"type": "string"}},
        "findings": {"type": "array", "items": {"type": "string"}},
        "open_faults": {"type": "array", "items": {"$ref": "#/components/schemas/DeviceFault"}},
        "suppressed_children": {"type": "integer"},
        "checks": {"type": "object",
                   "additionalProperties": {"$ref": "#/components/schemas/Check"}},
        "source": {"type": "string", "enum": ["store"],
                   "description": "only on a device of a county another instance watches: "
                                  "answered from the store, as that instance wrote it (no "
                                  "measurements); absent: this instance's own probes"},
        **stamps("as_of", "state_since"),
        "written_by": {"type": ["string", "null"],
                       "description": "the instance that wrote the stored state"}}},
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
        "declared": {"type": ["integer", "null"], "description": "the outage the county "
                     "declared (停机报备) this fault was first seen in: suppressed_by is "
                     "declared#ID; null otherwise"},
        "suppressed_children": {"type": "integer"}, "detail": {"type": "string"},
        "close_reason": {"type": ["string", "null"]},
        **stamps("first_seen", "opened_at", "closed_at")}},
    "FaultList": {"type": "object", "properties": {
        "count": {"type": "integer"}, "truncated": {"type": "boolean"},
        "faults": {"type": "array", "items": {"$ref": "#/components/schemas/Fault"}}}},
    "Readiness": {
        "type": "object",
        "required": ["ready", "degraded", "pending", "problems", "counties", "duties"],
        "description": "ready is the status (200 or 503); degraded changes it only when the "
                       "store is away. Fields may be added; these keep their meaning.",
        "properties": {
            "ready": {"type": "boolean", "description": "every group of devices swept once "
                      "since start (the inventory and store are in place before the listener "
                      "opens), and the store takes writes"},
            "degraded": {"type": "boolean", "description": "the monitor itself needs "
                         "attention (problems says why), as netwatch_monitor_degraded"},
            "pending": {"type": "array", "items": {"type": "string"},
                        "description": "groups not yet swept (after a start or a reload)"},
            "problems": {"type": "array", "items": {"type": "string"},
                         "description": "why degraded: the store away (first, as 'store: "
                                        "REASON'), checks skipped by the monitor's own "
                                        "limits, an inventory over the capacity settings"},
            "counties": {"type": "object", "additionalProperties": {
                "type": "string", "enum": ["active", "standby"]},
                "description": "per county this instance watches: active (it holds the "
                               "county's lease and writes for it) or standby"},
            "duties": {"type": "string", "enum": ["active", "standby"],
                       "description": "whether this instance runs the city-wide duties"}}},
    "ReloadOutcome": {"type": "object", "properties": {
        "ok": {"type": "boolean"}, "added": {"type": "integer"}, "removed": {"type": "integer"},
        "changed": {"type": "integer"}, "kept": {"type": "integer"}}},
}

ROUTE_MODULES = (notices, circulars, survey, readings, survey_form, coverage, sessions,
                 early_warnings, outages)


def document(version: str) -> dict[str, Any]:
    """The OpenAPI document; only the version varies."""
    paths: dict[str, Any] = {
        "/metrics": {"get": {
            "summary": "Prometheus text exposition (gzip when accepted)",
            "description": "Open on loopback; off loopback or behind a proxy it needs an "
                           "admin or metrics token.",
            "responses": {"200": TEXT, **errors(401, 429)}}},
        "/healthz": {"get": {"summary": "Liveness", "security": [],
                             "responses": {"200": TEXT}}},
        "/readyz": {"get": {"summary": "Ready to serve (the status), and whether the monitor "
                                       "is degraded (the body)",
                            "security": [],
                            "responses": {"200": {"description": "ready (degraded or not)",
                                                  **json_body("Readiness")},
                                          "503": {"description": "not ready: groups not yet "
                                                  "swept since start (pending), or the store "
                                                  "away (problems)",
                                                  **json_body("Readiness")}}}},
        "/api/v1/devices": {"get": {
            "summary": "Devices with their latest results and open faults",
            "security": BEARER,
            "parameters": [
                COUNTY, KIND,
                query("state", "up, down (latest cycle), fault (an open fault) or unknown "
                       "(not yet checked).", {"type": "string", "enum": list(DEVICE_STATES)}),
                query("limit", "Page size.", {"type": "integer", "minimum": 1,
                       "maximum": DEVICES_LIMIT[1], "default": DEVICES_LIMIT[0]}),
                query("offset", "Devices to skip.", {"type": "integer", "minimum": 0,
                       "default": 0})],
            "responses": {"200": {"description": "a page of devices", **json_body("DevicePage")},
                          **errors(400, 401, 403, 429)}}},
        "/api/v1/faults": {"get": {
            "summary": "Open faults (monitor) and closed fault episodes (fault log)",
            "security": BEARER,
            "parameters": [
                COUNTY, KIND,
                query("fault", "Fault kind.", {"type": "string", "enum": list(FAULT_KINDS)}),
                query("state", "Episode state.", {"type": "string", "enum": list(FAULT_STATES),
                       "default": "open"}),
                query("suppressed", "Only suppressed (true) or unsuppressed (false) faults.",
                       {"type": "boolean"}),
                query("limit", "Most faults returned, open ones first.",
                       {"type": "integer", "minimum": 1, "maximum": FAULTS_LIMIT[1],
                        "default": FAULTS_LIMIT[0]})],
            "responses": {"200": {"description": "faults, newest first", **json_body("FaultList")},
                          **errors(400, 401, 403, 429)}}},
        "/-/reload": {"post": {
            "summary": "Re-read the inventory; a bad file is refused and the old one runs on",
            "security": BEARER,
            "responses": {"200": {"description": "reloaded", **json_body("ReloadOutcome")},
                          **errors(401, 403, 422, 429)}}},
        "/api/v1/openapi.json": {"get": {
            "summary": "This document", "security": [],
            "responses": {"200": {"description": "OpenAPI 3.1"}}}},
        "/": {"get": {"summary": "Landing page (HTML)", "security": [],
                      "responses": {"200": {"description": "text/html"}}}},
    }
    schemas = dict(SCHEMAS)
    for module in ROUTE_MODULES:
        for path, operations in getattr(module, "OPENAPI_PATHS", {}).items():
            paths.setdefault(path, {}).update(operations)  # two modules may share a path
        schemas.update(getattr(module, "OPENAPI_SCHEMAS", {}))
    return {
        "openapi": "3.1.0",
        "info": {"title": "netwatch", "version": version,
                 "description": "Network and device health monitor. County and tester tokens "
                                "see only their counties; admin tokens see all."},
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "netwatch_session",
                            "description": "from POST /login; unsafe methods also send "
                                           "X-CSRF-Token"}},
            "schemas": schemas,
        },
    }
