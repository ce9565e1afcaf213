"""The ``run:`` steps of a workflow executed locally, in ``needs`` order, in a temporary copy of
the project, each step in a sandbox of its own from the trusted checker; and the findings
for such runs."""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graders.actions.rules import as_list, job_steps
from graders.actions.yamldoc import YamlDoc
from graders.isolation import learner_process
from graders.report import Report
from graders.tools import TOOL_CACHES, ToolRun, run_tool

SKIPPED_COMMAND = re.compile(
    r"^\s*(?:(?:python3?|py)\s+-m\s+)?pip3?\s+install\b|^\s*(?:sudo\s+)?apt(?:-get)?\s"
)
STEP_TIMEOUT = 40.0
OUTPUT_TAIL = 12


@dataclass
class StepRun:
    job: str
    index: int
    label: str
    status: str  # passed, failed, timeout, skipped (a `uses:` or install step), unavailable
    exit_code: int | None = None
    output: str = ""
    note: str = ""

    def line(self) -> str:
        marks = {"passed": "✓", "failed": "✗", "timeout": "✗", "skipped": "·", "unavailable": "?"}
        mark = marks.get(self.status, " ")
        extra = f" ({self.note})" if self.note else ""
        return f"{mark} {self.job} › {self.label}: {self.status}{extra}"


@dataclass
class WorkflowRun:
    steps: list[StepRun] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failed_step(self) -> StepRun | None:
        return next((s for s in self.steps if s.status in ("failed", "timeout")), None)

    @property
    def green(self) -> bool:
        return self.failed_step is None and any(s.status == "passed" for s in self.steps)

    def summary(self, *, skipped: bool = True) -> str:
        return "\n".join(step.line() for step in self.steps if skipped or step.status != "skipped")


def job_order(jobs: Mapping[str, dict], names: Iterable[str]) -> list[str]:
    """``names`` ordered so that every job comes after the jobs it needs."""
    wanted = [n for n in names if n in jobs]
    ordered: list[str] = []
    while len(ordered) < len(wanted):
        ready = [
            n
            for n in wanted
            if n not in ordered
            and all(
                str(d) in ordered or str(d) not in wanted for d in as_list(jobs[n].get("needs"))
            )
        ]
        if not ready:  # a cycle: keep the written order
            ready = [n for n in wanted if n not in ordered]
        ordered.append(ready[0])
    return ordered


def _substitute(text: str, matrix: Mapping[str, Any], notes: list[str]) -> str:
    def replace(match: re.Match) -> str:
        expression = match.group(1).strip()
        if expression.startswith("matrix."):
            return str(matrix.get(expression.removeprefix("matrix."), ""))
        if expression == "github.sha":
            return "0" * 40
        if expression in ("github.ref_name", "github.head_ref"):
            return "main"
        notes.append(f"replaced ${{{{ {expression} }}}} with an empty string")
        return ""

    return re.sub(r"\$\{\{(.*?)\}\}", replace, text)


def _join_continuations(script: str) -> list[str]:
    lines: list[str] = []
    for line in script.splitlines():
        if lines and lines[-1].endswith("\\"):
            lines[-1] = lines[-1][:-1] + " " + line.strip()
        else:
            lines.append(line)
    return lines


def _shell_command(shell: str | None, script_file: Path) -> list[str]:
    if shell in (None, ""):
        return ["bash", "-e", str(script_file)]
    if shell == "bash":
        return ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script_file)]
    if shell == "sh":
        return ["sh", "-e", str(script_file)]
    if shell in ("python", "python3"):
        return [sys.executable, str(script_file)]
    return ["bash", "-e", str(script_file)]


@dataclass
class _Runner:
    """Runs the steps of one pipeline in one prepared copy of the project."""

    workflow: Mapping[str, Any]
    root: Path  # the copy of the project (the "checkout")
    scratch: Path  # where step scripts and caches go
    deadline: float
    result: WorkflowRun = field(default_factory=WorkflowRun)

    def base_env(self) -> dict[str, str]:
        return {
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
            "HOME": str(self.scratch / "home"),
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(self.root),
            "PYTHONDONTWRITEBYTECODE": "1",
            "RUFF_CACHE_DIR": str(self.scratch / "ruff-cache"),
            "LC_ALL": "C.UTF-8",
        }

    def run_job(self, name: str, job: dict) -> bool:
        """Run one job's steps; False when a step failed (the pipeline stops there)."""
        local_python = f"{sys.version_info.major}.{sys.version_info.minor}"
        matrix = _first_matrix_entry(job, local_python)
        if _matrix_size(job) > 1:
            self.result.notes.append(
                f"{name}: the matrix has {_matrix_size(job)} combinations; ran the one with "
                f"this machine's Python ({local_python})"
            )
        top_defaults = self.workflow.get("defaults")
        job_defaults = job.get("defaults")
        run_defaults = {
            **(_mapping(_mapping(top_defaults).get("run"))),
            **(_mapping(_mapping(job_defaults).get("run"))),
        }
        job_env = {**_mapping(self.workflow.get("env")), **_mapping(job.get("env"))}
        for index, step in job_steps(job):
            outcome = self.run_step(name, job, index, step, matrix, run_defaults, job_env)
            self.result.steps.append(outcome)
            if outcome.status in ("failed", "timeout"):
                return False
        return True

    def run_step(self, name, job, index, step, matrix, run_defaults, job_env) -> StepRun:
        label = str(step.get("name") or step.get("uses") or step.get("run", "")).strip()
        label = label.splitlines()[0][:70] if label else f"step {index}"
        if "run" not in step:
            return StepRun(name, index, label, "skipped", note="uses: an action")
        kept: list[str] = []
        dropped: list[str] = []
        for line in _join_continuations(str(step["run"])):
            (dropped if SKIPPED_COMMAND.search(line) else kept).append(line)
        if dropped:
            commands = "; ".join(f"`{d.strip()}`" for d in dropped)
            self.result.notes.append(
                f"{name}: did not run {commands} (this environment has the packages)"
            )
        if not any(line.strip() for line in kept):
            return StepRun(name, index, label, "skipped", note="installs only")
        notes = self.result.notes
        script = self.scratch / f"step-{name}-{index}.sh"
        script.write_text(_substitute("\n".join(kept), matrix, notes) + "\n")
        env = self.base_env()
        for key, value in {**job_env, **_mapping(step.get("env"))}.items():
            env[str(key)] = _substitute(str(value), matrix, notes)
        workdir = step.get("working-directory") or run_defaults.get("working-directory")
        cwd = self.root / _substitute(str(workdir), matrix, notes) if workdir else self.root
        remaining = self.deadline - time.monotonic()
        if remaining <= 1:
            return StepRun(name, index, label, "timeout", note="time budget used up")
        argv, host_env = learner_process(
            _shell_command(step.get("shell") or run_defaults.get("shell"), script),
            self.scratch,
            cwd,
            env,
        )
        done = run_tool(argv, cwd=cwd, env=host_env, timeout=min(STEP_TIMEOUT, remaining))
        if done.error is not None:
            return StepRun(name, index, label, "failed", None, done.error)
        if done.status is None:
            return StepRun(name, index, label, "timeout")
        ignore_failure = (
            step.get("continue-on-error") is True or job.get("continue-on-error") is True
        )
        return self._verdict(name, index, label, done, env["PATH"], ignore_failure)

    def _verdict(
        self,
        name: str,
        index: int,
        label: str,
        done: ToolRun,
        path: str,
        ignore_failure: bool,
    ) -> StepRun:
        """What a finished step did: passed, failed, or unavailable here (a tool the course
        does not install), as a runner would report it."""
        output = _tail(done.stdout + done.stderr)
        missing = _missing_course_tool(done, path)
        if missing:
            self.result.notes.append(
                f"skipped: {name} › {label} needs {missing}, which is not installed here"
            )
            return StepRun(
                name, index, label, "unavailable", 127, output, note=f"{missing} missing"
            )
        if done.status == 0:
            return StepRun(name, index, label, "passed", 0, output)
        if ignore_failure:
            note = f"exit {done.status} ignored: continue-on-error"
            return StepRun(name, index, label, "passed", done.status, output, note=note)
        return StepRun(name, index, label, "failed", done.status, output)


def _mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _copy_project(project: Path, target: Path, changes: Mapping[str, str | None]) -> None:
    shutil.copytree(
        project,
        target,
        ignore=shutil.ignore_patterns(*TOOL_CACHES),
    )
    for relative, text in changes.items():
        path = target / relative
        if text is None:
            path.unlink(missing_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)


def run_jobs(
    workflow: Mapping[str, Any],
    project: Path,
    job_names: Iterable[str],
    *,
    changes: Mapping[str, str | None] | None = None,
    budget: float = 45.0,
) -> WorkflowRun:
    """Run the ``run:`` steps of ``job_names`` in a temporary copy of ``project``.

    Jobs run in ``needs`` order and steps in file order, each in a fresh shell with the
    workflow's, job's and step's ``env``, stopping at the first failing step (a step or job
    with ``continue-on-error: true`` does not stop it, as on GitHub). ``uses:`` steps are
    skipped (the copy is the checkout; Python and the tools are this environment's), and
    so are ``pip install`` and ``apt-get`` lines: this environment is provisioned already.
    ``changes`` maps relative paths to new contents (``None`` deletes) to plant a problem
    in the copy first. The whole run stops after ``budget`` seconds.
    """
    jobs = {k: v for k, v in _mapping(workflow.get("jobs")).items() if isinstance(v, dict)}
    with tempfile.TemporaryDirectory(prefix="mlops-ci-") as folder:
        scratch = Path(folder)
        (scratch / "home").mkdir()
        _copy_project(project, scratch / "repo", changes or {})
        runner = _Runner(workflow, scratch / "repo", scratch, time.monotonic() + budget)
        for name in job_order(jobs, job_names):
            if not runner.run_job(name, jobs[name]):
                break
        return runner.result


COURSE_TOOLS = ("ruff", "pytest")


def _missing_course_tool(done: ToolRun, path: str) -> str | None:
    """The course tool a step could not find (exit 127), if it is simply not installed here
    (Binder may lack ruff): that is the environment's fault, not the workflow's."""
    if done.status != 127:
        return None
    for tool in COURSE_TOOLS:
        if re.search(rf"\b{tool}: (command )?not found", done.stderr) and not shutil.which(
            tool, path=path
        ):
            return tool
    return None


def _first_matrix_entry(job: dict, local_python: str) -> dict[str, Any]:
    strategy = _mapping(job.get("strategy"))
    matrix = _mapping(strategy.get("matrix"))
    entry = {}
    for key, values in matrix.items():
        if key in ("include", "exclude") or not isinstance(values, list) or not values:
            continue
        entry[key] = local_python if key == "python-version" else values[0]
    return entry


def _matrix_size(job: dict) -> int:
    strategy = _mapping(job.get("strategy"))
    matrix = _mapping(strategy.get("matrix"))
    size = 1
    for key, values in matrix.items():
        if key not in ("include", "exclude") and isinstance(values, list):
            size *= max(1, len(values))
    return size


def _tail(output: str, lines: int = OUTPUT_TAIL) -> str:
    kept = [line for line in output.strip().splitlines() if line.strip()]
    return "\n".join(kept[-lines:])


def _step_location(doc: YamlDoc, step: StepRun) -> str:
    return doc.where("jobs", step.job, "steps", step.index, "run")


def check_workflow_passes(
    report: Report, doc: YamlDoc, project: Path, jobs: Iterable[str], *, budget: float = 45.0
) -> WorkflowRun:
    """Run ``jobs`` on the unmodified project: every step must pass."""
    jobs = list(jobs)
    run = run_jobs(doc.data, project, jobs, budget=budget)
    for note in run.notes:
        report.note(note)
    failed = run.failed_step
    if failed is not None:
        report.fail(
            _step_location(doc, failed),
            f"this step {'timed out' if failed.status == 'timeout' else 'fails'} on the "
            "correct project, so the pipeline would be red for good code",
            expected="exit status 0",
            found=f"exit status {failed.exit_code}\n{failed.output}"
            if failed.status == "failed"
            else f"no result within {STEP_TIMEOUT:.0f} s",
            hint="Run the same command in a terminal in the project folder. Use only tools "
            "the course has (ruff, pytest) and run from the repository root.",
        )
    ran = {step.job for step in run.steps if step.status == "passed"}
    # a job whose tool is not installed here (ruff on a bare Binder) was noted, not judged
    ran |= {step.job for step in run.steps if step.status == "unavailable"}
    for job in jobs:
        report.check(
            job in ran or failed is not None,
            doc.where("jobs", job, "steps"),
            f"the {job} job has no `run:` step that does anything here",
            found=run.summary() or "no steps",
        )
    report.checks_run += 1
    return run


def check_workflow_stops(
    report: Report,
    doc: YamlDoc,
    project: Path,
    jobs: Iterable[str],
    *,
    changes: Mapping[str, str | None],
    failing_job: str,
    planted: str,
    hint: str,
    budget: float = 45.0,
) -> WorkflowRun:
    """Run ``jobs`` on the project with a planted problem: ``failing_job`` must go red."""
    run = run_jobs(doc.data, project, list(jobs), changes=changes, budget=budget)
    failed = run.failed_step
    unavailable = [s for s in run.steps if s.status == "unavailable" and s.job == failing_job]
    if failed is None and unavailable:
        report.note(
            f"skipped: whether the {failing_job} job catches {planted} (it needs "
            f"{unavailable[0].note.split()[0]}, which this environment does not have)"
        )
    elif failed is None:
        report.fail(
            doc.where("jobs", failing_job),
            f"the pipeline stayed green although {planted}",
            expected=f"a failing step in the {failing_job} job, which stops the pipeline",
            found=run.summary(skipped=False),
            hint=hint,
        )
    elif failed.job != failing_job:
        report.fail(
            _step_location(doc, failed),
            f"with {planted}, the pipeline failed in the {failed.job} job instead of {failing_job}",
            expected=f"the {failing_job} job fails",
            found=f"{failed.line()}\n{failed.output}",
        )
    else:
        report.checks_run += 1
    return run
