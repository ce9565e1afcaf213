"""Learner programs a check runs (a test suite, a script), each in a sandbox of its own.

In the learner's own kernel a check runs the learner's program as it is: it is the learner's
machine. In the trusted checker (course/checker.py), which runs outside every sandbox, the
grader installs a wrapper (:func:`install`) that puts each such program in a fresh sandbox
(course/sandbox.py, ``program_command``): only the folder the check prepared is writable,
the system and Python are read-only, no network, its own processes. Every place the graders
start a learner's program goes through :func:`learner_command`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

Wrapper = Callable[[list[str], Path], list[str]]
_wrapper: Wrapper | None = None


def install(wrapper: Wrapper | None) -> None:
    global _wrapper
    _wrapper = wrapper


def learner_command(command: Sequence[str], folder: Path | str) -> list[str]:
    """``command`` as it must be started to run a learner's program in ``folder``."""
    return list(command) if _wrapper is None else _wrapper(list(command), Path(folder))


def sandboxed() -> bool:
    """Whether learner programs get a sandbox of their own here (in the trusted checker)."""
    return _wrapper is not None
