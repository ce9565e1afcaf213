"""Processes the course starts and must be able to end, with everything they started."""

from __future__ import annotations

import psutil


def kill_tree(pid: int) -> None:
    """SIGKILL ``pid`` and every process below it (those still there: any may have ended)."""
    try:
        parent = psutil.Process(pid)
        processes = [*parent.children(recursive=True), parent]
    except psutil.Error:
        return
    for process in processes:
        try:
            process.kill()
        except psutil.Error:
            continue
