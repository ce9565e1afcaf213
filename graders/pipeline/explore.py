"""Exploration for the learner: preview a run, draw the lineage graph."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from graders.pipeline.child import run_isolated
from graders.pipeline.findings import expect_outcome
from graders.pipeline.runs import RUN_TIMEOUT, RunSummary
from graders.pipeline.summary import flatten, lineage, materialize
from graders.report import Report


def preview(
    build: Callable[[], Sequence[Any]], *, timeout: float = RUN_TIMEOUT, **kwargs: Any
) -> RunSummary | None:
    """Materialise ``build()``'s assets the way the checks do (a child process, a temporary
    folder, a time limit, the log captured) and return the run's summary to look at.

    ``kwargs`` go to ``dagster.materialize`` (``run_config``, ``resources``, ...).
    """
    outcome = run_isolated(lambda: materialize(flatten(build()), **kwargs), timeout=timeout)
    if outcome.ok:
        return outcome.value
    report = Report("preview")
    expect_outcome(report, outcome, "preview")
    print("\n".join(f.to_text() for f in report.findings))
    return None


def draw_lineage(definitions: Iterable[Any], ax: Any = None, title: str = "asset lineage") -> Any:
    """Draw the asset graph with matplotlib: sources on the left, each asset right of its
    upstream assets, asset checks (yellow) right of the asset they guard."""
    import matplotlib.pyplot as plt

    graph = lineage(definitions)
    depth: dict[str, int] = {}

    def level(node: str, seen: tuple[str, ...] = ()) -> int:
        if node not in depth:
            parents = [p for p in graph.get(node, []) if p not in seen]
            depth[node] = 1 + max((level(p, (*seen, node)) for p in parents), default=-1)
        return depth[node]

    for node in graph:
        level(node)
    columns: dict[int, list[str]] = {}
    for node in sorted(graph, key=lambda n: (depth[n], n)):
        columns.setdefault(depth[node], []).append(node)
    position = {
        node: (column, -row + (len(nodes) - 1) / 2)
        for column, nodes in columns.items()
        for row, node in enumerate(nodes)
    }
    if ax is None:
        width = 2.6 * (max(columns, default=0) + 1)
        height = 1.2 * max((len(n) for n in columns.values()), default=1) + 0.8
        _, ax = plt.subplots(figsize=(max(width, 4), max(height, 2)))
    for child, parents in graph.items():
        for parent in parents:
            (x0, y0), (x1, y1) = position[parent], position[child]
            ax.annotate(
                "",
                xy=(x1 - 0.32, y1),
                xytext=(x0 + 0.32, y0),
                arrowprops={"arrowstyle": "->", "color": "#57606a"},
            )
    for node, (x, y) in position.items():
        is_check = ":" in node
        ax.text(
            x,
            y,
            node.split(":", 1)[1] if is_check else node,
            ha="center",
            va="center",
            fontsize=8 if is_check else 9,
            bbox={
                "boxstyle": "round4" if is_check else "round",
                "fc": "#fff8c5" if is_check else "#ddf4ff",
                "ec": "#9a6700" if is_check else "#0969da",
            },
        )
    ax.set_xlim(-0.6, max(columns, default=0) + 0.6)
    ys = [y for _, y in position.values()] or [0]
    ax.set_ylim(min(ys) - 0.7, max(ys) + 0.7)
    ax.set_axis_off()
    ax.set_title(title)
    return ax
