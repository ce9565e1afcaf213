"""nbgrader, hardened for a real class: hostile or broken submissions score what they earn.

Installed into nbgrader through ``nbgrader_config.py`` (so plain ``nbgrader autograde`` and
``nbgrader generate_feedback`` get it too, whenever the course package is importable):

* :class:`GuardedExecute` replaces nbgrader's ``Execute``:
  - before every check cell it restores the builtins captured when the kernel started and
    drops ``graders`` from ``sys.modules``, so a submission that monkeypatched a grader
    function or a builtin is checked by the real, freshly imported graders;
  - when the kernel dies (``os._exit``, ``exit()``, a crash) or cannot be interrupted after a
    cell timeout, it starts a new kernel, replays the cells before the fatal one (their
    outputs are kept as they were), records the failure in the fatal cell and carries on,
    so the other exercises still earn their points.
* :class:`StripHiddenTests` removes hidden test source from check cells before feedback is
  rendered, keeping their outcome (the findings in the cell's output).
* Warnings printed to stderr are dropped before scoring (nbgrader's ``IgnorePattern``),
  deleted check cells are restored (``RestoreMissingCells``, nbgrader's ``add_missing_cells``
  made to survive a deleted answer cell too).
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from queue import Empty

from IPython.core.inputtransformer2 import TransformerManager
from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import ensure_async, run_sync
from nbformat import NotebookNode
from nbformat import v4 as nbformat_v4
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import DeduplicateIds, Execute, NbGraderPreprocessor, OverwriteCells
from nbgrader.preprocessors.execute import UnresponsiveKernelError
from traitlets import Bool, Enum, Integer

from course.checker import CONNECT_SECONDS
from course.sandbox import Sandbox, SandboxedKernelManager, unavailable_reason
from course.trusted import TrustedChecks, error_output

MAX_REVIVALS = 3  # kernel deaths survived per notebook before its grading stops

# Runs once per kernel, before any student code: keep a private copy of the builtins and a
# function that puts them back and forgets every imported grader module.
SNAPSHOT_CODE = """\
def _mlops_make_restore():
    import builtins, sys
    pristine = dict(builtins.__dict__)
    modules = sys.modules
    def restore():
        builtins.__dict__.clear()
        builtins.__dict__.update(pristine)
        for name in [n for n in modules if n == "graders" or n.startswith("graders.")]:
            del modules[name]
    return restore
__import__("sys")._mlops_restore = _mlops_make_restore()
del _mlops_make_restore
"""
GUARD_CODE = '__import__("sys")._mlops_restore()'

WARNING_LINE = r"(?m)^.*:\d+: \w*Warning: "


def is_check_cell(cell: NotebookNode) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


def is_instructor_cell(cell: NotebookNode) -> bool:
    """Locked cells that are not answers: their source is restored from the gradebook."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("locked")) and not meta.get("solution")


def guard_code(notebook: NotebookNode) -> str:
    """Restore builtins, forget graders, then re-run the instructor's own grader imports so
    names bound earlier (``Report`` from the setup cell) point at fresh, unpatched objects."""
    imports = sorted(
        {
            statement
            for cell in notebook.cells
            if cell.cell_type == "code" and is_instructor_cell(cell)
            for statement in grader_imports(cell.source)
        }
    )
    return "\n".join([GUARD_CODE, *imports])


def is_grader_module(name: str | None) -> bool:
    return name is not None and (name == "graders" or name.startswith("graders."))


def grader_imports(source: str) -> list[str]:
    """Every ``graders`` import statement of a cell, one line each, whatever its layout.

    Parsed, not matched line by line: an import wrapped in brackets over several lines must
    be re-run too, or the names it binds keep pointing at objects a learner may have
    patched. Magics are turned into Python first (IPython's own transformer); a cell that
    still does not parse has no import to re-run.
    """
    try:
        tree = ast.parse(TransformerManager().transform_cell(source))
    except SyntaxError:
        return []
    return [ast.unparse(node) for node in ast.walk(tree) if imports_graders(node)]


def imports_graders(node: ast.AST) -> bool:
    if isinstance(node, ast.ImportFrom):
        return node.level == 0 and is_grader_module(node.module)
    if isinstance(node, ast.Import):
        return any(is_grader_module(alias.name) for alias in node.names)
    return False


class SandboxUnavailableError(RuntimeError):
    """No sandbox can be built here, and ``c.Sandbox.required`` says not to grade without."""


class GuardedExecute(Execute):
    """nbgrader's Execute that runs each notebook's kernel in a sandbox of its own
    (course/sandbox.py), has check cells run by the trusted checker where the source
    notebook asks for it (course/trusted.py), survives dead kernels and restores graders
    before the checks that still run in the kernel."""

    # nbclient's attributes, whose types nbgrader's untyped Execute hides; every kernel manager
    # here is an AsyncKernelManager (nbclient's default class, SandboxedKernelManager's base)
    timeout: int | None
    km: AsyncKernelManager | None

    shutdown_kernel = Enum(
        ["graceful", "immediate"],
        default_value="immediate",
        help="A graded kernel has nothing to save when its notebook is done: it is killed "
        "with its sandbox at once, instead of the 0.2 s a graceful shutdown took per notebook.",
    ).tag(config=True)
    trusted_checks = Bool(
        True,
        help="Run check cells in the trusted checker where the source notebook sets "
        "metadata.mlops.trusted_checks (switch off only to measure its cost).",
    ).tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        if km is None:
            self._use_sandbox()
        self._snapshot_taken = False
        self._revivals = 0
        self._revival_failure = ""
        self._fatal: set[int] = set()
        self._trusted = self._trusted_checks(resources)
        # the guard is for check cells run in the kernel, which a trusted notebook has none of
        self._guard = guard_code(nb) if self._trusted is None else ""
        if self._trusted is not None:
            self._trusted.start()  # the checker prepares while the kernel runs the answers
        self._agent_folder = tempfile.mkdtemp(prefix="mlops-agent-")
        try:
            return super().preprocess(nb, resources, km)
        finally:
            if self._trusted is not None:
                self._trusted.close()
            shutil.rmtree(self._agent_folder, ignore_errors=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return super().preprocess_cell(cell, resources, index)
        try:
            if not self._snapshot_taken:
                self._run_silently(SNAPSHOT_CODE)
                self._snapshot_taken = True
            if is_check_cell(cell) and self._trusted is not None:
                return self._trusted_check(cell, index)
            if is_check_cell(cell):
                self._run_silently(self._guard)
            return super().preprocess_cell(cell, resources, index)
        except (DeadKernelError, UnresponsiveKernelError, CellTimeoutError) as exc:
            self._record_fatal(cell, exc)
            self._fatal.add(index)
            self._revive(index)
            return cell, self.resources

    # -- trusted checks (course/trusted.py) -------------------------------------------------

    def _trusted_checks(self, resources) -> TrustedChecks | None:
        """The checker for this notebook when its source notebook asks for one."""
        info = (resources or {}).get("nbgrader") or {}
        assignment, notebook = info.get("assignment"), info.get("notebook")
        if not assignment or not notebook or not self.trusted_checks:
            return None
        coursedir = CourseDirectory(config=self.config)
        folder = coursedir.format_path(coursedir.source_directory, ".", assignment)
        return TrustedChecks.for_notebook(
            Path(folder) / f"{notebook}.ipynb",
            self.timeout or 60,
            Sandbox(config=self.config).memory_mb,
        )

    def _trusted_check(self, cell: NotebookNode, index: int):
        """The learner's kernel answers the checker's requests while the checker runs
        this check; the checker's outputs become the cell's outputs."""
        assert self._trusted is not None
        inside, outside, workdir = self._agent_paths()
        serve = f'__import__("graders.remote.agent", fromlist=["serve"]).serve({inside!r})'
        msg_id = self.kc.execute(serve, silent=True, store_history=False, allow_stdin=False)
        state = run_sync(self._agent_state)(outside, msg_id)
        if state == "listening":
            outputs = self._trusted.check(cell.metadata.nbgrader.grade_id, workdir, outside)
            self._wait_for_agent(msg_id)
        else:  # an agent that ended at once (the kernel patched its imports) or stays silent
            if state == "silent":
                self._wait_for_agent(msg_id)
            outputs = [
                error_output(
                    "KernelUnreachable",
                    "the notebook's kernel did not start answering the checker, so this "
                    "check could not run",
                )
            ]
        cell.outputs = [nbformat_v4.output_from_msg(_as_msg(o)) for o in outputs]
        self.code_cells_executed += 1
        cell.execution_count = self.code_cells_executed
        return cell, self.resources

    def _agent_paths(self) -> tuple[str, str, str]:
        """The agent's socket as the kernel and as the grader see it, and the kernel's
        working folder as the grader sees it."""
        sandbox = getattr(self.km, "sandbox_view", None)
        if sandbox is not None:
            return sandbox("agent")
        path = os.path.join(self._agent_folder, "agent")
        return path, path, self.resources.get("metadata", {}).get("path") or os.getcwd()

    async def _agent_state(self, socket_path: str, msg_id: str) -> str:
        """``listening`` once the agent listens; ``ended`` if its execution finished first
        (it never will); ``silent`` if neither happened in the time the checker waits."""
        deadline = time.monotonic() + CONNECT_SECONDS
        wait = 0.001  # an agent listens within milliseconds: look again soon, then less often
        while time.monotonic() < deadline:
            if os.path.exists(socket_path):
                return "listening"
            try:
                msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=wait))
            except Empty:
                wait = min(2 * wait, 0.02)
                continue
            if msg["parent_header"].get("msg_id") == msg_id:
                return "ended"
        return "silent"

    def _wait_for_agent(self, msg_id: str) -> None:
        """The agent ends when the checker says goodbye; a kernel that does not (its
        learner code still running) is interrupted, then treated as hung."""
        timeout = self.timeout
        try:
            self.timeout = 5
            try:
                run_sync(self.async_wait_for_reply)(msg_id)
                return
            except CellTimeoutError:
                assert self.km is not None  # it started the kernel that timed out
                run_sync(self.km.interrupt_kernel)()
            run_sync(self.async_wait_for_reply)(msg_id)
        finally:
            self.timeout = timeout

    # -- helpers ---------------------------------------------------------------------------

    def _use_sandbox(self) -> None:
        """Start kernels in a sandbox; refuse to run without one unless told to accept it."""
        settings = Sandbox(config=self.config)
        reason = unavailable_reason(settings.bwrap) if settings.enabled else "switched off"
        if reason is None:
            self.kernel_manager_class = SandboxedKernelManager
            return
        if settings.required:
            raise SandboxUnavailableError(
                f"cannot grade in a sandbox: {reason}. Install bubblewrap, or accept that "
                "submissions run with your user's rights: c.Sandbox.required = False "
                "(mlops-course grade --unsafe-no-sandbox). See docs/security.md."
            )
        self.log.warning("grading WITHOUT a sandbox (%s): c.Sandbox.required = False", reason)

    def _run_silently(self, code: str) -> None:
        """Run setup code in the kernel without recording anything in the notebook."""
        msg_id = self.kc.execute(code, silent=True, store_history=False, allow_stdin=False)
        run_sync(self.async_wait_for_reply)(msg_id)

    def _record_fatal(self, cell: NotebookNode, exc: Exception) -> None:
        if isinstance(exc, DeadKernelError):
            reason = "the kernel died while running this cell (os._exit, exit() or a crash)"
        else:
            reason = f"this cell did not finish within {self.timeout} s and could not be stopped"
        self.log.warning("Cell %s: %s; restarting the kernel", cell.get("id"), reason)
        cell.outputs.append(
            NotebookNode(
                output_type="error",
                ename="KernelRestarted",
                evalue=reason,
                traceback=[
                    f"KernelRestarted: {reason}. The grader restarted the kernel, "
                    "re-ran the cells above and continued with the next cell."
                ],
            )
        )

    def _revive(self, fatal_index: int) -> None:
        """A fresh kernel with the state of every cell before the fatal one.

        Reviving can fail too: a new kernel that does not answer in time on a loaded
        machine, one that dies while the cells above are replayed. Each failure counts as
        one more death, and the kernel is revived again, up to ``MAX_REVIVALS`` in all;
        only then does grading this notebook stop, with the last reason.
        """
        while True:
            self._revivals += 1
            if self._revivals > MAX_REVIVALS:
                reason = f"the kernel died more than {MAX_REVIVALS} times" + (
                    f" (last: {self._revival_failure})" if self._revival_failure else ""
                )
                self.log.error("%s: grading this notebook stops", reason)
                raise UnresponsiveKernelError(reason)
            try:
                self._fresh_kernel()
                self._replay(fatal_index)
                return
            except Exception as exc:  # any failure to revive is one more death
                self._revival_failure = f"{type(exc).__name__}: {exc}"
                self.log.warning("reviving the kernel failed (%s)", self._revival_failure)

    def _fresh_kernel(self) -> None:
        """A new kernel and client; nbclient drops its kernel manager when a new kernel
        never answers, and then a new manager starts one."""
        if self.km is None or not self.km.has_kernel:
            if self.km is None:
                self.km = self.create_kernel_manager()
            self.start_new_kernel()
        else:
            run_sync(self.km.restart_kernel)(now=True)
        if self.kc is not None:
            self.kc.stop_channels()
        self.start_new_kernel_client()

    def _replay(self, fatal_index: int) -> None:
        """Run again, silently, the code cells above the fatal one, except check cells and
        cells that were fatal themselves (they would only end the new kernel too)."""
        self._snapshot_taken = False
        for index, earlier in enumerate(self.nb.cells[:fatal_index]):
            if earlier.cell_type != "code" or is_check_cell(earlier) or index in self._fatal:
                continue
            if not self._snapshot_taken:
                self._run_silently(SNAPSHOT_CODE)
                self._snapshot_taken = True
            try:
                self._run_silently(earlier.source)
            except (DeadKernelError, CellTimeoutError):
                raise  # the kernel died or hung again: revive it once more
            except Exception:  # a replayed cell failing again is what it did the first time
                continue


class CapOutputSize(NbGraderPreprocessor):
    """Cut what a cell printed to ``max_cell_bytes`` before the notebook is saved.

    nbgrader's ``LimitOutput`` counts lines, so one line of 200 MB passes it, and every
    graded notebook and feedback page would carry it. Error outputs, which decide a check
    cell's points, are never cut; streams are cut with a note saying how much was dropped,
    and any other output above the cap is replaced by that note.
    """

    max_cell_bytes = Integer(1_000_000, help="Output kept per cell, in bytes.").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        budget = self.max_cell_bytes
        kept = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                kept.append(output)
                continue
            size = len(json.dumps(output))
            if size <= budget:
                kept.append(output)
                budget -= size
            elif output.get("output_type") == "stream" and budget > 0:
                output["text"] = output.get("text", "")[:budget] + _cut_note(size - budget)
                kept.append(output)
                budget = 0
            else:
                note = nbformat_v4.new_output("stream", name="stdout", text=_cut_note(size))
                kept.append(note)
        cell.outputs = kept
        return cell, resources


def _as_msg(output: dict) -> dict:
    """A checker output as the kernel message nbformat builds outputs from."""
    kind = output.get("output_type")
    content = {k: v for k, v in output.items() if k != "output_type"}
    if kind == "display_data":
        content.setdefault("metadata", {})
    return {"header": {"msg_type": kind}, "content": content}


def _cut_note(dropped: int) -> str:
    return f"\n… output cut by the grader: {dropped:,} more bytes were printed\n"


class RestoreMissingCells(OverwriteCells):
    """nbgrader's OverwriteCells, whose re-adding of deleted check cells does not fail.

    nbgrader puts a missing check cell after the cell that precedes it in the source
    notebook, and fails the whole notebook (KeyError) when that cell was deleted too (a
    learner who deleted an exercise's answer and its check). Here it goes after the
    nearest earlier source cell still in the notebook, or first: the learner then scores
    what the remaining answers earn, never less because grading broke.
    """

    def add_missing_grade_cells(self, nb, resources):
        source_nb = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        source_ids = [cell.name for cell in source_nb.source_cells]
        solutions = {cell.name for cell in source_nb.solution_cells}
        for grade_cell in source_nb.grade_cells:
            present = _graded_positions(nb)
            if grade_cell.name in present:
                continue
            self.log.warning(
                "Missing grade cell %s encountered, adding to notebook", grade_cell.name
            )
            index = source_ids.index(grade_cell.name)
            source_cell = source_nb.source_cells[index]
            cell = self.missing_cell_transform(
                source_cell, grade_cell.max_score, is_solution=grade_cell.name in solutions
            )
            earlier = [present[i] for i in reversed(source_ids[:index]) if i in present]
            nb.cells.insert(earlier[0] + 1 if earlier else 0, cell)
        return nb, resources


def _graded_positions(nb) -> dict[str, int]:
    positions = {}
    for index, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if "grade_id" in meta and (meta.get("grade") or meta.get("solution")):
            positions[meta["grade_id"]] = index
    return positions


class DropDuplicateIds(DeduplicateIds):
    """nbgrader's DeduplicateIds leaves ``nbgrader: {}`` on a duplicated cell, which a later
    step trips over (KeyError 'grade_id'); this drops the metadata of the duplicate instead,
    so the cell is graded like any student cell."""

    def preprocess_cell(self, cell, resources, cell_index):
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if cell.get("metadata", {}).get("nbgrader") == {}:
            del cell.metadata["nbgrader"]
        return cell, resources


HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS[ \t]*\n?", re.S | re.M)
HIDDEN_PLACEHOLDER = "# (hidden tests ran here; their findings, if any, are in the output below)\n"


class StripHiddenTests(NbGraderPreprocessor):
    """Feedback shows check cells without their hidden test source.

    Both places hidden source can appear are cleaned: the cell's source, and the traceback
    of an error the check cell raised outside ``report.attempt`` (IPython's traceback lists
    the lines around the failing one, hidden tests included; a learner who deletes a locked
    cell the hidden tests use can provoke one). The error keeps its type and message.
    """

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and is_check_cell(cell):
            cell.source = HIDDEN.sub(HIDDEN_PLACEHOLDER, cell.source)
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = error_lines(output)
        return cell, resources


def error_lines(output: NotebookNode) -> list[str]:
    """An error output as its type and message only, one line per message line."""
    ename, evalue = output.get("ename", "Error"), str(output.get("evalue", ""))
    lines = evalue.splitlines() or [""]
    return [f"{ename}: {lines[0]}", *lines[1:]]


def configure_nbgrader(c) -> None:
    """Apply the course's hardening to an nbgrader config object (see nbgrader_config.py)."""
    from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        CheckCellMetadata,
        ClearOutput,
        GetGrades,
        IgnorePattern,
        LimitOutput,
        OverwriteKernelspec,
        SaveAutoGrades,
    )

    from course import nbclient_fix

    nbclient_fix.install()  # no cell waits out its whole timeout for a reply it missed
    c.Autograde.sanitize_preprocessors = [
        ClearOutput,
        DropDuplicateIds,
        OverwriteKernelspec,
        RestoreMissingCells,
        CheckCellMetadata,
    ]
    c.Autograde.autograde_preprocessors = [
        GuardedExecute,
        CapOutputSize,
        IgnorePattern,
        ClearMetadataPreprocessor,
        LimitOutput,
        SaveAutoGrades,
        AssignLatePenalties,
        CheckCellMetadata,
    ]
    c.IgnorePattern.enabled = True
    c.IgnorePattern.pattern = WARNING_LINE
    c.RestoreMissingCells.add_missing_cells = True
    c.GenerateFeedback.preprocessors = [StripHiddenTests, GetGrades, CSSHTMLHeaderPreprocessor]
