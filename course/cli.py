"""``mlops-course``: a thin command line over the course's functions.

Every command forwards to one function that works from Python too; this module only parses
arguments, prints results and maps :class:`CourseError` to exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from course import build as build_module
from course import catalog, execute, lab
from course.errors import CourseError
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
    return top


def main(argv: list[str] | None = None) -> int:
    top = parser()
    args, extra = top.parse_known_args(argv)
    if extra and args.command != "lab":
        top.error(f"unrecognized arguments: {' '.join(extra)}")
    args.jupyter_args = extra
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
