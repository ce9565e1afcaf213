"""What a script run is given and what it gives back: fixtures, interrupts, the script
and its run, and the limits every run has."""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_TIMEOUT = 10.0
SHELLCHECK_TIMEOUT = 60.0
CLEAN_PATH = "/usr/local/bin:/usr/bin:/bin"
MAX_SHOWN_LINES = 20
MAX_FILE_BYTES = 1_000_000
# Limits for every process of a run: a script that prints forever (`yes`) is stopped by
# SIGXFSZ once a file (its stdout included) reaches FILE_LIMIT_KB, one that eats memory
# fails to allocate past MEMORY_LIMIT_KB. The notebook and the disk stay safe.
FILE_LIMIT_KB = 8 * 1024
MEMORY_LIMIT_KB = 1024 * 1024
SIGXFSZ_STATUS = 128 + signal.SIGXFSZ
SENTINEL_TEXT = "This file lives next to the script's folder. A script must never touch it.\n"


@dataclass(frozen=True)
class Fixture:
    """A file created in the run's folder before the script starts."""

    content: str | bytes | Path = ""
    age_days: float | None = None  # last-modified this many days before the run
    executable: bool = False
    folder: bool = False  # an (empty) folder instead of a file


FixtureValue = str | bytes | Path | Fixture | None  # None: an empty folder


@dataclass
class ScriptRun:
    """What one run of a script did."""

    script: str  # how the student knows the script, e.g. bash_work/top.sh
    args: tuple[str, ...]
    fixture: str  # what the folder held, in words
    status: int | None  # exit status as a shell reports it (128+N when killed by signal N)
    stdout: str = ""
    stderr: str = ""
    files: dict[str, bytes | None] = field(default_factory=dict)  # path -> content, None: a folder
    timed_out: bool = False
    skipped: str | None = None  # why the run did not happen
    outside_changes: list[str] = field(default_factory=list)
    leftover_processes: list[str] = field(default_factory=list)
    leftover_tmp: list[str] = field(default_factory=list)
    signal_sent: str | None = None
    seconds: float = 0.0

    @property
    def where(self) -> str:
        return f"{self.script} run with args {list(self.args)} on fixture '{self.fixture}'"

    def text(self, path: str) -> str | None:
        """The text of a file in the run's folder after the run, or None if there is none."""
        content = self.files.get(path)
        return None if content is None else content.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class Interrupt:
    """Send ``signal`` to the script once ``when_exists`` appears in its folder (or after
    ``wait`` seconds), then give it ``grace`` seconds to stop."""

    signal: int = signal.SIGTERM
    when_exists: str | None = None
    wait: float = 5.0
    grace: float = 5.0


@dataclass(frozen=True)
class ShellcheckFinding:
    line: int
    column: int
    level: str  # error, warning, info, style
    code: int
    message: str

    def location(self, script: str) -> str:
        return f"{script}:{self.line}:{self.column}"

    @property
    def wiki(self) -> str:
        return f"https://www.shellcheck.net/wiki/SC{self.code}"


@dataclass
class ShellScript:
    """A script the notebook wrote, ready to be run; ``hung`` stops further runs."""

    path: Path
    text: str
    display: str
    shellcheck: list[ShellcheckFinding] | None = None  # None: shellcheck could not run
    hung: bool = False

    def line(self, number: int) -> str:
        lines = self.text.splitlines()
        return lines[number - 1].strip() if 0 < number <= len(lines) else ""
