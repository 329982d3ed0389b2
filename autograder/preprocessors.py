"""The nbgrader plug-ins: secure execution for autograde, hidden tests for feedback.

nbgrader builds its autograde pipeline from preprocessor lists
(``Autograde.autograde_preprocessors``); ``nbgrader_config.py`` puts
:class:`SecureExecute` where nbgrader's own ``Execute`` stands, so
``nbgrader autograde`` keeps working as instructors know it, and every later
step (saving grades, feedback, export) is stock nbgrader.

What :class:`SecureExecute` changes:

- the kernel starts in a sandbox (:mod:`autograder.sandbox`), in a private copy
  of the submission's folder;
- a graded test cell that names a check never runs its own source: the grader
  sends the check's probe, judges the payload in this process and writes the
  verdict as the cell's only output, so nbgrader's ``GetGrades`` scores the
  verdict and nothing the student printed;
- a kernel that dies costs the cell it died in; a fresh kernel replays the
  cells before it and grading goes on;
- a cell's output is capped, so a flood cannot exhaust the grader's memory.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import tempfile
from typing import Any

from nbclient.exceptions import DeadKernelError
from nbconvert.exporters.exporter import ResourcesDict
from nbformat import NotebookNode
from nbformat.v4 import new_output
from nbgrader.preprocessors import ClearHiddenTests, Execute
from nbgrader.preprocessors.base import NbGraderPreprocessor
from nbgrader.utils import is_grade, is_solution
from traitlets import Integer, Type

from . import checks, probe
from .judge import Verdict

VERDICT_KEY = "autograder"
"""Output metadata key under which a verdict's details are kept (read by the class report)."""

CURVES_MIME = "application/x-autograder-curves+json"
"""Training records of a check, drawn as a plot only when feedback is generated."""


def is_checked_test(cell: NotebookNode) -> bool:
    """True for an autograded test cell whose source names at least one check."""
    return (
        cell.cell_type == "code"
        and is_grade(cell)
        and not is_solution(cell)
        and bool(checks.checks_in(cell.source))
    )


def verdict_outputs(name: str, verdict: Verdict) -> list[NotebookNode]:
    """The outputs that carry a verdict in the autograded notebook.

    A pass is a line on stdout (full marks for nbgrader); a failure is an error
    output (zero for nbgrader) whose text is the judge's message.  The verdict's
    details ride along in the output's metadata for the class report.
    """
    meta = {VERDICT_KEY: {"check": name, "score": verdict.score, "mistakes": verdict.mistakes}}
    if verdict.passed:
        outputs = [new_output("stream", name="stdout", text=f"✔ {verdict.message}\n")]
        outputs[0].metadata = meta  # type: ignore[attr-defined]
    else:
        outputs = [
            new_output(
                "error",
                ename="TestFailed",
                evalue=verdict.message,
                traceback=[f"\x1b[0;31mTestFailed\x1b[0m: {verdict.message}"],
            )
        ]
        outputs[0].metadata = meta  # type: ignore[attr-defined]
    if verdict.curves:
        outputs.append(new_output("display_data", data={CURVES_MIME: json.dumps(verdict.curves)}))
    return outputs


def _sandbox_manager_class() -> type:
    from .sandbox import SandboxedKernelManager

    return SandboxedKernelManager


class SecureExecute(Execute):
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

    def __init__(self, **kwargs: Any) -> None:
        # nbgrader's Execute.__init__ passes kernel_manager_class=AsyncKernelManager explicitly,
        # which would silently replace the sandbox: name ours first (config can still override it).
        kwargs.setdefault("kernel_manager_class", _sandbox_manager_class())
        super().__init__(**kwargs)

    def _kernel_manager_class_default(self) -> type:
        return _sandbox_manager_class()

    # -- the notebook loop -------------------------------------------------------------------

    def preprocess(
        self, nb: NotebookNode, resources: ResourcesDict | None = None, km: Any = None
    ) -> tuple[NotebookNode, ResourcesDict]:
        """Execute every cell, restarting the kernel after a death."""
        from nbclient.client import NotebookClient

        resources = resources if resources is not None else ResourcesDict()
        info = resources.get("nbgrader", {})
        self._assignment = str(info.get("assignment", ""))
        self._student = str(info.get("student", "instructor"))
        source_dir = resources.get("metadata", {}).get("path") or os.getcwd()
        workdir = tempfile.mkdtemp(prefix="autograder-run-")
        try:
            # The kernel works in a private copy: it can write there, and nothing it
            # writes reaches the autograded folder or another student's files.
            shutil.copytree(source_dir, workdir, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.ipynb"))
            resources.setdefault("metadata", {})["path"] = workdir
            NotebookClient.__init__(self, nb, km)
            self._output_bytes: dict[int, int] = {}
            self.reset_execution_trackers()
            self._check_assign_resources(resources)
            self._run_all_cells(nb, resources)
            self.set_widgets_metadata()
        finally:
            resources["metadata"]["path"] = source_dir
            shutil.rmtree(workdir, ignore_errors=True)
        return self.nb, self.resources

    def _run_all_cells(self, nb: NotebookNode, resources: ResourcesDict) -> None:
        ran: list[int] = []  # cells that ran to the end, replayed into a fresh kernel
        index, restarts = 0, 0
        while index < len(nb.cells):
            self.km = None if restarts else self.km
            with self.setup_kernel():
                assert self.kc is not None
                info_msg = self.wait_for_reply(self.kc.kernel_info())
                if info_msg:
                    self.nb.metadata["language_info"] = info_msg["content"]["language_info"]
                if restarts and not self._replay(nb, ran):
                    index = len(nb.cells)  # the replay died too: nothing more can run
                while index < len(nb.cells):
                    cell = nb.cells[index]
                    try:
                        self.preprocess_cell(cell, resources, index)
                    except DeadKernelError:
                        self._mark_dead(cell)
                        index += 1
                        restarts += 1
                        break
                    if cell.cell_type == "code" and not is_checked_test(cell):
                        ran.append(index)
                    index += 1
            if restarts > self.max_kernel_restarts:
                break
        for cell in nb.cells[index:]:
            if cell.cell_type == "code":
                self._mark_dead(cell, "not run: the kernel died too many times")

    def _replay(self, nb: NotebookNode, ran: list[int]) -> bool:
        """Re-run earlier cells in a fresh kernel, keeping their recorded outputs."""
        for i in ran:
            original = nb.cells[i]
            try:
                self.execute_cell(copy.deepcopy(original), i, store_history=True)
            except DeadKernelError:
                return False
            finally:
                nb.cells[i] = original  # nbclient stores the cell it ran: keep the recorded one
        return True

    def _mark_dead(self, cell: NotebookNode, why: str = "the kernel died while running this cell") -> None:
        if cell.cell_type != "code":
            return
        message = (
            f"{why.capitalize()} (did the code exit the process, use too much memory, or crash?). "
            "Restart your kernel and run all cells to reproduce it."
        )
        cell.outputs = [
            new_output("error", ename="KernelDied", evalue=message, traceback=[f"KernelDied: {message}"])
        ]

    # -- one cell ------------------------------------------------------------------------------

    def preprocess_cell(
        self, cell: NotebookNode, resources: ResourcesDict, index: int
    ) -> tuple[NotebookNode, ResourcesDict]:
        """Run an ordinary cell as it is; run a checked test cell's probes and judge them."""
        self._output_bytes: dict[int, int] = {}
        if not is_checked_test(cell):
            return super().preprocess_cell(cell, resources, index)
        outputs: list[NotebookNode] = []
        for name in checks.checks_in(cell.source):
            verdict = self._run_check(name, cell, resources, index)
            outputs.extend(verdict_outputs(name, verdict))
        cell.outputs = outputs
        cell.execution_count = None
        return cell, resources

    def _run_check(self, name: str, cell: NotebookNode, resources: ResourcesDict, index: int) -> Verdict:
        check = checks.CHECKS.get(name)
        if check is None:
            return Verdict(0.0, f"Unknown check {name!r}: tell your instructor.")
        request = checks.make_request(name, self._assignment, self._student)
        code, nonce = probe.kernel_code(request)
        scratch = copy.deepcopy(cell)
        scratch.source = code
        scratch.outputs = []
        self._output_bytes = {}
        try:
            super().preprocess_cell(scratch, resources, index)  # a DeadKernelError goes up to the loop
        finally:
            self.nb.cells[index] = cell  # nbclient stores the cell it ran in the notebook: put ours back
        payload = probe.payload_from_outputs(scratch.outputs, nonce)
        verdict = check.judge(request, payload)
        timeout = [o for o in scratch.outputs if o.get("output_type") == "error" and "Timeout" in o.get("ename", "")]
        if payload is None and timeout:
            verdict = Verdict(0.0, f"The test timed out after {self.timeout} s: is there an endless loop?")
        return verdict

    # -- output cap ----------------------------------------------------------------------------

    def output(self, outs: list[NotebookNode], msg: dict[str, Any], display_id: str | None, cell_index: int) -> Any:
        """Keep at most :attr:`max_output_bytes` of output per cell; note the cut once."""
        used = self._output_bytes.get(cell_index, 0)
        size = len(json.dumps(msg.get("content", {})))
        if used + size > self.max_output_bytes:
            if used <= self.max_output_bytes:
                note = f"[output truncated by the grader after {self.max_output_bytes} bytes]\n"
                outs.append(new_output("stream", name="stdout", text=note))
                self._output_bytes[cell_index] = self.max_output_bytes + 1
            return None
        self._output_bytes[cell_index] = used + size
        return super().output(outs, msg, display_id, cell_index)


class HideHiddenTests(ClearHiddenTests):
    """For ``generate_feedback``: hidden test code is removed, its results stay.

    Stock nbgrader shows hidden test code in feedback (jupyter/nbgrader #917).
    """

    def _remove_hidden_test_region(self, cell: NotebookNode) -> bool:
        removed = super()._remove_hidden_test_region(cell)
        if removed:
            cell.source = cell.source.rstrip("\n") + "\n# (hidden tests ran here; their results are below)"
        return removed


class DrawCurves(NbGraderPreprocessor):
    """For ``generate_feedback``: draw the training records a check kept as a plot.

    Drawing waits until feedback is generated, so autograding pays nothing for it.
    """

    def preprocess_cell(
        self, cell: NotebookNode, resources: ResourcesDict, index: int
    ) -> tuple[NotebookNode, ResourcesDict]:
        if cell.cell_type == "code":
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                if CURVES_MIME in data:
                    from .plots import curves_png_base64

                    data["image/png"] = curves_png_base64(json.loads(data.pop(CURVES_MIME)))
        return cell, resources
