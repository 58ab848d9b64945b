"""Memory figures the benchmarks share: a process's resident set, and a piece of work's peak."""

from __future__ import annotations

import threading
from pathlib import Path


def rss(pid: int | str = "self") -> int:
    """Resident set size of a process in bytes, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def peak_growth(work: threading.Thread) -> int:
    """Bytes this process's RSS grew at most while ``work`` ran (sampled every 5 ms)."""
    base = peak = rss()
    work.start()
    while work.is_alive():
        peak = max(peak, rss())
        work.join(0.005)
    return max(peak, rss()) - base
