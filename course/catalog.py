"""The module catalog: what the course contains, read from the modules' own folders.

A module is one folder, ``solutions/NN-topic/``: its graded notebook, its assets and its
catalog entry, ``module.toml`` (title, roadmap step, notebook file name, summary). The
folder name is the module's id, which is also its nbgrader assignment id; the ``NN`` prefix
sets the course order. The start page, the build, the runner and the tests all read the
catalog; no code lists the modules by hand (README.md's table is checked against it).

The release (``exercises/NN-topic/``) carries a copy of each ``module.toml``, so a learner's
copy of the course that has only ``exercises/`` still has its catalog: where ``solutions/``
is absent, the entries are read from there.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

from course.errors import CourseError
from course.paths import course_root

SOURCE = "solutions"
RELEASE = "exercises"
ENTRY = "module.toml"
# nbgrader_config.py's zip_collect pattern and the tests' module ids take exactly this form
MODULE_ID = re.compile(r"\d\d-[a-z]+")
FIELDS = ("title", "roadmap_step", "notebook", "summary")
DOCS = "docs/authoring-modules.md"


@dataclass(frozen=True)
class Module:
    id: str
    title: str
    roadmap_step: str
    notebook: str
    summary: str

    @property
    def number(self) -> int:
        return int(self.id.split("-", 1)[0])

    def solution_path(self, root: Path) -> Path:
        return root / SOURCE / self.id / self.notebook

    def exercise_path(self, root: Path) -> Path:
        return root / RELEASE / self.id / self.notebook

    def is_built(self, root: Path) -> bool:
        """True once the module's solution notebook exists (modules land one at a time)."""
        return self.solution_path(root).is_file()


# -- reading the entries ----------------------------------------------------------------------


def load(root: Path) -> tuple[Module, ...]:
    """The catalog of the course at ``root``, in course order.

    Read from ``solutions/*/module.toml``, where every folder must be a module; where
    ``solutions/`` is absent (a learner's copy), from ``exercises/*/module.toml``, passing
    over folders that are no module's release. A course with neither has no modules.
    """
    solutions = root / SOURCE
    if solutions.is_dir():
        return _load_folder(solutions, strict=True)
    return _load_folder(root / RELEASE, strict=False)


def _load_folder(parent: Path, *, strict: bool) -> tuple[Module, ...]:
    modules: list[Module] = []
    folders = sorted(p for p in parent.iterdir() if p.is_dir()) if parent.is_dir() else []
    for folder in folders:
        if folder.name.startswith((".", "_")):
            continue  # .ipynb_checkpoints, __pycache__
        named = MODULE_ID.fullmatch(folder.name) is not None
        if not named or not (folder / ENTRY).is_file():
            if strict:
                _refuse_folder(folder, named)
            continue
        modules.append(_read_entry(folder, strict=strict))
    _refuse_shared_numbers(modules, parent)
    return tuple(modules)


def _refuse_folder(folder: Path, named: bool) -> NoReturn:
    if not named:
        raise CourseError(
            f"{folder}: a folder of {folder.parent.name}/ whose name is not a module id",
            hint="name each module folder NN-topic: two digits, a dash, lower-case letters "
            "(for example 07-tracking); the NN sets its place in the course. "
            f"Anything else does not belong in {folder.parent.name}/",
        )
    raise CourseError(
        f"{folder}: module folder without its catalog entry {ENTRY}",
        hint=f"create {folder / ENTRY} with {_field_list()} ({DOCS})",
    )


def _refuse_shared_numbers(modules: list[Module], parent: Path) -> None:
    by_number: dict[int, list[str]] = {}
    for module in modules:
        by_number.setdefault(module.number, []).append(module.id)
    for number, ids in by_number.items():
        if len(ids) > 1:
            raise CourseError(
                f"{parent}: modules {' and '.join(ids)} share the number {number:02d}",
                hint="the NN prefix is a module's place in the course: renumber one of them",
            )


def _read_entry(folder: Path, *, strict: bool) -> Module:
    """The module whose folder this is, from its ``module.toml``; a :class:`CourseError`
    naming the file, the field and what to do when the entry is malformed. ``strict`` also
    refuses an entry naming a notebook other than the one the folder holds."""
    path = folder / ENTRY
    try:
        with path.open("rb") as file:
            entry: dict[str, Any] = tomllib.load(file)
    except OSError as exc:
        raise CourseError(
            f"{path}: cannot be read ({exc.strerror})",
            hint="make the file readable by the user running the course",
        ) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CourseError(
            f"{path}: not valid TOML ({exc})",
            hint=f'write one line per field, for example title = "Tracking experiments" ({DOCS})',
        ) from exc
    unknown = sorted(set(entry) - set(FIELDS))
    if "id" in unknown:
        raise CourseError(
            f"{path}: field 'id' is not used",
            hint=f"a module's id is its folder name ({folder.name}): remove the line",
        )
    if unknown:
        raise CourseError(
            f"{path}: unknown field {', '.join(map(repr, unknown))}",
            hint=f"the fields are {_field_list()}",
        )
    values = {name: _text(path, entry, name) for name in FIELDS}
    notebook = values["notebook"]
    if Path(notebook).name != notebook or not notebook.endswith(".ipynb"):
        raise CourseError(
            f"{path}: field 'notebook' must be a notebook's file name, found {notebook!r}",
            hint=f"the graded notebook's file name, named after the topic: "
            f'notebook = "{folder.name.partition("-")[2]}.ipynb"',
        )
    if strict and not (folder / notebook).is_file():
        others = sorted(p.name for p in folder.glob("*.ipynb"))
        if others:
            raise CourseError(
                f"{path}: field 'notebook' names {notebook}, which {folder.name}/ does not hold",
                hint=f"the folder holds {', '.join(others)}: name that notebook in {ENTRY}",
            )
    return Module(folder.name, values["title"], values["roadmap_step"], notebook, values["summary"])


def _text(path: Path, entry: dict[str, Any], name: str) -> str:
    if name not in entry:
        raise CourseError(
            f"{path}: missing field {name!r}",
            hint=f"a module's entry holds {_field_list()} ({DOCS})",
        )
    value = entry[name]
    if not isinstance(value, str) or not value.strip():
        raise CourseError(
            f"{path}: field {name!r} must be a non-empty string, found {value!r}",
            hint=f'quote it: {name} = "…"',
        )
    return value


def _field_list() -> str:
    return ", ".join(FIELDS[:-1]) + f" and {FIELDS[-1]}, each a quoted string"


# -- the course this package belongs to -------------------------------------------------------


def default_root() -> Path:
    """The course the installed package belongs to (``make install`` and Binder install it
    editable, from the course's folder), else the course at or above the working folder."""
    here = Path(__file__).resolve().parents[1]
    if (here / SOURCE).is_dir() or (here / RELEASE).is_dir():
        return here
    return course_root()


@cache
def _default_modules() -> tuple[Module, ...]:
    return load(default_root())


# ``MODULES`` is read on first use, not at import: a malformed entry then reaches the CLI as
# a CourseError (a message and a hint) instead of a traceback from ``import course``.
MODULES: tuple[Module, ...]


def __getattr__(name: str) -> tuple[Module, ...]:
    if name == "MODULES":
        return _default_modules()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# -- looking modules up -----------------------------------------------------------------------


def get(module_id: str, root: Path | None = None) -> Module:
    """The module with this id (in the course at ``root``, or this package's where ``root``
    is not given or holds no catalog); a :class:`CourseError` naming the valid ids otherwise."""
    modules = (load(root) if root is not None else ()) or _default_modules()
    for module in modules:
        if module.id == module_id:
            return module
    known = ", ".join(m.id for m in modules)
    raise CourseError(f"unknown module {module_id!r}", hint=f"choose one of: {known}")


def built(root: Path) -> list[Module]:
    """The modules of the course at ``root`` whose solution notebooks exist, in course order."""
    return [m for m in load(root) if m.is_built(root)]


def select(root: Path, module_ids: list[str] | None) -> list[Module]:
    """The named modules (all built ones when none are named), each checked to exist."""
    if not module_ids:
        return built(root)
    chosen = [get(module_id, root) for module_id in module_ids]
    for module in chosen:
        if not module.is_built(root):
            raise CourseError(
                f"module {module.id} has no solution notebook yet",
                hint=f"expected {module.solution_path(root).relative_to(root)}",
            )
    return chosen
