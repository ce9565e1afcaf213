"""Grade a student's *test suite* by the bugs it catches (a small mutation test).

The student's test file runs with pytest against the correct implementation, where every
test must pass, and against each planted bug ("mutant"), where at least one test must fail.
Every run happens in its own temporary folder, in a subprocess with a time limit and a clean
environment, so a test file that hangs or deletes files cannot affect the notebook.

:func:`grade_test_suite` plants bugs in a single module; :func:`grade_project_test_suite`
does the same for a test file inside a whole project folder (code and data), where a
variant may replace any file, the data included.
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from graders.isolation import learner_process
from graders.report import Report
from graders.tools import PYTEST_SAFETY_ARGS, PYTEST_SAFETY_ENV, SAFE_PATH, TOOL_CACHES, run_tool

PYTEST_TIMEOUT = 60


@dataclass(frozen=True)
class Implementation:
    """A version of the module under test: the correct one or a planted bug."""

    name: str
    source: str
    bug: str = ""  # what is wrong with it, told to the student when it goes unnoticed


@dataclass(frozen=True)
class PytestRun:
    exit_code: int | None  # None: timed out
    passed: int
    failed: int
    output: str

    @property
    def green(self) -> bool:
        return self.exit_code == 0


def run_pytest(
    test_source: str,
    module_name: str,
    implementation: Implementation,
    *,
    test_filename: str = "test_student.py",
    timeout: float = PYTEST_TIMEOUT,
) -> PytestRun:
    """Run the tests against one implementation in a fresh folder and summarise the outcome."""
    with tempfile.TemporaryDirectory(prefix="mlops-pytest-") as folder:
        work = Path(folder)
        (work / f"{module_name}.py").write_text(implementation.source)
        (work / test_filename).write_text(test_source)
        return _pytest(work, test_filename, home=work, timeout=timeout)


def _pytest(
    root: Path, test_path: str, *, home: Path, timeout: float, **extra_env: str
) -> PytestRun:
    """pytest on one file from ``root`` (on the import path), in a clean environment."""
    env = {
        "PATH": SAFE_PATH,
        "HOME": str(home),
        "PYTHONPATH": str(root),
        **extra_env,
        **PYTEST_SAFETY_ENV,
    }
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        *PYTEST_SAFETY_ARGS,
        "--no-header",
        "-rN",
        test_path,
    ]
    argv, host_env = learner_process(command, root, env=env)
    done = run_tool(argv, cwd=root, env=host_env, timeout=timeout)
    if not done.finished:  # it hung, or could not start: no verdict either way
        return PytestRun(None, 0, 0, done.stdout if done.error is None else done.error)
    output = done.output
    return PytestRun(done.status, _count(output, "passed"), _count(output, "failed"), output)


def _count(output: str, word: str) -> int:
    match = re.search(rf"(\d+) {word}", output)
    return int(match.group(1)) if match else 0


def _tail(output: str, lines: int = 8) -> str:
    kept = [line for line in output.strip().splitlines() if line.strip()]
    return "\n".join(kept[-lines:])


def grade_test_suite(
    report: Report,
    test_file: Path,
    module_name: str,
    correct: Implementation,
    mutants: list[Implementation],
    *,
    min_tests: int = 1,
) -> None:
    """Record findings for a test file that misses bugs or fails on correct code."""
    location = str(test_file)
    source = _suite_source(report, test_file)
    if source is None:
        return
    baseline = run_pytest(source, module_name, correct)
    if not _baseline_holds(
        report,
        location,
        baseline,
        against=f"the correct {module_name}.py",
        timeout=PYTEST_TIMEOUT,
        timeout_hint="Look for a loop that never ends or a call that waits for input.",
        min_tests=min_tests,
    ):
        return
    for mutant in mutants:
        run = run_pytest(source, module_name, mutant)
        report.check(
            not run.green,
            f"{location} against planted bug '{mutant.name}'",
            "every test still passes, so this bug would ship unnoticed",
            expected="at least one failing test",
            found=f"{run.passed} passed, {run.failed} failed",
            hint=f"The planted bug: {mutant.bug}. Add a test that fails on it.",
        )


# -- test suites for a whole project folder ---------------------------------------------------


@dataclass(frozen=True)
class ProjectVariant:
    """A project folder as it is (``changes`` empty) or with a planted bug: files replaced."""

    name: str
    changes: Mapping[str, str] = field(default_factory=dict)  # relative path -> new content
    bug: str = ""

    @classmethod
    def replacing(
        cls, project: Path, name: str, path: str, old: str, new: str, bug: str, *, count: int = 1
    ) -> ProjectVariant:
        """The project with ``old`` replaced by ``new`` in ``path``; fails loudly when the
        text is not there (the project changed and the planted bug must be updated)."""
        source = (project / path).read_text()
        if old not in source:
            raise ValueError(f"planted bug {name!r}: {old!r} not found in {path}")
        return cls(name, {path: source.replace(old, new, count)}, bug)


def run_pytest_in_project(
    project: Path,
    test_source: str,
    variant: ProjectVariant | None = None,
    *,
    test_path: str = "tests/test_student.py",
    timeout: float = PYTEST_TIMEOUT,
) -> PytestRun:
    """Run one test file inside a temporary copy of ``project`` (with ``variant``'s changes),
    from the project root, with the root on the import path."""
    with tempfile.TemporaryDirectory(prefix="mlops-project-") as folder:
        work = Path(folder) / "project"
        shutil.copytree(
            project,
            work,
            ignore=shutil.ignore_patterns(*TOOL_CACHES),
        )
        for relative, content in (variant.changes if variant else {}).items():
            (work / relative).parent.mkdir(parents=True, exist_ok=True)
            (work / relative).write_text(content)
        (work / test_path).parent.mkdir(parents=True, exist_ok=True)
        (work / test_path).write_text(test_source)
        return _pytest(
            work,
            test_path,
            home=Path(folder),
            timeout=timeout,
            MPLBACKEND="Agg",
            # one thread per numeric library: several runs share a small machine
            OMP_NUM_THREADS="1",
            OPENBLAS_NUM_THREADS="1",
            MKL_NUM_THREADS="1",
        )


def grade_project_test_suite(
    report: Report,
    test_file: Path,
    project: Path,
    variants: list[ProjectVariant],
    *,
    test_path: str,
    min_tests: int = 1,
    timeout: float = 30,
    budget: float = 50,
    workers: int = 2,
) -> None:
    """Like :func:`grade_test_suite`, for a test file that belongs in a project folder: it must
    pass on ``project`` and fail on every variant. Variants run ``workers`` at a time; the
    whole grading stops after ``budget`` seconds, and what did not run is said so.

    The limits grow with the learner's own suite on this machine: a variant run may take
    three times the baseline run, and the budget covers every variant at that pace. On a
    busy grading machine every run is slower alike, so a suite that would finish on an idle
    one is not cut short (a fixed budget made the verdict depend on the machine's load);
    a suite that hangs still stops at ``timeout`` on the baseline."""
    location = str(test_file)
    source = _suite_source(report, test_file)
    if source is None:
        return
    start = time.monotonic()
    baseline = run_pytest_in_project(project, source, test_path=test_path, timeout=timeout)
    baseline_seconds = time.monotonic() - start
    variant_timeout = max(timeout, 3 * baseline_seconds)
    budget = max(budget, baseline_seconds + variant_timeout * -(-len(variants) // workers))
    if not _baseline_holds(
        report,
        location,
        baseline,
        against="the correct project",
        timeout=timeout,
        timeout_hint="Train the model once per file (a fixture with scope='module'), and look "
        "for a loop that never ends.",
        min_tests=min_tests,
    ):
        return

    def run(variant: ProjectVariant) -> PytestRun | None:
        remaining = budget - (time.monotonic() - start)
        if remaining < 2:
            return None
        return run_pytest_in_project(
            project, source, variant, test_path=test_path, timeout=min(variant_timeout, remaining)
        )

    with ThreadPoolExecutor(max_workers=workers) as pool:
        runs = list(pool.map(run, variants))
    _check_variants(report, location, variants, runs)


def _suite_source(report: Report, test_file: Path) -> str | None:
    """The learner's test file, or None (and a finding) when it is missing or not written."""
    location = str(test_file)
    if not report.check(
        test_file.is_file(),
        location,
        "the test file does not exist yet",
        hint="Run the answer cell: its %%writefile line creates the file.",
    ):
        return None
    source = test_file.read_text()
    if "NotImplementedError" in source and "def test" not in source:
        report.not_written(location)
        return None
    return source


def _baseline_holds(
    report: Report,
    location: str,
    baseline: PytestRun,
    *,
    against: str,
    timeout: float,
    timeout_hint: str,
    min_tests: int,
) -> bool:
    """Findings for the learner's suite run ``against`` the correct code; False when
    grading the planted bugs is pointless (it hung, found no tests or could not import
    the file)."""
    if baseline.exit_code is None:
        report.fail(location, f"the tests did not finish within {timeout:.0f} s", hint=timeout_hint)
        return False
    if baseline.exit_code == 5 or (
        baseline.passed + baseline.failed == 0 and "error" not in baseline.output
    ):
        report.fail(
            location,
            "pytest found no tests in the file",
            expected="functions named test_… at the top level of the file",
            found=_tail(baseline.output, 3),
        )
        return False
    if baseline.passed + baseline.failed == 0:
        report.fail(
            location,
            "pytest could not even import the file",
            found=_tail(baseline.output),
            hint="Run `python -m pytest` on it in the project folder and fix the error.",
        )
        return False
    report.check(
        baseline.green,
        f"{location} against {against}",
        f"your tests must pass on {against}",
        expected="all tests pass",
        found=_tail(baseline.output),
        hint="A test that fails on correct code is itself wrong: check its expected values.",
    )
    report.check(
        baseline.passed >= min_tests,
        location,
        "too few tests to pin the behaviour down",
        expected=f"at least {min_tests} passing tests",
        found=f"{baseline.passed}",
    )
    return True


def _check_variants(
    report: Report, location: str, variants: list[ProjectVariant], runs: list[PytestRun | None]
) -> None:
    """Every planted bug must make at least one test fail."""
    for variant, outcome in zip(variants, runs, strict=True):
        where = f"{location} against planted bug '{variant.name}'"
        if outcome is None or outcome.exit_code is None:
            report.fail(
                where,
                "the tests did not finish in time on this variant",
                hint="Make the tests faster: train once per file with a module-scoped fixture.",
            )
            continue
        report.check(
            not outcome.green,
            where,
            "every test still passes, so this bug would ship unnoticed",
            expected="at least one failing test",
            found=f"{outcome.passed} passed, {outcome.failed} failed",
            hint=f"The planted bug: {variant.bug}. Add a test that fails on it.",
        )
