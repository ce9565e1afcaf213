"""Fixtures shared by the graders' unit tests."""

from __future__ import annotations

import pytest

from graders import isolation


@pytest.fixture(params=["kernel", "checker"])
def where(request):
    """Each test that runs a learner's program twice: as a check runs it in the learner's own
    kernel (the program runs as it is), and as the trusted checker does, in a sandbox of its
    own (graders/isolation.py, course/sandbox.py's ``program_command``)."""
    if request.param == "kernel":
        yield request.param
        return
    from course.sandbox import Sandbox, program_command, unavailable_reason

    settings = Sandbox()
    reason = unavailable_reason(settings.bwrap)
    if reason is not None:
        pytest.skip(f"no sandbox here: {reason}")
    isolation.install(
        lambda command, folder, cwd: program_command(settings, folder, command, cwd=cwd)
    )
    try:
        yield request.param
    finally:
        isolation.install(None)
