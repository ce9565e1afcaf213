"""docs/architecture.md names the code as it is: every file it names exists, and every
module of the course and graders packages is named in it (so a new one is documented)."""

from __future__ import annotations

import re

from tests.conftest import REPO

ARCHITECTURE = REPO / "docs" / "architecture.md"
# `course/x.py`, `graders/remote/`, and the short forms of a row (`manifests.py` in the
# `graders/kubernetes/` row, `codec.py` in the `graders/remote/` row)
NAMED = re.compile(r"`((?:course|graders|tests|benchmarks|solutions|docs)/[\w./-]*)`")


def named_paths() -> set[str]:
    return set(NAMED.findall(ARCHITECTURE.read_text()))


def test_every_path_the_architecture_names_exists():
    missing = sorted(p for p in named_paths() if not (REPO / p.rstrip("/")).exists())
    assert not missing, f"docs/architecture.md names what does not exist: {missing}"


def test_every_module_of_the_packages_is_named():
    text = ARCHITECTURE.read_text()
    unnamed = []
    for package in ("course", "graders"):
        for path in sorted((REPO / package).rglob("*.py")):
            relative = path.relative_to(REPO).as_posix()
            if path.name == "__init__.py" or "/templates/" in relative:
                continue
            folder = f"{path.parent.relative_to(REPO).as_posix()}/"
            if relative in text or (folder != f"{package}/" and folder in text):
                continue
            if f"`{path.name}`" in text or f", `{path.name}`" in text:
                continue
            unnamed.append(relative)
    assert not unnamed, f"modules docs/architecture.md does not mention: {unnamed}"
