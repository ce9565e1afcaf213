"""Where each file of the build context lands in the image, and which layers a change
to it rebuilds."""

from __future__ import annotations

import fnmatch
import posixpath
from pathlib import Path

from graders.formats.dockerfile import Dockerfile, Instruction, Stage


def context_files(root: Path) -> list[str]:
    """Every file under ``root``, as posix paths relative to it (a build context listing)."""
    root = Path(root)
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _glob_match(pattern: str, path: str) -> bool:
    """Go's filepath.Match, which COPY uses: ``*`` never crosses a ``/``."""
    parts, names = pattern.split("/"), path.split("/")
    return len(parts) == len(names) and all(
        fnmatch.fnmatchcase(n, p) for p, n in zip(parts, names, strict=True)
    )


def copy_parts(instruction: Instruction) -> tuple[list[str], str]:
    words = instruction.words()
    if len(words) < 2:
        return [], ""
    return words[:-1], words[-1]


def _dest_is_dir(dest: str, dest_abs: str, n_sources: int, known_dirs: list[str]) -> bool:
    return dest.endswith("/") or dest in (".", "./") or n_sources > 1 or dest_abs in known_dirs


def _map_source(source: str, rel: str, dest_abs: str, as_dir: bool) -> str | None:
    """Where ``rel`` (a context path) lands when ``source`` is copied to ``dest_abs``."""
    clean = posixpath.normpath(source.lstrip("/")) if source not in ("", "/") else "."
    if clean == ".":
        return posixpath.join(dest_abs, rel)
    if any(ch in clean for ch in "*?["):
        parts = rel.split("/")
        for n in range(1, len(parts) + 1):
            prefix = "/".join(parts[:n])
            if _glob_match(clean, prefix):
                inner = "/".join(parts[n:])
                if not inner:
                    return posixpath.join(dest_abs, parts[n - 1])
                return posixpath.join(dest_abs, inner)
        return None
    if rel == clean:
        return posixpath.join(dest_abs, posixpath.basename(rel)) if as_dir else dest_abs
    if rel.startswith(clean + "/"):
        return posixpath.join(dest_abs, rel[len(clean) + 1 :])
    return None


def _copy_target(
    dockerfile: Dockerfile, instruction: Instruction, workdir: str, known_dirs: list[str]
) -> tuple[list[str], str, bool]:
    sources, dest = copy_parts(instruction)
    dest_abs = posixpath.normpath(posixpath.join(workdir, dest)) if dest else workdir
    globbed = any(any(ch in s for ch in "*?[") for s in sources)
    as_dir = _dest_is_dir(dest, dest_abs, len(sources) + (1 if globbed else 0), known_dirs)
    return sources, dest_abs, as_dir


def image_paths(dockerfile: Dockerfile, stage: Stage, rel: str) -> dict[str, Instruction]:
    """Absolute paths at which context file ``rel`` exists in ``stage``'s file system,
    with the COPY/ADD instruction that put it there (``COPY --from`` is followed)."""
    parent = dockerfile.parent(stage)
    found = dict(image_paths(dockerfile, parent, rel)) if parent else {}
    workdir = dockerfile.workdirs(parent)[-1] if parent and dockerfile.workdirs(parent) else "/"
    known_dirs = ["/", *dockerfile.workdirs(parent)] if parent else ["/"]
    for instruction in stage.instructions:
        if instruction.name == "WORKDIR":
            workdir = posixpath.normpath(posixpath.join(workdir, instruction.args.strip()))
            known_dirs.append(workdir)
            continue
        if instruction.name not in ("COPY", "ADD"):
            continue
        sources, dest_abs, as_dir = _copy_target(dockerfile, instruction, workdir, known_dirs)
        origin = instruction.flags.get("from")
        if origin is None:
            for source in sources:
                if source.startswith(("http://", "https://")):
                    continue
                target = _map_source(source, rel, dest_abs, as_dir)
                if target:
                    found[target] = instruction
            continue
        other = dockerfile.stage_ref(origin, before=stage.index)
        if other is None:
            continue
        for path_there in image_paths(dockerfile, other, rel):
            for source in sources:
                source_abs = posixpath.normpath(posixpath.join("/", source))
                if path_there == source_abs:
                    target = (
                        posixpath.join(dest_abs, posixpath.basename(path_there))
                        if as_dir
                        else dest_abs
                    )
                elif path_there.startswith(source_abs.rstrip("/") + "/"):
                    target = posixpath.join(dest_abs, path_there[len(source_abs.rstrip("/")) + 1 :])
                else:
                    continue
                found[target] = instruction
    return found


def copies_file(instruction: Instruction, rel: str) -> bool:
    """True when this COPY/ADD (from the build context) includes context file ``rel``."""
    if instruction.name not in ("COPY", "ADD") or "from" in instruction.flags:
        return False
    sources, _ = copy_parts(instruction)
    return any(
        _map_source(s, rel, "/x", True) is not None
        for s in sources
        if not s.startswith(("http://", "https://"))
    )


def rebuilt_by_change(dockerfile: Dockerfile, changed: str) -> list[Instruction]:
    """The instructions whose layers Docker's build cache must rebuild when the context
    file ``changed`` changes: from the first COPY/ADD that includes it to the end of its
    stage, and every later stage that starts from or copies out of a rebuilt one."""
    rebuilt_stages: set[int] = set()
    rebuilt: list[Instruction] = []
    for stage in dockerfile.stages:
        parent = dockerfile.parent(stage)
        invalid = parent is not None and parent.index in rebuilt_stages
        for instruction in stage.instructions:
            if not invalid and instruction.name in ("COPY", "ADD"):
                origin = instruction.flags.get("from")
                if origin is None:
                    invalid = copies_file(instruction, changed)
                else:
                    other = dockerfile.stage_ref(origin, before=stage.index)
                    invalid = other is not None and other.index in rebuilt_stages
            if invalid:
                rebuilt.append(instruction)
        if invalid:
            rebuilt_stages.add(stage.index)
    return rebuilt


def explain_rebuild(dockerfile: Dockerfile, changed: str) -> str:
    """A table of the build steps, each marked cached or rebuilt after ``changed`` changes."""
    rebuilt = {i.line for i in rebuilt_by_change(dockerfile, changed)}
    rows = [f"after a change to {changed}:"]
    for instruction in dockerfile.instructions:
        if instruction.name in ("FROM", "ARG") and instruction.stage < 0:
            continue
        mark = "rebuilt" if instruction.line in rebuilt else "cached "
        if instruction.name == "FROM":
            mark = "       "
        rows.append(f"  {mark}  line {instruction.line:>2}  {instruction.short(70)}")
    return "\n".join(rows)
