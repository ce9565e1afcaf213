"""Each submission's kernel in a sandbox of its own, built with bubblewrap.

A graded notebook is hostile input (docs/security.md). nbgrader runs it in a kernel; this
module makes that kernel start inside ``bwrap`` (Linux namespaces: user, mount, PID,
network, IPC, UTS), so that it sees:

* a copy of its own submission folder (the notebook's support files included) in a
  size-limited tmpfs at ``/home/student/<module>``, its working folder;
* the system, the Python installation and the ``graders`` package read-only, and nothing
  else of the host: no course folder, no ``solutions/``, no gradebook, no other student, no
  Docker socket, no home folder, a private ``/tmp``;
* its own PID namespace (it can see and signal only itself; everything it starts dies with
  it) and its own network namespace (loopback only: it may start and call its own servers
  on 127.0.0.1, and reach nothing else);
* limits on memory and processes (a cgroup per sandbox where the grader can create one,
  rlimits otherwise), on disk (tmpfs sizes) and on time (nbgrader's cell timeout, the
  pool's notebook limit).

The kernel and its client talk over ZeroMQ's ``ipc`` transport: the sockets live on a 1 MB
tmpfs inside the sandbox and the grader reaches them through ``/proc/<pid>/root`` of the
sandbox, so the kernel needs no network and no writable folder of the host.

:class:`SandboxedKernelManager` is a jupyter_client kernel manager; ``course.hardening``
installs it in nbgrader's ``Execute`` through ``nbgrader_config.py``, so plain
``nbgrader autograde`` is sandboxed too. Settings live in the :class:`Sandbox` section
(``c.Sandbox.memory_mb = 2048`` in ``nbgrader_config.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, Float, Int, Unicode
from traitlets.config import Configurable

HOME = "/home/student"
RUN = "/run/sandbox"  # read-only: the kernel's connection file, the submission's files
SOCKETS = "/run/kernel"  # the kernel's ipc sockets, on a 1 MB tmpfs
SANDBOX_UID = 1000
ENTER = Path(__file__).with_name("sandbox_enter.py")
# /etc entries the tools need (awk through alternatives, the dynamic linker's cache, time
# zones, certificates, MIME types, name resolution of "localhost"); nothing with secrets.
ETC_ENTRIES = (
    "alternatives",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "timezone",
    "ssl",
    "ca-certificates",
    "mime.types",
    "nsswitch.conf",
    "hosts",
    "host.conf",
    "gai.conf",
    "fonts",
    "os-release",
    "debian_version",
)


class Sandbox(Configurable):
    """How submissions are sandboxed while nbgrader grades them (docs/security.md)."""

    enabled = Bool(
        True,
        help="Start each graded kernel in a sandbox. False only for measuring what the "
        "sandbox costs (benchmarks/grading.py).",
    ).tag(config=True)
    required = Bool(
        True,
        help="Refuse to grade when no sandbox can be built. Set to False only to accept "
        "that submissions run with all the rights of the grading user.",
    ).tag(config=True)
    bwrap = Unicode("bwrap", help="The bubblewrap executable.").tag(config=True)
    memory_mb = Int(2048, help="Memory for a submission and everything it starts.").tag(config=True)
    max_processes = Int(256, help="Processes (and threads) a submission may run.").tag(config=True)
    disk_mb = Int(512, help="Size of the submission's working folder (a tmpfs).").tag(config=True)
    tmp_mb = Int(256, help="Size of the submission's /tmp (a tmpfs).").tag(config=True)
    cpus = Float(
        0.0,
        help="A hard cap on the CPU time a submission may use, in cores (where a cgroup can "
        "be made); 0 for none. Without a cap every sandbox is a cgroup of its own, so the "
        "cores are shared equally between sandboxes however many threads each starts, and "
        "a notebook may use a core another sandbox leaves idle (a cap of 1 core made 01's "
        "solution grade 1.1 s slower, measured).",
    ).tag(config=True)


# -- can a sandbox be built here? --------------------------------------------------------------


@functools.cache
def unavailable_reason(bwrap: str = "bwrap") -> str | None:
    """None when bubblewrap can build a sandbox here; otherwise why it cannot."""
    if not sys.platform.startswith("linux"):
        return f"bubblewrap needs Linux namespaces ({sys.platform} has none)"
    executable = shutil.which(bwrap)
    if executable is None:
        return f"{bwrap} (bubblewrap) is not installed: apt-get install bubblewrap"
    probe = [
        executable,
        "--unshare-all",
        "--die-with-parent",
        "--ro-bind",
        "/",
        "/",
        "--proc",
        "/proc",
        "true",
    ]
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{bwrap} could not start: {exc}"
    if done.returncode != 0:
        return f"{bwrap} cannot create namespaces here: {done.stderr.strip() or done.returncode}"
    return None


# -- resource limits ---------------------------------------------------------------------------


CGROUP_ROOT = Path("/sys/fs/cgroup")
PREFIX = "mlops-sandbox"  # cgroups and staging folders: mlops-sandbox-<grader pid>-<id>


def cgroup_parents() -> list[Path]:
    """Where this machine's sandbox cgroups go: the v2 tree, or v1's hierarchies."""
    if (CGROUP_ROOT / "cgroup.controllers").is_file():
        return [CGROUP_ROOT]
    return [CGROUP_ROOT / name for name in ("memory", "pids", "cpu")]


@dataclass
class Cgroup:
    """One cgroup per sandbox (v2, or v1's memory, pids and cpu hierarchies), where the
    grader may create one (root, or a delegated subtree)."""

    folders: list[Path] = field(default_factory=list)

    @classmethod
    def create(cls, name: str, settings: Sandbox) -> Cgroup | None:
        memory, period = str(settings.memory_mb * 2**20), 100_000
        quota = str(int(settings.cpus * period)) if settings.cpus > 0 else ""
        limits: dict[Path, dict[str, str]] = {}
        if (CGROUP_ROOT / "cgroup.controllers").is_file():  # v2: one tree
            limits[CGROUP_ROOT / name] = {
                "memory.max": memory,
                "memory.swap.max": "0",
                "pids.max": str(settings.max_processes),
                **({"cpu.max": f"{quota} {period}"} if quota else {}),
            }
        elif all((CGROUP_ROOT / h).is_dir() for h in ("memory", "pids", "cpu")):  # v1
            limits[CGROUP_ROOT / "memory" / name] = {"memory.limit_in_bytes": memory}
            limits[CGROUP_ROOT / "pids" / name] = {"pids.max": str(settings.max_processes)}
            limits[CGROUP_ROOT / "cpu" / name] = (
                {"cpu.cfs_period_us": str(period), "cpu.cfs_quota_us": quota} if quota else {}
            )
        else:
            return None
        group = cls()
        try:
            for folder, values in limits.items():
                folder.mkdir()
                group.folders.append(folder)
                for key, value in values.items():
                    target = folder / key
                    if target.exists():
                        target.write_text(value)
        except OSError:
            group.remove()
            return None
        return group

    def procs_files(self) -> list[Path]:
        return [folder / "cgroup.procs" for folder in self.folders]

    def pids(self) -> set[int]:
        found: set[int] = set()
        for procs in self.procs_files():
            with contextlib.suppress(OSError, ValueError):
                found |= {int(line) for line in procs.read_text().split()}
        return found

    def remove(self, seconds: float = 15.0) -> list[Path]:
        """Kill whatever is still in the group, then remove it (a group can only be removed
        once its last process is gone, and a killed process takes a moment to go). Returns
        the folders that could not be removed within ``seconds``."""
        deadline = time.monotonic() + seconds
        while self.folders and time.monotonic() < deadline:
            for pid in self.pids():
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            for folder in list(self.folders):
                with contextlib.suppress(OSError):
                    folder.rmdir()
                    self.folders.remove(folder)
            if self.folders:
                time.sleep(0.02)
        return list(self.folders)


def remove_leftovers(grader_pid: int, seconds: float = 15.0) -> list[Path]:
    """Remove the cgroups and folders of sandboxes whose grader died without cleaning up
    (a grading worker killed at the notebook limit): ``mlops-sandbox-<pid>-*``. Returns the
    cgroups still there after ``seconds`` (their processes would not die)."""
    pattern = f"{PREFIX}-{grader_pid}-*"
    groups = [folder for parent in cgroup_parents() for folder in parent.glob(pattern)]
    left = Cgroup([g for g in groups if g.is_dir()]).remove(seconds) if groups else []
    for folder in Path(tempfile.gettempdir()).glob(pattern):
        shutil.rmtree(folder, ignore_errors=True)
    return left


def address_space(memory_mb: int) -> int:
    """The address-space limit standing in for ``memory_mb`` where no cgroup counts memory
    (a sandbox without one, the trusted checker): generous, since it counts mapped memory."""
    return 4 * memory_mb * 2**20


def rlimits(settings: Sandbox, cgroup: Cgroup | None) -> list[str]:
    """Limits for ``sandbox_enter.py``; with a cgroup, memory and processes are its job.

    Without one, memory falls back to an address-space limit (generous: it counts mapped,
    not used, memory) and processes to RLIMIT_NPROC, which counts every process of the
    grading user, so it is only a backstop there (docs/security.md)."""
    limits = [f"fsize={settings.disk_mb * 2**20}", "core=0", "nofile=4096"]
    if cgroup is None:
        limits.append(f"as={address_space(settings.memory_mb)}")
        if os.getuid() != 0:
            limits.append(f"nproc={4 * settings.max_processes}")
    return limits


def enter_command() -> list[str]:
    """``sandbox_enter.py`` run by this Python: isolated (-I) and without the site module
    (-S), since it needs only the standard library; -S makes each start 14 ms cheaper,
    which a check that runs a learner's program in a fresh sandbox pays per run."""
    return [sys.executable, "-I", "-S", str(ENTER)]


# -- the sandbox's file system -----------------------------------------------------------------


def read_only_paths() -> list[Path]:
    """The Python installation the kernel runs from and the graders it imports."""
    import graders

    paths = [
        Path(sys.prefix),
        Path(sys.base_prefix).resolve(),
        Path(sys.executable).resolve().parent,
    ]
    package = Path(graders.__file__).resolve().parent
    if not any(package.is_relative_to(p) for p in paths):  # an editable install
        paths.append(package)
    kept: list[Path] = []
    for path in sorted(set(paths), key=lambda p: len(p.parts)):
        if not any(path.is_relative_to(k) for k in kept) and not path.is_relative_to("/usr"):
            kept.append(path)
    return kept


def system_mounts() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "lib", "lib64", "sbin", "lib32"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    for entry in ETC_ENTRIES:
        args += ["--ro-bind-try", f"/etc/{entry}", f"/etc/{entry}"]
    return args


def write_identity(folder: Path) -> None:
    """A passwd, group and hostname naming only the sandbox's own user."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "passwd").write_text(
        f"root:x:0:0:root:/root:/usr/sbin/nologin\n"
        f"student:x:{SANDBOX_UID}:{SANDBOX_UID}:student:{HOME}:/bin/bash\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
    )
    (folder / "group").write_text(f"root:x:0:\nstudent:x:{SANDBOX_UID}:\nnogroup:x:65534:\n")
    (folder / "hostname").write_text("sandbox\n")


# Long by design: one bwrap command line, in the order bwrap applies it (mounts stack, so
# the order is part of the security argument; tests/unit/test_sandbox.py checks it).
def bwrap_command(
    settings: Sandbox, staging: Path, workdir_name: str, kernel_argv: list[str], info_fd: int
) -> list[str]:
    """The bwrap command line that runs ``kernel_argv`` inside the sandbox."""
    bwrap = shutil.which(settings.bwrap) or settings.bwrap
    workdir = f"{HOME}/{workdir_name}"
    path = ":".join([f"{sys.prefix}/bin", "/usr/local/bin", "/usr/bin", "/bin"])
    args = [
        bwrap,
        "--unshare-all",  # mount, PID, network, IPC, UTS, cgroup namespaces
        "--unshare-user",  # implied for an unprivileged user, not for root
        "--die-with-parent",
        "--new-session",  # no terminal to inject keystrokes into
        "--disable-userns",  # no nested user namespace to regain capabilities in
        "--uid",
        str(SANDBOX_UID),
        "--gid",
        str(SANDBOX_UID),
        "--hostname",
        "sandbox",
        "--info-fd",
        str(info_fd),
        # the sandbox's own folders first: bwrap mounts in order, and a tmpfs on /tmp
        # would hide a course (and its venv) checked out under /tmp
        "--proc", "/proc",
        "--dev", "/dev",
        "--size", str(settings.tmp_mb * 2**20), "--tmpfs", "/tmp",
        "--size", str(settings.disk_mb * 2**20), "--tmpfs", HOME,
        "--size", str(2**20), "--tmpfs", SOCKETS,
        *system_mounts(),
    ]  # fmt: skip
    for path_ in read_only_paths():
        args += ["--ro-bind", str(path_), str(path_)]
    args += [
        "--ro-bind", str(staging / "etc" / "passwd"), "/etc/passwd",
        "--ro-bind", str(staging / "etc" / "group"), "/etc/group",
        "--ro-bind", str(staging / "etc" / "hostname"), "/etc/hostname",
        "--ro-bind", str(staging / "run"), RUN,
        # the sandbox's root read-only: the grader reaches the kernel's folders through
        # /proc/<pid>/root/run/kernel and /proc/<pid>/root/home/student, and a learner who
        # could rename /run or /home and put a symlink there would send it elsewhere
        "--remount-ro", "/",
        "--clearenv",
        "--setenv", "HOME", HOME,
        "--setenv", "USER", "student",
        "--setenv", "PATH", path,
        "--setenv", "LANG", "C.UTF-8",
        "--setenv", "TMPDIR", "/tmp",
        "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
        "--setenv", "MPLCONFIGDIR", f"{HOME}/.config/matplotlib",
        # ipykernel polls for its parent's death unless told it has none it can see
        "--setenv", "JPY_PARENT_PID", "1",
        "--chdir", HOME,
        "--",
        "/bin/sh",
        "-c",
        'mkdir -p "$1" && cp -a /run/sandbox/submission/. "$1"/ && cd "$1" && shift && exec "$@"',
        "sandbox",
        workdir,
        *kernel_argv,
    ]  # fmt: skip
    return args


def program_command(
    settings: Sandbox,
    folder: Path,
    command: list[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> list[str]:
    """The command line that runs a learner's program (a test suite, a script) which a
    check started in the trusted checker: in a fresh sandbox where only ``folder`` (the copy
    the check prepared) is writable, the system and Python read-only, with no network and
    its own processes, under the same limits as a kernel (graders/isolation.py). It starts
    in ``cwd`` (default ``folder``), with exactly ``env`` as its environment when given."""
    bwrap = shutil.which(settings.bwrap) or settings.bwrap
    enter = enter_command()
    for limit in rlimits(settings, None):
        enter += ["--limit", limit]
    args = [
        *enter, "--",
        bwrap,
        "--unshare-all",
        "--unshare-user",
        "--die-with-parent",
        "--disable-userns",
        "--proc", "/proc",
        "--dev", "/dev",
        "--size", str(settings.tmp_mb * 2**20), "--tmpfs", "/tmp",
        *system_mounts(),
    ]  # fmt: skip
    for path_ in read_only_paths():
        args += ["--ro-bind", str(path_), str(path_)]
    if env is not None:
        args.append("--clearenv")
        for key, value in env.items():
            args += ["--setenv", str(key), str(value)]
    workdir = cwd if cwd is not None else folder
    return [*args, "--bind", str(folder), str(folder), "--chdir", str(workdir), "--", *command]


# -- the kernel manager ------------------------------------------------------------------------


@dataclass
class _Instance:
    """What one sandboxed kernel start leaves behind, removed when the kernel goes."""

    staging: Path
    cgroup: Cgroup | None = None


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels start inside a bubblewrap sandbox (module docstring)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.settings = Sandbox(config=self.config)
        self.transport = "ipc"
        self._sockets_host = Path(tempfile.mkdtemp(prefix=f"{PREFIX}-{os.getpid()}-kernel-"))
        self.ip = str(self._sockets_host / "k")  # replaced by the sandbox's path at launch
        self._instance: _Instance | None = None

    async def _async_pre_start_kernel(self, **kw):
        command, kw = await super()._async_pre_start_kernel(**kw)
        # a signal to bwrap never reaches the kernel: interrupt with a control message
        spec = self.kernel_spec
        assert spec is not None  # super() formatted the kernel command from it
        spec.interrupt_mode = "message"
        return command, kw

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw) -> None:
        self._remove_instance()
        try:
            await self._launch_in_sandbox(kernel_cmd, **kw)
        except BaseException:
            self._remove_instance()
            raise

    async def _launch_in_sandbox(self, kernel_cmd: list[str], **kw) -> None:
        cwd = Path(kw.pop("cwd", None) or os.getcwd())
        staging = Path(tempfile.mkdtemp(prefix=f"{PREFIX}-{os.getpid()}-"))
        instance = _Instance(staging)
        self._instance = instance
        write_identity(staging / "etc")
        run = staging / "run"
        shutil.copytree(cwd, run / "submission", symlinks=True, ignore=_graded_notebooks)
        info = {
            k: v.decode() if isinstance(v, bytes) else v
            for k, v in self.get_connection_info().items()
        }
        info["ip"] = f"{SOCKETS}/k"
        (run / "conn.json").write_text(json.dumps(info))
        inner = _with_connection_file(kernel_cmd, f"{RUN}/conn.json")

        instance.cgroup = Cgroup.create(
            f"{PREFIX}-{os.getpid()}-{uuid.uuid4().hex[:12]}", self.settings
        )
        read_end, write_end = os.pipe()
        enter = enter_command()
        for procs in instance.cgroup.procs_files() if instance.cgroup else []:
            enter += ["--cgroup", str(procs)]
        for limit in rlimits(self.settings, instance.cgroup):
            enter += ["--limit", limit]
        command = [
            *enter,
            "--",
            *bwrap_command(self.settings, staging, cwd.name, inner, write_end),
        ]
        kw["cwd"] = str(staging)
        kw["pass_fds"] = (write_end,)
        try:
            await super()._async_launch_kernel(command, **kw)
        finally:
            os.close(write_end)
        try:
            pid = await asyncio.wait_for(
                asyncio.get_running_loop().run_in_executor(None, _read_child_pid, read_end), 30
            )
        finally:
            os.close(read_end)
        # the client reaches the sockets through the sandbox's own root
        self.ip = f"/proc/{pid}/root{SOCKETS}/k"
        self._view = (f"/proc/{pid}/root", f"{HOME}/{cwd.name}")

    async def _async_wait(self, pollinterval: float = 0.1) -> None:
        # jupyter_client looks every 0.1 s whether a killed or shut-down kernel has
        # exited; a sandbox is gone within hundredths of a second, and each grading
        # waited out a whole 0.1-0.2 s for it
        await super()._async_wait(min(pollinterval, 0.01))

    def sandbox_view(self, socket_name: str) -> tuple[str, str, str]:
        """A socket for the kernel to listen on, as the kernel and as the grader see it,
        and the kernel's working folder as the grader sees it (course/trusted.py)."""
        root, workdir = self._view
        inside = f"{SOCKETS}/{socket_name}"
        return inside, f"{root}{inside}", f"{root}{workdir}"

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        self._remove_instance()
        if not restart:
            shutil.rmtree(self._sockets_host, ignore_errors=True)

    def _remove_instance(self) -> None:
        if self._instance is None:
            return
        if self._instance.cgroup is not None:
            self._instance.cgroup.remove()
        shutil.rmtree(self._instance.staging, ignore_errors=True)
        self._instance = None


def _graded_notebooks(folder: str, names: list[str]) -> set[str]:
    """What the kernel must not see of the folder nbgrader grades in: the notebook itself.
    nbgrader writes it there *with the hidden tests restored* before executing it, and a
    module folder holds no other notebook (docs/authoring-modules.md)."""
    if Path(folder).name == ".ipynb_checkpoints":
        return set(names)
    return {name for name in names if name.endswith(".ipynb") or name == ".ipynb_checkpoints"}


def _with_connection_file(kernel_cmd: list[str], path: str) -> list[str]:
    command = list(kernel_cmd)
    for index, arg in enumerate(command[:-1]):
        if arg == "-f":
            command[index + 1] = path
            return command
    return [*command, "-f", path]


def _read_child_pid(read_end: int) -> int:
    """bwrap writes one JSON object describing the sandbox; its ``child-pid`` is the
    sandbox's first process, as the host sees it."""
    data = b""
    while True:
        chunk = os.read(read_end, 4096)
        if not chunk:
            break
        data += chunk
        try:
            return int(json.loads(data)["child-pid"])
        except (ValueError, KeyError):
            continue
    raise RuntimeError("the sandbox did not start (bwrap reported nothing)")
