"""The workflow validated offline against the GitHub workflow JSON Schema that
check-jsonschema vendors, ``oneOf`` errors narrowed to the branch the author meant."""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

import jsonschema

from graders.actions.yamldoc import YamlDoc
from graders.report import Report, short_repr

SCHEMA_PACKAGE = "check_jsonschema.builtin_schemas.vendor"
SCHEMA_FILE = "github-workflows.json"
_validator: jsonschema.Draft7Validator | None = None


def workflow_validator() -> jsonschema.Draft7Validator:
    """The GitHub workflow schema vendored by check-jsonschema, loaded once, offline."""
    global _validator
    if _validator is None:
        schema = json.loads(resources.files(SCHEMA_PACKAGE).joinpath(SCHEMA_FILE).read_text())
        _validator = jsonschema.Draft7Validator(schema)
    return _validator


def _leaf_errors(error: jsonschema.ValidationError) -> list[jsonschema.ValidationError]:
    """Narrow a oneOf/anyOf error to the branch the author evidently meant: the one whose
    errors reach deepest into the document (a job with ``runs-on`` is a normal job, not a
    reusable-workflow call, so "'uses' is a required property" would only mislead)."""
    if not error.context:
        return [error]
    branches: dict[Any, list[jsonschema.ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    best = max(
        branches.values(),
        key=lambda errs: (max(len(e.absolute_path) for e in errs), -len(errs)),
    )
    leaves = [leaf for sub in best for leaf in _leaf_errors(sub)]
    return leaves or [error]


def _schema_message(error: jsonschema.ValidationError) -> tuple[str, str | None]:
    """A readable message and a hint for one schema error."""
    if error.validator == "additionalProperties":
        unexpected = re.findall(r"'([^']+)'", error.message.split("(")[-1])
        keys = ", ".join(f"`{k}`" for k in unexpected) or "a key"
        return (
            f"{keys} is not a keyword GitHub Actions knows here",
            "Check the spelling and the indentation: a key indented one level too deep or "
            "too shallow ends up in the wrong mapping.",
        )
    if error.validator == "required":
        return error.message, "Add the missing key (see the workflow syntax reference)."
    if error.validator == "oneOf" and "is valid under each of" in error.message:
        return (
            "a step has either `uses:` (an action) or `run:` (a command), never both",
            "Split it into two steps.",
        )
    if error.validator == "type":
        return (
            f"has the wrong type: {short_repr(error.instance, 80)} is not {error.validator_value}",
            None,
        )
    if error.validator == "enum":
        return (
            f"{short_repr(error.instance, 80)} is not one of {error.validator_value}",
            None,
        )
    return error.message if len(error.message) < 300 else error.message[:280] + " …", None


def check_schema(report: Report, doc: YamlDoc, *, limit: int = 10) -> bool:
    """Validate against the GitHub workflow schema; return True when the schema is satisfied."""
    errors = sorted(
        (
            leaf
            for error in workflow_validator().iter_errors(doc.data)
            for leaf in _leaf_errors(error)
        ),
        key=lambda e: (doc.line(tuple(e.absolute_path)) or 0, list(map(str, e.absolute_path))),
    )
    seen = set()
    shown = 0
    for error in errors:
        path = tuple(error.absolute_path)
        message, hint = _schema_message(error)
        if (path, message) in seen:
            continue
        seen.add((path, message))
        if shown == limit:
            report.note(f"{len(errors) - limit} more schema errors not shown")
            break
        shown += 1
        report.fail(
            doc.where(*path),
            f"violates the GitHub Actions workflow schema: {message}",
            hint=hint,
        )
    report.checks_run += 1
    return not errors
