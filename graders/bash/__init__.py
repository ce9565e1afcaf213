"""Grading shell work: scripts run for real with bash, linted with shellcheck, and crontabs.

A check cell loads the script the notebook wrote (:func:`load_script`), which also runs
shellcheck on it, then runs it (:func:`run_script`) as often as it likes, each time in a
fresh temporary folder holding only that run's fixture files, with a time limit, stdin from
``/dev/null`` and a clean environment, and compares what happened with what was expected
(:func:`check_run`): exit status, stdout, stderr and the files left in the folder.

Every run is also watched for what a script must never do: hang (the whole process tree is
killed at the time limit and the script's later runs are skipped), change files outside its
folder (a sentinel folder next to it is compared before and after), leave processes running
or leave temporary files behind. Each of those becomes a finding of that exercise only.
When the check runs in the trusted checker (course/checker.py), each run is also a sandbox
of its own (graders/isolation.py) under a launcher that keeps it open until the grader has
looked for leftover processes (:class:`_StartedInSandbox`, docs/security.md).

Crontab files are checked by a validator that understands the five time fields the way
cron does (ranges, steps, lists, month and weekday names, the day-of-month / day-of-week
rule) and can compare two schedules, describe them and list their next runs.
"""

from graders.bash.compare import ANY, check_hygiene, check_run, first_difference
from graders.bash.crontab import (
    MONTHS,
    WEEKDAYS,
    CronEntry,
    CronSchedule,
    Crontab,
    OutputTarget,
    check_cron_job,
    check_cron_logging,
    output_targets,
    parse_crontab,
    parse_schedule,
    read_crontab,
    uses_bash_only_redirection,
)
from graders.bash.lint import (
    BLOCKING_LEVELS,
    TRAP_BLIND_CODES,
    load_script,
    run_shellcheck,
    shellcheck_binary,
    strict_mode_options,
    trap_function_lines,
)
from graders.bash.running import bash_binary, run_script
from graders.bash.runs import (
    CLEAN_PATH,
    DEFAULT_TIMEOUT,
    FILE_LIMIT_KB,
    MAX_FILE_BYTES,
    MAX_SHOWN_LINES,
    MEMORY_LIMIT_KB,
    SENTINEL_TEXT,
    SHELLCHECK_TIMEOUT,
    SIGXFSZ_STATUS,
    Fixture,
    FixtureValue,
    Interrupt,
    ScriptRun,
    ShellcheckFinding,
    ShellScript,
)
from graders.formats.cron import CronError  # what parse_schedule raises; 02's checks name it

__all__ = [
    "ANY",
    "BLOCKING_LEVELS",
    "CLEAN_PATH",
    "DEFAULT_TIMEOUT",
    "FILE_LIMIT_KB",
    "MAX_FILE_BYTES",
    "MAX_SHOWN_LINES",
    "MEMORY_LIMIT_KB",
    "MONTHS",
    "SENTINEL_TEXT",
    "SHELLCHECK_TIMEOUT",
    "SIGXFSZ_STATUS",
    "TRAP_BLIND_CODES",
    "WEEKDAYS",
    "CronEntry",
    "CronError",
    "CronSchedule",
    "Crontab",
    "Fixture",
    "FixtureValue",
    "Interrupt",
    "OutputTarget",
    "ScriptRun",
    "ShellScript",
    "ShellcheckFinding",
    "bash_binary",
    "check_cron_job",
    "check_cron_logging",
    "check_hygiene",
    "check_run",
    "first_difference",
    "load_script",
    "output_targets",
    "parse_crontab",
    "parse_schedule",
    "read_crontab",
    "run_script",
    "run_shellcheck",
    "shellcheck_binary",
    "strict_mode_options",
    "trap_function_lines",
    "uses_bash_only_redirection",
]
