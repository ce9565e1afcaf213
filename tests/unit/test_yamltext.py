"""YAML as every grader reads it (graders/formats/yamltext.py): lines, duplicate keys, and
files that would expand without end, refused by each reader as a finding.

The checker reads learner YAML outside any sandbox, so an alias bomb that a reader expanded
would take the grading machine's memory (measured before this reader: a 6-level bomb of a
workflow took 1.6 s and 220 MB, each further level nine times more).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from graders import Report
from graders.actions import load_yaml
from graders.dockerfile import load_compose
from graders.formats.yamltext import MAX_NODES, YamlUnreadable, documents, single_document
from graders.kubernetes import parse_manifests


def alias_bomb(levels: int = 9, indent: str = "") -> str:
    """``levels`` lines of aliases of aliases, each nine times the one before."""
    lines = [f"{indent}a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"{indent}a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def read_manifest(text: str, tmp_path: Path) -> Report:
    report = Report("manifests")
    parse_manifests(report, text, "k8s.yaml")
    return report


def read_workflow(text: str, tmp_path: Path) -> Report:
    report = Report("workflow")
    (tmp_path / "ci.yml").write_text(text)
    load_yaml(report, tmp_path / "ci.yml", what="workflow", name="ci.yml")
    return report


def read_compose(text: str, tmp_path: Path) -> Report:
    report = Report("compose")
    (tmp_path / "compose.yaml").write_text(text)
    load_compose(report, tmp_path / "compose.yaml")
    return report


READERS = [read_manifest, read_workflow, read_compose]
HOSTILE = {
    "an alias bomb": ("kind: ConfigMap\n" + alias_bomb(), "aliases (*name) expand this file"),
    "a bomb behind a merge key": (
        "base: &base\n" + alias_bomb(indent="  ") + "services: {web: {<<: *base}}\n",
        "aliases (*name) expand this file",
    ),
    "an alias inside itself": ("kind: ConfigMap\nmetadata: &m {name: a, x: *m}\n", "contains it"),
    "nesting too deep": ("data: " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
}


@pytest.mark.parametrize("reader", READERS, ids=lambda r: r.__name__)
@pytest.mark.parametrize("case", HOSTILE, ids=str)
def test_every_reader_refuses_yaml_that_cannot_be_used_with_a_finding(reader, case, tmp_path):
    text, message = HOSTILE[case]
    report = reader(text, tmp_path)
    assert any(message in finding.message for finding in report.findings), report.to_text()


def test_lines_duplicates_and_document_places():
    text = "---\n---\nkind: A\nlist:\n  - one\n  - two: 2\nkind: B\n---\nsecond: true\n"
    first, second = documents(text)
    assert (first.index, second.index) == (2, 3)  # the empty first document still counts
    assert first.data == {"kind": "B", "list": ["one", {"two": 2}]}
    assert first.lines[("list", 1, "two")] == 6
    assert first.lines[("kind",)] == 7  # YAML keeps the last of a key written twice
    assert first.duplicates == [(("kind",), 7)]
    assert second.lines[("second",)] == 9


def test_within_the_budget_aliases_are_read():
    document = single_document(alias_bomb(levels=4))  # 9**4 values: under the budget
    assert len(document.data["a3"]) == 9 and MAX_NODES > 9**4


def test_a_single_document_reader_refuses_two():
    with pytest.raises(yaml.YAMLError):
        single_document("a: 1\n---\nb: 2\n")
    assert single_document("").data is None
    with pytest.raises(YamlUnreadable):
        single_document(alias_bomb())
