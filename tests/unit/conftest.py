"""Fixtures shared by the graders' unit tests."""

from __future__ import annotations

import socket
import threading

import pytest

from course.checker import CheckerPeer
from graders import isolation
from graders.remote.agent import Agent


@pytest.fixture(params=["kernel", "checker"])
def where(request):
    """Each test that runs a learner's program twice: as a check runs it in the learner's own
    kernel (the program runs as it is), and as the trusted checker does, in a sandbox of its
    own (graders/isolation.py, course/sandbox.py's ``program_command``)."""
    if request.param == "kernel":
        yield request.param
        return
    from course.checker import sandbox_learner_programs
    from course.sandbox import Sandbox, unavailable_reason

    reason = unavailable_reason(Sandbox().bwrap)
    if reason is not None:
        pytest.skip(f"no sandbox here: {reason}")
    sandbox_learner_programs()  # as the checker does
    assert isolation.sandboxed()
    try:
        yield request.param
    finally:
        isolation.install(None)


class Link:
    """A checker peer talking to an agent that serves ``namespace`` on its own thread."""

    def __init__(self, namespace):
        trusted_end, learner_end = socket.socketpair()
        self.agent_ready = threading.Event()
        self.thread = threading.Thread(target=self._serve, args=(learner_end, namespace))
        self.thread.start()
        self.agent_ready.wait(5)
        self.checker = CheckerPeer(trusted_end, call_timeout=10).start()

    def _serve(self, sock, namespace):
        self.agent = Agent(sock, namespace).start()
        self.agent_ready.set()
        self.agent.serve_until_bye()
        self.agent.close()

    def names(self, *names):
        return self.checker.request("names", names=list(names))

    def close(self):
        self.checker.request("bye", timeout=5)
        self.checker.close()
        self.thread.join(5)


@pytest.fixture
def link():
    links = []

    def make(namespace):
        links.append(Link(namespace))
        return links[-1]

    yield make
    for one in links:
        one.close()
