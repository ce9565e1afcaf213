"""The module catalog: the single source of truth for what the course contains.

Module ids are nbgrader assignment ids; each module folder holds exactly one graded
notebook named after its topic. The start page, the build, the runner and the tests all
read this table; nothing else lists the modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from course.errors import CourseError


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
        return root / "solutions" / self.id / self.notebook

    def exercise_path(self, root: Path) -> Path:
        return root / "exercises" / self.id / self.notebook

    def is_built(self, root: Path) -> bool:
        """True once the module's solution notebook exists (modules land one at a time)."""
        return self.solution_path(root).is_file()


MODULES: tuple[Module, ...] = (
    Module(
        "01-python",
        "Python for ML engineering",
        "Programming: Python",
        "python.ipynb",
        "Data handling with pandas, configuration and errors, reproducible training, "
        "tests with pytest, concurrency, logging and a CLI.",
    ),
    Module(
        "02-bash",
        "The command line",
        "Operating systems: Bash scripting",
        "bash.ipynb",
        "Pipes and text tools over service logs, robust scripts, processes and signals, cron.",
    ),
    Module(
        "03-docker",
        "Containerising a model service",
        "Containerization: Docker",
        "docker.ipynb",
        "Dockerfiles that cache well and run safely, Compose, and the engine from Python.",
    ),
    Module(
        "04-kubernetes",
        "Running it on a cluster",
        "Container orchestration: Kubernetes",
        "kubernetes.ipynb",
        "Deployments, Services, configuration, probes, autoscaling, rollouts and CronJobs.",
    ),
    Module(
        "05-cicd",
        "Version control, tests for ML and CI/CD",
        "Version control and CI/CD",
        "cicd.ipynb",
        "git, tests that guard a model, a GitHub Actions pipeline, delivery metrics.",
    ),
    Module(
        "06-orchestration",
        "Orchestrating an ML pipeline",
        "Workflow orchestration",
        "orchestration.ipynb",
        "Assets, resources, retries, quality gates, partitions and schedules with Dagster.",
    ),
)


def get(module_id: str) -> Module:
    """The module with this id; a :class:`CourseError` naming the valid ids otherwise."""
    for module in MODULES:
        if module.id == module_id:
            return module
    known = ", ".join(m.id for m in MODULES)
    raise CourseError(f"unknown module {module_id!r}", hint=f"choose one of: {known}")


def built(root: Path) -> list[Module]:
    """The modules whose solution notebooks exist, in course order."""
    return [m for m in MODULES if m.is_built(root)]


def select(root: Path, module_ids: list[str] | None) -> list[Module]:
    """The named modules (all built ones when none are named), each checked to exist."""
    if not module_ids:
        return built(root)
    chosen = [get(module_id) for module_id in module_ids]
    for module in chosen:
        if not module.is_built(root):
            raise CourseError(
                f"module {module.id} has no solution notebook yet",
                hint=f"expected {module.solution_path(root).relative_to(root)}",
            )
    return chosen
