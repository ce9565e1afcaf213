"""Enter a submission's resource limits, then become bubblewrap (stdlib only, run by path).

    python -I course/sandbox_enter.py [--cgroup PROCS_FILE]... [--limit NAME=VALUE]... -- CMD...

Runs between the grader and ``bwrap``: it moves itself into the submission's cgroups (so
everything the submission starts is counted and can be killed as one), sets the resource
limits the cgroups cannot give (or all of them where no cgroup is writable), and then
``exec``s the command. It is trusted code and runs before any of the submission's.
"""

from __future__ import annotations

import os
import resource
import signal
import sys

LIMITS = {
    "as": resource.RLIMIT_AS,
    "nproc": resource.RLIMIT_NPROC,
    "fsize": resource.RLIMIT_FSIZE,
    "nofile": resource.RLIMIT_NOFILE,
    "core": resource.RLIMIT_CORE,
}


def main(argv: list[str]) -> int:
    try:
        split = argv.index("--")
    except ValueError:
        print(
            "usage: sandbox_enter.py [--cgroup FILE] [--limit NAME=VALUE] -- CMD...",
            file=sys.stderr,
        )
        return 2
    options, command = argv[:split], argv[split + 1 :]
    pairs = zip(options[::2], options[1::2], strict=False)
    for flag, value in pairs:
        if flag == "--cgroup":
            with open(value, "w") as procs:
                procs.write(str(os.getpid()))
        elif flag == "--limit":
            name, _, amount = value.partition("=")
            resource.setrlimit(LIMITS[name], (int(amount), int(amount)))
        else:
            print(f"sandbox_enter.py: unknown option {flag}", file=sys.stderr)
            return 2
    # Python ignores SIGPIPE and SIGXFSZ, and an ignored signal stays ignored across exec:
    # give the command their default actions, as subprocess does (a script writing past
    # its file size limit must be stopped by SIGXFSZ, not carry on)
    for name in ("SIGPIPE", "SIGXFSZ"):
        signal.signal(getattr(signal, name), signal.SIG_DFL)
    os.execvp(command[0], command)
    return 127  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
