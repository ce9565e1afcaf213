"""What the schema cannot express: lint, test, build and deploy jobs, triggers, permissions,
timeouts and pinned actions (:class:`WorkflowSpec` names the jobs)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graders.actions.expressions import (
    ExpressionError,
    Scenario,
    deploy_scenarios,
    evaluate_expression,
)
from graders.actions.schema import check_schema
from graders.actions.yamldoc import YamlDoc, load_yaml
from graders.report import Report, short_repr

UNPINNED_REFS = {"main", "master", "head", "latest", "dev", "develop", "trunk"}


def as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _jobs(doc: YamlDoc) -> dict[str, dict]:
    jobs = doc.data.get("jobs")
    if not isinstance(jobs, dict):
        return {}
    return {name: job for name, job in jobs.items() if isinstance(job, dict)}


def job_steps(job: dict) -> list[tuple[int, dict]]:
    steps = job.get("steps")
    if not isinstance(steps, list):
        return []
    return [(i, step) for i, step in enumerate(steps) if isinstance(step, dict)]


def _run_steps(job: dict, pattern: str) -> list[int]:
    return [
        i
        for i, step in job_steps(job)
        if isinstance(step.get("run"), str) and re.search(pattern, step["run"])
    ]


def _uses_steps(job: dict, action: str) -> list[tuple[int, dict]]:
    return [
        (i, step)
        for i, step in job_steps(job)
        if isinstance(step.get("uses"), str) and step["uses"].split("@")[0].lower() == action
    ]


def needs_closure(jobs: Mapping[str, dict], name: str) -> set[str]:
    """Every job ``name`` waits for, directly or through other jobs' ``needs``."""
    seen: set[str] = set()
    stack = [str(n) for n in as_list(jobs.get(name, {}).get("needs"))]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        stack += [str(n) for n in as_list(jobs.get(current, {}).get("needs"))]
    return seen


@dataclass(frozen=True)
class WorkflowSpec:
    """The shape the exercise asks for; every rule reads its names from here."""

    lint: str = "lint"
    test: str = "test"
    build: str = "build"
    deploy: str = "deploy"
    branch: str = "main"
    python: str = "3.11"
    min_python_versions: int = 2
    max_timeout: int = 30
    environment: str = "production"


def check_workflow_rules(report: Report, doc: YamlDoc, spec: WorkflowSpec = WorkflowSpec()) -> None:
    """Every CI/CD rule of the exercise, each finding at the YAML path it is about."""
    _check_triggers(report, doc, spec)
    _check_permissions(report, doc, spec)
    jobs = _jobs(doc)
    missing = [name for name in (spec.lint, spec.test, spec.build, spec.deploy) if name not in jobs]
    report.check(
        not missing,
        doc.where("jobs"),
        "the pipeline is missing jobs",
        expected=f"jobs named {spec.lint}, {spec.test}, {spec.build} and {spec.deploy}",
        found=f"jobs {sorted(jobs)}",
        hint="Use exactly these job ids: other jobs and rules refer to them by name.",
    )
    _check_needs_graph(report, doc, jobs)
    _check_timeouts(report, doc, jobs, spec)
    _check_pinned_actions(report, doc, jobs)
    if spec.lint in jobs:
        _check_lint_job(report, doc, jobs[spec.lint], spec)
    if spec.test in jobs:
        _check_test_job(report, doc, jobs[spec.test], spec)
    if spec.build in jobs:
        _check_build_job(report, doc, jobs, spec)
    if spec.deploy in jobs:
        _check_deploy_job(report, doc, jobs, spec)


def _check_triggers(report: Report, doc: YamlDoc, spec: WorkflowSpec) -> None:
    on = doc.data.get("on")
    if on is None and True in doc.data:
        on = doc.data[True]
    events = on if isinstance(on, dict) else {e: None for e in as_list(on)}
    push = events.get("push", "absent")
    branches = as_list(push.get("branches")) if isinstance(push, dict) else []
    push_ok = push != "absent" and (
        not isinstance(push, dict) or "branches" not in push or spec.branch in branches
    )
    report.check(
        push_ok,
        doc.where("on"),
        f"the workflow must run on pushes to {spec.branch} (that is what deploys)",
        expected=f"on: push: branches: [{spec.branch}]",
        found=short_repr(on),
    )
    report.check(
        "pull_request" in events,
        doc.where("on"),
        "the workflow must also run on pull requests, so a change is tested before it merges",
        expected="on: pull_request",
        found=f"events {sorted(map(str, events))}",
    )
    report.check(
        "pull_request_target" not in events,
        doc.where("on", "pull_request_target"),
        "pull_request_target runs with the base repository's secrets and write token on "
        "code from forks",
        hint="Use pull_request for CI.",
    )


def _permission_writes(value: Any) -> list[str]:
    if value == "write-all":
        return ["write-all"]
    if isinstance(value, dict):
        return [f"{scope}: {level}" for scope, level in value.items() if level == "write"]
    return []


def _check_permissions(report: Report, doc: YamlDoc, spec: WorkflowSpec) -> None:
    top = doc.data.get("permissions")
    report.check(
        "permissions" in doc.data,
        doc.where("permissions"),
        "the workflow does not set `permissions`, so its token gets the repository's default "
        "(often read and write to everything)",
        expected="permissions:\n  contents: read",
        found="no top-level permissions",
        hint="Least privilege: grant read at the top; a job that needs more asks for it itself.",
    )
    if "permissions" in doc.data:
        report.check(
            not _permission_writes(top) and top != "read-all",
            doc.where("permissions"),
            "top-level permissions apply to every job, including jobs running pull-request code",
            expected="contents: read (or none at all: {})",
            found=short_repr(top),
            hint="Move any write permission to the one job that needs it.",
        )
    for name, job in _jobs(doc).items():
        writes = _permission_writes(job.get("permissions"))
        if job.get("permissions") == "write-all":
            report.fail(
                doc.where("jobs", name, "permissions"),
                "write-all gives this job's token write access to everything",
                hint="List only the scopes the job needs, e.g. packages: write.",
            )
        elif writes and name in (spec.lint, spec.test):
            report.fail(
                doc.where("jobs", name, "permissions"),
                f"the {name} job runs code from pull requests: it must not get write access",
                found=", ".join(writes),
            )


def _check_needs_graph(report: Report, doc: YamlDoc, jobs: dict[str, dict]) -> None:
    for name, job in jobs.items():
        for needed in as_list(job.get("needs")):
            report.check(
                str(needed) in jobs,
                doc.where("jobs", name, "needs"),
                f"needs a job that does not exist: {needed!r}",
                expected=f"one of {sorted(jobs)}",
            )
        report.check(
            name not in needs_closure(jobs, name),
            doc.where("jobs", name, "needs"),
            "the needs form a cycle: this job waits for itself",
        )


def _check_timeouts(report: Report, doc: YamlDoc, jobs: dict[str, dict], spec: WorkflowSpec):
    for name, job in jobs.items():
        timeout: Any = job.get("timeout-minutes")  # YAML data: ok says whether it is a number
        ok = isinstance(timeout, int | float) and not isinstance(timeout, bool)
        message = (
            f"the {name} job's timeout is too long: a hung step would hold a runner that long"
            if ok and timeout > spec.max_timeout
            else f"the {name} job needs a timeout: without one a hung step holds a runner for "
            "6 hours"
        )
        report.check(
            ok and 0 < timeout <= spec.max_timeout,
            doc.where("jobs", name, "timeout-minutes"),
            message,
            expected=f"timeout-minutes between 1 and {spec.max_timeout}",
            found=short_repr(timeout) if "timeout-minutes" in job else "not set",
        )


def _check_pinned_actions(report: Report, doc: YamlDoc, jobs: dict[str, dict]) -> None:
    for name, job in jobs.items():
        for i, step in job_steps(job):
            uses = step.get("uses")
            if not isinstance(uses, str) or uses.startswith(("./", "docker://")):
                continue
            ref = uses.partition("@")[2]
            report.check(
                bool(ref) and ref.lower() not in UNPINNED_REFS,
                doc.where("jobs", name, "steps", i, "uses"),
                "the action is not pinned to a release: a branch can change under you",
                expected=f"{uses.split('@')[0]}@v<major> (or a full commit SHA)",
                found=uses,
            )


# `ruff check`, with options before the subcommand allowed; `ruff format --check` is not lint
RUFF_CHECK = r"\bruff(\s+-{1,2}[\w=.-]+)*\s+check\b"


def _check_lint_job(report: Report, doc: YamlDoc, job: dict, spec: WorkflowSpec) -> None:
    report.check(
        bool(_run_steps(job, RUFF_CHECK)),
        doc.where("jobs", spec.lint, "steps"),
        "the lint job has no `ruff check` step",
        expected="- run: ruff check .",
        hint="Install ruff (pip install ruff) in a step before it.",
    )


def _check_test_job(report: Report, doc: YamlDoc, job: dict, spec: WorkflowSpec) -> None:
    _check_python_matrix(report, doc, job, spec)
    setup = _uses_steps(job, "actions/setup-python")
    report.check(
        any("matrix.python-version" in str(step.get("with", {})) for _, step in setup),
        doc.where("jobs", spec.test, "steps"),
        "the test job must install the matrix's Python version with actions/setup-python",
        expected="with:\n  python-version: ${{ matrix.python-version }}",
        found=short_repr([step.get("with") for _, step in setup])
        if setup
        else "no setup-python step",
    )
    cached = any(
        isinstance(step.get("with"), dict)
        and step["with"].get("cache") in ("pip", "pipenv", "poetry")
        for _, step in setup
    ) or bool(_uses_steps(job, "actions/cache"))
    report.check(
        cached,
        doc.where("jobs", spec.test, "steps"),
        "dependencies are downloaded again on every run: cache them",
        expected="cache: pip (an input of actions/setup-python) or an actions/cache step",
    )
    report.check(
        bool(_run_steps(job, r"\bpytest\b")),
        doc.where("jobs", spec.test, "steps"),
        "the test job has no step that runs pytest",
        expected="- run: python -m pytest",
    )


def _check_python_matrix(report: Report, doc: YamlDoc, job: dict, spec: WorkflowSpec) -> None:
    """The test job runs on quoted Python versions, at least two, production's among them."""
    matrix = (
        job.get("strategy", {}).get("matrix") if isinstance(job.get("strategy"), dict) else None
    )
    versions = matrix.get("python-version") if isinstance(matrix, dict) else None
    where = doc.where("jobs", spec.test, "strategy", "matrix", "python-version")
    if not isinstance(versions, list):
        report.fail(
            where,
            "the test job does not run on a matrix of Python versions",
            expected=f'strategy:\n  matrix:\n    python-version: ["{spec.python}", "3.12"]',
            found=short_repr(versions) if versions is not None else "no python-version matrix",
        )
    else:
        floats = [v for v in versions if isinstance(v, float)]
        report.check(
            not floats,
            where,
            "Python versions must be quoted strings: YAML reads 3.10 as the number 3.1",
            found=short_repr(versions),
            hint='Write "3.11", "3.12" with quotes.',
        )
        report.check(
            len(set(map(str, versions))) >= spec.min_python_versions,
            where,
            "a matrix needs at least two Python versions to be worth the name",
            expected=f"at least {spec.min_python_versions} versions",
            found=short_repr(versions),
        )
        report.check(
            spec.python in [str(v) for v in versions],
            where,
            f"the matrix must include {spec.python}, the version the service runs in production",
            found=short_repr(versions),
        )


def _check_build_job(report: Report, doc: YamlDoc, jobs: dict[str, dict], spec: WorkflowSpec):
    job = jobs[spec.build]
    builds = bool(_run_steps(job, r"\bdocker\s+(buildx\s+)?build\b")) or bool(
        _uses_steps(job, "docker/build-push-action")
    )
    report.check(
        builds,
        doc.where("jobs", spec.build, "steps"),
        "the build job does not build the Docker image",
        expected="- run: docker build -t churn-model:${{ github.sha }} .",
    )
    report.check(
        spec.test in needs_closure(jobs, spec.build),
        doc.where("jobs", spec.build, "needs"),
        "the image is built before the tests have passed",
        expected=f"needs: [{spec.test}]",
        found=short_repr(jobs[spec.build].get("needs")),
    )


def _check_deploy_job(report: Report, doc: YamlDoc, jobs: dict[str, dict], spec: WorkflowSpec):
    job = jobs[spec.deploy]
    waits_for = needs_closure(jobs, spec.deploy)
    missing = [name for name in (spec.lint, spec.test, spec.build) if name not in waits_for]
    report.check(
        not missing,
        doc.where("jobs", spec.deploy, "needs"),
        f"the deploy job can start before {', '.join(missing)} succeeded: jobs run in "
        "parallel unless `needs` orders them",
        expected=f"needs: [{spec.build}] with {spec.build} needing {spec.test} (and "
        f"{spec.test} or {spec.build} needing {spec.lint}), or needs listing them all",
        found=short_repr(job.get("needs")) if "needs" in job else "no needs",
    )
    report.check(
        job.get("environment") == spec.environment
        or (
            isinstance(job.get("environment"), dict)
            and job["environment"].get("name") == spec.environment
        ),
        doc.where("jobs", spec.deploy, "environment"),
        f"the deploy job should name the `{spec.environment}` environment (its protection "
        "rules and secrets apply only then)",
        expected=f"environment: {spec.environment}",
        found=short_repr(job.get("environment")),
    )
    _check_deploy_condition(report, doc, job, spec)


def _check_deploy_condition(report: Report, doc: YamlDoc, job: dict, spec: WorkflowSpec) -> None:
    """The deploy job's ``if``, evaluated for each event: it runs exactly for a push to the
    deployment branch."""
    condition = job.get("if")
    where = doc.where("jobs", spec.deploy, "if") if "if" in job else doc.where("jobs", spec.deploy)
    if condition is None:
        report.fail(
            where,
            "the deploy job has no `if`: it deploys for every event, pull requests and "
            "feature branches included",
            expected=f"if: github.ref == 'refs/heads/{spec.branch}'",
        )
        return
    for scenario, must_run in deploy_scenarios(spec.branch):
        try:
            runs = evaluate_expression(condition, scenario)
        except ExpressionError as exc:
            report.fail(
                where,
                f"this check cannot evaluate the condition: {exc}",
                found=short_repr(condition),
                hint=f"Keep it simple: if: github.ref == 'refs/heads/{spec.branch}'",
            )
            return
        if runs and not must_run:
            report.fail(
                where,
                f"the deploy job would run for {scenario.label}",
                expected="the condition is false for this event",
                found=short_repr(condition),
                hint=_deploy_hint(scenario, spec),
            )
        elif must_run and not runs:
            report.fail(
                where,
                f"the deploy job would not run for {scenario.label}",
                expected="the condition is true for this event",
                found=short_repr(condition),
                hint=f"Compare github.ref with 'refs/heads/{spec.branch}'.",
            )


def _deploy_hint(scenario: Scenario, spec: WorkflowSpec) -> str:
    if not scenario.needs_succeeded:
        return "Drop always() (or failure()): a job whose needs failed must be skipped."
    if scenario.github["event_name"] == "pull_request":
        return (
            "github.base_ref is the branch a pull request targets, and a branch filter on `on:` "
            f"does not stop a job: test github.ref == 'refs/heads/{spec.branch}'."
        )
    return f"Test github.ref == 'refs/heads/{spec.branch}'."


def check_workflow(
    report: Report, path: Path, *, name: str | None = None, spec: WorkflowSpec = WorkflowSpec()
) -> YamlDoc | None:
    """Schema and rules for the workflow at ``path``; the parsed document for later checks."""
    doc = load_yaml(report, path, what="workflow", name=name)
    if doc is None:
        return None
    check_schema(report, doc)
    check_workflow_rules(report, doc, spec)
    return doc
