"""Grade a student's *test suite* by the bugs it catches (a small mutation test).

The student's test file runs with pytest against the correct implementation, where every
test must pass, and against each planted bug ("mutant"), where at least one test must fail.
Every run happens in its own temporary folder, in a subprocess with a time limit and a clean
environment, so a test file that hangs or deletes files cannot affect the notebook.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from graders.report import PLACEHOLDER_HINT, Report

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
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": folder,
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONPATH": folder,
        }
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--no-header",
            "-rN",
            test_filename,
        ]
        try:
            done = subprocess.run(
                command,
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            output = exc.stdout if isinstance(exc.stdout, str) else ""
            return PytestRun(None, 0, 0, output)
    output = done.stdout + done.stderr
    return PytestRun(done.returncode, _count(output, "passed"), _count(output, "failed"), output)


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
    if not report.check(
        test_file.is_file(),
        location,
        "the test file does not exist yet",
        hint="Run the answer cell: its %%writefile line creates the file.",
    ):
        return
    source = test_file.read_text()
    if "NotImplementedError" in source and "def test" not in source:
        report.blocked = True
        report.fail(
            location, "not written yet: the placeholder is still there", hint=PLACEHOLDER_HINT
        )
        return

    baseline = run_pytest(source, module_name, correct)
    if baseline.exit_code is None:
        report.fail(
            location,
            f"the tests did not finish within {PYTEST_TIMEOUT} s",
            hint="Look for a loop that never ends or a call that waits for input.",
        )
        return
    if baseline.exit_code == 5 or baseline.passed + baseline.failed == 0:
        report.fail(
            location,
            "pytest found no tests in the file",
            expected="functions named test_… at the top level of the file",
            found=_tail(baseline.output, 3),
        )
        return
    report.check(
        baseline.green,
        f"{location} against the correct {module_name}.py",
        "your tests must pass on a correct implementation",
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
