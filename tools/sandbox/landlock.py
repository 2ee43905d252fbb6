"""The fallback isolation when bubblewrap cannot run (e.g. Docker's default seccomp profile forbids namespaces).

Landlock (via ctypes) limits the child to an allow-list of files: read/execute for the Python install and
the virtualenv, read-write for its own working dir; with ABI >= 4 it also blocks every TCP connect/bind, with
ABI >= 6 signals to and abstract sockets of processes outside the sandbox. Where allowed, the child also
gets an empty network namespace (UDP too), and as root it drops every capability. Built in the parent;
only `enter()` runs in the child (between fork and exec), and it raises when any layer fails: fail closed.
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass, field
from pathlib import Path

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]

SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF = 444, 445, 446  # the same on every architecture
SYS_CAPSET = {"x86_64": 126, "aarch64": 91}.get(os.uname().machine)
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS, PR_CAPBSET_DROP, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 38, 24, 47, 4
CLONE_NEWUSER, CLONE_NEWNET = 0x10000000, 0x40000000
try:  # read here: the child must not need /proc
    CAP_LAST = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
except (OSError, ValueError):
    CAP_LAST = 63  # dropping a capability the kernel does not know fails harmlessly

FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
FS_TRUNCATE, FS_IOCTL_DEV = 1 << 14, 1 << 15
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1
FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV  # valid on a file rule
READ_ONLY = FS_EXECUTE | FS_READ_FILE | FS_READ_DIR


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _check(result: int, what: str) -> int:
    if result < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")
    return result


def landlock_abi() -> int:
    """The kernel's Landlock ABI version; 0 when Landlock is missing or disabled."""
    result = _libc.syscall(SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(CREATE_RULESET_VERSION))
    return max(int(result), 0)


def handled_fs(abi: int) -> int:
    """Every filesystem right the kernel knows: unlisted rights are then denied everywhere."""
    bits = {1: 13, 2: 14, 3: 15, 4: 15}.get(abi, 16)  # ABI 2 adds REFER, 3 TRUNCATE, 5 IOCTL_DEV
    return (1 << bits) - 1


@dataclass
class LandlockPlan:
    """What the child may touch. `read` and `write` are paths; `net_namespace` asks for an empty netns."""

    read: list[Path]
    write: list[Path]
    devices: list[Path] = field(default_factory=lambda: [Path("/dev/null"), Path("/dev/urandom")])
    net_namespace: bool = True
    abi: int = field(default_factory=landlock_abi)

    def layers(self) -> list[str]:
        names = [f"Landlock ABI {self.abi} file allow-list"]
        if self.abi >= 4:
            names.append("TCP connect/bind blocked")
        if self.abi >= 6:
            names.append("signals and abstract sockets scoped")
        if self.net_namespace:
            names.append("empty network namespace")
        return names

    def build(self) -> PreparedRuleset:
        """Create the ruleset in the parent (cheap); the child only has to enter it."""
        if self.abi < 1:
            raise OSError("Landlock is not available in this kernel")
        fs = handled_fs(self.abi)
        attr = _RulesetAttr(fs, NET_BIND_TCP | NET_CONNECT_TCP if self.abi >= 4 else 0,
                            SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if self.abi >= 6 else 0)
        size = 8 if self.abi < 4 else 16 if self.abi < 6 else 24
        ruleset = _check(_libc.syscall(SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size),
                                       ctypes.c_uint32(0)), "landlock_create_ruleset")
        try:
            for path in self.read:
                self._allow(ruleset, path, READ_ONLY & fs)
            for path in self.write:
                self._allow(ruleset, path, fs)
            for path in self.devices:
                self._allow(ruleset, path, (FS_READ_FILE | FS_WRITE_FILE) & fs)
        except BaseException:
            os.close(ruleset)
            raise
        return PreparedRuleset(ruleset, self.net_namespace)

    @staticmethod
    def _allow(ruleset: int, path: Path, rights: int) -> None:
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except FileNotFoundError:
            return
        try:
            if not os.path.isdir(path):
                rights &= FILE_RIGHTS
            rule = _PathBeneath(rights, fd)
            _check(_libc.syscall(SYS_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(RULE_PATH_BENEATH),
                                 ctypes.byref(rule), ctypes.c_uint32(0)), f"landlock_add_rule {path}")
        finally:
            os.close(fd)


@dataclass
class PreparedRuleset:
    fd: int
    net_namespace: bool

    def enter(self) -> None:
        """In the child before exec: empty netns, no capabilities, no new privileges, then Landlock."""
        if self.net_namespace:
            flags = CLONE_NEWNET if os.geteuid() == 0 else CLONE_NEWUSER | CLONE_NEWNET
            _check(_libc.unshare(flags), "unshare(CLONE_NEWNET)")
        _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")
        drop_capabilities()
        _check(_libc.syscall(SYS_RESTRICT_SELF, ctypes.c_int(self.fd), ctypes.c_uint32(0)), "landlock_restrict_self")

    def close(self) -> None:
        os.close(self.fd)


def drop_capabilities() -> None:
    """Root without capabilities cannot kill, trace, mount or reconfigure anything it does not own."""
    _libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    for cap in range(CAP_LAST + 1):
        _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)  # fails harmlessly without CAP_SETPCAP (non-root)
    if SYS_CAPSET is None:
        if os.geteuid() == 0:
            raise OSError("cannot drop capabilities on this architecture")
        return
    header, data = _CapHeader(0x20080522, 0), (_CapData * 2)()  # version 3, this process, all sets empty
    _check(_libc.syscall(SYS_CAPSET, ctypes.byref(header), ctypes.byref(data)), "capset")
