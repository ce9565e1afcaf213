"""The git repository and pre-commit grader, on real repositories built with the git CLI."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from graders import Report
from graders import gitrepo as g

pytestmark = pytest.mark.skipif(not g.git_available(), reason="git is not installed")

GOOD_SCRIPT = """\
set -euo pipefail
git init -q -b main
printf 'data/\\nmodels/\\n.env*\\n__pycache__/\\n*.pyc\\n' > .gitignore
git add .
git commit -q -m "Add the churn model project"
git switch -q -c feature/model-card
echo "# Model card" > MODEL_CARD.md
git add MODEL_CARD.md
git commit -q -m "Add a model card for the churn model"
git switch -q main
git merge -q --no-edit feature/model-card
git tag -a v1.0.0 -m "Churn model v1.0.0"
"""


def findings_text(report: Report) -> str:
    return "\n".join(f.to_text() for f in report.findings)


def make_project(root: Path) -> Path:
    project = root / "churn-model"
    for path, text in {
        "churn_model.py": "x = 1\n",
        "tests/test_smoke.py": "def test_x():\n    assert True\n",
        "requirements.txt": "pandas\n",
        ".github/workflows/ci.yml": "on: push\n",
        "data/churn.csv": "a,b\n1,2\n",
        "models/model.joblib": "binary",
        ".env": "TOKEN=secret\n",
    }.items():
        (project / path).parent.mkdir(parents=True, exist_ok=True)
        (project / path).write_text(text)
    return project


def build(tmp_path: Path, script: str) -> tuple[Report, g.Git | None]:
    project = make_project(tmp_path)
    env = g.git_env(project, home=tmp_path)
    (tmp_path / "version.sh").write_text(script)
    report = Report("t")
    if not g.run_repo_script(report, tmp_path / "version.sh", project, env, timeout=20):
        return report, None
    return report, g.Git(project, env)


def check_all(report: Report, git: g.Git) -> None:
    assert g.check_repository(report, git, location="repo")
    g.check_branch(report, git, "main", location="repo")
    g.check_ignored(
        report,
        git,
        ignored=[
            "data/churn.csv",
            "data/raw/x.parquet",
            "models/model.joblib",
            ".env",
            ".env.local",
            "a/b.pyc",
        ],
        tracked=["churn_model.py", "tests/test_smoke.py", ".gitignore", ".github/workflows/ci.yml"],
        location="repo",
    )
    g.check_never_committed(
        report, git, [r"^data/", r"^models/", r"(^|/)\.env"], location="repo", what="data"
    )
    if g.check_branch(report, git, "feature/model-card", location="repo"):
        g.check_merged_feature(
            report, git, "feature/model-card", "main", "MODEL_CARD.md", location="repo"
        )
    if g.check_release_tag(report, git, "v1.0.0", "main", location="repo"):
        g.check_annotated_tag(report, git, "v1.0.0", location="repo")
    g.check_commit_messages(report, git, location="repo")
    g.check_clean_worktree(report, git, location="repo")
    g.check_current_branch(report, git, "main", location="repo")


@pytest.mark.usefixtures("where")
def test_a_good_script_passes_every_check(tmp_path):
    report, git = build(tmp_path, GOOD_SCRIPT)
    assert git is not None, findings_text(report)
    check_all(report, git)
    assert report.ok, findings_text(report)


@pytest.mark.parametrize(
    ("change", "location", "text"),
    [
        # once tracked, a file is no longer "ignored" either: several findings, one cause
        (
            ("git add .\n", "git add -f data models .env\ngit add .\n"),
            "repo: ",
            "data must never be committed",
        ),
        ((".env*", ".env"), "repo: .gitignore", ".env.local is not ignored"),
        (("data/\\n", "*.csv\\n"), "repo: .gitignore", "data/raw/x.parquet is not ignored"),
        (("*.pyc\\n", "*.pyc\\n*.py\\n"), "repo: .gitignore", "churn_model.py would be ignored"),
        (
            ('git tag -a v1.0.0 -m "Churn model v1.0.0"', "git tag v1.0.0"),
            "repo: tag v1.0.0",
            "should be annotated",
        ),
        (
            ('git tag -a v1.0.0 -m "Churn model v1.0.0"', "git tag -a v1.0 -m 'Churn model'"),
            "repo: tag v1.0.0",
            "there is no tag v1.0.0",
        ),
        (
            ("git merge -q --no-edit feature/model-card\n", ""),
            "repo: branch main",
            "is not merged into main",
        ),
        (('-m "Add a model card for the churn model"', '-m "wip"'), "repo: commit", "'wip'"),
        (
            ('v1.0.0"\n', 'v1.0.0"\ngit switch -q feature/model-card\n'),
            "repo: HEAD",
            "should end on main",
        ),
        (
            ("git tag -a v1.0.0", "touch notes.txt\ngit tag -a v1.0.0"),
            "repo: working tree",
            "notes.txt",
        ),
    ],
    ids=[
        "data-committed",
        "env-variants",
        "data-by-extension",
        "ignores-code",
        "lightweight-tag",
        "wrong-tag",
        "not-merged",
        "wip-message",
        "ends-on-feature",
        "untracked-file",
    ],
)
def test_each_mistake_is_one_located_finding(tmp_path, change, location, text):
    old, new = change
    assert old in GOOD_SCRIPT
    report, git = build(tmp_path, GOOD_SCRIPT.replace(old, new, 1))
    assert git is not None, findings_text(report)
    check_all(report, git)
    assert not report.ok
    assert all(f.location.startswith(location) for f in report.findings), findings_text(report)
    assert text in findings_text(report)


def test_a_later_delete_does_not_hide_a_committed_secret(tmp_path):
    script = GOOD_SCRIPT.replace(
        "git add .\n",
        "git add -f .env\ngit commit -q -m 'Add the api token'\ngit rm -q --cached "
        ".env\ngit add .\n",
        1,
    )
    report, git = build(tmp_path, script)
    check_all(report, git)
    assert [f.location for f in report.findings] == ["repo: history"]
    assert ".env (in " in findings_text(report)


@pytest.mark.usefixtures("where")
def test_a_failing_script_is_one_finding_with_its_output(tmp_path):
    report, git = build(tmp_path, "set -e\ngit init -q -b main\ngit comit -m 'Add it all'\n")
    assert git is None
    assert [f.location for f in report.findings] == [str(tmp_path / "version.sh")]
    assert "comit" in findings_text(report)


@pytest.mark.usefixtures("where")
def test_a_script_that_opens_an_editor_times_out(tmp_path):
    project = make_project(tmp_path)
    env = {**g.git_env(project, home=tmp_path), "GIT_EDITOR": "sleep 60 #"}
    (tmp_path / "v.sh").write_text("git init -q -b main\ngit add .\ngit commit -q\n")
    report = Report("t")
    assert not g.run_repo_script(report, tmp_path / "v.sh", project, env, timeout=3)
    assert "did not finish" in findings_text(report)


@pytest.mark.usefixtures("where")
def test_no_git_init_never_commits_into_an_enclosing_repository(tmp_path):
    outer = tmp_path / "outer"
    outer.mkdir()
    subprocess.run(["git", "init", "-q", str(outer)], check=True)
    report, git = build(outer, "git add . && git commit -q -m 'Add the whole project'\n")
    assert git is None  # git refuses: there is no repository here, and it does not look up
    assert "not a git repository" in findings_text(report).lower()


@pytest.mark.parametrize("where", ["checker"], indirect=True)
def test_in_the_checker_a_script_reaches_only_its_copy_of_the_project(tmp_path, where):
    """From the trusted checker a learner's script runs in a sandbox of its own: it can
    neither read nor change anything outside the project copy, nor reach the network."""
    course = tmp_path / "course"
    course.mkdir()
    (course / "solution.sh").write_text("the instructor's answer\n")
    script = (
        "git init -q -b main\n"
        f"cat {course}/solution.sh > stolen.txt 2>/dev/null || echo unread > stolen.txt\n"
        f"echo forged > {course}/solution.sh 2>/dev/null || true\n"
        f"echo planted > {tmp_path}/planted.txt 2>/dev/null || true\n"
        "(exec 3<>/dev/tcp/127.0.0.1/22) 2>/dev/null && echo yes > net.txt || echo no > net.txt\n"
    )
    report, git = build(tmp_path, script)
    assert git is not None, findings_text(report)
    project = tmp_path / "churn-model"
    assert (project / "stolen.txt").read_text() == "unread\n"
    assert (course / "solution.sh").read_text() == "the instructor's answer\n"
    assert not (tmp_path / "planted.txt").exists()
    assert (project / "net.txt").read_text() == "no\n"


def test_an_empty_repository_is_reported(tmp_path):
    report, git = build(tmp_path, "git init -q -b main\n")
    assert not g.check_repository(report, git, location="repo")
    assert "no commits" in findings_text(report)


def test_a_placeholder_script_is_not_run(tmp_path):
    report, git = build(tmp_path, "# YOUR ANSWER HERE\nraise NotImplementedError()\n")
    assert git is None and not report.ok
    assert not (tmp_path / "churn-model" / ".git").exists()


# -- pre-commit --------------------------------------------------------------------------------

GOOD_CONFIG = """\
repos:
  - repo: https://github.com/astral-sh/ruff-pre-commit
    rev: "v0.6.9"
    hooks:
      - id: ruff-check
        args: [--fix]
      - id: ruff-format
  - repo: https://github.com/pre-commit/pre-commit-hooks
    rev: v4.6.0
    hooks:
      - id: check-added-large-files
  - repo: local
    hooks:
      - id: pytest
        name: pytest
        entry: python -m pytest
        language: system
"""


def precommit(tmp_path: Path, text: str) -> Report:
    path = tmp_path / "pre-commit-config.yaml"
    path.write_text(text)
    report = Report("t")
    doc = g.check_precommit_config(report, path, name="cfg")
    if doc is not None:
        g.check_precommit_revs(report, doc)
    return report


def test_a_good_precommit_config_passes(tmp_path):
    report = precommit(tmp_path, GOOD_CONFIG)
    assert report.ok, findings_text(report)


def test_the_old_ruff_repository_url_and_hook_name_are_accepted(tmp_path):
    text = GOOD_CONFIG.replace("astral-sh", "charliermarsh").replace("ruff-check", "ruff")
    assert precommit(tmp_path, text.replace("https://github.com/", "git@github.com:")).ok


@pytest.mark.parametrize(
    ("old", "new", "location", "text"),
    [
        ("      - id: ruff-format\n", "", "cfg: repos", "'ruff-format' is missing"),
        ("id: ruff-check", "id: flake8", "cfg: repos", "'ruff' is missing"),
        (
            "id: check-added-large-files",
            "id: check-yaml",
            "cfg: repos",
            "'check-added-large-files'",
        ),
        ('rev: "v0.6.9"', "rev: main", "cfg: repos[0].rev", "must pin a release"),
        ("rev: v4.6.0", "rev: 4.6", "cfg: repos[1].rev", "4.6"),
        ('    rev: "v0.6.9"\n', "", "cfg: repos[0]", "needs `rev:`"),
        ("args: [--fix]", "args: [--exit-zero]", "cfg: repos[0].hooks[0].args", "--exit-zero"),
        ("repos:\n", "repos:\nrepo: x\n", "cfg", ""),
        (
            "      - id: ruff-format\n",
            "      - ruff-format\n",
            "cfg: repos[0].hooks[1]",
            "needs an `id:`",
        ),
    ],
    ids=[
        "no-format",
        "no-ruff",
        "no-large-files",
        "branch-rev",
        "float-rev",
        "no-rev",
        "exit-zero",
        "bad-yaml",
        "hook-without-id",
    ],
)
def test_each_precommit_mistake_is_located(tmp_path, old, new, location, text):
    assert old in GOOD_CONFIG
    report = precommit(tmp_path, GOOD_CONFIG.replace(old, new, 1))
    assert not report.ok
    assert any(f.location.startswith(location) for f in report.findings), findings_text(report)
    assert text in findings_text(report)
