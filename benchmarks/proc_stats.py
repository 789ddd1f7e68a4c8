"""A process's CPU time from Linux's /proc, for the benchmarks that measure other processes."""

from __future__ import annotations

import os
from pathlib import Path


def stat_fields(stat: Path) -> list[str]:
    """The fields of a /proc/PID/stat file after the command name (which may hold spaces):
    [0] is the state, [1] the parent's pid, [11]/[12] utime/stime, [13]/[14] the reaped
    children's. Raises OSError when the process has gone."""
    return stat.read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process; 0 where that is not available."""
    try:
        fields = stat_fields(Path(f"/proc/{pid}/stat"))
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0
