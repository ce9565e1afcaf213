"""A workflow file read the way GitHub reads it: ``on:`` stays a string key, and every key
and list item remembers its line."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from graders.artefacts import read_artefact
from graders.formats.yamltext import YamlPath, YamlUnreadable, format_path, single_document
from graders.report import Report, short_repr


class _Loader(yaml.SafeLoader):
    """YAML 1.2 booleans only (``on``/``yes``/``off`` stay strings) and no timestamp type."""


_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def yaml_path(path: Iterable[str | int]) -> str:
    """``("jobs", "test", "steps", 2, "run")`` → ``jobs.test.steps[2].run``."""
    return format_path(path) or "(top level)"


@dataclass
class YamlDoc:
    """A parsed YAML file with the line of every mapping key and list item."""

    name: str  # how findings name the file, e.g. "cicd_work/ci.yml"
    data: Any
    lines: dict[YamlPath, int] = field(default_factory=dict)
    duplicates: list[tuple[YamlPath, int]] = field(default_factory=list)  # keys written twice

    def line(self, path: YamlPath) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None

    def where(self, *path: str | int) -> str:
        line = self.line(path)
        suffix = f" (line {line})" if line else ""
        return f"{self.name}: {yaml_path(path)}{suffix}"


def _string_keys(data: Any) -> Any:
    """JSON has only string keys (``3.11:`` or ``true:`` as a key would confuse the schema)."""
    if isinstance(data, dict):
        return {str(k): _string_keys(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_string_keys(v) for v in data]
    return data


def parse_yaml(text: str, name: str) -> YamlDoc:
    """Parse ``text``; raises ``yaml.YAMLError`` for invalid YAML and
    ``graders.formats.yamltext.YamlUnreadable`` for YAML that cannot be used."""
    document = single_document(text, _Loader)
    return YamlDoc(name, _string_keys(document.data), document.lines, document.duplicates)


def load_yaml(report: Report, path: Path, *, what: str, name: str | None = None) -> YamlDoc | None:
    """Read and parse a YAML artefact; every reason it cannot be graded becomes a finding."""
    text = read_artefact(report, path, what=what)
    if text is None:
        return None
    name = name or str(path)
    try:
        doc = parse_yaml(text, name)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark else name
        problem = getattr(exc, "problem", None) or str(exc)
        report.fail(
            where,
            f"is not valid YAML: {problem}",
            hint="Indent with spaces only, consistently (2 per level), and put a space after "
            "every `:` and `-`.",
        )
        return None
    except YamlUnreadable as exc:
        report.fail(f"{name}:{exc.line}" if exc.line else name, exc.message, hint=exc.hint)
        return None
    for child, line in doc.duplicates:
        report.fail(
            f"{name}: {yaml_path(child)} (line {line})",
            "this key appears twice in the same mapping; YAML keeps only the last one",
            hint="Merge the two entries into one.",
        )
    if not isinstance(doc.data, dict):
        report.fail(name, f"the {what} should be a YAML mapping", found=short_repr(doc.data))
        return None
    return doc
