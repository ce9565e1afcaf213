"""After grading: feedback for students, grades and a class report for the instructor.

Feedback is nbgrader's own HTML (``generate_feedback``), rendered after
``course.hardening.StripHiddenTests`` has removed hidden test source: each check cell still
shows its outcome and findings. The export is nbgrader's CSV (same columns as
``nbgrader export``) plus a per-exercise score distribution plot and a short Markdown
report of which exercises the class found hardest.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from statistics import mean

from course import catalog
from course.autograde import read_failures
from course.errors import CourseError
from course.exchange import nbgrader
from course.nbconfig import ensure_venv_on_path, load_config


def generate_feedback(root: Path, module_id: str, student: str | None = None) -> list[Path]:
    """HTML feedback for every autograded student (or one); returns the files written."""
    from nbgrader.apps import NbGraderAPI

    module = catalog.get(module_id, root)
    ensure_venv_on_path()
    api = NbGraderAPI(config=load_config(root))
    result = api.generate_feedback(module.id, student_id=student, force=True)
    if not result.get("success"):
        raise CourseError(f"feedback for {module.id} failed: {result.get('error')}")
    pattern = f"{student or '*'}/{module.id}/*.html"
    return sorted((root / "feedback").glob(pattern))


@dataclass(frozen=True)
class ExerciseStats:
    module_id: str
    exercise: str
    max_score: float
    scores: tuple[float, ...]

    @property
    def mean_fraction(self) -> float:
        return mean(self.scores) / self.max_score if self.scores and self.max_score else 0.0

    @property
    def full_marks(self) -> float:
        return sum(s >= self.max_score for s in self.scores) / len(self.scores)

    @property
    def zeros(self) -> float:
        return sum(s == 0 for s in self.scores) / len(self.scores)


def exercise_stats(root: Path) -> list[ExerciseStats]:
    """Per module and check cell: every student's score, from the gradebook (gradings that
    did not complete are left out: their empty scores are not zeros)."""
    from nbgrader.api import Gradebook

    failures = read_failures(root)
    stats = []
    with Gradebook(load_config(root).CourseDirectory.db_url) as gradebook:
        for assignment in gradebook.assignments:
            scores: dict[str, list[float]] = {}
            maxima: dict[str, float] = {}
            failed = failures.get(assignment.name, {})
            for submission in assignment.submissions:
                if submission.student.id in failed:
                    continue
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        scores.setdefault(grade.name, []).append(float(grade.score or 0))
                        maxima[grade.name] = float(grade.max_score)
            stats += [
                ExerciseStats(assignment.name, name, maxima[name], tuple(values))
                for name, values in scores.items()
            ]
    return stats


def plot_distributions(stats: list[ExerciseStats], target: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{s.module_id}\n{s.exercise.removesuffix('_test')}" for s in stats]
    fractions = [[score / s.max_score for score in s.scores] for s in stats]
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(stats)), 4))
    ax.boxplot(fractions, showmeans=True)
    for index, values in enumerate(fractions, start=1):
        ax.scatter([index] * len(values), values, alpha=0.35, s=12, color="#4c72b0")
    ax.set_xticks(range(1, len(labels) + 1), labels, rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("score / max")
    ax.set_ylim(-0.05, 1.05)
    ax.set_title("Score distribution per exercise")
    fig.tight_layout()
    fig.savefig(target, dpi=120)
    plt.close(fig)
    return target


def hardest_report(stats: list[ExerciseStats], top: int = 5) -> str:
    ranked = sorted(stats, key=lambda s: (s.mean_fraction, -s.zeros))
    lines = [
        "# Which exercises the class found hardest",
        "",
        "| rank | module | exercise | mean score | full marks | zero |",
        "|---|---|---|---|---|---|",
    ]
    for rank, s in enumerate(ranked, start=1):
        lines.append(
            f"| {rank} | {s.module_id} | {s.exercise.removesuffix('_test')} | "
            f"{s.mean_fraction:.0%} | {s.full_marks:.0%} | {s.zeros:.0%} |"
        )
    hardest = ", ".join(f"{s.module_id}/{s.exercise.removesuffix('_test')}" for s in ranked[:top])
    lines += ["", f"Hardest first: {hardest}. Consider revisiting these in class."]
    return "\n".join(lines) + "\n"


def export(root: Path, out_dir: Path) -> dict[str, Path]:
    """grades.csv (nbgrader's columns), the distribution plot and the hardest-first report.

    A grading that failed or timed out has no score in the CSV (the cells are empty, never
    0) and is listed, with its reason, in ``not-graded.md`` next to it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    grades = out_dir / "grades.csv"
    nbgrader(root, "export", f"--to={grades.resolve()}")
    files = {"grades": grades}
    failures = read_failures(root)
    if failures:
        blank_failed_scores(grades, failures)
        files["not graded"] = write_not_graded(out_dir / "not-graded.md", failures)
    stats = exercise_stats(root)
    if not stats:
        raise CourseError(
            "the gradebook has no graded submissions yet",
            hint="run mlops-course grade MODULE first",
        )
    files["plot"] = plot_distributions(stats, out_dir / "exercise-scores.png")
    files["report"] = out_dir / "hardest-exercises.md"
    files["report"].write_text(hardest_report(stats))
    return files


SCORE_COLUMNS = ("raw_score", "late_submission_penalty", "score")


def blank_failed_scores(grades: Path, failures: dict[str, dict[str, dict[str, str]]]) -> None:
    """Empty the score cells of every (module, student) whose grading did not complete."""
    rows = read_grades(grades)
    if not rows:
        return
    for row in rows:
        if row["student_id"] in failures.get(row["assignment"], {}):
            for column in SCORE_COLUMNS:
                row[column] = ""
    with grades.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def write_not_graded(target: Path, failures: dict[str, dict[str, dict[str, str]]]) -> Path:
    lines = [
        "# Submissions not graded",
        "",
        "Their grading did not complete, so grades.csv leaves their score empty. Fix the "
        "cause, then `mlops-course grade MODULE --student ID` again.",
        "",
        "| module | student | status | reason |",
        "|---|---|---|---|",
    ]
    for module_id, students in sorted(failures.items()):
        for student, failure in sorted(students.items()):
            reason = " ".join(failure["error"].split())[:300].replace("|", "\\|")
            lines.append(f"| {module_id} | {student} | {failure['status']} | {reason} |")
    target.write_text("\n".join(lines) + "\n")
    return target


def read_grades(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))
