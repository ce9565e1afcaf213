"""A Dockerfile as stages and instructions with their line numbers, parsed with
``dockerfile-parse`` (the course's one Dockerfile parser)."""

from __future__ import annotations

import io
import json
import posixpath
import re
import shlex
from dataclasses import dataclass, field


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
        chain: list[Stage] = []
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
