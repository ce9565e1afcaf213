"""Learner programs a check runs (a test suite, a script), each in a sandbox of its own.

In the learner's own kernel a check runs the learner's program as it is: it is the learner's
machine. In the trusted checker (course/checker.py), which runs outside every sandbox, the
grader installs a wrapper (:func:`install`) that puts each such program in a fresh sandbox
(course/sandbox.py, ``program_command``): only the folder the check prepared is writable,
the system and Python are read-only, no network, its own processes. Every place the graders
start a learner's program goes through :func:`learner_process`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

Wrapper = Callable[[list[str], Path, Path, Mapping[str, str] | None], list[str]]
_wrapper: Wrapper | None = None

# The environment of the grader's own processes that start a sandbox (sandbox_enter.py,
# bwrap): never the learner's. A learner's LD_PRELOAD, given to them, would load a library
# the learner wrote into the run's folder into a process outside the sandbox.
HOST_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}


def install(wrapper: Wrapper | None) -> None:
    global _wrapper
    _wrapper = wrapper


def learner_process(
    command: Sequence[str],
    folder: Path | str,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[list[str], dict[str, str] | None]:
    """The command line and environment to start a learner's program with, in ``folder``
    (the only folder it may write) with ``cwd`` (``folder`` or a folder inside it) as its
    working folder and ``env`` as its environment. Start it with the same ``cwd``. In a
    sandbox, ``env`` is set inside it, and the process that builds the sandbox gets only
    :data:`HOST_ENV`."""
    if _wrapper is None:
        return list(command), (dict(env) if env is not None else None)
    where = Path(cwd if cwd is not None else folder)
    return _wrapper(list(command), Path(folder), where, dict(env or HOST_ENV)), dict(HOST_ENV)


def sandboxed() -> bool:
    """Whether learner programs get a sandbox of their own here (in the trusted checker)."""
    return _wrapper is not None
