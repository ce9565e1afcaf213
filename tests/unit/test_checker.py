"""The trusted checker's own parts: what it runs, what it copies, what it maps."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import nbformat
import pytest

from course.checker import CheckerPeer, Mirror, connect_unix_nofollow, is_work_path
from course.sandbox import Sandbox, program_command, unavailable_reason
from course.trusted import answer_names, bound_names, checker_cells, preloaded_modules


def notebook(*cells):
    made = []
    for source, meta in cells:
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["nbgrader"] = {"grade_id": f"c{len(made)}", **meta}
        made.append(cell)
    return nbformat.v4.new_notebook(cells=made)


LOCKED = {"locked": True, "solution": False, "grade": False}
ANSWER = {"locked": False, "solution": True, "grade": False}
CHECK = {"locked": True, "solution": False, "grade": True, "points": 1}


def test_the_checker_runs_locked_and_check_cells_and_takes_only_answer_names():
    source = notebook(
        ("from graders import Report\nKEY = {'a': 1}", LOCKED),
        ("def solve(x):\n    return x\nKEY = 'mine'\nhelper = 2", ANSWER),
        ("report = Report('x')\nassert solve(1) == KEY['a']", CHECK),
    )
    assert [c["kind"] for c in checker_cells(source)] == ["locked", "check"]
    # KEY is the instructor's: an answer rebinding it changes nothing in the checker
    assert answer_names(source) == ["helper", "solve"]


def test_bound_names_reads_magics_and_every_kind_of_binding():
    assert bound_names("%%writefile x.yaml\na: 1\n") == set()
    assert bound_names("import numpy as np, os.path\nfrom x import y as z\nclass A: pass\n"
                       "for i in range(2): pass\nwith open('f') as fh: pass\na, b = 1, 2") == {
        "np", "os", "z", "A", "i", "fh", "a", "b"}  # fmt: skip


@pytest.mark.parametrize(
    ("path", "allowed"),
    [("kubernetes_work/a.yaml", True), ("python_work/sub/t.py", True), ("yaml.py", False),
     ("kubernetes_work", False), (".hidden_work/x", False), ("a_work/../../etc/x", False)],
)  # fmt: skip
def test_only_files_of_work_folders_reach_the_checker(path, allowed):
    assert is_work_path(path) is allowed


def test_the_mirror_copies_regular_files_and_never_follows_a_link(tmp_path):
    learner, checker = tmp_path / "learner", tmp_path / "checker"
    (learner / "k_work" / "deep").mkdir(parents=True)
    checker.mkdir()
    secret = tmp_path / "solutions.txt"
    secret.write_text("the solution")
    (learner / "k_work" / "answer.yaml").write_text("kind: Service\n")
    (learner / "k_work" / "deep" / "more.txt").write_text("more")
    os.symlink(secret, learner / "k_work" / "link.yaml")
    os.symlink(tmp_path, learner / "k_work" / "folder-link")
    os.mkfifo(learner / "k_work" / "pipe.yaml")
    os.symlink(secret, learner / "linked_work")  # a work folder that is a link
    (learner / "top.py").write_text("import os")  # not in a work folder
    mirror = Mirror(checker, str(learner))
    mirror.pull()
    copied = sorted(p.relative_to(checker).as_posix() for p in checker.rglob("*") if p.is_file())
    assert copied == ["k_work/answer.yaml", "k_work/deep/more.txt"]
    assert not any(p.is_symlink() for p in checker.rglob("*"))
    assert "k_work/link.yaml (a link or unreadable)" in mirror.skipped
    assert "k_work/pipe.yaml (not a regular file)" in mirror.skipped
    # the check removes a file and writes one: both go back before the next call
    (checker / "k_work" / "answer.yaml").unlink()
    (checker / "k_work" / "fixture.csv").write_text("a,b\n")
    assert mirror.changes() == {"write": {"k_work/fixture.csv": b"a,b\n"},
                                "remove": ["k_work/answer.yaml"]}  # fmt: skip
    # a file the learner removes goes away from the copy
    (learner / "k_work" / "deep" / "more.txt").unlink()
    mirror.pull()
    assert not (checker / "k_work" / "deep" / "more.txt").exists()


def test_a_working_folder_replaced_by_a_link_is_not_followed(tmp_path):
    """The learner renames its working folder and puts a link to another's in its place:
    reached through /proc/<pid>/root, the link's absolute target would be the host's."""
    other = tmp_path / "classmate"
    (other / "k_work").mkdir(parents=True)
    (other / "k_work" / "answer.yaml").write_text("a classmate's answer")
    learner, checker = tmp_path / "learner", tmp_path / "checker"
    checker.mkdir()
    os.symlink(other, learner)
    mirror = Mirror(checker, str(learner))
    mirror.pull()
    assert not any(checker.rglob("*"))
    assert any("cannot be read" in note for note in mirror.skipped)


def test_the_checker_connects_only_to_a_socket_never_through_a_link(tmp_path):
    real = tmp_path / "real.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(real))
    server.listen(1)
    os.symlink(real, tmp_path / "agent.sock")  # a learner's link to a socket it chose
    with socket.socket(socket.AF_UNIX) as client, pytest.raises(ConnectionRefusedError):
        connect_unix_nofollow(client, str(tmp_path / "agent.sock"))
    with socket.socket(socket.AF_UNIX) as client:
        connect_unix_nofollow(client, str(real))
    server.close()


def test_exceptions_of_instructor_classes_arrive_as_those_classes():
    trusted_end, learner_end = socket.socketpair()
    peer = CheckerPeer(trusted_end)

    class ConfigError(ValueError):
        pass

    ConfigError.__module__ = "__main__"  # defined by a locked cell
    peer.namespace = {"ConfigError": ConfigError}
    error = peer.import_error({"type": "ConfigError", "message": "line 3"})
    assert type(error) is ConfigError and str(error) == "line 3"
    assert type(peer.import_error({"type": "KeyError", "message": "k"})) is KeyError
    foreign = peer.import_error({"type": "SystemExit", "message": "0"})
    assert isinstance(foreign, Exception) and not isinstance(foreign, SystemExit)
    trusted_end.close()
    learner_end.close()


@pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
def test_a_learner_program_sees_only_its_folder(tmp_path):
    """A learner's test suite run by a check: its folder writable, nothing else."""
    folder = tmp_path / "run"
    folder.mkdir()
    outside = tmp_path / "checker-files"
    outside.mkdir()
    (outside / "hidden.txt").write_text("hidden tests")
    probe = (
        "import os, pathlib, socket\n"
        f"print('sees-outside', os.path.exists({str(outside)!r}))\n"
        "pathlib.Path('written.txt').write_text('ok')\n"
        "try:\n"
        "    socket.create_connection(('127.0.0.1', 22), timeout=1)\n"
        "    print('network yes')\n"
        "except OSError:\n"
        "    print('network no')\n"
        "print('pids', len([p for p in os.listdir('/proc') if p.isdigit()]))\n"
    )
    command = program_command(Sandbox(), folder, ["python3", "-c", probe])
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "sees-outside False" in done.stdout
    assert "network no" in done.stdout
    assert int(done.stdout.split("pids ")[1]) <= 3  # its own processes only
    assert (folder / "written.txt").read_text() == "ok"


def test_the_checker_server_imports_what_checks_and_support_code_import(tmp_path):
    """The zygote imports once per grading process what the checks import, and what the
    module's support code imports (06's rides.py: scikit-learn), so no notebook's checker
    imports them again."""
    (tmp_path / "rides.py").write_text(
        "import dagster as dg\nfrom sklearn.metrics import f1_score\n"
    )
    (tmp_path / "broken.py").write_text("def (:\n")  # not Python: skipped
    cells = [{"source": "%matplotlib inline\nimport pandas as pd\nfrom graders.pipeline import x"}]
    preload = preloaded_modules(cells, tmp_path)
    assert {"pandas", "graders.pipeline", "dagster", "sklearn.metrics", "graders"} <= set(preload)


def test_a_checker_cannot_take_the_grading_machines_memory(tmp_path):
    """A checker runs outside every sandbox and reads what learner code sends it: each one
    the zygote forks has an address-space limit (4x the sandbox's memory, as a sandbox
    without a cgroup), so a hostile answer cannot starve the other students' grading."""
    from course.trusted import CheckerProcess

    limit = 4 * 256 * 2**20
    checker = CheckerProcess(tmp_path, ["graders"], limit)
    try:
        answer = checker.ask({"op": "start", "cells": [], "answer_names": [], "timeout": 5}, 10)
        assert answer == {"ok": True}  # it serves within the limit
        limits = Path(f"/proc/{checker.pid}/limits").read_text()
        line = next(row for row in limits.splitlines() if row.startswith("Max address space"))
        assert line.split()[3:5] == [str(limit), str(limit)], line
    finally:
        checker.stop()
