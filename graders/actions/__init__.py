"""Grade a GitHub Actions workflow: the real schema, CI/CD rules, and a local run of its steps.

Three layers, each adding findings located by YAML path (``jobs.deploy.if (line 41)``):

1. :func:`load_yaml` parses the file the way GitHub does (``on:`` stays a string key, not the
   YAML 1.1 boolean ``True``) and remembers the line of every key and list item.
2. :func:`check_schema` validates it offline against the GitHub workflow JSON Schema that
   check-jsonschema vendors (SchemaStore's ``github-workflow.json``), with ``oneOf`` errors
   narrowed to the branch the author meant.
3. :func:`check_workflow_rules` applies what the schema cannot know: lint and test jobs, a
   Python version matrix, a dependency cache, a build job, a deploy job that ``needs`` the
   tests and whose ``if`` is *evaluated* (:func:`evaluate_expression`) for a push to main, a
   pull request, a feature-branch push and a failed test run; least-privilege permissions,
   timeouts, pinned actions.

Then :func:`run_jobs` executes the ``run:`` steps of chosen jobs locally, in ``needs`` order,
in a temporary copy of the project, stopping at the first failing step as a CI runner does,
and :func:`check_workflow_passes` / :func:`check_workflow_stops` turn such runs into findings.
From the trusted checker every step runs in a sandbox of its own in which only the run's
temporary folder is writable (graders/isolation.py).
"""

from graders.actions.expressions import (
    STATUS_FUNCTIONS,
    ExpressionError,
    Scenario,
    deploy_scenarios,
    evaluate_expression,
)
from graders.actions.rules import (
    RUFF_CHECK,
    UNPINNED_REFS,
    WorkflowSpec,
    as_list,
    check_workflow,
    check_workflow_rules,
    job_steps,
    needs_closure,
)
from graders.actions.runner import (
    COURSE_TOOLS,
    OUTPUT_TAIL,
    SKIPPED_COMMAND,
    STEP_TIMEOUT,
    StepRun,
    WorkflowRun,
    check_workflow_passes,
    check_workflow_stops,
    job_order,
    run_jobs,
)
from graders.actions.schema import SCHEMA_FILE, SCHEMA_PACKAGE, check_schema, workflow_validator
from graders.actions.yamldoc import YamlDoc, load_yaml, parse_yaml, yaml_path

__all__ = [
    "COURSE_TOOLS",
    "OUTPUT_TAIL",
    "RUFF_CHECK",
    "SCHEMA_FILE",
    "SCHEMA_PACKAGE",
    "SKIPPED_COMMAND",
    "STATUS_FUNCTIONS",
    "STEP_TIMEOUT",
    "UNPINNED_REFS",
    "ExpressionError",
    "Scenario",
    "StepRun",
    "WorkflowRun",
    "WorkflowSpec",
    "YamlDoc",
    "as_list",
    "check_schema",
    "check_workflow",
    "check_workflow_passes",
    "check_workflow_rules",
    "check_workflow_stops",
    "deploy_scenarios",
    "evaluate_expression",
    "job_order",
    "job_steps",
    "load_yaml",
    "needs_closure",
    "parse_yaml",
    "run_jobs",
    "workflow_validator",
    "yaml_path",
]
