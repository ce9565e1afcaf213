"""Crontabs: schedules in Vixie cron's dialect, entries, output redirection and logging."""

from __future__ import annotations

import calendar
import datetime as dt
import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from graders.artefacts import read_artefact
from graders.formats import cron
from graders.formats.cron import CronError
from graders.report import Report

WEEKDAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
MONTHS = tuple(calendar.month_abbr)  # MONTHS[1] == "Jan"
# 28 years: every date falls on every weekday, leap years included (1901-2099 rule)
_CYCLE_START = dt.date(2028, 1, 1)
_CYCLE_DAYS = (dt.date(2056, 1, 1) - _CYCLE_START).days


@dataclass(frozen=True)
class CronSchedule:
    """When a cron job runs. ``weekdays`` uses 0 for Sunday (7 is folded into 0)."""

    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    days_star: bool  # day-of-month field started with "*"
    weekdays_star: bool

    def runs_on(self, day: dt.date) -> bool:
        if day.month not in self.months:
            return False
        day_ok = day.day in self.days
        weekday_ok = (day.isoweekday() % 7) in self.weekdays
        if self.days_star or self.weekdays_star:
            return day_ok and weekday_ok
        return day_ok or weekday_ok  # both restricted: cron runs when either matches

    def times(self) -> list[tuple[int, int]]:
        return sorted((h, m) for h in self.hours for m in self.minutes)

    def next_runs(self, after: dt.datetime, count: int = 3) -> list[dt.datetime]:
        """The first ``count`` runs strictly after ``after`` (within one 28-year cycle)."""
        runs: list[dt.datetime] = []
        day = after.date()
        for _ in range(_CYCLE_DAYS + 1):
            if self.runs_on(day):
                for hour, minute in self.times():
                    moment = dt.datetime(day.year, day.month, day.day, hour, minute)
                    if moment > after:
                        runs.append(moment)
                        if len(runs) == count:
                            return runs
            day += dt.timedelta(days=1)
        return runs

    def run_days(self) -> frozenset[int]:
        """The days of one 28-year cycle (as offsets) on which the job runs."""
        return frozenset(
            offset
            for offset in range(_CYCLE_DAYS)
            if self.runs_on(_CYCLE_START + dt.timedelta(days=offset))
        )

    def same_as(self, other: CronSchedule) -> bool:
        """True when both schedules run at exactly the same moments."""
        return self.times() == other.times() and self.run_days() == other.run_days()

    def describe(self) -> str:
        """In words: 'at 02:30, every day', 'at minutes 0,15,30,45 of hours 8-18, on Mon-Fri'."""
        if len(self.hours) == 1 and len(self.minutes) == 1:
            when = f"at {min(self.hours):02d}:{min(self.minutes):02d}"
        else:
            minutes = (
                "every minute"
                if len(self.minutes) == 60
                else f"at minute{'s' if len(self.minutes) > 1 else ''} {_ranges(self.minutes)}"
            )
            hours = (
                "of every hour"
                if len(self.hours) == 24
                else f"of hour{'s' if len(self.hours) > 1 else ''} {_ranges(self.hours)}"
            )
            when = f"{minutes} {hours}"
        every_day, every_weekday = len(self.days) == 31, len(self.weekdays) == 7
        days = f"on day {_ranges(self.days)} of the month"
        weekdays = f"on {_ranges(self.weekdays, WEEKDAYS)}"
        if every_day and every_weekday:
            which = "every day"
        elif self.days_star or self.weekdays_star:
            which = " and ".join(
                part
                for part, restricted in ((days, not every_day), (weekdays, not every_weekday))
                if restricted
            )
        else:
            which = f"{days} or {weekdays}"
        months = "" if len(self.months) == 12 else f", in {_ranges(self.months, MONTHS)}"
        return f"{when}, {which}{months}"


def _ranges(values: Iterable[int], names: Sequence[str] = ()) -> str:
    """1,2,3,5 as '1-3,5' (with names when given: 'Mon-Fri')."""
    ordered = sorted(values)

    def label(value: int) -> str:
        return names[value] if names else str(value)

    parts, start = [], None
    for i, value in enumerate(ordered):
        if start is None:
            start = value
        if i + 1 == len(ordered) or ordered[i + 1] != value + 1:
            parts.append(label(start) if start == value else f"{label(start)}-{label(value)}")
            start = None
    return ",".join(parts)


def parse_schedule(text: str) -> CronSchedule:
    """The five time fields (or an @special) as a :class:`CronSchedule`; CronError if invalid."""
    words = cron.MACROS.get(text.strip().lower(), text).split()
    if text.strip().lower() == "@reboot":
        raise CronError("@reboot runs once at boot, not on a schedule")
    if text.strip().startswith("@") and text.strip().lower() not in cron.MACROS:
        raise CronError(f"unknown special schedule {text.strip()!r}")
    if len(words) != 5:
        raise CronError(
            f"a schedule has five fields (minute hour day-of-month month day-of-week), "
            f"found {len(words)}"
        )
    values = cron.expand(words, cron.VIXIE)
    weekdays = frozenset(v % 7 for v in values[4])
    return CronSchedule(
        text=" ".join(words),
        minutes=values[0],
        hours=values[1],
        days=values[2],
        months=values[3],
        weekdays=weekdays,
        days_star=words[2].startswith("*"),
        weekdays_star=words[4].startswith("*"),
    )


@dataclass(frozen=True)
class CronEntry:
    line: int
    schedule: CronSchedule
    command: str


@dataclass
class Crontab:
    path: str
    entries: list[CronEntry] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    rejected: dict[int, str] = field(default_factory=dict)  # line number -> text

    def entries_running(self, text: str) -> list[CronEntry]:
        return [entry for entry in self.entries if text in entry.command]


_VARIABLE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")


def parse_crontab(report: Report, text: str, display: str) -> Crontab:
    """Every job line of a user crontab (as `crontab -e` edits it), with a finding for
    each line cron would reject or run differently from what it looks like."""
    crontab = Crontab(display)
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        variable = _VARIABLE.match(line)
        if variable and not line[0].isdigit() and not line.startswith("*"):
            crontab.variables[variable.group(1)] = variable.group(2).strip().strip("'\"")
            continue
        where = f"{display}:{number}"
        if line.startswith("@"):
            special, _, command = line.partition(" ")
            schedule_text = special
        else:
            words = line.split(None, 5)
            if len(words) < 6:
                report.fail(
                    where,
                    "a crontab line needs five time fields and then the command",
                    expected="minute hour day-of-month month day-of-week command",
                    found=line,
                )
                crontab.rejected[number] = line
                continue
            schedule_text, command = " ".join(words[:5]), words[5]
        try:
            schedule = parse_schedule(schedule_text)
        except CronError as exc:
            report.fail(
                where,
                f"cron would reject this schedule: {exc}",
                found=line,
                hint="The fields are: minute (0-59) hour (0-23) day-of-month (1-31) "
                "month (1-12) day-of-week (0-7, 0 and 7 are Sunday).",
            )
            crontab.rejected[number] = line
            continue
        command = command.strip()
        if not command:
            report.fail(where, "the line has a schedule but no command", found=line)
            continue
        if re.search(r"(?<!\\)%", command):
            report.fail(
                where,
                "cron turns an unescaped % in the command into a newline",
                found=command,
                hint=r"Write \% (for example date +\%F), or move the command into a script.",
            )
        if not schedule.run_days():
            report.fail(where, "this schedule never runs (no such date)", found=line)
        crontab.entries.append(CronEntry(number, schedule, command))
    return crontab


def read_crontab(report: Report, path: Path) -> Crontab | None:
    """The crontab at ``path`` (a finding per invalid line), or None if it is not written."""
    text = read_artefact(report, path, what="crontab")
    if text is None:
        return None
    crontab = parse_crontab(report, text, str(path))
    report.check(
        bool(crontab.entries) or not report.ok,
        str(path),
        "the crontab has no job lines",
        hint="Each job is one line: five time fields, then the command.",
    )
    return crontab


_REDIRECTION = re.compile(r"(?P<fd>\d*|&)(?P<op>>>|>&|>\||>|<)\s*(?P<target>\S+)?")


@dataclass(frozen=True)
class OutputTarget:
    """Where one output stream of a cron command goes."""

    target: str  # a file, "mail" (cron mails it) or "closed"
    append: bool = False


def output_targets(command: str) -> dict[int, OutputTarget]:
    """Where stdout (1) and stderr (2) of a cron command end up, following its redirections
    left to right as /bin/sh does. `a >> f 2>&1` sends both to f; `a 2>&1 >> f` sends
    stderr where stdout was before (cron's mail) and only stdout to f."""
    targets = {1: OutputTarget("mail"), 2: OutputTarget("mail")}
    try:
        text = " ".join(shlex.split(command, comments=True))
    except ValueError:  # unbalanced quotes: read it as it is
        text = command
    for match in _REDIRECTION.finditer(text):
        fd_text, op, target = match.group("fd"), match.group("op"), match.group("target") or ""
        if op == "<" or fd_text == "&":  # input, or bash's &> (see uses_bash_only_redirection)
            continue
        fd = int(fd_text) if fd_text else 1
        if op == ">&":
            if target.isdigit():
                targets[fd] = targets.get(int(target), OutputTarget("mail"))
            elif target == "-":
                targets[fd] = OutputTarget("closed")
            else:  # >&file is bash's spelling of >file 2>&1
                targets[1] = targets[2] = OutputTarget(target)
        else:
            targets[fd] = OutputTarget(target, append=op == ">>")
    return targets


def uses_bash_only_redirection(command: str) -> bool:
    """`&>` and `&>>` mean 'run in the background, then truncate a file' under /bin/sh."""
    return bool(re.search(r"&>>?", command))


def check_cron_job(
    report: Report,
    crontab: Crontab,
    *,
    runs: str,
    schedule: str,
    meaning: str,
) -> CronEntry | None:
    """Exactly one entry runs ``runs``, with a schedule equivalent to ``schedule``."""
    entries = crontab.entries_running(runs)
    where = f"{crontab.path}: the job running {runs}"
    rejected = [number for number, line in crontab.rejected.items() if runs in line]
    if not entries and rejected:
        return None  # its line was rejected, and that finding says why
    if not report.check(
        len(entries) == 1,
        where,
        f"there should be exactly one job line running {runs}",
        expected="1 line",
        found=f"{len(entries)} lines"
        + (f" (lines {[e.line for e in entries]})" if entries else ""),
        hint="Check the command's path: it must name the script exactly.",
    ):
        return None
    entry = entries[0]
    wanted = parse_schedule(schedule)
    start = dt.datetime(2028, 1, 7, 23, 0)  # a Friday night: shows weekends and midnights
    report.check(
        entry.schedule.same_as(wanted),
        f"{crontab.path}:{entry.line}",
        f"the schedule does not run {meaning}",
        expected=f"{wanted.describe()}; first runs after {start:%a %Y-%m-%d %H:%M}: "
        + _runs_text(wanted, start),
        found=f"'{entry.schedule.text}' runs {entry.schedule.describe()}; first runs: "
        + _runs_text(entry.schedule, start),
        hint="The five fields are minute, hour, day of month, month, day of week.",
    )
    return entry


def _runs_text(schedule: CronSchedule, start: dt.datetime) -> str:
    runs = schedule.next_runs(start, 4)
    return ", ".join(f"{r:%a %H:%M}" for r in runs) if runs else "never"


def check_cron_logging(
    report: Report, crontab: Crontab, entry: CronEntry, log: str, *, stderr: bool = True
) -> None:
    """The job's stdout (and, with ``stderr``, its stderr too) is appended to ``log`` in a
    way /bin/sh understands."""
    where = f"{crontab.path}:{entry.line}"
    bash_shell = crontab.variables.get("SHELL", "/bin/sh").endswith("bash")
    if uses_bash_only_redirection(entry.command) and not bash_shell:
        report.fail(
            where,
            "&> and &>> are bash-only: cron runs the command with /bin/sh, where `&` sends "
            "the job to the background and the log is truncated instead",
            found=entry.command,
            hint=f">> {log} 2>&1",
        )
        return
    targets = output_targets(entry.command)
    report.check(
        targets[1] == OutputTarget(log, append=True),
        where,
        "the job's output (stdout) should be appended (>>) to the log file",
        expected=f">> {log}",
        found=f"{entry.command}   (stdout goes to: {_target_text(targets[1])})",
        hint="> replaces the log on every run; >> keeps the history.",
    )
    if not stderr:
        return
    report.check(
        targets[2].target == log,
        where,
        "the job's errors (stderr) should go to the same log",
        expected=f"... >> {log} 2>&1   (stderr follows stdout, so 2>&1 comes last)",
        found=f"{entry.command}   (stderr goes to: {_target_text(targets[2])})",
        hint="Redirections apply left to right: `2>&1 >> log` points stderr at where stdout "
        "was before (cron's mail), then moves only stdout to the log.",
    )


def _target_text(target: OutputTarget) -> str:
    if target.target == "mail":
        return "cron's mail to the crontab's owner (usually lost)"
    return f"{target.target} ({'appended' if target.append else 'replaced on every run'})"
