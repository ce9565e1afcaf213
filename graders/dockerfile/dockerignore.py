"""A ``.dockerignore`` applied to a realistic project checkout with the Docker SDK's own
matcher (the code ``docker build`` from Python uses)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from graders.artefacts import read_artefact
from graders.dockerfile.context import context_files
from graders.report import Report

# What a developer's checkout of the service holds besides the shipped files: the things
# a .dockerignore is for.
CHECKOUT_EXTRAS = (
    ".env",
    ".env.production",
    ".git/HEAD",
    ".git/config",
    ".git/objects/pack/pack-5f1c0e.pack",
    ".gitignore",
    ".venv/bin/python",
    ".venv/lib/python3.11/site-packages/numpy/__init__.py",
    "notebooks/eda.ipynb",
    "notebooks/.ipynb_checkpoints/eda-checkpoint.ipynb",
    "data/raw/2026-10-customers.parquet",
    "__pycache__/train.cpython-311.pyc",
    "app/__pycache__/main.cpython-311.pyc",
    "app/__pycache__/__init__.cpython-311.pyc",
    "tests/test_app.py",
    "Dockerfile",
    "compose.yaml",
)


def checkout_tree(service_dir: Path) -> list[str]:
    """The files of a realistic checkout: the shipped service plus :data:`CHECKOUT_EXTRAS`."""
    return sorted(set(context_files(service_dir)) | set(CHECKOUT_EXTRAS))


def dockerignore_patterns(text: str) -> list[str]:
    """The patterns of a .dockerignore, read exactly as the Docker SDK's build does."""
    return [line.strip() for line in text.splitlines() if line.strip() and line.strip()[0] != "#"]


def build_context_files(text: str, tree: list[str], dockerfile: str = "Dockerfile") -> set[str]:
    """Which files of ``tree`` a build sends to the engine under this .dockerignore."""
    from docker.utils.build import exclude_paths

    with tempfile.TemporaryDirectory(prefix="mlops-context-") as folder:
        root = Path(folder)
        for rel in tree:
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.touch()
        (root / ".dockerignore").write_text(text)
        kept = exclude_paths(str(root), dockerignore_patterns(text), dockerfile=dockerfile)
        return {p for p in kept if (root / p).is_file()}


def check_dockerignore(
    report: Report,
    path: Path,
    tree: list[str],
    *,
    keep: dict[str, str],
    drop: dict[str, str],
) -> set[str] | None:
    """``keep``/``drop`` map context paths to why they must (not) reach the engine."""
    text = read_artefact(report, Path(path), what=".dockerignore")
    if text is None:
        return None
    location = str(path)
    if not report.check(
        bool(dockerignore_patterns(text)),
        location,
        "the .dockerignore has no patterns, so the whole checkout is sent",
    ):
        return None
    sent = build_context_files(text, tree)
    for rel, why in keep.items():
        report.check(
            rel in sent,
            location,
            f"{rel} is excluded from the build context, but the image needs it ({why})",
            expected=f"{rel} sent to the engine",
            found="excluded by: " + ", ".join(_matching_patterns(text, rel)),
            hint="Patterns are relative to the context root; a later `!pattern` line "
            "re-includes what an earlier line excluded.",
        )
    for rel, why in drop.items():
        report.check(
            rel not in sent,
            location,
            f"{rel} is still sent to the engine ({why})",
            expected=f"{rel} excluded",
            found="no pattern matches it",
            hint="Unlike .gitignore, a .dockerignore pattern without a `**/` prefix matches "
            "only at the root of the context: `**/__pycache__` matches the folder anywhere.",
        )
    return sent


def _matching_patterns(text: str, rel: str) -> list[str]:
    from docker.utils.build import PatternMatcher

    return [
        pattern
        for pattern in dockerignore_patterns(text)
        if not pattern.startswith("!") and PatternMatcher([pattern]).matches(rel)
    ] or ["(a combination of patterns)"]
