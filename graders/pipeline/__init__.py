"""Grading orchestrated pipelines (Dagster) by running them for real.

A check never inspects pipeline code as text: it runs the student's assets with Dagster's own
in-process executor and judges what happened, from the run's event log: which assets
materialised, in what order, with what metadata, which asset checks passed, which steps
failed and why.

Every grading run happens in a forked child process (:func:`run_isolated`):

* the child inherits the notebook's definitions, so nothing has to be pickled on the way in,
  and sends back a plain summary (:class:`RunSummary`) through a pipe;
* it works in a fresh temporary folder (its current directory, ``DAGSTER_HOME`` and
  ``tempfile``'s default), removed afterwards, so a run never writes into the repository;
* its file descriptors 1 and 2 go to a log file, so Dagster's event log (which it writes to
  stderr) never reaches the notebook, where nbgrader would score the check cell 0;
* it has a time limit, after which its whole process group is killed, and a crash in it
  (``os._exit``, a segfault) costs only the exercise that caused it.

The report helpers turn a run into located findings: a step that raised is reported with the
step's name, the exception and the student's line that raised it.
"""

from graders.pipeline.child import Outcome, run_isolated
from graders.pipeline.explore import draw_lineage, preview
from graders.pipeline.findings import (
    check_check,
    check_lineage,
    check_materialized,
    check_metadata,
    check_not_materialized,
    check_order,
    check_run,
    expect_outcome,
    outcome_value,
    run_scenario,
)
from graders.pipeline.runs import (
    OUTPUT_TAIL,
    RUN_TIMEOUT,
    CheckEvaluation,
    Materialization,
    RunSummary,
    StepError,
)
from graders.pipeline.summary import (
    flatten,
    lineage,
    materialize,
    plain_metadata,
    summarize,
    summarize_events,
    summarize_runs,
)

__all__ = [
    "OUTPUT_TAIL",
    "RUN_TIMEOUT",
    "CheckEvaluation",
    "Materialization",
    "Outcome",
    "RunSummary",
    "StepError",
    "check_check",
    "check_lineage",
    "check_materialized",
    "check_metadata",
    "check_not_materialized",
    "check_order",
    "check_run",
    "draw_lineage",
    "expect_outcome",
    "flatten",
    "lineage",
    "materialize",
    "outcome_value",
    "plain_metadata",
    "preview",
    "run_isolated",
    "run_scenario",
    "summarize",
    "summarize_events",
    "summarize_runs",
]
