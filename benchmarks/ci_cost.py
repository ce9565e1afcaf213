"""What a test run cost: seconds per lane and per module, from the run's JUnit XML.

`make test` writes ``test-artifacts/junit.xml`` (and each module's class and papermill
figures next to it); this prints where the time went:

    python benchmarks/ci_cost.py                       # test-artifacts/junit.xml
    python benchmarks/ci_cost.py path/to/junit.xml

A test's time includes its fixtures' setup, so a module's graded class is counted in the
first of its tests that ran. Module seconds are test seconds (both workers together);
divided by the number of workers they estimate the wall time a module adds to CI.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ARTEFACTS = Path(os.environ.get("PYTEST_ARTIFACTS") or REPO / "test-artifacts")
MODULE_ID = re.compile(r"\b(\d\d-[a-z]+)\b")
WORKERS = 2


def read_cases(junit: Path) -> tuple[list[tuple[str, str, float]], float]:
    """(lane, test id, seconds) per test case, and the run's wall time."""
    root = ET.parse(junit).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    wall = max((float(s.get("time", 0)) for s in suites), default=0.0)
    cases = []
    for case in root.iter("testcase"):
        classname = case.get("classname", "")
        parts = classname.split(".")
        lane = "/".join(parts[:2]) if len(parts) > 2 else classname
        cases.append((lane, f"{classname}::{case.get('name', '')}", float(case.get("time", 0))))
    return cases, wall


def module_of(test_id: str) -> str | None:
    match = MODULE_ID.search(test_id.split("::", 1)[-1])
    return match.group(1) if match else None


def report(junit: Path) -> str:
    cases, wall = read_cases(junit)
    lanes: dict[str, list[float]] = defaultdict(list)
    modules: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for lane, test_id, seconds in cases:
        lanes[lane].append(seconds)
        module = module_of(test_id)
        if module is not None:
            modules[module][lane] += seconds
    total = sum(sum(v) for v in lanes.values())
    lines = [
        f"CI cost from {junit} ({len(cases)} tests; {total:.0f} test-seconds in a wall of "
        f"{wall:.0f} s)",
        "",
        f"{'lane':<20} {'tests':>6} {'seconds':>9} {'share':>6}",
    ]
    for lane, times in sorted(lanes.items(), key=lambda kv: -sum(kv[1])):
        lines.append(
            f"{lane:<20} {len(times):>6} {sum(times):>9.0f} {sum(times) / (total or 1):>6.0%}"
        )
    lane_names = sorted({lane for per in modules.values() for lane in per})
    lines += [
        "",
        f"{'module':<18} " + " ".join(f"{n[6:]:>10}" for n in lane_names) + f" {'total':>8}",
    ]
    for module, per in sorted(modules.items()):
        cells = " ".join(f"{per.get(n, 0):>10.0f}" for n in lane_names)
        lines.append(f"{module:<18} {cells} {sum(per.values()):>8.0f}")
    if modules:
        per_module = [sum(per.values()) for per in modules.values()]
        mean = sum(per_module) / len(per_module)
        lines += [
            "",
            f"mean per module: {mean:.0f} test-seconds, about {mean / WORKERS / 60:.1f} min "
            f"of wall time on {WORKERS} workers for each module added",
        ]
    lines += class_phases()
    return "\n".join(lines)


def class_phases() -> list[str]:
    """Each module's graded class, phase by phase (written by tests/classroom.py)."""
    files = sorted((ARTEFACTS / "classes").glob("*.json"))
    runs = {p.stem: json.loads(p.read_text()) for p in (ARTEFACTS / "runs").glob("*.json")}
    if not files:
        return []
    phases = ["release", "submit", "collect", "grade", "feedback", "export"]
    lines = [
        "",
        f"{'class':<18} {'students':>8} "
        + " ".join(f"{p:>8}" for p in phases)
        + f" {'papermill':>9} {'cell limit':>10}",
    ]
    for path in files:
        data = json.loads(path.read_text())
        run = runs.get(data["module"], {})
        lines.append(
            f"{data['module']:<18} {data['students']:>8} "
            + " ".join(f"{data['seconds'].get(p, 0):>8.0f}" for p in phases)
            + f" {run.get('wall_seconds', 0):>9.0f} {data['limits']['cell']:>10.0f}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("junit", nargs="?", type=Path, default=ARTEFACTS / "junit.xml")
    args = parser.parse_args(argv)
    if not args.junit.is_file():
        print(f"no JUnit XML at {args.junit}: run `make test` first", file=sys.stderr)
        return 1
    print(report(args.junit))
    return 0


if __name__ == "__main__":
    sys.exit(main())
