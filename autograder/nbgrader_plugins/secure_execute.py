"""``SecureExecute``: nbgrader's ``Execute`` step, with the student's code in a sandbox and verdicts outside it.

nbgrader builds its autograde pipeline from preprocessor lists
(``Autograde.autograde_preprocessors``); ``nbgrader_config.py`` puts
:class:`SecureExecute` where nbgrader's own ``Execute`` stands, so
``nbgrader autograde`` keeps working as instructors know it, and every later
step (saving grades, feedback, export) is stock nbgrader.

What :class:`SecureExecute` changes:

- the kernel starts in a sandbox (:mod:`autograder.kernels.sandbox`), in a private copy
  of the submission's folder;
- a graded test cell that names a check never runs its own source: the grader
  sends the check's probe, judges the payload in this process and writes the
  verdict as the cell's only output, so nbgrader's ``GetGrades`` scores the
  verdict and nothing the student printed;
- failures stay local: a kernel that dies, or hangs past an interrupt, costs
  the cell it was running; a fresh kernel replays the cells before it and
  grading goes on;
- a failure of the grader is never the student's: where the sandbox cannot be
  built, a kernel cannot start although the submission's files are not to
  blame, or the grader's own code fails outside a cell, :class:`GraderFailure`
  is raised; nbgrader then records nothing for the submission, names it in its
  log, grades the others, exits non-zero and grades it on the next run;
- graded test cells must name a registered check: one that does not would be
  judged inside the student's kernel, so it stops grading (:class:`GraderFailure`);
- every checked test ends with a verdict: one that was never judged scores 0;
- a cell's output is capped, so a flood cannot exhaust the grader's memory, and
  the kernel sends printed text in chunks, so a flood cannot make one message
  too large to receive either;
- the course's plotting helpers skip their figures (``draw_figures``): no
  verdict reads them, and the feedback draws the student's run against the
  reference itself (:class:`~autograder.nbgrader_plugins.feedback.DrawCurves`).
"""

from __future__ import annotations

import copy
import inspect
import os
import shutil
import tempfile
import time
import traceback
from typing import Any

from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode
from nbformat.v4 import new_notebook, new_output
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer, Type, Unicode, default

from ..core import checks, probe, variants
from ..core.verdict import Verdict
from ..course.options import CourseOptions
from ..kernels.sandbox import FIGURES_ENV, UNPROTECTED_NOTICE, SandboxUnavailable, require_isolation
from ..upstream import ExecuteHooks
from .cells import RESTART_HINT, GraderFailure, is_checked_test, mark_unprotected, unchecked_tests, verdict_outputs
from .output_cap import OutputCap
from .workspace import copy_submission, linked_in_submission


def _failure_output(ename: str, message: str) -> NotebookNode:
    return new_output("error", ename=ename, evalue=message, traceback=[f"\x1b[0;31m{ename}\x1b[0m: {message}"])


_WARNED: set[type] = set()
"""Kernel managers already named in a warning (once per process is enough)."""


async def _settle(value: Any) -> Any:
    """Await `value` if it is awaitable (async kernel managers), else return it."""
    return await value if inspect.isawaitable(value) else value


def _sandbox_manager_class() -> type:
    from ..kernels.sandbox import SandboxedKernelManager

    return SandboxedKernelManager


class SecureExecute(ExecuteHooks, OutputCap, Execute):
    """nbgrader's ``Execute``, with verdicts decided outside a sandboxed kernel."""

    kernel_manager_class = Type(
        config=True,
        klass="jupyter_client.manager.KernelManager",
        help="Kernel manager starting the student's kernel (the sandbox by default).",
    )

    max_output_bytes = Integer(
        1_000_000, help="Output kept per cell; the rest of a flood is dropped with a note."
    ).tag(config=True)

    max_kernel_restarts = Integer(3, help="Fresh kernels started after deaths, per notebook.").tag(config=True)

    notebook_timeout = Integer(
        None,
        allow_none=True,
        help="Seconds one notebook may take in all (default: 20 cell timeouts), counted from when its first "
        "kernel is ready (starting a kernel is the grader's time, not the student's); the cells after that "
        "are not run and score 0, so one submission cannot hold up the grading of the others for long.",
    ).tag(config=True)

    draw_figures = Bool(
        False,
        help="Let the course's plotting helpers draw while grading. Off by default: no verdict reads "
        "a figure, the feedback shows the student's run against the reference (DrawCurves), and the "
        "figures cost most of the kernel's time. The kernel gets AUTOGRADER_FIGURES=draw|skip "
        "(from the sandboxed kernel managers, which read their `extra_env`).",
    ).tag(config=True)

    bwrap = Unicode("bwrap", help="Name or path of bubblewrap, which builds the sandbox.").tag(config=True)

    allow_unsandboxed = Bool(
        False,
        help="Grade where the sandbox cannot be built (no bubblewrap, no user namespaces, not Linux), with "
        "resource limits only. Off: grading refuses to start and says what to install or enable. On: every run "
        "logs, and every graded notebook (so its feedback) says, that grading ran unprotected.",
    ).tag(config=True)

    student_variants = Bool(
        None,
        allow_none=True,
        help="Whether each student's notebook runs on their own values, drawn from the id the submission is "
        "filed under (autograder.core.variants). Default: as the course says, c.CourseOptions.variants.",
    ).tag(config=True)

    def __init__(self, **kwargs: Any) -> None:
        explicit = "kernel_manager_class" in kwargs
        super().__init__(**kwargs)
        # nbgrader's Execute.__init__ passes kernel_manager_class=AsyncKernelManager as a
        # keyword argument, and in traitlets a keyword argument beats both the default and
        # the configuration.  Unless our caller chose one, put back the configured kernel
        # manager (e.g. the fork server's, from the batch grader) or else the sandbox's:
        # never the stock, unprotected one by accident.
        if not explicit:
            configured = self._configured("kernel_manager_class")
            self.kernel_manager_class = configured if configured is not None else _sandbox_manager_class()

    def _student_values(self, student: str | None) -> dict[str, Any]:
        """The submitting student's own values, where the assignment has variants (else {})."""
        assignment = checks.assignment_named(self._assignment)
        if assignment is None or assignment.variant is None:
            return {}
        on = self.student_variants
        if on is None:
            on = self._assignment in CourseOptions(config=self.config).variants
        return variants.values_for(assignment.variant, self._assignment, student, on)

    def _configured(self, trait: str) -> Any:
        """The configured value of `trait` for this class or the nearest one it inherits from, else None."""
        for cls in type(self).mro():
            # dict.get: traitlets' Config.__getitem__ would create an empty section.
            section = dict.get(self.config, cls.__name__)
            if isinstance(section, dict) and trait in section:
                return section[trait]
        return None

    @default("kernel_manager_class")
    def _default_kernel_manager(self) -> type:
        return _sandbox_manager_class()

    # -- the notebook --------------------------------------------------------------------------

    def preprocess(
        self, nb: NotebookNode, resources: ResourcesDict | None = None, km: Any = None
    ) -> tuple[NotebookNode, ResourcesDict]:
        """Execute every cell, restarting the kernel after a death; never raise for the submission's sake."""
        from nbclient.client import NotebookClient

        resources = resources if resources is not None else ResourcesDict()
        info = resources.get("nbgrader", {})
        self._assignment = str(info.get("assignment", ""))
        self._student = str(info.get("student", "instructor"))
        self._values = self._student_values(info.get("student"))  # no student (not nbgrader's run): the defaults
        source_dir = resources.get("metadata", {}).get("path") or os.getcwd()
        self._judged: set[int] = set()  # checked tests with a verdict (or a failure) of this run
        self._failed: set[int] = set()  # cells whose outputs say why they failed
        self._ran: list[int] = []  # cells that ran to the end: replayed into a fresh kernel
        self._position = 0  # the first cell not run yet
        self._timed_out = False
        if not getattr(self.kernel_manager_class, "sandboxed", False) and self.kernel_manager_class not in _WARNED:
            _WARNED.add(self.kernel_manager_class)
            self.log.warning(
                "!!! %s runs student code with %s, which does not say it is sandboxed "
                "(a `sandboxed = True` class attribute) !!!",
                type(self).__name__,
                self.kernel_manager_class,
            )
        unchecked = unchecked_tests(nb)
        if unchecked:
            raise GraderFailure(
                "graded test cells that name no registered check (their verdict would be decided inside the "
                f"student's kernel): {'; '.join(unchecked)}. Fix the source notebook and release it again."
            )
        self._unprotected = self._check_isolation()
        if self._unprotected:
            self.log.warning("!!! %s: %s !!!", self._student, UNPROTECTED_NOTICE)
        workdir = tempfile.mkdtemp(prefix="autograder-run-")
        try:
            NotebookClient.__init__(self, nb, km)
            self._reset_output_budget()
            try:
                # The kernel works on a private copy: nothing it writes reaches the autograded
                # folder or another student's files.
                leave_out = linked_in_submission(self.config, resources.get("nbgrader", {}))
                copy_submission(source_dir, workdir, leave_out)
                resources.setdefault("metadata", {})["path"] = workdir
                self.reset_execution_trackers()
                self.check_assign_resources(resources)
                self._run_all_cells(nb, resources)
            except GraderFailure:
                raise
            except Exception as exc:  # noqa: BLE001 - the grader's own failure: never the student's
                self.log.error("Grading of %s stopped by an error in the grader:\n%s", self._student,
                               traceback.format_exc())  # fmt: skip
                raise GraderFailure(f"the grader failed ({type(exc).__name__}: {exc})") from exc
            self._fail_unjudged()
            try:
                self.set_widgets_metadata()
            except Exception:  # noqa: BLE001 - widget state is decoration
                self.log.warning("Widget state of %s not saved:\n%s", self._student, traceback.format_exc())
            if self._unprotected:
                mark_unprotected(self.nb)
        finally:
            resources.setdefault("metadata", {})["path"] = source_dir
            shutil.rmtree(workdir, ignore_errors=True)
        return self.nb, self.resources

    def _check_isolation(self) -> bool:
        """Refuse to grade without the sandbox unless allowed; True when grading runs unprotected."""
        if not getattr(self.kernel_manager_class, "sandboxed", False):
            return False  # a kernel manager of the caller's choice (warned about above)
        try:
            return require_isolation(self.bwrap, self.allow_unsandboxed).bwrap is None
        except SandboxUnavailable as exc:
            raise GraderFailure(str(exc)) from exc

    def _out_of_time(self, index: int) -> bool:
        """Past the notebook's time budget: fail the cells from `index` on and say so."""
        if self._deadline is None or time.monotonic() < self._deadline:
            return False
        self.log.warning("%s: the notebook ran out of time at cell %d", self._student, index)
        self._fail_from(index, f"not run: the notebook took longer than {self._budget} s in all", "CellTimeoutError")
        return True

    def _run_all_cells(self, nb: NotebookNode, resources: ResourcesDict) -> None:
        """Run the cells in order; after a death or hang, a fresh kernel replays the cells that ran."""
        self._budget = self.notebook_timeout
        if self._budget is None and self.timeout:
            self._budget = 20 * self.timeout
        self._deadline = None  # set when the first kernel is ready
        index, deaths = 0, 0
        while index < len(nb.cells):
            self._position = index
            if self._out_of_time(index):
                return
            if deaths > self.max_kernel_restarts:
                self._fail_from(index, "not run: the kernel died or hung too many times", hint=True)
                return
            if deaths:
                self.km = None
            try:
                self._start_kernel()
            except SandboxUnavailable as exc:
                self._stop_kernel(now=True)
                raise GraderFailure(str(exc)) from exc
            except Exception as exc:  # noqa: BLE001 - e.g. a kernel that never becomes ready
                self.log.error("The kernel of %s did not start: %s", self._student, exc)
                self._stop_kernel(now=True)
                if not self._kernel_starts_without_submission():
                    raise GraderFailure(f"the kernel could not start ({type(exc).__name__}: {exc})") from exc
                # An empty folder gets a kernel: the files handed in (or written by earlier cells) stop it.
                self._fail_from(
                    index,
                    f"not run: the kernel could not start with the files of this submission ({type(exc).__name__}: "
                    f"{exc}). Does a file you handed in or wrote have the name of a Python module, such as "
                    "ipykernel_launcher.py, numpy.py or random.py?",
                )
                return
            if self._deadline is None and self._budget and self._budget > 0:
                self._deadline = time.monotonic() + self._budget
            stuck = False
            try:
                if deaths and not self._replay(nb):
                    stuck = True
                    self._fail_from(index, "not run: a fresh kernel could not re-run the cells before it", hint=True)
                    return
                while index < len(nb.cells):
                    self._position = index
                    if self._out_of_time(index):
                        return
                    outcome = self._run_one(nb, resources, index)
                    index += 1
                    if outcome != "ok":
                        deaths += 1
                        stuck = True
                        break
            finally:
                self._stop_kernel(now=stuck)

    def _start_kernel(self) -> None:
        """What nbclient's ``setup_kernel`` does before it yields, plus the kernel's language."""
        if self.km is None:
            self.km = self.create_kernel_manager()
            self.owns_km = True
        self._configure_manager(self.km)
        if not self.km.has_kernel:
            self.start_new_kernel()
        if self.kc is None:
            self.start_new_kernel_client()
        info_msg = self.wait_for_reply(self.kc.kernel_info())  # type: ignore[union-attr]
        language_info = (info_msg or {}).get("content", {}).get("language_info")
        if isinstance(language_info, dict):
            self.nb.metadata["language_info"] = language_info
        # Printed floods leave the kernel in small messages (see probe.bound_streams).
        kc: Any = self.kc
        self.wait_for_reply(kc.execute(probe.bounded_streams_code(), silent=True, store_history=False))

    def _configure_manager(self, km: Any) -> None:
        """Give a kernel manager this grader's sandbox settings and the kernel's environment."""
        # Given to this kernel only, not through os.environ: several notebooks may be graded
        # at once in one process (threads of a Dask worker).
        km.extra_env = {
            FIGURES_ENV: "draw" if self.draw_figures else "skip",
            # The notebook runs on the values the grader judges by, whatever the student typed.
            **variants.kernel_env(self._student, self._values),
        }
        for trait in ("bwrap", "allow_unsandboxed"):
            if km.has_trait(trait):
                setattr(km, trait, getattr(self, trait))

    def _kernel_starts_without_submission(self) -> bool:
        """Start and stop a kernel in an empty folder: tells a grader failure from a submission's doing."""
        from nbclient.client import NotebookClient

        with tempfile.TemporaryDirectory(prefix="autograder-control-") as empty:
            client = NotebookClient(
                new_notebook(),
                kernel_manager_class=self.kernel_manager_class,
                kernel_name=self.kernel_name or "python3",
                startup_timeout=self.startup_timeout,
                shutdown_kernel="immediate",
                resources={"metadata": {"path": empty}},
            )
            try:
                self._configure_manager(client.create_kernel_manager())
                with client.setup_kernel():
                    return True
            except Exception:  # noqa: BLE001 - whatever it is, the grader cannot start kernels
                self.log.error("A kernel does not start in an empty folder either:\n%s", traceback.format_exc())
                return False

    def _stop_kernel(self, now: bool) -> None:
        """Shut the kernel down (at once after a death or hang) and forget it, whatever state it is in."""
        if self.km is not None and self.owns_km:
            graceful = self.shutdown_kernel
            self.shutdown_kernel = "immediate" if now else graceful
            try:
                self.cleanup_kernel()
            except Exception:  # noqa: BLE001
                self.log.warning("Kernel shutdown failed:\n%s", traceback.format_exc())
                try:
                    run_sync(_settle)(self.km.shutdown_kernel(now=True))
                except Exception:  # noqa: BLE001 - nothing more to try: bwrap dies with the grader
                    self.log.warning("Kernel kill failed:\n%s", traceback.format_exc())
            finally:
                self.shutdown_kernel = graceful
        self.kc = None
        self.km = None

    def _run_one(self, nb: NotebookNode, resources: ResourcesDict, index: int) -> str:
        """Run cell `index`: ``"ok"``, or ``"dead"`` / ``"stuck"`` when the kernel must be replaced."""
        cell = nb.cells[index]
        self._timed_out = False
        try:
            self.preprocess_cell(cell, resources, index)
        except DeadKernelError:
            why = (
                "the kernel died while running this cell "
                "(did the code exit the process, use too much memory, or crash?)"
            )
            self._fail(index, why, hint=True)
            return "dead"
        except CellTimeoutError:
            if self._timed_out:
                why = (
                    f"this cell did not finish within {self.timeout} s and did not stop when interrupted "
                    "(an endless loop?); the kernel was restarted"
                )
            else:
                why = (
                    "the output of this cell could not be collected (a message too large, or a kernel that "
                    "stopped answering); the kernel was restarted"
                )
            self._fail(index, why, "CellTimeoutError", hint=self._timed_out)
            return "stuck"
        except Exception as exc:  # noqa: BLE001 - e.g. a message nbclient cannot handle
            self.log.error("Cell %d of %s failed in the grader:\n%s", index, self._student, traceback.format_exc())
            why = f"the grader could not run this cell ({type(exc).__name__}: {exc}); the kernel was restarted"
            self._fail(index, why, "GraderError")
            return "stuck"
        if cell.cell_type == "code" and not is_checked_test(cell) and not self._timed_out:
            self._ran.append(index)  # a cell that timed out would only time out again
        return "ok"

    def _replay(self, nb: NotebookNode) -> bool:
        """Re-run earlier cells in a fresh kernel, keeping their recorded outputs."""
        for i in self._ran:
            original = nb.cells[i]
            self._reset_output_budget()
            try:
                self.execute_cell(copy.deepcopy(original), i, store_history=True)
            except Exception:  # noqa: BLE001 - died, hung, or worse: the replay failed
                self.log.warning("Replay of cell %d of %s failed:\n%s", i, self._student, traceback.format_exc())
                return False
            finally:
                nb.cells[i] = original  # nbclient stores the cell it ran: keep the recorded one
                self.clear_display_id_mapping(i)
        return True

    # -- failures --------------------------------------------------------------------------------

    def _fail(self, index: int, why: str, ename: str = "KernelDied", hint: bool = False) -> None:
        """Replace a code cell's outputs by an error that says why (0 points for a test).

        `hint`: the student's own code stopped the kernel, so restarting theirs shows it.
        """
        cell = self.nb.cells[index]
        if cell.cell_type != "code":
            return
        message = f"{why[0].upper()}{why[1:]}." + (f" {RESTART_HINT}" if hint else "")
        cell.outputs = [_failure_output(ename, message)]
        cell.execution_count = None
        self._failed.add(index)
        self.clear_display_id_mapping(index)
        if is_checked_test(cell):
            self._judged.add(index)

    def _fail_from(self, start: int, why: str, ename: str = "KernelDied", hint: bool = False) -> None:
        """Fail every code cell from `start` on that has not been run or judged yet."""
        for index in range(start, len(self.nb.cells)):
            if index not in self._judged and index not in self._failed and index not in self._ran:
                self._fail(index, why, ename, hint)

    def _fail_unjudged(self) -> None:
        """A checked test without a verdict of this run scores 0: its outputs are never the student's."""
        for index, cell in enumerate(self.nb.cells):
            if is_checked_test(cell) and index not in self._judged:
                self._fail(index, "not graded: this test got no verdict (the notebook stopped before it)")

    # -- one cell ------------------------------------------------------------------------------

    def on_cell_timeout(self, timeout: int, cell: NotebookNode | None) -> None:
        self._timed_out = True

    def preprocess_cell(
        self, cell: NotebookNode, resources: ResourcesDict, index: int
    ) -> tuple[NotebookNode, ResourcesDict]:
        """Run an ordinary cell as it is; run a checked test cell's probes and judge them."""
        self._reset_output_budget()
        if not is_checked_test(cell):
            return super().preprocess_cell(cell, resources, index)
        outputs: list[NotebookNode] = []
        for name in checks.checks_in(cell.source):
            verdict = self._run_check(name, cell, resources, index)
            outputs.extend(verdict_outputs(name, verdict))
        cell.outputs = outputs
        cell.execution_count = None
        self._judged.add(index)
        return cell, resources

    def _run_check(self, name: str, cell: NotebookNode, resources: ResourcesDict, index: int) -> Verdict:
        check = checks.CHECKS.get(name)
        if check is None:  # refused before the notebook ran; kept for a caller that skipped preprocess
            raise GraderFailure(f"test cell {index + 1} names {name!r}, which is not a registered check")
        request = checks.make_request(name, self._assignment, self._student, self._values)
        code, nonce = probe.kernel_code(request)
        scratch = copy.deepcopy(cell)
        scratch.source = code
        scratch.outputs = []
        self._reset_output_budget(probing=True)
        self._timed_out = False
        try:
            super().preprocess_cell(scratch, resources, index)  # a dead or stuck kernel goes up to the loop
        finally:
            self._probing = False
            self.nb.cells[index] = cell  # nbclient stores the cell it ran in the notebook: put ours back
            self.clear_display_id_mapping(index)  # no later display update may touch the verdict
        if self._timed_out:
            return Verdict(0.0, f"The test timed out after {self.timeout} s: is there an endless loop?")
        try:
            payload = probe.payload_from_outputs(scratch.outputs, nonce)
            return check.judge(request, payload)
        except Exception:  # noqa: BLE001 - a payload the judge cannot read is the student's loss only
            self.log.warning("Check %s of %s could not be judged:\n%s", name, self._student, traceback.format_exc())
            return Verdict(0.0, "The test's result is malformed and could not be judged, so it scores 0.")


def require_sandbox(**_: Any) -> None:
    """``c.Autograde.pre_convert_hook``: stop ``nbgrader autograde`` before it records anything.

    nbgrader calls the hook for each submission before it touches the gradebook.
    Where the sandbox cannot be built and unprotected grading was not allowed
    (``--SecureExecute.allow_unsandboxed=True``), the whole command stops with the
    one message that says what to install or enable, and a non-zero exit status.
    """
    from traitlets.config import Application, Config
    from traitlets.config.loader import PyFileConfigLoader

    app = Application.instance() if Application.initialized() else None
    while app is not None and getattr(app, "subapp", None) is not None:
        app = app.subapp  # `nbgrader autograde`: the subcommand holds the command line's settings
    config = Config()
    if app is not None:
        config.merge(app.config)
    if "SecureExecute" not in config:  # e.g. the formgrader, inside a Jupyter server: the course's own file
        root = str(config.CourseDirectory.get("root") or os.getcwd())
        if os.path.exists(os.path.join(root, "nbgrader_config.py")):
            config.merge(PyFileConfigLoader("nbgrader_config.py", path=root).load_config())
    executor = SecureExecute(config=config)
    try:
        executor._check_isolation()
    except GraderFailure as exc:
        raise SystemExit(f"[ERROR] Grading refuses to start. {exc}") from None


