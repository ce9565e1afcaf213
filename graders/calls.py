"""Checks about what a learner's function does across several calls.

A result that comes back from the learner's kernel to the trusted checker is a copy, so a
check there cannot see a later call change an earlier result (a module-level template
shared after a shallow ``.copy()``). :func:`first_result_across_calls` makes the calls
beside the learner's function (graders.remote) and returns the first result as it was and
as it is after the other calls, as data.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

from graders.remote import learner_side


@learner_side
def first_result_across_calls(
    function: Callable[..., Any], calls: Sequence[tuple[tuple, dict]]
) -> tuple[Any, Any]:
    """``function(*args, **kwargs)`` for each call in order: the first call's result just
    after it returned, and the same object after the later calls."""
    (args, kwargs), *later = calls
    first = function(*args, **kwargs)
    before = copy.deepcopy(first)
    for args, kwargs in later:
        function(*args, **kwargs)
    return before, first
