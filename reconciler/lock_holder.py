"""Who holds a state lock, and whether that process still runs.

A lock records the process that took it: host name, a machine identity, pid and the process's
start time. Whether the holder still runs can only be known on the same machine, and only
when the process can be told apart from a later one that reuses its pid:

* the machine identity is the kernel's boot id plus the pid namespace (`/proc`), so two
  containers with the same host name, or the same host after a reboot, are never confused
  (a pid means nothing outside its namespace and boot);
* the start time (`/proc/<pid>/stat`, field 22, clock ticks since boot) tells a reused pid
  from the holder.

Where `/proc` is missing (macOS, Windows) the identity is the host name alone and the start
time is unknown: a live pid then counts as the holder.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

PROC = Path("/proc")


class Liveness(StrEnum):
    """What this machine can tell about a lock's holder."""

    ALIVE = "alive"  # on this machine, and the process still runs
    DEAD = "dead"  # on this machine, and the process is gone
    UNKNOWN = "unknown"  # another machine (or an old lock without an identity)


@dataclass(frozen=True, slots=True)
class HolderProcess:
    """The process identity stored in a lock."""

    host: str = ""
    machine: str = ""
    pid: int | None = None
    started: str = ""

    def liveness(self, here: HolderProcess | None = None) -> Liveness:
        """Whether the holder still runs, as far as this machine (`here`) can tell."""
        here = here or current_process()
        if self.pid is None or not self.machine or self.machine != here.machine:
            return Liveness.UNKNOWN
        if not pid_running(self.pid):
            return Liveness.DEAD
        if self.started and process_started(self.pid) not in ("", self.started):
            return Liveness.DEAD  # the pid was reused by another process
        return Liveness.ALIVE


def current_process() -> HolderProcess:
    """This process's identity."""
    pid = os.getpid()
    return HolderProcess(
        host=socket.gethostname(), machine=machine_identity(), pid=pid, started=process_started(pid)
    )


def machine_identity() -> str:
    """A short digest of boot id + pid namespace, or of the host name without `/proc`."""
    parts = [socket.gethostname()]
    with contextlib.suppress(OSError):
        parts.append((PROC / "sys/kernel/random/boot_id").read_text(encoding="ascii").strip())
    with contextlib.suppress(OSError):
        parts.append(os.readlink(PROC / "self/ns/pid"))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def pid_running(pid: int) -> bool:
    """Whether a process with this pid exists (signal 0 checks without sending anything)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by another user
    except OSError:
        return False
    return not _zombie(pid)


def process_started(pid: int) -> str:
    """The process's start time in clock ticks since boot (`/proc/<pid>/stat` field 22)."""
    try:
        stat = (PROC / str(pid) / "stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return ""
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else ""


def _zombie(pid: int) -> bool:
    """A killed child not yet reaped still answers signal 0; it holds nothing any more."""
    try:
        stat = (PROC / str(pid) / "stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    fields = stat[stat.rfind(")") + 2 :].split()
    return bool(fields) and fields[0] in ("Z", "X")
