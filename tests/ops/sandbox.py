"""The sandbox of deploy/netwatch.service rebuilt without systemd, to run the daemon inside it.

systemd applies ``SystemCallFilter=`` (an allow list; anything else fails with
``SystemCallErrorNumber=`` or kills the process), ``MemoryDenyWriteExecute=`` (no
mapping both writable and executable), ``ProtectProc=``/``ProcSubset=`` (a /proc with
only the service's own processes and none of the non-process files),
``CapabilityBoundingSet=`` and ``NoNewPrivileges=``.
Machines without systemd as PID 1 (CI containers) cannot start the unit, so this
module applies the same settings, read from the unit file itself: the system call
groups come from ``systemd-analyze syscall-filter``, the filters are loaded with
libseccomp, /proc is mounted afresh in a mount namespace of its own (``unshare``) and the
capabilities are dropped with ``setpriv``. Each step executes the next, so the command's
process id is the one ``subprocess`` started. Run as a module, it loads the filters and
executes the command after ``--``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import subprocess
import sys
from pathlib import Path

ALLOW = 0x7FFF0000  # SCMP_ACT_ALLOW
KILL_PROCESS = 0x80000000  # SCMP_ACT_KILL_PROCESS (systemd's default for a call not listed)
ERRNO_EPERM = 0x00050000 | 1  # SCMP_ACT_ERRNO(EPERM): with SystemCallErrorNumber=EPERM
MASKED_EQ = 7  # SCMP_CMP_MASKED_EQ
PROT_WRITE_EXEC = 0x2 | 0x4
SHM_EXEC = 0o100000


class ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64),
                ("datum_b", ctypes.c_uint64)]


def unit_settings(unit: Path) -> dict[str, list[str]]:
    """Every ``Key=value`` of the unit, in order, continuation lines joined."""
    found: dict[str, list[str]] = {}
    for line in unit.read_text().replace("\\\n", " ").splitlines():
        if "=" in line and not line.lstrip().startswith(("#", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(" ".join(value.split()))
    return found


def syscall_groups() -> dict[str, list[str]]:
    """systemd's named groups (``@system-service`` …) with their members, as it lists them."""
    text = subprocess.run(["systemd-analyze", "--no-pager", "syscall-filter"],
                          capture_output=True, text=True, check=True, timeout=60).stdout
    groups: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("@"):
            current = groups.setdefault(line.strip(), [])
        elif current is not None and line.strip() and not line.strip().startswith("#"):
            current.append(line.strip())
        elif not line.strip():
            current = None
    return groups


def expand(names: list[str], groups: dict[str, list[str]]) -> set[str]:
    out: set[str] = set()
    for name in names:
        out |= expand(groups[name], groups) if name.startswith("@") else {name}
    return out


def allowed_calls(unit: Path) -> set[str]:
    """The allow list ``SystemCallFilter=`` lines make: each line adds, or with ~ removes."""
    groups = syscall_groups()
    allowed: set[str] = set()
    for value in unit_settings(unit).get("SystemCallFilter", []):
        deny = value.startswith("~")
        names = expand(value.removeprefix("~").split(), groups)
        allowed = allowed - names if deny else allowed | names
    return allowed


def load_filters(allowed: set[str], refuse: int, deny_write_execute: bool) -> None:
    """Load the filters into this process (inherited by what it executes); a call not
    allowed gets ``refuse`` (kill, or an error number)."""
    lib = ctypes.CDLL(ctypes.util.find_library("seccomp") or "libseccomp.so.2")
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                           ctypes.c_uint, ctypes.POINTER(ArgCmp)]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]

    def rule(ctx: int, action: int, name: str, *cmps: ArgCmp) -> None:
        number = lib.seccomp_syscall_resolve_name(name.encode())
        if number == -1:  # __NR_SCMP_ERROR: not a call libseccomp knows
            return
        array = (ArgCmp * max(len(cmps), 1))(*cmps)
        lib.seccomp_rule_add_array(ctx, action, number, len(cmps), array)

    if deny_write_execute:  # as systemd does it: EPERM for write+exec mappings
        ctx = lib.seccomp_init(ALLOW)
        both = ArgCmp(2, MASKED_EQ, PROT_WRITE_EXEC, PROT_WRITE_EXEC)
        for name in ("mmap", "mprotect", "pkey_mprotect"):
            rule(ctx, ERRNO_EPERM, name, both)
        rule(ctx, ERRNO_EPERM, "shmat", ArgCmp(2, MASKED_EQ, SHM_EXEC, SHM_EXEC))
        if lib.seccomp_load(ctx) != 0:
            raise OSError("could not load the write+execute filter")
    ctx = lib.seccomp_init(refuse)
    for name in sorted(allowed):
        rule(ctx, ALLOW, name)
    if lib.seccomp_load(ctx) != 0:
        raise OSError("could not load the system call filter")


def command(unit: Path, argv: list[str]) -> list[str]:
    """``argv`` wrapped to run under the unit's sandbox (root is needed to set it up)."""
    s = unit_settings(unit)
    [proc_mode], [subset] = s["ProtectProc"], s["ProcSubset"]
    [bounding] = s["CapabilityBoundingSet"]
    caps = ",".join("+" + c.removeprefix("CAP_").lower() for c in bounding.split())
    assert s["NoNewPrivileges"] == ["yes"]
    inner = [sys.executable, __file__, str(unit), "--", *argv]
    mount = f"mount -t proc -o hidepid={proc_mode},subset={subset} proc /proc"
    return ["unshare", "--mount", "sh", "-c",
            f'{mount} && exec "$@"', "sh",
            "setpriv", "--no-new-privs", f"--bounding-set=-all,{caps}",
            f"--inh-caps=-all,{caps}", f"--ambient-caps=-all,{caps}", *inner]


if __name__ == "__main__":
    unit_path, rest = Path(sys.argv[1]), sys.argv[sys.argv.index("--") + 1:]
    settings = unit_settings(unit_path)
    refused = ERRNO_EPERM if settings.get("SystemCallErrorNumber") == ["EPERM"] else KILL_PROCESS
    load_filters(allowed_calls(unit_path), refused,
                 settings.get("MemoryDenyWriteExecute") == ["yes"])
    os.execv(rest[0], rest)
