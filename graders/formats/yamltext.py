"""YAML read the one way every grader reads it: with the line of every key and list item,
the keys written twice, and a budget on what aliases may expand to.

A YAML file is learner input read by the trusted checker, outside any sandbox. Aliases let
a few lines stand for an exponential number of values (a "billion laughs": nine lines of
aliases of aliases are 387 million strings), which a walk or a copy of the data would then
visit one by one, until the grading machine runs out of memory. So the composed node tree
is walked first, counting every use of an alias against :data:`MAX_NODES`, and only a
document within budget is constructed. A document that contains itself (an alias inside
the node it names) is refused too.

Each grader keeps its own loader class (the YAML dialect it reads: Kubernetes' ``=`` tag,
GitHub's YAML 1.2 booleans) and its own words for the findings.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

YamlPath = tuple[str | int, ...]

#: How many YAML values a file may expand to, counting every use of an alias. Real manifests
#: and workflows have a few hundred.
MAX_NODES = 100_000


class YamlUnreadable(Exception):
    """A YAML file that parses but cannot be used: aliases that loop or expand without end,
    or nesting deeper than the parser can follow."""

    def __init__(self, line: int | None, message: str, hint: str) -> None:
        super().__init__(message)
        self.line, self.message, self.hint = line, message, hint


def format_path(path: Iterable[str | int]) -> str:
    """``("spec", "containers", 0, "image")`` as ``spec.containers[0].image``; the empty path
    as ``""`` (each caller names the top level its own way)."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


@dataclass
class YamlDocument:
    """One document: its data, the line of each key and list item, the keys written twice."""

    data: Any
    lines: dict[YamlPath, int] = field(default_factory=dict)
    duplicates: list[tuple[YamlPath, int]] = field(default_factory=list)
    index: int = 1  # its place in the file, empty documents counted


def documents(
    text: str, loader_class: type[yaml.SafeLoader] = yaml.SafeLoader
) -> Iterator[YamlDocument]:
    """Every non-empty document of ``text``, within one budget for the whole file.

    Raises ``yaml.YAMLError`` for text that is not YAML and :class:`YamlUnreadable` for
    YAML that cannot be used."""
    loader = loader_class(text)
    budget = [MAX_NODES]
    index = 0
    try:
        while loader.check_node():
            node = loader.get_node()
            index += 1
            if node is None or (isinstance(node, yaml.ScalarNode) and node.value == ""):
                continue  # an empty document (a stray `---`)
            document = YamlDocument(None, index=index)
            _walk(node, (), document, budget, frozenset())
            document.data = loader.construct_document(node)
            yield document
    except RecursionError:
        raise YamlUnreadable(
            None,
            "is nested too deeply to read",
            "Check the brackets and the indentation: real files are a few levels deep.",
        ) from None
    finally:
        loader.dispose()


def single_document(
    text: str, loader_class: type[yaml.SafeLoader] = yaml.SafeLoader
) -> YamlDocument:
    """The one document of ``text`` (``data`` None for an empty file); raises like
    :func:`documents`, and ``yaml.YAMLError`` for a file of several documents."""
    found = list(documents(text, loader_class))
    if len(found) > 1:
        raise yaml.composer.ComposerError(
            "expected a single document in the stream", None, "but found another document", None
        )
    return found[0] if found else YamlDocument(None)


def _walk(
    node: yaml.Node,
    path: YamlPath,
    document: YamlDocument,
    budget: list[int],
    ancestors: frozenset[int],
) -> None:
    line = node.start_mark.line + 1
    if id(node) in ancestors:
        raise YamlUnreadable(
            line,
            "an alias (*name) refers to an object that contains it: the document never ends",
            "Remove the alias, or point it at an object outside the one it is in.",
        )
    budget[0] -= 1
    if budget[0] < 0:
        raise YamlUnreadable(
            line,
            f"aliases (*name) expand this file to more than {MAX_NODES:,} values: no real "
            "file is that large",
            "Write the values out; use aliases sparingly, if at all.",
        )
    document.lines.setdefault(path, line)
    inside = ancestors | {id(node)}
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if key.tag == "tag:yaml.org,2002:merge":
                _walk(value, path, YamlDocument(None), budget, inside)  # counted, not placed
                continue
            name = str(key.value)
            if name in seen:
                document.duplicates.append(((*path, name), key.start_mark.line + 1))
            seen.add(name)
            document.lines[(*path, name)] = key.start_mark.line + 1
            _walk(value, (*path, name), document, budget, inside)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), document, budget, inside)
