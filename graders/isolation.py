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

Wrapper = Callable[[list[str], Path, Path], list[str]]
_wrapper: Wrapper | None = None


def install(wrapper: Wrapper | None) -> None:
    global _wrapper
    _wrapper = wrapper


def learner_command(
    command: Sequence[str], folder: Path | str, cwd: Path | str | None = None
) -> list[str]:
    """``command`` as it must be started to run a learner's program in ``folder`` (the only
    folder it may write), with ``cwd`` (``folder`` or a folder inside it) as its working
    folder. Start it with the same ``cwd``: the sandbox sets its own, nothing else does."""
    if _wrapper is None:
        return list(command)
    return _wrapper(list(command), Path(folder), Path(cwd if cwd is not None else folder))


def sandboxed() -> bool:
    """Whether learner programs get a sandbox of their own here (in the trusted checker)."""
    return _wrapper is not None
