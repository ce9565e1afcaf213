"""Checks run the instructor's tools, found where installed, and never a repository's code."""

from __future__ import annotations

import subprocess

import pytest

from graders import gitrepo as g
from graders.tools import tool_path

pytestmark = pytest.mark.skipif(tool_path("git") is None, reason="git is not installed")


def test_a_tool_is_never_found_through_path(tmp_path, monkeypatch):
    fake = tmp_path / "git"
    fake.write_text("#!/bin/sh\necho fake\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    assert tool_path("git") != fake
    assert tool_path("no-such-tool-anywhere") is None


def test_inspecting_a_repository_runs_none_of_its_code(tmp_path):
    repo, marker = tmp_path / "repo", tmp_path / "ran.txt"
    repo.mkdir()
    env = g.git_env(repo, home=tmp_path)
    plain = [str(tool_path("git"))]

    def git(*args: str) -> None:
        subprocess.run([*plain, *args], cwd=repo, env=env, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    (repo / "model.txt").write_text("v1\n")
    git("add", ".")
    git("commit", "-q", "-m", "Add the model")
    # what a learner's repository can ask git to run: a monitor, a filter, a pager, a diff
    run_it = f"touch {marker}; cat"
    git("config", "core.fsmonitor", f"touch {marker}")
    git("config", "filter.evil.clean", run_it)
    git("config", "filter.evil.smudge", run_it)
    git("config", "diff.evil.textconv", f"touch {marker}; cat")
    git("config", "core.pager", run_it)
    (repo / ".gitattributes").write_text("* filter=evil diff=evil\n")
    (repo / "model.txt").write_text("v2\n")

    inspector = g.Git(repo, env)
    assert inspector.ok("status", "--porcelain")
    assert "model.txt" in inspector.out("diff")
    assert inspector.out("log", "--oneline")
    assert not marker.exists(), "inspecting the repository ran a command it configured"


def test_run_tool_never_raises_and_says_what_happened(tmp_path):
    from graders.tools import run_tool

    done = run_tool(["/bin/sh", "-c", "echo out; echo err >&2; exit 3"], timeout=10)
    assert (done.status, done.stdout, done.stderr, done.error) == (3, "out\n", "err\n", None)
    hung = run_tool(["/bin/sh", "-c", "echo started; sleep 30"], timeout=0.5)
    assert hung.status is None and hung.error is None and not hung.finished
    missing = run_tool([str(tmp_path / "no-such-tool")], timeout=10)
    assert missing.status is None and "no-such-tool" in (missing.error or "")
