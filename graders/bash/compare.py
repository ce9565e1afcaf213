"""A run compared with what was expected: exit status, output, files, hygiene; every
difference a finding."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from graders.bash.runs import FILE_LIMIT_KB, MAX_SHOWN_LINES, SIGXFSZ_STATUS, ScriptRun
from graders.report import Report

ANY = ...  # in check_run(files=...): the file must exist, with any content


def _shown(text: str) -> str:
    lines = text.splitlines()
    if not lines:
        return "(nothing)"
    if len(lines) > MAX_SHOWN_LINES:
        rest = len(lines) - MAX_SHOWN_LINES
        lines = [*lines[:MAX_SHOWN_LINES], f"… ({rest} more line{'s' if rest != 1 else ''})"]
    return "\n".join(lines)


def first_difference(expected: str, found: str) -> str | None:
    """Where two outputs first differ, line by line, with invisible characters shown."""
    want, got = expected.splitlines(), found.splitlines()
    for number, (line_want, line_got) in enumerate(zip(want, got, strict=False), 1):
        if line_want != line_got:
            return f"line {number}: expected {line_want!r}, found {line_got!r}"
    if len(got) < len(want):
        return f"line {len(got) + 1}: expected {want[len(got)]!r}, found the end of the output"
    if len(got) > len(want):
        return f"line {len(want) + 1}: expected the end of the output, found {got[len(want)]!r}"
    return None


def _stderr_tail(run: ScriptRun, lines: int = 4) -> str:
    kept = [line for line in run.stderr.strip().splitlines() if line.strip()]
    return "\n".join(kept[-lines:])


def check_hygiene(report: Report, run: ScriptRun, *, check_tmp: bool = True) -> bool:
    """Findings for a run that hung, touched files outside its folder, left processes
    running or temporary files behind. True when the run finished and can be compared."""
    if run.skipped:
        if "earlier run" not in run.skipped:
            report.fail(run.where, run.skipped)
        return False
    if run.timed_out:
        after_signal = f" after {run.signal_sent}" if run.signal_sent else ""
        report.fail(
            run.where,
            f"the script did not finish{after_signal} within the time limit, so it was stopped",
            hint="Look for a loop that never ends, a `sleep` or `wait` that is never "
            "interrupted, or a command waiting for input (stdin is empty here). "
            "The script's remaining runs are skipped.",
        )
        return False
    if run.status == SIGXFSZ_STATUS:
        report.fail(
            run.where,
            f"the script wrote a file (or output) larger than {FILE_LIMIT_KB // 1024} MB, "
            "so it was stopped",
            found="its output began with:\n" + _shown("\n".join(run.stdout.splitlines()[:5])),
            hint="Look for a loop that never ends or a command like `yes` that prints forever.",
        )
        return False
    report.check(
        not run.outside_changes,
        run.where,
        "the script changed files outside its own folder",
        found="\n".join(run.outside_changes),
        hint="A script must only write where it is told to: check every rm, mv and > target, "
        'and quote variables so an empty one cannot turn `rm -rf "$dir"/*` into `rm -rf /*`.',
    )
    report.check(
        not run.leftover_processes,
        run.where,
        "processes the script started were still running after it exited",
        found=", ".join(run.leftover_processes),
        hint="Wait for background jobs (`wait`), and stop them in an EXIT trap.",
    )
    if check_tmp:
        report.check(
            not run.leftover_tmp,
            run.where,
            "the script left temporary files behind in $TMPDIR",
            found=", ".join(run.leftover_tmp),
            hint="Remove what mktemp created in a trap: trap 'rm -rf \"$tmp\"' EXIT",
        )
    return True


def check_run(
    report: Report,
    run: ScriptRun,
    *,
    status: int | Iterable[int] | None = 0,
    stdout: str | None = None,
    stdout_contains: Sequence[str] = (),
    stdout_lacks: Sequence[str] = (),
    stderr_contains: Sequence[str] = (),
    stderr_lacks: Sequence[str] = (),
    files: Mapping[str, object] | None = None,
    check_tmp: bool = True,
    hint: str | None = None,
) -> bool:
    """Compare one run with what was expected; every difference becomes a finding.

    ``stdout`` is compared line by line (a missing final newline is forgiven); ``files``
    maps paths in the run's folder to their expected text, ``None`` (must not exist) or
    ``ANY`` (must exist). Texts in ``*_contains``/``*_lacks`` are matched case-insensitively.
    Returns True when nothing was found wrong.
    """
    before = len(report.findings)
    if not check_hygiene(report, run, check_tmp=check_tmp):
        return False
    if status is not None:
        allowed = {status} if isinstance(status, int) else set(status)
        tail = _stderr_tail(run)
        report.check(
            run.status in allowed,
            run.where,
            "wrong exit status",
            expected=" or ".join(str(s) for s in sorted(allowed)),
            found=f"{run.status}" + (f"\nstderr: {tail}" if tail else ""),
            hint=hint,
        )
    if stdout is not None and first_difference(stdout, run.stdout) is not None:
        _report_stdout(report, run, stdout, hint)
    _check_mentions(report, run, "stdout", stdout_contains, stdout_lacks, hint)
    _check_mentions(report, run, "stderr", stderr_contains, stderr_lacks, hint)
    for path, expected in (files or {}).items():
        _check_file(report, run, path, expected, hint)
    return len(report.findings) == before


_STREAM_NAMES = {"stdout": "the output", "stderr": "the error output (stderr)"}
_STDERR_HINT = 'Write messages for people to stderr: echo "..." >&2'


def _check_mentions(
    report: Report,
    run: ScriptRun,
    stream: str,
    contains: Sequence[str],
    lacks: Sequence[str],
    hint: str | None,
) -> None:
    """Texts ``stream`` must mention and must not contain, case-insensitively."""
    output, what, where = getattr(run, stream), _STREAM_NAMES[stream], f"{run.where}: {stream}"
    for text in contains:
        report.check(
            text.lower() in output.lower(),
            where,
            f"{what} should mention {text!r}",
            found=_shown(output),
            hint=hint or (_STDERR_HINT if stream == "stderr" else None),
        )
    for text in lacks:
        report.check(
            text.lower() not in output.lower(),
            where,
            f"{what} must not contain {text!r}",
            found=_shown(output),
            hint=hint,
        )


def _report_stdout(report: Report, run: ScriptRun, expected: str, hint: str | None) -> None:
    hints = [hint] if hint else []
    names_a_file = any(run.files.get(arg) is not None for arg in run.args)
    if names_a_file and expected.strip() and not run.stdout.strip():
        hints.insert(
            0,
            "Nothing was printed: does the script read the file named by its argument ($1)? "
            "Here stdin is empty.",
        )
    tail = _stderr_tail(run)
    report.fail(
        f"{run.where}: stdout",
        f"the output differs from the expected one at {first_difference(expected, run.stdout)}",
        expected=_shown(expected),
        found=_shown(run.stdout) + (f"\n(stderr: {tail})" if tail else ""),
        hint=" · ".join(hints) or None,
    )


def _check_file(
    report: Report, run: ScriptRun, path: str, expected: object, hint: str | None
) -> None:
    where = f"{run.where}: file {path}"
    present = path in run.files
    if expected is None:
        report.check(not present, where, "should not exist after this run", hint=hint)
        return
    if not report.check(present, where, "was not created", hint=hint):
        return
    if expected is ANY:
        return
    content = run.files[path]
    if content is None:
        report.fail(where, "should be a file, but it is a folder", hint=hint)
        return
    if isinstance(expected, bytes):
        report.check(content == expected, where, "has the wrong content", hint=hint)
        return
    text = content.decode("utf-8", errors="replace")
    difference = first_difference(str(expected), text)
    report.check(
        difference is None,
        where,
        f"the content differs from the expected one at {difference}",
        expected=_shown(str(expected)),
        found=_shown(text),
        hint=hint,
    )
