"""GitHub expressions, as in ``if:``, evaluated for chosen events (push to main, a pull
request, a feature-branch push, a failed test run)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any


class ExpressionError(ValueError):
    """An expression this evaluator cannot read (GitHub might; the finding says so)."""


_TOKEN = re.compile(
    r"\s*(?:(?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|0x[0-9a-fA-F]+)"
    r"|(?P<str>'(?:[^']|'')*')"
    r"|(?P<op>==|!=|<=|>=|&&|\|\||[()<>!,\[\]\.*])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*))"
)
STATUS_FUNCTIONS = ("success", "failure", "always", "cancelled")


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise ExpressionError(f"cannot read the expression at {text[position:]!r}")
        kind = match.lastgroup
        assert kind is not None  # every alternative of _TOKEN is a named group
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


@dataclass
class Scenario:
    """What GitHub knows when it evaluates a job's ``if``: the event and how needs went."""

    label: str
    github: dict[str, Any]
    needs_succeeded: bool = True


def _to_number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip()) if value.strip() else 0.0
        except ValueError:
            return math.nan
    return math.nan


def _truthy(value: Any) -> bool:
    if isinstance(value, float) and math.isnan(value):
        return False
    return value not in (None, False, 0, 0.0, "")


def _equal(left: Any, right: Any) -> bool:
    """GitHub's loose equality: strings compare case-insensitively, other types as numbers."""
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold() == right.casefold()
    if type(left) is type(right) and not isinstance(left, int | float | bool):
        return left == right
    return _to_number(left) == _to_number(right)


class _Parser:
    """A recursive-descent reader of GitHub's expression language (the parts `if:` uses)."""

    def __init__(self, text: str, scenario: Scenario) -> None:
        self.tokens = _tokenize(text)
        self.index = 0
        self.scenario = scenario

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise ExpressionError(f"expected {value or 'more'} in the expression")
        self.index += 1
        return token

    def parse(self) -> Any:
        value = self.or_()
        if (token := self.peek()) is not None:
            raise ExpressionError(f"unexpected {token[1]!r} in the expression")
        return value

    def or_(self) -> Any:
        value = self.and_()
        while self.peek() == ("op", "||"):
            self.take()
            right = self.and_()
            value = value if _truthy(value) else right
        return value

    def and_(self) -> Any:
        value = self.comparison()
        while self.peek() == ("op", "&&"):
            self.take()
            right = self.comparison()
            value = right if _truthy(value) else value
        return value

    def comparison(self) -> Any:
        value = self.unary()
        while (token := self.peek()) and token[1] in ("==", "!=", "<", "<=", ">", ">="):
            op = self.take()[1]
            right = self.unary()
            if op == "==":
                value = _equal(value, right)
            elif op == "!=":
                value = not _equal(value, right)
            else:
                a, b = _to_number(value), _to_number(right)
                value = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
        return value

    def unary(self) -> Any:
        if self.peek() == ("op", "!"):
            self.take()
            return not _truthy(self.unary())
        return self.primary()

    def primary(self) -> Any:
        kind, text = self.take()
        if kind == "op" and text == "(":
            value = self.or_()
            self.take(")")
            return value
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(int(text, 16)) if text.startswith("0x") else float(text)
        if kind == "name":
            if text in ("true", "false"):
                return text == "true"
            if text == "null":
                return None
            if self.peek() == ("op", "("):
                return self.call(text)
            return self.property_chain(text)
        raise ExpressionError(f"unexpected {text!r} in the expression")

    def property_chain(self, name: str) -> Any:
        contexts = {"github": self.scenario.github}
        value: Any = contexts.get(name) if name in contexts else {}
        known = name in contexts
        while (token := self.peek()) and token[1] in (".", "["):
            if self.take()[1] == ".":
                key = self.take()[1]
            else:
                key_token = self.primary()
                self.take("]")
                key = str(key_token)
            value = value.get(key) if isinstance(value, dict) else None
        if not known:
            # env, vars, needs, matrix…: unknown here; GitHub gives null for a missing key too
            return None
        return value

    def call(self, name: str) -> Any:
        self.take("(")
        args = []
        while self.peek() != ("op", ")"):
            args.append(self.or_())
            if self.peek() == ("op", ","):
                self.take()
        self.take(")")
        lowered = name.lower()
        ok = self.scenario.needs_succeeded
        if lowered in STATUS_FUNCTIONS:
            return {"success": ok, "failure": not ok, "always": True, "cancelled": False}[lowered]
        if lowered in ("startswith", "endswith", "contains") and len(args) == 2:
            a, b = (str(x if x is not None else "").casefold() for x in args)
            if lowered == "contains" and isinstance(args[0], list):
                return any(_equal(item, args[1]) for item in args[0])
            return {"startswith": a.startswith, "endswith": a.endswith}.get(
                lowered, a.__contains__
            )(b)
        raise ExpressionError(f"the function {name}() is not supported by this check")


def evaluate_expression(expression: Any, scenario: Scenario, *, is_job_if: bool = True) -> bool:
    """Whether a job's ``if`` lets it run in ``scenario``. A job ``if`` without a status
    function is implicitly ``success() && (…)`` on GitHub, and so it is here."""
    if isinstance(expression, bool):
        text = "true" if expression else "false"
    elif isinstance(expression, int | float):
        text = str(expression)
    else:
        text = str(expression).strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    elif "${{" in text:
        raise ExpressionError("mixes text and ${{ }}: write the whole condition as one expression")
    value = _truthy(_Parser(text, scenario).parse())
    uses_status = re.search(r"\b(" + "|".join(STATUS_FUNCTIONS) + r")\s*\(", text, re.I)
    if is_job_if and not uses_status:
        value = value and scenario.needs_succeeded
    return value


def deploy_scenarios(branch: str = "main") -> list[tuple[Scenario, bool]]:
    """The events a deploy job's ``if`` is tried on, with whether it must run."""
    push = {
        "event_name": "push",
        "ref": f"refs/heads/{branch}",
        "ref_name": branch,
        "ref_type": "branch",
        "base_ref": "",
        "head_ref": "",
        "repository": "acme/churn-model",
    }
    pull = {
        **push,
        "event_name": "pull_request",
        "ref": "refs/pull/7/merge",
        "ref_name": "7/merge",
        "base_ref": branch,
        "head_ref": "feature/new-model",
    }
    feature = {**push, "ref": "refs/heads/feature/new-model", "ref_name": "feature/new-model"}
    return [
        (Scenario(f"a push to {branch} after the tests passed", push), True),
        (Scenario(f"a pull request into {branch}", pull), False),
        (Scenario("a push to a feature branch", feature), False),
        (Scenario(f"a push to {branch} whose tests failed", push, needs_succeeded=False), False),
    ]
