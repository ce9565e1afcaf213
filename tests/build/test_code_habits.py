"""Habits of the product code (course/, graders/) that a reviewer would otherwise police."""

from __future__ import annotations

import ast

from tests.conftest import REPO

LONG = 60  # lines of code, docstring excluded: "about 50", with room for a long call or two


def _code_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    lines = (node.end_lineno or node.lineno) - node.lineno + 1
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        lines -= (first.end_lineno or first.lineno) - first.lineno + 1
    return lines


def test_every_long_function_says_why_it_is_long():
    unexplained = []
    for package in ("course", "graders"):
        for path in sorted((REPO / package).rglob("*.py")):
            source = path.read_text()
            lines = source.splitlines()
            for node in ast.walk(ast.parse(source)):
                if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                if _code_lines(node) <= LONG:
                    continue
                top = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                if not lines[top - 2].strip().startswith("#"):
                    where = f"{path.relative_to(REPO)}:{node.lineno} {node.name}"
                    unexplained.append(f"{where} ({_code_lines(node)} lines)")
    assert not unexplained, (
        f"functions over {LONG} lines without a comment above saying why "
        f"(split them, or say why they are long): {unexplained}"
    )
