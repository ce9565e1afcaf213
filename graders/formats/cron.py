"""Cron schedules, in the two dialects the course grades: Vixie cron's (a crontab line,
module 02) and the Kubernetes CronJob controller's (module 04).

Both read five fields (minute, hour, day of month, month, day of week) of lists, ranges and
steps, with month and weekday names and the same @-macros. Where they differ, a
:class:`Dialect` says how: Kubernetes also accepts ``?`` for ``*`` and a step on a single
value (``5/15`` is ``5-59/15``), and counts weekdays 0-6; Vixie cron takes 7 for Sunday too
and refuses ``5/15``. A schedule that cannot be read raises :class:`CronError`, whose
message names the field and the problem.
"""

from __future__ import annotations

from dataclasses import dataclass

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


class CronError(ValueError):
    """A schedule cron would reject; the message names the field and the problem."""


@dataclass(frozen=True)
class Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # names[i] stands for low + i


@dataclass(frozen=True)
class Dialect:
    name: str
    weekday_high: int  # 7 where 7 is Sunday too
    question_mark: bool  # "?" means "*"
    step_on_value: bool  # "5/15" means "5-<high>/15"

    def fields(self) -> tuple[Field, ...]:
        return (
            Field("minute", 0, 59),
            Field("hour", 0, 23),
            Field("day of month", 1, 31),
            Field("month", 1, 12, MONTHS),
            Field("day of week", 0, self.weekday_high, WEEKDAYS),
        )


VIXIE = Dialect("cron", weekday_high=7, question_mark=False, step_on_value=False)
KUBERNETES = Dialect("Kubernetes", weekday_high=6, question_mark=True, step_on_value=True)


def expand(words: list[str], dialect: Dialect) -> tuple[frozenset[int], ...]:
    """The five fields ``words`` as sets of values; :class:`CronError` if one is invalid.
    (Macros, and how many words a line has, are the caller's: its messages differ.)"""
    return tuple(
        _field(word, spec, dialect) for word, spec in zip(words, dialect.fields(), strict=True)
    )


def _field(text: str, spec: Field, dialect: Dialect) -> frozenset[int]:
    if not text:
        raise CronError(f"{spec.name}: empty")
    values: set[int] = set()
    for element in text.split(","):
        if not element:
            raise CronError(f"{spec.name}: an empty item in the list {text!r}")
        values |= _element(element, spec, dialect)
    return frozenset(values)


def _element(element: str, spec: Field, dialect: Dialect) -> set[int]:
    base, slash, step_text = element.partition("/")
    step = 1
    if slash:
        if not step_text.isdigit() or int(step_text) == 0:
            raise CronError(f"{spec.name}: the step in {element!r} must be a positive number")
        step = int(step_text)
    if base == "*" or (base == "?" and dialect.question_mark):
        low, high = spec.low, spec.high
    elif "-" in base:
        first, _, last = base.partition("-")
        low, high = _value(first, spec), _value(last, spec)
        if low > high:
            raise CronError(
                f"{spec.name}: the range {base!r} runs backwards (cron does not wrap around)"
            )
    elif slash and not dialect.step_on_value:
        raise CronError(
            f"{spec.name}: a step needs a range or *, as in */{step} or "
            f"{base}-{spec.high}/{step}, not {element!r}"
        )
    else:
        low = _value(base, spec)
        high = spec.high if slash else low
    return set(range(low, high + 1, step))


def _value(text: str, spec: Field) -> int:
    lowered = text.lower()
    if lowered in spec.names:
        return spec.low + spec.names.index(lowered)
    if not text.isdigit():
        known = f" or a name ({', '.join(spec.names)})" if spec.names else ""
        raise CronError(f"{spec.name}: {text!r} is not a number{known}")
    value = int(text)
    if not spec.low <= value <= spec.high:
        raise CronError(f"{spec.name}: {value} is out of range (allowed {spec.low}-{spec.high})")
    return value
