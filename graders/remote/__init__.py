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

The other way round, a check may hand learner code an object of its own to use (a stand-in
Docker client): the learner's side then holds a handle, and each use is a request to the
checker. Learner code may call such a handle, and read attributes of it that are data. An
attribute that is an object (``client.images``) or a method (``container.reload``) is handed
out only when its class is declared with :func:`exposed`: that class's public surface is
meant for learner code, and nothing else of the checker's is reachable from it.
"""

from __future__ import annotations

import functools
import importlib
import types
from collections.abc import Callable
from typing import Any, TypeVar

from graders.remote.codec import remote_data

__all__ = ["exposed", "is_exposed", "learner_function", "learner_side", "remote_data"]

F = TypeVar("F", bound=Callable[..., Any])

# Classes of the checker's whose public attributes learner code may hold as handles.
EXPOSED: set[type] = set()


def exposed(cls: type) -> type:
    """Declare ``cls``'s public attributes and methods fit for learner code (see above)."""
    EXPOSED.add(cls)
    return cls


def is_exposed(value: Any) -> bool:
    """``value`` is an instance of an exposed class, or a method bound to one."""
    owner = value.__self__ if isinstance(value, types.MethodType) else value
    return type(owner) in EXPOSED


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

        proxy = _first_proxy([*args, *kwargs.values()], Remote)
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


def _first_proxy(values: list, remote: type, depth: int = 0) -> Any:
    """The first proxy among ``values``, looking into lists, tuples and dict values too (a
    check passes a learner's definitions as a list)."""
    for value in values:
        if isinstance(value, remote):
            return value
        if depth < 3 and isinstance(value, (list, tuple, dict)):
            inner = list(value.values()) if isinstance(value, dict) else list(value)
            found = _first_proxy(inner, remote, depth + 1)
            if found is not None:
                return found
    return None


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
