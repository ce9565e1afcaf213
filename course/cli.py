"""``mlops-course``: a thin command line over the course's functions.

Every command forwards to one function that works from Python too; this module only parses
arguments, prints results and maps :class:`CourseError` to exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from course import autograde, catalog, exchange, execute, lab, results, selfcheck
from course import build as build_module
from course.errors import CourseError
from course.nbconfig import ensure_venv_on_path
from course.paths import course_root


def cmd_build(args: argparse.Namespace) -> int:
    root = course_root()
    report = build_module.build(root, check=args.check, module_ids=args.modules)
    if args.check:
        if report.clean:
            print("exercises/ and the start page match what solutions/ produce")
            return 0
        print("these generated files differ from what `mlops-course build` would write:")
        print("\n".join(f"  {line}" for line in report.lines()))
        print("run `mlops-course build` and commit the result")
        return 1
    if report.clean:
        print("already up to date")
    for rel in report.added + report.changed:
        print(f"wrote   {rel}")
    for rel in report.removed:
        print(f"removed {rel}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    root = course_root()
    modules = catalog.select(root, args.modules)
    results = []
    for module in modules:
        print(f"running {module.id}/{module.notebook} …", flush=True)
        results.append(
            execute.run_module(
                module,
                root,
                folder=args.folder,
                notebook_timeout=args.timeout,
                cell_timeout=args.cell_timeout,
                output_dir=args.output_dir,
            )
        )
    print(execute.format_table(results))
    return 0 if all(r.status == "ok" for r in results) else 1


def cmd_lab(args: argparse.Namespace) -> int:
    lab.start_lab(course_root(), args.jupyter_args)
    return 0  # not reached: start_lab replaces this process


def cmd_release(args: argparse.Namespace) -> int:
    exchange.release(course_root(), args.module, args.exchange)
    print(f"released {args.module} to the exchange")
    return 0


def cmd_collect(args: argparse.Namespace) -> int:
    root = course_root()
    if args.zip is not None:
        exchange.collect_uploads(root, args.module, args.zip)
    else:
        exchange.collect(root, args.module, args.exchange)
    module = catalog.get(args.module, root)
    students = autograde.submitted_students(root, module)
    print(f"{len(students)} submissions of {module.id} in submitted/: {', '.join(students)}")
    return 0


def cmd_grade(args: argparse.Namespace) -> int:
    graded = autograde.grade(
        course_root(),
        args.module,
        args.student or None,
        workers=args.workers,
        cell_timeout=args.cell_timeout,
        notebook_timeout=args.notebook_timeout,
        require_sandbox=not args.unsafe_no_sandbox,
    )
    print(autograde.format_results(graded))
    restored = sum(len(r.restored_cells) for r in graded)
    if restored:
        print(f"{restored} deleted check cell(s) were restored and graded")
    return 0 if all(r.status == "graded" for r in graded) else 1


def cmd_feedback(args: argparse.Namespace) -> int:
    root = course_root()
    written = results.generate_feedback(root, args.module, args.student)
    print(f"wrote {len(written)} feedback file(s) under feedback/ (hidden test source removed)")
    if args.release:
        exchange.release_feedback(root, args.module, args.exchange)
        print("released feedback to the exchange")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    files = results.export(course_root(), args.to)
    for label, path in files.items():
        print(f"{label:<10} {path}")
    if "not graded" in files:
        print("some gradings did not complete: their scores are empty in grades.csv (see above)")
    return 0


def cmd_submit(args: argparse.Namespace) -> int:
    target = exchange.submit(
        course_root(), args.module, student=args.student, notebook=args.notebook, out_dir=args.out
    )
    print(f"ready to upload: {target}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    root = course_root()
    target = Path(args.target)
    notebook = (
        target if target.suffix == ".ipynb" else catalog.get(args.target, root).exercise_path(root)
    )
    checks = selfcheck.run_checks(notebook)
    print(selfcheck.format_table(checks))
    return 0 if all(c.passed for c in checks) else 1


def _exchange_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--exchange",
        type=Path,
        metavar="DIR",
        help="nbgrader exchange root (default: nbgrader's Exchange.root)",
    )


# Long by design: one argparse declaration per subcommand, in the order `--help` lists them.
def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="mlops-course", description="Build, run and grade the MLOps Roadmap course."
    )
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser("build", help="regenerate exercises/ from solutions/ with nbgrader")
    p.add_argument("modules", nargs="*", metavar="MODULE", help="module ids (default: all)")
    p.add_argument(
        "--check", action="store_true", help="only compare; exit 1 listing the files that differ"
    )
    p.set_defaults(func=cmd_build)

    p = commands.add_parser("run", help="execute notebooks with papermill; time and memory table")
    p.add_argument("modules", nargs="*", metavar="MODULE", help="module ids (default: all)")
    p.add_argument("--folder", default="solutions", choices=["solutions", "exercises"])
    p.add_argument(
        "--timeout",
        type=float,
        default=execute.DEFAULT_NOTEBOOK_TIMEOUT,
        help="seconds per notebook (default: %(default)s)",
    )
    p.add_argument(
        "--cell-timeout",
        type=float,
        default=execute.DEFAULT_CELL_TIMEOUT,
        help="seconds per cell (default: %(default)s)",
    )
    p.add_argument("--output-dir", type=Path, help="keep the executed notebooks here")
    p.set_defaults(func=cmd_run)

    p = commands.add_parser(
        "lab",
        help="start JupyterLab at the course start page",
        description="Start JupyterLab at START_HERE.ipynb; any other option (e.g. "
        "--no-browser --port=8888) is passed on to jupyter lab.",
    )
    p.set_defaults(func=cmd_lab, jupyter_args=[])
    p = commands.add_parser("release", help="instructor: release a module to the exchange")
    p.add_argument("module", metavar="MODULE")
    _exchange_option(p)
    p.set_defaults(func=cmd_release)

    p = commands.add_parser(
        "collect", help="instructor: collect submissions (exchange, or uploads with --zip)"
    )
    p.add_argument("module", metavar="MODULE")
    _exchange_option(p)
    p.add_argument(
        "--zip",
        nargs="*",
        type=Path,
        metavar="FILE",
        help="import files downloaded from a learning platform via zip_collect",
    )
    p.set_defaults(func=cmd_collect)

    p = commands.add_parser("grade", help="instructor: autograde in parallel into the gradebook")
    p.add_argument("module", metavar="MODULE")
    p.add_argument("--student", action="append", metavar="ID", help="only these (repeatable)")
    p.add_argument(
        "--workers", type=int, help="worker processes (default: one more than the cores)"
    )
    p.add_argument(
        "--cell-timeout",
        type=float,
        default=autograde.DEFAULT_CELL_TIMEOUT,
        help="seconds per cell (default: %(default)s)",
    )
    p.add_argument(
        "--notebook-timeout",
        type=float,
        default=autograde.DEFAULT_NOTEBOOK_TIMEOUT,
        help="seconds per notebook (default: %(default)s)",
    )
    p.add_argument(
        "--unsafe-no-sandbox",
        action="store_true",
        help="grade even where no sandbox can be built: submissions then run with your "
        "user's rights (docs/security.md)",
    )
    p.set_defaults(func=cmd_grade)

    p = commands.add_parser("feedback", help="instructor: HTML feedback without hidden tests")
    p.add_argument("module", metavar="MODULE")
    p.add_argument("--student", metavar="ID")
    p.add_argument("--release", action="store_true", help="also release it to the exchange")
    _exchange_option(p)
    p.set_defaults(func=cmd_feedback)

    p = commands.add_parser(
        "export",
        help="instructor: grades CSV, score plot, hardest report",
        description="Export every module in the gradebook at once: nbgrader's grades CSV, a "
        "per-exercise score plot and a report of the exercises the class found hardest.",
    )
    p.add_argument(
        "--to", type=Path, default=Path("grades"), metavar="DIR", help="default: grades/"
    )
    p.set_defaults(func=cmd_export)

    p = commands.add_parser("submit", help="student: write an upload-ready copy of a module")
    p.add_argument("module", metavar="MODULE")
    p.add_argument("--student", metavar="ID", help="your student id (default: your user name)")
    p.add_argument("--notebook", type=Path, help="default: exercises/MODULE/<notebook>")
    p.add_argument("--out", type=Path, help="default: submissions-to-upload/")
    p.set_defaults(func=cmd_submit)

    p = commands.add_parser("check", help="student: run my notebook's visible checks")
    p.add_argument("target", metavar="MODULE|NOTEBOOK")
    p.set_defaults(func=cmd_check)
    return top


def main(argv: list[str] | None = None) -> int:
    top = parser()
    args, extra = top.parse_known_args(argv)
    if extra and args.command != "lab":
        top.error(f"unrecognized arguments: {' '.join(extra)}")
    args.jupyter_args = extra
    # `.venv/bin/mlops-course` must work without an activated venv: nbgrader starts
    # `alembic`, kernels and its own commands by name.
    ensure_venv_on_path()
    try:
        return args.func(args)
    except CourseError as exc:
        print(f"mlops-course: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mlops-course: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
