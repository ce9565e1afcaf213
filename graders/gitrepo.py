"""Grade a git repository by asking git itself, and a pre-commit configuration by its shape.

Everything runs the real ``git`` CLI in a subprocess with an environment of its own: no
global or system configuration is read (a fresh laptop, a container or a CI runner has
none), the identity comes from ``GIT_AUTHOR_*``/``GIT_COMMITTER_*`` as it does in CI, and
``GIT_CEILING_DIRECTORIES`` stops git from walking up into an enclosing repository (the
course's own), so a script that forgot ``git init`` cannot commit into it. The git that
inspects a learner's repository is the installed one (never one found through PATH), with
the repository's own hooks, monitor, pager, external diff and content filters switched off
(``graders.tools``): looking at a repository never runs its code.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from graders.actions import YamlDoc, load_yaml
from graders.artefacts import read_artefact
from graders.isolation import learner_process
from graders.report import Report, short_repr
from graders.tools import (
    DIFF_COMMANDS,
    NO_DIFF_DRIVERS,
    SAFE_PATH,
    git_filter_options,
    git_safety_options,
    run_tool,
    tool_path,
)

IDENTITY = {
    "GIT_AUTHOR_NAME": "Course Learner",
    "GIT_AUTHOR_EMAIL": "learner@example.com",
    "GIT_COMMITTER_NAME": "Course Learner",
    "GIT_COMMITTER_EMAIL": "learner@example.com",
}
GIT_TIMEOUT = 20
MAX_SCRIPT_BYTES = 100_000  # a script is passed as one argument: the kernel allows 128 kB
GENERIC_MESSAGES = {
    "wip", "update", "updates", "updated", "fix", "fixes", "fixed", "change", "changes",
    "stuff", "commit", "test", "tmp", "temp", "asdf", "misc", "more", "done", "save", ".",
}  # fmt: skip


def git_env(workdir: Path, home: Path) -> dict[str, str]:
    """An environment in which git sees no configuration but the repository's own."""
    return {
        "PATH": SAFE_PATH,
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CEILING_DIRECTORIES": str(Path(workdir).resolve().parent),
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_PAGER": "cat",
        "LC_ALL": "C",
        **IDENTITY,
    }


@dataclass(frozen=True)
class Git:
    """Runs ``git`` in one repository folder with an isolated environment."""

    repo: Path
    env: dict[str, str]

    def run(self, *args: str) -> subprocess.CompletedProcess:
        if args and args[0] in DIFF_COMMANDS:
            args = (args[0], *NO_DIFF_DRIVERS, *args[1:])
        return self._git([*self.safety(), *args])

    def _git(self, argv: list[str]) -> subprocess.CompletedProcess:
        """The real git with ``argv`` in the repository; one that cannot start or times out
        comes back as exit status 128 with the reason as its stderr."""
        git = str(tool_path("git") or "git")
        done = run_tool([git, *argv], cwd=self.repo, env=self.env, timeout=GIT_TIMEOUT)
        if done.status is None:
            reason = done.error or f"git did not finish within {GIT_TIMEOUT} s"
            return subprocess.CompletedProcess(["git", *argv], 128, done.stdout, reason)
        return subprocess.CompletedProcess(["git", *argv], done.status, done.stdout, done.stderr)

    def safety(self) -> list[str]:
        """Options that switch off what the repository's own config would run."""
        listed = self._git(["config", "--local", "--name-only", "--list"]).stdout.split()
        return git_safety_options() + git_filter_options(listed)

    def out(self, *args: str) -> str:
        """stdout of a command that must succeed, stripped; empty when it failed."""
        done = self.run(*args)
        return done.stdout.strip() if done.returncode == 0 else ""

    def ok(self, *args: str) -> bool:
        return self.run(*args).returncode == 0


def git_available() -> bool:
    return tool_path("git") is not None


def run_repo_script(
    report: Report, script: Path, workdir: Path, env: dict[str, str], *, timeout=30
):
    """Run a learner's bash script in ``workdir``; a failure or a hang becomes a finding.

    From the trusted checker it runs in a sandbox of its own in which only ``workdir`` is
    writable (graders/isolation.py)."""
    text = read_artefact(report, script, what="script")
    if text is None:
        return False
    if len(text.encode()) > MAX_SCRIPT_BYTES:
        report.fail(str(script), f"the script is larger than {MAX_SCRIPT_BYTES // 1000} kB")
        return False
    # The script's text is handed to bash (its name as $0, as `bash version.sh` would), so
    # that in a sandbox of its own (graders/isolation.py) only the copy it works on is there.
    command = [str(tool_path("bash") or "bash"), "-c", text, str(script)]
    argv, host_env = learner_process(command, workdir, env=env)
    done = run_tool(argv, cwd=workdir, env=host_env, timeout=timeout)
    if done.error is not None:
        report.fail(str(script), f"bash could not be started: {done.error}")
        return False
    if done.status is None:
        report.fail(
            str(script),
            f"the script did not finish within {timeout} s",
            hint="Something waits for input: an editor opened by `git commit` without -m, or a "
            "`git merge` without --no-edit.",
        )
        return False
    output = "\n".join(done.output.strip().splitlines()[-10:])
    return report.check(
        done.status == 0,
        str(script),
        "the script failed (run in a fresh copy of the project)",
        expected="exit status 0",
        found=f"exit status {done.status}\n{output}",
        hint="Read the last lines above. With `set -e` the script stops at the first failing "
        "command; run it again in a fresh copy to reproduce.",
    )


# -- the repository --------------------------------------------------------------------------


def check_repository(report: Report, git: Git, *, location: str) -> bool:
    """The folder is the top of a repository of its own with at least one commit."""
    top = git.out("rev-parse", "--show-toplevel")
    is_repo = bool(top) and Path(top).resolve() == git.repo.resolve()
    report.check(
        is_repo,
        location,
        "the project folder is not a git repository",
        expected="a .git folder in the project root",
        found=top or "no repository",
        hint="Start the script with `git init -b main`.",
    )
    if not is_repo:
        return False
    return report.check(
        git.ok("rev-parse", "--verify", "--quiet", "HEAD"),
        location,
        "the repository has no commits",
        hint="git add … then git commit -m '…'",
    )


def check_branch(report: Report, git: Git, branch: str, *, location: str, hint: str = "") -> bool:
    return report.check(
        git.ok("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"),
        f"{location}: branch {branch}",
        f"there is no branch named {branch}",
        found=f"branches {git.out('branch', '--format=%(refname:short)').split() or 'none'}",
        hint=hint or None,
    )


def check_current_branch(report: Report, git: Git, branch: str, *, location: str) -> None:
    current = git.out("symbolic-ref", "--short", "-q", "HEAD")
    report.check(
        current == branch,
        f"{location}: HEAD",
        f"the script should end on {branch}",
        expected=branch,
        found=current or "a detached HEAD",
        hint=f"git switch {branch} before merging into it",
    )


def check_merged_feature(
    report: Report, git: Git, feature: str, main: str, added_file: str, *, location: str
) -> None:
    """``feature`` has a commit of its own adding ``added_file``, merged into ``main``."""
    adding = git.out("log", "--diff-filter=A", "--format=%H", feature, "--", added_file).split()
    root = git.out("rev-list", "--max-parents=0", main).split()
    report.check(
        bool(adding) and adding[-1] not in root,
        f"{location}: branch {feature}",
        f"{added_file} should be added by a commit on {feature}, after the first commit on {main}",
        found=f"commits on {feature}: {git.out('log', '--oneline', feature) or 'none'}",
        hint=f"git switch -c {feature}, then add and commit {added_file} there",
    )
    report.check(
        git.ok("merge-base", "--is-ancestor", feature, main),
        f"{location}: branch {main}",
        f"{feature} is not merged into {main}",
        found=git.out("log", "--oneline", "--graph", "--all") or "no history",
        hint=f"git switch {main} && git merge --no-edit {feature}",
    )


def check_release_tag(report: Report, git: Git, tag: str, main: str, *, location: str) -> bool:
    where = f"{location}: tag {tag}"
    if not report.check(
        git.ok("rev-parse", "--verify", "--quiet", f"refs/tags/{tag}"),
        where,
        f"there is no tag {tag}",
        found=f"tags {git.out('tag', '--list').split() or 'none'}",
        hint=f"git tag -a {tag} -m 'Churn model {tag}: …'",
    ):
        return False
    report.check_equal(
        git.out("rev-parse", f"refs/tags/{tag}^{{commit}}")[:12],
        git.out("rev-parse", main)[:12],
        where,
        f"the release tag should point at the tip of {main} (after the merge)",
        hint="Tag last, once the feature is merged.",
    )
    return True


def check_annotated_tag(report: Report, git: Git, tag: str, *, location: str) -> None:
    kind = git.out("cat-file", "-t", f"refs/tags/{tag}")
    report.check(
        kind == "tag",
        f"{location}: tag {tag}",
        "a release tag should be annotated: it records who tagged, when, and why",
        expected="an annotated tag (object type 'tag')",
        found=f"a lightweight tag (object type {kind!r})" if kind else "no tag",
        hint=f"git tag -a {tag} -m 'Churn model {tag}: …'",
    )
    if kind == "tag":
        message = git.out("tag", "-l", "--format=%(contents)", tag)
        report.check(
            bool(message.strip()),
            f"{location}: tag {tag}",
            "the tag message is empty",
            hint="Say what is released: -m 'Churn model v1.0.0: logistic regression, 0.89'",
        )


def all_committed_paths(git: Git) -> dict[str, str]:
    """Every path in every commit of every branch and tag, with one commit that has it."""
    paths: dict[str, str] = {}
    for commit in git.out("rev-list", "--all").split():
        for path in git.out("ls-tree", "-r", "--name-only", commit).splitlines():
            paths.setdefault(path, commit[:7])
    return paths


def check_never_committed(
    report: Report, git: Git, patterns: Iterable[str], *, location: str, what: str
) -> None:
    """No commit, anywhere in the history, contains a path matching one of ``patterns``."""
    compiled = [re.compile(p) for p in patterns]
    leaked = {
        path: commit
        for path, commit in all_committed_paths(git).items()
        if any(p.search(path) for p in compiled)
    }
    report.check(
        not leaked,
        f"{location}: history",
        f"{what} must never be committed, in any commit: the history keeps them forever "
        "(a later delete does not remove them)",
        found=", ".join(f"{p} (in {c})" for p, c in sorted(leaked.items())[:6]),
        hint="Write .gitignore before the first `git add`, and add files by name or with `git "
        "add .` only after it.",
    )


def check_ignored(
    report: Report, git: Git, ignored: Iterable[str], tracked: Iterable[str], *, location: str
) -> None:
    """``git check-ignore`` agrees: ``ignored`` paths are ignored, ``tracked`` ones are not."""
    for path in ignored:
        code = git.run("check-ignore", "-q", "--", path).returncode
        report.check(
            code == 0,
            f"{location}: .gitignore",
            f"{path} is not ignored",
            expected="ignored (git check-ignore matches it)",
            found="not ignored" if code == 1 else f"git check-ignore failed ({code})",
            hint=_ignore_hint(path),
        )
    for path in tracked:
        done = git.run("check-ignore", "-v", "--", path)
        report.check(
            done.returncode == 1,
            f"{location}: .gitignore",
            f"{path} would be ignored, but it belongs in the repository",
            found=done.stdout.strip() or f"git check-ignore exit {done.returncode}",
            hint="A pattern is too broad; `git check-ignore -v PATH` names the line.",
        )


def _ignore_hint(path: str) -> str:
    if path.startswith("data/"):
        return "Ignore the folder with `data/`: a pattern like *.csv misses other formats."
    if path.startswith("models/"):
        return "Ignore the whole folder with `models/`."
    if ".env" in path:
        return "`.env*` covers .env, .env.local, .env.production…"
    return "Python caches: `__pycache__/` and `*.pyc`."


def check_clean_worktree(report: Report, git: Git, *, location: str) -> None:
    status = git.out("status", "--porcelain", "--untracked-files=all")
    report.check(
        not status,
        f"{location}: working tree",
        "files are left uncommitted or untracked (neither committed nor ignored)",
        found="\n".join(status.splitlines()[:8]),
        hint="Commit them, or ignore them if they do not belong in git.",
    )


def check_commit_messages(report: Report, git: Git, *, location: str, min_words: int = 3):
    for line in git.out("log", "--all", "--format=%h %s").splitlines():
        sha, _, subject = line.partition(" ")
        words = subject.split()
        generic = subject.strip().lower().rstrip(".!") in GENERIC_MESSAGES
        report.check(
            len(words) >= min_words and not generic and len(subject) <= 72,
            f"{location}: commit {sha}",
            "the commit message should say what the commit does, in a short subject line",
            expected=f"at least {min_words} words and at most 72 characters, e.g. 'Add model card "
            "for the churn model'",
            found=short_repr(subject),
        )


# -- pre-commit --------------------------------------------------------------------------------

RUFF_REPOS = ("github.com/astral-sh/ruff-pre-commit", "github.com/charliermarsh/ruff-pre-commit")
HOOKS_REPO = "github.com/pre-commit/pre-commit-hooks"
PINNED_REV = re.compile(r"^(v?\d+(\.\d+)+([-.+][0-9A-Za-z.]+)?|[0-9a-f]{40})$")
MOVING_REVS = {"main", "master", "head", "latest", "stable", "dev", "develop", "trunk"}
TOP_KEYS = {
    "repos", "default_install_hook_types", "default_language_version", "default_stages",
    "files", "exclude", "fail_fast", "minimum_pre_commit_version", "ci",
}  # fmt: skip


def _repo_url(repo: dict) -> str:
    url = str(repo.get("repo", ""))
    return re.sub(r"^(https?://|git@)", "", url).replace("github.com:", "github.com/").rstrip("/")


def check_precommit_config(
    report: Report,
    path: Path,
    *,
    name: str | None = None,
    ruff_hooks: tuple[tuple[str, ...], ...] = (("ruff", "ruff-check"), ("ruff-format",)),
    hooks_from_pre_commit_hooks: tuple[str, ...] = ("check-added-large-files",),
) -> YamlDoc | None:
    """The structure pre-commit requires and the hooks the exercise asks for; the parsed
    document (for :func:`check_precommit_revs`), or None when it cannot be read."""
    doc = load_yaml(report, path, what="pre-commit configuration", name=name)
    if doc is None:
        return None
    unknown = sorted(set(doc.data) - TOP_KEYS)
    report.check(
        not unknown,
        doc.where(unknown[0]) if unknown else doc.where(),
        "unknown top-level keys (pre-commit ignores them with a warning)",
        found=unknown,
        hint="Everything goes under `repos:`; check the indentation.",
    )
    repos = doc.data.get("repos")
    if not report.check(
        isinstance(repos, list) and bool(repos),
        doc.where("repos"),
        "the configuration needs a non-empty list `repos:`",
        found=short_repr(repos),
    ):
        return doc
    found_hooks = _hooks_by_repo(report, doc, repos)
    ruff_ids = [hook for url in RUFF_REPOS for hook in found_hooks.get(url, [])]
    for alternatives in ruff_hooks:
        report.check(
            any(a in ruff_ids for a in alternatives),
            doc.where("repos"),
            f"the ruff hook {alternatives[0]!r} is missing",
            expected=f"repo https://{RUFF_REPOS[0]} with hook id {' or '.join(alternatives)}",
            found=f"ruff hooks {ruff_ids}" if ruff_ids else "no ruff-pre-commit repo",
        )
    general = found_hooks.get(HOOKS_REPO, [])
    for hook in hooks_from_pre_commit_hooks:
        report.check(
            hook in general,
            doc.where("repos"),
            f"the hook {hook!r} from pre-commit-hooks is missing",
            expected=f"repo https://{HOOKS_REPO} with hook id {hook}",
            found=f"hooks {general}" if general else "no pre-commit-hooks repo",
        )
    return doc


def _hooks_by_repo(report: Report, doc: YamlDoc, repos: list) -> dict[str, list[str]]:
    """The hook ids of each repository entry, by its URL; findings for malformed entries."""
    found_hooks: dict[str, list[str]] = {}
    for i, repo in enumerate(repos):
        if not isinstance(repo, dict) or "repo" not in repo:
            report.fail(doc.where("repos", i), "each entry needs `repo:` (a URL, local or meta)")
            continue
        url = _repo_url(repo)
        if url not in ("local", "meta"):
            report.check(
                "rev" in repo and repo["rev"] is not None,
                doc.where("repos", i),
                "a remote hook repository needs `rev:`, the revision to install",
                expected="rev: 'v1.2.3'",
                hint="pre-commit refuses to run without it.",
            )
        hooks = repo.get("hooks")
        if not report.check(
            isinstance(hooks, list) and bool(hooks),
            doc.where("repos", i, "hooks"),
            "each repo needs a non-empty list of `hooks:`",
            found=short_repr(hooks),
        ):
            continue
        assert isinstance(hooks, list)  # the check above passed
        for j, hook in enumerate(hooks):
            if isinstance(hook, dict) and isinstance(hook.get("id"), str):
                found_hooks.setdefault(url, []).append(hook["id"])
            else:
                report.fail(doc.where("repos", i, "hooks", j), "each hook needs an `id:`")
    return found_hooks


def check_precommit_revs(report: Report, doc: YamlDoc) -> None:
    """Every remote ``rev`` pins a release (or a commit), and no hook is told to pass
    whatever it finds."""
    repos = doc.data.get("repos") if isinstance(doc.data, dict) else None
    for i, repo in enumerate(repos if isinstance(repos, list) else []):
        if not isinstance(repo, dict) or _repo_url(repo) in ("local", "meta"):
            continue
        rev = repo.get("rev")
        text = str(rev) if rev is not None else ""
        report.check(
            isinstance(rev, str)
            and bool(PINNED_REV.match(text))
            and text.lower() not in MOVING_REVS,
            doc.where("repos", i, "rev"),
            "`rev` must pin a release tag (or a commit SHA) so every clone runs the same hooks",
            expected="a quoted tag such as 'v0.6.9'",
            found=short_repr(rev) if "rev" in repo else "no rev",
            hint="A branch name moves, and an unquoted number like 4.6 is read as a float. "
            "`pre-commit autoupdate` bumps the tags for you.",
        )
        for j, hook in enumerate(repo.get("hooks") or []):
            args = [str(a) for a in (hook.get("args") or [])] if isinstance(hook, dict) else []
            report.check(
                "--exit-zero" not in args,
                doc.where("repos", i, "hooks", j, "args"),
                "--exit-zero makes the hook pass whatever it finds",
                found=short_repr(args),
            )
