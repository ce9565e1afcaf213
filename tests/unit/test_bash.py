"""The shell grader, from example scripts that are really run with bash and shellcheck.

Every file in ``examples/bash/`` answers the same small task, ``count_errors.sh LOG``: print
how many lines of LOG contain ``ERROR``; with a wrong number of arguments, print a
``usage:`` line to stderr and exit 2; strict mode and a clean shellcheck are required.
Dropping a file into ``negative/`` adds a case: its second line is ``# finding: <text>``,
and ``<text>`` must appear in the findings of grading it. Every file in ``positive/`` must
pass. The tests after those pin down the run sandbox (time limit, stdin, clean environment,
files outside the folder, resource limits, signals) and the crontab validator.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

from graders import Report
from graders import bash as sh

EXAMPLES = Path(__file__).parent / "examples" / "bash"
POSITIVE = sorted((EXAMPLES / "positive").glob("*.sh"))
NEGATIVE = sorted((EXAMPLES / "negative").glob("*.sh"))
TIMEOUT = 3.0  # only hangs.sh is meant to reach it

LOG = "INFO start\nERROR disk full\nINFO retry\nERROR disk full\nWARN slow\nERROR gave up\n"
SCENARIOS = [  # args, fixtures, fixture in words, expected exit status, stdout, stderr text
    (["app.log"], {"app.log": LOG}, "a log with three errors", 0, "3\n", None),
    (["my app.log"], {"my app.log": "ERROR\n"}, "a log whose name has a space", 0, "1\n", None),
    (["empty.log"], {"empty.log": ""}, "an empty log", 0, "0\n", None),
    ([], {}, "no arguments", 2, "", "usage:"),
]


def grade(path: Path) -> tuple[Report, list[sh.ScriptRun]]:
    """Grade an example the way a notebook check cell does."""
    report = Report(path.stem)
    runs: list[sh.ScriptRun] = []
    script = sh.load_script(report, path, require_clean_shellcheck=True, require_strict_mode=True)
    if script is None:
        return report, runs
    for args, fixtures, words, status, stdout, stderr in SCENARIOS:
        with report.attempt(f"{script.display} {args}"):
            run = sh.run_script(script, args, fixtures=fixtures, fixture=words, timeout=TIMEOUT)
            runs.append(run)
            sh.check_run(
                report,
                run,
                status=status,
                stdout=stdout,
                stderr_contains=[stderr] if stderr else [],
                hint="see the example's comment",
            )
    return report, runs


def expected_finding(path: Path) -> str:
    second = path.read_text().splitlines()[1]
    assert second.startswith("# finding: "), f"{path.name}: line 2 must be '# finding: …'"
    return second.removeprefix("# finding: ").strip()


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_there_are_examples():
    assert len(POSITIVE) >= 3
    assert len(NEGATIVE) >= 10


@pytest.mark.parametrize("path", POSITIVE, ids=lambda p: p.stem)
def test_positive_example_passes(path, capfd):
    report, runs = grade(path)
    assert report.ok, report.to_text()
    assert len(runs) == len(SCENARIOS)
    out, err = capfd.readouterr()  # nothing may leak to the cell's stdout or stderr
    assert (out, err) == ("", "")


@pytest.mark.parametrize("path", NEGATIVE, ids=lambda p: p.stem)
def test_negative_example_is_caught_with_its_finding(path, capfd):
    text = path.read_text()
    report, _ = grade(path)
    assert not report.ok, f"{path.name} passed but should not"
    assert expected_finding(path) in report.to_text(), report.to_text()
    assert "Traceback" not in report.to_text()
    assert path.read_text() == text  # the script ran from a copy: the original is untouched
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")


# -- shellcheck --------------------------------------------------------------------------------


def test_shellcheck_findings_are_located_by_line_and_column():
    path = EXAMPLES / "negative" / "unquoted.sh"
    report, _ = grade(path)
    line = line_of(path, "awk")
    [finding] = [f for f in report.findings if "SC2086" in f.message]
    assert finding.location == f"{path}:{line}:43"
    assert finding.found == path.read_text().splitlines()[line - 1].strip()
    assert "shellcheck.net/wiki/SC2086" in finding.hint


def test_shellcheck_advice_is_a_note_when_a_clean_shellcheck_is_not_required():
    path = EXAMPLES / "negative" / "unquoted.sh"
    report = Report("advice only")
    script = sh.load_script(report, path)
    assert script is not None and report.ok
    assert any("SC2086" in note and f":{line_of(path, 'awk')}:" in note for note in report.notes)


def test_a_syntax_error_is_located_where_shellcheck_finds_it():
    path = EXAMPLES / "negative" / "syntax_error.sh"
    report, _ = grade(path)
    locations = [f.location for f in report.findings if "SC1046" in f.message]
    assert locations == [f"{path}:{line_of(path, 'if [[')}:1"]


def test_the_placeholder_is_reported_once_and_nothing_runs(tmp_path):
    path = tmp_path / "placeholder.sh"
    path.write_text("# YOUR CODE HERE\nraise NotImplementedError()\n")
    report = Report("placeholder")
    assert sh.load_script(report, path, require_clean_shellcheck=True) is None
    assert [f.message for f in report.findings] == [
        "not written yet: the placeholder is still there"
    ]


def test_a_missing_script_says_so(tmp_path):
    report = Report("missing")
    assert sh.load_script(report, tmp_path / "nope.sh") is None
    assert "does not exist yet" in report.to_text()


@pytest.mark.parametrize(
    ("line", "options"),
    [
        ("set -euo pipefail", {"errexit", "nounset", "pipefail"}),
        ("set -e -u -o pipefail", {"errexit", "nounset", "pipefail"}),
        ("set -o errexit -o nounset -o pipefail", {"errexit", "nounset", "pipefail"}),
        ("set -eu", {"errexit", "nounset"}),
        ("# set -euo pipefail", set()),
        ("echo set -euo pipefail", set()),
    ],
)
def test_strict_mode_options(line, options):
    assert sh.strict_mode_options(f"#!/bin/bash\n{line}\n") == options


def test_trap_function_lines():
    text = "cleanup() {\n  rm -f x\n}\nother() {\n  :\n}\ntrap cleanup EXIT\n"
    assert sh.trap_function_lines(text) == {1, 2, 3}


# -- the sandbox -------------------------------------------------------------------------------


def script_from(tmp_path: Path, body: str, name: str = "probe.sh") -> sh.ShellScript:
    path = tmp_path / name
    path.write_text("#!/usr/bin/env bash\n" + body)
    script = sh.load_script(Report("probe"), path)
    assert script is not None
    return script


@pytest.mark.usefixtures("where")
def test_a_hanging_script_is_stopped_and_its_later_runs_are_skipped(tmp_path):
    script = script_from(tmp_path, "sleep 60\n")
    report = Report("hang")
    start = time.monotonic()
    first = sh.run_script(script, timeout=1)
    second = sh.run_script(script, timeout=1)
    assert time.monotonic() - start < 10
    assert first.timed_out and second.skipped
    sh.check_run(report, first)
    sh.check_run(report, second)
    [finding] = report.findings  # one finding, not one per run
    assert "did not finish within the time limit" in finding.message


def processes_running(*argv: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "cmdline").read_bytes().split(b"\0")[:-1] == [
                a.encode() for a in argv
            ]:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.mark.usefixtures("where")
def test_the_time_limit_stops_the_whole_process_tree(tmp_path):
    script = script_from(tmp_path, "sleep 617 & sleep 618 & wait\n")
    run = sh.run_script(script, timeout=1)
    assert run.timed_out
    time.sleep(0.2)  # SIGKILL is delivered, the zombies reaped by init
    assert not processes_running("sleep", "617") and not processes_running("sleep", "618")


@pytest.mark.usefixtures("where")
def test_stdin_is_empty_so_reading_it_ends_at_once(tmp_path):
    script = script_from(tmp_path, "cat\nread -r line || echo 'end of input'\n")
    run = sh.run_script(script, timeout=5)
    assert not run.timed_out and run.seconds < 4
    assert (run.status, run.stdout) == (0, "end of input\n")


@pytest.mark.usefixtures("where")
def test_an_empty_output_for_a_file_argument_hints_at_stdin(tmp_path):
    script = script_from(tmp_path, "grep ERROR\n")  # forgot "$1": reads the empty stdin
    report = Report("stdin")
    run = sh.run_script(script, ["app.log"], fixtures={"app.log": LOG})
    sh.check_run(report, run, status=None, stdout="ERROR disk full\n")
    assert "Here stdin is empty" in report.findings[0].hint


@pytest.mark.usefixtures("where")
def test_the_environment_is_clean(tmp_path, monkeypatch):
    monkeypatch.setenv("LEAKED_SECRET", "s3cret")
    script = script_from(tmp_path, 'env | cut -d= -f1 | sort\necho "cwd=$PWD home=$HOME"\n')
    run = sh.run_script(script, env={"MODEL_NAME": "churn"})
    names = set(run.stdout.splitlines()[:-1])
    assert "LEAKED_SECRET" not in names and "s3cret" not in run.stdout
    assert {"PATH", "HOME", "TMPDIR", "LC_ALL", "LANG", "MODEL_NAME"} <= names
    assert names - {"PATH", "HOME", "TMPDIR", "LC_ALL", "LANG", "MODEL_NAME"} <= {
        "PWD",
        "SHLVL",
        "_",
        "OLDPWD",
    }
    cwd, home = run.stdout.splitlines()[-1].removeprefix("cwd=").split(" home=")
    assert cwd == home and Path(cwd).name == "work"


@pytest.mark.usefixtures("where")
def test_every_run_gets_a_fresh_folder(tmp_path):
    script = script_from(tmp_path, "ls -A\necho made > left_behind.txt\n")
    first = sh.run_script(script, fixtures={"input.txt": "x"})
    second = sh.run_script(script)
    assert first.stdout == "input.txt\n"
    assert second.stdout == ""  # nothing left by the first run
    assert first.text("left_behind.txt") == "made\n"


@pytest.mark.usefixtures("where")
def test_deleting_outside_the_folder_loses_that_run_only(tmp_path):
    script = script_from(tmp_path, "rm -rf -- ../outside ../script\necho done\n")
    report = Report("hostile")
    run = sh.run_script(script)
    sh.check_run(report, run, stdout="done\n")
    [finding] = report.findings
    assert "outside its own folder" in finding.message
    assert "deleted ../outside/sentinel.txt" in finding.found
    assert "deleted ../script/probe.sh" in finding.found
    assert script.path.exists()  # the student's own file was never the one that ran
    # the next run has its sentinel back and can pass
    well_behaved = script_from(tmp_path, "cat ../outside/sentinel.txt\n", "fine.sh")
    again = Report("next")
    sh.check_run(again, sh.run_script(well_behaved), stdout=sh.SENTINEL_TEXT)
    assert again.ok, again.to_text()


@pytest.mark.usefixtures("where")
def test_a_symlink_to_the_root_is_recorded_not_followed(tmp_path):
    script = script_from(tmp_path, "ln -s / everything\n")
    start = time.monotonic()
    run = sh.run_script(script)
    assert time.monotonic() - start < 5
    assert run.files == {"everything": b"-> /"}


@pytest.mark.usefixtures("where")
def test_output_without_end_is_stopped_at_the_file_size_limit(tmp_path):
    script = script_from(tmp_path, "yes\n")
    report = Report("yes")
    run = sh.run_script(script, timeout=20)
    assert run.status == sh.SIGXFSZ_STATUS and not run.timed_out
    assert len(run.stdout) <= sh.FILE_LIMIT_KB * 1024
    sh.check_run(report, run, stdout="")
    assert len(report.findings) == 1 and "larger than 8 MB" in report.findings[0].message


@pytest.mark.usefixtures("where")
def test_bash_messages_name_the_students_script_not_the_copy(tmp_path):
    script = script_from(tmp_path, 'set -u\necho "$nope"\n')
    run = sh.run_script(script)
    assert run.status == 1
    assert run.stderr.startswith(f"{script.display}: line 3: nope: unbound variable")


@pytest.mark.usefixtures("where")
def test_fixtures_ages_folders_and_executables(tmp_path):
    script = script_from(
        tmp_path,
        "find . -mindepth 1 -mtime +30 | sort\n"
        "[[ -x tools/job.sh ]] && ./tools/job.sh\n"
        "[[ -d empty ]] && echo 'empty is a folder'\n",
    )
    run = sh.run_script(
        script,
        fixtures={
            "models/old model.pkl": sh.Fixture("x", age_days=40),
            "models/new.pkl": sh.Fixture("x", age_days=2),
            "tools/job.sh": sh.Fixture("#!/bin/bash\necho job ran\n", executable=True),
            "empty": None,
        },
    )
    assert run.stdout == "./models/old model.pkl\njob ran\nempty is a folder\n"


@pytest.mark.usefixtures("where")
def test_leftover_processes_and_temporary_files_are_findings(tmp_path):
    script = script_from(tmp_path, "sleep 30 &\nmktemp > /dev/null\n")
    report = Report("leftovers")
    sh.check_run(report, sh.run_script(script))
    messages = " | ".join(f.message for f in report.findings)
    assert "still running after it exited" in messages
    assert "temporary files behind" in messages
    assert "sleep" in report.to_text()


# job.lock, which the grader waits for before it signals, comes after `sleep 30 &`: a
# signal that arrived before bash started sleep would leave nothing behind to find
TERM_SCRIPT = """\
trap 'exit 143' TERM
trap 'rm -f job.lock' EXIT
sleep 30 &
touch job.lock
wait
"""


@pytest.mark.usefixtures("where")
def test_a_script_that_handles_sigterm_cleans_up(tmp_path):
    script = script_from(tmp_path, TERM_SCRIPT)
    run = sh.run_script(script, interrupt=sh.Interrupt(when_exists="job.lock", wait=5, grace=3))
    assert run.signal_sent == "SIGTERM"
    assert run.status == 143 and "job.lock" not in run.files
    # `sleep 30 &` outlives the script: the grader finds it, kills it, and says so
    assert any("sleep" in found for found in run.leftover_processes)
    report = Report("term")
    sh.check_run(report, run, status=143)
    assert [f.message for f in report.findings] == [
        "processes the script started were still running after it exited"
    ]


@pytest.mark.usefixtures("where")
def test_a_script_that_ignores_sigterm_is_stopped_and_reported(tmp_path):
    script = script_from(tmp_path, "trap '' TERM\ntouch started\nwhile true; do sleep 0.2; done\n")
    report = Report("ignores term")
    run = sh.run_script(script, interrupt=sh.Interrupt(when_exists="started", grace=1))
    sh.check_run(report, run, status=range(1, 256))
    assert run.timed_out
    assert "did not finish after SIGTERM" in report.findings[0].message


def test_in_a_sandbox_the_script_is_signalled_not_the_sandbox(tmp_path, where):
    script = script_from(
        tmp_path, "trap 'echo got TERM; exit 3' TERM\ntouch started\nsleep 30 & wait\n"
    )
    run = sh.run_script(script, interrupt=sh.Interrupt(when_exists="started", grace=5))
    assert (run.signal_sent, run.status, run.stdout) == ("SIGTERM", 3, "got TERM\n")


def test_in_the_checker_a_script_sees_only_its_run_folder(tmp_path, where):
    if where == "kernel":
        pytest.skip("in the learner's kernel the kernel's own sandbox does this")
    secret = tmp_path / "checker-files" / "hidden_tests.txt"
    secret.parent.mkdir()
    secret.write_text("the hidden tests\n")
    script = script_from(tmp_path, f"cat {secret} 2>/dev/null || echo unseen\n")
    run = sh.run_script(script)
    assert run.stdout == "unseen\n"


def test_a_script_that_kills_the_launcher_cannot_hide_what_it_left_running(tmp_path, where):
    if where == "kernel":
        pytest.skip("no launcher: in the learner's kernel bash is the script itself")
    script = script_from(tmp_path, "sleep 30 &\nkill -KILL $PPID\n")
    report = Report("kills the launcher")
    run = sh.run_script(script)
    sh.check_run(report, run, status=None)
    assert any("launcher was killed" in found for found in run.leftover_processes)
    assert "still running after it exited" in report.to_text()


# -- comparing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "found", "difference"),
    [
        ("a\nb\n", "a\nb\n", None),
        ("a\nb\n", "a\nb", None),  # a missing final newline is forgiven
        ("a\nb\n", "a\nc\n", "line 2: expected 'b', found 'c'"),
        ("a\tb\n", "a b\n", "line 1: expected 'a\\tb', found 'a b'"),
        ("a\nb\n", "a\n", "line 2: expected 'b', found the end of the output"),
        ("a\n", "a\nb\n", "line 2: expected the end of the output, found 'b'"),
    ],
)
def test_first_difference(expected, found, difference):
    assert sh.first_difference(expected, found) == difference


def test_a_wrong_output_shows_expected_and_found_not_a_traceback(tmp_path):
    script = script_from(tmp_path, "printf '200 3\\n404 1\\n'\n")
    report = Report("diff")
    sh.check_run(report, sh.run_script(script), stdout="200 3\n404 2\n")
    [finding] = report.findings
    assert "line 2: expected '404 2', found '404 1'" in finding.message
    assert finding.expected == "200 3\n404 2" and finding.found == "200 3\n404 1"


def test_expected_files(tmp_path):
    script = script_from(tmp_path, "echo one > a.txt\nmkdir b\n")
    report = Report("files")
    run = sh.run_script(script)
    ok = sh.check_run(
        report, run, files={"a.txt": "one\n", "b": sh.ANY, "c.txt": None, "missing": sh.ANY}
    )
    assert not ok
    assert [f.location.rsplit(": ", 1)[-1] for f in report.findings] == ["file missing"]
    report = Report("files")
    sh.check_run(report, run, files={"a.txt": "two\n", "b": "text"})
    assert [f.message for f in report.findings] == [
        "the content differs from the expected one at line 1: expected 'two', found 'one'",
        "should be a file, but it is a folder",
    ]


# -- cron --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("*/15 8-18 * * 1-5", "0,15,30,45 8-18 * * mon-fri"),
        ("30 2 * * *", "30 2 */1 * *"),
        ("0 0 * * 0", "0 0 * * 7"),
        ("0 0 * * *", "@daily"),
        ("0 12 * jan-mar *", "0 12 * 1,2,3 *"),
    ],
)
def test_equivalent_schedules(one, other):
    assert sh.parse_schedule(one).same_as(sh.parse_schedule(other))


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("30 2 * * *", "30 14 * * *"),  # 14:30 is not 02:30
        ("*/15 8-18 * * 1-5", "*/15 8-18 * * 0-4"),
        ("0 0 1 * 1", "0 0 1 * *"),  # both day fields restricted: either matches
    ],
)
def test_different_schedules(one, other):
    assert not sh.parse_schedule(one).same_as(sh.parse_schedule(other))


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ("60 2 * * *", "minute: 60 is out of range"),
        ("30 24 * * *", "hour: 24 is out of range"),
        ("30 2 * * 8", "day of week: 8 is out of range"),
        ("30 2 * *", "five fields"),
        ("* * * * * *", "five fields"),
        ("30 18-8 * * *", "runs backwards"),
        ("*/0 * * * *", "must be a positive number"),
        ("5/10 * * * *", "a step needs a range or *"),
        ("0 0 * foo *", "not a number or a name"),
        ("@often", "unknown special schedule"),
        ("@reboot", "runs once at boot"),
    ],
)
def test_invalid_schedules(schedule, message):
    with pytest.raises(sh.CronError, match=message):
        sh.parse_schedule(schedule)


def test_describe_and_next_runs():
    drift = sh.parse_schedule("*/15 8-18 * * 1-5")
    assert drift.describe() == "at minutes 0,15,30,45 of hours 8-18, on Mon-Fri"
    friday_night = dt.datetime(2028, 1, 7, 23, 0)
    assert [f"{r:%a %H:%M}" for r in drift.next_runs(friday_night, 2)] == [
        "Mon 08:00",
        "Mon 08:15",
    ]
    assert sh.parse_schedule("30 2 * * *").describe() == "at 02:30, every day"


def test_a_schedule_that_never_runs():
    report = Report("cron")
    sh.parse_crontab(report, "0 0 30 feb * /bin/true\n", "x.cron")
    assert "never runs" in report.to_text()


@pytest.mark.parametrize(
    ("command", "stdout", "stderr"),
    [
        ("job >> log 2>&1", ("log", True), "log"),
        ("job 2>&1 >> log", ("log", True), "mail"),
        ("job > log 2>&1", ("log", False), "log"),
        ("job >> log", ("log", True), "mail"),
        ("job >> log 2> errors", ("log", True), "errors"),
        ("job", ("mail", False), "mail"),
    ],
)
def test_output_targets_follow_redirections_left_to_right(command, stdout, stderr):
    targets = sh.output_targets(command)
    assert (targets[1].target, targets[1].append) == stdout
    assert targets[2].target == stderr


CRONTAB = """\
MAILTO=""
# m h dom mon dow command
30 2 * * * /opt/retrain.sh >> /var/log/retrain.log 2>&1
"""


def check_crontab(text: str) -> Report:
    report = Report("crontab")
    crontab = sh.parse_crontab(report, text, "retrain.cron")
    entry = sh.check_cron_job(
        report, crontab, runs="/opt/retrain.sh", schedule="30 2 * * *", meaning="nightly"
    )
    if entry:
        sh.check_cron_logging(report, crontab, entry, "/var/log/retrain.log")
    return report


def test_a_good_crontab_passes():
    report = check_crontab(CRONTAB)
    assert report.ok, report.to_text()


@pytest.mark.parametrize(
    ("text", "finding"),
    [
        (CRONTAB.replace("30 2", "2 30"), "retrain.cron:3: cron would reject this schedule"),
        (CRONTAB.replace("30 2", "30 3"), "the schedule does not run nightly"),
        (CRONTAB.replace(">> /var", "> /var"), "should be appended (>>)"),
        (CRONTAB.replace(" 2>&1", ""), "stderr) should go to the same log"),
        (
            CRONTAB.replace(">> /var/log/retrain.log 2>&1", "2>&1 >> /var/log/retrain.log"),
            "stderr follows stdout",
        ),
        (CRONTAB.replace(">> /var/log/retrain.log 2>&1", "&>> /var/log/retrain.log"), "bash-only"),
        (CRONTAB.replace("/opt/retrain.sh", "/opt/retrain.sh --day $(date +%F)"), "unescaped %"),
        (CRONTAB + CRONTAB.splitlines()[2] + "\n", "exactly one job line"),
        (CRONTAB.replace("30 2 * * * ", ""), "five time fields and then the command"),
    ],
)
def test_crontab_mistakes(text, finding):
    report = check_crontab(text)
    assert finding in report.to_text(), report.to_text()
