"""One set of versions everywhere: pyproject, Binder and the full constraints agree."""

from __future__ import annotations

import re
import tomllib

from tests.conftest import REPO

PIN = re.compile(r"^([A-Za-z0-9_.\-\[\]]+)==([^\s;#]+)")


def pins(lines) -> dict[str, str]:
    found = {}
    for line in lines:
        match = PIN.match(line.strip())
        if match:
            name = re.sub(r"\[.*\]", "", match.group(1)).lower().replace("_", "-")
            found[name] = match.group(2)
    return found


def project() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def test_every_dependency_is_pinned_exactly():
    declared = project()["dependencies"] + project()["optional-dependencies"]["dev"]
    loose = [d for d in declared if not PIN.match(d)]
    assert not loose, f"pin these with ==: {loose}"


def test_binder_installs_exactly_the_course_dependencies():
    binder = pins((REPO / "binder" / "requirements.txt").read_text().splitlines())
    runtime = pins(project()["dependencies"])
    assert binder == runtime, {
        "only in binder": sorted(set(binder.items()) - set(runtime.items())),
        "only in pyproject": sorted(set(runtime.items()) - set(binder.items())),
    }


def test_constraints_agree_with_every_declared_pin():
    constraints = pins((REPO / "constraints.txt").read_text().splitlines())
    declared = pins(project()["dependencies"] + project()["optional-dependencies"]["dev"])
    differ = {n: (v, constraints.get(n)) for n, v in declared.items() if constraints.get(n) != v}
    assert not differ, f"(pyproject, constraints.txt) differ; run `make constraints`: {differ}"


def test_no_dependency_that_makes_every_process_start_slowly():
    # rfc3987-syntax compiles 35 Lark grammars when jsonschema imports it: 2.8 s on this
    # machine in every process that imports nbformat, i.e. in each grading worker.
    constraints = pins((REPO / "constraints.txt").read_text().splitlines())
    slow = sorted({"rfc3987-syntax", "lark"} & set(constraints))
    assert not slow, f"{slow} came back (jsonschema >= 4.25 pulls them in); keep jsonschema 4.24"
