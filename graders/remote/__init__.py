"""How checks reach a learner's kernel from the trusted checker (course/checker.py).

When a notebook is graded, its check cells run in the checker, and the names the answers
define are proxies (:class:`graders.remote.peer.Remote`) for the learner's objects. Most
checks need nothing more: calling a learner's function with inputs the check built, reading
its result as data, works the same in the learner's own kernel and in the checker.

Some checks must run code *beside* the learner's objects: capturing what a learner's logger
records, running a framework (a Dagster materialisation) on the learner's definitions. A
graders function decorated with :func:`learner_side` does that: called with a proxy among
its arguments, it runs in the learner's kernel and returns data (plain values, or a class
declared with :func:`graders.remote.codec.remote_data`), which the check then judges. Such a
function must be part of the graders package (the learner's kernel imports it from there,
so no check code, hidden or not, is sent to it), and whatever it returns is the learner's
answer: a kernel that changes it can only forge what it computes.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Any, TypeVar

from graders.remote.codec import remote_data

__all__ = ["learner_function", "learner_side", "remote_data"]

F = TypeVar("F", bound=Callable[..., Any])

# Qualified name -> the undecorated function, for every @learner_side function imported.
LEARNER_SIDE: dict[str, Callable[..., Any]] = {}


def learner_side(function: F) -> F:
    """Run ``function`` in the learner's kernel when called with one of its objects."""
    name = f"{function.__module__}.{function.__qualname__}"
    if not name.startswith("graders."):
        raise ValueError(f"{name}: only graders functions may run on the learner's side")
    LEARNER_SIDE[name] = function

    @functools.wraps(function)
    def dispatch(*args: Any, **kwargs: Any) -> Any:
        from graders.remote.peer import Remote

        proxy = next(
            (v for v in [*args, *kwargs.values()] if isinstance(v, Remote)),
            None,
        )
        if proxy is None:  # the learner's own kernel, or plain Python
            return function(*args, **kwargs)
        peer = proxy._peer
        return peer.request(
            "learner_side",
            function=name,
            args=peer.encode(list(args)),
            kwargs=peer.encode(dict(kwargs)),
        )

    return dispatch  # type: ignore[return-value]


def learner_function(name: str) -> Callable[..., Any]:
    """The @learner_side function called ``name``, imported from the graders package."""
    module, _, _ = name.rpartition(".")
    if not module.startswith("graders."):
        raise ValueError(f"{name} is not a graders function")
    if name not in LEARNER_SIDE:
        importlib.import_module(module)
    try:
        return LEARNER_SIDE[name]
    except KeyError:
        raise ValueError(f"{name} is not a learner-side function") from None
