"""Dockerfiles, .dockerignore files and the Docker engine, checked the way a reviewer would.

Static checks grade everywhere, Binder included (it has no container engine):

* :func:`load_dockerfile` reads the file the notebook wrote, parses it with
  ``dockerfile-parse`` into stages and instructions with their line numbers, and runs the
  real ``hadolint`` on it (errors and warnings are findings, info and style are notes);
* the ``check_*`` rules look at what the image will contain and do: which base image it
  starts from, where each file of the build context lands, which layers a code change
  rebuilds, who the process runs as, how it is started and probed;
* :func:`check_dockerignore` applies a ``.dockerignore`` to a realistic project checkout
  with the Docker SDK's own matcher (the code ``docker build`` from Python uses).

Live checks need an engine (:func:`engine_client`) and only ever add notes or run where a
learner asks for them (:func:`live_smoke_test`). To grade code that drives the engine
without one, :class:`StandInEngine` implements the part of the Docker SDK that a smoke test
uses, with docker-py's own model classes: an image is a snapshot of the build context and a
container is the service running as a local process, so health, logs, ports, exit codes
and clean-up behave as they do on a real engine.

Every finding is located as ``<file>:<line>`` and says what was expected and found.
"""

from graders.dockerfile.compose import check_compose_service, compose_schema, load_compose
from graders.dockerfile.context import (
    context_files,
    copies_file,
    copy_parts,
    explain_rebuild,
    image_paths,
    rebuilt_by_change,
)
from graders.dockerfile.dockerignore import (
    CHECKOUT_EXTRAS,
    build_context_files,
    check_dockerignore,
    checkout_tree,
    dockerignore_patterns,
)
from graders.dockerfile.engine import (
    assemble_context,
    check_prediction,
    containers_from,
    engine_client,
    live_smoke_test,
    model_predictions,
    note_engine,
    short,
)
from graders.dockerfile.lint import (
    HADOLINT_TIMEOUT,
    HADOLINT_WIKI,
    hadolint_binary,
    load_dockerfile,
    run_hadolint,
)
from graders.dockerfile.local_service import (
    free_port,
    http_ok,
    serve_locally,
    start_service,
    stop_process,
    unix_http_ok,
)
from graders.dockerfile.rules import (
    BASE_IMAGE_ARG,
    DEFAULT_BASE_IMAGE,
    ROOT_USERS,
    check_app_importable,
    check_base_image,
    check_cache_survives,
    check_listens_on_all_interfaces,
    check_multistage,
    check_no_pip_cache,
    check_no_secrets,
    check_non_root,
    check_requirements_installed,
    check_runs_uvicorn,
    check_service_files,
    check_service_image,
    check_user_exists,
    check_venv_usable,
    is_requirements_install,
)
from graders.dockerfile.runtime import (
    check_env_config,
    check_exec_form,
    check_expose,
    check_healthcheck,
    check_probe_tools,
    duration_seconds,
    healthcheck_command,
    healthcheck_instruction,
)
from graders.dockerfile.smoke_test import (
    GIVE_UP_GRACE,
    PROBE_DOCKERFILE,
    PROBE_LABEL,
    PROBE_SCENARIOS,
    PROBE_SERVICE,
    WATCHDOG_GRACE,
    containers_labelled,
    grade_smoke_test,
    local_base_image,
    model_coefficients,
    probe_context,
)
from graders.dockerfile.standin import (
    MAX_BUILDS,
    MAX_RUNNING,
    UNPUBLISHED,
    StandInEngine,
    StandInError,
    scenario_context,
)
from graders.formats.dockerfile import (
    Dockerfile,
    Instruction,
    Stage,
    parse_dockerfile,
    parse_key_values,
)

__all__ = [
    "BASE_IMAGE_ARG",
    "CHECKOUT_EXTRAS",
    "DEFAULT_BASE_IMAGE",
    "GIVE_UP_GRACE",
    "HADOLINT_TIMEOUT",
    "HADOLINT_WIKI",
    "MAX_BUILDS",
    "MAX_RUNNING",
    "PROBE_DOCKERFILE",
    "PROBE_LABEL",
    "PROBE_SCENARIOS",
    "PROBE_SERVICE",
    "ROOT_USERS",
    "UNPUBLISHED",
    "WATCHDOG_GRACE",
    "Dockerfile",
    "Instruction",
    "Stage",
    "StandInEngine",
    "StandInError",
    "assemble_context",
    "build_context_files",
    "check_app_importable",
    "check_base_image",
    "check_cache_survives",
    "check_compose_service",
    "check_dockerignore",
    "check_env_config",
    "check_exec_form",
    "check_expose",
    "check_healthcheck",
    "check_listens_on_all_interfaces",
    "check_multistage",
    "check_no_pip_cache",
    "check_no_secrets",
    "check_non_root",
    "check_prediction",
    "check_probe_tools",
    "check_requirements_installed",
    "check_runs_uvicorn",
    "check_service_files",
    "check_service_image",
    "check_user_exists",
    "check_venv_usable",
    "checkout_tree",
    "compose_schema",
    "containers_from",
    "containers_labelled",
    "context_files",
    "copies_file",
    "copy_parts",
    "dockerignore_patterns",
    "duration_seconds",
    "engine_client",
    "explain_rebuild",
    "free_port",
    "grade_smoke_test",
    "hadolint_binary",
    "healthcheck_command",
    "healthcheck_instruction",
    "http_ok",
    "image_paths",
    "is_requirements_install",
    "live_smoke_test",
    "load_compose",
    "load_dockerfile",
    "local_base_image",
    "model_coefficients",
    "model_predictions",
    "note_engine",
    "parse_dockerfile",
    "parse_key_values",
    "probe_context",
    "rebuilt_by_change",
    "run_hadolint",
    "scenario_context",
    "serve_locally",
    "short",
    "start_service",
    "stop_process",
    "unix_http_ok",
]
