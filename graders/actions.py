"""Grade a GitHub Actions workflow: the real schema, CI/CD rules, and a local run of its steps.

Three layers, each adding findings located by YAML path (``jobs.deploy.if (line 41)``):

1. :func:`load_yaml` parses the file the way GitHub does (``on:`` stays a string key, not the
   YAML 1.1 boolean ``True``) and remembers the line of every key and list item.
2. :func:`check_schema` validates it offline against the GitHub workflow JSON Schema that
   check-jsonschema vendors (SchemaStore's ``github-workflow.json``), with ``oneOf`` errors
   narrowed to the branch the author meant.
3. :func:`check_workflow_rules` applies what the schema cannot know: lint and test jobs, a
   Python version matrix, a dependency cache, a build job, a deploy job that ``needs`` the
   tests and whose ``if`` is *evaluated* (:func:`evaluate_expression`) for a push to main, a
   pull request, a feature-branch push and a failed test run; least-privilege permissions,
   timeouts, pinned actions.

Then :func:`run_jobs` executes the ``run:`` steps of chosen jobs locally, in ``needs`` order,
in a temporary copy of the project, stopping at the first failing step as a CI runner does,
and :func:`check_workflow_passes` / :func:`check_workflow_stops` turn such runs into findings.
From the trusted checker every step runs in a sandbox of its own in which only the run's
temporary folder is writable (graders/isolation.py).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from graders.artefacts import read_artefact
from graders.formats.yamltext import YamlPath, YamlUnreadable, single_document
from graders.isolation import learner_process
from graders.report import Report, short_repr
from graders.tools import TOOL_CACHES

# -- YAML as GitHub reads it ---------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """YAML 1.2 booleans only (``on``/``yes``/``off`` stay strings) and no timestamp type."""


_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def yaml_path(path: Iterable[str | int]) -> str:
    """``("jobs", "test", "steps", 2, "run")`` → ``jobs.test.steps[2].run``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


@dataclass
class YamlDoc:
    """A parsed YAML file with the line of every mapping key and list item."""

    name: str  # how findings name the file, e.g. "cicd_work/ci.yml"
    data: Any
    lines: dict[YamlPath, int] = field(default_factory=dict)
    duplicates: list[tuple[YamlPath, int]] = field(default_factory=list)  # keys written twice

    def line(self, path: YamlPath) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None

    def where(self, *path: str | int) -> str:
        line = self.line(path)
        suffix = f" (line {line})" if line else ""
        return f"{self.name}: {yaml_path(path)}{suffix}"


def _string_keys(data: Any) -> Any:
    """JSON has only string keys (``3.11:`` or ``true:`` as a key would confuse the schema)."""
    if isinstance(data, dict):
        return {str(k): _string_keys(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_string_keys(v) for v in data]
    return data


def parse_yaml(text: str, name: str) -> YamlDoc:
    """Parse ``text``; raises ``yaml.YAMLError`` for invalid YAML and
    ``graders.formats.yamltext.YamlUnreadable`` for YAML that cannot be used."""
    document = single_document(text, _Loader)
    return YamlDoc(name, _string_keys(document.data), document.lines, document.duplicates)


def load_yaml(report: Report, path: Path, *, what: str, name: str | None = None) -> YamlDoc | None:
    """Read and parse a YAML artefact; every reason it cannot be graded becomes a finding."""
    text = read_artefact(report, path, what=what)
    if text is None:
        return None
    name = name or str(path)
    try:
        doc = parse_yaml(text, name)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark else name
        problem = getattr(exc, "problem", None) or str(exc)
        report.fail(
            where,
            f"is not valid YAML: {problem}",
            hint="Indent with spaces only, consistently (2 per level), and put a space after "
            "every `:` and `-`.",
        )
        return None
    except YamlUnreadable as exc:
        report.fail(f"{name}:{exc.line}" if exc.line else name, exc.message, hint=exc.hint)
        return None
    for child, line in doc.duplicates:
        report.fail(
            f"{name}: {yaml_path(child)} (line {line})",
            "this key appears twice in the same mapping; YAML keeps only the last one",
            hint="Merge the two entries into one.",
        )
    if not isinstance(doc.data, dict):
        report.fail(name, f"the {what} should be a YAML mapping", found=short_repr(doc.data))
        return None
    return doc


# -- the schema ----------------------------------------------------------------------------

SCHEMA_PACKAGE = "check_jsonschema.builtin_schemas.vendor"
SCHEMA_FILE = "github-workflows.json"
_validator: jsonschema.Draft7Validator | None = None


def workflow_validator() -> jsonschema.Draft7Validator:
    """The GitHub workflow schema vendored by check-jsonschema, loaded once, offline."""
    global _validator
    if _validator is None:
        schema = json.loads(resources.files(SCHEMA_PACKAGE).joinpath(SCHEMA_FILE).read_text())
        _validator = jsonschema.Draft7Validator(schema)
    return _validator


def _leaf_errors(error: jsonschema.ValidationError) -> list[jsonschema.ValidationError]:
    """Narrow a oneOf/anyOf error to the branch the author evidently meant: the one whose
    errors reach deepest into the document (a job with ``runs-on`` is a normal job, not a
    reusable-workflow call, so "'uses' is a required property" would only mislead)."""
    if not error.context:
        return [error]
    branches: dict[Any, list[jsonschema.ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    best = max(
        branches.values(),
        key=lambda errs: (max(len(e.absolute_path) for e in errs), -len(errs)),
    )
    leaves = [leaf for sub in best for leaf in _leaf_errors(sub)]
    return leaves or [error]


def _schema_message(error: jsonschema.ValidationError) -> tuple[str, str | None]:
    """A readable message and a hint for one schema error."""
    if error.validator == "additionalProperties":
        unexpected = re.findall(r"'([^']+)'", error.message.split("(")[-1])
        keys = ", ".join(f"`{k}`" for k in unexpected) or "a key"
        return (
            f"{keys} is not a keyword GitHub Actions knows here",
            "Check the spelling and the indentation: a key indented one level too deep or "
            "too shallow ends up in the wrong mapping.",
        )
    if error.validator == "required":
        return error.message, "Add the missing key (see the workflow syntax reference)."
    if error.validator == "oneOf" and "is valid under each of" in error.message:
        return (
            "a step has either `uses:` (an action) or `run:` (a command), never both",
            "Split it into two steps.",
        )
    if error.validator == "type":
        return (
            f"has the wrong type: {short_repr(error.instance, 80)} is not {error.validator_value}",
            None,
        )
    if error.validator == "enum":
        return (
            f"{short_repr(error.instance, 80)} is not one of {error.validator_value}",
            None,
        )
    return error.message if len(error.message) < 300 else error.message[:280] + " …", None


def check_schema(report: Report, doc: YamlDoc, *, limit: int = 10) -> bool:
    """Validate against the GitHub workflow schema; return True when the schema is satisfied."""
    errors = sorted(
        (
            leaf
            for error in workflow_validator().iter_errors(doc.data)
            for leaf in _leaf_errors(error)
        ),
        key=lambda e: (doc.line(tuple(e.absolute_path)) or 0, list(map(str, e.absolute_path))),
    )
    seen = set()
    shown = 0
    for error in errors:
        path = tuple(error.absolute_path)
        message, hint = _schema_message(error)
        if (path, message) in seen:
            continue
        seen.add((path, message))
        if shown == limit:
            report.note(f"{len(errors) - limit} more schema errors not shown")
            break
        shown += 1
        report.fail(
            doc.where(*path),
            f"violates the GitHub Actions workflow schema: {message}",
            hint=hint,
        )
    report.checks_run += 1
    return not errors


# -- GitHub expressions (for `if:`) ---------------------------------------------------------


class ExpressionError(ValueError):
    """An expression this evaluator cannot read (GitHub might; the finding says so)."""


_TOKEN = re.compile(
    r"\s*(?:(?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|0x[0-9a-fA-F]+)"
    r"|(?P<str>'(?:[^']|'')*')"
    r"|(?P<op>==|!=|<=|>=|&&|\|\||[()<>!,\[\]\.*])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*))"
)
STATUS_FUNCTIONS = ("success", "failure", "always", "cancelled")


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise ExpressionError(f"cannot read the expression at {text[position:]!r}")
        kind = match.lastgroup
        assert kind is not None  # every alternative of _TOKEN is a named group
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


@dataclass
class Scenario:
    """What GitHub knows when it evaluates a job's ``if``: the event and how needs went."""

    label: str
    github: dict[str, Any]
    needs_succeeded: bool = True


def _to_number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip()) if value.strip() else 0.0
        except ValueError:
            return math.nan
    return math.nan


def _truthy(value: Any) -> bool:
    if isinstance(value, float) and math.isnan(value):
        return False
    return value not in (None, False, 0, 0.0, "")


def _equal(left: Any, right: Any) -> bool:
    """GitHub's loose equality: strings compare case-insensitively, other types as numbers."""
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold() == right.casefold()
    if type(left) is type(right) and not isinstance(left, int | float | bool):
        return left == right
    return _to_number(left) == _to_number(right)


class _Parser:
    """A recursive-descent reader of GitHub's expression language (the parts `if:` uses)."""

    def __init__(self, text: str, scenario: Scenario) -> None:
        self.tokens = _tokenize(text)
        self.index = 0
        self.scenario = scenario

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise ExpressionError(f"expected {value or 'more'} in the expression")
        self.index += 1
        return token

    def parse(self) -> Any:
        value = self.or_()
        if (token := self.peek()) is not None:
            raise ExpressionError(f"unexpected {token[1]!r} in the expression")
        return value

    def or_(self) -> Any:
        value = self.and_()
        while self.peek() == ("op", "||"):
            self.take()
            right = self.and_()
            value = value if _truthy(value) else right
        return value

    def and_(self) -> Any:
        value = self.comparison()
        while self.peek() == ("op", "&&"):
            self.take()
            right = self.comparison()
            value = right if _truthy(value) else value
        return value

    def comparison(self) -> Any:
        value = self.unary()
        while (token := self.peek()) and token[1] in ("==", "!=", "<", "<=", ">", ">="):
            op = self.take()[1]
            right = self.unary()
            if op == "==":
                value = _equal(value, right)
            elif op == "!=":
                value = not _equal(value, right)
            else:
                a, b = _to_number(value), _to_number(right)
                value = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
        return value

    def unary(self) -> Any:
        if self.peek() == ("op", "!"):
            self.take()
            return not _truthy(self.unary())
        return self.primary()

    def primary(self) -> Any:
        kind, text = self.take()
        if kind == "op" and text == "(":
            value = self.or_()
            self.take(")")
            return value
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(int(text, 16)) if text.startswith("0x") else float(text)
        if kind == "name":
            if text in ("true", "false"):
                return text == "true"
            if text == "null":
                return None
            if self.peek() == ("op", "("):
                return self.call(text)
            return self.property_chain(text)
        raise ExpressionError(f"unexpected {text!r} in the expression")

    def property_chain(self, name: str) -> Any:
        contexts = {"github": self.scenario.github}
        value: Any = contexts.get(name) if name in contexts else {}
        known = name in contexts
        while (token := self.peek()) and token[1] in (".", "["):
            if self.take()[1] == ".":
                key = self.take()[1]
            else:
                key_token = self.primary()
                self.take("]")
                key = str(key_token)
            value = value.get(key) if isinstance(value, dict) else None
        if not known:
            # env, vars, needs, matrix…: unknown here; GitHub gives null for a missing key too
            return None
        return value

    def call(self, name: str) -> Any:
        self.take("(")
        args = []
        while self.peek() != ("op", ")"):
            args.append(self.or_())
            if self.peek() == ("op", ","):
                self.take()
        self.take(")")
        lowered = name.lower()
        ok = self.scenario.needs_succeeded
        if lowered in STATUS_FUNCTIONS:
            return {"success": ok, "failure": not ok, "always": True, "cancelled": False}[lowered]
        if lowered in ("startswith", "endswith", "contains") and len(args) == 2:
            a, b = (str(x if x is not None else "").casefold() for x in args)
            if lowered == "contains" and isinstance(args[0], list):
                return any(_equal(item, args[1]) for item in args[0])
            return {"startswith": a.startswith, "endswith": a.endswith}.get(
                lowered, a.__contains__
            )(b)
        raise ExpressionError(f"the function {name}() is not supported by this check")


def evaluate_expression(expression: Any, scenario: Scenario, *, is_job_if: bool = True) -> bool:
    """Whether a job's ``if`` lets it run in ``scenario``. A job ``if`` without a status
    function is implicitly ``success() && (…)`` on GitHub, and so it is here."""
    if isinstance(expression, bool):
        text = "true" if expression else "false"
    elif isinstance(expression, int | float):
        text = str(expression)
    else:
        text = str(expression).strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    elif "${{" in text:
        raise ExpressionError("mixes text and ${{ }}: write the whole condition as one expression")
    value = _truthy(_Parser(text, scenario).parse())
    uses_status = re.search(r"\b(" + "|".join(STATUS_FUNCTIONS) + r")\s*\(", text, re.I)
    if is_job_if and not uses_status:
        value = value and scenario.needs_succeeded
    return value


def deploy_scenarios(branch: str = "main") -> list[tuple[Scenario, bool]]:
    """The events a deploy job's ``if`` is tried on, with whether it must run."""
    push = {
        "event_name": "push",
        "ref": f"refs/heads/{branch}",
        "ref_name": branch,
        "ref_type": "branch",
        "base_ref": "",
        "head_ref": "",
        "repository": "acme/churn-model",
    }
    pull = {
        **push,
        "event_name": "pull_request",
        "ref": "refs/pull/7/merge",
        "ref_name": "7/merge",
        "base_ref": branch,
        "head_ref": "feature/new-model",
    }
    feature = {**push, "ref": "refs/heads/feature/new-model", "ref_name": "feature/new-model"}
    return [
        (Scenario(f"a push to {branch} after the tests passed", push), True),
        (Scenario(f"a pull request into {branch}", pull), False),
        (Scenario("a push to a feature branch", feature), False),
        (Scenario(f"a push to {branch} whose tests failed", push, needs_succeeded=False), False),
    ]


# -- rules the schema cannot express -------------------------------------------------------

UNPINNED_REFS = {"main", "master", "head", "latest", "dev", "develop", "trunk"}


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _jobs(doc: YamlDoc) -> dict[str, dict]:
    jobs = doc.data.get("jobs")
    if not isinstance(jobs, dict):
        return {}
    return {name: job for name, job in jobs.items() if isinstance(job, dict)}


def _steps(job: dict) -> list[tuple[int, dict]]:
    steps = job.get("steps")
    if not isinstance(steps, list):
        return []
    return [(i, step) for i, step in enumerate(steps) if isinstance(step, dict)]


def _run_steps(job: dict, pattern: str) -> list[int]:
    return [
        i
        for i, step in _steps(job)
        if isinstance(step.get("run"), str) and re.search(pattern, step["run"])
    ]


def _uses_steps(job: dict, action: str) -> list[tuple[int, dict]]:
    return [
        (i, step)
        for i, step in _steps(job)
        if isinstance(step.get("uses"), str) and step["uses"].split("@")[0].lower() == action
    ]


def needs_closure(jobs: Mapping[str, dict], name: str) -> set[str]:
    """Every job ``name`` waits for, directly or through other jobs' ``needs``."""
    seen: set[str] = set()
    stack = [str(n) for n in _as_list(jobs.get(name, {}).get("needs"))]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        stack += [str(n) for n in _as_list(jobs.get(current, {}).get("needs"))]
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
    events = on if isinstance(on, dict) else {e: None for e in _as_list(on)}
    push = events.get("push", "absent")
    branches = _as_list(push.get("branches")) if isinstance(push, dict) else []
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
        for needed in _as_list(job.get("needs")):
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
        for i, step in _steps(job):
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


# -- running the pipeline locally ------------------------------------------------------------

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
class PipelineRun:
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
                str(d) in ordered or str(d) not in wanted for d in _as_list(jobs[n].get("needs"))
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
    result: PipelineRun = field(default_factory=PipelineRun)

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
        for index, step in _steps(job):
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
        try:
            done = subprocess.run(
                argv,
                cwd=cwd,
                env=host_env,
                capture_output=True,
                text=True,
                timeout=min(STEP_TIMEOUT, remaining),
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            return StepRun(name, index, label, "timeout")
        except OSError as exc:
            return StepRun(name, index, label, "failed", None, str(exc))
        ignore_failure = (
            step.get("continue-on-error") is True or job.get("continue-on-error") is True
        )
        return self._verdict(name, index, label, done, env["PATH"], ignore_failure)

    def _verdict(
        self,
        name: str,
        index: int,
        label: str,
        done: subprocess.CompletedProcess,
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
        if done.returncode == 0:
            return StepRun(name, index, label, "passed", 0, output)
        if ignore_failure:
            note = f"exit {done.returncode} ignored: continue-on-error"
            return StepRun(name, index, label, "passed", done.returncode, output, note=note)
        return StepRun(name, index, label, "failed", done.returncode, output)


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
) -> PipelineRun:
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


def _missing_course_tool(done: subprocess.CompletedProcess, path: str) -> str | None:
    """The course tool a step could not find (exit 127), if it is simply not installed here
    (Binder may lack ruff): that is the environment's fault, not the workflow's."""
    if done.returncode != 127:
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
) -> PipelineRun:
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
) -> PipelineRun:
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
