"""The GitHub Actions workflow grader, from example workflows and the edge cases of each layer.

Dropping a file into ``examples/workflow/negative/`` adds a case: its first line is
``# <where> | <text>``: some finding must be located at a YAML path containing ``<where>``
(``schema`` instead means: a finding from the workflow schema) and say ``<text>``. Every
file in ``positive/`` must pass the schema and every rule.
"""

from __future__ import annotations

import shutil
import sys
import textwrap
from pathlib import Path

import pytest

from graders import Report
from graders import actions as wf
from graders.actions import runner
from graders.tools import ToolRun

EXAMPLES = Path(__file__).parent / "examples" / "workflow"
POSITIVE = sorted((EXAMPLES / "positive").glob("*.yml"))
NEGATIVE = sorted((EXAMPLES / "negative").glob("*.yml"))


def expectation(path: Path) -> tuple[str, str]:
    first = path.read_text().splitlines()[0]
    where, _, text = first.removeprefix("# ").partition(" | ")
    return where.strip(), text.strip()


def findings_text(report: Report) -> str:
    return "\n".join(f.to_text() for f in report.findings)


def checked(path: Path) -> Report:
    report = Report(path.name)
    wf.check_workflow(report, path, name="ci.yml")
    return report


# -- example files ------------------------------------------------------------------------------


def test_there_are_examples():
    assert len(POSITIVE) >= 3 and len(NEGATIVE) >= 20


@pytest.mark.parametrize("path", POSITIVE, ids=lambda p: p.name)
def test_positive_example_passes(path):
    report = checked(path)
    assert report.ok, findings_text(report)
    assert report.checks_run > 0


@pytest.mark.parametrize("path", NEGATIVE, ids=lambda p: p.name)
def test_negative_example_is_caught_where_it_says(path):
    where, text = expectation(path)
    assert where and text is not None, f"{path.name}: first line must be '# <where> | <text>'"
    report = checked(path)
    assert not report.ok, f"{path.name}: no finding at all"
    if where == "schema":
        hits = [f for f in report.findings if "workflow schema" in f.message]
    else:
        full = where if where.startswith("ci.yml") else f"ci.yml: {where}"
        hits = [f for f in report.findings if f.location == full]
        hits += [f for f in report.findings if f.location.startswith(full + " (line ")]
    assert any(text in f.to_text() for f in hits), (
        f"{path.name}: expected a finding at {where!r} saying {text!r}; got:\n"
        + findings_text(report)
    )


def test_the_issue_cases_point_at_the_deploy_job():
    """A workflow that deploys on pull requests, or before the tests pass: the finding
    names the deploy job's `if` or `needs`, with its line."""
    for name, where in [
        ("deploy-on-pull-request-or-main.yml", "jobs.deploy.if (line "),
        ("deploy-before-tests.yml", "jobs.deploy.needs (line "),
        ("deploy-always.yml", "jobs.deploy.if (line "),
    ]:
        report = checked(EXAMPLES / "negative" / name)
        assert report.findings, name
        assert all(f.location.startswith(f"ci.yml: {where}") for f in report.findings), (
            findings_text(report)
        )


# -- YAML as GitHub reads it --------------------------------------------------------------------


def test_on_stays_a_string_key_and_lines_are_remembered():
    doc = wf.parse_yaml("on: push\nyes: no\njobs:\n  a:\n    steps:\n      - run: x\n", "w.yml")
    assert doc.data == {"on": "push", "yes": "no", "jobs": {"a": {"steps": [{"run": "x"}]}}}
    assert doc.where("jobs", "a", "steps", 0, "run") == "w.yml: jobs.a.steps[0].run (line 6)"
    assert doc.where("jobs", "a", "missing") == "w.yml: jobs.a.missing (line 4)"


def test_unquoted_versions_stay_numbers_and_dates_stay_strings():
    doc = wf.parse_yaml("v: [3.10, '3.11']\nd: 2024-01-01\n", "w.yml")
    assert doc.data == {"v": [3.1, "3.11"], "d": "2024-01-01"}


def test_missing_and_placeholder_files_are_findings_not_crashes(tmp_path):
    report = Report("t")
    assert wf.check_workflow(report, tmp_path / "absent.yml") is None
    assert "not" in findings_text(report)
    placeholder = tmp_path / "ci.yml"
    placeholder.write_text("# YOUR ANSWER HERE\nraise NotImplementedError()\n")
    report = Report("t")
    assert wf.check_workflow(report, placeholder) is None
    assert not report.ok


@pytest.mark.parametrize("text", ["- just\n- a list\n", "42\n", ""])
def test_a_workflow_that_is_not_a_mapping_is_one_finding(tmp_path, text):
    path = tmp_path / "ci.yml"
    path.write_text(text)
    report = Report("t")
    assert wf.check_workflow(report, path) is None
    assert len(report.findings) == 1


# -- expressions ---------------------------------------------------------------------------------

PUSH_MAIN, PULL_REQUEST, PUSH_FEATURE, TESTS_FAILED = (s for s, _ in wf.deploy_scenarios())


@pytest.mark.parametrize(
    ("expression", "runs"),
    [
        ("github.ref == 'refs/heads/main'", [True, False, False, False]),
        ("${{ github.ref == 'refs/heads/main' }}", [True, False, False, False]),
        ("github.ref == 'REFS/HEADS/MAIN'", [True, False, False, False]),  # case-insensitive
        ("github.ref_name == 'main'", [True, False, False, False]),
        ("github.base_ref == 'main'", [False, True, False, False]),
        ("github.event_name == 'push'", [True, False, True, False]),
        (
            "github.event_name != 'pull_request' && github.ref == 'refs/heads/main'",
            [True, False, False, False],
        ),
        ("always() && github.ref == 'refs/heads/main'", [True, False, False, True]),
        ("success() && github.ref == 'refs/heads/main'", [True, False, False, False]),
        ("failure()", [False, False, False, True]),
        ("!cancelled() && github.ref == 'refs/heads/main'", [True, False, False, True]),
        ("startsWith(github.ref, 'refs/heads/')", [True, False, True, False]),
        ("contains(github.ref, 'feature')", [False, False, True, False]),
        ("(github.ref == 'refs/heads/main') || false", [True, False, False, False]),
        ("true", [True, True, True, False]),
        ("vars.DEPLOY == 'yes'", [False, False, False, False]),  # unknown context: null
        ("github.event.pull_request.merged == true", [False, False, False, False]),
        (True, [True, True, True, False]),
    ],
)
def test_job_if_is_evaluated_like_github(expression, runs):
    scenarios = [PUSH_MAIN, PULL_REQUEST, PUSH_FEATURE, TESTS_FAILED]
    assert [wf.evaluate_expression(expression, s) for s in scenarios] == runs


@pytest.mark.parametrize(
    "expression",
    ["github.ref == ", "fromJSON('x')", "github.ref == 'refs/heads/main' ${{ x }}", "a ~ b"],
)
def test_unreadable_expressions_raise_expression_error(expression):
    with pytest.raises(wf.ExpressionError):
        wf.evaluate_expression(expression, PUSH_MAIN)


def test_an_unreadable_deploy_condition_is_a_finding_at_the_if():
    text = (EXAMPLES / "positive" / "solution.yml").read_text()
    doc = wf.parse_yaml(
        text.replace("if: github.ref == 'refs/heads/main'", "if: fromJSON(github.ref)"), "ci.yml"
    )
    report = Report("t")
    wf.check_workflow_rules(report, doc)
    assert [f.location.split(" (")[0] for f in report.findings] == ["ci.yml: jobs.deploy.if"]
    assert "cannot evaluate" in findings_text(report)


def test_needs_closure_and_job_order():
    jobs = {"a": {}, "b": {"needs": "a"}, "c": {"needs": ["b"]}, "d": {"needs": ["c", "a"]}}
    assert wf.needs_closure(jobs, "d") == {"a", "b", "c"}
    assert wf.needs_closure(jobs, "a") == set()
    assert wf.job_order(jobs, ["d", "c", "b", "a"]) == ["a", "b", "c", "d"]
    cyclic = {"x": {"needs": "y"}, "y": {"needs": "x"}}
    assert wf.job_order(cyclic, ["x", "y"]) == ["x", "y"]


# -- running the pipeline ------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "project"
    (root / "tests").mkdir(parents=True)
    (root / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    (root / "tests" / "test_calc.py").write_text(
        "from calc import add\n\n\ndef test_add():\n    assert add(2, 2) == 4\n"
    )
    return root


def workflow(steps_by_job: dict[str, str], **job_extra) -> wf.YamlDoc:
    jobs = ""
    for name, steps in steps_by_job.items():
        extra = "".join(f"    {k}: {v}\n" for k, v in job_extra.get(name, {}).items())
        jobs += f"  {name}:\n    runs-on: ubuntu-latest\n{extra}    steps:\n"
        jobs += textwrap.indent(textwrap.dedent(steps).strip() + "\n", "      ")
    return wf.parse_yaml(f"on: push\njobs:\n{jobs}", "ci.yml")


PIPELINE = {
    "lint": """
        - uses: actions/checkout@v4
        - run: pip install ruff
        - run: ruff check --no-cache .
    """,
    "test": """
        - uses: actions/setup-python@v5
          with:
            python-version: ${{ matrix.python-version }}
        - run: |
            python -m pip install -r requirements.txt
            echo "python ${{ matrix.python-version }}" > version.txt
            python -m pytest -q -p no:cacheprovider
    """,
}


@pytest.mark.usefixtures("where")
def test_a_green_pipeline_runs_in_needs_order_and_skips_installs(project):
    doc = workflow(
        PIPELINE,
        test={"needs": "lint", "strategy": '{matrix: {python-version: ["3.11", "3.12"]}}'},
    )
    run = wf.run_jobs(doc.data, project, ["test", "lint"])
    assert run.green, run.summary()
    assert [(s.job, s.status) for s in run.steps] == [
        ("lint", "skipped"),
        ("lint", "skipped"),
        ("lint", "passed"),
        ("test", "skipped"),
        ("test", "passed"),
    ]
    assert any("pip install -r requirements.txt" in note for note in run.notes)
    assert any("2 combinations" in note for note in run.notes)
    assert not (project / "version.txt").exists()  # a copy ran, not the project


@pytest.mark.usefixtures("where")
def test_a_failing_test_stops_the_pipeline_at_its_step(project):
    doc = workflow(PIPELINE, test={"needs": "lint"})
    report = Report("t")
    run = wf.check_workflow_stops(
        report,
        doc,
        project,
        ["lint", "test"],
        changes={"tests/test_bad.py": "def test_bad():\n    assert False\n"},
        failing_job="test",
        planted="a test fails",
        hint="h",
    )
    assert report.ok, findings_text(report)
    assert run.failed_step.job == "test" and run.failed_step.exit_code == 1
    assert "1 failed" in run.failed_step.output


def test_a_pipeline_that_ignores_failures_is_reported_at_the_job(project):
    steps = dict(PIPELINE, test="- run: python -m pytest -q -p no:cacheprovider || true\n")
    report = Report("t")
    wf.check_workflow_stops(
        report,
        workflow(steps),
        project,
        ["lint", "test"],
        changes={"tests/test_bad.py": "def test_bad():\n    assert False\n"},
        failing_job="test",
        planted="a test fails",
        hint="no || true",
    )
    assert [f.location for f in report.findings] == ["ci.yml: jobs.test (line 9)"]
    assert "stayed green although a test fails" in findings_text(report)


def test_continue_on_error_keeps_the_pipeline_going(project):
    steps = {"test": "- run: exit 3\n  continue-on-error: true\n- run: python -m pytest -q\n"}
    report = Report("t")
    wf.check_workflow_stops(
        report,
        workflow(steps),
        project,
        ["test"],
        changes={"calc.py": "def add(a, b):\n    return a - b\n"},
        failing_job="test",
        planted="add subtracts",
        hint="h",
    )
    assert report.ok, findings_text(report)
    run = wf.run_jobs(workflow(steps).data, project, ["test"])
    assert run.green and "continue-on-error" in run.steps[0].note


def test_failing_in_the_wrong_job_is_reported_at_that_step(project):
    steps = {"lint": "- run: ruff check --no-cache .\n", "test": "- run: python -m pytest -q\n"}
    report = Report("t")
    wf.check_workflow_stops(
        report,
        workflow(steps),
        project,
        ["lint", "test"],
        changes={"calc.py": "import os\n\n\ndef add(a, b):\n    return a + b + 1\n"},
        failing_job="test",
        planted="add is off by one",
        hint="h",
    )
    assert [f.location for f in report.findings] == ["ci.yml: jobs.lint.steps[0].run (line 6)"]
    assert "failed in the lint job instead of test" in findings_text(report)


def test_a_step_that_fails_on_correct_code_is_located(project):
    steps = {"lint": "- run: ruff check --no-cache .\n", "test": "- run: pytest tests/nothere\n"}
    report = Report("t")
    wf.check_workflow_passes(report, workflow(steps), project, ["lint", "test"])
    assert [f.location for f in report.findings] == ["ci.yml: jobs.test.steps[0].run (line 10)"]
    assert "fails on the correct project" in findings_text(report)


def test_a_job_without_run_steps_is_a_finding(project):
    steps = {"lint": "- uses: actions/checkout@v4\n", "test": "- run: python -m pytest -q\n"}
    report = Report("t")
    wf.check_workflow_passes(report, workflow(steps), project, ["lint", "test"])
    assert [f.location for f in report.findings] == ["ci.yml: jobs.lint.steps (line 5)"]


@pytest.mark.usefixtures("where")
def test_env_working_directory_and_shell_are_honoured(project):
    steps = {
        "test": """
            - run: test "$LEVEL" = step && test "$WHO" = job && test "$(basename "$PWD")" = tests
              working-directory: tests
              env:
                LEVEL: step
            - run: import sys; sys.exit(0)
              shell: python
        """
    }
    doc = workflow(steps, test={"env": "{WHO: job, LEVEL: job}"})
    run = wf.run_jobs(doc.data, project, ["test"])
    assert run.green, run.summary() + "\n" + "\n".join(s.output for s in run.steps)


@pytest.mark.usefixtures("where")
def test_a_hanging_step_times_out(project, monkeypatch):
    monkeypatch.setattr(runner, "STEP_TIMEOUT", 1.0)
    run = wf.run_jobs(workflow({"test": "- run: sleep 30\n"}).data, project, ["test"])
    assert run.failed_step.status == "timeout"


@pytest.mark.parametrize("where", ["checker"], indirect=True)
def test_in_the_checker_a_step_reaches_only_its_copy_of_the_project(project, tmp_path, where):
    """From the trusted checker every step runs in a sandbox of its own: the learner's
    workflow can neither read nor change anything outside its run's folder."""
    course = tmp_path / "course"
    course.mkdir()
    (course / "answers.txt").write_text("the instructor's answers\n")
    steps = {
        "test": f"""
            - run: |
                test ! -e {course}/answers.txt
                ! echo forged 2>/dev/null > {course}/answers.txt
                ! echo planted 2>/dev/null > {project}/planted.txt
                echo mine > here.txt
        """
    }
    run = wf.run_jobs(workflow(steps).data, project, ["test"])
    assert run.green, run.summary() + "\n" + "\n".join(s.output for s in run.steps)
    assert (course / "answers.txt").read_text() == "the instructor's answers\n"
    assert not (project / "planted.txt").exists()


def test_a_missing_course_tool_is_unavailable_not_failed(project):
    done = ToolRun(127, "", "bash: line 1: ruff: command not found")
    assert runner._missing_course_tool(done, "/nonexistent") == "ruff"
    run = wf.run_jobs(workflow({"test": "- run: no-such-tool-here\n"}).data, project, ["test"])
    assert run.failed_step.status == "failed" and run.failed_step.exit_code == 127


def test_a_course_tool_missing_here_is_noted_not_failed(project, tmp_path, monkeypatch):
    """On a bare Binder ruff may be missing: the lint job is noted as skipped, and the
    correct pipeline still passes."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    monkeypatch.setattr(runner.sys, "executable", str(bin_dir / "python"))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    steps = {"lint": "- run: ruff check .\n", "test": "- run: python -m pytest -q\n"}
    report = Report("t")
    run = wf.check_workflow_passes(report, workflow(steps), project, ["lint", "test"])
    if shutil.which("ruff", path="/usr/bin:/bin"):
        pytest.skip("ruff is installed system-wide here")
    assert report.ok, findings_text(report)
    assert run.steps[0].status == "unavailable"
    assert any("ruff" in note and "not installed" in note for note in report.notes)


@pytest.mark.parametrize("where", ["checker"], indirect=True)
def test_in_the_checker_a_steps_environment_never_reaches_the_graders_processes(
    project, where, monkeypatch
):
    """A learner's workflow sets the environment of its steps (`env:`); the process that
    builds the sandbox must not get it: an LD_PRELOAD naming a file an earlier step wrote
    would load the learner's library outside the sandbox."""
    from graders import isolation

    argv, host_env = isolation.learner_process(
        ["true"], project, env={"LD_PRELOAD": "./evil.so", "LEVEL": "step"}
    )
    assert host_env == isolation.HOST_ENV
    assert "--clearenv" in argv and argv[
        argv.index("LD_PRELOAD") - 1 : argv.index("LD_PRELOAD") + 2
    ] == ["--setenv", "LD_PRELOAD", "./evil.so"]
    monkeypatch.setenv("GRADER_SECRET", "s3cret")
    steps = {
        "test": '- run: test "$LEVEL" = step && test -z "$GRADER_SECRET"\n  env:\n    LEVEL: step\n'
    }
    run = wf.run_jobs(workflow(steps).data, project, ["test"])
    assert run.green, run.summary() + "\n" + "\n".join(s.output for s in run.steps)
