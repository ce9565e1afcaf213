"""The sandbox's command line and file choices (the live sandbox: tests/security)."""

from __future__ import annotations

from pathlib import Path

from course.sandbox import (
    Sandbox,
    _graded_notebooks,
    _with_connection_file,
    bwrap_command,
    rlimits,
)


def _command(tmp_path: Path) -> list[str]:
    return bwrap_command(Sandbox(), tmp_path, "01-python", ["python", "-f", "x.json"], 9)


def test_the_sandbox_mounts_its_own_folders_before_any_host_path(tmp_path):
    """bwrap mounts in order: a tmpfs on /tmp after the venv's bind would hide a course
    checked out under /tmp (CI's fresh clone was, and no kernel could start)."""
    command = _command(tmp_path)
    last_tmpfs = max(i for i, arg in enumerate(command) if arg == "--tmpfs")
    first_bind = min(i for i, arg in enumerate(command) if arg in ("--ro-bind", "--bind"))
    assert last_tmpfs < first_bind


def test_the_sandbox_has_no_network_no_capabilities_and_a_clean_environment(tmp_path):
    command = _command(tmp_path)
    for flag in (
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--die-with-parent",
        "--clearenv",
        "--new-session",
    ):
        assert flag in command
    assert "--share-net" not in command and "--cap-add" not in command
    binds = [command[i + 2] for i, arg in enumerate(command) if arg == "--bind"]
    assert binds == [], f"nothing of the host may be writable: {binds}"


def test_the_graded_notebook_never_enters_the_sandbox():
    assert _graded_notebooks("/x/01-python", ["python.ipynb", "data", "metrics.py"]) == {
        "python.ipynb"
    }
    assert _graded_notebooks("/x/.ipynb_checkpoints", ["a", "b"]) == {"a", "b"}


def test_the_kernel_reads_the_connection_file_inside_the_sandbox():
    assert _with_connection_file(["py", "-m", "k", "-f", "/host/c.json"], "/run/c.json") == [
        "py",
        "-m",
        "k",
        "-f",
        "/run/c.json",
    ]


def test_without_a_cgroup_memory_falls_back_to_an_address_space_limit():
    limits = rlimits(Sandbox(memory_mb=100), cgroup=None)
    assert f"as={4 * 100 * 2**20}" in limits and "core=0" in limits
