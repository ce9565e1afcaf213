"""Run a learner's command-line entry point the way a shell would, and keep what it said.

``run_main(main, argv, logger)`` calls ``main(argv)`` with stdout captured and a handler on
the named logger, and returns the exit status (``SystemExit`` becomes its code), the printed
text and the log records as data. It runs beside the learner's code (graders.remote): the
records come from the learner's own ``logging`` module, which is where ``main`` logs.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from graders.remote import learner_side, remote_data


@remote_data
@dataclass
class LogLine:
    levelname: str
    levelno: int
    message: str

    def getMessage(self) -> str:
        return self.message


@remote_data
@dataclass
class CliRun:
    status: Any
    stdout: str
    records: list[LogLine] = field(default_factory=list)


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[LogLine] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(LogLine(record.levelname, record.levelno, record.getMessage()))


@learner_side
def run_main(main: Callable[[Sequence[str]], Any], argv: Sequence[str], logger: str) -> CliRun:
    """``main(argv)`` with its output and the ``logger`` records kept (module docstring)."""
    handler, out = _Keep(), io.StringIO()
    target = logging.getLogger(logger)
    target.addHandler(handler)
    level = target.level
    target.setLevel(logging.DEBUG)
    try:
        with contextlib.redirect_stdout(out):
            try:
                status = main(list(argv))
            except SystemExit as exc:
                status = exc.code
    finally:
        target.removeHandler(handler)
        target.setLevel(level)
    return CliRun(status if isinstance(status, (int, str, type(None))) else repr(status),
                  out.getvalue(), handler.lines)  # fmt: skip
