"""The optional live layer: ``kubectl apply --dry-run=server`` where a cluster is reachable."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from graders.report import Report
from graders.tools import run_tool

_UNREACHABLE = re.compile(
    r"connection refused|dial tcp|no such host|i/o timeout|Unable to connect to the server|"
    r"context deadline exceeded|no route to host|certificate",
    re.IGNORECASE,
)


def find_kubeconfig(environ: Mapping[str, str] | None = None) -> Path | None:
    """The kubeconfig kubectl would use ($KUBECONFIG, else ~/.kube/config), if it exists."""
    environ = os.environ if environ is None else environ
    if environ.get("KUBECONFIG"):
        for entry in environ["KUBECONFIG"].split(os.pathsep):
            if entry and Path(entry).expanduser().is_file():
                return Path(entry).expanduser()
        return None
    default = Path(environ.get("HOME", str(Path.home()))) / ".kube" / "config"
    return default if default.is_file() else None


def kubectl_command(paths: Sequence[Path | str], kubectl: str = "kubectl") -> list[str]:
    command = [kubectl, "apply", "--dry-run=server", "--validate=strict"]
    for path in paths:
        command += ["-f", str(path)]
    return command


def dry_run(
    report: Report,
    paths: Sequence[Path | str],
    *,
    environ: dict[str, str] | None = None,
    timeout: float = 30,
) -> bool | None:
    """Apply the files with a server-side dry run where a cluster is configured.

    Returns ``True`` when the API server accepted everything, ``False`` when it rejected
    something (a finding with its message), and ``None`` when skipped because there is no
    cluster or it cannot be reached (a note saying why and the command that would run)."""
    command = kubectl_command(paths)
    shown = " ".join(command)
    kubeconfig = find_kubeconfig(environ)
    kubectl = shutil.which("kubectl", path=(environ or os.environ).get("PATH"))
    if kubeconfig is None or kubectl is None:
        why = "no kubeconfig ($KUBECONFIG or ~/.kube/config)" if kubeconfig is None else ""
        why = why or "kubectl is not installed"
        report.note(
            f"skipped: no cluster to try the manifests on ({why}). With one, this runs: {shown}"
        )
        return None
    env = {**(environ or os.environ), "KUBECONFIG": str(kubeconfig)}
    done = run_tool([kubectl, *command[1:]], env=env, timeout=timeout)
    if done.status is None:
        reason = done.error or f"no answer within {timeout:g} s"
        report.fail(shown, f"kubectl did not finish: {reason}", hint="Is the cluster reachable?")
        return False
    output = "\n".join(part.strip() for part in (done.stdout, done.stderr) if part.strip())
    if done.status != 0 and _UNREACHABLE.search(output):
        report.note(
            f"skipped: the cluster in {kubeconfig} is not reachable, so the manifests could "
            f"not be tried ({output.splitlines()[-1][:300]}). The command was: {shown}"
        )
        return None
    if done.status != 0:
        report.fail(
            shown,
            "the API server rejected the manifests (server-side dry run)",
            found=output[-1500:] or f"exit status {done.status}",
            hint="The server applies admission rules the schema cannot: read its message.",
        )
        return False
    report.note(f"{shown} (against {kubeconfig}):\n{output}")
    return True
