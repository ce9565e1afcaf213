"""The kernel-reply poll that cannot sleep through a message already waiting."""

from __future__ import annotations

import asyncio
import time
from queue import Empty

import pytest
from jupyter_client.channels import AsyncZMQSocketChannel

from course import nbclient_fix


class MissedWakeupSocket:
    """A socket whose first poll misses the message that is already queued, as the zmq
    socket sometimes does when a cell opens widgets."""

    def __init__(self, polls_until_seen: int):
        self.polls_until_seen = polls_until_seen
        self.waits_ms: list[int] = []

    async def poll(self, timeout_ms):
        self.waits_ms.append(timeout_ms)
        self.polls_until_seen -= 1
        return self.polls_until_seen <= 0


class Channel:
    def __init__(self, socket):
        self.socket = socket

    async def _recv(self):
        return {"msg_type": "execute_reply"}


def get_msg(channel, timeout):
    return asyncio.run(nbclient_fix._get_msg_in_slices(channel, timeout))


def test_a_missed_wakeup_costs_one_slice_not_the_whole_timeout():
    socket = MissedWakeupSocket(polls_until_seen=2)
    assert get_msg(Channel(socket), timeout=60) == {"msg_type": "execute_reply"}
    assert socket.waits_ms == [500, 500], "every poll must be a short slice of the deadline"


def test_no_message_still_ends_at_the_deadline_with_empty():
    socket = MissedWakeupSocket(polls_until_seen=10**9)
    socket.poll = _sleeping_poll(socket.poll)
    start = time.monotonic()
    with pytest.raises(Empty):
        get_msg(Channel(socket), timeout=1.2)
    assert 1.2 <= time.monotonic() - start < 2.5
    assert max(socket.waits_ms) <= 500


def test_no_timeout_means_wait_until_a_message_comes():
    socket = MissedWakeupSocket(polls_until_seen=5)
    assert get_msg(Channel(socket), timeout=None)["msg_type"] == "execute_reply"
    assert len(socket.waits_ms) == 5


def test_install_is_idempotent_and_grading_installs_it(monkeypatch):
    from traitlets.config import Config

    from course.hardening import configure_nbgrader

    async def unpatched(self, timeout=None):
        raise AssertionError("not replaced")

    monkeypatch.setattr(AsyncZMQSocketChannel, "get_msg", unpatched)
    configure_nbgrader(Config())
    assert AsyncZMQSocketChannel.get_msg is nbclient_fix._get_msg_in_slices
    nbclient_fix.install()
    assert AsyncZMQSocketChannel.get_msg is nbclient_fix._get_msg_in_slices


def _sleeping_poll(poll):
    async def sleeping(timeout_ms):
        await asyncio.sleep(timeout_ms / 1000)
        return await poll(timeout_ms)

    return sleeping
