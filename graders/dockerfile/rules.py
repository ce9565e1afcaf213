"""What a service image must hold and how it is built: base image, requirements, service
files, uvicorn, layer caching, and the security and size rules."""

from __future__ import annotations

import posixpath
import re

from graders.dockerfile.context import copies_file, copy_parts, image_paths, rebuilt_by_change
from graders.formats.dockerfile import Dockerfile, Instruction, parse_key_values
from graders.formats.secrets import names_a_secret
from graders.report import Report

BASE_IMAGE_ARG = "BASE_IMAGE"
DEFAULT_BASE_IMAGE = "python:3.11-slim"
ROOT_USERS = {"root", "0", "root:root", "0:0", "root:0", "0:root"}


def is_requirements_install(instruction: Instruction) -> bool:
    """A RUN that pip-installs from requirements.txt (pip, pip3, python -m pip, a venv's pip)."""
    if instruction.name != "RUN":
        return False
    text = " ".join(instruction.words())
    return bool(
        re.search(r"\bpip3?\b.*\binstall\b", text)
        and re.search(r"(-r|--requirement)[ =]\S*requirements\.txt", text)
    )


def check_base_image(report: Report, dockerfile: Dockerfile) -> None:
    """``ARG BASE_IMAGE=python:3.11-slim`` before the first FROM; every FROM uses it."""
    declared = [
        (key, value, i)
        for i in dockerfile.global_args
        for key, value in parse_key_values(i.args)
        if key == BASE_IMAGE_ARG
    ]
    first_from = dockerfile.stages[0]
    late = [
        i
        for i in dockerfile.instructions
        if i.name == "ARG"
        and i.stage >= 0
        and any(k == BASE_IMAGE_ARG for k, _ in parse_key_values(i.args))
    ]
    if not declared:
        report.fail(
            dockerfile.at(late[0] if late else first_from),
            "ARG BASE_IMAGE is declared after FROM, so FROM cannot use it"
            if late
            else "no ARG BASE_IMAGE before the first FROM",
            expected=f"ARG {BASE_IMAGE_ARG}={DEFAULT_BASE_IMAGE} as the first instruction",
            found=late[0].short() if late else f"FROM {first_from.base}",
            hint="Only an ARG declared before the first FROM can be used in FROM lines; "
            "CI builds with --build-arg BASE_IMAGE=<its local image>.",
        )
    else:
        _, value, instruction = declared[-1]
        report.check(
            value == DEFAULT_BASE_IMAGE,
            dockerfile.at(instruction),
            "the default base image should be the official Python 3.11 slim image"
            if value
            else "ARG BASE_IMAGE has no default, so a plain `docker build` fails",
            expected=f"ARG {BASE_IMAGE_ARG}={DEFAULT_BASE_IMAGE}",
            found=instruction.short(),
            hint="The model was trained on Python 3.11; a pinned, slim tag keeps builds "
            "repeatable and the image small (never :latest).",
        )
    for stage in dockerfile.stages:
        uses_arg = stage.base in ("${BASE_IMAGE}", "$BASE_IMAGE")
        report.check(
            uses_arg or dockerfile.parent(stage) is not None,
            dockerfile.at(stage),
            "this FROM ignores the BASE_IMAGE argument",
            expected="FROM ${BASE_IMAGE} (or FROM <an earlier stage>)",
            found=f"FROM {stage.base}",
            hint="Write FROM ${BASE_IMAGE} so the image can be built on another base "
            "(CI has no registry and passes a locally built one).",
        )


def check_requirements_installed(report: Report, dockerfile: Dockerfile) -> None:
    """requirements.txt is copied in and installed with pip in the same stage."""
    for stage in dockerfile.stages:
        copied = [i for i in stage.instructions if copies_file(i, "requirements.txt")]
        installs = [i for i in stage.instructions if is_requirements_install(i)]
        if copied and installs and copied[0].line < installs[-1].line:
            report.check(True, dockerfile.location, "")
            return
    report.fail(
        dockerfile.location,
        "the image never installs the service's requirements",
        expected="COPY requirements.txt … then RUN pip install --no-cache-dir -r requirements.txt",
        found="no RUN … pip install -r requirements.txt after a COPY of requirements.txt",
        hint="pip can only read requirements.txt once a COPY has put it into the image.",
    )


def check_service_files(report: Report, dockerfile: Dockerfile) -> None:
    """The final image contains the code and the model, and the code is importable as
    ``app.main`` from the working directory uvicorn starts in."""
    final = dockerfile.final
    app_paths = image_paths(dockerfile, final, "app/main.py")
    model_paths = image_paths(dockerfile, final, "model/churn-model.joblib")
    report.check(
        bool(app_paths),
        dockerfile.at(final),
        "the final image does not contain the service code (app/main.py)",
        expected="a COPY of the app/ folder, e.g. COPY app/ ./app/",
        hint="Copy the code into the stage that runs the service.",
    )
    report.check(
        bool(model_paths),
        dockerfile.at(final),
        "the final image does not contain the model (model/churn-model.joblib)",
        expected="a COPY of the model/ folder, e.g. COPY model/ ./model/",
        hint="The service loads the model at startup: without it it exits at once.",
    )


def check_app_importable(report: Report, dockerfile: Dockerfile) -> None:
    """``uvicorn app.main:app`` imports app/main.py relative to the working directory."""
    final = dockerfile.final
    workdir = dockerfile.workdir(final)
    app_paths = image_paths(dockerfile, final, "app/main.py")
    if not app_paths:
        return
    expected = posixpath.join(workdir, "app/main.py")
    where = app_paths.get(expected) or next(iter(app_paths.values()))
    report.check(
        expected in app_paths,
        dockerfile.at(where),
        "uvicorn cannot import app.main: the code is not in an app/ folder under WORKDIR",
        expected=expected,
        found=", ".join(sorted(app_paths)),
        hint="COPY of a folder copies its contents: write COPY app/ ./app/, not COPY app/ ./",
    )


def _uvicorn_settings(dockerfile: Dockerfile) -> tuple[dict[str, str] | None, list[Instruction]]:
    """The app, host and port uvicorn would use, or None when it is not started by uvicorn."""
    words, sources = dockerfile.command()
    for n, word in enumerate(words):
        if posixpath.basename(word) == "uvicorn" and (n == 0 or words[n - 1] != "install"):
            break
    else:
        return None, sources
    env = {k: v for k, (v, _) in dockerfile.env().items()}
    settings = {
        "app": env.get("UVICORN_APP", ""),
        "host": env.get("UVICORN_HOST", "127.0.0.1"),
        "port": env.get("UVICORN_PORT", "8000"),
    }
    rest = words[n + 1 :]
    i = 0
    while i < len(rest):
        word = rest[i]
        if word.startswith("--") and "=" in word:
            key, _, value = word[2:].partition("=")
            settings[key] = value
        elif word in ("--host", "--port", "--app-dir", "--workers", "--log-level"):
            settings[word[2:]] = rest[i + 1] if i + 1 < len(rest) else ""
            i += 1
        elif not word.startswith("-") and not settings.get("app_set"):
            settings["app"], settings["app_set"] = word, "1"
        i += 1
    return settings, sources


def check_runs_uvicorn(report: Report, dockerfile: Dockerfile, *, port: int = 8000) -> None:
    """The container starts ``uvicorn app.main:app`` listening on 0.0.0.0:<port>."""
    settings, sources = _uvicorn_settings(dockerfile)
    where = dockerfile.at(sources[-1] if sources else dockerfile.final)
    if settings is None:
        report.fail(
            where,
            "the container does not start the service with uvicorn",
            expected=f'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "{port}"]',
            found=" ".join(dockerfile.command()[0]) or "no CMD or ENTRYPOINT",
        )
        return
    report.check_equal(
        settings["app"], "app.main:app", where, "uvicorn should serve the app object in app/main.py"
    )
    report.check_equal(
        settings["port"], str(port), where, f"the service should listen on port {port}"
    )


def check_listens_on_all_interfaces(report: Report, dockerfile: Dockerfile) -> None:
    settings, sources = _uvicorn_settings(dockerfile)
    if settings is None:
        return
    report.check(
        settings["host"] in ("0.0.0.0", "::"),
        dockerfile.at(sources[-1] if sources else dockerfile.final),
        "uvicorn listens only inside the container, so a published port reaches nothing",
        expected="--host 0.0.0.0",
        found=f"host {settings['host']}"
        + (" (uvicorn's default)" if settings["host"] == "127.0.0.1" else ""),
        hint="127.0.0.1 inside a container is the container itself: traffic from `docker "
        "run -p` arrives on the container's network interface.",
    )


def check_service_image(report: Report, dockerfile: Dockerfile) -> None:
    """What every version of the service's Dockerfile must do to build and serve."""
    check_base_image(report, dockerfile)
    check_requirements_installed(report, dockerfile)
    check_service_files(report, dockerfile)
    check_runs_uvicorn(report, dockerfile)


def check_cache_survives(report: Report, dockerfile: Dockerfile, changed: str, what: str) -> None:
    """After a change to ``changed`` the ``pip install`` layer must come from the cache."""
    installs = [i for i in dockerfile.instructions if is_requirements_install(i)]
    if not installs:
        return  # check_requirements_installed reports it
    rebuilt = rebuilt_by_change(dockerfile, changed)
    hit = [i for i in installs if i in rebuilt]
    first = next(
        (i for i in rebuilt if i.name in ("COPY", "ADD") and copies_file(i, changed)), None
    )
    report.check(
        not hit,
        dockerfile.at(hit[0] if hit else installs[0]),
        f"every {what} re-runs pip install: the dependency layer is rebuilt",
        expected=f"{changed} copied only after the RUN … pip install",
        found=f"{changed} is copied at line {first.line} ({first.short(50)}), before the "
        f"install at line {hit[0].line}"
        if hit and first
        else None,
        hint="COPY requirements.txt alone, RUN pip install, and only then COPY the model "
        "and the code: a layer is rebuilt when anything it or an earlier layer copied changed.",
    )


def check_no_pip_cache(report: Report, dockerfile: Dockerfile) -> None:
    for instruction in dockerfile.instructions:
        if is_requirements_install(instruction):
            report.check(
                "--no-cache-dir" in instruction.words()
                or "PIP_NO_CACHE_DIR" in dockerfile.env(dockerfile.stages[instruction.stage]),
                dockerfile.at(instruction),
                "pip keeps its download cache in the image",
                expected="pip install --no-cache-dir -r requirements.txt",
                hint="The wheels pip cached are never used again but ship in the layer.",
            )


def check_multistage(report: Report, dockerfile: Dockerfile) -> None:
    """A builder stage installs the dependencies; the final stage starts afresh and copies
    only the result out of it."""
    final = dockerfile.final
    if not report.check(
        len(dockerfile.stages) >= 2,
        dockerfile.at(final),
        "a single-stage build: everything used to build the image ships with it",
        expected="two stages: FROM ${BASE_IMAGE} AS builder … and a final FROM ${BASE_IMAGE}",
        found=f"{len(dockerfile.stages)} stage",
        hint="Install the requirements in a builder stage (into a virtual environment) and "
        "COPY --from=builder only that environment into the final stage.",
    ):
        return
    parent = dockerfile.parent(final)
    report.check(
        parent is None,
        dockerfile.at(final),
        "the final stage starts FROM the builder, so everything in it ships anyway",
        expected="the final stage starts FROM ${BASE_IMAGE}",
        found=f"FROM {final.base}",
    )
    copied_from = [
        i
        for i in final.named("COPY")
        if "from" in i.flags and dockerfile.stage_ref(i.flags["from"], before=final.index)
    ]
    report.check(
        bool(copied_from),
        dockerfile.at(final),
        "the final stage copies nothing from the builder",
        expected="COPY --from=builder <the installed dependencies> …",
    )
    again = [i for i in final.instructions if is_requirements_install(i)]
    report.check(
        not again,
        dockerfile.at(again[0] if again else final),
        "the final stage installs the requirements itself instead of copying them",
        expected="pip install only in the builder; COPY --from=builder in the final stage",
    )


def check_non_root(report: Report, dockerfile: Dockerfile) -> None:
    final = dockerfile.final
    user = final.last("USER")
    name = user.args.strip() if user else "root"
    report.check(
        name not in ROOT_USERS,
        dockerfile.at(user or final),
        "the service runs as root",
        expected="USER <an unprivileged user> in the final stage",
        found=user.short() if user else "no USER instruction (root is the default)",
        hint="Create a user (useradd) and switch to it; an attacker who breaks into the "
        "service then does not get root in the container. A numeric id (USER 10001) lets "
        "Kubernetes verify runAsNonRoot.",
    )


def check_user_exists(report: Report, dockerfile: Dockerfile) -> None:
    """A USER given by name must be created in the image (``useradd``/``adduser``)."""
    final = dockerfile.final
    user = final.last("USER")
    if user is None:
        return
    name = user.args.strip().split(":")[0]
    if name.isdigit() or name in ROOT_USERS:
        return
    created = [
        i
        for stage in (final, dockerfile.parent(final))
        if stage
        for i in stage.named("RUN")
        if re.search(rf"\b(useradd|adduser)\b[^&;|]*\b{re.escape(name)}\b", " ".join(i.words()))
    ]
    report.check(
        bool(created),
        dockerfile.at(user),
        f"user {name!r} is never created, so the container cannot start",
        expected=f"RUN useradd … {name} in the final stage, before USER {name}",
        found="no useradd/adduser for it",
        hint="Docker fails at start: 'unable to find user …: no matching entries in passwd file'.",
    )


def check_no_secrets(report: Report, dockerfile: Dockerfile) -> None:
    """No secret in ARG/ENV (they stay in the image history) and no secret file copied."""
    for instruction in dockerfile.instructions:
        if instruction.name not in ("ARG", "ENV"):
            continue
        for key, _ in parse_key_values(instruction.args):
            report.check(
                not names_a_secret(key),
                dockerfile.at(instruction),
                f"{instruction.name} {key} bakes a secret into the image",
                found=instruction.short(),
                hint="ARG and ENV values are readable by anyone with the image (`docker "
                "history`, `docker inspect`). Pass secrets when the container runs: "
                "`docker run --env-file .env` or Compose's env_file.",
            )
    for instruction in dockerfile.instructions:
        if copies_file(instruction, ".env"):
            whole = any(
                posixpath.normpath(s.lstrip("/") or ".") == "." for s in copy_parts(instruction)[0]
            )
            report.fail(
                dockerfile.at(instruction),
                "this COPY puts .env (the registry token) into the image"
                + (": it copies the whole build context" if whole else ""),
                found=instruction.short(),
                hint="Copy only what the service needs (requirements.txt, app/, model/); a "
                "file copied into a layer stays in the image even if a later RUN deletes it.",
            )


def check_venv_usable(report: Report, dockerfile: Dockerfile) -> None:
    """A virtual environment copied between stages must keep its path and be on PATH."""
    final = dockerfile.final
    created = {}
    for stage in dockerfile.stages[:-1]:
        for i in stage.named("RUN"):
            for match in re.finditer(r"-m\s+venv\s+(?:--\S+\s+)*(/\S+)", " ".join(i.words())):
                created[posixpath.normpath(match.group(1))] = stage
    for instruction in final.named("COPY"):
        origin = instruction.flags.get("from")
        if origin is None:
            continue
        sources, dest = copy_parts(instruction)
        dest_abs = posixpath.normpath(posixpath.join(dockerfile.workdir(final), dest))
        for source in sources:
            venv = posixpath.normpath(source)
            if venv not in created:
                continue
            if not report.check(
                dest_abs == venv,
                dockerfile.at(instruction),
                "the virtual environment is copied to another path, where its scripts break",
                expected=f"COPY --from={origin} {venv} {venv}",
                found=instruction.short(),
                hint="A venv's scripts start with #!<its original path>/bin/python.",
            ):
                continue
            words, sources_cmd = dockerfile.command()
            path_value = dockerfile.env().get("PATH", ("", None))[0]
            on_path = f"{venv}/bin" in path_value.split(":")
            report.check(
                on_path or bool(words and words[0].startswith(venv + "/")),
                dockerfile.at(sources_cmd[-1] if sources_cmd else final),
                f"uvicorn is in {venv}/bin, which is not on PATH",
                expected=f'ENV PATH="{venv}/bin:$PATH" (or the full path in CMD)',
                found=f"PATH={path_value or '(the base image default)'}",
                hint="Otherwise the container fails with 'executable file not found in $PATH'.",
            )
