"""The SNMP probe: one GET PDU per device for uptime, description and the uplink's state.

v2c or v3 authPriv (never noAuth/authNoPriv) through the loop's shared
``SnmpClient``. The GET asks for sysUpTime.0, sysDescr.0 and, for the uplink
ifIndex i, ifOperStatus.i, ifHighSpeed.i, ifSpeed.i, ifInErrors.i,
ifOutErrors.i and ifName.i. An uplink given by ifName is resolved to its
ifIndex once per (agent, name) and resolved again when the agent stops
knowing that index.

Facts only: an uplink that is down is a success with ``uplink_oper_status`` 2;
an uplink the agent does not have is a success whose ``detail`` says so and
that carries no uplink measurements. Communities and keys stay out of reprs,
details and error messages.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from probes.base import (
    Measurement,
    ParamError,
    ProbeContext,
    ProbeResult,
    Reason,
    Target,
    reason_for_oserror,
)
from probes.snmp import codec as c
from probes.snmp.client import Attempts, Credentials, SnmpClient
from probes.snmp.replies import SnmpError
from probes.snmp.usm import AUTH_PROTOCOLS, MIN_PASSPHRASE, PRIV_PROTOCOLS, UsmUser

NAME = "snmp"
DEFAULT_PORT = 161
MEASUREMENTS: dict[Measurement, str] = {
    Measurement.SYS_UPTIME_SECONDS: "seconds since the agent (re)started, from sysUpTime",
    Measurement.UPLINK_OPER_STATUS:
        "the uplink's ifOperStatus: 1 up, 2 down, 3 testing, 5 dormant, ...",
    Measurement.UPLINK_SPEED_BPS:
        "the uplink's negotiated speed in bits per second (ifHighSpeed x 1e6)",
    Measurement.UPLINK_IN_ERRORS: "the uplink's ifInErrors counter",
    Measurement.UPLINK_OUT_ERRORS: "the uplink's ifOutErrors counter",
}

SYS_UPTIME: c.OID = (1, 3, 6, 1, 2, 1, 1, 3, 0)
SYS_DESCR: c.OID = (1, 3, 6, 1, 2, 1, 1, 1, 0)
_IF: c.OID = (1, 3, 6, 1, 2, 1, 2, 2, 1)
_IFX: c.OID = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1)
# measurement or info name → column OID, in request order after the two system objects
UPLINK_COLUMNS: tuple[tuple[str, c.OID], ...] = (
    ("uplink_oper_status", _IF + (8,)),
    ("uplink_high_speed", _IFX + (15,)),
    ("uplink_speed", _IF + (5,)),
    ("uplink_in_errors", _IF + (14,)),
    ("uplink_out_errors", _IF + (20,)),
    ("uplink_name", _IFX + (1,)),
)
_KEYS = (
    "version",
    "community",
    "user",
    "auth_protocol",
    "auth_key",
    "priv_protocol",
    "priv_key",
    "uplink_if",
    "retries",
)
_V3_ONLY = ("user", "auth_protocol", "auth_key", "priv_protocol", "priv_key")
_ALIASES = {"SHA1": "SHA", "AES": "AES128"}


@dataclass(frozen=True, slots=True)
class Params:
    """An SNMP profile plus the device's uplink; ``credentials`` is derived, never printed."""

    version: str = "2c"
    community: str = field(default="", repr=False)
    user: str = ""
    auth_protocol: str = ""
    auth_key: str = field(default="", repr=False)
    priv_protocol: str = ""
    priv_key: str = field(default="", repr=False)
    uplink_if: int | str | None = None
    retries: int = 1
    credentials: Credentials = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        cred: Credentials = (
            self.community.encode()
            if self.version == "2c"
            else UsmUser(
                self.user, self.auth_protocol, self.auth_key, self.priv_protocol, self.priv_key
            )
        )
        object.__setattr__(self, "credentials", cred)


def _text(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key, "")
    if not isinstance(value, str):
        raise ParamError(key, "must be a string")
    return value


def _protocol(raw: Mapping[str, Any], key: str, known: Mapping[str, Any]) -> str:
    name = _text(raw, key).upper().replace("-", "").replace("_", "")
    name = _ALIASES.get(name, name)
    if not name or name == "NONE":
        raise ParamError(key, "SNMPv3 profiles must be authPriv: set auth and privacy protocols")
    if name not in known:
        raise ParamError(key, f"unknown protocol; expected one of {', '.join(known)}")
    return name


def _uplink(value: Any) -> int | str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ParamError("uplink_if", "must be an ifIndex (integer) or an ifName (string)")
    if isinstance(value, int) and not 1 <= value <= 0x7FFFFFFF:
        raise ParamError("uplink_if", "ifIndex must be between 1 and 2147483647")
    return value


def parse_params(raw: Mapping[str, Any]) -> Params:
    """Build Params from an SNMP profile plus ``uplink_if``; errors never quote secrets."""
    for key in raw:
        if key not in _KEYS:
            raise ParamError(str(key), f"unknown setting; expected one of {', '.join(_KEYS)}")
    version = str(raw.get("version", "2c")).lower().removeprefix("v")
    retries = raw.get("retries", 1)
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 5:
        raise ParamError("retries", "must be an integer from 0 to 5")
    uplink = _uplink(raw.get("uplink_if"))
    if version in ("2c", "2"):
        extra = [k for k in _V3_ONLY if raw.get(k)]
        if extra:
            raise ParamError(extra[0], "is a v3 setting; this profile is version 2c")
        community = _text(raw, "community")
        if not community:
            raise ParamError("community", "is required for version 2c")
        return Params("2c", community, uplink_if=uplink, retries=retries)
    if version != "3":
        raise ParamError("version", 'must be "2c" or "3"')
    if raw.get("community"):
        raise ParamError("community", "is a v2c setting; this profile is version 3")
    user = _text(raw, "user")
    if not user:
        raise ParamError("user", "is required for version 3")
    auth = _protocol(raw, "auth_protocol", AUTH_PROTOCOLS)
    priv = _protocol(raw, "priv_protocol", PRIV_PROTOCOLS)
    keys = {}
    for key in ("auth_key", "priv_key"):
        keys[key] = _text(raw, key)
        if len(keys[key]) < MIN_PASSPHRASE:
            raise ParamError(key, f"is required and must be at least {MIN_PASSPHRASE} characters")
    return Params("3", "", user, auth, keys["auth_key"], priv, keys["priv_key"], uplink, retries)


def deadline(params: Params, timeout: float) -> float:
    """Room for every exchange a cold check may need, each with its retries."""
    exchanges = 1 + (params.version == "3") + isinstance(params.uplink_if, str)
    return exchanges * (params.retries + 1) * timeout + 0.5


@functools.lru_cache(maxsize=4096)
def request_varbinds(if_index: int | None) -> bytes:
    """The encoded GET var-binds for one uplink index, the same for every device using it."""
    oids = [SYS_UPTIME, SYS_DESCR]
    if if_index is not None:
        oids += [column + (if_index,) for _, column in UPLINK_COLUMNS]
    return c.enc_varbinds([(oid, c.NULL_VALUE) for oid in oids])


def _number(name: str, value: c.Value) -> float:
    tag, v = value
    if not isinstance(v, int) or tag in (c.OCTET_STRING, c.OBJECT_ID):
        raise SnmpError(Reason.PROTOCOL, f"{name} is not a number")
    return float(v)


def _text_value(value: c.Value) -> str:
    v = value[1]
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else ""


def _result(pdu: c.Pdu, if_index: int | None) -> tuple[ProbeResult, bool]:
    """The probe result from a GET answer, and whether the uplink index was missing."""
    expected = [SYS_UPTIME, SYS_DESCR]
    if if_index is not None:
        expected += [column + (if_index,) for _, column in UPLINK_COLUMNS]
    if [oid for oid, _ in pdu.varbinds] != expected:
        raise SnmpError(Reason.PROTOCOL, "reply var-binds do not match the request")
    result = ProbeResult.ok()
    uptime, descr = pdu.varbinds[0][1], pdu.varbinds[1][1]
    if uptime[0] not in c.EXCEPTIONS:
        result.measurements["sys_uptime_seconds"] = _number("sysUpTime", uptime) / 100
    if descr[0] not in c.EXCEPTIONS:
        result.info["sys_descr"] = _text_value(descr)
    if if_index is None:
        return result, False
    row = {
        name: value for (name, _), (_, value) in zip(UPLINK_COLUMNS, pdu.varbinds[2:], strict=True)
    }
    if row["uplink_oper_status"][0] in c.EXCEPTIONS:
        result.detail = f"uplink ifIndex {if_index} not found on the agent"
        return result, True
    m = result.measurements
    m["uplink_oper_status"] = _number("ifOperStatus", row["uplink_oper_status"])
    if row["uplink_high_speed"][0] not in c.EXCEPTIONS:
        m["uplink_speed_bps"] = _number("ifHighSpeed", row["uplink_high_speed"]) * 1e6
    elif row["uplink_speed"][0] not in c.EXCEPTIONS:
        m["uplink_speed_bps"] = _number("ifSpeed", row["uplink_speed"])
    for name in ("uplink_in_errors", "uplink_out_errors"):
        if row[name][0] not in c.EXCEPTIONS:
            m[name] = _number(name, row[name])
    if row["uplink_name"][0] not in c.EXCEPTIONS:
        result.info["uplink_name"] = _text_value(row["uplink_name"])
    return result, False


async def _get(
    client: SnmpClient, target: Target, port: int, params: Params, tries: Attempts
) -> ProbeResult:
    uplink, cred = params.uplink_if, params.credentials

    async def ask(index: int | None) -> tuple[ProbeResult, bool]:
        pdu = await client.request(
            target.address, port, cred, c.GET, request_varbinds(index), tries
        )
        return _result(pdu, index)

    if not isinstance(uplink, str):
        return (await ask(uplink))[0]
    index = await client.if_index(target.address, port, cred, uplink, tries)
    result, missing = await ask(index)
    if missing:  # the agent renumbered its interfaces: walk ifName again
        client.forget_if_index(target.address, port, uplink)
        index = await client.if_index(target.address, port, cred, uplink, tries)
        result = (await ask(index))[0]
    if index is None:
        result.detail = f"uplink ifName {uplink!r} not found on the agent"
    return result


async def probe(target: Target, params: Params, ctx: ProbeContext) -> ProbeResult:
    """Ask the agent for everything the monitor needs about the device in one GET."""
    client = await ctx.resource("snmp", SnmpClient.open)
    tries = Attempts(target.timeout, params.retries)
    try:
        return await _get(client, target, target.port or DEFAULT_PORT, params, tries)
    except SnmpError as exc:
        return ProbeResult.fail(exc.reason, f"SNMP v{params.version}: {exc}")
    except OSError as exc:
        return ProbeResult.fail(reason_for_oserror(exc), f"SNMP v{params.version}: {exc}")
